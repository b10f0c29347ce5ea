//! A café room's sessions, as coordinators schedule them (`/admin/cafe/rooms/{id}/sessions`):
//! the sessions to come and the recent ones; one session, or a series from a rule; a session
//! edited; a session, or it and the rest of its series, cancelled after a confirmation page.
//! Dates and times are typed in the site's time zone.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::cafe::recurrence::{self, Rule, WEEKDAYS};
use crate::cafe::schedule::{self, Cancel, Dates, MAX_THEME, Planned, Timing, rule_error, when};
use crate::db;
use crate::db::cafe_schedule::ManagedSession;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::datetime::{read_date, read_time, zone_note};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

/// How far back the page lists sessions that have ended.
const RECENT_DAYS: i64 = 30;
/// The most sessions the page lists.
const LISTED: i64 = 200;

/// A session's times, theme and facilitator as typed, in each of the forms.
#[derive(Deserialize, Default, Clone)]
pub struct TimingForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    facilitator: String,
}

/// The fields of one session as typed (the one-off form and the edit form).
#[derive(Deserialize, Default, Clone)]
pub struct SessionForm {
    #[serde(default)]
    date: String,
    #[serde(flatten)]
    timing: TimingForm,
}

/// The fields of a series as typed.
#[derive(Deserialize, Default, Clone)]
pub struct SeriesForm {
    /// `weekly` or `monthly`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    weekday: String,
    #[serde(default)]
    nth_1: String,
    #[serde(default)]
    nth_2: String,
    #[serde(default)]
    nth_3: String,
    #[serde(default)]
    nth_4: String,
    #[serde(default)]
    nth_5: String,
    #[serde(default)]
    first: String,
    #[serde(default)]
    last: String,
    #[serde(flatten)]
    timing: TimingForm,
}

impl SeriesForm {
    fn blank() -> SeriesForm {
        SeriesForm {
            kind: "monthly".to_owned(),
            weekday: "thu".to_owned(),
            ..SeriesForm::default()
        }
    }

    fn weeks(&self) -> [(&'static str, i8, bool); 5] {
        [
            ("nth_1", 1, !self.nth_1.is_empty()),
            ("nth_2", 2, !self.nth_2.is_empty()),
            ("nth_3", 3, !self.nth_3.is_empty()),
            ("nth_4", 4, !self.nth_4.is_empty()),
            ("nth_5", 5, !self.nth_5.is_empty()),
        ]
    }
}

/// The times, theme and facilitator as typed, read; their problems added to `errors`.
fn timing_of(t: Tr, errors: &mut FieldErrors, typed: &TimingForm) -> Option<Timing> {
    let start = read_time(t, errors, "start", &typed.start);
    let end = read_time(t, errors, "end", &typed.end);
    let theme = typed.theme.split_whitespace().collect::<Vec<_>>().join(" ");
    if theme.chars().count() > MAX_THEME {
        errors.add(
            "theme",
            t.f(
                "cafe_schedule.error.theme_too_long",
                &[("max", &MAX_THEME.to_string())],
            ),
        );
    }
    let timing = Timing {
        start: start?,
        end: end?,
        theme,
        facilitator: typed.facilitator.trim().to_owned(),
    };
    Some(timing).filter(|_| errors.is_empty())
}

/// One session's form read into a date and its timing, or its problems.
pub fn read_session(t: Tr, form: &SessionForm) -> Result<(Date, Timing), FieldErrors> {
    let mut errors = FieldErrors::default();
    let date = read_date(t, &mut errors, "date", &form.date);
    let timing = timing_of(t, &mut errors, &form.timing);
    match (date, timing) {
        (Some(date), Some(timing)) if errors.is_empty() => Ok((date, timing)),
        _ => Err(errors),
    }
}

/// A series' form read into its rule, dates and timing, or its problems.
pub fn read_series(t: Tr, form: &SeriesForm) -> Result<Planned, FieldErrors> {
    let mut errors = FieldErrors::default();
    let weekday = recurrence::weekday_of(&form.weekday);
    if weekday.is_none() {
        errors.add("weekday", t.s("cafe_schedule.error.bad_weekday").into());
    }
    let rule = match (form.kind.as_str(), weekday) {
        ("weekly", Some(weekday)) => Some(Rule::Weekly(weekday)),
        ("monthly", Some(weekday)) => {
            let nths = form
                .weeks()
                .iter()
                .filter(|(_, _, on)| *on)
                .map(|(_, n, _)| *n)
                .collect();
            match Rule::monthly(nths, weekday) {
                Ok(rule) => Some(rule),
                Err(error) => {
                    let (field, message) = rule_error(t, &error);
                    errors.add(field, message);
                    None
                }
            }
        }
        ("weekly" | "monthly", None) => None,
        _ => {
            errors.add("kind", t.s("cafe_schedule.error.bad_kind").into());
            None
        }
    };
    let first = read_date(t, &mut errors, "first", &form.first);
    let last = read_date(t, &mut errors, "last", &form.last);
    let timing = timing_of(t, &mut errors, &form.timing);
    match (rule, first, last, timing) {
        (Some(rule), Some(first), Some(last), Some(timing)) if errors.is_empty() => Ok(Planned {
            dates: Dates::Series { rule, first, last },
            timing,
        }),
        _ => Err(errors),
    }
}

/// The series form's inputs have their own ids (`s_start`, …): the page holds both forms.
fn on_series_form(errors: FieldErrors) -> FieldErrors {
    let mut moved = FieldErrors::default();
    for error in errors.iter() {
        let fields: Vec<&'static str> = error
            .fields
            .iter()
            .map(|field| match *field {
                "start" => "s_start",
                "end" => "s_end",
                "theme" => "s_theme",
                "facilitator" => "s_facilitator",
                other => other,
            })
            .collect();
        moved.add_for(&fields, error.message.clone());
    }
    moved
}

/// A rule in words: "毎週木曜日", "毎月第2・第4木曜日".
pub fn rule_label(t: Tr, rule: &str) -> String {
    let day = |weekday| {
        t.s(&format!(
            "cafe_schedule.weekday_long.{}",
            recurrence::weekday_code(weekday)
        ))
        .into_owned()
    };
    match Rule::parse(rule) {
        Some(Rule::Weekly(weekday)) => t.f("cafe_schedule.rule.weekly", &[("day", &day(weekday))]),
        Some(Rule::Monthly { nths, weekday }) => {
            let weeks: Vec<String> = nths
                .iter()
                .map(|n| t.s(&format!("cafe_schedule.rule.nth_{n}")).into_owned())
                .collect();
            t.f(
                "cafe_schedule.rule.monthly",
                &[
                    ("weeks", &weeks.join(&t.s("cafe_schedule.rule.and"))),
                    ("day", &day(weekday)),
                ],
            )
        }
        None => rule.to_owned(),
    }
}

/// A session in the coordinators' list.
pub struct Row {
    pub id: i64,
    pub when: String,
    pub theme: String,
    pub facilitator: String,
    pub series: Option<String>,
    pub reminders: String,
    pub cancelled: bool,
}

fn row(app: &AppState, t: Tr, s: &ManagedSession) -> Row {
    Row {
        id: s.id,
        when: when(&app.site, t, s.starts_at, s.ends_at),
        theme: s.theme.clone(),
        facilitator: s
            .facilitator_name
            .clone()
            .unwrap_or_else(|| t.s("cafe_schedule.no_facilitator").into_owned()),
        series: s.rule.as_deref().map(|rule| rule_label(t, rule)),
        reminders: t.count("cafe_schedule.reminder_count", s.reminders, &[]),
        cancelled: s.cancelled_at.is_some(),
    }
}

/// One option of a select or a checkbox.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/admin_sessions.html")]
pub struct SessionsView {
    layout: Layout,
    room_id: i64,
    archived: bool,
    upcoming: Vec<Row>,
    recent: Vec<Row>,
    one: SessionForm,
    one_errors: FieldErrors,
    series: SeriesForm,
    series_errors: FieldErrors,
    kinds: Vec<Choice>,
    weekdays: Vec<Choice>,
    weeks: Vec<Choice>,
    zone_note: String,
    theme_max: usize,
    theme_hint: String,
    limits: String,
}

async fn sessions_view(
    app: &AppState,
    ctx: &RequestContext,
    room_id: i64,
    (one, one_errors): (SessionForm, FieldErrors),
    (series, series_errors): (SeriesForm, FieldErrors),
) -> AppResult<SessionsView> {
    let t = ctx.tr();
    let now = db::now();
    let mut conn = app.db.conn().await?;
    let room = db::cafe_schedule::managed_room(conn.exec(), room_id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let sessions =
        db::cafe_schedule::room_sessions(conn.exec(), room_id, now - RECENT_DAYS * 86_400, LISTED)
            .await?;
    drop(conn);
    let (past, to_come): (Vec<_>, Vec<_>) = sessions.iter().partition(|s| s.ends_at <= now);
    let mut recent: Vec<Row> = past.into_iter().map(|s| row(app, t, s)).collect();
    recent.reverse();
    let kinds = ["monthly", "weekly"]
        .into_iter()
        .map(|value| Choice {
            value,
            label: t.s(&format!("cafe_schedule.kind.{value}")).into_owned(),
            selected: series.kind == value,
        })
        .collect();
    let weekdays = WEEKDAYS
        .iter()
        .map(|(value, _)| Choice {
            value,
            label: t
                .s(&format!("cafe_schedule.weekday_long.{value}"))
                .into_owned(),
            selected: series.weekday == *value,
        })
        .collect();
    let weeks = series
        .weeks()
        .into_iter()
        .map(|(value, n, on)| Choice {
            value,
            label: t.s(&format!("cafe_schedule.rule.nth_{n}")).into_owned(),
            selected: on,
        })
        .collect();
    Ok(SessionsView {
        layout: Layout::new(
            app,
            ctx,
            t.f("cafe_schedule.sessions_title", &[("room", &room.name)]),
        ),
        room_id,
        archived: room.archived_at.is_some(),
        upcoming: to_come.into_iter().map(|s| row(app, t, s)).collect(),
        recent,
        one,
        one_errors,
        series,
        series_errors,
        kinds,
        weekdays,
        weeks,
        zone_note: zone_note(&app.site, t),
        theme_max: MAX_THEME,
        theme_hint: t.f(
            "cafe_schedule.theme_hint",
            &[("max", &MAX_THEME.to_string())],
        ),
        limits: t.f(
            "cafe_schedule.series_limits",
            &[
                ("months", &recurrence::MAX_MONTHS.to_string()),
                ("max", &recurrence::MAX_SESSIONS.to_string()),
            ],
        ),
    })
}

fn blank_forms() -> ((SessionForm, FieldErrors), (SeriesForm, FieldErrors)) {
    (
        (SessionForm::default(), FieldErrors::default()),
        (SeriesForm::blank(), FieldErrors::default()),
    )
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(room_id): Path<i64>,
) -> AppResult<SessionsView> {
    let (one, series) = blank_forms();
    sessions_view(&app, &ctx, room_id, one, series).await
}

fn sessions_path(room_id: i64) -> String {
    format!("/admin/cafe/rooms/{room_id}/sessions")
}

/// After scheduling: back to the list, saying how many sessions were made.
async fn scheduled(ctx: &RequestContext, room_id: i64, count: usize) -> AppResult<Response> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    SessionData(&ctx.session)
        .set_flash(ctx.tr().count("cafe_schedule.scheduled", count, &[]))
        .await?;
    Ok(Redirect::to(&sessions_path(room_id)).into_response())
}

pub async fn schedule_one(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(room_id): Path<i64>,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let outcome = match read_session(t, &form) {
        Ok((date, timing)) => {
            let planned = Planned {
                dates: Dates::One(date),
                timing,
            };
            schedule::schedule(&app, t, user.id, room_id, &planned).await?
        }
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(count) => scheduled(&ctx, room_id, count).await,
        Err(errors) => {
            let (_, series) = blank_forms();
            let view = sessions_view(&app, &ctx, room_id, (form, errors), series).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

pub async fn schedule_series(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(room_id): Path<i64>,
    CsrfForm(form): CsrfForm<SeriesForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let outcome = match read_series(t, &form) {
        Ok(planned) => schedule::schedule(&app, t, user.id, room_id, &planned).await?,
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(count) => scheduled(&ctx, room_id, count).await,
        Err(errors) => {
            let (one, _) = blank_forms();
            let errors = on_series_form(errors);
            let view = sessions_view(&app, &ctx, room_id, one, (form, errors)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/admin_session_edit.html")]
pub struct EditView {
    layout: Layout,
    id: i64,
    room_id: i64,
    when: String,
    form: SessionForm,
    errors: FieldErrors,
    zone_note: String,
    theme_max: usize,
}

/// The form as it shows a stored session: its date and times in the site's zone.
fn form_of(app: &AppState, s: &ManagedSession) -> SessionForm {
    let text = |at: i64, format: &str| crate::web::layout::in_site_zone(&app.site, at, format);
    SessionForm {
        date: text(s.starts_at, "%Y-%m-%d"),
        timing: TimingForm {
            start: text(s.starts_at, "%H:%M"),
            end: text(s.ends_at, "%H:%M"),
            theme: s.theme.clone(),
            facilitator: s.facilitator_name.clone().unwrap_or_default(),
        },
    }
}

fn edit_view(
    app: &AppState,
    ctx: &RequestContext,
    s: &ManagedSession,
    form: SessionForm,
    errors: FieldErrors,
) -> EditView {
    EditView {
        layout: Layout::titled(app, ctx, "cafe_schedule.session_edit_title"),
        id: s.id,
        room_id: s.room_id,
        when: when(&app.site, ctx.tr(), s.starts_at, s.ends_at),
        form,
        errors,
        zone_note: zone_note(&app.site, ctx.tr()),
        theme_max: MAX_THEME,
    }
}

/// A session that may still be changed: not cancelled.
async fn editable(app: &AppState, id: i64) -> AppResult<ManagedSession> {
    let mut conn = app.db.conn().await?;
    let session = db::cafe_schedule::managed_session(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if session.cancelled_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(session)
}

pub async fn edit_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<EditView> {
    let session = editable(&app, id).await?;
    let form = form_of(&app, &session);
    Ok(edit_view(
        &app,
        &ctx,
        &session,
        form,
        FieldErrors::default(),
    ))
}

pub async fn update(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let outcome = match read_session(t, &form) {
        Ok((date, timing)) => schedule::edit_session(&app, t, user.id, id, date, &timing).await?,
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(session) => {
            SessionData(&ctx.session)
                .set_flash(t.s("cafe_schedule.session_saved").into_owned())
                .await?;
            Ok(Redirect::to(&sessions_path(session.room_id)).into_response())
        }
        Err(errors) => {
            let session = editable(&app, id).await?;
            let view = edit_view(&app, &ctx, &session, form, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/admin_cancel.html")]
pub struct CancelView {
    layout: Layout,
    action: String,
    back: String,
    when: String,
    theme: String,
    question: String,
}

async fn cancel_page(
    app: &AppState,
    ctx: &RequestContext,
    id: i64,
    what: Cancel,
) -> AppResult<CancelView> {
    let t = ctx.tr();
    let session = schedule::session_to_cancel(app, id, what).await?;
    let (action, question) = match what {
        Cancel::One => (
            format!("/admin/cafe/sessions/{id}/cancel"),
            t.s("cafe_schedule.cancel_one_question").into_owned(),
        ),
        Cancel::Rest => (
            format!("/admin/cafe/sessions/{id}/cancel-series"),
            t.f(
                "cafe_schedule.cancel_rest_question",
                &[(
                    "rule",
                    &rule_label(t, session.rule.as_deref().unwrap_or("")),
                )],
            ),
        ),
    };
    Ok(CancelView {
        layout: Layout::titled(app, ctx, "cafe_schedule.cancel_title"),
        action,
        back: sessions_path(session.room_id),
        when: when(&app.site, t, session.starts_at, session.ends_at),
        theme: session.theme,
        question,
    })
}

pub async fn cancel_one_confirm(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<CancelView> {
    cancel_page(&app, &ctx, id, Cancel::One).await
}

pub async fn cancel_rest_confirm(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<CancelView> {
    cancel_page(&app, &ctx, id, Cancel::Rest).await
}

async fn cancel(
    app: &AppState,
    ctx: &RequestContext,
    actor: i64,
    id: i64,
    what: Cancel,
) -> AppResult<Response> {
    let (session, count) = schedule::cancel(app, actor, id, what).await?;
    let t = ctx.tr();
    let message = match i64::try_from(count).unwrap_or(i64::MAX) {
        0 => t.s("cafe_schedule.already_cancelled").into_owned(),
        count => t.count("cafe_schedule.cancelled", count, &[]),
    };
    SessionData(&ctx.session).set_flash(message).await?;
    Ok(Redirect::to(&sessions_path(session.room_id)).into_response())
}

pub async fn cancel_one(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    cancel(&app, &ctx, user.id, id, Cancel::One).await
}

pub async fn cancel_rest(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    cancel(&app, &ctx, user.id, id, Cancel::Rest).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;
    use jiff::civil::{date, time};

    #[test]
    fn a_series_form_reads_into_a_rule_and_its_dates() {
        let t = Locale::Ja.tr();
        let form = SeriesForm {
            nth_2: "on".into(),
            nth_4: "on".into(),
            first: "2027-01-01".into(),
            last: "2027-03-31".into(),
            timing: TimingForm {
                start: "19:00".into(),
                end: "20:30:00".into(),
                theme: "  働きながらの  治療 ".into(),
                facilitator: " ひまわり ".into(),
            },
            ..SeriesForm::blank()
        };
        let planned = read_series(t, &form).expect("a series");
        assert_eq!(
            planned.dates,
            Dates::Series {
                rule: Rule::monthly(vec![2, 4], jiff::civil::Weekday::Thursday).expect("rule"),
                first: date(2027, 1, 1),
                last: date(2027, 3, 31),
            }
        );
        assert_eq!(planned.timing.start, time(19, 0, 0, 0));
        assert_eq!(planned.timing.end, time(20, 30, 0, 0));
        assert_eq!(planned.timing.theme, "働きながらの 治療");
        assert_eq!(planned.timing.facilitator, "ひまわり");
        assert_eq!(rule_label(t, "monthly 2,4 thu"), "毎月 第2・第4 木曜日");
        assert_eq!(rule_label(Locale::En.tr(), "weekly mon"), "Every Monday");
    }

    #[test]
    fn a_series_form_names_each_problem_by_its_input() {
        let t = Locale::En.tr();
        let form = SeriesForm {
            kind: "monthly".into(),
            weekday: "someday".into(),
            first: "2027-02-30".into(),
            last: "".into(),
            timing: TimingForm {
                start: "25:00".into(),
                end: "20:00".into(),
                theme: "あ".repeat(MAX_THEME + 1),
                facilitator: String::new(),
            },
            ..SeriesForm::default()
        };
        let errors = on_series_form(read_series(t, &form).expect_err("problems"));
        for field in ["weekday", "first", "last", "s_start", "s_theme"] {
            assert!(errors.has(field), "{field}");
        }
        assert!(!errors.has("s_end"));
        // No week chosen for a monthly rule.
        let no_weeks = SeriesForm {
            first: "2027-01-01".into(),
            last: "2027-02-01".into(),
            timing: TimingForm {
                start: "19:00".into(),
                end: "20:00".into(),
                ..TimingForm::default()
            },
            ..SeriesForm::blank()
        };
        let errors = read_series(t, &no_weeks).expect_err("no weeks");
        assert!(errors.has("nth_1"));
        let one = SessionForm {
            date: "2027-01-14".into(),
            timing: TimingForm {
                start: "19:00".into(),
                ..TimingForm::default()
            },
        };
        assert!(read_session(t, &one).expect_err("no end").has("end"));
    }
}
