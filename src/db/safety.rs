//! Queries on watched words, crisis words, urgent alerts and site settings.

use sqlx::FromRow;

use super::Exec;
use crate::domain::log::TargetKind;
use crate::domain::safety::{AlertCause, WatchAction, WordList};
use crate::on;

fn table(list: WordList) -> &'static str {
    match list {
        WordList::Watched => "watched_words",
        WordList::Crisis => "crisis_words",
    }
}

/// A word as stored (as typed).
#[derive(Debug, Clone, FromRow)]
pub struct Word {
    pub id: i64,
    pub word: String,
    /// A watched word's action as stored; empty for crisis words.
    action: String,
}

impl Word {
    pub fn action(&self) -> Option<WatchAction> {
        self.action.parse().ok()
    }
}

/// Every word of `list`, oldest first.
pub async fn words(exec: Exec<'_>, list: WordList) -> Result<Vec<Word>, sqlx::Error> {
    let sql = match list {
        WordList::Watched => "SELECT id, word, action FROM watched_words ORDER BY id",
        WordList::Crisis => "SELECT id, word, '' AS action FROM crisis_words ORDER BY id",
    };
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}

/// Every word content is screened against: watched words with their action, crisis words with
/// `None`. One query, so a screening costs one round trip.
pub async fn screening_words(
    exec: Exec<'_>,
) -> Result<Vec<(String, Option<WatchAction>)>, sqlx::Error> {
    let sql = "SELECT word, action FROM watched_words \
               UNION ALL SELECT word, '' FROM crisis_words";
    let rows: Vec<(String, String)> = on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(word, action)| (word, action.parse().ok()))
        .collect())
}

pub async fn add_word(
    exec: Exec<'_>,
    list: WordList,
    word: &str,
    action: Option<WatchAction>,
    by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    match (list, action) {
        (WordList::Watched, Some(action)) => {
            let sql = "INSERT INTO watched_words (word, action, created_by, created_at) \
                       VALUES ($1, $2, $3, $4) RETURNING id";
            on!(exec, |c| sqlx::query_scalar(sql)
                .bind(word)
                .bind(action.as_str())
                .bind(by)
                .bind(now)
                .fetch_one(c)
                .await)
        }
        (WordList::Crisis, None) => {
            let sql = "INSERT INTO crisis_words (word, created_by, created_at) \
                       VALUES ($1, $2, $3) RETURNING id";
            on!(exec, |c| sqlx::query_scalar(sql)
                .bind(word)
                .bind(by)
                .bind(now)
                .fetch_one(c)
                .await)
        }
        _ => Err(sqlx::Error::Protocol(
            "a watched word needs an action and a crisis word has none".into(),
        )),
    }
}

/// Removes a word; its text, or `None` when there was no such word.
pub async fn remove_word(
    exec: Exec<'_>,
    list: WordList,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let sql = format!("DELETE FROM {} WHERE id = $1 RETURNING word", table(list));
    on!(exec, |c| sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn insert_alert(
    exec: Exec<'_>,
    cause: AlertCause,
    target_kind: TargetKind,
    target_id: i64,
    member: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO alerts (cause, target_kind, target_id, subject_user_id, created_at) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(cause.as_str())
        .bind(target_kind.as_str())
        .bind(target_id)
        .bind(member)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Active moderators' and coordinators' addresses and languages, each once.
pub async fn staff_recipients(exec: Exec<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = "SELECT email, locale FROM users \
               WHERE status = 'active' AND role IN ('moderator', 'coordinator') ORDER BY id";
    on!(exec, |c| sqlx::query_as(sql).fetch_all(c).await)
}
