//! Queries for the review queue: held and flagged posts, open alerts, a member's history.

use sqlx::FromRow;

use super::Exec;
use crate::i18n::Locale;
use crate::on;

/// A post in the queue, in its context.
#[derive(Debug, Clone, FromRow)]
pub struct QueuedPost {
    pub id: i64,
    pub topic_id: i64,
    pub topic_title: String,
    pub category_name: String,
    pub author_id: i64,
    pub author_name: String,
    pub body_html: String,
    pub created_at: i64,
    pub status_reason: String,
    /// What the author has written before: published, and hidden by moderators.
    pub author_published: i64,
    pub author_hidden: i64,
    pub author_joined_at: i64,
}

/// The queue's select, the category named in the reader's language.
fn queued_post(locale: Locale) -> String {
    format!(
        "SELECT p.id, p.topic_id, t.title AS topic_title, {} AS category_name, \
    p.author_id, u.display_name AS author_name, p.body_html, p.created_at, p.status_reason, \
    (SELECT COUNT(*) FROM posts q WHERE q.author_id = p.author_id AND q.status = 'published' AND q.deleted_at IS NULL) AS author_published, \
    (SELECT COUNT(*) FROM posts q WHERE q.author_id = p.author_id AND q.status = 'hidden') AS author_hidden, \
    u.created_at AS author_joined_at \
    FROM posts p JOIN topics t ON t.id = p.topic_id JOIN categories c ON c.id = t.category_id \
    JOIN users u ON u.id = p.author_id",
        super::forums::category_text("c.name", locale)
    )
}

/// Posts waiting for review, oldest first.
pub async fn held_posts(
    exec: Exec<'_>,
    locale: Locale,
    limit: i64,
) -> Result<Vec<QueuedPost>, sqlx::Error> {
    let sql = format!(
        "{} WHERE p.status = 'held' AND p.deleted_at IS NULL ORDER BY p.id LIMIT $1",
        queued_post(locale)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Published posts a watched word flagged, oldest first.
pub async fn flagged_posts(
    exec: Exec<'_>,
    locale: Locale,
    limit: i64,
) -> Result<Vec<QueuedPost>, sqlx::Error> {
    let sql = format!(
        "{} WHERE p.flagged_at IS NOT NULL AND p.status = 'published' \
         AND p.deleted_at IS NULL ORDER BY p.flagged_at, p.id LIMIT $1",
        queued_post(locale)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Any one post as moderators see it.
pub async fn post(
    exec: Exec<'_>,
    locale: Locale,
    id: i64,
) -> Result<Option<QueuedPost>, sqlx::Error> {
    let sql = format!(
        "{} WHERE p.id = $1 AND p.deleted_at IS NULL",
        queued_post(locale)
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// An urgent item not yet acknowledged.
#[derive(Debug, Clone, FromRow)]
pub struct OpenAlert {
    pub id: i64,
    pub cause: String,
    pub target_kind: String,
    pub target_id: i64,
    pub member_name: String,
    pub created_at: i64,
}

pub async fn open_alerts(exec: Exec<'_>, limit: i64) -> Result<Vec<OpenAlert>, sqlx::Error> {
    let sql = "SELECT a.id, a.cause, a.target_kind, a.target_id, \
               COALESCE(u.display_name, '') AS member_name, a.created_at \
               FROM alerts a LEFT JOIN users u ON u.id = a.subject_user_id \
               WHERE a.acknowledged_at IS NULL ORDER BY a.id LIMIT $1";
    on!(exec, |c| sqlx::query_as(sql).bind(limit).fetch_all(c).await)
}

/// Acknowledges an open alert; false when it is unknown or was acknowledged already.
pub async fn acknowledge_alert(
    exec: Exec<'_>,
    id: i64,
    by: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 \
               WHERE id = $3 AND acknowledged_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// The member an alert concerns, for its log row.
pub async fn alert_member(exec: Exec<'_>, id: i64) -> Result<Option<Option<i64>>, sqlx::Error> {
    let sql = "SELECT subject_user_id FROM alerts WHERE id = $1";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// How many items wait: held and flagged posts, open alerts, posts with open reports.
pub async fn waiting(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT (SELECT COUNT(*) FROM posts WHERE status = 'held' AND deleted_at IS NULL) \
               + (SELECT COUNT(*) FROM posts WHERE flagged_at IS NOT NULL AND status = 'published' AND deleted_at IS NULL) \
               + (SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS NULL) \
               + (SELECT COUNT(DISTINCT r.target_id) FROM reports r JOIN posts p ON p.id = r.target_id \
                  WHERE r.target_kind = 'post' AND r.resolved_at IS NULL AND p.deleted_at IS NULL)";
    let sql = format!(
        "{sql} + {} + {}",
        super::cafe::WAITING_COUNT,
        super::qa::WAITING_COUNT
    );
    on!(exec, |c| sqlx::query_scalar(&sql).fetch_one(c).await)
}

/// A member's own posts that others cannot see (held or hidden), newest first.
#[derive(Debug, Clone, FromRow)]
pub struct WithheldPost {
    pub id: i64,
    pub topic_title: String,
    pub status: String,
    pub status_reason: String,
    pub created_at: i64,
}

pub async fn withheld_posts_of(
    exec: Exec<'_>,
    author: i64,
) -> Result<Vec<WithheldPost>, sqlx::Error> {
    let sql = "SELECT p.id, t.title AS topic_title, p.status, p.status_reason, p.created_at \
               FROM posts p JOIN topics t ON t.id = p.topic_id \
               WHERE p.author_id = $1 AND p.status <> 'published' AND p.deleted_at IS NULL \
               ORDER BY p.id DESC LIMIT 200";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(author)
        .fetch_all(c)
        .await)
}
