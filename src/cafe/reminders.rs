//! E-mail reminders of café sessions: a background task wakes every minute and, for each
//! reminder not yet sent of a session starting within [`WINDOW_SECONDS`], gives the member a
//! café notice (mailed as their preferences say, see [`crate::notify`]) and marks the reminder
//! sent, in one unit of work. The session must still be on (not
//! cancelled) and the member must still be able to enter its room (role and relation, active,
//! not suspended) at that moment; otherwise no mail goes, and the reminder stays unsent.

use std::time::Duration;

use tokio::sync::watch;

use crate::AppState;
use crate::db;
use crate::error::AppError;
use crate::forums::viewer;
use crate::notify::{self, Notice};

/// How long before a session its reminders go out.
pub const WINDOW_SECONDS: i64 = 30 * 60;
/// How often the task looks.
const TICK: Duration = Duration::from_secs(60);
/// Reminders handled in one look (the rest wait for the next).
const BATCH: i64 = 500;

/// Runs until shutdown.
pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => return,
        }
        match send_due(&app).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "café reminders written"),
            Err(e) => tracing::error!(error = %e, "café reminders"),
        }
    }
}

/// Writes the reminders due now; returns how many mails were written.
pub async fn send_due(app: &AppState) -> Result<usize, AppError> {
    let now = db::now();
    let due = {
        let mut conn = app.db.conn().await?;
        db::cafe_schedule::due_reminders(conn.exec(), now, now + WINDOW_SECONDS, BATCH).await?
    };
    let mut sent = 0;
    for reminder in due {
        let mut work = app.work().await?;
        let now = work.now();
        let user_id = reminder.user_id;
        if !db::cafe_schedule::may_be_mailed(work.exec(), user_id, now).await? {
            continue;
        }
        let Some(user) = db::users::session_user(work.exec(), user_id).await? else {
            continue;
        };
        // Read as the member: the session is there only while it is on and its room open to them.
        let Some(session) =
            db::cafe_schedule::open_session(work.exec(), viewer(&user), reminder.session_id)
                .await?
        else {
            continue;
        };
        // Claimed here: another instance that got to it first leaves nothing to send.
        if !db::cafe_schedule::mark_reminder_sent(work.exec(), session.id, user_id, now).await? {
            continue;
        }
        // The member's preference decides: at once (the mail is written now), in the digest,
        // after their quiet hours, or not at all; checked again when a waiting mail is written.
        notify::member(
            &mut work,
            user_id,
            Notice::cafe(session.id, &session.room_name),
        )
        .await?;
        work.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
