//! Queries on `users`.

use sqlx::FromRow;

use super::Exec;
use crate::domain::account::DisplayName;
use crate::domain::role::{Relation, Role};
use crate::on;

/// What every request needs to know about the member behind a session.
#[derive(Debug, Clone, FromRow)]
pub struct SessionUser {
    pub id: i64,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(try_from = "String")]
    pub relation: Relation,
    pub status: String,
    pub locale: String,
    pub text_size: String,
    pub auth_version: i64,
    /// Reads but may not write until then (Unix seconds), with the moderator's reason.
    pub silenced_until: Option<i64>,
    pub silence_reason: String,
    /// Unread notices in the member's list (see [`super::notify::UNREAD_COLUMN`]), for the header.
    pub unread_notices: i64,
}

impl SessionUser {
    /// The end of a silence in force at `now`.
    pub fn silenced_at(&self, now: i64) -> Option<i64> {
        self.silenced_until.filter(|until| *until > now)
    }
}

#[cfg(test)]
impl SessionUser {
    /// An active member with this id and role, for unit tests.
    pub fn for_test(id: i64, role: Role) -> SessionUser {
        SessionUser {
            id,
            display_name: format!("member {id}"),
            role,
            relation: Relation::Patient,
            status: "active".into(),
            locale: "ja".into(),
            text_size: "normal".into(),
            auth_version: 1,
            silenced_until: None,
            silence_reason: String::new(),
            unread_notices: 0,
        }
    }
}

/// What a login needs.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    pub id: i64,
    pub password_hash: String,
    pub status: String,
    pub locale: String,
    pub auth_version: i64,
    /// Login is refused until then (Unix seconds), with the moderator's reason.
    pub suspended_until: Option<i64>,
    pub suspend_reason: String,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a DisplayName,
    pub password_hash: &'a str,
    pub role: Role,
    pub relation: Relation,
    pub locale: &'a str,
    pub invited_by: Option<i64>,
    pub now: i64,
}

/// The session user, with the unread count the header shows: one query, on the connection the
/// page already holds, and cached with the member on SQLite (see `auth::user_cache`).
fn session_user_sql() -> String {
    format!(
        "SELECT id, display_name, role, relation, status, locale, text_size, auth_version, \
         silenced_until, silence_reason, {} FROM users",
        super::notify::UNREAD_COLUMN
    )
}
const CREDENTIALS: &str = "SELECT id, password_hash, status, locale, auth_version, \
     suspended_until, suspend_reason FROM users";

pub async fn insert(exec: Exec<'_>, user: &NewUser<'_>) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO users (email, display_name, display_name_key, display_name_skeleton, \
               password_hash, role, relation, locale, invited_by, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(user.email)
        .bind(&user.display_name.name)
        .bind(&user.display_name.key)
        .bind(&user.display_name.skeleton)
        .bind(user.password_hash)
        .bind(user.role.as_str())
        .bind(user.relation.as_str())
        .bind(user.locale)
        .bind(user.invited_by)
        .bind(user.now)
        .fetch_one(c)
        .await)
}

pub async fn session_user(exec: Exec<'_>, id: i64) -> Result<Option<SessionUser>, sqlx::Error> {
    let sql = format!("{} WHERE id = $1", session_user_sql());
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn credentials_by_email(
    exec: Exec<'_>,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let sql = format!("{CREDENTIALS} WHERE email = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(c)
        .await)
}

pub async fn credentials_by_id(
    exec: Exec<'_>,
    id: i64,
) -> Result<Option<Credentials>, sqlx::Error> {
    let sql = format!("{CREDENTIALS} WHERE id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn email_of(exec: Exec<'_>, id: i64) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT email FROM users WHERE id = $1";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn email_exists(exec: Exec<'_>, email: &str) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM users WHERE email = $1";
    let n: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(email)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

/// Whether a member other than `except` has a name with this key or this skeleton.
pub async fn display_name_taken(
    exec: Exec<'_>,
    key: &str,
    skeleton: &str,
    except: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM users \
               WHERE (display_name_key = $1 OR display_name_skeleton = $2) AND ($3 IS NULL OR id <> $3)";
    let n: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(key)
        .bind(skeleton)
        .bind(except)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

/// Members whose name has no skeleton yet (those who joined before it was kept): (id, name).
pub async fn without_skeleton(exec: Exec<'_>) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = "SELECT id, display_name FROM users WHERE display_name_skeleton IS NULL ORDER BY id";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}

pub async fn skeleton_taken(exec: Exec<'_>, skeleton: &str) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM users WHERE display_name_skeleton = $1";
    let n: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(skeleton)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

/// Fills in a member's skeleton if it is still missing.
pub async fn set_skeleton(exec: Exec<'_>, id: i64, skeleton: &str) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET display_name_skeleton = $1 WHERE id = $2 AND display_name_skeleton IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(skeleton)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn count_coordinators(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM users WHERE role = 'coordinator' AND status = 'active'";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_one(c).await)
}

/// Sets a new password hash and moves the account's auth version on, which ends every session
/// that carries the old version. Returns the new version.
pub async fn set_password(
    exec: Exec<'_>,
    id: i64,
    hash: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "UPDATE users SET password_hash = $1, auth_version = auth_version + 1, updated_at = $2 \
               WHERE id = $3 RETURNING auth_version";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(hash)
        .bind(now)
        .bind(id)
        .fetch_one(c)
        .await)
}

pub async fn set_email(exec: Exec<'_>, id: i64, email: &str, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3";
    on!(exec, |c| sqlx::query(sql)
        .bind(email)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_display_name(
    exec: Exec<'_>,
    id: i64,
    name: &DisplayName,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET display_name = $1, display_name_key = $2, display_name_skeleton = $3, \
               updated_at = $4 WHERE id = $5";
    on!(exec, |c| sqlx::query(sql)
        .bind(&name.name)
        .bind(&name.key)
        .bind(&name.skeleton)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_preferences(
    exec: Exec<'_>,
    id: i64,
    locale: &str,
    text_size: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET locale = $1, text_size = $2, updated_at = $3 WHERE id = $4";
    on!(exec, |c| sqlx::query(sql)
        .bind(locale)
        .bind(text_size)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Active members whose display-name keys are among `keys`: (key, id, display name).
pub async fn by_name_keys(
    exec: Exec<'_>,
    keys: &[String],
) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=keys.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT display_name_key, id, display_name FROM users WHERE status = 'active' AND display_name_key IN ({placeholders})"
    );
    on!(exec, |c| {
        let mut query = sqlx::query_as(&sql);
        for key in keys {
            query = query.bind(key);
        }
        query.fetch_all(c).await
    })
}

/// Up to `limit` display names of active members whose key starts with `prefix` (a name key),
/// for someone typing a mention: not `reader` themself, nor anyone either of them blocks.
pub async fn names_starting(
    exec: Exec<'_>,
    reader: i64,
    prefix: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let sql = "SELECT u.display_name FROM users u WHERE u.status = 'active' AND u.id <> $2 \
               AND u.display_name_key LIKE $1 ESCAPE '\\' \
               AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE (b.blocker_id = $2 AND b.blocked_id = u.id) \
                 OR (b.blocker_id = u.id AND b.blocked_id = $2)) \
               ORDER BY u.display_name_key LIMIT $3";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(&pattern)
        .bind(reader)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// A member as other members see them: name, role, relation, since when.
#[derive(Debug, Clone, FromRow)]
pub struct PublicProfile {
    pub id: i64,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub created_at: i64,
}

pub async fn public_profile(exec: Exec<'_>, id: i64) -> Result<Option<PublicProfile>, sqlx::Error> {
    let sql =
        "SELECT id, display_name, role, created_at FROM users WHERE id = $1 AND status = 'active'";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}
