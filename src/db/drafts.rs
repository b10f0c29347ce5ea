//! Queries on `drafts`: one draft per member and place (a category's new topic, a topic's reply).

use sqlx::FromRow;

use super::Exec;
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct Draft {
    pub title: String,
    pub body: String,
}

pub async fn save(
    exec: Exec<'_>,
    user_id: i64,
    place: &str,
    title: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO drafts (user_id, place, title, body, updated_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (user_id, place) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(place)
        .bind(title)
        .bind(body)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn load(exec: Exec<'_>, user_id: i64, place: &str) -> Result<Option<Draft>, sqlx::Error> {
    let sql = "SELECT title, body FROM drafts WHERE user_id = $1 AND place = $2";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(user_id)
        .bind(place)
        .fetch_optional(c)
        .await)
}

pub async fn discard(exec: Exec<'_>, user_id: i64, place: &str) -> Result<(), sqlx::Error> {
    let sql = "DELETE FROM drafts WHERE user_id = $1 AND place = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(place)
        .execute(c)
        .await
        .map(|_| ()))
}
