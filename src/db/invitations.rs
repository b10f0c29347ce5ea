//! Queries on `invitations`.

use sqlx::FromRow;

use super::Exec;
use crate::domain::role::{Relation, Role};
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(try_from = "String")]
    pub relation: Relation,
    pub locale: String,
    pub invited_by: Option<i64>,
    pub inviter_name: Option<String>,
    pub created_at: i64,
    pub sent_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub accepted_name: Option<String>,
    pub revoked_at: Option<i64>,
}

pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: Role,
    pub relation: Relation,
    pub locale: &'a str,
    pub token_hash: &'a str,
    pub invited_by: Option<i64>,
    pub now: i64,
    pub expires_at: i64,
}

const SELECT: &str = "SELECT i.id, i.email, i.role, i.relation, i.locale, i.invited_by, \
    inviter.display_name AS inviter_name, i.created_at, i.sent_at, i.expires_at, i.accepted_at, \
    accepted.display_name AS accepted_name, i.revoked_at \
    FROM invitations i \
    LEFT JOIN users inviter ON inviter.id = i.invited_by \
    LEFT JOIN users accepted ON accepted.id = i.accepted_user_id";

pub async fn insert(exec: Exec<'_>, inv: &NewInvitation<'_>) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO invitations (email, role, relation, locale, token_hash, invited_by, \
               created_at, sent_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(inv.email)
        .bind(inv.role.as_str())
        .bind(inv.relation.as_str())
        .bind(inv.locale)
        .bind(inv.token_hash)
        .bind(inv.invited_by)
        .bind(inv.now)
        .bind(inv.expires_at)
        .fetch_one(c)
        .await)
}

/// The open (not accepted, not revoked) invitation for an address, expired or not.
pub async fn open_for_email(
    exec: Exec<'_>,
    email: &str,
) -> Result<Option<Invitation>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE i.email = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(c)
        .await)
}

pub async fn by_token_hash(exec: Exec<'_>, hash: &str) -> Result<Option<Invitation>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE i.token_hash = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(hash)
        .fetch_optional(c)
        .await)
}

pub async fn by_id(exec: Exec<'_>, id: i64) -> Result<Option<Invitation>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE i.id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Newest first, a page at a time.
pub async fn list(exec: Exec<'_>, limit: i64, offset: i64) -> Result<Vec<Invitation>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY i.created_at DESC, i.id DESC LIMIT $1 OFFSET $2");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

pub async fn count(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    on!(exec, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations"
    )
    .fetch_one(c)
    .await)
}

/// Marks an open invitation accepted; false when it was used, revoked or replaced meanwhile.
pub async fn mark_accepted(
    exec: Exec<'_>,
    id: i64,
    user_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE invitations SET accepted_at = $1, accepted_user_id = $2 \
               WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL";
    let done = on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(user_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn revoke(exec: Exec<'_>, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL";
    let done = on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// A resend replaces the token (the old link stops working) and starts the validity anew.
pub async fn renew(
    exec: Exec<'_>,
    id: i64,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE invitations SET token_hash = $1, sent_at = $2, expires_at = $3 \
               WHERE id = $4 AND accepted_at IS NULL AND revoked_at IS NULL";
    let done = on!(exec, |c| sqlx::query(sql)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
