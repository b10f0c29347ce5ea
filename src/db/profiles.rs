//! What a member's page shows of them: their recent posts that the reader may see.

use sqlx::FromRow;

use super::Exec;
use super::forums::{VISIBLE, Viewer, post_surfaced};
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct RecentPost {
    pub post_id: i64,
    pub topic_title: String,
    pub created_at: i64,
}

pub async fn recent_posts(
    exec: Exec<'_>,
    viewer: Viewer,
    author_id: i64,
    limit: i64,
) -> Result<Vec<RecentPost>, sqlx::Error> {
    let sql = format!(
        "SELECT p.id AS post_id, t.title AS topic_title, p.created_at \
         FROM posts p JOIN topics t ON t.id = p.topic_id JOIN categories c ON c.id = t.category_id \
         WHERE {VISIBLE} AND p.author_id = $4 AND {} ORDER BY p.id DESC LIMIT $5",
        post_surfaced("p", "t", "$6")
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(author_id)
        .bind(limit)
        .bind(viewer.id)
        .fetch_all(c)
        .await)
}
