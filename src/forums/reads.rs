//! Read markers: how far each member has read each topic. A page view notes its marker here, in
//! memory, and never waits for the write lock; a writer task writes what was noted in one short
//! transaction every [`WRITE_EVERY`] and at shutdown. Until then the queries that depend on
//! markers take the noted ones into account ([`ReadMarks::noted`]), so a member sees what they
//! read at once. A crash loses at most the last few seconds of markers, and nothing else.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

use crate::AppState;
use crate::db::{self, Db};
use crate::events::{Event, EventBus};

/// How often noted markers are written.
pub const WRITE_EVERY: Duration = Duration::from_secs(1);
/// Markers written in one transaction at most, so the write lock is held briefly.
const WRITE_BATCH: usize = 500;

/// A marker noted and not yet written: the highest post seen, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    post_id: i64,
    at: i64,
}

/// Markers noted since the last write, by member, then topic.
#[derive(Default)]
pub struct ReadMarks {
    noted: Mutex<HashMap<i64, HashMap<i64, Mark>>>,
}

impl ReadMarks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, HashMap<i64, Mark>>> {
        // A panic elsewhere while holding the lock leaves a map that is still whole.
        self.noted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that `user` has seen `topic` up to `post_id`; never moves a marker back.
    pub fn note(&self, user: i64, topic: i64, post_id: i64, at: i64) {
        let mut noted = self.lock();
        let mark = noted
            .entry(user)
            .or_default()
            .entry(topic)
            .or_insert(Mark { post_id, at });
        if mark.post_id < post_id {
            *mark = Mark { post_id, at };
        }
    }

    /// `user`'s markers not yet written, as (topic, highest post seen).
    pub fn noted(&self, user: i64) -> Vec<(i64, i64)> {
        self.lock()
            .get(&user)
            .map(|topics| topics.iter().map(|(t, m)| (*t, m.post_id)).collect())
            .unwrap_or_default()
    }

    /// The highest post `user` has seen in `topic`, of what is noted and not yet written.
    pub fn noted_in(&self, user: i64, topic: i64) -> Option<i64> {
        self.lock()
            .get(&user)
            .and_then(|topics| topics.get(&topic))
            .map(|m| m.post_id)
    }

    /// Writes the noted markers, a batch a transaction; returns how many. A marker stays noted
    /// (and counted by [`ReadMarks::noted`]) until its transaction committed; one that failed
    /// stays for the next try. Each member whose markers were written is announced on `events`
    /// (as [`Event::TopicRead`]) after the commit and before the noted markers go, so that a
    /// cache holding the written ones reads them again.
    pub async fn flush(&self, db: &Db, events: &EventBus) -> Result<usize, sqlx::Error> {
        let snapshot: Vec<(i64, i64, Mark)> = self
            .lock()
            .iter()
            .flat_map(|(user, topics)| topics.iter().map(|(topic, mark)| (*user, *topic, *mark)))
            .collect();
        for batch in snapshot.chunks(WRITE_BATCH) {
            let mut tx = db.begin().await?;
            for (user, topic, mark) in batch {
                db::reads::mark_read(tx.exec(), *user, *topic, mark.post_id, mark.at).await?;
            }
            tx.commit().await?;
            let mut readers: Vec<Event> = batch
                .iter()
                .map(|(user, _, _)| Event::TopicRead { user_id: *user })
                .collect();
            readers.dedup();
            events.publish(&readers);
            let mut noted = self.lock();
            for (user, topic, mark) in batch {
                if let Some(topics) = noted.get_mut(user) {
                    // Only if no later marker was noted meanwhile.
                    if topics.get(topic) == Some(mark) {
                        topics.remove(topic);
                    }
                    if topics.is_empty() {
                        noted.remove(user);
                    }
                }
            }
        }
        Ok(snapshot.len())
    }
}

/// Writes noted markers every [`WRITE_EVERY`] until shutdown (which writes the rest itself, after
/// the last request).
pub async fn run_writer(app: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(WRITE_EVERY) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = app.read_marks.flush(&app.db, &app.events).await {
            tracing::warn!(error = %e, "read markers not written yet; trying again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_only_move_forward_and_are_kept_per_member() {
        let marks = ReadMarks::default();
        marks.note(1, 10, 5, 100);
        marks.note(1, 10, 3, 101);
        marks.note(1, 11, 7, 102);
        marks.note(2, 10, 9, 103);
        assert_eq!(marks.noted_in(1, 10), Some(5));
        assert_eq!(marks.noted_in(2, 10), Some(9));
        assert_eq!(marks.noted_in(2, 11), None);
        let mut first = marks.noted(1);
        first.sort();
        assert_eq!(first, vec![(10, 5), (11, 7)]);
        assert!(marks.noted(3).is_empty());
    }
}
