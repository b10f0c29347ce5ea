//! Queries on following (topic and category subscriptions), the notifications waiting to be
//! mailed, announcements and the site's secrets.

use sqlx::FromRow;

use super::Exec;
use super::forums::{Viewer, category_text};
use crate::i18n::Locale;
use crate::on;

/// What someone follows: a topic or a whole category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Topic(i64),
    Category(i64),
}

pub async fn follow(
    exec: Exec<'_>,
    user_id: i64,
    what: Followed,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (sql, id) = match what {
        Followed::Topic(id) => (
            "INSERT INTO topic_subscriptions (user_id, topic_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            id,
        ),
        Followed::Category(id) => (
            "INSERT INTO category_subscriptions (user_id, category_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            id,
        ),
    };
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn unfollow(exec: Exec<'_>, user_id: i64, what: Followed) -> Result<(), sqlx::Error> {
    let (sql, id) = match what {
        Followed::Topic(id) => (
            "DELETE FROM topic_subscriptions WHERE user_id = $1 AND topic_id = $2",
            id,
        ),
        Followed::Category(id) => (
            "DELETE FROM category_subscriptions WHERE user_id = $1 AND category_id = $2",
            id,
        ),
    };
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn follows(exec: Exec<'_>, user_id: i64, what: Followed) -> Result<bool, sqlx::Error> {
    let (sql, id) = match what {
        Followed::Topic(id) => (
            "SELECT COUNT(*) FROM topic_subscriptions WHERE user_id = $1 AND topic_id = $2",
            id,
        ),
        Followed::Category(id) => (
            "SELECT COUNT(*) FROM category_subscriptions WHERE user_id = $1 AND category_id = $2",
            id,
        ),
    };
    let n: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(user_id)
        .bind(id)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

/// Queues a notice of a new post for everyone who follows its topic or category, except its
/// author and members who are not active or block either way (whether and when it is mailed is
/// their preference, read when the mail is written); returns who got one.
pub async fn queue_for_post(
    exec: Exec<'_>,
    post_id: i64,
    topic_id: i64,
    category_id: i64,
    author_id: i64,
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "INSERT INTO notifications (user_id, kind, post_id, created_at) \
               SELECT u.id, 'reply', $1, $2 FROM users u \
               WHERE u.id <> $3 AND u.status = 'active' AND (\
                 u.id IN (SELECT user_id FROM topic_subscriptions WHERE topic_id = $4) \
                 OR u.id IN (SELECT user_id FROM category_subscriptions WHERE category_id = $5)) \
               AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE (b.blocker_id = u.id AND b.blocked_id = $3) \
                 OR (b.blocker_id = $3 AND b.blocked_id = u.id)) \
               ON CONFLICT DO NOTHING RETURNING user_id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(post_id)
        .bind(now)
        .bind(author_id)
        .bind(topic_id)
        .bind(category_id)
        .fetch_all(c)
        .await)
}

/// Queues a notice for members mentioned in a post, on the same terms as followers (neither
/// blocks the other, active), marked as a mention even when they also follow it; visibility
/// is checked when mailing and listing. Returns who got one.
pub async fn queue_mentions(
    exec: Exec<'_>,
    post_id: i64,
    author_id: i64,
    mentioned: &[i64],
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    if mentioned.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO notifications (user_id, kind, post_id, created_at, mentioned) \
         SELECT u.id, 'mention', $1, $2, 1 FROM users u \
         WHERE u.id IN ({}) AND u.id <> $3 AND u.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE (b.blocker_id = u.id AND b.blocked_id = $3) \
           OR (b.blocker_id = $3 AND b.blocked_id = u.id)) \
         ON CONFLICT (user_id, post_id) DO UPDATE SET mentioned = 1, kind = 'mention' RETURNING user_id",
        super::placeholders(4, mentioned.len())
    );
    on!(exec, |c| {
        let mut query = sqlx::query_scalar(&sql)
            .bind(post_id)
            .bind(now)
            .bind(author_id);
        for id in mentioned {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })
}

/// A new post as a notification mail lists it, with why its reader hears of it.
#[derive(Debug, Clone, FromRow)]
pub struct NotifiedPost {
    pub post_id: i64,
    pub topic_id: i64,
    pub topic_title: String,
    pub category_id: i64,
    pub category_name: String,
    pub author_name: String,
    pub created_at: i64,
    pub body_markdown: String,
    /// 1 when the post mentions the reader.
    pub mentioned: i64,
    /// Whether the reader follows the post's topic, and its category, now.
    pub follows_topic: bool,
    pub follows_category: bool,
}

/// Of the posts among `post_ids` the reader was notified of, those they may still see when
/// the mail is written: a visible category, not deleted, and neither the reader nor the author
/// blocking the other (the same rule as when the notification was queued).
pub async fn notified_posts(
    exec: Exec<'_>,
    viewer: Viewer,
    reader_id: i64,
    post_ids: &[i64],
) -> Result<Vec<NotifiedPost>, sqlx::Error> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT p.id AS post_id, t.id AS topic_id, t.title AS topic_title, c.id AS category_id, \
           {name} AS category_name, u.display_name AS author_name, p.created_at, p.body_markdown, n.mentioned, \
           EXISTS (SELECT 1 FROM topic_subscriptions s WHERE s.user_id = $4 AND s.topic_id = t.id) AS follows_topic, \
           EXISTS (SELECT 1 FROM category_subscriptions s WHERE s.user_id = $4 AND s.category_id = c.id) AS follows_category \
         FROM notifications n JOIN posts p ON p.id = n.post_id JOIN topics t ON t.id = p.topic_id \
         JOIN categories c ON c.id = t.category_id JOIN users u ON u.id = p.author_id \
         WHERE {visible} AND n.user_id = $4 AND {surfaced} AND p.id IN ({ids}) \
         AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = p.author_id AND b.blocked_id = $4) \
         ORDER BY t.id, p.id",
        name = category_text("c.name", viewer.locale),
        visible = super::forums::VISIBLE,
        surfaced = super::forums::post_surfaced("p", "t", "$4"),
        ids = super::placeholders(5, post_ids.len())
    );
    on!(exec, |c| {
        let mut query = sqlx::query_as(&sql)
            .bind(viewer.rank)
            .bind(viewer.relation)
            .bind(i64::from(viewer.staff))
            .bind(reader_id);
        for id in post_ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })
}

/// A topic or category a member follows, as their settings list it.
#[derive(Debug, Clone, FromRow)]
pub struct FollowedItem {
    /// `t` for a topic, `c` for a category.
    pub kind: String,
    pub id: i64,
    pub name: String,
}

impl FollowedItem {
    /// The page of what is followed (`/t/12`, `/c/3`); its follow button is under it.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.kind, self.id)
    }
}

/// What a member follows and may still see: topics, then categories.
pub async fn followed_by(
    exec: Exec<'_>,
    viewer: Viewer,
    user_id: i64,
) -> Result<Vec<FollowedItem>, sqlx::Error> {
    let sql = format!(
        "SELECT 't' AS kind, t.id AS id, t.title AS name FROM topic_subscriptions s \
           JOIN topics t ON t.id = s.topic_id JOIN categories c ON c.id = t.category_id \
           WHERE s.user_id = $4 AND {visible} \
         UNION ALL SELECT 'c' AS kind, c.id AS id, {name} AS name FROM category_subscriptions s \
           JOIN categories c ON c.id = s.category_id WHERE s.user_id = $4 AND {visible} \
         ORDER BY kind DESC, id",
        name = category_text("c.name", viewer.locale),
        visible = super::forums::VISIBLE
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(user_id)
        .fetch_all(c)
        .await)
}

/// The titles of the topics and the names of the categories (in `locale`) among the ids, as
/// the page that stops their mails names them: (true for a topic, name), topics first.
pub async fn followed_names(
    exec: Exec<'_>,
    locale: Locale,
    topic_ids: &[i64],
    category_ids: &[i64],
) -> Result<Vec<(bool, String)>, sqlx::Error> {
    let list = |first: usize, ids: &[i64]| {
        if ids.is_empty() {
            "NULL".to_owned()
        } else {
            super::placeholders(first, ids.len())
        }
    };
    let sql = format!(
        "SELECT * FROM (SELECT 't' AS kind, title AS name, id FROM topics WHERE id IN ({}) \
         UNION ALL SELECT 'c', {}, c.id FROM categories c WHERE c.id IN ({})) AS named \
         ORDER BY kind DESC, id",
        list(1, topic_ids),
        category_text("c.name", locale),
        list(1 + topic_ids.len(), category_ids)
    );
    let rows: Vec<(String, String, i64)> = on!(exec, |c| {
        let mut query = sqlx::query_as(&sql);
        for id in topic_ids.iter().chain(category_ids) {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(kind, name, _)| (kind == "t", name))
        .collect())
}

/// A secret the site keeps in its database (so every instance shares it), made on first use.
pub async fn site_secret(exec: Exec<'_>, name: &str, fresh: &str) -> Result<String, sqlx::Error> {
    let insert = "INSERT INTO site_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    let select = "SELECT value FROM site_secrets WHERE name = $1";
    on!(exec, |c| {
        sqlx::query(insert)
            .bind(name)
            .bind(fresh)
            .execute(&mut *c)
            .await?;
        sqlx::query_scalar(select).bind(name).fetch_one(c).await
    })
}

#[derive(Debug, Clone, FromRow)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub body_html: String,
    pub author_name: String,
    pub created_at: i64,
}

pub async fn insert_announcement(
    exec: Exec<'_>,
    author_id: i64,
    title: &str,
    markdown: &str,
    html: &str,
    emailed: bool,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO announcements (author_id, title, body_markdown, body_html, emailed, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(author_id)
        .bind(title)
        .bind(markdown)
        .bind(html)
        .bind(i64::from(emailed))
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Announcements still pinned, newest first.
pub async fn current_announcements(exec: Exec<'_>) -> Result<Vec<Announcement>, sqlx::Error> {
    let sql = "SELECT a.id, a.title, a.body_html, u.display_name AS author_name, a.created_at \
               FROM announcements a JOIN users u ON u.id = a.author_id WHERE a.archived_at IS NULL \
               ORDER BY a.created_at DESC, a.id DESC";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}

pub async fn archive_announcement(exec: Exec<'_>, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE announcements SET archived_at = $1 WHERE id = $2 AND archived_at IS NULL";
    let n = on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
