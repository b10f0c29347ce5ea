//! Search: the normalized text of posts (`post_search`), kept in step by the write paths through
//! [`index_post`], the equivalent terms coordinators edit, and the query the search page runs.
//!
//! The dialects differ only in how a term is found. A term of 3 or more characters goes through
//! the trigram index (SQLite FTS5 `trigram`, PostgreSQL `pg_trgm` GIN with `LIKE`). A shorter one
//! cannot use trigrams; rather than scan every post for it (measured at 40–90 ms over 100,000
//! posts on this machine), it is looked up in an index of each post's distinct 1- and
//! 2-character pieces, "grams" (SQLite: a contentless FTS5 table written here; PostgreSQL: a GIN
//! expression index over `search_grams(…)`). Both are exact: no false matches, none missed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::FromRow;

use super::forums::{VISIBLE, Viewer, category_text};
use super::{Db, Dialect, Exec};
use crate::i18n::Locale;
use crate::on;
use crate::text::{self, Synonyms};

/// Shorter terms than this cannot use a trigram index.
pub const TRIGRAM: usize = 3;
/// How much a term found in a topic's title weighs against one occurrence in a body.
const TITLE_WEIGHT: i64 = 10;

#[derive(Debug, Clone, FromRow)]
pub struct TermGroup {
    pub id: i64,
    pub terms: String,
}

pub async fn term_groups(exec: Exec<'_>) -> Result<Vec<TermGroup>, sqlx::Error> {
    let sql = "SELECT id, terms FROM search_term_groups ORDER BY id";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}

/// The equivalent terms as the normalizer uses them.
pub async fn synonyms(exec: Exec<'_>) -> Result<Synonyms, sqlx::Error> {
    let groups = term_groups(exec).await?;
    Ok(Synonyms::from_groups(
        groups.iter().map(|g| g.terms.as_str()),
    ))
}

pub async fn add_term_group(exec: Exec<'_>, terms: &str, now: i64) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO search_term_groups (terms, created_at) VALUES ($1, $2) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(terms)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Whether there was such a group.
pub async fn remove_term_group(exec: Exec<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM search_term_groups WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// What indexing a post needs to know about it.
#[derive(FromRow)]
struct PostSource {
    category_id: i64,
    created_at: i64,
    deleted_at: Option<i64>,
    body_markdown: String,
    title: String,
    first_id: i64,
}

/// The FTS5 token of a gram: its UTF-8 bytes in hex, which the `ascii` tokenizer keeps whole.
fn gram_token(gram: &str) -> String {
    format!("g{}", hex::encode(gram.as_bytes()))
}

/// The grams of a post as the SQLite gram table stores them: tokens separated by spaces.
pub fn gram_tokens(title: &str, body: &str) -> String {
    text::grams(&format!("{title} {body}"))
        .iter()
        .map(|g| gram_token(g))
        .collect::<Vec<_>>()
        .join(" ")
}

/// On SQLite, replaces a post's row in the gram table (PostgreSQL's index follows by itself).
async fn write_grams(
    exec: Exec<'_>,
    post_id: i64,
    text: Option<(&str, &str)>,
) -> Result<(), sqlx::Error> {
    let Exec::Sqlite(c) = exec else {
        return Ok(());
    };
    sqlx::query("DELETE FROM post_search_grams WHERE rowid = $1")
        .bind(post_id)
        .execute(&mut *c)
        .await?;
    if let Some((title, body)) = text {
        sqlx::query("INSERT INTO post_search_grams (rowid, grams) VALUES ($1, $2)")
            .bind(post_id)
            .bind(gram_tokens(title, body))
            .execute(c)
            .await?;
    }
    Ok(())
}

/// A post's body as the search stores it: the text a reader sees (no Markdown syntax), normalized.
pub fn searchable_body(markdown: &str, synonyms: &Synonyms) -> String {
    text::normalize(&crate::markdown::plain_text(markdown), synonyms)
}

/// Brings a post's search text up to date after it was written, edited or deleted: call it in
/// the same transaction as the change. A deleted post leaves the index; a topic's first post
/// carries the topic's title.
pub async fn index_post(mut exec: Exec<'_>, post_id: i64) -> Result<(), sqlx::Error> {
    let synonyms = synonyms(exec.again()).await?;
    let sql = "SELECT t.category_id, p.created_at, p.deleted_at, p.body_markdown, t.title, \
               (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = p.topic_id) AS first_id \
               FROM posts p JOIN topics t ON t.id = p.topic_id WHERE p.id = $1";
    let source: Option<PostSource> = on!(exec.again(), |c| sqlx::query_as(sql)
        .bind(post_id)
        .fetch_optional(c)
        .await)?;
    match source {
        Some(post) if post.deleted_at.is_none() => {
            let title = if post.first_id == post_id {
                text::normalize(&post.title, &synonyms)
            } else {
                String::new()
            };
            let body = searchable_body(&post.body_markdown, &synonyms);
            let upsert = "INSERT INTO post_search (post_id, category_id, created_at, title, body) \
                          VALUES ($1, $2, $3, $4, $5) ON CONFLICT (post_id) DO UPDATE \
                          SET category_id = excluded.category_id, title = excluded.title, body = excluded.body";
            on!(exec.again(), |c| sqlx::query(upsert)
                .bind(post_id)
                .bind(post.category_id)
                .bind(post.created_at)
                .bind(&title)
                .bind(&body)
                .execute(c)
                .await
                .map(|_| ()))?;
            write_grams(exec, post_id, Some((&title, &body))).await
        }
        _ => {
            let delete = "DELETE FROM post_search WHERE post_id = $1";
            on!(exec.again(), |c| sqlx::query(delete)
                .bind(post_id)
                .execute(c)
                .await
                .map(|_| ()))?;
            write_grams(exec, post_id, None).await
        }
    }
}

/// Re-normalizes every indexed post (and the Q&A archive's answers) with the current equivalent
/// terms in one go, writing only the rows whose text changes; returns rows changed. The server
/// does this in batches through a background job (`crate::jobs`); this is for tools that own the
/// database (the benchmark's set-up).
pub async fn reindex_all(mut exec: Exec<'_>) -> Result<u64, sqlx::Error> {
    let synonyms = synonyms(exec.again()).await?;
    let mut after = 0;
    let mut changed = 0;
    loop {
        let batch = reindex_posts(exec.again(), &synonyms, after, 1_000).await?;
        changed += batch.changed;
        match batch.last {
            Some(last) => after = last,
            None => break,
        }
    }
    let mut after = 0;
    loop {
        let batch = super::qa::reindex(exec.again(), &synonyms, after, 1_000).await?;
        changed += batch.changed;
        match batch.last {
            Some(last) => after = last,
            None => break,
        }
    }
    Ok(changed)
}

/// One batch of re-normalizing: the last id looked at (`None` when there was none left), how
/// many rows were looked at and how many changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reindexed {
    pub last: Option<i64>,
    pub seen: u64,
    pub changed: u64,
}

/// How many indexed posts there are (the size of a re-normalizing job's first stage).
pub async fn indexed_posts(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM post_search";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_one(c).await)
}

/// Re-normalizes, with `synonyms`, up to `limit` indexed posts after the post `after`, in id
/// order, writing only the rows whose text changes.
pub async fn reindex_posts(
    mut exec: Exec<'_>,
    synonyms: &Synonyms,
    after: i64,
    limit: i64,
) -> Result<Reindexed, sqlx::Error> {
    let sql = "SELECT s.post_id, s.title, s.body, p.body_markdown, t.title AS topic_title,                (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = p.topic_id) AS first_id                FROM post_search s JOIN posts p ON p.id = s.post_id JOIN topics t ON t.id = p.topic_id                WHERE s.post_id > $1 ORDER BY s.post_id LIMIT $2";
    type Row = (i64, String, String, String, String, i64);
    let rows: Vec<Row> = on!(exec.again(), |c| sqlx::query_as(sql)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?;
    let mut batch = Reindexed {
        last: rows.last().map(|r| r.0),
        seen: rows.len() as u64,
        changed: 0,
    };
    let update = "UPDATE post_search SET title = $1, body = $2 WHERE post_id = $3";
    for (id, old_title, old_body, markdown, topic_title, first_id) in rows {
        let title = if first_id == id {
            text::normalize(&topic_title, synonyms)
        } else {
            String::new()
        };
        let body = searchable_body(&markdown, synonyms);
        if title == old_title && body == old_body {
            continue;
        }
        on!(exec.again(), |c| sqlx::query(update)
            .bind(&title)
            .bind(&body)
            .bind(id)
            .execute(c)
            .await
            .map(|_| ()))?;
        write_grams(exec.again(), id, Some((&title, &body))).await?;
        batch.changed += 1;
    }
    Ok(batch)
}

/// Indexes posts that have no search text yet (posts written before search existed, or by a
/// path that did not index), in transactions of a few hundred. Run at startup; returns how many.
pub async fn backfill(db: &Db) -> Result<u64, sqlx::Error> {
    let sql = "SELECT p.id FROM posts p WHERE p.deleted_at IS NULL \
               AND NOT EXISTS (SELECT 1 FROM post_search s WHERE s.post_id = p.id) ORDER BY p.id";
    let missing: Vec<i64> = {
        let mut conn = db.conn().await?;
        on!(conn.exec(), |c| sqlx::query_scalar(sql).fetch_all(c).await)?
    };
    for chunk in missing.chunks(500) {
        let mut tx = db.begin().await?;
        for &id in chunk {
            index_post(tx.exec(), id).await?;
        }
        tx.commit().await?;
    }
    Ok(missing.len() as u64)
}

/// Candidate posts a search looks at, at most: the newest ones the index gives. Beyond this the
/// page says so and asks for another word; it bounds the text read whatever the query.
pub const MAX_CANDIDATES: i64 = 500;
/// Trigrams of a term looked up in the SQLite index, at most: more narrow little, and each one
/// read costs its whole list of posts.
const TRIGRAMS_PER_TERM: usize = 8;
/// A search still running after this is stopped, and the reader asked to narrow it: the last
/// safety net, for costs that the caps above do not foresee.
pub const TIME_LIMIT: Duration = Duration::from_secs(1);

/// One matching post, with what its line in a result shows.
#[derive(Debug, Clone, FromRow)]
pub struct PostHit {
    pub post_id: i64,
    pub author_name: String,
    pub body_markdown: String,
    pub created_at: i64,
    pub score: i64,
}

/// A topic with matching posts: its best ones, best first.
#[derive(Debug, Clone)]
pub struct TopicHit {
    pub topic_id: i64,
    pub topic_title: String,
    pub category_name: String,
    /// Matching posts in the topic, shown or not.
    pub matches: i64,
    pub posts: Vec<PostHit>,
}

/// One page of topics found, and the totals over every page.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub topics: Vec<TopicHit>,
    pub topic_total: i64,
    pub post_total: i64,
    /// Whether the index gave [`MAX_CANDIDATES`] posts: then only the newest of the posts that
    /// hold the words were looked at, and the totals count only those.
    pub capped: bool,
}

/// What became of a search.
#[derive(Debug)]
pub enum Outcome {
    Found(Found),
    /// It ran past [`TIME_LIMIT`] and was stopped.
    TooSlow,
}

/// One row of the query: a shown post with its topic's figures.
#[derive(FromRow)]
struct Row {
    topic_id: i64,
    topic_title: String,
    category_name: String,
    matches: i64,
    topic_total: i64,
    post_total: i64,
    scanned: i64,
    #[sqlx(flatten)]
    post: PostHit,
}

/// A `LIKE` pattern that finds `term` anywhere (PostgreSQL's default escape is `\`).
fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How a post scores for the term in the parameter `raw`: its occurrences in the body (counted
/// in bytes: octet_length needs no pass over the characters), and a weight for the title.
fn occurrences(raw: &str) -> String {
    format!(
        "(octet_length(s.body) - octet_length(replace(s.body, {raw}, ''))) / octet_length({raw}) \
         + CASE WHEN octet_length(s.title) > octet_length(replace(s.title, {raw}, '')) \
         THEN {TITLE_WEIGHT} ELSE 0 END"
    )
}

/// An FTS5 string: the term as one phrase, whatever characters it holds.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// At most `max` of `items`, spread evenly from the first to the last.
fn spread<T: Clone>(items: &[T], max: usize) -> Vec<T> {
    if items.len() <= max || max < 2 {
        return items.iter().take(max.max(1)).cloned().collect();
    }
    (0..max)
        .map(|i| items[i * (items.len() - 1) / (max - 1)].clone())
        .collect()
}

/// The query text and its text parameters (after $1 rank, $2 relation, $3 staff, $4 topics per
/// page, $5 offset, $6 posts per topic, $7 candidates) for these normalized terms, leaving out
/// posts by the `blocked` authors, with category names in `locale`.
///
/// Three steps, so that the cost is bounded whatever the text: the index gives at most
/// [`MAX_CANDIDATES`] of the newest visible posts that may hold every term (an exact gram
/// lookup for short terms; for longer ones, PostgreSQL's trigram `LIKE`, or on SQLite a few of
/// the term's distinct trigrams, never FTS5's phrase match, whose cost grows with repeated
/// text); only those are checked for the exact terms and scored; then they are grouped by topic.
///
/// A term with several forms (while a re-normalizing job runs: the query read under the terms
/// as they are and as they were, see `jobs::reindex`) matches a post holding any of them.
fn search_sql(
    dialect: Dialect,
    reader: i64,
    locale: Locale,
    terms: &[Vec<String>],
    blocked: &[i64],
) -> (String, Vec<String>) {
    let mut params: Vec<String> = Vec::new();
    let mut param = |value: String| {
        params.push(value);
        format!("${}", params.len() + 7)
    };
    let mut candidate = Vec::new();
    // The reader's id from their session, written as a number: nothing typed goes in here.
    let mut exact = vec![super::forums::post_surfaced("p", "t", &reader.to_string())];
    let mut score = Vec::new();
    let mut trigrams = Vec::new();
    let mut grams = Vec::new();
    for forms in terms {
        let [term] = forms.as_slice() else {
            let mut found = Vec::new();
            let mut exactly = Vec::new();
            let mut scores = Vec::new();
            for form in forms {
                let raw = param(form.clone());
                scores.push(occurrences(&raw));
                let short = form.chars().count() < TRIGRAM;
                match (dialect, short) {
                    (Dialect::Sqlite, true) => {
                        let phrase = param(fts_phrase(&gram_token(form)));
                        let index = format!(
                            "s.post_id IN (SELECT rowid FROM post_search_grams WHERE post_search_grams MATCH {phrase})"
                        );
                        exactly.push(index.clone());
                        found.push(index);
                    }
                    (Dialect::Sqlite, false) => {
                        let distinct = text::trigrams(form);
                        let matches = param(
                            spread(&distinct, TRIGRAMS_PER_TERM)
                                .iter()
                                .map(|t| fts_phrase(t))
                                .collect::<Vec<_>>()
                                .join(" AND "),
                        );
                        found.push(format!(
                            "s.post_id IN (SELECT rowid FROM post_search_fts WHERE post_search_fts MATCH {matches})"
                        ));
                        exactly.push(format!(
                            "(instr(s.body, {raw}) > 0 OR instr(s.title, {raw}) > 0)"
                        ));
                    }
                    (Dialect::Postgres, true) => {
                        found.push(format!(
                            "search_grams(s.title || ' ' || s.body) @> ARRAY[{raw}]"
                        ));
                    }
                    (Dialect::Postgres, false) => {
                        let pattern = param(contains_pattern(form));
                        found.push(format!("(s.body LIKE {pattern} OR s.title LIKE {pattern})"));
                    }
                }
            }
            score.push(scores.join(" + "));
            candidate.push(format!("({})", found.join(" OR ")));
            if !exactly.is_empty() {
                exact.push(format!("({})", exactly.join(" OR ")));
            }
            continue;
        };
        let raw = param(term.clone());
        // Occurrences counted in bytes: octet_length needs no pass over the characters.
        score.push(occurrences(&raw));
        let short = term.chars().count() < TRIGRAM;
        match (dialect, short) {
            (Dialect::Sqlite, true) => grams.push(fts_phrase(&gram_token(term))),
            (Dialect::Sqlite, false) => {
                let distinct = text::trigrams(term);
                trigrams.extend(
                    spread(&distinct, TRIGRAMS_PER_TERM)
                        .iter()
                        .map(|t| fts_phrase(t)),
                );
                exact.push(format!(
                    "(instr(s.body, {raw}) > 0 OR instr(s.title, {raw}) > 0)"
                ));
            }
            (Dialect::Postgres, true) => grams.push(raw),
            (Dialect::Postgres, false) => {
                let pattern = param(contains_pattern(term));
                candidate.push(format!("(s.body LIKE {pattern} OR s.title LIKE {pattern})"));
            }
        }
    }
    if !grams.is_empty() {
        match dialect {
            Dialect::Sqlite => {
                let matches = param(grams.join(" AND "));
                candidate.push(format!(
                    "s.post_id IN (SELECT rowid FROM post_search_grams WHERE post_search_grams MATCH {matches})"
                ));
            }
            Dialect::Postgres => candidate.push(format!(
                "search_grams(s.title || ' ' || s.body) @> ARRAY[{}]",
                grams.join(", ")
            )),
        }
    }
    if !trigrams.is_empty() {
        let matches = param(trigrams.join(" AND "));
        candidate.push(format!(
            "s.post_id IN (SELECT rowid FROM post_search_fts WHERE post_search_fts MATCH {matches})"
        ));
    }
    if !blocked.is_empty() {
        // Ids from the database, written as numbers: nothing typed by anyone goes in here.
        let ids: Vec<String> = blocked.iter().map(i64::to_string).collect();
        candidate.push(format!(
            "NOT EXISTS (SELECT 1 FROM posts b WHERE b.id = s.post_id AND b.author_id IN ({}))",
            ids.join(", ")
        ));
    }
    // Candidates and hits are materialized narrow (ids, time, score) before they are counted and
    // sorted, so that no window carries the text along (on PostgreSQL it spilled to disk). The
    // candidates are ordered by time, which no index serves: the planner then reads the search
    // index rather than walking every post newest first.
    let sql = format!(
        "WITH candidates AS MATERIALIZED (\
            SELECT s.post_id FROM post_search s \
            WHERE s.category_id IN (SELECT c.id FROM categories c WHERE {VISIBLE}) AND {candidate} \
            ORDER BY s.created_at DESC, s.post_id DESC LIMIT $7\
         ), hits AS MATERIALIZED (\
            SELECT s.post_id, p.topic_id, s.created_at, CAST({score} AS BIGINT) AS score \
            FROM candidates k JOIN post_search s ON s.post_id = k.post_id JOIN posts p ON p.id = s.post_id \
            JOIN topics t ON t.id = p.topic_id \
            WHERE {exact}\
         ), found AS (\
            SELECT topic_id, MAX(score) AS best, MAX(created_at) AS latest, COUNT(*) AS matches \
            FROM hits GROUP BY topic_id\
         ), page AS (\
            SELECT topic_id, best, latest, matches, COUNT(*) OVER () AS topic_total, \
               CAST(SUM(matches) OVER () AS BIGINT) AS post_total FROM found \
            ORDER BY best DESC, latest DESC, topic_id DESC LIMIT $4 OFFSET $5\
         ), shown AS (\
            SELECT h.post_id, h.topic_id, h.created_at, h.score, ROW_NUMBER() OVER (\
               PARTITION BY h.topic_id ORDER BY h.score DESC, h.created_at DESC, h.post_id DESC) AS n \
            FROM hits h WHERE h.topic_id IN (SELECT topic_id FROM page)\
         ) \
         SELECT g.topic_id, t.title AS topic_title, {category} AS category_name, g.matches, \
            g.topic_total, g.post_total, (SELECT COUNT(*) FROM candidates) AS scanned, \
            h.post_id, u.display_name AS author_name, p.body_markdown, h.created_at, h.score \
         FROM shown h JOIN page g ON g.topic_id = h.topic_id JOIN posts p ON p.id = h.post_id \
            JOIN topics t ON t.id = g.topic_id JOIN categories c ON c.id = t.category_id \
            JOIN users u ON u.id = p.author_id \
         WHERE h.n <= $6 \
         ORDER BY g.best DESC, g.latest DESC, g.topic_id DESC, h.n",
        candidate = candidate.join(" AND "),
        score = score.join(" + "),
        exact = exact.join(" AND "),
        category = category_text("c.name", locale),
    );
    (sql, params)
}

/// Rows in order (topic by topic, best first) as topics.
fn group(rows: Vec<Row>) -> Found {
    let mut found = Found::default();
    for row in rows {
        found.topic_total = row.topic_total;
        found.post_total = row.post_total;
        found.capped = row.scanned >= MAX_CANDIDATES;
        match found.topics.last_mut() {
            Some(topic) if topic.topic_id == row.topic_id => topic.posts.push(row.post),
            _ => found.topics.push(TopicHit {
                topic_id: row.topic_id,
                topic_title: row.topic_title,
                category_name: row.category_name,
                matches: row.matches,
                posts: vec![row.post],
            }),
        }
    }
    found
}

/// Which page of topics, and how many of each topic's posts to show.
#[derive(Debug, Clone, Copy)]
pub struct PageOf {
    pub topics: i64,
    pub offset: i64,
    pub posts_per_topic: i64,
}

/// Topics in categories the viewer may see with posts whose text holds every term (already
/// normalized, none empty), except posts by members the reader blocks (`blocked`, see
/// `db::blocks::blocked_ids`): the topics with the best post first (most matches and title
/// matches, then the newest), each with its best posts. Stopped after [`TIME_LIMIT`].
pub async fn search(
    exec: Exec<'_>,
    viewer: Viewer,
    blocked: &[i64],
    terms: &[String],
    page: PageOf,
) -> Result<Outcome, sqlx::Error> {
    let terms: Vec<Vec<String>> = terms.iter().map(|t| vec![t.clone()]).collect();
    search_forms(exec, viewer, blocked, &terms, page).await
}

/// [`search`] with each term given as one or more forms (a post holding any form of a term
/// holds the term): the query read under several sets of equivalent terms.
pub async fn search_forms(
    exec: Exec<'_>,
    viewer: Viewer,
    blocked: &[i64],
    terms: &[Vec<String>],
    page: PageOf,
) -> Result<Outcome, sqlx::Error> {
    if terms.is_empty() || terms.iter().any(Vec::is_empty) {
        return Ok(Outcome::Found(Found::default()));
    }
    let dialect = match exec {
        Exec::Sqlite(_) => Dialect::Sqlite,
        Exec::Postgres(_) => Dialect::Postgres,
    };
    let (sql, params) = search_sql(dialect, viewer.id, viewer.locale, terms, blocked);
    // A macro rather than a closure: the query is built once for each driver's types.
    macro_rules! query {
        () => {{
            let mut query = sqlx::query_as::<_, Row>(&sql)
                .bind(viewer.rank)
                .bind(viewer.relation)
                .bind(i64::from(viewer.staff))
                .bind(page.topics)
                .bind(page.offset)
                .bind(page.posts_per_topic)
                .bind(MAX_CANDIDATES);
            for value in &params {
                query = query.bind(value.as_str());
            }
            query
        }};
    }
    let rows = match exec {
        Exec::Sqlite(c) => {
            let deadline = SqliteDeadline::arm(c, TIME_LIMIT).await?;
            let rows = query!().fetch_all(&mut *c).await;
            deadline.disarm(c).await?;
            rows
        }
        Exec::Postgres(c) => {
            // SET LOCAL ends with the transaction, however the request ends.
            let mut tx = sqlx::Connection::begin(&mut *c).await?;
            let timeout = format!("SET LOCAL statement_timeout = {}", TIME_LIMIT.as_millis());
            sqlx::query(&timeout).execute(&mut *tx).await?;
            let rows = query!().fetch_all(&mut *tx).await;
            if rows.is_ok() {
                tx.commit().await?;
            }
            rows
        }
    };
    match rows {
        Ok(rows) => Ok(Outcome::Found(group(rows))),
        Err(e) if stopped_by_time_limit(&e) => Ok(Outcome::TooSlow),
        Err(e) => Err(e),
    }
}

/// SQLite's interruption (SQLITE_INTERRUPT) or PostgreSQL's statement timeout (57014).
fn stopped_by_time_limit(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "9" || code == "57014")
}

/// A progress handler that interrupts SQLite's statements once a deadline has passed. If the
/// request is dropped before [`SqliteDeadline::disarm`], the guard's drop still turns the
/// handler into a no-op, so the pooled connection never interrupts someone else's query.
struct SqliteDeadline {
    armed: Arc<AtomicBool>,
}

impl SqliteDeadline {
    /// Virtual machine steps between two looks at the clock.
    const STEPS: i32 = 1_000;

    async fn arm(c: &mut sqlx::SqliteConnection, limit: Duration) -> Result<Self, sqlx::Error> {
        let armed = Arc::new(AtomicBool::new(true));
        let deadline = Instant::now() + limit;
        let live = Arc::clone(&armed);
        c.lock_handle()
            .await?
            .set_progress_handler(Self::STEPS, move || {
                !live.load(Ordering::Relaxed) || Instant::now() < deadline
            });
        Ok(SqliteDeadline { armed })
    }

    async fn disarm(self, c: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
        c.lock_handle().await?.remove_progress_handler();
        Ok(())
    }
}

impl Drop for SqliteDeadline {
    fn drop(&mut self) {
        self.armed.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_phrases_are_literal() {
        assert_eq!(contains_pattern("100%_a\\"), "%100\\%\\_a\\\\%");
        assert_eq!(fts_phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_few_trigrams_are_spread_over_the_term() {
        let items: Vec<usize> = (0..20).collect();
        assert_eq!(spread(&items, 4), [0, 6, 12, 19]);
        assert_eq!(spread(&items[..3], 4), [0, 1, 2]);
    }

    #[test]
    fn short_terms_use_grams_and_long_ones_trigrams() {
        let terms = vec![vec!["仕事".to_owned()], vec!["抗がん剤".to_owned()]];
        let (sql, params) = search_sql(Dialect::Sqlite, 1, Locale::Ja, &terms, &[]);
        assert!(
            sql.contains("post_search_grams MATCH $10")
                && sql.contains("post_search_fts MATCH $11")
                && sql.contains("instr(s.body, $9) > 0"),
            "{sql}"
        );
        assert_eq!(
            params,
            [
                "仕事",
                "抗がん剤",
                "\"ge4bb95e4ba8b\"",
                "\"抗がん\" AND \"がん剤\""
            ]
        );
        let (sql, params) = search_sql(Dialect::Postgres, 1, Locale::Ja, &terms, &[7, 9]);
        assert!(
            sql.contains("@> ARRAY[$8]") && sql.contains("LIKE $10"),
            "{sql}"
        );
        assert_eq!(params, ["仕事", "抗がん剤", "%抗がん剤%"]);
        assert!(sql.contains("b.author_id IN (7, 9)"), "{sql}");
    }

    #[test]
    fn a_term_with_several_forms_matches_any_of_them() {
        let terms = vec![vec!["腫瘍".to_owned(), "しゅよう".to_owned()]];
        let (sql, params) = search_sql(Dialect::Sqlite, 1, Locale::Ja, &terms, &[]);
        assert!(
            sql.contains("(s.post_id IN (SELECT rowid FROM post_search_grams WHERE post_search_grams MATCH $9) OR s.post_id IN (SELECT rowid FROM post_search_fts WHERE post_search_fts MATCH $11))"),
            "{sql}"
        );
        assert!(
            sql.contains("OR (instr(s.body, $10) > 0 OR instr(s.title, $10) > 0))"),
            "{sql}"
        );
        assert_eq!(params[0], "腫瘍");
        assert_eq!(params[2], "しゅよう");
        let (sql, params) = search_sql(Dialect::Postgres, 1, Locale::Ja, &terms, &[]);
        assert!(
            sql.contains("(search_grams(s.title || ' ' || s.body) @> ARRAY[$8] OR (s.body LIKE $10 OR s.title LIKE $10))"),
            "{sql}"
        );
        assert_eq!(params, ["腫瘍", "しゅよう", "%しゅよう%"]);
    }

    /// A statement that runs for minutes unless stopped.
    const ENDLESS: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                           WHERE i < 1000000000) SELECT COUNT(*) FROM n";

    #[tokio::test]
    async fn the_sqlite_deadline_stops_a_statement_and_then_stays_out_of_the_way() {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("connect");
        let deadline = SqliteDeadline::arm(&mut c, Duration::from_millis(50))
            .await
            .expect("arm");
        let started = Instant::now();
        let stopped = sqlx::query_scalar::<_, i64>(ENDLESS)
            .fetch_one(&mut c)
            .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        let e = stopped.expect_err("stopped");
        assert!(stopped_by_time_limit(&e), "{e}");
        // The deadline has passed (it stopped the statement): once disarmed, it stops nothing.
        deadline.disarm(&mut c).await.expect("disarm");
        let quick = "SELECT COUNT(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL \
                     SELECT i + 1 FROM n WHERE i < 300000) SELECT i FROM n)";
        let n: i64 = sqlx::query_scalar(quick)
            .fetch_one(&mut c)
            .await
            .expect("runs");
        assert_eq!(n, 300_000);
        // Dropped without being disarmed (a request that went away): the handler stays on the
        // connection but no longer stops anything.
        drop(
            SqliteDeadline::arm(&mut c, Duration::ZERO)
                .await
                .expect("arm"),
        );
        let n: i64 = sqlx::query_scalar(quick)
            .fetch_one(&mut c)
            .await
            .expect("runs");
        assert_eq!(n, 300_000);
    }

    #[test]
    fn a_repeated_letter_is_one_trigram() {
        let terms = vec![vec!["a".repeat(99)]];
        let (_, params) = search_sql(Dialect::Sqlite, 1, Locale::Ja, &terms, &[]);
        assert_eq!(params[1], "\"aaa\"");
    }
}
