//! Queries on `topic_reads`: the highest post id each member has seen in each topic, and what
//! is new for them. A post is new to a member when it is past what they have seen, not their
//! own, not deleted, and not by someone they block.

use sqlx::FromRow;

use super::Exec;
use super::forums::{VISIBLE, Viewer, category_text};
use crate::on;

/// The unread posts `p` of topic `t.id` for the member bound as `member` (a placeholder such as
/// `$4`), given `r`, their `topic_reads` row if any, and `noted`, markers not written yet
/// (see [`bind_noted`]), bound from placeholder `$first` on.
fn unread(member: &str, noted: &[(i64, i64)], first: usize) -> String {
    let mut sql = format!(
        "p.topic_id = t.id AND p.id > COALESCE(r.last_read_post_id, 0) \
         AND p.author_id <> {member} AND {}",
        super::forums::post_surfaced("p", "t", member)
    );
    for i in 0..noted.len() {
        let topic = first + 2 * i;
        let post = topic + 1;
        sql.push_str(&format!(
            " AND NOT (p.topic_id = ${topic} AND p.id <= ${post})"
        ));
    }
    sql
}

/// Binds the (topic, highest post seen) pairs of [`unread`]'s `noted`, in order.
macro_rules! bind_noted {
    ($query:expr, $noted:expr) => {{
        let mut query = $query;
        for (topic, post) in $noted {
            query = query.bind(*topic).bind(*post);
        }
        query
    }};
}

/// A topic with posts the member has not read.
#[derive(Debug, Clone, FromRow)]
pub struct NewTopic {
    pub id: i64,
    pub title: String,
    pub category_name: String,
    pub last_posted_at: i64,
    pub unread: i64,
    pub first_unread: i64,
}

/// The highest post id `user` has seen in `topic`, if they have opened it.
pub async fn last_read(exec: Exec<'_>, user: i64, topic: i64) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT last_read_post_id FROM topic_reads WHERE user_id = $1 AND topic_id = $2";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(user)
        .bind(topic)
        .fetch_optional(c)
        .await)
}

/// Remembers that `user` has seen `topic` up to `post_id`; never moves the mark back. Written
/// after the page view, so the member or the topic may be gone by then: nothing is written then.
pub async fn mark_read(
    exec: Exec<'_>,
    user: i64,
    topic: i64,
    post_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO topic_reads (user_id, topic_id, last_read_post_id, read_at) \
               SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) \
               AND EXISTS (SELECT 1 FROM topics WHERE id = $2) \
               ON CONFLICT (user_id, topic_id) DO UPDATE \
               SET last_read_post_id = excluded.last_read_post_id, read_at = excluded.read_at \
               WHERE topic_reads.last_read_post_id < excluded.last_read_post_id";
    on!(exec, |c| sqlx::query(sql)
        .bind(user)
        .bind(topic)
        .bind(post_id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// How many new posts each of `topic_ids` has for `user`, who has also seen `noted` (topic,
/// post) pairs not written yet; topics with none are left out.
pub async fn unread_counts(
    exec: Exec<'_>,
    user: i64,
    topic_ids: &[i64],
    noted: &[(i64, i64)],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    if topic_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT t.id, COUNT(p.id) FROM topics t \
         LEFT JOIN topic_reads r ON r.topic_id = t.id AND r.user_id = $1 \
         JOIN posts p ON {} \
         WHERE t.id IN ({}) GROUP BY t.id",
        unread("$1", noted, 2 + topic_ids.len()),
        super::placeholders(2, topic_ids.len())
    );
    on!(exec, |c| {
        let mut query = sqlx::query_as(&sql).bind(user);
        for id in topic_ids {
            query = query.bind(*id);
        }
        bind_noted!(query, noted).fetch_all(c).await
    })
}

/// The ids of the most recently active topics, in categories `viewer` may see, with posts
/// `user` has not read by the markers written so far: the only topics [`new_topics`] can list.
pub async fn unread_topic_ids(
    exec: Exec<'_>,
    viewer: Viewer,
    user: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT t.id FROM topics t JOIN categories c ON c.id = t.category_id \
         LEFT JOIN topic_reads r ON r.topic_id = t.id AND r.user_id = $4 \
         WHERE {VISIBLE} AND EXISTS (SELECT 1 FROM posts p WHERE {}) \
         ORDER BY t.last_posted_at DESC, t.id DESC LIMIT $5",
        unread("$4", &[], 6)
    );
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(user)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// The most recently active topics, in categories `viewer` may see (and among `among`, when
/// given), with posts `user` has not read (counting `noted` (topic, post) pairs not written
/// yet): how many, and the first of them.
pub async fn new_topics(
    exec: Exec<'_>,
    viewer: Viewer,
    user: i64,
    limit: i64,
    among: Option<&[i64]>,
    noted: &[(i64, i64)],
) -> Result<Vec<NewTopic>, sqlx::Error> {
    let only = match among {
        None => String::new(),
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!("AND t.id IN ({}) ", super::placeholders(6, ids.len())),
    };
    let among = among.unwrap_or_default();
    let unread = unread("$4", noted, 6 + among.len());
    let sql = format!(
        "SELECT t.id, t.title, {name} AS category_name, t.last_posted_at, \
         (SELECT COUNT(*) FROM posts p WHERE {unread}) AS unread, \
         (SELECT MIN(p.id) FROM posts p WHERE {unread}) AS first_unread \
         FROM topics t JOIN categories c ON c.id = t.category_id \
         LEFT JOIN topic_reads r ON r.topic_id = t.id AND r.user_id = $4 \
         WHERE {VISIBLE} {only}AND EXISTS (SELECT 1 FROM posts p WHERE {unread}) \
         ORDER BY t.last_posted_at DESC, t.id DESC LIMIT $5",
        name = category_text("c.name", viewer.locale),
    );
    on!(exec, |c| {
        let mut query = sqlx::query_as(&sql)
            .bind(viewer.rank)
            .bind(viewer.relation)
            .bind(i64::from(viewer.staff))
            .bind(user)
            .bind(limit);
        for id in among {
            query = query.bind(*id);
        }
        bind_noted!(query, noted).fetch_all(c).await
    })
}
