//! The review queue: urgent alerts first, then posts waiting for review oldest first, then posts a
//! watched word flagged; each in its context with its author's history, handled with one tap.
//! Every action is one unit of work with its log row; the author sees what happened to their
//! post and why, never which moderator did it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, Require, SessionData, Staff};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::forums::PostState;
use crate::db::moderation::{OpenAlert, QueuedPost};
use crate::db::users::SessionUser;
use crate::domain::content::PostStatus;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::topics::status_note;
use crate::i18n::Tr;
use crate::moderation::notes::{self, NoteItem};
use crate::web::layout::{Layout, local_time};
use crate::work::Work;

/// How many items of each kind one queue page shows.
const PER_SECTION: i64 = 50;
/// The longest reason a moderator may give for hiding a post.
pub const MAX_REASON: usize = 500;

pub struct QueueItem {
    pub post: QueuedPost,
    pub time: String,
    pub history: String,
    pub note: Option<String>,
}

pub struct AlertItem {
    pub alert: OpenAlert,
    pub what: String,
    pub link: String,
    pub time: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/queue.html")]
pub struct QueueView {
    layout: Layout,
    alerts: Vec<AlertItem>,
    held: Vec<QueueItem>,
    flagged: Vec<QueueItem>,
    /// Items with open reports, on their own page.
    reported: i64,
    /// Café messages waiting for staff, on their own page.
    cafe: i64,
}

pub fn item(app: &AppState, t: Tr, post: QueuedPost) -> QueueItem {
    QueueItem {
        time: local_time(&app.site, post.created_at),
        history: t.f(
            "moderation.author_history",
            &[
                ("joined", &local_time(&app.site, post.author_joined_at)),
                ("published", &post.author_published.to_string()),
                ("hidden", &post.author_hidden.to_string()),
            ],
        ),
        note: status_note(t, PostStatus::Held, &post.status_reason),
        post,
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
) -> AppResult<QueueView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let alerts = db::moderation::open_alerts(conn.exec(), PER_SECTION).await?;
    let held = db::moderation::held_posts(conn.exec(), ctx.locale, PER_SECTION).await?;
    let flagged = db::moderation::flagged_posts(conn.exec(), ctx.locale, PER_SECTION).await?;
    let reported = db::reports::open_items(conn.exec()).await?;
    let cafe = db::cafe::waiting_count(conn.exec()).await?;
    drop(conn);
    Ok(QueueView {
        layout: Layout::titled(&app, &ctx, "moderation.queue_title"),
        alerts: alerts
            .into_iter()
            .map(|alert| AlertItem {
                what: t
                    .s(&format!("moderation.alert.{}", alert.cause))
                    .into_owned(),
                link: match alert.target_kind.as_str() {
                    "cafe_message" => format!("/mod/cafe-messages/{}", alert.target_id),
                    _ => format!("/mod/posts/{}", alert.target_id),
                },
                time: local_time(&app.site, alert.created_at),
                alert,
            })
            .collect(),
        held: held.into_iter().map(|p| item(&app, t, p)).collect(),
        flagged: flagged.into_iter().map(|p| item(&app, t, p)).collect(),
        reported,
        cafe,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/post.html")]
pub struct PostView {
    layout: Layout,
    item: QueueItem,
    status: PostStatus,
    flagged: bool,
    reason: String,
    errors: Vec<String>,
    notes: Vec<NoteItem>,
    note: String,
    note_errors: Vec<String>,
}

/// What the forms of a post's page were sent with, when one comes back with errors.
#[derive(Default)]
pub struct PostForms {
    pub reason: String,
    pub errors: Vec<String>,
    pub note: String,
    pub note_errors: Vec<String>,
}

/// One post as moderators handle it, with the forms for what can be done to it.
pub async fn post_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
    Path(id): Path<i64>,
) -> AppResult<PostView> {
    post_view(&app, &ctx, id, PostForms::default()).await
}

pub async fn post_view(
    app: &AppState,
    ctx: &RequestContext,
    id: i64,
    forms: PostForms,
) -> AppResult<PostView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let post = db::moderation::post(conn.exec(), ctx.locale, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let state = db::forums::post_state(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let notes = notes::on_item(conn.exec(), &app.site, TargetKind::Post, id).await?;
    drop(conn);
    let mut item = item(app, t, post);
    item.note = status_note(t, state.status, &item.post.status_reason);
    Ok(PostView {
        layout: Layout::titled(app, ctx, "moderation.post_title"),
        status: state.status,
        flagged: state.flagged_at.is_some(),
        item,
        reason: forms.reason,
        errors: forms.errors,
        notes,
        note: forms.note,
        note_errors: forms.note_errors,
    })
}

/// The post, when it is in the state the action needs (`None`: someone handled it already).
async fn post_if(
    work: &mut Work<'_>,
    id: i64,
    wanted: impl Fn(PostStatus) -> bool,
) -> AppResult<Option<PostState>> {
    let state = db::forums::post_state(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(wanted(state.status).then_some(state))
}

/// Publishes a held post.
pub async fn approve_post(app: &AppState, moderator: &SessionUser, id: i64) -> AppResult<bool> {
    let mut work = app.work().await?;
    let Some(post) = post_if(&mut work, id, |s| s == PostStatus::Held).await? else {
        return Ok(false);
    };
    crate::content::approve(&mut work, id).await?;
    work.log(
        LogRecord::new(moderator.id, Action::PostApproved, TargetKind::Post, id)
            .about(post.author_id),
    )
    .await?;
    work.commit().await?;
    Ok(true)
}

/// Hides a post (held or published) with a reason its author sees.
pub async fn hide_post(
    app: &AppState,
    moderator: &SessionUser,
    id: i64,
    reason: &str,
) -> AppResult<bool> {
    let mut work = app.work().await?;
    if !hide_in(&mut work, moderator, id, reason).await? {
        return Ok(false);
    }
    work.commit().await?;
    Ok(true)
}

/// [`hide_post`] as part of a larger unit of work (resolving reports, say); false when the
/// post was hidden already.
pub async fn hide_in(
    work: &mut Work<'_>,
    moderator: &SessionUser,
    id: i64,
    reason: &str,
) -> AppResult<bool> {
    let Some(post) = post_if(work, id, |s| s != PostStatus::Hidden).await? else {
        return Ok(false);
    };
    db::forums::set_flagged(work.exec(), id, None).await?;
    let record = LogRecord::new(moderator.id, Action::PostHidden, TargetKind::Post, id)
        .about(post.author_id)
        .because(reason);
    set_status(work, &post, id, PostStatus::Hidden, reason, record).await?;
    Ok(true)
}

/// Shows a hidden post again.
pub async fn restore_post(app: &AppState, moderator: &SessionUser, id: i64) -> AppResult<bool> {
    let mut work = app.work().await?;
    let Some(post) = post_if(&mut work, id, |s| s == PostStatus::Hidden).await? else {
        return Ok(false);
    };
    let record = LogRecord::new(moderator.id, Action::PostRestored, TargetKind::Post, id)
        .about(post.author_id);
    set_status(&mut work, &post, id, PostStatus::Published, "", record).await?;
    work.commit().await?;
    Ok(true)
}

/// Moves a post to `status` (with the reason its author sees), indexes it again for search,
/// writes `record` and announces the change.
async fn set_status(
    work: &mut Work<'_>,
    post: &PostState,
    id: i64,
    status: PostStatus,
    reason: &str,
    record: LogRecord,
) -> AppResult<()> {
    let now = work.now();
    db::forums::set_post_status(work.exec(), id, status, reason, now).await?;
    db::search::index_post(work.exec(), id).await?;
    work.log(record).await?;
    work.announce(Event::PostChanged {
        post_id: id,
        topic_id: post.topic_id,
    });
    work.announce(Event::QueueChanged);
    Ok(())
}

/// A flagged post looked at and left as it is.
pub async fn clear_post_flag(app: &AppState, id: i64) -> AppResult<()> {
    let mut work = app.work().await?;
    db::forums::post_state(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    db::forums::set_flagged(work.exec(), id, None).await?;
    work.announce(Event::QueueChanged);
    work.commit().await?;
    Ok(())
}

pub async fn acknowledge_alert(
    app: &AppState,
    moderator: &SessionUser,
    id: i64,
) -> AppResult<bool> {
    let mut work = app.work().await?;
    let member = db::moderation::alert_member(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = work.now();
    if !db::moderation::acknowledge_alert(work.exec(), id, moderator.id, now).await? {
        return Ok(false);
    }
    let mut record = LogRecord::new(
        moderator.id,
        Action::AlertAcknowledged,
        TargetKind::Alert,
        id,
    );
    record.subject_user_id = member;
    work.log(record).await?;
    work.announce(Event::QueueChanged);
    work.commit().await?;
    Ok(true)
}

pub async fn done(
    ctx: &RequestContext,
    changed: bool,
    key: &str,
    back: &str,
) -> AppResult<Response> {
    let t = ctx.tr();
    let message = if changed {
        t.s(key)
    } else {
        t.s("moderation.already_handled")
    };
    SessionData(&ctx.session)
        .set_flash(message.into_owned())
        .await?;
    Ok(Redirect::to(back).into_response())
}

/// A reason a moderator gives (shown to the author when a post is hidden), on one line; or the
/// locale key of what is wrong with it.
pub fn moderator_reason(raw: &str) -> Result<String, &'static str> {
    let reason = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        Err("moderation.reason_missing")
    } else if reason.chars().count() > MAX_REASON {
        Err("moderation.reason_too_long")
    } else {
        Ok(reason)
    }
}

#[derive(Deserialize)]
pub struct HideForm {
    #[serde(default)]
    reason: String,
}

pub async fn hide(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<HideForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let reason = match moderator_reason(&form.reason) {
        Ok(reason) => reason,
        Err(key) => {
            let forms = PostForms {
                errors: vec![ctx.tr().s(key).into_owned()],
                reason: form.reason,
                ..PostForms::default()
            };
            let view = post_view(&app, &ctx, id, forms).await?;
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let changed = hide_post(&app, &user, id, &reason).await?;
    done(&ctx, changed, "moderation.hidden_flash", "/mod/queue").await
}

/// What a moderator does to a post with one tap (hiding asks for a reason: [`hide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAction {
    Approve,
    Restore,
    ClearFlag,
}

impl std::str::FromStr for PostAction {
    type Err = AppError;
    fn from_str(s: &str) -> Result<PostAction, AppError> {
        match s {
            "approve" => Ok(PostAction::Approve),
            "restore" => Ok(PostAction::Restore),
            "clear-flag" => Ok(PostAction::ClearFlag),
            _ => Err(AppError::NotFound),
        }
    }
}

/// `POST /mod/posts/{id}/{approve|restore|clear-flag}`.
pub async fn act(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let action: PostAction = action.parse()?;
    app.writes.check(&user, WriteKind::Moderate)?;
    let (changed, key, back) = match action {
        PostAction::Approve => (
            approve_post(&app, &user, id).await?,
            "moderation.approved_flash",
            "/mod/queue".to_owned(),
        ),
        PostAction::Restore => (
            restore_post(&app, &user, id).await?,
            "moderation.restored_flash",
            format!("/p/{id}"),
        ),
        PostAction::ClearFlag => {
            clear_post_flag(&app, id).await?;
            (
                true,
                "moderation.flag_cleared_flash",
                "/mod/queue".to_owned(),
            )
        }
    };
    done(&ctx, changed, key, &back).await
}

pub async fn acknowledge(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let changed = acknowledge_alert(&app, &user, id).await?;
    done(&ctx, changed, "moderation.acknowledged_flash", "/mod/queue").await
}

pub struct WithheldItem {
    pub id: i64,
    pub topic_title: String,
    pub time: String,
    pub note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/withheld.html")]
pub struct WithheldView {
    layout: Layout,
    posts: Vec<WithheldItem>,
}

/// A member's own posts that others cannot see, and why.
pub async fn my_withheld(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<WithheldView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let rows = db::moderation::withheld_posts_of(conn.exec(), user.id).await?;
    drop(conn);
    let posts = rows
        .into_iter()
        .map(|p| WithheldItem {
            note: p
                .status
                .parse::<PostStatus>()
                .ok()
                .and_then(|status| status_note(t, status, &p.status_reason))
                .unwrap_or_default(),
            time: local_time(&app.site, p.created_at),
            id: p.id,
            topic_title: p.topic_title,
        })
        .collect();
    Ok(WithheldView {
        layout: Layout::titled(&app, &ctx, "moderation.withheld_title"),
        posts,
    })
}
