//! The export of a member's own data (see `crate::jobs::export`): the sections it is made of,
//! each read from one table by the member's id, and the queries on `data_exports` and
//! `data_export_parts` that hold an export until its link is used.
//!
//! Which data is exported is decided against the registry of member data
//! (`db::member_data::REGISTRY`): every entry that is the member's (erased or their content when
//! they leave) is read by a section below, or listed in [`NOT_EXPORTED`] with the reason. A unit
//! test fails when a new entry is neither, and the registry's own test fails when a new table
//! refers to members without an entry, so a new table is exported (or its absence explained)
//! before CI passes.

use sqlx::FromRow;

use super::Exec;
use crate::on;

/// One part of the export: the member's rows of one table, as JSON objects of `columns`.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// The key of the section in the exported file.
    pub name: &'static str,
    pub table: &'static str,
    /// The registry's column this section reads the member's rows by ("" when it reads rows
    /// that are the member's through another table, like the answers to their questions).
    pub owner: &'static str,
    /// Which rows are the member's; `$1` is the member's id.
    pub condition: &'static str,
    pub columns: &'static [&'static str],
    /// A stable order for reading the rows a batch at a time.
    pub order: &'static str,
}

const fn section(
    name: &'static str,
    table: &'static str,
    owner: &'static str,
    condition: &'static str,
    columns: &'static [&'static str],
    order: &'static str,
) -> Section {
    Section {
        name,
        table,
        owner,
        condition,
        columns,
        order,
    }
}

/// The sections of an export, in the order of the file.
pub const SECTIONS: &[Section] = &[
    section(
        "account",
        "users",
        "id",
        "id = $1",
        &[
            "id",
            "email",
            "display_name",
            "role",
            "relation",
            "status",
            "locale",
            "text_size",
            "quiet_from",
            "quiet_until",
            "cafe_invisible",
            "silenced_until",
            "silence_reason",
            "suspended_until",
            "suspend_reason",
            "created_at",
        ],
        "id",
    ),
    section(
        "profile",
        "member_profiles",
        "user_id",
        "user_id = $1",
        &[
            "cancer",
            "stage",
            "work",
            "introduction",
            "show_relation",
            "show_cancer",
            "show_stage",
            "show_work",
            "show_introduction",
            "updated_at",
        ],
        "user_id",
    ),
    section(
        "notification_settings",
        "notify_prefs",
        "user_id",
        "user_id = $1",
        &["kind", "mode"],
        "kind",
    ),
    section(
        "topics",
        "topics",
        "author_id",
        "author_id = $1",
        &["id", "category_id", "title", "status", "created_at"],
        "id",
    ),
    section(
        "posts",
        "posts",
        "author_id",
        "author_id = $1",
        &[
            "id",
            "topic_id",
            "body_markdown",
            "status",
            "created_at",
            "edited_at",
            "deleted_at",
        ],
        "id",
    ),
    section(
        "drafts",
        "drafts",
        "user_id",
        "user_id = $1",
        &["place", "title", "body", "updated_at"],
        "place",
    ),
    section(
        "reactions",
        "post_reactions",
        "user_id",
        "user_id = $1",
        &["post_id", "kind", "created_at"],
        "post_id, kind",
    ),
    section(
        "followed_topics",
        "topic_subscriptions",
        "user_id",
        "user_id = $1",
        &["topic_id", "created_at"],
        "topic_id",
    ),
    section(
        "followed_categories",
        "category_subscriptions",
        "user_id",
        "user_id = $1",
        &["category_id", "created_at"],
        "category_id",
    ),
    section(
        "topics_read",
        "topic_reads",
        "user_id",
        "user_id = $1",
        &["topic_id", "last_read_post_id", "read_at"],
        "topic_id",
    ),
    section(
        "blocked_members",
        "user_blocks",
        "blocker_id",
        "blocker_id = $1",
        &["blocked_id", "created_at"],
        "blocked_id",
    ),
    section(
        "notifications",
        "notifications",
        "user_id",
        "user_id = $1",
        &[
            "kind",
            "post_id",
            "ref_id",
            "title",
            "path",
            "created_at",
            "read_at",
        ],
        "id",
    ),
    section(
        "reports_made",
        "reports",
        "reporter_id",
        "reporter_id = $1",
        &[
            "target_kind",
            "target_id",
            "reason",
            "note",
            "created_at",
            "resolved_at",
            "resolution",
        ],
        "id",
    ),
    section(
        "cafe_messages",
        "cafe_messages",
        "author_id",
        "author_id = $1",
        &[
            "id",
            "room_id",
            "session_id",
            "body",
            "status",
            "created_at",
        ],
        "id",
    ),
    section(
        "cafe_reminders",
        "cafe_reminders",
        "user_id",
        "user_id = $1",
        &["session_id", "created_at", "sent_at"],
        "session_id",
    ),
    section(
        "cafe_mutes",
        "cafe_mutes",
        "user_id",
        "user_id = $1",
        &["session_id", "created_at"],
        "session_id",
    ),
    section(
        "questions",
        "qa_questions",
        "asker_id",
        "asker_id = $1",
        &[
            "id",
            "slot_id",
            "parent_id",
            "body",
            "original_body",
            "redaction_note",
            "shared",
            "anonymous",
            "status",
            "status_reason",
            "created_at",
        ],
        "id",
    ),
    section(
        "answers_to_my_questions",
        "qa_answers",
        "",
        "status = 'published' AND question_id IN \
         (SELECT id FROM qa_questions WHERE asker_id = $1)",
        &["question_id", "body_markdown", "published_at"],
        "id",
    ),
    section(
        "expert_profile",
        "expert_profiles",
        "user_id",
        "user_id = $1",
        &["qualification", "introduction", "updated_at"],
        "user_id",
    ),
    section(
        "answers_written",
        "qa_answers",
        "expert_id",
        "expert_id = $1",
        &[
            "question_id",
            "slot_id",
            "body_markdown",
            "status",
            "published_at",
            "updated_at",
        ],
        "id",
    ),
];

/// The member's entries in the registry that no section reads, and why.
pub const NOT_EXPORTED: &[(&str, &str, &str)] = &[
    (
        "users",
        "display_name_key",
        "a technical key of the display name, which is exported",
    ),
    (
        "users",
        "display_name_skeleton",
        "a technical key of the display name, which is exported",
    ),
    (
        "users",
        "password_hash",
        "a secret; it cannot be read back into the password",
    ),
    ("users", "auth_version", "a technical counter of sign-ins"),
    ("users", "updated_at", "a technical time"),
    (
        "users",
        "deleted_at",
        "never set on an account that exports",
    ),
    (
        "user_tokens",
        "user_id",
        "secrets of sign-in and reset links",
    ),
    (
        "invitations",
        "accepted_user_id",
        "the coordinator's record of the invitation; the account says when they joined",
    ),
    (
        "outbox",
        "recipient",
        "mail sent or waiting: copies of what the sections hold",
    ),
    (
        "post_search",
        "post_id",
        "the search index, made from the posts, which are exported",
    ),
    (
        "data_exports",
        "user_id",
        "the export itself, deleted once its link is used or expires",
    ),
];

/// Whether `table`.`column` of the registry is exported: a section reads by it (for `users`,
/// the account section has the column).
pub fn exports(table: &str, column: &str) -> bool {
    SECTIONS.iter().any(|s| {
        s.table == table && (s.owner == column || (table == "users" && s.columns.contains(&column)))
    })
}

/// The reason `table`.`column` is not exported, if it is listed.
pub fn not_exported(table: &str, column: &str) -> Option<&'static str> {
    NOT_EXPORTED
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, why)| *why)
}

/// `SELECT <one JSON object per row> FROM …` for the section, in the dialect's JSON function.
fn select(exec: &Exec<'_>, s: &Section, what: &str) -> String {
    let (function, cast) = match exec {
        Exec::Sqlite(_) => ("json_object", ""),
        Exec::Postgres(_) => ("json_build_object", "::text"),
    };
    let pairs: Vec<String> = s.columns.iter().map(|c| format!("'{c}', {c}")).collect();
    let object = format!("{function}({}){cast}", pairs.join(", "));
    let selected = if what.is_empty() { &object } else { what };
    format!("SELECT {selected} FROM {} WHERE {}", s.table, s.condition)
}

/// How many rows of the section are the member's.
pub async fn count(exec: Exec<'_>, s: &Section, member: i64) -> Result<i64, sqlx::Error> {
    // The section's names are constants of this module.
    let sql = select(&exec, s, "COUNT(*)");
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(member)
        .fetch_one(c)
        .await)
}

/// Up to `limit` of the member's rows of the section after the first `offset`, each a JSON
/// object's text.
pub async fn rows(
    exec: Exec<'_>,
    s: &Section,
    member: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!(
        "{} ORDER BY {} LIMIT $2 OFFSET $3",
        select(&exec, s, ""),
        s.order
    );
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(member)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)
}

#[derive(Debug, Clone, FromRow)]
pub struct ExportRow {
    pub id: i64,
    pub user_id: i64,
    pub job_id: i64,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub downloaded_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, job_id, created_at, ready_at, expires_at, downloaded_at";

pub async fn insert(
    exec: Exec<'_>,
    member: i64,
    job_id: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO data_exports (user_id, job_id, created_at) VALUES ($1, $2, $3) \
               RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(member)
        .bind(job_id)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// The member's newest export.
pub async fn latest(exec: Exec<'_>, member: i64) -> Result<Option<ExportRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM data_exports WHERE user_id = $1 ORDER BY id DESC LIMIT 1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(member)
        .fetch_optional(c)
        .await)
}

/// The export a job prepares.
pub async fn of_job(exec: Exec<'_>, job_id: i64) -> Result<Option<ExportRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM data_exports WHERE job_id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(job_id)
        .fetch_optional(c)
        .await)
}

/// The member's export whose link has this secret's hash, locked on PostgreSQL until the
/// transaction ends (two taps on the button download it once).
pub async fn by_link(
    exec: Exec<'_>,
    member: i64,
    token_hash: &str,
) -> Result<Option<ExportRow>, sqlx::Error> {
    let base = format!("SELECT {COLUMNS} FROM data_exports WHERE user_id = $1 AND token_hash = $2");
    match exec {
        Exec::Postgres(c) => {
            sqlx::query_as(&format!("{base} FOR UPDATE"))
                .bind(member)
                .bind(token_hash)
                .fetch_optional(c)
                .await
        }
        Exec::Sqlite(c) => {
            sqlx::query_as(&base)
                .bind(member)
                .bind(token_hash)
                .fetch_optional(c)
                .await
        }
    }
}

pub async fn insert_part(
    exec: Exec<'_>,
    export_id: i64,
    section: &str,
    rows_json: &str,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO data_export_parts (export_id, seq, section, rows_json) \
               SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3 FROM data_export_parts \
               WHERE export_id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(export_id)
        .bind(section)
        .bind(rows_json)
        .execute(c)
        .await
        .map(|_| ()))
}

/// The export is ready: its link's hash, until when it works.
pub async fn mark_ready(
    exec: Exec<'_>,
    id: i64,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE data_exports SET token_hash = $2, ready_at = $3, expires_at = $4 \
               WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|_| ()))
}

/// The export's next part after `after_seq`: (seq, section, rows).
pub async fn next_part(
    exec: Exec<'_>,
    export_id: i64,
    after_seq: i64,
) -> Result<Option<(i64, String, String)>, sqlx::Error> {
    let sql = "SELECT seq, section, rows_json FROM data_export_parts \
               WHERE export_id = $1 AND seq > $2 ORDER BY seq LIMIT 1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(export_id)
        .bind(after_seq)
        .fetch_optional(c)
        .await)
}

/// The link was used: it works no more (the parts go once they are sent).
pub async fn mark_downloaded(exec: Exec<'_>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(
        "UPDATE data_exports SET downloaded_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Deletes an export's parts.
pub async fn delete_parts(exec: Exec<'_>, export_id: i64) -> Result<(), sqlx::Error> {
    on!(exec, |c| sqlx::query(
        "DELETE FROM data_export_parts WHERE export_id = $1"
    )
    .bind(export_id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Deletes the parts of every export whose link expired or was used (a download cut off before
/// its end leaves them); how many parts went.
pub async fn forget_expired(exec: Exec<'_>, now: i64) -> Result<u64, sqlx::Error> {
    let sql = "DELETE FROM data_export_parts WHERE export_id IN \
               (SELECT id FROM data_exports WHERE expires_at <= $1 OR downloaded_at IS NOT NULL)";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// Every export of the member and its parts (the member leaves, or asks for a new export).
pub async fn delete_all(exec: Exec<'_>, member: i64) -> Result<(), sqlx::Error> {
    let mut exec = exec;
    on!(exec.again(), |c| sqlx::query(
        "DELETE FROM data_export_parts WHERE export_id IN \
         (SELECT id FROM data_exports WHERE user_id = $1)"
    )
    .bind(member)
    .execute(c)
    .await
    .map(|_| ()))?;
    on!(exec, |c| sqlx::query(
        "DELETE FROM data_exports WHERE user_id = $1"
    )
    .bind(member)
    .execute(c)
    .await
    .map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::member_data::{Fate, REGISTRY};

    #[test]
    fn every_entry_of_the_members_data_is_exported_or_says_why_not() {
        let missing: Vec<String> = REGISTRY
            .iter()
            .filter(|e| !matches!(e.fate, Fate::Keep(_)))
            .filter(|e| !exports(e.table, e.column) && not_exported(e.table, e.column).is_none())
            .map(|e| format!("{}.{}", e.table, e.column))
            .collect();
        assert!(
            missing.is_empty(),
            "the member's data neither exported (src/db/member_export.rs SECTIONS) nor listed in \
             NOT_EXPORTED: {missing:?}"
        );
        for (table, column, why) in NOT_EXPORTED {
            assert!(!why.is_empty());
            assert!(
                REGISTRY
                    .iter()
                    .any(|e| e.table == *table && e.column == *column),
                "{table}.{column} is not in the registry"
            );
            assert!(!exports(table, column), "{table}.{column} both ways");
        }
    }

    #[test]
    fn sections_have_unique_names_and_read_by_the_member() {
        for (i, s) in SECTIONS.iter().enumerate() {
            assert!(SECTIONS[..i].iter().all(|o| o.name != s.name), "{}", s.name);
            assert!(s.condition.contains("$1"), "{}", s.name);
            assert!(!s.columns.is_empty(), "{}", s.name);
        }
        let account = SECTIONS.iter().find(|s| s.name == "account");
        assert!(account.is_some_and(|s| !s.columns.contains(&"password_hash")));
    }
}
