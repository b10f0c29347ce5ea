//! Queries on `post_reactions`: reactions of support (ありがとう, 共感, 応援してます) on posts.

use sqlx::FromRow;

use super::Exec;
use crate::on;

/// One member's reaction of one kind on one post, with the name to show for it.
#[derive(Debug, Clone, FromRow)]
pub struct ReactionRow {
    pub post_id: i64,
    pub kind: String,
    pub user_id: i64,
    pub display_name: String,
}

/// Adds the reaction, or takes it back when it is there already. Returns whether it is now on.
pub async fn toggle(
    exec: Exec<'_>,
    post_id: i64,
    user_id: i64,
    kind: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let remove = "DELETE FROM post_reactions WHERE post_id = $1 AND user_id = $2 AND kind = $3";
    let add = "INSERT INTO post_reactions (post_id, user_id, kind, created_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (post_id, user_id, kind) DO NOTHING";
    on!(exec, |c| {
        let removed = sqlx::query(remove)
            .bind(post_id)
            .bind(user_id)
            .bind(kind)
            .execute(&mut *c)
            .await?
            .rows_affected();
        if removed > 0 {
            return Ok(false);
        }
        sqlx::query(add)
            .bind(post_id)
            .bind(user_id)
            .bind(kind)
            .bind(now)
            .execute(c)
            .await
            .map(|_| true)
    })
}

/// Every reaction on the given posts, oldest first.
pub async fn on_posts(exec: Exec<'_>, post_ids: &[i64]) -> Result<Vec<ReactionRow>, sqlx::Error> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT r.post_id, r.kind, r.user_id, u.display_name FROM post_reactions r \
         JOIN users u ON u.id = r.user_id WHERE r.post_id IN ({}) ORDER BY r.created_at, r.user_id",
        super::placeholders(1, post_ids.len())
    );
    on!(exec, |c| {
        let mut query = sqlx::query_as(&sql);
        for id in post_ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })
}
