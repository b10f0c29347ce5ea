//! Queries on `user_blocks`: a member who blocks another no longer sees their posts unfolded.
//! The blocked member is not told. Neither is notified of the other: notification code asks
//! [`either_blocks`] for one pair, or [`without_blocks`] to filter a list of recipients.

use sqlx::FromRow;

use super::Exec;
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct BlockedRow {
    pub user_id: i64,
    pub display_name: String,
    pub created_at: i64,
}

/// Blocks `blocked` for `blocker`; blocking twice changes nothing.
pub async fn block(
    exec: Exec<'_>,
    blocker: i64,
    blocked: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (blocker_id, blocked_id) DO NOTHING";
    on!(exec, |c| sqlx::query(sql)
        .bind(blocker)
        .bind(blocked)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Ends a block; returns whether there was one.
pub async fn unblock(exec: Exec<'_>, blocker: i64, blocked: i64) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(blocker)
        .bind(blocked)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// The ids of the members `blocker` blocks.
pub async fn blocked_ids(exec: Exec<'_>, blocker: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT blocked_id FROM user_blocks WHERE blocker_id = $1";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(blocker)
        .fetch_all(c)
        .await)
}

/// The members `blocker` blocks, with their names, most recent first.
pub async fn list(exec: Exec<'_>, blocker: i64) -> Result<Vec<BlockedRow>, sqlx::Error> {
    let sql = "SELECT u.id AS user_id, u.display_name, b.created_at FROM user_blocks b \
               JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = $1 \
               ORDER BY b.created_at DESC, u.id";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(blocker)
        .fetch_all(c)
        .await)
}

/// Whether `a` blocks `b` or `b` blocks `a`. Notification code calls this before telling one
/// member about the other (a reply, a mention): when it is true, nothing is sent either way.
pub async fn either_blocks(exec: Exec<'_>, a: i64, b: i64) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM user_blocks \
               WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)";
    let count: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(a)
        .bind(b)
        .fetch_one(c)
        .await)?;
    Ok(count > 0)
}

/// Of `candidates`, those who neither block `actor` nor are blocked by `actor`, in the given
/// order: the recipients a notification about something `actor` did may go to.
pub async fn without_blocks(
    exec: Exec<'_>,
    actor: i64,
    candidates: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 AND blocked_id IN ({0}) \
         UNION SELECT blocker_id FROM user_blocks WHERE blocked_id = $1 AND blocker_id IN ({0})",
        super::placeholders(2, candidates.len())
    );
    let excluded: Vec<i64> = on!(exec, |c| {
        let mut query = sqlx::query_scalar(&sql).bind(actor);
        for id in candidates {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })?;
    Ok(candidates
        .iter()
        .copied()
        .filter(|id| !excluded.contains(id))
        .collect())
}
