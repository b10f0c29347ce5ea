//! A member as staff see them (`/mod/members/{id}`): who they are, whether they are silenced or
//! suspended, their recent posts whatever their status, and the notes staff leave each other;
//! with the forms to silence or suspend for a time, lift either early, and add a note.
//!
//! Each action is one unit of work with its log row and a `MemberChanged` event, so every cache
//! sees it on the very next request. A suspension also moves the account's auth version on,
//! which ends all its sessions at once.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, Require, SessionData, Staff};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::members::StaffMember;
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::i18n::Tr;
use crate::moderation::notes::{self, NoteItem};
use crate::web::form::FieldErrors;
use crate::web::layout::{Layout, local_time};

/// The longest reason a member is shown, and the longest note.
pub const MAX_REASON: usize = 500;
pub const MAX_NOTE: usize = 2000;
/// How many of the member's posts the page lists.
const RECENT_POSTS: i64 = 20;
/// The furthest end a form may choose: ten years.
const LONGEST: i64 = 10 * 365 * 86_400;

/// Silenced (reads, does not write) or suspended (cannot log in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    Silence,
    Suspension,
}

impl Restriction {
    const ALL: [Restriction; 2] = [Restriction::Silence, Restriction::Suspension];

    /// The prefix of its form's fields, routes and locale keys.
    fn key(self) -> &'static str {
        match self {
            Restriction::Silence => "silence",
            Restriction::Suspension => "suspend",
        }
    }

    fn actions(self) -> (Action, Action) {
        match self {
            Restriction::Silence => (Action::MemberSilenced, Action::MemberUnsilenced),
            Restriction::Suspension => (Action::MemberSuspended, Action::MemberUnsuspended),
        }
    }

    /// Its end and reason on `member`, when it is in force at `now`.
    fn in_force(self, member: &StaffMember, now: i64) -> Option<(i64, &str)> {
        let (until, reason) = match self {
            Restriction::Silence => (member.silenced_until, &member.silence_reason),
            Restriction::Suspension => (member.suspended_until, &member.suspend_reason),
        };
        until.filter(|u| *u > now).map(|u| (u, reason.as_str()))
    }

    async fn set(
        self,
        exec: db::Exec<'_>,
        id: i64,
        until: Option<i64>,
        reason: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        match self {
            Restriction::Silence => db::members::set_silence(exec, id, until, reason, now).await,
            Restriction::Suspension => {
                db::members::set_suspension(exec, id, until, reason, now).await
            }
        }
    }
}

/// How long, as the form offers it.
const LENGTHS: [(&str, i64); 4] = [
    ("1d", 86_400),
    ("3d", 3 * 86_400),
    ("1w", 7 * 86_400),
    ("1m", 30 * 86_400),
];
/// The form's choice of an end date instead of a length.
const UNTIL_DATE: &str = "date";

/// Why staff may not silence or suspend this member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Yourself,
    /// Nobody acts on a coordinator here.
    Coordinator,
    /// A moderator does not act on another moderator; a coordinator may.
    Staff,
    /// Lifting what is not in force.
    NotInForce,
}

impl Refusal {
    fn key(self) -> &'static str {
        match self {
            Refusal::Yourself => "members.refused.yourself",
            Refusal::Coordinator => "members.refused.coordinator",
            Refusal::Staff => "members.refused.staff",
            Refusal::NotInForce => "members.refused.not_in_force",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Refusal::NotInForce => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

/// Whether `actor` may silence or suspend `target` (and lift it): nobody on themself or on a
/// coordinator, and only a coordinator on a moderator.
pub fn may_restrict(actor: &SessionUser, target: &StaffMember) -> Result<(), Refusal> {
    if actor.id == target.id {
        Err(Refusal::Yourself)
    } else if target.role == Role::Coordinator {
        Err(Refusal::Coordinator)
    } else if target.role.is_staff() && actor.role != Role::Coordinator {
        Err(Refusal::Staff)
    } else {
        Ok(())
    }
}

#[derive(Deserialize, Default)]
pub struct RestrictForm {
    #[serde(default)]
    length: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// A restriction's end and reason, read from its form.
pub struct Sentence {
    pub until: i64,
    pub reason: String,
}

impl RestrictForm {
    /// The end and reason this form asks for, or what is wrong with it (for `kind`'s fields).
    fn sentence(
        &self,
        t: Tr,
        kind: Restriction,
        now: i64,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Sentence, FieldErrors> {
        let (length_id, until_id, reason_id) = field_ids(kind);
        let mut errors = FieldErrors::default();
        let until = if self.length == UNTIL_DATE {
            match self.until.trim().parse::<jiff::civil::Date>() {
                Ok(date) => match date.to_zoned(tz.clone()) {
                    Ok(start) if start.timestamp().as_second() <= now => {
                        errors.add(until_id, t.s("members.until_past").into_owned());
                        None
                    }
                    Ok(start) if start.timestamp().as_second() > now + LONGEST => {
                        errors.add(until_id, t.s("members.until_far").into_owned());
                        None
                    }
                    Ok(start) => Some(start.timestamp().as_second()),
                    Err(_) => {
                        errors.add(until_id, t.s("members.until_invalid").into_owned());
                        None
                    }
                },
                Err(_) => {
                    errors.add(until_id, t.s("members.until_invalid").into_owned());
                    None
                }
            }
        } else {
            let length = LENGTHS.iter().find(|(code, _)| *code == self.length);
            if length.is_none() {
                errors.add(length_id, t.s("members.length_missing").into_owned());
            }
            length.map(|(_, seconds)| now + seconds)
        };
        let reason = self.reason.trim();
        if reason.is_empty() {
            errors.add(reason_id, t.s("members.reason_missing").into_owned());
        } else if reason.chars().count() > MAX_REASON {
            errors.add(
                reason_id,
                t.f("members.reason_long", &[("max", &MAX_REASON.to_string())]),
            );
        }
        match until {
            Some(until) if errors.is_empty() => Ok(Sentence {
                until,
                reason: reason.to_owned(),
            }),
            _ => Err(errors),
        }
    }
}

fn field_ids(kind: Restriction) -> (&'static str, &'static str, &'static str) {
    match kind {
        Restriction::Silence => ("silence_length", "silence_until", "silence_reason"),
        Restriction::Suspension => ("suspend_length", "suspend_until", "suspend_reason"),
    }
}

/// Silences or suspends `id` as `actor` for `sentence`, or lifts it early when `sentence` is
/// `None`: one unit of work with its log row and event; refused (and nothing written) when the
/// rules do not allow it.
pub async fn restrict(
    app: &AppState,
    actor: &SessionUser,
    id: i64,
    kind: Restriction,
    sentence: Option<&Sentence>,
) -> AppResult<Result<(), Refusal>> {
    let mut work = app.work().await?;
    let target = db::members::for_staff(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(refusal) = may_restrict(actor, &target) {
        return Ok(Err(refusal));
    }
    let now = work.now();
    let (imposed, lifted) = kind.actions();
    let record = match sentence {
        Some(sentence) => {
            kind.set(work.exec(), id, Some(sentence.until), &sentence.reason, now)
                .await?;
            LogRecord::new(actor.id, imposed, TargetKind::Member, id)
                .because(sentence.reason.clone())
        }
        None if kind.in_force(&target, now).is_none() => return Ok(Err(Refusal::NotInForce)),
        None => {
            kind.set(work.exec(), id, None, "", now).await?;
            LogRecord::new(actor.id, lifted, TargetKind::Member, id)
        }
    };
    tracing::info!(actor = actor.id, member = id, action = %record.action, "member action");
    work.log(record.about(id)).await?;
    work.announce(Event::MemberChanged { user_id: id });
    work.commit().await?;
    Ok(Ok(()))
}

/// Leaves a staff note on member `id`, with its log row.
pub async fn note(app: &AppState, actor: &SessionUser, id: i64, body: &str) -> AppResult<()> {
    let mut work = app.work().await?;
    db::members::for_staff(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = work.now();
    let note =
        db::staff_notes::add(work.exec(), TargetKind::Member, id, actor.id, body, now).await?;
    work.log(LogRecord::new(actor.id, Action::NoteAdded, TargetKind::Member, id).about(id))
        .await?;
    work.commit().await?;
    tracing::info!(actor = actor.id, member = id, note, "staff note added");
    Ok(())
}

/// A restriction's part of the page: in force (with the button to lift it), or the form to
/// impose it.
pub struct RestrictView {
    /// `silence` or `suspend`: the last part of the form's route.
    pub key: &'static str,
    pub heading: String,
    /// What is in force, or that nothing is.
    pub state: String,
    pub in_force: bool,
    pub lift_label: String,
    pub submit_label: String,
    pub length_id: &'static str,
    pub until_id: &'static str,
    pub until_hint: String,
    pub reason_id: &'static str,
    pub reason_hint: String,
    pub length: String,
    pub until: String,
    pub reason: String,
    pub errors: FieldErrors,
}

impl RestrictView {
    fn new(
        t: Tr,
        kind: Restriction,
        member: &StaffMember,
        app: &AppState,
        now: i64,
    ) -> RestrictView {
        let key = kind.key();
        let words = |part: &str| t.s(&format!("members.{key}.{part}")).into_owned();
        let in_force = kind.in_force(member, now);
        let (length_id, until_id, reason_id) = field_ids(kind);
        RestrictView {
            key,
            heading: words("heading"),
            state: match in_force {
                Some((until, reason)) => t.f(
                    &format!("members.{key}.in_force"),
                    &[("until", &local_time(&app.site, until)), ("reason", reason)],
                ),
                None => words("none"),
            },
            in_force: in_force.is_some(),
            lift_label: words("lift"),
            submit_label: words("submit"),
            length_id,
            until_id,
            until_hint: format!("{until_id}_hint"),
            reason_id,
            reason_hint: format!("{reason_id}_hint"),
            length: String::new(),
            until: String::new(),
            reason: String::new(),
            errors: FieldErrors::default(),
        }
    }
}

pub struct PostLine {
    pub href: String,
    pub title: String,
    pub excerpt: String,
    pub time: String,
    /// The status's words, when it is not simply published.
    pub status: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/member.html")]
pub struct MemberView {
    layout: Layout,
    id: i64,
    facts: String,
    deactivated: bool,
    /// Why the reader may not silence or suspend this member, when they may not.
    cannot: Option<String>,
    /// The refusal of what the reader just tried.
    pub(crate) refused: Option<String>,
    /// For coordinators: role, relation, deactivation and the e-mail address (see `manage`).
    pub(crate) manage: Option<crate::moderation::manage::ManageView>,
    lengths: Vec<(&'static str, String)>,
    silence: RestrictView,
    suspend: RestrictView,
    posts: Vec<PostLine>,
    notes: Vec<NoteItem>,
    note_body: String,
    note_errors: FieldErrors,
}

/// The page for member `id` as `viewer` sees it, before any form on it was sent.
pub(crate) async fn member_view(
    app: &AppState,
    ctx: &RequestContext,
    viewer: &SessionUser,
    id: i64,
) -> AppResult<MemberView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let member = db::members::for_staff(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let posts = db::members::recent_posts(conn.exec(), id, RECENT_POSTS)
        .await?
        .into_iter()
        .map(|p| PostLine {
            href: format!("/p/{}", p.post_id),
            title: p.topic_title,
            excerpt: excerpt(&p.body_markdown),
            time: local_time(&app.site, p.created_at),
            status: if p.deleted_at.is_some() {
                Some(t.s("members.post.deleted").into_owned())
            } else if p.status != "published" {
                t.get(&format!("members.post.{}", p.status))
                    .map(|s| s.into_owned())
            } else {
                None
            },
        })
        .collect();
    let notes = notes::on_item(conn.exec(), &app.site, TargetKind::Member, id).await?;
    drop(conn);
    let now = db::now();
    let facts = t.f(
        "members.facts",
        &[
            ("role", &t.s(&format!("role.{}", member.role))),
            ("relation", &t.s(&format!("relation.{}", member.relation))),
            ("joined", &local_time(&app.site, member.created_at)),
        ],
    );
    Ok(MemberView {
        layout: Layout::new(app, ctx, member.display_name.clone()),
        id,
        facts,
        deactivated: member.status != "active",
        cannot: may_restrict(viewer, &member)
            .err()
            .map(|r| t.s(r.key()).into_owned()),
        refused: None,
        manage: (viewer.role == Role::Coordinator)
            .then(|| crate::moderation::manage::ManageView::new(t, &member)),
        lengths: LENGTHS
            .iter()
            .map(|(code, _)| *code)
            .chain([UNTIL_DATE])
            .map(|code| (code, t.s(&format!("members.length.{code}")).into_owned()))
            .collect(),
        silence: RestrictView::new(t, Restriction::Silence, &member, app, now),
        suspend: RestrictView::new(t, Restriction::Suspension, &member, app, now),
        posts,
        notes,
        note_body: String::new(),
        note_errors: FieldErrors::default(),
    })
}

/// The start of a post's text, for a line in a list.
fn excerpt(markdown: &str) -> String {
    const CHARS: usize = 80;
    let flat: String = markdown.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > CHARS {
        let cut: String = flat.chars().take(CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
) -> AppResult<MemberView> {
    member_view(&app, &ctx, &user, id).await
}

/// Back to the member's page with a message.
async fn done(ctx: &RequestContext, id: i64, key: &str) -> AppResult<Response> {
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to(&format!("/mod/members/{id}")).into_response())
}

/// The member's page again, saying why what was tried was not done.
async fn refused(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    id: i64,
    refusal: Refusal,
) -> AppResult<Response> {
    let mut view = member_view(app, ctx, user, id).await?;
    view.refused = Some(ctx.tr().s(refusal.key()).into_owned());
    Ok((refusal.status(), view).into_response())
}

async fn restrict_page(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    id: i64,
    kind: Restriction,
    form: RestrictForm,
) -> AppResult<Response> {
    let t = ctx.tr();
    let sentence = match form.sentence(t, kind, db::now(), &app.site.time_zone()) {
        Ok(sentence) => sentence,
        Err(errors) => {
            let mut view = member_view(app, ctx, user, id).await?;
            let part = match kind {
                Restriction::Silence => &mut view.silence,
                Restriction::Suspension => &mut view.suspend,
            };
            part.length = form.length;
            part.until = form.until;
            part.reason = form.reason;
            part.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    match restrict(app, user, id, kind, Some(&sentence)).await? {
        Ok(()) => done(ctx, id, &format!("members.done.{}", kind.key())).await,
        Err(refusal) => refused(app, ctx, user, id, refusal).await,
    }
}

/// `POST /mod/members/{id}/{action}`: `silence` or `suspend` with the form's length and
/// reason, `unsilence` or `unsuspend` to lift it early.
pub async fn act(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<RestrictForm>,
) -> AppResult<Response> {
    let (kind, impose) = Restriction::ALL
        .into_iter()
        .find_map(|kind| {
            let key = kind.key();
            match action.strip_prefix("un") {
                Some(lifted) if lifted == key => Some((kind, false)),
                _ if action == key => Some((kind, true)),
                _ => None,
            }
        })
        .ok_or(AppError::NotFound)?;
    app.writes.check(&user, WriteKind::Moderate)?;
    if impose {
        return restrict_page(&app, &ctx, &user, id, kind, form).await;
    }
    match restrict(&app, &user, id, kind, None).await? {
        Ok(()) => done(&ctx, id, &format!("members.done.un{key}", key = kind.key())).await,
        Err(refusal) => refused(&app, &ctx, &user, id, refusal).await,
    }
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    body: String,
}

pub async fn add_note(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let t = ctx.tr();
    let body = form.body.trim();
    let problem = if body.is_empty() {
        Some(t.s("members.note_missing").into_owned())
    } else if body.chars().count() > MAX_NOTE {
        Some(t.f("members.note_long", &[("max", &MAX_NOTE.to_string())]))
    } else {
        None
    };
    if let Some(message) = problem {
        let mut view = member_view(&app, &ctx, &user, id).await?;
        view.note_body = form.body;
        view.note_errors = FieldErrors::one("note_body", message);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    }
    note(&app, &user, id, body).await?;
    done(&ctx, id, "members.done.note").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: i64, role: Role) -> SessionUser {
        SessionUser::for_test(id, role)
    }

    fn target(id: i64, role: Role) -> StaffMember {
        StaffMember::for_test(id, role)
    }

    #[test]
    fn staff_act_on_members_and_only_coordinators_on_moderators() {
        let moderator = session(1, Role::Moderator);
        let coordinator = session(2, Role::Coordinator);
        for role in [Role::Member, Role::Expert] {
            assert_eq!(may_restrict(&moderator, &target(9, role)), Ok(()));
            assert_eq!(may_restrict(&coordinator, &target(9, role)), Ok(()));
        }
        assert_eq!(
            may_restrict(&moderator, &target(9, Role::Moderator)),
            Err(Refusal::Staff)
        );
        assert_eq!(
            may_restrict(&coordinator, &target(9, Role::Moderator)),
            Ok(())
        );
        for actor in [&moderator, &coordinator] {
            assert_eq!(
                may_restrict(actor, &target(9, Role::Coordinator)),
                Err(Refusal::Coordinator)
            );
        }
        assert_eq!(
            may_restrict(&moderator, &target(1, Role::Moderator)),
            Err(Refusal::Yourself)
        );
        assert_eq!(
            may_restrict(&coordinator, &target(2, Role::Coordinator)),
            Err(Refusal::Yourself)
        );
    }

    #[test]
    fn a_form_gives_an_end_or_says_what_is_missing() {
        let t = crate::i18n::Locale::En.tr();
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
        let now = 1_780_000_000;
        let form = |length: &str, until: &str, reason: &str| RestrictForm {
            length: length.into(),
            until: until.into(),
            reason: reason.into(),
        };
        let week = form("1w", "", " 言葉づかい ")
            .sentence(t, Restriction::Silence, now, &tz)
            .ok()
            .map(|s| (s.until, s.reason));
        assert_eq!(week, Some((now + 7 * 86_400, "言葉づかい".to_owned())));
        // 2026-06-01 00:00 in +09:00.
        let dated = form(UNTIL_DATE, "2026-06-01", "x")
            .sentence(t, Restriction::Suspension, now, &tz)
            .ok()
            .map(|s| s.until);
        assert_eq!(dated, Some(1_780_239_600));
        let refused = |f: RestrictForm| {
            f.sentence(t, Restriction::Silence, now, &tz)
                .err()
                .map(|e| e.iter().filter_map(|e| e.first_field()).collect::<Vec<_>>())
        };
        assert_eq!(refused(form("1w", "", "  ")), Some(vec!["silence_reason"]));
        assert_eq!(refused(form("2y", "", "x")), Some(vec!["silence_length"]));
        assert_eq!(
            refused(form(UNTIL_DATE, "2020-01-01", "x")),
            Some(vec!["silence_until"])
        );
        assert_eq!(
            refused(form(UNTIL_DATE, "昨日", "x")),
            Some(vec!["silence_until"])
        );
        assert_eq!(
            refused(form("1d", "", &"a".repeat(MAX_REASON + 1))),
            Some(vec!["silence_reason"])
        );
    }
}
