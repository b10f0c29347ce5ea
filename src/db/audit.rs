//! Queries on `audit_log`, the typed log (see `domain::log`). Rows are only ever added.

use super::Exec;
use crate::domain::log::LogRecord;
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
