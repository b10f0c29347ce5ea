//! What a café message may be, and who may read and write in a room when.

use crate::content::Refusal;
use crate::db;
use crate::db::Exec;
use crate::db::cafe::{RoomRow, SessionRow};
use crate::db::forums::Viewer;
use crate::db::users::SessionUser;
use crate::forums::rules::DraftProblem;

/// A café message is a few lines of conversation, not an essay.
pub const MAX_MESSAGE: usize = 1000;

/// A message: line endings normalised, trailing space trimmed, 1 to [`MAX_MESSAGE`] characters.
pub fn message(raw: &str) -> Result<String, DraftProblem> {
    crate::forums::rules::text_of(
        raw,
        MAX_MESSAGE,
        DraftProblem::MessageMissing,
        DraftProblem::MessageTooLong,
    )
}

/// A room open to the reader, and the session running in it now.
#[derive(Debug, Clone)]
pub struct RoomState {
    pub room: RoomRow,
    pub session: Option<SessionRow>,
}

impl RoomState {
    /// The room as `viewer` finds it at `now`; `None` when it is not open to them.
    pub async fn load(
        mut exec: Exec<'_>,
        viewer: Viewer,
        room_id: i64,
        now: i64,
    ) -> Result<Option<RoomState>, sqlx::Error> {
        let Some(room) = db::cafe::room(exec.again(), viewer, room_id).await? else {
            return Ok(None);
        };
        let session = db::cafe::current_session(exec, room_id, now).await?;
        Ok(Some(RoomState { room, session }))
    }

    /// Staff, and the facilitator of the session on now, keep the room: they remove messages,
    /// mute, slow and pause, and write when others may not.
    pub fn kept_by(&self, user: &SessionUser) -> bool {
        user.role.is_staff()
            || self
                .session
                .as_ref()
                .is_some_and(|s| s.facilitator_id == Some(user.id))
    }

    /// Whether the member sees the room's conversation: during a session, or outside one when
    /// the room stays readable, or when they keep it.
    pub fn readable_by(&self, user: &SessionUser) -> bool {
        self.session.is_some() || !self.room.closed_outside_sessions() || self.kept_by(user)
    }

    pub fn paused(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.paused_at.is_some())
    }

    pub fn slow_mode_seconds(&self) -> i64 {
        self.session.as_ref().map_or(0, |s| s.slow_mode_seconds)
    }
}

/// Whether `writer` may write in the room now: those who keep it always may; others during a
/// session that is not paused, unless muted in it, and not faster than slow mode allows.
pub async fn may_write(
    mut exec: Exec<'_>,
    room: &RoomState,
    writer: &SessionUser,
    now: i64,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    if room.kept_by(writer) {
        return Ok(Ok(()));
    }
    let Some(session) = &room.session else {
        return Ok(Err(Refusal::RoomClosed));
    };
    if session.paused_at.is_some() {
        return Ok(Err(Refusal::Paused));
    }
    if db::cafe::is_muted(exec.again(), session.id, writer.id).await? {
        return Ok(Err(Refusal::Muted));
    }
    if session.slow_mode_seconds > 0
        && let Some(last) = db::cafe::last_message_at(exec, room.room.id, writer.id).await?
    {
        let wait = last + session.slow_mode_seconds - now;
        if wait > 0 {
            return Ok(Err(Refusal::SlowMode { wait }));
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_one_to_a_thousand_characters() {
        assert_eq!(
            message("こんにちは\r\nよろしく  "),
            Ok("こんにちは\nよろしく".into())
        );
        assert_eq!(message(" \n\t"), Err(DraftProblem::MessageMissing));
        assert!(message(&"あ".repeat(MAX_MESSAGE)).is_ok());
        assert_eq!(
            message(&"あ".repeat(MAX_MESSAGE + 1)),
            Err(DraftProblem::MessageTooLong)
        );
    }
}
