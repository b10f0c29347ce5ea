//! Members as staff see them (`/mod/members/{id}`): the account, its silence and suspension, and
//! every recent post whatever its status. Only staff pages read through here.

use sqlx::FromRow;

use super::Exec;
use crate::domain::member::MemberState;
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

#[cfg(test)]
impl StaffMember {
    /// An active patient with this id and role, for unit tests.
    pub fn for_test(id: i64, role: Role) -> StaffMember {
        StaffMember {
            id,
            display_name: format!("member {id}"),
            role,
            relation: Relation::Patient,
            status: "active".into(),
            created_at: 0,
            silenced_until: None,
            silence_reason: String::new(),
            suspended_until: None,
            suspend_reason: String::new(),
        }
    }
}

/// A member as staff see them; `None` for a deleted account (a tombstone has no page to act on).
pub async fn for_staff(exec: Exec<'_>, id: i64) -> Result<Option<StaffMember>, sqlx::Error> {
    let sql = "SELECT id, display_name, role, relation, status, created_at, silenced_until, \
               silence_reason, suspended_until, suspend_reason FROM users \
               WHERE id = $1 AND deleted_at IS NULL";
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

/// What the staff's member list (`/admin/members`) is filtered by; `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// A `LIKE` pattern on the folded display name, its wildcards escaped with `\`.
    pub name_pattern: Option<String>,
    pub role: Option<Role>,
    pub relation: Option<Relation>,
    pub state: Option<MemberState>,
    /// Joined at or after the first, before the second (Unix seconds).
    pub joined: Option<(i64, i64)>,
}

/// The list's conditions: `$1` name pattern, `$2` role, `$3` relation, `$4` state, `$5` now,
/// `$6`/`$7` the month joined.
const LIST_WHERE: &str = "WHERE ($1 IS NULL OR LOWER(display_name) LIKE $1 ESCAPE '\\') \
     AND ($2 IS NULL OR role = $2) AND ($3 IS NULL OR relation = $3) \
     AND ($4 IS NULL \
       OR ($4 = 'active' AND status = 'active' AND COALESCE(suspended_until, 0) <= $5) \
       OR ($4 = 'silenced' AND status = 'active' AND COALESCE(silenced_until, 0) > $5) \
       OR ($4 = 'suspended' AND status = 'active' AND COALESCE(suspended_until, 0) > $5) \
       OR ($4 = 'deactivated' AND status = 'deactivated')) \
     AND ($6 IS NULL OR (created_at >= $6 AND created_at < $7))";

/// Binds [`LIST_WHERE`]'s `$1` to `$7` for `filter` at `now` on a query.
macro_rules! bind_filter {
    ($query:expr, $filter:expr, $now:expr) => {{
        let (from, to) = $filter.joined.unzip();
        $query
            .bind($filter.name_pattern.as_deref())
            .bind($filter.role.map(Role::as_str))
            .bind($filter.relation.map(Relation::as_str))
            .bind($filter.state.map(MemberState::as_str))
            .bind($now)
            .bind(from)
            .bind(to)
    }};
}

/// How many members match `filter` at `now`.
pub async fn count(exec: Exec<'_>, filter: &ListFilter, now: i64) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM users {LIST_WHERE}");
    on!(exec, |c| bind_filter!(
        sqlx::query_scalar(&sql),
        filter,
        now
    )
    .fetch_one(c)
    .await)
}

/// One page of the members matching `filter`, newest first.
pub async fn list(
    exec: Exec<'_>,
    filter: &ListFilter,
    now: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<StaffMember>, sqlx::Error> {
    let sql = format!(
        "SELECT id, display_name, role, relation, status, created_at, silenced_until, \
         silence_reason, suspended_until, suspend_reason FROM users {LIST_WHERE} \
         ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"
    );
    on!(exec, |c| bind_filter!(sqlx::query_as(&sql), filter, now)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

/// The active coordinators, locked until the transaction ends on PostgreSQL (SQLite has one
/// writer at a time), so that two coordinators demoting each other at once cannot leave none.
pub async fn lock_active_coordinators(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT id FROM users WHERE role = 'coordinator' AND status = 'active'";
    let ids: Vec<i64> = match exec {
        Exec::Sqlite(c) => sqlx::query_scalar(sql).fetch_all(c).await?,
        Exec::Postgres(c) => {
            sqlx::query_scalar(&format!("{sql} FOR UPDATE"))
                .fetch_all(c)
                .await?
        }
    };
    Ok(ids.len() as i64)
}

pub async fn set_role(exec: Exec<'_>, id: i64, role: Role, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3";
    set_text(exec, sql, id, role.as_str(), now).await
}

pub async fn set_relation(
    exec: Exec<'_>,
    id: i64,
    relation: Relation,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET relation = $1, updated_at = $2 WHERE id = $3";
    set_text(exec, sql, id, relation.as_str(), now).await
}

/// Deactivates (moving the auth version on, which ends every session at once) or reactivates;
/// a deleted account (a tombstone) is never brought back.
pub async fn set_active(
    exec: Exec<'_>,
    id: i64,
    active: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET status = $1, updated_at = $2, \
               auth_version = auth_version + CASE WHEN $1 = 'active' THEN 0 ELSE 1 END \
               WHERE id = $3 AND deleted_at IS NULL";
    let status = if active { "active" } else { "deactivated" };
    set_text(exec, sql, id, status, now).await
}

/// Runs `sql`, which sets a text column (`$1`) and the change time (`$2`) on member `$3`.
async fn set_text(
    exec: Exec<'_>,
    sql: &str,
    id: i64,
    value: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(sql)
        .bind(value)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
