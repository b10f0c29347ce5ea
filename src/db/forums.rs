//! Queries on categories, topics, posts and post revisions. Every read that a member's request
//! makes goes through the category visibility rule in [`VISIBLE`], and the content rules below
//! it: [`topic_seen`] for topics, [`post_in_thread`] for a topic's own page, [`post_surfaced`]
//! for content shown anywhere else (search, "new since your last visit", mentions, mail, member
//! pages). No query that lists, counts, searches or mails content writes its own conditions.

use sqlx::FromRow;

use super::Exec;
use crate::domain::content::PostStatus;
use crate::domain::role::Role;
use crate::i18n::Locale;
use crate::on;

/// Who is reading: what the visibility rule needs, and the language they read.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    /// The reader's member id.
    pub id: i64,
    pub rank: i64,
    pub relation: &'static str,
    pub staff: bool,
    /// Which of a category's names and descriptions they see ([`category_text`]).
    pub locale: Locale,
}

/// A category is visible when it is not archived, the reader's role is high enough, and it is
/// open to the reader's relation (staff see every relation's category). Binds $1 rank,
/// $2 relation, $3 staff (1 or 0).
pub const VISIBLE: &str = "c.archived_at IS NULL AND c.min_role_rank <= $1 \
    AND (c.only_relation IS NULL OR c.only_relation = $2 OR $3 = 1)";

/// A topic the reader (bound as `reader`, e.g. `"$4"`) may see in a visible category: published,
/// or started by them (held for review), or the reader is staff (`$3`, bound by [`VISIBLE`]'s
/// users).
pub fn topic_seen(t: &str, reader: &str) -> String {
    format!("({t}.status = 'published' OR {t}.author_id = {reader} OR $3 = 1)")
}

/// A post on its topic's page: held posts only for their author and staff; hidden and deleted
/// ones keep their place for everyone, without their text (see `forums::topics`).
pub fn post_in_thread(p: &str, reader: &str) -> String {
    format!("({p}.status <> 'held' OR {p}.author_id = {reader} OR $3 = 1)")
}

/// Whether [`topic_seen`] and [`post_in_thread`] can show this topic's page to one reader
/// otherwise than to another of the same rank and relation: only held content (a topic not
/// published, a post waiting for review) depends on who reads, as it is shown to its author. When
/// nothing is held, the page read as no one in particular is every such reader's page.
pub async fn holds_authors_own(exec: Exec<'_>, topic_id: i64) -> Result<bool, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM posts p JOIN topics t ON t.id = p.topic_id \
               WHERE p.topic_id = $1 AND (p.status = 'held' OR t.status <> 'published')";
    let held: i64 = on!(exec, |c| sqlx::query_scalar(sql)
        .bind(topic_id)
        .fetch_one(c)
        .await)?;
    Ok(held > 0)
}

/// A post shown outside its topic's page: not deleted, published, in a published topic, and not
/// by someone the reader blocks. The same for staff: the review queue is where they see the rest.
pub fn post_surfaced(p: &str, t: &str, reader: &str) -> String {
    format!(
        "({p}.deleted_at IS NULL AND {p}.status = 'published' AND {t}.status = 'published' \
         AND NOT EXISTS (SELECT 1 FROM user_blocks b \
         WHERE b.blocker_id = {reader} AND b.blocked_id = {p}.author_id))"
    )
}

/// A category's name or description (`c.name`, `c.description`) as a reader of `locale` sees
/// it: the English text (`c.name_en`, `c.description_en`) for an English reader when a
/// coordinator wrote one, the Japanese otherwise. Every query that shows a category to someone
/// selects its text through this, so the choice is made in one place.
pub fn category_text(column: &str, locale: Locale) -> String {
    match locale {
        Locale::En => format!("COALESCE({column}_en, {column})"),
        Locale::Ja => column.to_owned(),
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct CategorySummary {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub topic_count: i64,
    pub last_posted_at: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct TopicRow {
    pub id: i64,
    pub title: String,
    pub author_name: String,
    pub reply_count: i64,
    pub last_posted_at: i64,
    pub pinned_at: Option<i64>,
    pub closed_at: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct Topic {
    pub id: i64,
    pub category_id: i64,
    pub category_name: String,
    pub title: String,
    pub pinned_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub author_id: i64,
    #[sqlx(try_from = "String")]
    pub status: PostStatus,
}

#[derive(Debug, Clone, FromRow)]
pub struct PostRow {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    #[sqlx(try_from = "String")]
    pub author_role: Role,
    pub body_html: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: PostStatus,
    /// Why it is held (a reason code) or hidden (the moderator's words), for its author.
    pub status_reason: String,
    pub moderator_edited_at: Option<i64>,
}

/// A post with what editing and linking to it need.
#[derive(Debug, Clone, FromRow)]
pub struct PostRef {
    pub id: i64,
    pub topic_id: i64,
    pub topic_title: String,
    pub author_id: i64,
    pub body_markdown: String,
    pub body_html: String,
    pub deleted_at: Option<i64>,
    pub category_id: i64,
    #[sqlx(try_from = "String")]
    pub status: PostStatus,
    /// Its place among the posts the reader sees in the topic, from 1.
    pub position: i64,
    /// The topic's first post (whose edit form holds the title).
    pub opens_topic: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct Revision {
    pub body_markdown: String,
    /// The topic's title then, for the first post of a topic.
    pub title: Option<String>,
    pub editor_name: String,
    pub created_at: i64,
}

fn staff(viewer: Viewer) -> i64 {
    i64::from(viewer.staff)
}

pub async fn visible_categories(
    exec: Exec<'_>,
    viewer: Viewer,
) -> Result<Vec<CategorySummary>, sqlx::Error> {
    let sql = format!(
        "SELECT c.id, {name} AS name, {description} AS description, COUNT(t.id) AS topic_count, \
         MAX(t.last_posted_at) AS last_posted_at \
         FROM categories c LEFT JOIN topics t ON t.category_id = c.id AND {seen} \
         WHERE {VISIBLE} GROUP BY c.id ORDER BY c.position, c.id",
        name = category_text("c.name", viewer.locale),
        description = category_text("c.description", viewer.locale),
        seen = topic_seen("t", "$4"),
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .bind(viewer.id)
        .fetch_all(c)
        .await)
}

pub async fn category(
    exec: Exec<'_>,
    viewer: Viewer,
    id: i64,
) -> Result<Option<Category>, sqlx::Error> {
    let sql = format!(
        "SELECT c.id, {name} AS name, {description} AS description FROM categories c \
         WHERE {VISIBLE} AND c.id = $4",
        name = category_text("c.name", viewer.locale),
        description = category_text("c.description", viewer.locale),
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Pinned topics first, then by last activity.
pub async fn topics_in(
    exec: Exec<'_>,
    viewer: Viewer,
    category_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<TopicRow>, sqlx::Error> {
    let sql = format!(
        "SELECT t.id, t.title, u.display_name AS author_name, t.reply_count, t.last_posted_at, t.pinned_at, t.closed_at \
         FROM topics t JOIN users u ON u.id = t.author_id WHERE t.category_id = $1 AND {} \
         ORDER BY CASE WHEN t.pinned_at IS NULL THEN 1 ELSE 0 END, t.last_posted_at DESC, t.id DESC \
         LIMIT $4 OFFSET $5",
        topic_seen("t", "$2")
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(category_id)
        .bind(viewer.id)
        .bind(staff(viewer))
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

/// A topic among the most recently active ones.
#[derive(Debug, Clone, FromRow)]
pub struct LatestTopic {
    pub id: i64,
    pub title: String,
    pub category_name: String,
    pub reply_count: i64,
    pub last_posted_at: i64,
}

/// The most recently active topics in categories `viewer` may see, leaving out topics started by
/// members `reader` blocks.
pub async fn latest_topics(
    exec: Exec<'_>,
    viewer: Viewer,
    reader: i64,
    limit: i64,
) -> Result<Vec<LatestTopic>, sqlx::Error> {
    let sql = format!(
        "SELECT t.id, t.title, {name} AS category_name, t.reply_count, t.last_posted_at \
         FROM topics t JOIN categories c ON c.id = t.category_id \
         WHERE {VISIBLE} AND t.status = 'published' AND NOT EXISTS \
         (SELECT 1 FROM user_blocks b WHERE b.blocker_id = $4 AND b.blocked_id = t.author_id) \
         ORDER BY t.last_posted_at DESC, t.id DESC LIMIT $5",
        name = category_text("c.name", viewer.locale),
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .bind(reader)
        .bind(limit)
        .fetch_all(c)
        .await)
}

pub async fn count_topics(
    exec: Exec<'_>,
    viewer: Viewer,
    category_id: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM topics t WHERE t.category_id = $1 AND {}",
        topic_seen("t", "$2")
    );
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(category_id)
        .bind(viewer.id)
        .bind(staff(viewer))
        .fetch_one(c)
        .await)
}

pub async fn insert_topic(
    exec: Exec<'_>,
    category_id: i64,
    author_id: i64,
    title: &str,
    status: PostStatus,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO topics (category_id, author_id, title, created_at, last_posted_at, status) \
               VALUES ($1, $2, $3, $4, $4, $5) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(category_id)
        .bind(author_id)
        .bind(title)
        .bind(now)
        .bind(status.as_str())
        .fetch_one(c)
        .await)
}

/// A post as the content pipeline writes it.
pub struct NewPostRow<'a> {
    pub topic_id: i64,
    pub author_id: i64,
    pub markdown: &'a str,
    pub html: &'a str,
    pub status: PostStatus,
    pub status_reason: &'a str,
    pub flagged: bool,
}

pub async fn insert_post(
    exec: Exec<'_>,
    post: &NewPostRow<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO posts (topic_id, author_id, body_markdown, body_html, created_at, \
               status, status_reason, status_changed_at, flagged_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $5, CASE WHEN $8 = 1 THEN $5 END) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(post.topic_id)
        .bind(post.author_id)
        .bind(post.markdown)
        .bind(post.html)
        .bind(now)
        .bind(post.status.as_str())
        .bind(post.status_reason)
        .bind(i64::from(post.flagged))
        .fetch_one(c)
        .await)
}

/// Sets a post's status and the reason its author sees; a topic's first post carries its topic.
pub async fn set_post_status(
    exec: Exec<'_>,
    id: i64,
    status: PostStatus,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let post =
        "UPDATE posts SET status = $1, status_reason = $2, status_changed_at = $3 WHERE id = $4";
    let topic = "UPDATE topics SET status = $1 WHERE id = (SELECT topic_id FROM posts WHERE id = $2) \
                 AND $2 = (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = topics.id)";
    on!(exec, |c| {
        sqlx::query(post)
            .bind(status.as_str())
            .bind(reason)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await?;
        sqlx::query(topic)
            .bind(status.as_str())
            .bind(id)
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// Marks a post as flagged by a watched word (`Some(now)`), or reviewed (`None`).
pub async fn set_flagged(exec: Exec<'_>, id: i64, at: Option<i64>) -> Result<(), sqlx::Error> {
    set_time(
        exec,
        "UPDATE posts SET flagged_at = $1 WHERE id = $2",
        id,
        at,
    )
    .await
}

/// How many of a member's posts are published: the first ones wait for review.
pub async fn published_posts_by(exec: Exec<'_>, author_id: i64) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM posts WHERE author_id = $1 AND status = 'published'";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(author_id)
        .fetch_one(c)
        .await)
}

/// A reply counts, and moves the topic up its category.
pub async fn note_reply(exec: Exec<'_>, topic_id: i64, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE topics SET reply_count = reply_count + 1, last_posted_at = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(topic_id)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn topic(exec: Exec<'_>, viewer: Viewer, id: i64) -> Result<Option<Topic>, sqlx::Error> {
    let sql = format!(
        "SELECT t.id, t.category_id, {name} AS category_name, t.title, t.pinned_at, t.closed_at, \
         t.author_id, t.status FROM topics t JOIN categories c ON c.id = t.category_id \
         WHERE {VISIBLE} AND t.id = $4 AND {seen}",
        name = category_text("c.name", viewer.locale),
        seen = topic_seen("t", "$5"),
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .bind(id)
        .bind(viewer.id)
        .fetch_optional(c)
        .await)
}

pub async fn posts_in(
    exec: Exec<'_>,
    viewer: Viewer,
    topic_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let sql = format!(
        "SELECT p.id, p.author_id, u.display_name AS author_name, u.role AS author_role, \
         p.body_html, p.created_at, p.edited_at, p.deleted_at, p.status, p.status_reason, \
         p.moderator_edited_at \
         FROM posts p JOIN users u ON u.id = p.author_id WHERE p.topic_id = $1 AND {} \
         ORDER BY p.id LIMIT $4 OFFSET $5",
        post_in_thread("p", "$2")
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(topic_id)
        .bind(viewer.id)
        .bind(staff(viewer))
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

/// How many posts of the topic the reader sees on its pages.
pub async fn count_posts(
    exec: Exec<'_>,
    viewer: Viewer,
    topic_id: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM posts p WHERE p.topic_id = $1 AND {}",
        post_in_thread("p", "$2")
    );
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(topic_id)
        .bind(viewer.id)
        .bind(staff(viewer))
        .fetch_one(c)
        .await)
}

/// A post in a topic the viewer may see.
pub async fn post(exec: Exec<'_>, viewer: Viewer, id: i64) -> Result<Option<PostRef>, sqlx::Error> {
    let sql = format!(
        "SELECT p.id, p.topic_id, t.title AS topic_title, t.category_id, p.author_id, \
         p.body_markdown, p.body_html, p.deleted_at, p.status, \
         (SELECT COUNT(*) FROM posts q WHERE q.topic_id = p.topic_id AND q.id <= p.id AND {}) AS position, \
         (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = p.topic_id) = p.id AS opens_topic \
         FROM posts p JOIN topics t ON t.id = p.topic_id JOIN categories c ON c.id = t.category_id \
         WHERE {VISIBLE} AND p.id = $4 AND {} AND {}",
        post_in_thread("q", "$5"),
        topic_seen("t", "$5"),
        post_in_thread("p", "$5"),
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(staff(viewer))
        .bind(id)
        .bind(viewer.id)
        .fetch_optional(c)
        .await)
}

/// Keeps a post's text as a revision (by `by`, at `now`) before it changes, and for the first
/// post of a topic the topic's title with it.
const KEEP_REVISION: &str = "INSERT INTO post_revisions (post_id, body_markdown, title, edited_by, created_at) \
    SELECT p.id, p.body_markdown, \
    CASE WHEN p.id = (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = p.topic_id) THEN t.title END, \
    $2, $3 FROM posts p JOIN topics t ON t.id = p.topic_id WHERE p.id = $1";

/// Keeps the text (and a first post's title) as a revision, then sets the new text (Markdown
/// and HTML) if any; the post is marked edited either way (a title change is an edit too).
pub async fn edit_post(
    exec: Exec<'_>,
    id: i64,
    editor_id: i64,
    body: Option<(&str, &str)>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let update =
        "UPDATE posts SET body_markdown = $1, body_html = $2, edited_at = $3 WHERE id = $4";
    let touch = "UPDATE posts SET edited_at = $1 WHERE id = $2";
    on!(exec, |c| {
        sqlx::query(KEEP_REVISION)
            .bind(id)
            .bind(editor_id)
            .bind(now)
            .execute(&mut *c)
            .await?;
        let query = match body {
            Some((markdown, html)) => sqlx::query(update).bind(markdown).bind(html),
            None => sqlx::query(touch),
        };
        query.bind(now).bind(id).execute(c).await.map(|_| ())
    })
}

/// A deleted post keeps its place in the thread as a placeholder; its text is kept in the
/// revisions for moderators.
pub async fn delete_post(exec: Exec<'_>, id: i64, by: i64, now: i64) -> Result<(), sqlx::Error> {
    let blank =
        "UPDATE posts SET body_markdown = '', body_html = '', deleted_at = $1 WHERE id = $2";
    on!(exec, |c| {
        sqlx::query(KEEP_REVISION)
            .bind(id)
            .bind(by)
            .bind(now)
            .execute(&mut *c)
            .await?;
        sqlx::query(blank)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
            .map(|_| ())
    })
}

pub async fn revisions(exec: Exec<'_>, post_id: i64) -> Result<Vec<Revision>, sqlx::Error> {
    let sql = "SELECT r.body_markdown, r.title, u.display_name AS editor_name, r.created_at \
               FROM post_revisions r JOIN users u ON u.id = r.edited_by WHERE r.post_id = $1 ORDER BY r.id";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(post_id)
        .fetch_all(c)
        .await)
}

/// A topic's new title.
pub async fn rename_topic(exec: Exec<'_>, topic_id: i64, title: &str) -> Result<(), sqlx::Error> {
    let sql = "UPDATE topics SET title = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(title)
        .bind(topic_id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Sets one time column (`$1`) of the row `$2` that `sql` updates.
async fn set_time(
    exec: Exec<'_>,
    sql: &'static str,
    id: i64,
    at: Option<i64>,
) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Pins a topic to the top of its category (`Some(now)`) or unpins it (`None`).
pub async fn set_pinned(exec: Exec<'_>, topic_id: i64, at: Option<i64>) -> Result<(), sqlx::Error> {
    set_time(
        exec,
        "UPDATE topics SET pinned_at = $1 WHERE id = $2",
        topic_id,
        at,
    )
    .await
}

/// Closes a topic to replies (`Some(now)`) or reopens it (`None`).
pub async fn set_closed(exec: Exec<'_>, topic_id: i64, at: Option<i64>) -> Result<(), sqlx::Error> {
    set_time(
        exec,
        "UPDATE topics SET closed_at = $1 WHERE id = $2",
        topic_id,
        at,
    )
    .await
}

/// A category as coordinators manage it: archived or not, whoever may see it.
#[derive(Debug, Clone, FromRow)]
pub struct ManagedCategory {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The English name and description, when a coordinator wrote them.
    pub name_en: Option<String>,
    pub description_en: Option<String>,
    pub position: i64,
    pub min_role_rank: i64,
    pub only_relation: Option<String>,
    pub archived_at: Option<i64>,
    pub topic_count: i64,
}

const MANAGED_CATEGORY: &str = "SELECT c.id, c.name, c.description, c.name_en, c.description_en, \
    c.position, c.min_role_rank, \
    c.only_relation, c.archived_at, (SELECT COUNT(*) FROM topics t WHERE t.category_id = c.id) AS topic_count \
    FROM categories c";

/// Every category, archived ones included, in their display order.
pub async fn managed_categories(exec: Exec<'_>) -> Result<Vec<ManagedCategory>, sqlx::Error> {
    let sql = format!("{MANAGED_CATEGORY} ORDER BY c.position, c.id");
    on!(exec, |c| sqlx::query_as(&sql).fetch_all(c).await)
}

pub async fn managed_category(
    exec: Exec<'_>,
    id: i64,
) -> Result<Option<ManagedCategory>, sqlx::Error> {
    let sql = format!("{MANAGED_CATEGORY} WHERE c.id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Takes the write lock on every category row (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already
/// holds the database), so two coordinators reordering at once do not interleave their reads
/// and writes. Reads after it see what the other transaction committed.
pub async fn lock_categories(exec: Exec<'_>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE categories SET position = position";
    on!(exec, |c| sqlx::query(sql).execute(c).await.map(|_| ()))
}

/// A category's texts as a coordinator writes them: Japanese, and optionally English.
#[derive(Debug, Clone, Copy)]
pub struct CategoryTexts<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub name_en: Option<&'a str>,
    pub description_en: Option<&'a str>,
}

/// A new category, placed last.
pub async fn insert_category(
    exec: Exec<'_>,
    texts: CategoryTexts<'_>,
    min_role_rank: i64,
    only_relation: Option<&str>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO categories (name, description, name_en, description_en, position, \
               min_role_rank, only_relation, created_at) \
               SELECT $1, $2, $3, $4, COALESCE(MAX(position), 0) + 1, $5, $6, $7 FROM categories RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(texts.name)
        .bind(texts.description)
        .bind(texts.name_en)
        .bind(texts.description_en)
        .bind(min_role_rank)
        .bind(only_relation)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Whether the category exists (and so was changed).
pub async fn update_category(
    exec: Exec<'_>,
    id: i64,
    texts: CategoryTexts<'_>,
    min_role_rank: i64,
    only_relation: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE categories SET name = $1, description = $2, name_en = $3, description_en = $4, \
               min_role_rank = $5, only_relation = $6 WHERE id = $7";
    on!(exec, |c| sqlx::query(sql)
        .bind(texts.name)
        .bind(texts.description)
        .bind(texts.name_en)
        .bind(texts.description_en)
        .bind(min_role_rank)
        .bind(only_relation)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn set_category_position(
    exec: Exec<'_>,
    id: i64,
    position: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE categories SET position = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(position)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Archives a category (`Some(now)`) or restores it (`None`); its topics are kept either way.
pub async fn set_category_archived(
    exec: Exec<'_>,
    id: i64,
    at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE categories SET archived_at = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Marks a post as edited by a moderator (its page says so).
pub async fn note_moderator_edit(exec: Exec<'_>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE posts SET moderator_edited_at = $1 WHERE id = $2";
    set_time(exec, sql, id, Some(now)).await
}

/// A post waiting for review, as approving it needs it.
#[derive(Debug, Clone, FromRow)]
pub struct HeldPost {
    pub author_id: i64,
    pub topic_id: i64,
    pub category_id: i64,
    pub body_markdown: String,
    pub opens_topic: bool,
}

pub async fn held_post(exec: Exec<'_>, id: i64) -> Result<Option<HeldPost>, sqlx::Error> {
    let sql = "SELECT p.author_id, p.topic_id, t.category_id, p.body_markdown, \
               (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = p.topic_id) = p.id AS opens_topic \
               FROM posts p JOIN topics t ON t.id = p.topic_id \
               WHERE p.id = $1 AND p.status = 'held' AND p.deleted_at IS NULL";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// What moderation actions check of a post (any status, not deleted).
#[derive(Debug, Clone, FromRow)]
pub struct PostState {
    pub author_id: i64,
    pub topic_id: i64,
    #[sqlx(try_from = "String")]
    pub status: PostStatus,
    pub flagged_at: Option<i64>,
}

pub async fn post_state(exec: Exec<'_>, id: i64) -> Result<Option<PostState>, sqlx::Error> {
    let sql = "SELECT author_id, topic_id, status, flagged_at FROM posts \
               WHERE id = $1 AND deleted_at IS NULL";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}
