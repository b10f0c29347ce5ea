//! Queries on `outbox`. Claiming differs by dialect: PostgreSQL skips rows another instance holds
//! (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time, so a plain update claims.

use sqlx::FromRow;

use super::Exec;
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct OutgoingMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// The one-click unsubscribe link of a mail about new posts (RFC 8058).
    pub list_unsubscribe: Option<String>,
    pub attempts: i64,
}

pub async fn enqueue(
    exec: Exec<'_>,
    recipient: &str,
    subject: &str,
    body_text: &str,
    body_html: &str,
    list_unsubscribe: Option<&str>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO outbox (recipient, subject, body_text, body_html, list_unsubscribe, created_at, next_attempt_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(recipient)
        .bind(subject)
        .bind(body_text)
        .bind(body_html)
        .bind(list_unsubscribe)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Claims up to `limit` due mails until `lease_until`; a crashed sender's lease runs out and the
/// mail is claimed again.
pub async fn claim_due(
    exec: Exec<'_>,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<OutgoingMail>, sqlx::Error> {
    const COLUMNS: &str =
        "id, recipient, subject, body_text, body_html, list_unsubscribe, attempts";
    match exec {
        Exec::Postgres(c) => {
            let sql = format!(
                "UPDATE outbox SET locked_until = $1 WHERE id IN (\
                   SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
                   AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                   ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}"
            );
            sqlx::query_as(&sql)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(c)
                .await
        }
        Exec::Sqlite(c) => {
            let sql = format!(
                "UPDATE outbox SET locked_until = $1 WHERE id IN (\
                   SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
                   AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                   ORDER BY id LIMIT $3) RETURNING {COLUMNS}"
            );
            sqlx::query_as(&sql)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(c)
                .await
        }
    }
}

pub async fn mark_sent(exec: Exec<'_>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE outbox SET sent_at = $1, locked_until = NULL, attempts = attempts + 1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn mark_retry(
    exec: Exec<'_>,
    id: i64,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3";
    on!(exec, |c| sqlx::query(sql)
        .bind(next_attempt_at)
        .bind(error)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A permanent refusal (the server said the address does not exist): kept, never retried.
pub async fn mark_failed(
    exec: Exec<'_>,
    id: i64,
    now: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE outbox SET attempts = attempts + 1, failed_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(error)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Frees every claim. Only for a single instance at start-up (SQLite): no other sender can be
/// holding one, so mail a killed process had claimed goes out now rather than when the lease ends.
pub async fn release_claims(exec: Exec<'_>) -> Result<u64, sqlx::Error> {
    let sql =
        "UPDATE outbox SET locked_until = NULL WHERE locked_until IS NOT NULL AND sent_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// Mails neither sent nor given up, for `/metrics` and for the shutdown flush.
pub async fn pending_count(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_one(c).await)
}
