//! Members as staff see them (`/mod/members/{id}`): the account, its silence and suspension, and
//! every recent post whatever its status. Only staff pages read through here.

use sqlx::FromRow;

use super::Exec;
use crate::domain::role::{Relation, Role};
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct StaffMember {
    pub id: i64,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(try_from = "String")]
    pub relation: Relation,
    pub status: String,
    pub created_at: i64,
    pub silenced_until: Option<i64>,
    pub silence_reason: String,
    pub suspended_until: Option<i64>,
    pub suspend_reason: String,
}

pub async fn for_staff(exec: Exec<'_>, id: i64) -> Result<Option<StaffMember>, sqlx::Error> {
    let sql = "SELECT id, display_name, role, relation, status, created_at, silenced_until, \
               silence_reason, suspended_until, suspend_reason FROM users WHERE id = $1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Silences a member until `until` with the reason they are shown; `None` lifts it.
pub async fn set_silence(
    exec: Exec<'_>,
    id: i64,
    until: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql =
        "UPDATE users SET silenced_until = $1, silence_reason = $2, updated_at = $3 WHERE id = $4";
    set_until(exec, sql, id, until, reason, now).await
}

/// Suspends a member until `until`, moving the auth version on so that every session they hold
/// ends at once; `None` lifts it (they log in again themselves).
pub async fn set_suspension(
    exec: Exec<'_>,
    id: i64,
    until: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET suspended_until = $1, suspend_reason = $2, updated_at = $3, \
               auth_version = auth_version + CASE WHEN $1 IS NULL THEN 0 ELSE 1 END WHERE id = $4";
    set_until(exec, sql, id, until, reason, now).await
}

/// Runs `sql`, which sets an end (`$1`), a reason (`$2`) and the change time (`$3`) on member `$4`.
async fn set_until(
    exec: Exec<'_>,
    sql: &str,
    id: i64,
    until: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(sql)
        .bind(until)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A post of the member's, whatever its status or category.
#[derive(Debug, Clone, FromRow)]
pub struct AnyPost {
    pub post_id: i64,
    pub topic_title: String,
    pub body_markdown: String,
    pub status: String,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

pub async fn recent_posts(
    exec: Exec<'_>,
    author_id: i64,
    limit: i64,
) -> Result<Vec<AnyPost>, sqlx::Error> {
    let sql = "SELECT p.id AS post_id, t.title AS topic_title, p.body_markdown, p.status, \
               p.created_at, p.deleted_at \
               FROM posts p JOIN topics t ON t.id = p.topic_id \
               WHERE p.author_id = $1 ORDER BY p.id DESC LIMIT $2";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(author_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}
