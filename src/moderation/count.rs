//! How many items wait in the review queue, for the header staff see on every page. Kept in
//! memory and recounted by a task that follows the event bus (and every minute, for changes made
//! by another instance), so no page view counts the queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::AppState;
use crate::db;
use crate::events::{Event, Received};

#[derive(Clone, Default)]
pub struct QueueCount(Arc<AtomicI64>);

impl QueueCount {
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    async fn recount(app: &AppState) {
        let counted = async {
            let mut conn = app.db.conn().await?;
            db::moderation::waiting(conn.exec()).await
        };
        match counted.await {
            Ok(n) => app.queue_count.0.store(n, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "counting the review queue"),
        }
    }

    /// Runs until shutdown.
    pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
        let mut events = app.events.subscribe();
        Self::recount(&app).await;
        loop {
            tokio::select! {
                received = events.next() => match received {
                    Received::Event(Event::QueueChanged) | Received::Lagged(_) => {}
                    Received::Event(_) => continue,
                    Received::Closed => return,
                },
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = shutdown.changed() => return,
            }
            Self::recount(&app).await;
        }
    }
}
