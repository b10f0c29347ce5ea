//! Queries for the café's schedule: rooms as coordinators manage them, sessions and series as
//! they are scheduled, edited and cancelled, the sessions members see ([`super::cafe::ROOM_OPEN`])
//! and the e-mail reminders they ask for.

use sqlx::FromRow;

use super::Exec;
use super::cafe::ROOM_OPEN;
use super::forums::{CategoryTexts, Viewer, category_text};
use crate::on;

// Rooms, as coordinators manage them.

#[derive(Debug, Clone, FromRow)]
pub struct ManagedRoom {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub name_en: Option<String>,
    pub description_en: Option<String>,
    pub position: i64,
    pub min_role_rank: i64,
    pub only_relation: Option<String>,
    /// `read_only` or `closed`.
    pub outside_sessions: String,
    pub archived_at: Option<i64>,
    /// Sessions still to come (not cancelled).
    pub upcoming: i64,
}

const MANAGED_ROOM: &str = "SELECT r.id, r.name, r.description, r.name_en, r.description_en, \
    r.position, r.min_role_rank, r.only_relation, r.outside_sessions, r.archived_at, \
    (SELECT COUNT(*) FROM cafe_sessions s WHERE s.room_id = r.id AND s.cancelled_at IS NULL \
     AND s.ends_at > $1) AS upcoming \
    FROM cafe_rooms r";

/// Every room, archived ones included, in their order; `now` decides what is still to come.
pub async fn managed_rooms(exec: Exec<'_>, now: i64) -> Result<Vec<ManagedRoom>, sqlx::Error> {
    let sql = format!("{MANAGED_ROOM} ORDER BY r.position, r.id");
    on!(exec, |c| sqlx::query_as(&sql).bind(now).fetch_all(c).await)
}

pub async fn managed_room(
    exec: Exec<'_>,
    id: i64,
    now: i64,
) -> Result<Option<ManagedRoom>, sqlx::Error> {
    let sql = format!("{MANAGED_ROOM} WHERE r.id = $2");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(now)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Takes the write lock on every room row (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds
/// the database), so two coordinators reordering at once do not interleave.
pub async fn lock_rooms(exec: Exec<'_>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_rooms SET position = position";
    on!(exec, |c| sqlx::query(sql).execute(c).await.map(|_| ()))
}

/// Who may enter a room, and what it is outside its sessions.
#[derive(Debug, Clone, Copy)]
pub struct RoomRules<'a> {
    pub min_role_rank: i64,
    pub only_relation: Option<&'a str>,
    pub outside_sessions: &'a str,
}

/// A new room, placed last.
pub async fn insert_room(
    exec: Exec<'_>,
    texts: CategoryTexts<'_>,
    rules: RoomRules<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO cafe_rooms (name, description, name_en, description_en, position, \
               min_role_rank, only_relation, outside_sessions, created_at) \
               SELECT $1, $2, $3, $4, COALESCE(MAX(position), 0) + 1, $5, $6, $7, $8 \
               FROM cafe_rooms RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(texts.name)
        .bind(texts.description)
        .bind(texts.name_en)
        .bind(texts.description_en)
        .bind(rules.min_role_rank)
        .bind(rules.only_relation)
        .bind(rules.outside_sessions)
        .bind(now)
        .fetch_one(c)
        .await)
}

pub async fn update_room(
    exec: Exec<'_>,
    id: i64,
    texts: CategoryTexts<'_>,
    rules: RoomRules<'_>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE cafe_rooms SET name = $1, description = $2, name_en = $3, \
               description_en = $4, min_role_rank = $5, only_relation = $6, \
               outside_sessions = $7 WHERE id = $8";
    on!(exec, |c| sqlx::query(sql)
        .bind(texts.name)
        .bind(texts.description)
        .bind(texts.name_en)
        .bind(texts.description_en)
        .bind(rules.min_role_rank)
        .bind(rules.only_relation)
        .bind(rules.outside_sessions)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn set_room_position(exec: Exec<'_>, id: i64, position: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_rooms SET position = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(position)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Archives a room (`Some(now)`) or restores it (`None`); its messages and sessions are kept.
pub async fn set_room_archived(
    exec: Exec<'_>,
    id: i64,
    at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_rooms SET archived_at = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

// Sessions, as coordinators schedule them.

#[derive(Debug, Clone, FromRow)]
pub struct ManagedSession {
    pub id: i64,
    pub room_id: i64,
    pub series_id: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub theme: String,
    pub facilitator_id: Option<i64>,
    pub facilitator_name: Option<String>,
    pub cancelled_at: Option<i64>,
    /// The series' rule, when the session belongs to one.
    pub rule: Option<String>,
    /// Members who asked to be reminded.
    pub reminders: i64,
}

const MANAGED_SESSION: &str = "SELECT s.id, s.room_id, s.series_id, s.starts_at, s.ends_at, \
    s.theme, s.facilitator_id, f.display_name AS facilitator_name, s.cancelled_at, \
    se.rule AS rule, \
    (SELECT COUNT(*) FROM cafe_reminders rm WHERE rm.session_id = s.id) AS reminders \
    FROM cafe_sessions s LEFT JOIN users f ON f.id = s.facilitator_id \
    LEFT JOIN cafe_series se ON se.id = s.series_id";

/// The room's sessions that end after `since`, in order, at most `limit`.
pub async fn room_sessions(
    exec: Exec<'_>,
    room_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<ManagedSession>, sqlx::Error> {
    let sql = format!(
        "{MANAGED_SESSION} WHERE s.room_id = $1 AND s.ends_at > $2 \
         ORDER BY s.starts_at, s.id LIMIT $3"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(room_id)
        .bind(since)
        .bind(limit)
        .fetch_all(c)
        .await)
}

pub async fn managed_session(
    exec: Exec<'_>,
    id: i64,
) -> Result<Option<ManagedSession>, sqlx::Error> {
    let sql = format!("{MANAGED_SESSION} WHERE s.id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn insert_series(
    exec: Exec<'_>,
    room_id: i64,
    rule: &str,
    by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO cafe_series (room_id, rule, created_by, created_at) \
               VALUES ($1, $2, $3, $4) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(room_id)
        .bind(rule)
        .bind(by)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// What a session is: when, about what, and who keeps the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPlan {
    pub starts_at: i64,
    pub ends_at: i64,
    pub theme: String,
    pub facilitator_id: Option<i64>,
}

pub async fn insert_session(
    exec: Exec<'_>,
    room_id: i64,
    series_id: Option<i64>,
    plan: &SessionPlan,
    by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO cafe_sessions (room_id, series_id, starts_at, ends_at, theme, \
               facilitator_id, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(room_id)
        .bind(series_id)
        .bind(plan.starts_at)
        .bind(plan.ends_at)
        .bind(&plan.theme)
        .bind(plan.facilitator_id)
        .bind(by)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Changes a session that is not cancelled; false when there is none.
pub async fn update_session(
    exec: Exec<'_>,
    id: i64,
    plan: &SessionPlan,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE cafe_sessions SET starts_at = $1, ends_at = $2, theme = $3, \
               facilitator_id = $4 WHERE id = $5 AND cancelled_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(plan.starts_at)
        .bind(plan.ends_at)
        .bind(&plan.theme)
        .bind(plan.facilitator_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Cancels one session; false when it already was.
pub async fn cancel_session(exec: Exec<'_>, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE cafe_sessions SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Cancels the sessions of a series that start at `from` or later; how many.
pub async fn cancel_series_from(
    exec: Exec<'_>,
    series_id: i64,
    from: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let sql = "UPDATE cafe_sessions SET cancelled_at = $1 \
               WHERE series_id = $2 AND starts_at >= $3 AND cancelled_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(series_id)
        .bind(from)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

// Sessions, as members see them.

/// A session of a room open to the reader, with whether they asked to be reminded.
#[derive(Debug, Clone, FromRow)]
pub struct OpenSession {
    pub id: i64,
    pub room_id: i64,
    pub room_name: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub theme: String,
    pub facilitator_name: Option<String>,
    pub reminded: bool,
}

fn open_session_columns(viewer: Viewer) -> String {
    format!(
        "s.id, s.room_id, {room} AS room_name, s.starts_at, s.ends_at, s.theme, \
         f.display_name AS facilitator_name, \
         EXISTS (SELECT 1 FROM cafe_reminders rm WHERE rm.session_id = s.id \
           AND rm.user_id = $4) AS reminded \
         FROM cafe_sessions s JOIN cafe_rooms r ON r.id = s.room_id \
         LEFT JOIN users f ON f.id = s.facilitator_id",
        room = category_text("r.name", viewer.locale),
    )
}

/// The sessions not cancelled, in rooms open to `viewer`, that end after `now` and start before
/// `until`, in order (at most `limit`).
pub async fn open_sessions(
    exec: Exec<'_>,
    viewer: Viewer,
    now: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<OpenSession>, sqlx::Error> {
    let sql = format!(
        "SELECT {} WHERE {ROOM_OPEN} AND s.cancelled_at IS NULL AND s.ends_at > $5 \
         AND s.starts_at < $6 ORDER BY s.starts_at, s.id LIMIT $7",
        open_session_columns(viewer)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(viewer.id)
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// A session not cancelled, in a room open to `viewer`.
pub async fn open_session(
    exec: Exec<'_>,
    viewer: Viewer,
    id: i64,
) -> Result<Option<OpenSession>, sqlx::Error> {
    let sql = format!(
        "SELECT {} WHERE {ROOM_OPEN} AND s.cancelled_at IS NULL AND s.id = $5",
        open_session_columns(viewer)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(viewer.id)
        .bind(id)
        .fetch_optional(c)
        .await)
}

// Reminders.

/// Asks for a reminder; false when one was asked for already.
pub async fn add_reminder(
    exec: Exec<'_>,
    session_id: i64,
    user_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO cafe_reminders (session_id, user_id, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT DO NOTHING";
    on!(exec, |c| sqlx::query(sql)
        .bind(session_id)
        .bind(user_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn remove_reminder(
    exec: Exec<'_>,
    session_id: i64,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM cafe_reminders WHERE session_id = $1 AND user_id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(session_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// A reminder to send: the session starts after `now` and no later than the window's end.
#[derive(Debug, Clone, FromRow)]
pub struct DueReminder {
    pub session_id: i64,
    pub user_id: i64,
    pub room_id: i64,
}

/// Unsent reminders of sessions not cancelled that start in `(now, until]`, at most `limit`.
pub async fn due_reminders(
    exec: Exec<'_>,
    now: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<DueReminder>, sqlx::Error> {
    let sql = "SELECT rm.session_id, rm.user_id, s.room_id FROM cafe_reminders rm \
               JOIN cafe_sessions s ON s.id = rm.session_id \
               WHERE rm.sent_at IS NULL AND s.cancelled_at IS NULL \
               AND s.starts_at > $1 AND s.starts_at <= $2 \
               ORDER BY s.starts_at, rm.session_id, rm.user_id LIMIT $3";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Marks a reminder sent; false when it was already (another instance sent it) or is gone.
pub async fn mark_reminder_sent(
    exec: Exec<'_>,
    session_id: i64,
    user_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE cafe_reminders SET sent_at = $1 \
               WHERE session_id = $2 AND user_id = $3 AND sent_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(session_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Whether a member may be mailed now: active and not suspended at `now`.
pub async fn may_be_mailed(exec: Exec<'_>, user_id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM users WHERE id = $1 AND status = 'active' \
               AND (suspended_until IS NULL OR suspended_until <= $2)";
    let count: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .bind(now)
        .fetch_one(c)
        .await)?;
    Ok(count > 0)
}

/// A session moved: its reminders are sent again before the new time.
pub async fn reset_reminders(exec: Exec<'_>, session_id: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE cafe_reminders SET sent_at = NULL WHERE session_id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(session_id)
        .execute(c)
        .await
        .map(|_| ()))
}
