//! What a member's page shows of them: their recent posts that the reader may see, and what they
//! tell about themselves (each field shown only when they choose).

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

/// What a member tells about themselves, and which of it others may see.
#[derive(Debug, Clone, Default, FromRow)]
pub struct MemberProfile {
    pub cancer: String,
    pub stage: String,
    pub work: String,
    pub introduction: String,
    pub show_relation: bool,
    pub show_cancer: bool,
    pub show_stage: bool,
    pub show_work: bool,
    pub show_introduction: bool,
}

/// The member's profile; all empty and hidden when they never wrote one.
pub async fn member_profile(exec: Exec<'_>, user_id: i64) -> Result<MemberProfile, sqlx::Error> {
    let sql = "SELECT cancer, stage, work, introduction, show_relation = 1 AS show_relation, \
               show_cancer = 1 AS show_cancer, show_stage = 1 AS show_stage, \
               show_work = 1 AS show_work, show_introduction = 1 AS show_introduction \
               FROM member_profiles WHERE user_id = $1";
    let found: Option<MemberProfile> = on!(exec, |c| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
    Ok(found.unwrap_or_default())
}

pub async fn save_member_profile(
    exec: Exec<'_>,
    user_id: i64,
    p: &MemberProfile,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO member_profiles (user_id, cancer, stage, work, introduction, \
               show_relation, show_cancer, show_stage, show_work, show_introduction, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (user_id) DO UPDATE \
               SET cancer = excluded.cancer, stage = excluded.stage, work = excluded.work, \
               introduction = excluded.introduction, show_relation = excluded.show_relation, \
               show_cancer = excluded.show_cancer, show_stage = excluded.show_stage, \
               show_work = excluded.show_work, show_introduction = excluded.show_introduction, \
               updated_at = excluded.updated_at";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(&p.cancer)
        .bind(&p.stage)
        .bind(&p.work)
        .bind(&p.introduction)
        .bind(i64::from(p.show_relation))
        .bind(i64::from(p.show_cancer))
        .bind(i64::from(p.show_stage))
        .bind(i64::from(p.show_work))
        .bind(i64::from(p.show_introduction))
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}
