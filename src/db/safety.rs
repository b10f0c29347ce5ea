//! Queries on watched words, crisis words and alerts.

use super::Exec;
use crate::on;

pub async fn watched_words(exec: Exec<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = "SELECT word, action FROM watched_words ORDER BY id";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}

pub async fn crisis_words(exec: Exec<'_>) -> Result<Vec<String>, sqlx::Error> {
    let sql = "SELECT word FROM crisis_words ORDER BY id";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_all(c).await)
}

pub async fn insert_alert(
    exec: Exec<'_>,
    cause: &str,
    target_kind: &str,
    target_id: i64,
    member: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO alerts (cause, target_kind, target_id, subject_user_id, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    on!(exec, |c| sqlx::query(sql)
        .bind(cause)
        .bind(target_kind)
        .bind(target_id)
        .bind(member)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}
