//! The live rooms of this instance: who is connected where, and the fan-out of each room's
//! changes to them.
//!
//! One task follows the event bus ([`run`]) and wakes the room a change belongs to. Each room with
//! members connected has a task of its own that reads the room's changes after the last one it
//! sent (one query for the whole room, whatever its size), serialises each once, and offers it
//! to every connection's bounded queue without waiting. A connection whose queue is full is
//! marked lagged and catches up from the database itself (see `live`), so a slow phone never
//! holds the room up and memory stays bounded. Because the room task always reads "after the
//! last change", events that arrive late, twice or not at all (the bus lagged) cost nothing but
//! a query: changes reach every member in the room's order, none twice.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::{Notify, mpsc, watch};

use crate::AppState;
use crate::db;
use crate::db::cafe::{MessageRow, SessionRow};
use crate::events::{Event, Received};
use crate::web::layout::local_clock;

/// How many frames a connection may have waiting before it is marked lagged.
pub const QUEUE: usize = 64;
/// Changes read in one query.
const BATCH: i64 = 200;
/// Presence changes (joins, leaves) are sent at most this often, so a crowd arriving at the
/// start of a session costs one list per interval, not one per arrival.
const PRESENCE_INTERVAL: Duration = Duration::from_millis(500);
/// Names in a presence list; the count is always exact.
const PRESENCE_NAMES: usize = 100;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How a change is shown: to whom depends on its status and author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// To everyone who does not block the author.
    Published,
    /// To its author and to those who keep the room.
    Held,
    /// Hidden or deleted: everyone drops it.
    Removed,
}

/// One change of a room, serialised once for every connection.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: i64,
    pub author_id: i64,
    pub shown: Shown,
    pub json: Utf8Bytes,
}

#[derive(Serialize)]
struct AuthorJson<'a> {
    id: i64,
    name: &'a str,
    role: &'a str,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ChangeJson<'a> {
    Message {
        seq: i64,
        id: i64,
        author: AuthorJson<'a>,
        body: &'a str,
        at: i64,
        time: String,
        held: bool,
    },
    Removed {
        seq: i64,
        id: i64,
    },
}

impl Change {
    pub fn from_row(site: &crate::admin::site::SiteSettings, row: &MessageRow) -> Change {
        let shown = match row.status.as_str() {
            "published" => Shown::Published,
            "held" => Shown::Held,
            _ => Shown::Removed,
        };
        let json = match shown {
            Shown::Removed => ChangeJson::Removed {
                seq: row.seq,
                id: row.id,
            },
            Shown::Published | Shown::Held => ChangeJson::Message {
                seq: row.seq,
                id: row.id,
                author: AuthorJson {
                    id: row.author_id,
                    name: &row.author_name,
                    role: &row.author_role,
                },
                body: &row.body,
                at: row.created_at,
                time: local_clock(site, row.created_at),
                held: shown == Shown::Held,
            },
        };
        Change {
            seq: row.seq,
            author_id: row.author_id,
            shown,
            json: serde_json::to_string(&json).unwrap_or_default().into(),
        }
    }
}

/// The session as the room task last read it, for every connection to render its own state.
#[derive(Debug, Clone, Default)]
pub struct SessionNow {
    pub session: Option<SessionRow>,
    pub muted: Vec<i64>,
}

/// What a connection is sent.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Change(Arc<Change>),
    /// Who is here: a serialised presence frame (behind an Arc, as the others are: a small
    /// item keeps each connection's queue small).
    Presence(Arc<Utf8Bytes>),
    Session(Arc<SessionNow>),
}

/// What a connection is told to do outside its queue (which may be full).
#[derive(Debug, Default)]
pub struct Signals {
    /// Check again whether the member may still be here (their account or the room changed).
    pub recheck: AtomicBool,
    /// Their blocks changed: reload them.
    pub blocks: AtomicBool,
    /// Their queue overflowed: catch up from the database.
    pub lagged: AtomicBool,
    pub wake: Notify,
}

impl Signals {
    fn raise(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// Who a connection shows changes to: the member, whether they keep the room, whom they block.
#[derive(Debug)]
pub struct Audience {
    pub user_id: i64,
    /// Shown held messages: staff, or the facilitator of the session on now.
    pub keeps: AtomicBool,
    /// Members this one blocks: their messages are not shown.
    pub blocked: RwLock<HashSet<i64>>,
    /// Shown in the presence list (the member did not choose to be invisible).
    pub visible: AtomicBool,
}

impl Audience {
    /// The rule of `db::cafe::message_shown`, for a change read once for the whole room.
    pub fn shown(&self, change: &Change) -> bool {
        match change.shown {
            Shown::Removed => true,
            Shown::Published => !self
                .blocked
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(&change.author_id),
            Shown::Held => change.author_id == self.user_id || self.keeps.load(Ordering::Acquire),
        }
    }
}

/// One connection in a room.
pub struct Member {
    pub name: String,
    pub audience: Arc<Audience>,
    pub queue: mpsc::Sender<Outgoing>,
    pub signals: Arc<Signals>,
}

impl Member {
    fn offer(&self, outgoing: Outgoing) {
        if self.queue.try_send(outgoing).is_err() {
            self.signals.raise(&self.signals.lagged);
        }
    }
}

/// A room with members connected on this instance.
pub struct Room {
    pub id: i64,
    members: Mutex<HashMap<u64, Member>>,
    /// The last change sent to every member.
    sent: AtomicI64,
    changes: AtomicBool,
    session: AtomicBool,
    presence: AtomicBool,
    wake: Notify,
}

impl Room {
    fn raise(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Someone's name or visibility changed: send the list again.
    pub fn presence_changed(&self) {
        self.raise(&self.presence);
    }

    /// The last change every member has been offered.
    pub fn sent(&self) -> i64 {
        self.sent.load(Ordering::Acquire)
    }

    /// The presence frame: the visible members' names (each once, however many tabs they have
    /// open), at most [`PRESENCE_NAMES`] of them, and how many are here.
    fn presence_json(&self) -> Utf8Bytes {
        #[derive(Serialize)]
        struct PresenceJson<'a> {
            r#type: &'static str,
            count: usize,
            names: Vec<&'a str>,
        }
        let members = lock(&self.members);
        let mut seen = HashSet::new();
        let mut names = Vec::new();
        for member in members.values() {
            if seen.insert(member.audience.user_id)
                && member.audience.visible.load(Ordering::Acquire)
                && names.len() < PRESENCE_NAMES
            {
                names.push(member.name.as_str());
            }
        }
        names.sort_unstable();
        let json = PresenceJson {
            r#type: "presence",
            count: seen.len(),
            names,
        };
        serde_json::to_string(&json).unwrap_or_default().into()
    }

    fn each(&self, mut f: impl FnMut(&Member)) {
        for member in lock(&self.members).values() {
            f(member);
        }
    }
}

/// The rooms of this instance.
#[derive(Default)]
pub struct Cafe {
    rooms: Mutex<HashMap<i64, Arc<Room>>>,
    next_id: AtomicU64,
}

/// A member's place in a room; leaving the room when dropped.
pub struct Joined {
    pub room: Arc<Room>,
    pub id: u64,
}

impl Drop for Joined {
    fn drop(&mut self) {
        lock(&self.room.members).remove(&self.id);
        self.room.raise(&self.room.presence);
    }
}

impl Cafe {
    /// Adds a connection to room `room_id`, starting the room's task if it had nobody here.
    pub fn join(self: &Arc<Self>, app: &AppState, room_id: i64, member: Member) -> Joined {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rooms = lock(&self.rooms);
        let room = rooms
            .entry(room_id)
            .or_insert_with(|| {
                let room = Arc::new(Room {
                    id: room_id,
                    members: Mutex::default(),
                    sent: AtomicI64::new(-1),
                    changes: AtomicBool::new(true),
                    session: AtomicBool::new(true),
                    presence: AtomicBool::new(true),
                    wake: Notify::new(),
                });
                tokio::spawn(room_task(app.clone(), self.clone(), room.clone()));
                room
            })
            .clone();
        lock(&room.members).insert(id, member);
        drop(rooms);
        room.raise(&room.presence);
        Joined { room, id }
    }

    fn rooms(&self) -> Vec<Arc<Room>> {
        lock(&self.rooms).values().cloned().collect()
    }

    fn room(&self, id: i64) -> Option<Arc<Room>> {
        lock(&self.rooms).get(&id).cloned()
    }

    /// The names in a room's presence list now (on this instance).
    pub fn present_names(&self, room_id: i64) -> Vec<String> {
        let Some(room) = self.room(room_id) else {
            return Vec::new();
        };
        let mut names: Vec<String> = lock(&room.members)
            .values()
            .filter(|m| m.audience.visible.load(Ordering::Acquire))
            .map(|m| m.name.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.truncate(PRESENCE_NAMES);
        names
    }

    fn signal_user(&self, user_id: i64) {
        for room in self.rooms() {
            let mut here = false;
            room.each(|member| {
                if member.audience.user_id == user_id {
                    here = true;
                    member.signals.raise(&member.signals.recheck);
                }
            });
            if here {
                // Their name may have changed.
                room.raise(&room.presence);
            }
        }
    }

    fn signal_all(&self, pick: impl Fn(&Signals) -> &AtomicBool) {
        for room in self.rooms() {
            room.each(|member| member.signals.raise(pick(&member.signals)));
        }
    }
}

/// Follows the bus for the café until it closes or the server stops.
pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut events = app.events.subscribe();
    loop {
        let received = tokio::select! {
            received = events.next() => received,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let cafe = &app.cafe;
        match received {
            Received::Event(Event::CafeMessages { room_id }) => {
                if let Some(room) = cafe.room(room_id) {
                    room.raise(&room.changes);
                }
            }
            Received::Event(Event::CafeSession { room_id }) => {
                if let Some(room) = cafe.room(room_id) {
                    room.raise(&room.session);
                }
            }
            Received::Event(Event::CafeRoomsChanged | Event::CategoriesChanged) => {
                cafe.signal_all(|s| &s.recheck);
            }
            Received::Event(Event::MemberChanged { user_id }) => cafe.signal_user(user_id),
            Received::Event(Event::BlocksChanged) => cafe.signal_all(|s| &s.blocks),
            Received::Event(_) => {}
            Received::Lagged(missed) => {
                tracing::warn!(missed, "café fell behind the bus: every room reads again");
                for room in cafe.rooms() {
                    room.raise(&room.changes);
                    room.raise(&room.session);
                }
                cafe.signal_all(|s| &s.recheck);
            }
            Received::Closed => return,
        }
    }
}

/// A room's task: sends its changes, its session and its presence to the members here, and ends
/// when the last one leaves.
async fn room_task(app: AppState, cafe: Arc<Cafe>, room: Arc<Room>) {
    let mut last_presence = tokio::time::Instant::now() - PRESENCE_INTERVAL;
    let mut boundary: Option<tokio::time::Instant> = None;
    loop {
        {
            let mut rooms = lock(&cafe.rooms);
            if lock(&room.members).is_empty() {
                rooms.remove(&room.id);
                return;
            }
        }
        if room.session.swap(false, Ordering::AcqRel) {
            match read_session(&app, room.id).await {
                Ok((now, next_boundary)) => {
                    room.each(|member| member.offer(Outgoing::Session(now.clone())));
                    boundary = next_boundary;
                }
                Err(e) => {
                    tracing::error!(error = %e, room = room.id, "café session not read");
                    room.session.store(true, Ordering::Release);
                }
            }
        }
        if room.changes.swap(false, Ordering::AcqRel)
            && let Err(e) = send_changes(&app, &room).await
        {
            tracing::error!(error = %e, room = room.id, "café changes not read");
            room.changes.store(true, Ordering::Release);
        }
        let presence_due = last_presence + PRESENCE_INTERVAL;
        if room.presence.load(Ordering::Acquire) && tokio::time::Instant::now() >= presence_due {
            room.presence.store(false, Ordering::Release);
            let frame = Arc::new(room.presence_json());
            room.each(|member| member.offer(Outgoing::Presence(frame.clone())));
            last_presence = tokio::time::Instant::now();
        }
        let pending_presence = room.presence.load(Ordering::Acquire);
        let retry = room.changes.load(Ordering::Acquire) || room.session.load(Ordering::Acquire);
        tokio::select! {
            _ = room.wake.notified() => {}
            _ = tokio::time::sleep_until(presence_due), if pending_presence => {}
            _ = tokio::time::sleep(Duration::from_secs(1)), if retry => {}
            _ = sleep_until_opt(boundary) => {
                boundary = None;
                room.session.store(true, Ordering::Release);
            }
        }
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The room's session now, and when it next starts or ends (to read it again then).
async fn read_session(
    app: &AppState,
    room_id: i64,
) -> Result<(Arc<SessionNow>, Option<tokio::time::Instant>), sqlx::Error> {
    let now = db::now();
    let mut reader = app.db.reader();
    let mut exec = reader.exec().await?;
    let session = db::cafe::current_session(exec.again(), room_id, now).await?;
    let muted = match &session {
        Some(s) => db::cafe::muted_in(exec.again(), s.id).await?,
        None => Vec::new(),
    };
    let next_change = match &session {
        Some(s) => Some(s.ends_at),
        None => db::cafe::next_session(exec, room_id, now)
            .await?
            .map(|s| s.starts_at),
    };
    let boundary = next_change.map(|at| {
        let wait = u64::try_from(at - now).unwrap_or(0);
        tokio::time::Instant::now() + Duration::from_secs(wait)
    });
    Ok((Arc::new(SessionNow { session, muted }), boundary))
}

/// Offers every change after the last one sent to each member who is shown it.
async fn send_changes(app: &AppState, room: &Room) -> Result<(), sqlx::Error> {
    let mut sent = room.sent();
    if sent < 0 {
        // A room task's first read starts from now: connections send their own history.
        let mut reader = app.db.reader();
        sent = db::cafe::last_seq(reader.exec().await?, room.id)
            .await?
            .unwrap_or(0);
        room.sent.store(sent, Ordering::Release);
        // Changes may have committed between the joins' own reads and this one: those who
        // joined catch up from the database.
        room.each(|member| member.signals.raise(&member.signals.lagged));
        return Ok(());
    }
    loop {
        let rows = {
            let mut reader = app.db.reader();
            db::cafe::changes_since(reader.exec().await?, room.id, sent, BATCH).await?
        };
        for row in &rows {
            let change = Arc::new(Change::from_row(&app.site, row));
            room.each(|member| {
                if member.audience.shown(&change) {
                    member.offer(Outgoing::Change(change.clone()));
                }
            });
            sent = row.seq;
            room.sent.store(sent, Ordering::Release);
        }
        if rows.len() < BATCH as usize {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(author_id: i64, shown: Shown) -> Change {
        Change {
            seq: 1,
            author_id,
            shown,
            json: Utf8Bytes::from_static("{}"),
        }
    }

    #[test]
    fn a_full_queue_marks_the_connection_lagged_instead_of_waiting() {
        let (queue, _receiver) = mpsc::channel(1);
        let member = Member {
            name: "そら".into(),
            audience: Arc::new(Audience {
                user_id: 2,
                keeps: false.into(),
                blocked: RwLock::default(),
                visible: true.into(),
            }),
            queue,
            signals: Arc::default(),
        };
        let frame = Arc::new(change(1, Shown::Published));
        member.offer(Outgoing::Change(frame.clone()));
        assert!(!member.signals.lagged.load(Ordering::Acquire));
        member.offer(Outgoing::Change(frame));
        assert!(
            member.signals.lagged.load(Ordering::Acquire),
            "the second frame did not fit: the connection catches up from the database"
        );
    }

    #[test]
    fn changes_are_shown_by_status_author_and_blocks() {
        let audience = Audience {
            user_id: 2,
            keeps: false.into(),
            blocked: RwLock::new([3].into_iter().collect()),
            visible: true.into(),
        };
        assert!(audience.shown(&change(1, Shown::Published)));
        assert!(
            !audience.shown(&change(3, Shown::Published)),
            "blocked author"
        );
        assert!(
            audience.shown(&change(3, Shown::Removed)),
            "removals reach everyone"
        );
        assert!(
            !audience.shown(&change(1, Shown::Held)),
            "someone else's held message"
        );
        assert!(
            audience.shown(&change(2, Shown::Held)),
            "one's own held message"
        );
        audience.keeps.store(true, Ordering::Release);
        assert!(
            audience.shown(&change(1, Shown::Held)),
            "those who keep the room"
        );
    }
}
