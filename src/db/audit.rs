//! Queries on `audit_log`, the typed log (see `domain::log`). Rows are only ever added.

use sqlx::FromRow;

use super::Exec;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::on;

pub async fn record(exec: Exec<'_>, record: &LogRecord, now: i64) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO audit_log \
               (actor_id, action, target_kind, target_id, subject_user_id, reason, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on!(exec, |c| sqlx::query(sql)
        .bind(record.actor_id)
        .bind(record.action.as_str())
        .bind(record.target_kind.as_str())
        .bind(record.target_id)
        .bind(record.subject_user_id)
        .bind(&record.reason)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What the log page is narrowed to; `None` is any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub action: Option<Action>,
    pub target_kind: Option<TargetKind>,
    pub actor_id: Option<i64>,
    /// Rows about this member: the subject of the action, or the member acted on.
    pub member_id: Option<i64>,
}

const FILTERED: &str = "($1 IS NULL OR a.action = $1) AND ($2 IS NULL OR a.target_kind = $2) \
     AND ($3 IS NULL OR a.actor_id = $3) \
     AND ($4 IS NULL OR a.subject_user_id = $4 OR (a.target_kind = 'member' AND a.target_id = $4))";

/// One row as the log page shows it, with the names of the actor and of the member concerned.
#[derive(Debug, Clone, FromRow)]
pub struct LogRow {
    pub id: i64,
    pub created_at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub action: Action,
    pub target_kind: String,
    pub target_id: Option<i64>,
    pub subject_user_id: Option<i64>,
    pub subject_name: Option<String>,
    pub reason: String,
}

pub async fn count(exec: Exec<'_>, filter: &LogFilter) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM audit_log a WHERE {FILTERED}");
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(filter.action.map(Action::as_str))
        .bind(filter.target_kind.map(TargetKind::as_str))
        .bind(filter.actor_id)
        .bind(filter.member_id)
        .fetch_one(c)
        .await)
}

/// A page of the log, newest first.
pub async fn page(
    exec: Exec<'_>,
    filter: &LogFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<LogRow>, sqlx::Error> {
    let sql = format!(
        "SELECT a.id, a.created_at, a.actor_id, actor.display_name AS actor_name, a.action, \
         a.target_kind, a.target_id, a.subject_user_id, subject.display_name AS subject_name, a.reason \
         FROM audit_log a LEFT JOIN users actor ON actor.id = a.actor_id \
         LEFT JOIN users subject ON subject.id = a.subject_user_id \
         WHERE {FILTERED} ORDER BY a.id DESC LIMIT $5 OFFSET $6"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(filter.action.map(Action::as_str))
        .bind(filter.target_kind.map(TargetKind::as_str))
        .bind(filter.actor_id)
        .bind(filter.member_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

/// Everyone who has acted in the log: (id, display name), by name.
pub async fn actors(exec: Exec<'_>) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = "SELECT u.id, u.display_name FROM users u \
               WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.actor_id = u.id) \
               ORDER BY u.display_name, u.id";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}
