//! Queries on `user_tokens`: single-use tokens for password resets and e-mail changes.

use sqlx::FromRow;

use super::Exec;
use crate::on;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    EmailChange,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::EmailChange => "email_change",
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct UserToken {
    pub id: i64,
    pub user_id: i64,
    pub new_email: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert(
    exec: Exec<'_>,
    user_id: i64,
    purpose: Purpose,
    token_hash: &str,
    new_email: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO user_tokens (user_id, purpose, token_hash, new_email, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(token_hash)
        .bind(new_email)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find(
    exec: Exec<'_>,
    purpose: Purpose,
    token_hash: &str,
) -> Result<Option<UserToken>, sqlx::Error> {
    let sql = "SELECT id, user_id, new_email, expires_at, used_at FROM user_tokens WHERE purpose = $1 AND token_hash = $2";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(purpose.as_str())
        .bind(token_hash)
        .fetch_optional(c)
        .await)
}

/// Uses a token once; false when it was already used.
pub async fn mark_used(exec: Exec<'_>, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE user_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL";
    let done = on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Retires every unused token of one purpose for a member (a new request replaces older links).
pub async fn retire_all(
    exec: Exec<'_>,
    user_id: i64,
    purpose: Purpose,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
