//! Queries on café rooms, their sessions, messages, mutes and reminders.
//!
//! A room is open to a reader by [`ROOM_OPEN`], as a category is. A message is shown to a reader
//! by [`message_shown`] in every query that lists messages for a reader (the room's history, a
//! member's data); the live fan-out, which reads a change once for the whole room, applies the
//! same rule in memory (`cafe::hub`), from the columns of [`MessageRow`].

use sqlx::FromRow;

use super::Exec;
use super::forums::{Viewer, category_text};
use crate::on;

/// A room is open to the reader when it is not archived, their role is high enough and it is
/// open to their relation (staff see every relation's room). Binds $1 rank, $2 relation,
/// $3 staff (1 or 0), like the categories' rule.
pub const ROOM_OPEN: &str = "r.archived_at IS NULL AND r.min_role_rank <= $1 \
    AND (r.only_relation IS NULL OR r.only_relation = $2 OR $3 = 1)";

/// A message in a room's history for the reader (bound as `reader`; `$3` staff): published and
/// not by someone the reader blocks, or held and written by the reader, or the reader is staff
/// and it is held. Hidden and deleted messages are nobody's history.
pub fn message_shown(m: &str, reader: &str) -> String {
    format!(
        "(({m}.status = 'published' AND NOT EXISTS (SELECT 1 FROM user_blocks b \
         WHERE b.blocker_id = {reader} AND b.blocked_id = {m}.author_id)) \
         OR ({m}.status = 'held' AND ({m}.author_id = {reader} OR $3 = 1)))"
    )
}

fn staff(viewer: Viewer) -> i64 {
    i64::from(viewer.staff)
}

#[derive(Debug, Clone, FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// `read_only` or `closed`: what the room is outside its sessions.
    pub outside_sessions: String,
    pub last_seq: i64,
}

impl RoomRow {
    pub fn closed_outside_sessions(&self) -> bool {
        self.outside_sessions == "closed"
    }
}

fn room_columns(viewer: Viewer) -> String {
    format!(
        "r.id, {name} AS name, {description} AS description, r.outside_sessions, r.last_seq",
        name = category_text("r.name", viewer.locale),
        description = category_text("r.description", viewer.locale),
    )
}

/// The rooms open to `viewer`, in the coordinators' order.
pub async fn rooms(exec: Exec<'_>, viewer: Viewer) -> Result<Vec<RoomRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM cafe_rooms r WHERE {ROOM_OPEN} ORDER BY r.position, r.id",
        room_columns(viewer)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .fetch_all(c)
        .await)
}

/// The room, when it is open to `viewer`.
pub async fn room(exec: Exec<'_>, viewer: Viewer, id: i64) -> Result<Option<RoomRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM cafe_rooms r WHERE {ROOM_OPEN} AND r.id = $4",
        room_columns(viewer)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Takes the room's next change number. The update holds the room's row lock until the
/// transaction ends, so a room's changes commit in the order of their numbers (on SQLite there
/// is one writer anyway).
pub async fn next_seq(exec: Exec<'_>, room_id: i64) -> Result<i64, sqlx::Error> {
    let sql = "UPDATE cafe_rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(room_id)
        .fetch_one(c)
        .await)
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub room_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub theme: String,
    pub facilitator_id: Option<i64>,
    pub facilitator_name: Option<String>,
    pub slow_mode_seconds: i64,
    pub paused_at: Option<i64>,
}

const SESSION_COLUMNS: &str = "s.id, s.room_id, s.starts_at, s.ends_at, s.theme, \
    s.facilitator_id, f.display_name AS facilitator_name, s.slow_mode_seconds, s.paused_at";

/// The session running in the room at `now`, if any (the earliest, should two overlap).
pub async fn current_session(
    exec: Exec<'_>,
    room_id: i64,
    now: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM cafe_sessions s \
         LEFT JOIN users f ON f.id = s.facilitator_id \
         WHERE s.room_id = $1 AND s.cancelled_at IS NULL AND s.starts_at <= $2 AND s.ends_at > $2 \
         ORDER BY s.starts_at, s.id LIMIT 1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(room_id)
        .bind(now)
        .fetch_optional(c)
        .await)
}

/// The room's next session that has not started by `now`.
pub async fn next_session(
    exec: Exec<'_>,
    room_id: i64,
    now: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM cafe_sessions s \
         LEFT JOIN users f ON f.id = s.facilitator_id \
         WHERE s.room_id = $1 AND s.cancelled_at IS NULL AND s.starts_at > $2 \
         ORDER BY s.starts_at, s.id LIMIT 1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(room_id)
        .bind(now)
        .fetch_optional(c)
        .await)
}

/// Slow mode in seconds (0: off) for a session.
pub async fn set_slow_mode(
    exec: Exec<'_>,
    session_id: i64,
    seconds: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_sessions SET slow_mode_seconds = $2 WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(session_id)
        .bind(seconds)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Pauses the session from `at`, or resumes it (`None`).
pub async fn set_paused(
    exec: Exec<'_>,
    session_id: i64,
    at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_sessions SET paused_at = $2 WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(session_id)
        .bind(at)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Mutes `user_id` for the rest of the session; false when they already were.
pub async fn mute(
    exec: Exec<'_>,
    session_id: i64,
    user_id: i64,
    by: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO cafe_mutes (session_id, user_id, muted_by, created_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    on!(exec, |c| sqlx::query(sql)
        .bind(session_id)
        .bind(user_id)
        .bind(by)
        .bind(now)
        .execute(c)
        .await
        .map(|done| done.rows_affected() > 0))
}

pub async fn is_muted(exec: Exec<'_>, session_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM cafe_mutes WHERE session_id = $1 AND user_id = $2";
    let count: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(session_id)
        .bind(user_id)
        .fetch_one(c)
        .await)?;
    Ok(count > 0)
}

/// The members muted in a session.
pub async fn muted_in(exec: Exec<'_>, session_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT user_id FROM cafe_mutes WHERE session_id = $1 ORDER BY user_id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(session_id)
        .fetch_all(c)
        .await)
}

/// A message as it is written.
pub struct NewMessage<'a> {
    pub room_id: i64,
    pub session_id: Option<i64>,
    pub author_id: i64,
    pub body: &'a str,
    /// `published` or `held`.
    pub status: &'a str,
    pub status_reason: &'a str,
    pub flagged: bool,
    pub seq: i64,
}

pub async fn insert_message(
    exec: Exec<'_>,
    message: &NewMessage<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO cafe_messages (room_id, session_id, author_id, body, status, \
               status_reason, status_changed_at, flagged_at, seq, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 = 1 THEN $7 END, $9, $7) \
               RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(message.room_id)
        .bind(message.session_id)
        .bind(message.author_id)
        .bind(message.body)
        .bind(message.status)
        .bind(message.status_reason)
        .bind(now)
        .bind(i64::from(message.flagged))
        .bind(message.seq)
        .fetch_one(c)
        .await)
}

/// When the member last wrote in the room (for slow mode).
pub async fn last_message_at(
    exec: Exec<'_>,
    room_id: i64,
    author_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT MAX(created_at) FROM cafe_messages WHERE author_id = $1 AND room_id = $2";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(author_id)
        .bind(room_id)
        .fetch_one(c)
        .await)
}

/// A message with its author, as a room shows it and as the fan-out reads it.
#[derive(Debug, Clone, FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub room_id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_role: String,
    pub body: String,
    pub status: String,
    pub seq: i64,
    pub created_at: i64,
}

const MESSAGE_COLUMNS: &str = "m.id, m.room_id, m.author_id, u.display_name AS author_name, \
    u.role AS author_role, m.body, m.status, m.seq, m.created_at";

/// The last `limit` messages of the room the reader is shown, changed no later than change
/// `up_to` (what came after arrives live), oldest first.
pub async fn history(
    exec: Exec<'_>,
    viewer: Viewer,
    room_id: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = format!(
        "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM cafe_messages m \
         JOIN users u ON u.id = m.author_id \
         WHERE m.room_id = $1 AND m.seq <= $4 AND {shown} ORDER BY m.id DESC LIMIT $5) recent \
         ORDER BY id",
        shown = message_shown("m", "$2"),
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(room_id)
        .bind(viewer.id)
        .bind(staff(viewer))
        .bind(up_to)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// The room's changes after change `since`, in order, at most `limit` of them: every message
/// whatever its status, for the fan-out to filter per reader.
pub async fn changes_since(
    exec: Exec<'_>,
    room_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM cafe_messages m JOIN users u ON u.id = m.author_id \
         WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(room_id)
        .bind(since)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// The room's latest change number.
pub async fn last_seq(exec: Exec<'_>, room_id: i64) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT last_seq FROM cafe_rooms WHERE id = $1";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(room_id)
        .fetch_optional(c)
        .await)
}

/// A message as moderation acts on it.
#[derive(Debug, Clone, FromRow)]
pub struct MessageRef {
    pub id: i64,
    pub room_id: i64,
    pub session_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    pub status: String,
}

pub async fn message(exec: Exec<'_>, id: i64) -> Result<Option<MessageRef>, sqlx::Error> {
    let sql = "SELECT id, room_id, session_id, author_id, body, status FROM cafe_messages \
               WHERE id = $1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Changes a message's status as change `seq` of its room.
pub async fn set_message_status(
    exec: Exec<'_>,
    id: i64,
    status: &str,
    reason: &str,
    by: i64,
    seq: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_messages SET status = $2, status_reason = $3, status_changed_by = $4, \
               seq = $5, status_changed_at = $6 WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(by)
        .bind(seq)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// What the member chose for rooms' presence lists.
pub async fn invisible(exec: Exec<'_>, user_id: i64) -> Result<bool, sqlx::Error> {
    let sql = "SELECT cafe_invisible FROM users WHERE id = $1";
    let value: Option<i64> = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
    Ok(value.unwrap_or(0) != 0)
}

pub async fn set_invisible(
    exec: Exec<'_>,
    user_id: i64,
    invisible: bool,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET cafe_invisible = $2 WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(i64::from(invisible))
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn clear_flag(exec: Exec<'_>, id: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_messages SET flagged_at = NULL WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// A message as staff review it: with its room and author.
#[derive(Debug, Clone, FromRow)]
pub struct StaffMessageRow {
    pub id: i64,
    pub room_id: i64,
    pub room_name: String,
    pub author_id: i64,
    pub author_name: String,
    pub body: String,
    pub status: String,
    pub created_at: i64,
}

const STAFF_COLUMNS: &str = "m.id, m.room_id, r.name AS room_name, m.author_id, \
    u.display_name AS author_name, m.body, m.status, m.created_at";

/// Messages waiting for staff: held, or published and flagged by a watched word; oldest first.
pub async fn waiting_messages(
    exec: Exec<'_>,
    limit: i64,
) -> Result<Vec<StaffMessageRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {STAFF_COLUMNS} FROM cafe_messages m JOIN cafe_rooms r ON r.id = m.room_id \
         JOIN users u ON u.id = m.author_id \
         WHERE m.status = 'held' OR (m.status = 'published' AND m.flagged_at IS NOT NULL) \
         ORDER BY m.id LIMIT $1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// A reported message that is still shown, with one open report on it.
#[derive(Debug, Clone, FromRow)]
pub struct ReportedMessageRow {
    #[sqlx(flatten)]
    pub message: StaffMessageRow,
    pub reporter_name: String,
    #[sqlx(try_from = "String")]
    pub reason: crate::domain::report::ReportReason,
    pub note: String,
    pub reported_at: i64,
}

/// Open reports on messages still shown, oldest first: the staff page groups them by message.
pub async fn reported_messages(
    exec: Exec<'_>,
    limit: i64,
) -> Result<Vec<ReportedMessageRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {STAFF_COLUMNS}, ru.display_name AS reporter_name, rp.reason, rp.note, \
         rp.created_at AS reported_at \
         FROM reports rp JOIN cafe_messages m ON m.id = rp.target_id \
         JOIN cafe_rooms r ON r.id = m.room_id JOIN users u ON u.id = m.author_id \
         JOIN users ru ON ru.id = rp.reporter_id \
         WHERE rp.target_kind = 'cafe_message' AND rp.resolved_at IS NULL \
         AND m.status IN ('published', 'held') ORDER BY rp.id LIMIT $1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// What waits for staff in the café: held and flagged messages, and reported ones.
pub const WAITING_COUNT: &str = "(SELECT COUNT(*) FROM cafe_messages \
    WHERE status = 'held' OR (status = 'published' AND flagged_at IS NOT NULL)) \
    + (SELECT COUNT(DISTINCT rp.target_id) FROM reports rp \
    JOIN cafe_messages m ON m.id = rp.target_id \
    WHERE rp.target_kind = 'cafe_message' AND rp.resolved_at IS NULL \
    AND m.status IN ('published', 'held'))";

pub async fn waiting_count(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT {WAITING_COUNT}");
    on!(exec, |c| sqlx::query_scalar(&sql).fetch_one(c).await)
}

/// One message as staff look it up (from the log, an alert): whatever its status, and why.
#[derive(Debug, Clone, FromRow)]
pub struct StaffMessage {
    #[sqlx(flatten)]
    pub message: StaffMessageRow,
    pub status_reason: String,
    pub changed_by: Option<String>,
    pub status_changed_at: Option<i64>,
}

pub async fn staff_message(exec: Exec<'_>, id: i64) -> Result<Option<StaffMessage>, sqlx::Error> {
    let sql = format!(
        "SELECT {STAFF_COLUMNS}, m.status_reason, b.display_name AS changed_by, \
         m.status_changed_at FROM cafe_messages m JOIN cafe_rooms r ON r.id = m.room_id \
         JOIN users u ON u.id = m.author_id LEFT JOIN users b ON b.id = m.status_changed_by \
         WHERE m.id = $1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}
