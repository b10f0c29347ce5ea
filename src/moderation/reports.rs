//! Members' reports on posts, and their resolution.
//!
//! A member reports a post they can see (someone else's, published) with a reason; one open
//! report per member per item, so a second is told kindly that the first is with the
//! moderators. "Worried about this person" raises an urgent alert in the same unit of work.
//! Reporting is its own kind of write, so that a silenced member can still report.
//!
//! Moderators see open reports grouped by post (oldest report first) and resolve a group at
//! once: hide the post, dismiss, or go on to act on the member. Every report on the item is
//! resolved, one log row written, and each reporter told that it was handled, never how.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, Require, SessionData, Staff};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::forums::PostRef;
use crate::db::reports::{Decision, NewReport};
use crate::db::users::SessionUser;
use crate::domain::content::PostStatus;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::report::{ReportReason, Resolution};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::posts::{address, visible_post};
use crate::i18n::{Locale, Tr};
use crate::mail::Mail;
use crate::moderation::queue::{self, QueueItem, moderator_reason};
use crate::safety::{self, AlertCause};
use crate::web::layout::{Layout, local_time};
use crate::work::Work;

/// The longest note a member may add to a report.
pub const MAX_REPORT_NOTE: usize = 1000;
/// Open reports the queue reads at once (grouped, they are fewer items).
const OPEN_REPORTS: i64 = 500;
/// How much of a post the report form quotes.
const EXCERPT_CHARS: usize = 160;

/// Posts, as reported at `/p/{id}/report`: someone else's, published, one the reader can see.
pub struct Post;

impl Reportable for Post {
    async fn reportable(
        app: &AppState,
        user: &SessionUser,
        id: i64,
    ) -> AppResult<(ReportTarget, Reported)> {
        let post = visible_post(app, user, id).await?;
        if post.author_id == user.id
            || post.deleted_at.is_some()
            || post.status != PostStatus::Published
        {
            return Err(AppError::NotFound);
        }
        Ok((ReportTarget::post(&post), Reported::post(&post)))
    }
}

/// What a member reports: a kind of content, its id, its author, and where staff find it.
pub struct ReportTarget {
    pub kind: TargetKind,
    pub id: i64,
    pub author_id: i64,
    pub link: String,
}

impl ReportTarget {
    pub fn post(post: &PostRef) -> ReportTarget {
        ReportTarget {
            kind: TargetKind::Post,
            id: post.id,
            author_id: post.author_id,
            link: format!("/p/{}", post.id),
        }
    }
}

/// Stores a report; false (nothing changed) when the member's report on the item is still
/// open. A worried report alerts every moderator in the same unit of work.
pub async fn file_report(
    app: &AppState,
    reporter: &SessionUser,
    target: &ReportTarget,
    reason: ReportReason,
    note: &str,
) -> AppResult<bool> {
    let mut work = app.work().await?;
    let report = NewReport {
        reporter_id: reporter.id,
        target_kind: target.kind,
        target_id: target.id,
        subject_user_id: target.author_id,
        reason,
        note,
    };
    let now = work.now();
    if !db::reports::insert(work.exec(), &report, now).await? {
        return Ok(false);
    }
    if reason == ReportReason::Worried {
        safety::alert(
            &mut work,
            AlertCause::WorriedReport,
            target.kind,
            target.id,
            target.author_id,
            &target.link,
        )
        .await?;
    }
    work.announce(Event::QueueChanged);
    work.commit().await?;
    Ok(true)
}

/// Resolves every open report on a post; returns its author, or `None` when nothing was open
/// (another moderator was quicker). Hiding uses the reason (`note`) for the author to see.
pub async fn resolve_post_reports(
    app: &AppState,
    moderator: &SessionUser,
    id: i64,
    resolution: Resolution,
    note: &str,
) -> AppResult<Option<i64>> {
    let mut work = app.work().await?;
    let author = db::forums::post_state(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?
        .author_id;
    let target = (TargetKind::Post, id, author);
    if !close_reports(&mut work, moderator, target, resolution, note).await? {
        return Ok(None);
    }
    if resolution == Resolution::Hidden {
        // Already hidden from the post's page: the reports are resolved all the same.
        queue::hide_in(&mut work, moderator, id, note).await?;
    }
    work.commit().await?;
    Ok(Some(author))
}

/// Closes every open report on an item (kind, id, author) in the unit of work, with one log
/// row and a mail to each reporter that it was handled; false when none was open. What the
/// resolution does to the item itself is the caller's.
pub async fn close_reports(
    work: &mut Work<'_>,
    moderator: &SessionUser,
    (kind, id, author): (TargetKind, i64, i64),
    resolution: Resolution,
    note: &str,
) -> AppResult<bool> {
    let decision = Decision {
        target_kind: kind,
        target_id: id,
        by: moderator.id,
        resolution,
        note,
    };
    let now = work.now();
    let reporters = db::reports::resolve(work.exec(), &decision, now).await?;
    if reporters.is_empty() {
        return Ok(false);
    }
    work.log(
        LogRecord::new(moderator.id, Action::ReportResolved, kind, id)
            .about(author)
            .because(note),
    )
    .await?;
    for reporter in reporters {
        if let Some(to) = db::reports::reporter(work.exec(), reporter).await? {
            let mail = Mail::ReportHandled {
                display_name: &to.display_name,
            };
            work.mail(Locale::from_code(&to.locale), &to.email, &mail)
                .await?;
        }
    }
    work.announce(Event::QueueChanged);
    Ok(true)
}

pub struct ReasonChoice {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/report.html")]
pub struct ReportFormView {
    layout: Layout,
    /// Where the form posts.
    action: String,
    /// The reported item, and what it is in (a topic's title, a café room's name).
    link: String,
    heading: String,
    excerpt: String,
    reasons: Vec<ReasonChoice>,
    note: String,
    note_hint: String,
    max_note: usize,
    errors: Vec<String>,
}

/// What the report form shows of the item.
pub struct Reported {
    pub action: String,
    pub link: String,
    pub heading: String,
    pub excerpt: String,
}

impl Reported {
    pub fn post(post: &PostRef) -> Reported {
        Reported {
            action: format!("/p/{}/report", post.id),
            link: address(post),
            heading: post.topic_title.clone(),
            excerpt: crate::markdown::excerpt(&post.body_markdown, EXCERPT_CHARS),
        }
    }
}

pub fn report_form(
    app: &AppState,
    ctx: &RequestContext,
    reported: Reported,
    chosen: &str,
    note: String,
    errors: Vec<String>,
) -> ReportFormView {
    let t = ctx.tr();
    ReportFormView {
        layout: Layout::titled(app, ctx, "reports.title"),
        action: reported.action,
        link: reported.link,
        heading: reported.heading,
        excerpt: reported.excerpt,
        reasons: ReportReason::ALL
            .iter()
            .map(|reason| ReasonChoice {
                value: reason.as_str(),
                label: t
                    .s(&format!("reports.reason.{}", reason.as_str()))
                    .into_owned(),
                checked: reason.as_str() == chosen,
            })
            .collect(),
        note,
        note_hint: t.f(
            "reports.note_hint",
            &[("max", &MAX_REPORT_NOTE.to_string())],
        ),
        max_note: MAX_REPORT_NOTE,
        errors,
    }
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

/// The reason and note as stored, or the locale keys of what is wrong with them.
pub fn checked_report(form: &ReportForm) -> Result<(ReportReason, String), Vec<&'static str>> {
    let reason = form.reason.parse::<ReportReason>().ok();
    let note = form.note.trim().to_owned();
    let mut problems = Vec::new();
    if reason.is_none() {
        problems.push("reports.reason_missing");
    }
    if note.chars().count() > MAX_REPORT_NOTE {
        problems.push("reports.note_too_long");
    } else if reason == Some(ReportReason::Other) && note.is_empty() {
        problems.push("reports.note_missing");
    }
    match reason {
        Some(reason) if problems.is_empty() => Ok((reason, note)),
        _ => Err(problems),
    }
}

/// A kind of item members report (a post, a café message, an answered question): how to find
/// the item a reader may report, or 404. Its pages are then [`report_page`] and [`report`].
pub trait Reportable {
    fn reportable(
        app: &AppState,
        user: &SessionUser,
        id: i64,
    ) -> impl Future<Output = AppResult<(ReportTarget, Reported)>> + Send;
}

/// `GET …/{id}/report` of a [`Reportable`] kind.
pub async fn report_page<R: Reportable>(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<ReportFormView> {
    let (_, reported) = R::reportable(&app, &user, id).await?;
    Ok(report_form(
        &app,
        &ctx,
        reported,
        "",
        String::new(),
        Vec::new(),
    ))
}

/// `POST …/{id}/report` of a [`Reportable`] kind.
pub async fn report<R: Reportable>(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> AppResult<Response> {
    let (target, reported) = R::reportable(&app, &user, id).await?;
    app.writes.check(&user, WriteKind::Report)?;
    submit_report(&app, &ctx, &user, &target, reported, form).await
}

/// Checks a report form and files it, or shows the form again with what is wrong; back to the
/// item with a word of thanks.
pub async fn submit_report(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    target: &ReportTarget,
    reported: Reported,
    form: ReportForm,
) -> AppResult<Response> {
    let t = ctx.tr();
    let (reason, note) = match checked_report(&form) {
        Ok(checked) => checked,
        Err(problems) => {
            let errors = problems.iter().map(|k| t.s(k).into_owned()).collect();
            let view = report_form(app, ctx, reported, &form.reason, form.note, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let stored = file_report(app, user, target, reason, &note).await?;
    let key = if stored {
        "reports.thanks_flash"
    } else {
        "reports.already_flash"
    };
    SessionData(&ctx.session)
        .set_flash(t.s(key).into_owned())
        .await?;
    Ok(Redirect::to(&reported.link).into_response())
}

/// One report as moderators read it.
pub struct ReportLine {
    pub reason: String,
    pub note: String,
    pub reporter: String,
    pub time: String,
}

/// The open reports on one post.
pub struct ReportGroup {
    pub item: QueueItem,
    pub count: String,
    pub reports: Vec<ReportLine>,
    /// What the resolution form was sent with, when it came back with errors.
    pub note: String,
    pub errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/reports.html")]
pub struct ReportsView {
    layout: Layout,
    groups: Vec<ReportGroup>,
}

async fn reports_view(
    app: &AppState,
    ctx: &RequestContext,
    failed: Option<(i64, String, Vec<String>)>,
) -> AppResult<ReportsView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let open = db::reports::open_on_posts(conn.exec(), OPEN_REPORTS).await?;
    // Grouped by post, in the order of each post's oldest report.
    let mut grouped: Vec<(i64, Vec<ReportLine>)> = Vec::new();
    for r in open {
        let line = ReportLine {
            reason: t
                .s(&format!("reports.reason.{}", r.reason.as_str()))
                .into_owned(),
            note: r.note,
            reporter: r.reporter_name,
            time: local_time(&app.site, r.created_at),
        };
        match grouped.iter_mut().find(|(id, _)| *id == r.target_id) {
            Some((_, lines)) => lines.push(line),
            None => grouped.push((r.target_id, vec![line])),
        }
    }
    let mut groups = Vec::with_capacity(grouped.len());
    for (id, reports) in grouped {
        let Some(post) = db::moderation::post(conn.exec(), ctx.locale, id).await? else {
            continue;
        };
        let (note, errors) = match &failed {
            Some((failed_id, note, errors)) if *failed_id == id => (note.clone(), errors.clone()),
            _ => (String::new(), Vec::new()),
        };
        groups.push(ReportGroup {
            item: queue::item(app, t, post),
            count: t.f("reports.count", &[("count", &reports.len().to_string())]),
            reports,
            note,
            errors,
        });
    }
    drop(conn);
    Ok(ReportsView {
        layout: Layout::titled(app, ctx, "reports.queue_title"),
        groups,
    })
}

pub async fn queue_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
) -> AppResult<ReportsView> {
    reports_view(&app, &ctx, None).await
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub note: String,
}

pub fn checked_resolution(t: Tr, form: &ResolveForm) -> Result<(Resolution, String), Vec<String>> {
    let resolution = form.resolution.parse::<Resolution>();
    let note = moderator_reason(&form.note);
    match (resolution, note) {
        (Ok(resolution), Ok(note)) => Ok((resolution, note)),
        (resolution, note) => {
            let mut errors = Vec::new();
            if resolution.is_err() {
                errors.push(t.s("reports.resolution_missing").into_owned());
            }
            if let Err(key) = note {
                errors.push(t.s(key).into_owned());
            }
            Err(errors)
        }
    }
}

pub async fn resolve(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let (resolution, note) = match checked_resolution(ctx.tr(), &form) {
        Ok(checked) => checked,
        Err(errors) => {
            let view = reports_view(&app, &ctx, Some((id, form.note, errors))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let author = resolve_post_reports(&app, &user, id, resolution, &note).await?;
    resolved(&ctx, resolution, author, "/mod/reports").await
}

/// Where a moderator goes once an item's reports are resolved (`author` is `None` when another
/// moderator was quicker): to the author's page to act on them, or back to `list`.
pub async fn resolved(
    ctx: &RequestContext,
    resolution: Resolution,
    author: Option<i64>,
    list: &str,
) -> AppResult<Response> {
    let back = match (resolution, author) {
        (Resolution::MemberAction, Some(author)) => format!("/mod/members/{author}"),
        _ => list.to_owned(),
    };
    queue::done(ctx, author.is_some(), "reports.resolved_flash", &back).await
}
