//! The event bus: typed events, published after the transaction that made them commits.
//!
//! One interface ([`EventBus::publish`], [`EventBus::listen`], [`EventBus::subscribe`]) with the
//! in-process implementation: memory caches register a listener that runs as the event is
//! published (an invalidation, never a wait), so the very next request sees the change; pages
//! that follow events live (the café, the live Q&A) subscribe to a bounded broadcast, where a slow
//! subscriber lags and resynchronises from the database instead of holding the publisher up.
//! Payloads carry ids only: receivers read the rows, so the same events can later cross
//! instances through PostgreSQL's LISTEN/NOTIFY behind this interface.

use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

/// What happened, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A post became visible to others: written and published, or approved from the queue.
    PostPublished {
        post_id: i64,
        topic_id: i64,
        author_id: i64,
    },
    /// A post changed what readers see of it: written and held for review (its author and staff
    /// see it), edited, held, hidden, restored or deleted.
    PostChanged {
        post_id: i64,
        topic_id: i64,
    },
    /// A topic's title, pin or closing changed.
    TopicChanged {
        topic_id: i64,
    },
    /// A member's account changed: name, role, preferences, silenced, suspended, deactivated.
    MemberChanged {
        user_id: i64,
    },
    /// A member read further in a topic (noted in memory), and again once the marker is written.
    TopicRead {
        user_id: i64,
    },
    /// Reactions on a post of the topic were given or taken back.
    ReactionsChanged {
        topic_id: i64,
    },
    /// A member's drafts changed: saved, or discarded when the text was posted.
    DraftsChanged {
        user_id: i64,
    },
    /// A member started or stopped following a topic or a category.
    FollowsChanged {
        user_id: i64,
    },
    /// A member's list of notifications changed: a notice came, or was read.
    NoticesChanged {
        user_id: i64,
    },
    /// A member blocked or unblocked another.
    BlocksChanged,
    /// The categories or who may see them changed.
    CategoriesChanged,
    AnnouncementsChanged,
    /// The review queue gained or lost an item.
    QueueChanged,
    /// Mail was written to the outbox.
    MailQueued,
    /// A café room changed: a message was written, approved or removed (read the room's changes
    /// after the last one seen).
    CafeMessages {
        room_id: i64,
    },
    /// A café room's session changed: scheduled, started early, paused, slowed, someone muted.
    CafeSession {
        room_id: i64,
    },
    /// Café rooms, or who may enter them, changed.
    CafeRoomsChanged,
    /// A coordinator changed the site's settings (name, time zone, …; see `admin::site`).
    SettingsChanged,
    /// A Q&A slot's live page changed: an answer was published, approved, edited or hidden, or
    /// its question was redacted (read the slot's changes after the last one seen).
    QaSlot {
        slot_id: i64,
    },
}

/// What a subscriber gets next.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Event(Event),
    /// Events were missed (the subscriber was too slow): reread what it shows from the database.
    Lagged(u64),
    /// The bus is gone (shutdown).
    Closed,
}

pub struct Subscription(broadcast::Receiver<Event>);

impl Subscription {
    pub async fn next(&mut self) -> Received {
        match self.0.recv().await {
            Ok(event) => Received::Event(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Received::Lagged(missed),
            Err(broadcast::error::RecvError::Closed) => Received::Closed,
        }
    }
}

type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

/// How many events a slow subscriber may fall behind before it is told it lagged.
const BACKLOG: usize = 1024;

#[derive(Clone)]
pub struct EventBus {
    listeners: Arc<RwLock<Vec<Listener>>>,
    broadcast: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            listeners: Arc::default(),
            broadcast: broadcast::channel(BACKLOG).0,
        }
    }
}

impl EventBus {
    /// Called by the unit of work after its commit, never before.
    pub fn publish(&self, events: &[Event]) {
        let listeners = self
            .listeners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for event in events {
            tracing::debug!(?event, "published");
            for listener in &listeners {
                listener(event);
            }
            // No subscriber is not an error: nobody is watching live.
            let _ = self.broadcast.send(*event);
        }
    }

    /// Registers `listener` to run on every event as it is published. For memory caches: it must
    /// only note the change (invalidate), never wait.
    pub fn listen(&self, listener: impl Fn(&Event) + Send + Sync + 'static) {
        self.listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::new(listener));
    }

    /// Events from now on, for a task that reacts to them in its own time.
    pub fn subscribe(&self) -> Subscription {
        Subscription(self.broadcast.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn listeners_see_events_at_once_and_a_slow_subscriber_lags_without_blocking() {
        let bus = EventBus::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        bus.listen(move |event| {
            if matches!(event, Event::MemberChanged { .. }) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let mut slow = bus.subscribe();
        let member = Event::MemberChanged { user_id: 7 };
        bus.publish(&[member]);
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "listener ran during publish"
        );
        assert_eq!(slow.next().await, Received::Event(member));
        // Far more than the backlog, with nobody reading: publishing never waits.
        let flood = vec![Event::QueueChanged; BACKLOG * 3];
        bus.publish(&flood);
        assert!(matches!(slow.next().await, Received::Lagged(n) if n > 0));
        assert_eq!(slow.next().await, Received::Event(Event::QueueChanged));
    }
}
