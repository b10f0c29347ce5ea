//! Re-normalizing the search text after the equivalent terms changed: first every indexed post,
//! then the Q&A archive's answers, a batch at a time in id order.
//!
//! While it runs, posts after the job's cursor still hold text normalized with the terms as they
//! were before. The job's payload keeps those earlier sets of terms, and the search reads a query
//! under each of them too ([`earlier_synonyms`]): a post not yet re-normalized is found by the
//! terms as they were, and by the new terms once its batch is done.

use serde::{Deserialize, Serialize};

use super::{Kind, Step};
use crate::db::jobs::JobRow;
use crate::db::{self, Exec};
use crate::error::AppError;
use crate::text::Synonyms;
use crate::work::Work;

/// Stage 0 re-normalizes posts, stage 1 answers.
const POSTS: i64 = 0;
const ANSWERS: i64 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Payload {
    /// Each earlier set of equivalent terms (one group's terms, space-separated, per entry) some
    /// rows may still be normalized with.
    before: Vec<Vec<String>>,
}

impl Payload {
    fn read(text: &str) -> Payload {
        serde_json::from_str(text).unwrap_or_default()
    }
}

/// Queues the re-normalizing in `work`, which is about to change the terms from `before` (the
/// groups as they are now). A job already open starts again from the beginning with the newest
/// terms, remembering `before` too: two changes in quick succession make one job.
pub async fn queue(work: &mut Work<'_>, actor: i64, before: Vec<String>) -> Result<(), AppError> {
    let kind = Kind::Reindex.name();
    let open = db::jobs::open_for_update(work.exec(), kind, "").await?;
    let mut payload = open
        .as_ref()
        .map(|job| Payload::read(&job.payload))
        .unwrap_or_default();
    if !payload.before.contains(&before) {
        payload.before.push(before);
    }
    let text = serde_json::to_string(&payload).map_err(|e| AppError::Internal(e.to_string()))?;
    match open {
        Some(job) => db::jobs::restart(work.exec(), job.id, &text, actor).await?,
        None => {
            let now = work.now();
            db::jobs::insert(work.exec(), kind, "", &text, actor, now).await?;
        }
    }
    Ok(())
}

/// The earlier sets of terms rows may still be normalized with while a job runs (none when no
/// job is open).
pub async fn earlier_synonyms(exec: Exec<'_>) -> Result<Vec<Synonyms>, sqlx::Error> {
    let payload = db::jobs::open_payload(exec, Kind::Reindex.name(), "").await?;
    Ok(payload
        .map(|text| Payload::read(&text).before)
        .unwrap_or_default()
        .iter()
        .map(|groups| Synonyms::from_groups(groups.iter().map(String::as_str)))
        .collect())
}

/// The latest re-normalizing job, for the page that starts it.
pub async fn latest(exec: Exec<'_>) -> Result<Option<super::Status>, sqlx::Error> {
    let job = db::jobs::latest(exec, Kind::Reindex.name(), "").await?;
    Ok(job.as_ref().map(super::Status::of))
}

pub(super) async fn batch(work: &mut Work<'_>, job: &JobRow, size: i64) -> Result<Step, AppError> {
    let mut progress = job.progress();
    if progress.stage == POSTS && progress.cursor_id == 0 && progress.done == 0 {
        // The job (re)starts: its size is every post and answer there is now.
        progress.total = db::search::indexed_posts(work.exec()).await?
            + db::qa::indexed_answers(work.exec()).await?;
    }
    let synonyms = db::search::synonyms(work.exec()).await?;
    let batch = if progress.stage == POSTS {
        db::search::reindex_posts(work.exec(), &synonyms, progress.cursor_id, size).await?
    } else {
        db::qa::reindex(work.exec(), &synonyms, progress.cursor_id, size).await?
    };
    progress.done += i64::try_from(batch.seen).unwrap_or(i64::MAX);
    // Rows written while the job runs may make it longer than counted.
    progress.total = progress.total.max(progress.done);
    let finished = match (batch.last, progress.stage) {
        (Some(last), _) => {
            progress.cursor_id = last;
            false
        }
        (None, POSTS) => {
            progress.stage = ANSWERS;
            progress.cursor_id = 0;
            false
        }
        (None, _) => true,
    };
    Ok(Step { progress, finished })
}
