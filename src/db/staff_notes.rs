//! Queries on `staff_notes`: what staff leave on a member or a queue item to hand a case over.

use sqlx::FromRow;

use super::Exec;
use crate::domain::log::TargetKind;
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct StaffNote {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn add(
    exec: Exec<'_>,
    kind: TargetKind,
    target_id: i64,
    author_id: i64,
    body: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO staff_notes (target_kind, target_id, author_id, body, created_at) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(kind.as_str())
        .bind(target_id)
        .bind(author_id)
        .bind(body)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// The notes on one item, newest first.
pub async fn on_target(
    exec: Exec<'_>,
    kind: TargetKind,
    target_id: i64,
) -> Result<Vec<StaffNote>, sqlx::Error> {
    let sql = "SELECT n.id, u.display_name AS author_name, n.body, n.created_at \
               FROM staff_notes n JOIN users u ON u.id = n.author_id \
               WHERE n.target_kind = $1 AND n.target_id = $2 ORDER BY n.id DESC";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(kind.as_str())
        .bind(target_id)
        .fetch_all(c)
        .await)
}
