//! Queries on notification preferences (per member and kind, and quiet hours) and on the
//! notices every kind shares (the `notifications` table): waiting to be mailed, and listed in
//! the site with their read state. Replies and mentions are queued in [`super::notifications`].

use sqlx::FromRow;

use super::Exec;
use super::forums::Viewer;
use crate::on;

/// A member's chosen mode for each kind that has one (kinds without a row are mailed at once).
pub async fn prefs(exec: Exec<'_>, user_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = "SELECT kind, mode FROM notify_prefs WHERE user_id = $1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_all(c)
        .await)
}

pub async fn set_pref(
    exec: Exec<'_>,
    user_id: i64,
    kind: &str,
    mode: &str,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO notify_prefs (user_id, kind, mode) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id, kind) DO UPDATE SET mode = excluded.mode";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(kind)
        .bind(mode)
        .execute(c)
        .await
        .map(|_| ()))
}

/// A member's quiet hours as minutes after local midnight (from, until), if they chose some.
pub async fn quiet_hours(exec: Exec<'_>, user_id: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let sql = "SELECT quiet_from, quiet_until FROM users WHERE id = $1";
    let row: Option<(Option<i64>, Option<i64>)> = on!(exec, |c| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
    Ok(match row {
        Some((Some(from), Some(until))) => Some((from, until)),
        _ => None,
    })
}

pub async fn set_quiet_hours(
    exec: Exec<'_>,
    user_id: i64,
    window: Option<(i64, i64)>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET quiet_from = $1, quiet_until = $2 WHERE id = $3";
    on!(exec, |c| sqlx::query(sql)
        .bind(window.map(|w| w.0))
        .bind(window.map(|w| w.1))
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// A notice of a kind other than a reply or a mention, for one member.
pub struct NewNotice<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub ref_id: i64,
    pub title: &'a str,
    pub path: &'a str,
    /// Shown in the member's list of notifications (café reminders are mail only).
    pub listed: bool,
}

pub async fn insert(exec: Exec<'_>, notice: &NewNotice<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO notifications (user_id, kind, ref_id, title, path, listed, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(notice.user_id)
        .bind(notice.kind)
        .bind(notice.ref_id)
        .bind(notice.title)
        .bind(notice.path)
        .bind(i64::from(notice.listed))
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Every active member, for a notice to all (an announcement).
pub async fn active_members(exec: Exec<'_>) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT id FROM users WHERE status = 'active' ORDER BY id";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_all(c).await)
}

/// Takes back the notices of `kind` about `ref_id` (their subject is gone); returns whose.
pub async fn withdraw(exec: Exec<'_>, kind: &str, ref_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "DELETE FROM notifications WHERE kind = $1 AND ref_id = $2 RETURNING user_id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(kind)
        .bind(ref_id)
        .fetch_all(c)
        .await)
}

/// For each member and kind with notices waiting for mail: the oldest, the member's mode for
/// the kind and their quiet hours, so the mailer opens a unit of work only for what is due.
#[derive(Debug, Clone, FromRow)]
pub struct Waiting {
    pub user_id: i64,
    pub kind: String,
    pub oldest: i64,
    pub mode: String,
    pub quiet_from: Option<i64>,
    pub quiet_until: Option<i64>,
}

pub async fn waiting(exec: Exec<'_>) -> Result<Vec<Waiting>, sqlx::Error> {
    let sql = "SELECT n.user_id, n.kind, MIN(n.created_at) AS oldest, \
                 COALESCE(MIN(p.mode), 'now') AS mode, MIN(u.quiet_from) AS quiet_from, \
                 MIN(u.quiet_until) AS quiet_until \
               FROM notifications n JOIN users u ON u.id = n.user_id \
               LEFT JOIN notify_prefs p ON p.user_id = n.user_id AND p.kind = n.kind \
               WHERE n.mailed_at IS NULL GROUP BY n.user_id, n.kind ORDER BY n.user_id";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}

/// A notice waiting for mail.
#[derive(Debug, Clone, FromRow)]
pub struct Pending {
    pub id: i64,
    pub kind: String,
    pub post_id: Option<i64>,
    pub ref_id: Option<i64>,
    pub title: String,
    pub path: String,
    pub created_at: i64,
}

/// A member's notices waiting for mail, oldest first.
pub async fn pending_of(
    exec: Exec<'_>,
    user_id: i64,
    limit: i64,
) -> Result<Vec<Pending>, sqlx::Error> {
    let sql = "SELECT id, kind, post_id, ref_id, title, path, created_at FROM notifications \
               WHERE user_id = $1 AND mailed_at IS NULL ORDER BY id LIMIT $2";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(user_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Marks the notices handled by the mailer; returns the ids this transaction got (under
/// concurrency, only one gets each).
pub async fn mark_mailed(exec: Exec<'_>, ids: &[i64], now: i64) -> Result<Vec<i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE notifications SET mailed_at = $1 WHERE mailed_at IS NULL AND id IN ({}) RETURNING id",
        super::placeholders(2, ids.len())
    );
    on!(exec, |c| {
        let mut query = sqlx::query_scalar(&sql).bind(now);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })
}

/// An announcement as a mail about it needs it, while it is still up.
pub async fn announcement(
    exec: Exec<'_>,
    id: i64,
) -> Result<Option<(String, String, i64)>, sqlx::Error> {
    let sql = "SELECT title, body_markdown, created_at FROM announcements \
               WHERE id = $1 AND archived_at IS NULL";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// One item of a member's list of notifications, as the reader may still see it.
#[derive(Debug, Clone, FromRow)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub post_id: Option<i64>,
    /// The topic's title for a post, the announcement's, or the stored one (answers).
    pub title: String,
    pub author_name: Option<String>,
    pub path: String,
}

/// An answer to question `ref` (a column) still published, by an expert the reader (`reader`)
/// does not block and who does not block them.
fn answer_seen(question: &str, reader: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM qa_answers qa WHERE qa.question_id = {question} \
           AND qa.status = 'published' AND NOT EXISTS (SELECT 1 FROM user_blocks b3 \
             WHERE (b3.blocker_id = {reader} AND b3.blocked_id = qa.expert_id) \
                OR (b3.blocker_id = qa.expert_id AND b3.blocked_id = {reader})))"
    )
}

/// Whether the answer to `question_id` may still be mailed to `reader_id` (see [`answer_seen`]).
pub async fn answer_seen_by(
    exec: Exec<'_>,
    question_id: i64,
    reader_id: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM users WHERE id = $2 AND {}",
        answer_seen("$1", "$2")
    );
    let n: i64 = on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(question_id)
        .bind(reader_id)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

/// The rule for an item of the list (binds `$1`..`$3` as [`super::forums::VISIBLE`] and the
/// reader as `$4`): a post the reader may still see (a category open to them, published, not
/// deleted, no block either way), an announcement still there, or an answer still published
/// by an expert neither blocks.
fn listed_from() -> String {
    format!(
        "FROM notifications n \
         LEFT JOIN posts p ON p.id = n.post_id LEFT JOIN topics t ON t.id = p.topic_id \
         LEFT JOIN categories c ON c.id = t.category_id LEFT JOIN users u ON u.id = p.author_id \
         LEFT JOIN announcements a ON n.kind = 'announcement' AND a.id = n.ref_id \
         WHERE n.user_id = $4 AND n.listed = 1 AND ( \
           (n.post_id IS NOT NULL AND {visible} AND {surfaced} AND NOT EXISTS ( \
              SELECT 1 FROM user_blocks b2 WHERE b2.blocker_id = p.author_id AND b2.blocked_id = $4)) \
           OR (n.kind = 'announcement' AND a.id IS NOT NULL) \
           OR (n.kind = 'answer' AND {answer}))",
        visible = super::forums::VISIBLE,
        surfaced = super::forums::post_surfaced("p", "t", "$4"),
        answer = answer_seen("n.ref_id", "$4"),
    )
}

pub async fn count_listed(
    exec: Exec<'_>,
    viewer: Viewer,
    user_id: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) {}", listed_from());
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(user_id)
        .fetch_one(c)
        .await)
}

/// A page of the list, newest first; `only` narrows it to one item.
pub async fn listed(
    exec: Exec<'_>,
    viewer: Viewer,
    user_id: i64,
    only: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Listed>, sqlx::Error> {
    let sql = format!(
        "SELECT n.id, n.kind, n.created_at, n.read_at, n.post_id, \
           COALESCE(t.title, a.title, n.title) AS title, u.display_name AS author_name, n.path \
         {} AND ($5 = 0 OR n.id = $5) ORDER BY n.id DESC LIMIT $6 OFFSET $7",
        listed_from()
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(viewer.rank)
        .bind(viewer.relation)
        .bind(i64::from(viewer.staff))
        .bind(user_id)
        .bind(only.unwrap_or(0))
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

/// Marks one of the member's notices read; false when it was read already (or is not theirs).
pub async fn mark_read(
    exec: Exec<'_>,
    user_id: i64,
    id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql =
        "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL";
    let n = on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn mark_all_read(exec: Exec<'_>, user_id: i64, now: i64) -> Result<u64, sqlx::Error> {
    let sql = "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND listed = 1 AND read_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// The unread count the header shows (an indexed count over the member's unread notices, with
/// the cheap half of the list's rule: a post deleted, not published, or blocked either way is
/// not counted, nor an answer no longer published). Selected with the session user, so it costs no extra connection or query.
pub const UNREAD_COLUMN: &str = "(SELECT COUNT(*) FROM notifications n LEFT JOIN posts p ON p.id = n.post_id \
     WHERE n.user_id = users.id AND n.listed = 1 AND n.read_at IS NULL AND (n.post_id IS NULL \
       OR (p.deleted_at IS NULL AND p.status = 'published' AND NOT EXISTS (SELECT 1 FROM user_blocks b \
         WHERE (b.blocker_id = users.id AND b.blocked_id = p.author_id) \
            OR (b.blocker_id = p.author_id AND b.blocked_id = users.id)))) \
       AND (n.kind <> 'answer' OR EXISTS (SELECT 1 FROM qa_answers qa \
         WHERE qa.question_id = n.ref_id AND qa.status = 'published'))) AS unread_notices";

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    /// Migration 0017 on a database made by 0001–0016: the reply switch becomes preferences,
    /// waiting notifications keep waiting, mailed ones count as read.
    #[tokio::test]
    async fn the_reply_switch_becomes_preferences() {
        let mut db = SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("memory db");
        let migrations = sqlx::migrate!("migrations/sqlite");
        let run = |version: i64| {
            migrations
                .iter()
                .find(|m| m.version == version)
                .map(|m| m.sql.to_string())
                .expect("a migration")
        };
        for version in 1..=16 {
            if migrations.iter().any(|m| m.version == version) {
                sqlx::raw_sql(&run(version))
                    .execute(&mut db)
                    .await
                    .expect("older migration");
            }
        }
        sqlx::raw_sql(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO users (id, email, display_name, display_name_key, password_hash, role,
               relation, created_at, updated_at, email_replies)
             VALUES (1, 'a@example.org', 'a', 'a', 'x', 'member', 'patient', 0, 0, 0),
                    (2, 'b@example.org', 'b', 'b', 'x', 'member', 'patient', 0, 0, 1);
             INSERT INTO notifications (id, user_id, post_id, created_at, mailed_at, mentioned)
             VALUES (10, 2, 5, 100, NULL, 1), (11, 2, 6, 100, 200, 0);",
        )
        .execute(&mut db)
        .await
        .expect("old rows");
        sqlx::raw_sql(&run(17))
            .execute(&mut db)
            .await
            .expect("migration 0017");
        let prefs: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT user_id, kind, mode FROM notify_prefs ORDER BY user_id, kind")
                .fetch_all(&mut db)
                .await
                .expect("prefs");
        assert_eq!(
            prefs,
            vec![
                (1, "mention".to_owned(), "off".to_owned()),
                (1, "reply".to_owned(), "off".to_owned())
            ]
        );
        type Row = (i64, String, Option<i64>, Option<i64>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, mailed_at, read_at, listed FROM notifications ORDER BY id",
        )
        .fetch_all(&mut db)
        .await
        .expect("notifications");
        assert_eq!(
            rows,
            vec![
                (10, "mention".to_owned(), None, None, 1),
                (11, "reply".to_owned(), Some(200), Some(200), 1)
            ]
        );
    }
}
