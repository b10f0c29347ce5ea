//! A café message's own address, and a member's report on one: the same reasons, the same
//! one-open-report rule and the same moderators' alert as a report on a post.

use axum::extract::{Path, State};
use axum::response::Redirect;

use super::rules::RoomState;
use crate::AppState;
use crate::auth::session::CurrentUser;
use crate::db;
use crate::db::cafe::MessageRef;
use crate::db::users::SessionUser;
use crate::domain::log::TargetKind;
use crate::error::{AppError, AppResult};
use crate::forums::viewer;
use crate::moderation::reports::{ReportTarget, Reportable, Reported};

/// How much of a message the report form quotes.
const EXCERPT_CHARS: usize = 160;

/// A message the reader may see in a room open to them, and the room's name; otherwise 404.
async fn seen_message(
    app: &AppState,
    user: &SessionUser,
    id: i64,
) -> AppResult<(MessageRef, String)> {
    let mut conn = app.db.conn().await?;
    let mut exec = conn.exec();
    let message = db::cafe::message(exec.again(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let room = RoomState::load(exec, viewer(user), message.room_id, db::now())
        .await?
        .ok_or(AppError::NotFound)?;
    let shown = match message.status.as_str() {
        "published" => true,
        "held" => message.author_id == user.id || room.kept_by(user),
        _ => false,
    };
    if !shown || !room.readable_by(user) {
        return Err(AppError::NotFound);
    }
    Ok((message, room.room.name))
}

fn link(message: &MessageRef) -> String {
    format!("/cafe/{}#m{}", message.room_id, message.id)
}

/// `GET /cafe/messages/{id}`: the message in its room.
pub async fn permalink(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Redirect> {
    let (message, _) = seen_message(&app, &user, id).await?;
    Ok(Redirect::to(&link(&message)))
}

/// Café messages, as reported at `/cafe/messages/{id}/report`: someone else's published
/// message, which the reader sees.
pub struct CafeMessage;

impl Reportable for CafeMessage {
    async fn reportable(
        app: &AppState,
        user: &SessionUser,
        id: i64,
    ) -> AppResult<(ReportTarget, Reported)> {
        let (message, room_name) = seen_message(app, user, id).await?;
        if message.author_id == user.id || message.status != "published" {
            return Err(AppError::NotFound);
        }
        let excerpt: String = message.body.chars().take(EXCERPT_CHARS).collect();
        let target = ReportTarget {
            kind: TargetKind::CafeMessage,
            id: message.id,
            author_id: message.author_id,
            link: format!("/cafe/messages/{}", message.id),
        };
        let reported = Reported {
            action: format!("/cafe/messages/{}/report", message.id),
            link: link(&message),
            heading: room_name,
            excerpt,
        };
        Ok((target, reported))
    }
}
