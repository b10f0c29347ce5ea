//! Queries on `reports`: members' reports on content, one open report per member per item (a
//! partial unique index), grouped by item for the queue, and resolved together.

use sqlx::FromRow;

use super::Exec;
use crate::domain::log::TargetKind;
use crate::domain::report::{ReportReason, Resolution};
use crate::on;

/// A report as a member makes it.
pub struct NewReport<'a> {
    pub reporter_id: i64,
    pub target_kind: TargetKind,
    pub target_id: i64,
    /// The member the item is by.
    pub subject_user_id: i64,
    pub reason: ReportReason,
    pub note: &'a str,
}

/// Stores a report; false when the member's report on the item is still open (nothing changes).
pub async fn insert(exec: Exec<'_>, report: &NewReport<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO reports \
               (reporter_id, target_kind, target_id, subject_user_id, reason, note, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) \
               ON CONFLICT (reporter_id, target_kind, target_id) WHERE resolved_at IS NULL \
               DO NOTHING";
    on!(exec, |c| sqlx::query(sql)
        .bind(report.reporter_id)
        .bind(report.target_kind.as_str())
        .bind(report.target_id)
        .bind(report.subject_user_id)
        .bind(report.reason.as_str())
        .bind(report.note)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// An open report on a post, with who made it.
#[derive(Debug, Clone, FromRow)]
pub struct OpenReport {
    pub target_id: i64,
    pub reporter_name: String,
    #[sqlx(try_from = "String")]
    pub reason: ReportReason,
    pub note: String,
    pub created_at: i64,
}

/// Open reports on posts still there (not deleted), oldest first: the queue groups them by post.
pub async fn open_on_posts(exec: Exec<'_>, limit: i64) -> Result<Vec<OpenReport>, sqlx::Error> {
    let sql = "SELECT r.target_id, u.display_name AS reporter_name, r.reason, r.note, r.created_at \
               FROM reports r JOIN users u ON u.id = r.reporter_id \
               JOIN posts p ON p.id = r.target_id \
               WHERE r.target_kind = 'post' AND r.resolved_at IS NULL AND p.deleted_at IS NULL \
               ORDER BY r.id LIMIT $1";
    on!(exec, |c| sqlx::query_as(sql).bind(limit).fetch_all(c).await)
}

/// How many posts (not deleted) have open reports.
pub async fn open_items(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(DISTINCT r.target_id) FROM reports r JOIN posts p ON p.id = r.target_id \
               WHERE r.target_kind = 'post' AND r.resolved_at IS NULL AND p.deleted_at IS NULL";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_one(c).await)
}

/// What a moderator decided for every open report on an item.
pub struct Decision<'a> {
    pub target_kind: TargetKind,
    pub target_id: i64,
    pub by: i64,
    pub resolution: Resolution,
    pub note: &'a str,
}

/// Resolves every open report on the item; returns the reporters (none when nothing was open).
pub async fn resolve(
    exec: Exec<'_>,
    decision: &Decision<'_>,
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "UPDATE reports SET resolved_at = $1, resolved_by = $2, resolution = $3, \
               resolution_note = $4 \
               WHERE target_kind = $5 AND target_id = $6 AND resolved_at IS NULL \
               RETURNING reporter_id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(now)
        .bind(decision.by)
        .bind(decision.resolution.as_str())
        .bind(decision.note)
        .bind(decision.target_kind.as_str())
        .bind(decision.target_id)
        .fetch_all(c)
        .await)
}

/// Where to tell a reporter their report was handled: an active member's address, language
/// and name.
#[derive(Debug, Clone, FromRow)]
pub struct Reporter {
    pub email: String,
    pub locale: String,
    pub display_name: String,
}

pub async fn reporter(exec: Exec<'_>, id: i64) -> Result<Option<Reporter>, sqlx::Error> {
    let sql = "SELECT email, locale, display_name FROM users WHERE id = $1 AND status = 'active'";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// The open reports on one item of any kind, oldest first.
pub async fn open_on(
    exec: Exec<'_>,
    kind: TargetKind,
    id: i64,
) -> Result<Vec<OpenReport>, sqlx::Error> {
    let sql = "SELECT r.target_id, u.display_name AS reporter_name, r.reason, r.note, r.created_at \
               FROM reports r JOIN users u ON u.id = r.reporter_id \
               WHERE r.target_kind = $1 AND r.target_id = $2 AND r.resolved_at IS NULL \
               ORDER BY r.id";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(c)
        .await)
}
