//! The registry of member data: for every table and column that holds a member's data or refers
//! to a member, what account deletion does with it. Deletion ([`delete_member`]) is driven by it,
//! and the export of a member's own data (`db::member_export`) is checked against it.
//!
//! A test reads the live schema of both databases ([`referring_columns`]) and fails when a
//! column that refers to `users` (a foreign key to it, or a column named `user_id` or
//! `*_user_id`), or any column of `users` itself, is missing here: a new table is covered before
//! CI passes.

use crate::db::Exec;
use crate::on;

/// What deletion does with a column's rows that refer to the leaving member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The member's rows are deleted (`DELETE … WHERE column = member`).
    Erase,
    /// What the member wrote (posts, topics, café messages, questions): deleted or kept under
    /// "退会したメンバー", as the member chooses.
    Content,
    /// Kept as it is, pointing at the tombstone (shown as "退会したメンバー"), for the reason given.
    Keep(&'static str),
    /// Erased or anonymised by its own step of [`delete_member`], as described.
    Special(&'static str),
}

/// One column of the registry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub table: &'static str,
    pub column: &'static str,
    pub fate: Fate,
}

const fn entry(table: &'static str, column: &'static str, fate: Fate) -> Entry {
    Entry {
        table,
        column,
        fate,
    }
}

use Fate::{Content, Erase, Keep, Special};

const STAFF_RECORD: &str = "a staff member's record of the site's work, not the member's data";
const THEIRS: &str = "another member's data (it only names the member), shown as 退会したメンバー";

/// Every table and column holding a member's data or referring to a member.
pub const REGISTRY: &[Entry] = &[
    // The account itself: kept as a tombstone so that kept content still has an author.
    entry("users", "id", Special("kept as the tombstone's id")),
    entry(
        "users",
        "email",
        Special("replaced by a placeholder that cannot collide"),
    ),
    entry(
        "users",
        "display_name",
        Special("replaced by 退会したメンバー"),
    ),
    entry(
        "users",
        "display_name_key",
        Special("replaced by a key no name can have"),
    ),
    entry("users", "display_name_skeleton", Special("cleared")),
    entry(
        "users",
        "password_hash",
        Special("cleared: no password can match"),
    ),
    entry(
        "users",
        "role",
        Keep("counted in the statistics; not personal"),
    ),
    entry(
        "users",
        "relation",
        Keep("counted in the statistics; not personal"),
    ),
    entry(
        "users",
        "status",
        Special("deactivated, with deleted_at set"),
    ),
    entry("users", "locale", Special("reset to the default")),
    entry("users", "text_size", Special("reset to the default")),
    entry(
        "users",
        "auth_version",
        Special("moved on: every session ends at once"),
    ),
    entry(
        "users",
        "invited_by",
        Keep("who invited whom is the site's record"),
    ),
    entry(
        "users",
        "created_at",
        Keep("counted in the statistics (joined per month)"),
    ),
    entry("users", "updated_at", Special("set to the deletion's time")),
    entry("users", "quiet_from", Special("cleared")),
    entry("users", "quiet_until", Special("cleared")),
    entry("users", "silenced_until", Special("cleared")),
    entry(
        "users",
        "silence_reason",
        Special("cleared (the log keeps the staff's record)"),
    ),
    entry("users", "suspended_until", Special("cleared")),
    entry(
        "users",
        "suspend_reason",
        Special("cleared (the log keeps the staff's record)"),
    ),
    entry("users", "cafe_invisible", Special("reset to the default")),
    entry("users", "deleted_at", Special("set to the deletion's time")),
    // Joining and signing in.
    entry(
        "invitations",
        "accepted_user_id",
        Special("the address is replaced by the placeholder; the row stays for the statistics"),
    ),
    entry("invitations", "invited_by", Keep(STAFF_RECORD)),
    entry("user_tokens", "user_id", Erase),
    // Forums.
    entry("topics", "author_id", Content),
    entry("posts", "author_id", Content),
    entry(
        "post_revisions",
        "edited_by",
        Keep(
            "edits of others' posts by staff; the member's own posts' history goes with them when deleted",
        ),
    ),
    entry("post_reactions", "user_id", Erase),
    entry("topic_reads", "user_id", Erase),
    entry("topic_subscriptions", "user_id", Erase),
    entry("category_subscriptions", "user_id", Erase),
    entry("notifications", "user_id", Erase),
    entry("notify_prefs", "user_id", Erase),
    entry("member_profiles", "user_id", Erase),
    entry("drafts", "user_id", Erase),
    entry("user_blocks", "blocker_id", Erase),
    entry(
        "user_blocks",
        "blocked_id",
        Keep("the blocker's choice: it still hides the kept content from them"),
    ),
    entry("announcements", "author_id", Keep(STAFF_RECORD)),
    // Moderation and safety.
    entry(
        "reports",
        "reporter_id",
        Special(
            "the report stays for the moderators' record and the statistics; the reporter's note is erased",
        ),
    ),
    entry("reports", "subject_user_id", Keep(STAFF_RECORD)),
    entry("reports", "resolved_by", Keep(STAFF_RECORD)),
    entry("alerts", "subject_user_id", Keep(STAFF_RECORD)),
    entry("alerts", "acknowledged_by", Keep(STAFF_RECORD)),
    entry("staff_notes", "author_id", Keep(STAFF_RECORD)),
    entry("staff_notes", "target_id", Keep(STAFF_RECORD)),
    entry(
        "audit_log",
        "actor_id",
        Keep("the log is the site's and cannot be changed; it names the tombstone"),
    ),
    entry(
        "audit_log",
        "subject_user_id",
        Keep("the log is the site's and cannot be changed; it names the tombstone"),
    ),
    entry("watched_words", "created_by", Keep(STAFF_RECORD)),
    entry("crisis_words", "created_by", Keep(STAFF_RECORD)),
    // The café.
    entry("cafe_messages", "author_id", Content),
    entry("cafe_messages", "status_changed_by", Keep(STAFF_RECORD)),
    entry("cafe_mutes", "user_id", Erase),
    entry("cafe_mutes", "muted_by", Keep(STAFF_RECORD)),
    entry("cafe_reminders", "user_id", Erase),
    entry("cafe_series", "created_by", Keep(STAFF_RECORD)),
    entry("cafe_sessions", "created_by", Keep(STAFF_RECORD)),
    entry(
        "cafe_sessions",
        "facilitator_id",
        Keep("the session's record; shown as 退会したメンバー"),
    ),
    // Expert Q&A.
    entry("expert_profiles", "user_id", Erase),
    entry(
        "qa_slots",
        "expert_id",
        Keep("the site's schedule, with others' questions in it"),
    ),
    entry("qa_slots", "created_by", Keep(STAFF_RECORD)),
    entry("qa_questions", "asker_id", Content),
    entry("qa_questions", "screened_by", Keep(STAFF_RECORD)),
    entry(
        "qa_answers",
        "expert_id",
        Keep("an answer to another member's question belongs with it"),
    ),
    // The member's exports of their own data.
    entry(
        "data_exports",
        "user_id",
        Special("erased with their prepared parts"),
    ),
    // Background jobs.
    entry("jobs", "started_by", Keep(STAFF_RECORD)),
    // Mail.
    entry(
        "outbox",
        "recipient",
        Special(
            "every mail to the member's address is erased; their name is taken out of mails to others",
        ),
    ),
    // Rows that refer to the member only through their content are listed for completeness.
    entry(
        "post_search",
        "post_id",
        Special("follows the posts: deleted posts leave the index"),
    ),
    entry("notifications", "post_id", Keep(THEIRS)),
];

/// The registry's entry for `table`.`column`, if any.
pub fn entry_for(table: &str, column: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.table == table && e.column == column)
}

/// The columns of the live schema that refer to a member: foreign keys to `users`, columns named
/// `user_id` or `*_user_id`, and every column of `users`; as (table, column), sorted.
pub async fn referring_columns(exec: Exec<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut found: Vec<(String, String)> = match exec {
        Exec::Sqlite(c) => {
            let sql = "SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
                       WHERE m.type = 'table' AND f.\"table\" = 'users' \
                       UNION SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                       WHERE m.type = 'table' AND (p.name = 'user_id' OR p.name LIKE '%\\_user\\_id' ESCAPE '\\' \
                       OR m.name = 'users')";
            sqlx::query_as(sql).fetch_all(c).await?
        }
        Exec::Postgres(c) => {
            let sql = "SELECT kcu.table_name::text, kcu.column_name::text \
                       FROM information_schema.table_constraints tc \
                       JOIN information_schema.key_column_usage kcu \
                         ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema \
                       JOIN information_schema.constraint_column_usage ccu \
                         ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
                       WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'users' \
                         AND tc.table_schema = current_schema() \
                       UNION SELECT table_name::text, column_name::text FROM information_schema.columns \
                       WHERE table_schema = current_schema() AND (column_name = 'user_id' \
                         OR column_name LIKE '%\\_user\\_id' ESCAPE '\\' OR table_name = 'users')";
            sqlx::query_as(sql).fetch_all(c).await?
        }
    };
    found.sort();
    found.dedup();
    Ok(found)
}

/// Every text column of every table in the live schema, as (table, column).
pub async fn text_columns(exec: Exec<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    match exec {
        Exec::Sqlite(c) => {
            let sql = "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                       WHERE m.type = 'table' AND upper(p.type) LIKE '%TEXT%' ORDER BY 1, 2";
            sqlx::query_as(sql).fetch_all(c).await
        }
        Exec::Postgres(c) => {
            let sql = "SELECT table_name::text, column_name::text FROM information_schema.columns \
                       WHERE table_schema = current_schema() \
                         AND data_type IN ('text', 'character varying', 'character') ORDER BY 1, 2";
            sqlx::query_as(sql).fetch_all(c).await
        }
    }
}

/// The text columns (table, column) in which some row contains `needle`: what a check that
/// personal data is gone searches.
pub async fn columns_containing(
    mut exec: Exec<'_>,
    needle: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let columns = text_columns(exec.again()).await?;
    let mut found = Vec::new();
    for (table, column) in columns {
        // Names come from the schema itself, quoted as identifiers.
        let (t, c) = (table.replace('"', "\"\""), column.replace('"', "\"\""));
        let hits: i64 = match exec.again() {
            Exec::Sqlite(conn) => {
                let sql = format!("SELECT COUNT(*) FROM \"{t}\" WHERE instr(\"{c}\", $1) > 0");
                sqlx::query_scalar(&sql)
                    .bind(needle)
                    .fetch_one(conn)
                    .await?
            }
            Exec::Postgres(conn) => {
                let sql = format!("SELECT COUNT(*) FROM \"{t}\" WHERE strpos(\"{c}\", $1) > 0");
                sqlx::query_scalar(&sql)
                    .bind(needle)
                    .fetch_one(conn)
                    .await?
            }
        };
        if hits > 0 {
            found.push((table, column));
        }
    }
    Ok(found)
}

/// What the leaving member chose for what they wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentChoice {
    /// Deleted: posts blanked and out of search, topics' titles replaced, café messages and
    /// questions blanked and withdrawn.
    Delete,
    /// Kept, under "退会したメンバー".
    Keep,
}

/// The name shown for a deleted account, wherever its name was shown.
pub const TOMBSTONE_NAME: &str = "退会したメンバー";
/// The title a deleted member's topic gets when they chose to delete what they wrote.
pub const TOMBSTONE_TOPIC: &str = "（退会したメンバーのトピック）";

/// What deletion touched, for the events that tell the caches.
#[derive(Debug, Default)]
pub struct Deleted {
    /// (post id, topic id) of every post whose text or topic title changed.
    pub posts: Vec<(i64, i64)>,
    /// The café rooms whose messages changed.
    pub rooms: Vec<i64>,
}

/// Deletes member `id` in the caller's transaction, as the [`REGISTRY`] says: erases their rows,
/// deletes or keeps their content as chosen, anonymises what must stay, and leaves the users row
/// as a tombstone. `email` and `name` are the member's address and display name before.
pub async fn delete_member(
    mut exec: Exec<'_>,
    id: i64,
    email: &str,
    name: &str,
    choice: ContentChoice,
    now: i64,
) -> Result<Deleted, sqlx::Error> {
    let mut deleted = Deleted::default();
    for e in REGISTRY.iter().filter(|e| e.fate == Erase) {
        // Table and column names are the registry's constants.
        let sql = format!("DELETE FROM {} WHERE {} = $1", e.table, e.column);
        run(exec.again(), &sql, id).await?;
    }
    run(
        exec.again(),
        "UPDATE reports SET note = '' WHERE reporter_id = $1",
        id,
    )
    .await?;
    if choice == ContentChoice::Delete {
        let posts = "SELECT p.id, p.topic_id FROM posts p WHERE p.author_id = $1 \
                     UNION SELECT (SELECT MIN(q.id) FROM posts q WHERE q.topic_id = t.id), t.id \
                     FROM topics t WHERE t.author_id = $1";
        deleted.posts = on!(exec.again(), |c| sqlx::query_as(posts)
            .bind(id)
            .fetch_all(c)
            .await)?;
        let rooms = "SELECT DISTINCT room_id FROM cafe_messages WHERE author_id = $1";
        deleted.rooms = on!(exec.again(), |c| sqlx::query_scalar(rooms)
            .bind(id)
            .fetch_all(c)
            .await)?;
        let revisions = "DELETE FROM post_revisions WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)";
        run(exec.again(), revisions, id).await?;
        let posts = "UPDATE posts SET body_markdown = '', body_html = '', \
                     deleted_at = COALESCE(deleted_at, $2) WHERE author_id = $1";
        run_at(exec.again(), posts, id, now).await?;
        let topics = "UPDATE topics SET title = $2 WHERE author_id = $1";
        on!(exec.again(), |c| sqlx::query(topics)
            .bind(id)
            .bind(TOMBSTONE_TOPIC)
            .execute(c)
            .await
            .map(|_| ()))?;
        let cafe = "UPDATE cafe_messages SET body = '', status = 'deleted', status_reason = '', \
                    status_changed_at = $2 WHERE author_id = $1";
        run_at(exec.again(), cafe, id, now).await?;
        let questions = "UPDATE qa_questions SET body = '', original_body = NULL, redaction_note = '', \
                         status = 'withdrawn' WHERE asker_id = $1";
        run(exec.again(), questions, id).await?;
        for (post_id, _) in &deleted.posts {
            crate::db::search::index_post(exec.again(), *post_id).await?;
        }
    }
    crate::db::member_export::delete_all(exec.again(), id).await?;
    // Mail: nothing more to or about them by name.
    on!(exec.again(), |c| sqlx::query(
        "DELETE FROM outbox WHERE recipient = $1"
    )
    .bind(email)
    .execute(c)
    .await
    .map(|_| ()))?;
    let others = "UPDATE outbox SET subject = replace(subject, $1, $2), \
                  body_text = replace(body_text, $1, $2), body_html = replace(body_html, $1, $2) \
                  WHERE strpos_marker";
    let others = match exec.again() {
        Exec::Sqlite(_) => others.replace(
            "strpos_marker",
            "instr(subject || body_text || body_html, $1) > 0",
        ),
        Exec::Postgres(_) => others.replace(
            "strpos_marker",
            "strpos(subject || body_text || body_html, $1) > 0",
        ),
    };
    on!(exec.again(), |c| sqlx::query(&others)
        .bind(name)
        .bind(TOMBSTONE_NAME)
        .execute(c)
        .await
        .map(|_| ()))?;
    // The invitation they accepted keeps its place in the statistics without their address.
    let placeholder = placeholder_email(id);
    on!(exec.again(), |c| sqlx::query(
        "UPDATE invitations SET email = $1 WHERE accepted_user_id = $2"
    )
    .bind(&placeholder)
    .bind(id)
    .execute(c)
    .await
    .map(|_| ()))?;
    // The tombstone.
    let tombstone = "UPDATE users SET email = $1, display_name = $2, display_name_key = $3, \
                     display_name_skeleton = NULL, password_hash = '', status = 'deactivated', \
                     locale = 'ja', text_size = 'normal', auth_version = auth_version + 1, \
                     updated_at = $4, quiet_from = NULL, quiet_until = NULL, silenced_until = NULL, silence_reason = '', \
                     suspended_until = NULL, suspend_reason = '', cafe_invisible = $5, deleted_at = $4 \
                     WHERE id = $6";
    on!(exec.again(), |c| sqlx::query(tombstone)
        .bind(&placeholder)
        .bind(TOMBSTONE_NAME)
        .bind(format!("@deleted:{id}"))
        .bind(now)
        .bind(0_i64)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(deleted)
}

/// The address a deleted account keeps: unique, and no one's (`.invalid` is reserved).
fn placeholder_email(id: i64) -> String {
    format!("deleted-{id}@deleted.invalid")
}

async fn run(exec: Exec<'_>, sql: &str, id: i64) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

async fn run_at(exec: Exec<'_>, sql: &str, id: i64, now: i64) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_listed_once_and_says_why_it_stays() {
        for (i, e) in REGISTRY.iter().enumerate() {
            assert!(
                REGISTRY[..i]
                    .iter()
                    .all(|o| (o.table, o.column) != (e.table, e.column)),
                "{}.{} twice",
                e.table,
                e.column
            );
            if let Keep(why) | Special(why) = e.fate {
                assert!(!why.is_empty(), "{}.{} says nothing", e.table, e.column);
            }
        }
    }
}
