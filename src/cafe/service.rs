//! What the facilitator and moderators do in a room, and what a member does with their own
//! messages: each one unit of work, logged, announced on the bus for the room's live pages.

use crate::AppState;
use crate::db;
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::viewer;
use crate::work::Work;

use super::rules::RoomState;

/// Slow-mode intervals a keeper may choose, in seconds (0: off).
pub const SLOW_MODES: [i64; 5] = [0, 10, 30, 60, 120];

/// The room as `actor` finds it, in the unit of work; 404 when it is not open to them.
async fn room(work: &mut Work<'_>, actor: &SessionUser, room_id: i64) -> AppResult<RoomState> {
    let now = work.now();
    RoomState::load(work.exec(), viewer(actor), room_id, now)
        .await?
        .ok_or(AppError::NotFound)
}

/// The room, when `actor` keeps it now (staff, or the facilitator of the session on now).
async fn kept_room(work: &mut Work<'_>, actor: &SessionUser, room_id: i64) -> AppResult<RoomState> {
    let room = room(work, actor, room_id).await?;
    if !room.kept_by(actor) {
        return Err(AppError::Forbidden);
    }
    Ok(room)
}

/// The session on now in a room `actor` keeps: mutes, slow mode and pause belong to it.
async fn kept_session(
    work: &mut Work<'_>,
    actor: &SessionUser,
    room_id: i64,
) -> AppResult<db::cafe::SessionRow> {
    kept_room(work, actor, room_id)
        .await?
        .session
        .ok_or(AppError::BadRequest("no session is on in this room"))
}

/// The message, in room `room_id`.
async fn message_in(
    work: &mut Work<'_>,
    room_id: i64,
    message_id: i64,
) -> AppResult<db::cafe::MessageRef> {
    db::cafe::message(work.exec(), message_id)
        .await?
        .filter(|m| m.room_id == room_id)
        .ok_or(AppError::NotFound)
}

/// Removes a message for everyone: its author deletes it, or a keeper of the room hides it
/// (logged, with the reason). Removing what is already gone changes nothing.
pub async fn remove(
    app: &AppState,
    actor: &SessionUser,
    room_id: i64,
    message_id: i64,
    reason: &str,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let room = room(&mut work, actor, room_id).await?;
    let message = message_in(&mut work, room_id, message_id).await?;
    let own = message.author_id == actor.id;
    if !own && !room.kept_by(actor) {
        return Err(AppError::Forbidden);
    }
    // A held message is its author's and the keepers' to see: others cannot have it to remove.
    if matches!(message.status.as_str(), "hidden" | "deleted") {
        return Ok(());
    }
    let status = if own { "deleted" } else { "hidden" };
    let seq = db::cafe::next_seq(work.exec(), room_id).await?;
    let now = work.now();
    db::cafe::set_message_status(work.exec(), message_id, status, reason, actor.id, seq, now)
        .await?;
    if !own {
        work.log(
            LogRecord::new(
                actor.id,
                Action::CafeMessageRemoved,
                TargetKind::CafeMessage,
                message_id,
            )
            .about(message.author_id)
            .because(reason),
        )
        .await?;
    }
    if message.status == "held" {
        work.announce(Event::QueueChanged);
    }
    work.announce(Event::CafeMessages { room_id });
    work.commit().await?;
    Ok(())
}

/// Lets a held message into the room.
pub async fn approve(
    app: &AppState,
    actor: &SessionUser,
    room_id: i64,
    message_id: i64,
) -> AppResult<()> {
    let mut work = app.work().await?;
    kept_room(&mut work, actor, room_id).await?;
    let message = message_in(&mut work, room_id, message_id).await?;
    if message.status != "held" {
        return Ok(());
    }
    let seq = db::cafe::next_seq(work.exec(), room_id).await?;
    let now = work.now();
    db::cafe::set_message_status(work.exec(), message_id, "published", "", actor.id, seq, now)
        .await?;
    work.log(
        LogRecord::new(
            actor.id,
            Action::CafeMessageApproved,
            TargetKind::CafeMessage,
            message_id,
        )
        .about(message.author_id),
    )
    .await?;
    work.announce(Event::QueueChanged);
    work.announce(Event::CafeMessages { room_id });
    work.commit().await?;
    Ok(())
}

/// Mutes a member for the rest of the session. Nobody mutes themself, and staff are not muted
/// (a facilitator who is not staff cannot silence a moderator).
pub async fn mute(
    app: &AppState,
    actor: &SessionUser,
    room_id: i64,
    member_id: i64,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let session = kept_session(&mut work, actor, room_id).await?;
    let member = db::users::session_user(work.exec(), member_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if member.id == actor.id || member.role.is_staff() {
        return Err(AppError::Forbidden);
    }
    let now = work.now();
    if db::cafe::mute(work.exec(), session.id, member.id, actor.id, now).await? {
        work.log(
            LogRecord::new(
                actor.id,
                Action::CafeMemberMuted,
                TargetKind::CafeSession,
                session.id,
            )
            .about(member.id),
        )
        .await?;
        work.announce(Event::CafeSession { room_id });
    }
    work.commit().await?;
    Ok(())
}

/// Slow mode: each member writes at most once per `seconds` (one of [`SLOW_MODES`]).
pub async fn set_slow_mode(
    app: &AppState,
    actor: &SessionUser,
    room_id: i64,
    seconds: i64,
) -> AppResult<()> {
    if !SLOW_MODES.contains(&seconds) {
        return Err(AppError::BadRequest("unknown slow mode"));
    }
    let mut work = app.work().await?;
    let session = kept_session(&mut work, actor, room_id).await?;
    if session.slow_mode_seconds != seconds {
        db::cafe::set_slow_mode(work.exec(), session.id, seconds).await?;
        work.log(
            LogRecord::new(
                actor.id,
                Action::CafeSlowModeSet,
                TargetKind::CafeSession,
                session.id,
            )
            .because(seconds.to_string()),
        )
        .await?;
        work.announce(Event::CafeSession { room_id });
    }
    work.commit().await?;
    Ok(())
}

/// Pauses the room (only keepers write) or lets everyone write again.
pub async fn set_paused(
    app: &AppState,
    actor: &SessionUser,
    room_id: i64,
    paused: bool,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let session = kept_session(&mut work, actor, room_id).await?;
    if session.paused_at.is_some() != paused {
        let now = work.now();
        db::cafe::set_paused(work.exec(), session.id, paused.then_some(now)).await?;
        let action = if paused {
            Action::CafePaused
        } else {
            Action::CafeResumed
        };
        work.log(LogRecord::new(
            actor.id,
            action,
            TargetKind::CafeSession,
            session.id,
        ))
        .await?;
        work.announce(Event::CafeSession { room_id });
    }
    work.commit().await?;
    Ok(())
}

/// Whether the member shows in rooms' presence lists (from their next visit to a room).
pub async fn set_invisible(app: &AppState, user: &SessionUser, invisible: bool) -> AppResult<()> {
    let mut work = app.work().await?;
    db::cafe::set_invisible(work.exec(), user.id, invisible).await?;
    work.announce(Event::MemberChanged { user_id: user.id });
    work.commit().await?;
    Ok(())
}
