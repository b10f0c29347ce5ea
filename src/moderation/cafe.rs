//! Café messages for staff: those held by a watched word or flagged by one, and those members
//! reported, each with what can be done about it (the room's own buttons do the same during a
//! session; this page is where nothing waits unseen when no moderator is in the room).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, Require, Staff};
use crate::auth::write_limit::WriteKind;
use crate::cafe::service;
use crate::db;
use crate::db::cafe::StaffMessageRow;
use crate::db::users::SessionUser;
use crate::domain::log::TargetKind;
use crate::domain::report::Resolution;
use crate::error::{AppError, AppResult};
use crate::moderation::queue::{self, moderator_reason};
use crate::moderation::reports::{
    ReportLine, ResolveForm, checked_resolution, close_reports, resolved,
};
use crate::web::layout::{Layout, local_time};

/// Items read at once for each section.
const PER_SECTION: i64 = 200;

pub struct MessageItem {
    pub message: StaffMessageRow,
    pub time: String,
    pub held: bool,
}

pub struct ReportedItem {
    pub item: MessageItem,
    pub count: String,
    pub reports: Vec<ReportLine>,
    pub note: String,
    pub errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/cafe.html")]
pub struct CafeQueueView {
    layout: Layout,
    waiting: Vec<MessageItem>,
    reported: Vec<ReportedItem>,
}

fn item(app: &AppState, message: StaffMessageRow) -> MessageItem {
    MessageItem {
        time: local_time(&app.site, message.created_at),
        held: message.status == "held",
        message,
    }
}

async fn view(
    app: &AppState,
    ctx: &RequestContext,
    failed: Option<(i64, String, Vec<String>)>,
) -> AppResult<CafeQueueView> {
    let t = ctx.tr();
    let (waiting, open) = {
        let mut conn = app.db.conn().await?;
        let mut exec = conn.exec();
        let waiting = db::cafe::waiting_messages(exec.again(), PER_SECTION).await?;
        (
            waiting,
            db::cafe::reported_messages(exec, PER_SECTION).await?,
        )
    };
    let mut reported: Vec<ReportedItem> = Vec::new();
    for row in open {
        let line = ReportLine {
            reason: t
                .s(&format!("reports.reason.{}", row.reason.as_str()))
                .into_owned(),
            note: row.note,
            reporter: row.reporter_name,
            time: local_time(&app.site, row.reported_at),
        };
        match reported
            .iter_mut()
            .find(|r| r.item.message.id == row.message.id)
        {
            Some(group) => group.reports.push(line),
            None => {
                let (note, errors) = match &failed {
                    Some((id, note, errors)) if *id == row.message.id => {
                        (note.clone(), errors.clone())
                    }
                    _ => (String::new(), Vec::new()),
                };
                reported.push(ReportedItem {
                    item: item(app, row.message),
                    count: String::new(),
                    reports: vec![line],
                    note,
                    errors,
                });
            }
        }
    }
    for group in &mut reported {
        group.count = t.f(
            "reports.count",
            &[("count", &group.reports.len().to_string())],
        );
    }
    Ok(CafeQueueView {
        layout: Layout::titled(app, ctx, "cafe.staff.title"),
        waiting: waiting.into_iter().map(|m| item(app, m)).collect(),
        reported,
    })
}

/// `GET /mod/cafe`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
) -> AppResult<CafeQueueView> {
    view(&app, &ctx, None).await
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/cafe_message.html")]
pub struct CafeMessageView {
    layout: Layout,
    item: MessageItem,
    /// Removed, held or flagged, in words; who changed it, when, and why.
    status: String,
    changed: Option<String>,
    reason: String,
}

/// `GET /mod/cafe-messages/{id}`: one message whatever became of it, for the log and alerts.
pub async fn message_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
    Path(id): Path<i64>,
) -> AppResult<CafeMessageView> {
    let found = {
        let mut conn = app.db.conn().await?;
        db::cafe::staff_message(conn.exec(), id).await?
    };
    let found = found.ok_or(AppError::NotFound)?;
    let t = ctx.tr();
    let changed = match (&found.changed_by, found.status_changed_at) {
        (Some(name), Some(at)) if found.message.status != "published" => Some(t.f(
            "cafe.staff.changed",
            &[("name", name), ("time", &local_time(&app.site, at))],
        )),
        _ => None,
    };
    Ok(CafeMessageView {
        layout: Layout::titled(&app, &ctx, "cafe.staff.message_title"),
        status: t
            .s(&format!("cafe.staff.status.{}", found.message.status))
            .into_owned(),
        changed,
        // A moderator's reason; a held message's is a code, said by the status already.
        reason: if found.message.status == "hidden" {
            found.status_reason
        } else {
            String::new()
        },
        item: item(&app, found.message),
    })
}

/// The room a message is in.
async fn room_of(app: &AppState, id: i64) -> AppResult<db::cafe::MessageRef> {
    let mut conn = app.db.conn().await?;
    db::cafe::message(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    reason: String,
}

/// `POST /mod/cafe-messages/{id}/{approve|remove|clear-flag}`.
pub async fn act(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let message = room_of(&app, id).await?;
    let key = match action.as_str() {
        "approve" => {
            service::approve(&app, &user, message.room_id, id).await?;
            "cafe.done.approved"
        }
        "remove" => {
            let reason = moderator_reason(&form.reason).map_err(|_| {
                AppError::BadRequest("a reason of at most 500 characters is needed")
            })?;
            service::remove(&app, &user, message.room_id, id, &reason).await?;
            "cafe.done.removed"
        }
        "clear-flag" => {
            service::clear_flag(&app, &user, id).await?;
            "moderation.flag_cleared_flash"
        }
        _ => return Err(AppError::NotFound),
    };
    queue::done(&ctx, true, key, "/mod/cafe").await
}

/// `POST /mod/cafe-messages/{id}/reports/resolve`: every open report on the message at once.
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
            let view = view(&app, &ctx, Some((id, form.note, errors))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let author = resolve_reports(&app, &user, id, resolution, &note).await?;
    resolved(&ctx, resolution, author, "/mod/cafe").await
}

/// Resolves the reports on a message (hiding it when so decided) in one unit of work; its
/// author, or `None` when nothing was open.
async fn resolve_reports(
    app: &AppState,
    moderator: &SessionUser,
    id: i64,
    resolution: Resolution,
    note: &str,
) -> AppResult<Option<i64>> {
    let mut work = app.work().await?;
    let message = db::cafe::message(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let target = (TargetKind::CafeMessage, id, message.author_id);
    if !close_reports(&mut work, moderator, target, resolution, note).await? {
        return Ok(None);
    }
    if resolution == Resolution::Hidden {
        service::remove_in(&mut work, moderator, message.room_id, id, note).await?;
    }
    work.commit().await?;
    Ok(Some(message.author_id))
}
