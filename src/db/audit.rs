//! Queries on `audit_log`: coordinator access to personal data and account changes.

use super::Exec;
use crate::on;

pub async fn record(
    exec: Exec<'_>,
    actor_id: Option<i64>,
    action: &str,
    subject_user_id: Option<i64>,
    detail: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO audit_log (actor_id, action, subject_user_id, detail, created_at) VALUES ($1, $2, $3, $4, $5)";
    on!(exec, |c| sqlx::query(sql)
        .bind(actor_id)
        .bind(action)
        .bind(subject_user_id)
        .bind(detail)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
