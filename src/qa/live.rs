//! The live slot page over a WebSocket: everyone on a slot's page sees its answers appear, change
//! and go as the expert and moderators act.
//!
//! Each slot with someone watching on this instance has a task that follows the slot's changes:
//! woken by the bus ([`run`]), it reads the changes after the last one it sent (one query for
//! everyone watching), renders each answer card once per audience and language, and broadcasts
//! it on a bounded channel. A watcher that falls behind the channel is told so by the channel and
//! catches up from the database, so memory stays bounded and a slow phone never holds the others
//! up. What each watcher may see is decided here, per connection, by the rule of
//! `db::qa::ANSWER_SHOWN`: keepers (staff and the slot's expert) get the card with who asked;
//! others get the card without an anonymous asker's name, and only for shared questions or their
//! own; anything else reaches them as `removed`.
//!
//! Frames (JSON text): `hello` `{seq, reset}`, then `answer` `{seq, question, html}` and `removed`
//! `{seq, question}`. The client sends nothing but pongs. Close codes as the café's
//! (`web::sockets`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast, watch};

use super::slot::{AnswerCard, Audience};
use crate::AppState;
use crate::auth::session::CurrentUser;
use crate::db;
use crate::db::qa::AnswerRow;
use crate::db::users::SessionUser;
use crate::error::{AppError, AppResult};
use crate::events::{Event, Received};
use crate::i18n::Locale;
use crate::web::input::Query;
use crate::web::sockets;

/// Changes a watcher may be behind before it reads them from the database itself.
const CHANNEL: usize = 32;
/// Changes read in one query.
const BATCH: i64 = 100;
/// The client sends nothing but control frames.
const MAX_CLIENT_FRAME: usize = 1024;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One answer change, rendered once for each audience and language.
#[derive(Debug)]
pub struct Change {
    pub seq: i64,
    pub question_id: i64,
    /// Read here only, never sent: whose question it is.
    asker_id: i64,
    /// Published, on an accepted question.
    published: bool,
    shared: bool,
    anonymous: bool,
    /// `[audience][locale]`: the card for others, then for keepers; Japanese, then English.
    cards: [[Utf8Bytes; 2]; 2],
    removed: Utf8Bytes,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame<'a> {
    Hello {
        seq: i64,
        reset: bool,
    },
    Answer {
        seq: i64,
        question: i64,
        html: &'a str,
    },
    Removed {
        seq: i64,
        question: i64,
    },
}

fn json(frame: &Frame<'_>) -> Utf8Bytes {
    serde_json::to_string(frame).unwrap_or_default().into()
}

fn locale_index(locale: Locale) -> usize {
    match locale {
        Locale::Ja => 0,
        Locale::En => 1,
    }
}

impl Change {
    fn from_row(app: &AppState, row: &AnswerRow) -> Change {
        let card = |audience: Audience, locale: Locale| -> Utf8Bytes {
            let html = AnswerCard::new(app, locale.tr(), row, audience).html();
            json(&Frame::Answer {
                seq: row.seq,
                question: row.question_id,
                html: &html,
            })
        };
        Change {
            seq: row.seq,
            question_id: row.question_id,
            asker_id: row.asker_id,
            published: row.status == "published" && row.question_status == "accepted",
            shared: row.shared,
            anonymous: row.anonymous,
            cards: [
                [
                    card(Audience::Member, Locale::Ja),
                    card(Audience::Member, Locale::En),
                ],
                [
                    card(Audience::Keeper, Locale::Ja),
                    card(Audience::Keeper, Locale::En),
                ],
            ],
            removed: json(&Frame::Removed {
                seq: row.seq,
                question: row.question_id,
            }),
        }
    }

    /// The frame this watcher is sent.
    fn frame_for(&self, watcher: &Watcher) -> &Utf8Bytes {
        let locale = locale_index(watcher.locale);
        if !self.published {
            return &self.removed;
        }
        if watcher.keeps {
            return &self.cards[1][locale];
        }
        let own = self.asker_id == watcher.user_id;
        let blocked = !self.anonymous && watcher.blocked.contains(&self.asker_id);
        if own || (self.shared && !blocked) {
            &self.cards[0][locale]
        } else {
            &self.removed
        }
    }
}

/// A slot with watchers on this instance.
struct Slot {
    id: i64,
    changes: broadcast::Sender<Arc<Change>>,
    /// Watchers by member: whom not to e-mail, for they see the answer arrive.
    watchers: Mutex<HashMap<i64, usize>>,
    /// The last change broadcast.
    sent: AtomicI64,
    dirty: AtomicBool,
    wake: Notify,
}

/// The live slots of this instance.
pub struct QaLive {
    slots: Mutex<HashMap<i64, Arc<Slot>>>,
    /// Whose account changed (`None`: anyone's, after the bus was missed): every watcher hears
    /// it and the watchers of that member check their account again, so a member suspended or
    /// logged out everywhere is cut off at once, without a query per frame sent.
    accounts: broadcast::Sender<Option<i64>>,
}

impl Default for QaLive {
    fn default() -> QaLive {
        QaLive {
            slots: Mutex::default(),
            accounts: broadcast::channel(CHANNEL).0,
        }
    }
}

/// A watcher's place on a slot; leaving it when dropped.
struct Watching {
    slot: Arc<Slot>,
    user_id: i64,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut watchers = lock(&self.slot.watchers);
        if let Some(open) = watchers.get_mut(&self.user_id) {
            *open -= 1;
            if *open == 0 {
                watchers.remove(&self.user_id);
            }
        }
        if watchers.is_empty() {
            // The slot's task ends when it finds nobody.
            self.slot.wake.notify_one();
        }
    }
}

impl QaLive {
    /// Whether the member has the slot's live page open on this instance now.
    pub fn watching(&self, slot_id: i64, user_id: i64) -> bool {
        lock(&self.slots)
            .get(&slot_id)
            .is_some_and(|slot| lock(&slot.watchers).contains_key(&user_id))
    }

    fn watch(
        self: &Arc<Self>,
        app: &AppState,
        slot_id: i64,
        user_id: i64,
    ) -> (Watching, broadcast::Receiver<Arc<Change>>) {
        let mut slots = lock(&self.slots);
        let slot = slots
            .entry(slot_id)
            .or_insert_with(|| {
                let slot = Arc::new(Slot {
                    id: slot_id,
                    changes: broadcast::channel(CHANNEL).0,
                    watchers: Mutex::default(),
                    sent: AtomicI64::new(-1),
                    dirty: AtomicBool::new(true),
                    wake: Notify::new(),
                });
                tokio::spawn(slot_task(app.clone(), self.clone(), slot.clone()));
                slot
            })
            .clone();
        *lock(&slot.watchers).entry(user_id).or_default() += 1;
        let receiver = slot.changes.subscribe();
        drop(slots);
        (Watching { slot, user_id }, receiver)
    }

    fn slot(&self, id: i64) -> Option<Arc<Slot>> {
        lock(&self.slots).get(&id).cloned()
    }
}

/// Follows the bus until it closes or the server stops.
pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut events = app.events.subscribe();
    loop {
        let received = tokio::select! {
            received = events.next() => received,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match received {
            Received::Event(Event::QaSlot { slot_id }) => {
                if let Some(slot) = app.qa.slot(slot_id) {
                    slot.dirty.store(true, Ordering::Release);
                    slot.wake.notify_one();
                }
            }
            Received::Event(Event::MemberChanged { user_id }) => {
                // Nobody watching: nobody to tell.
                let _ = app.qa.accounts.send(Some(user_id));
            }
            Received::Event(_) => {}
            Received::Lagged(_) => {
                let _ = app.qa.accounts.send(None);
                let slots: Vec<Arc<Slot>> = lock(&app.qa.slots).values().cloned().collect();
                for slot in slots {
                    slot.dirty.store(true, Ordering::Release);
                    slot.wake.notify_one();
                }
            }
            Received::Closed => return,
        }
    }
}

async fn slot_task(app: AppState, live: Arc<QaLive>, slot: Arc<Slot>) {
    loop {
        {
            let mut slots = lock(&live.slots);
            if lock(&slot.watchers).is_empty() {
                slots.remove(&slot.id);
                return;
            }
        }
        if slot.dirty.swap(false, Ordering::AcqRel)
            && let Err(e) = broadcast_changes(&app, &slot).await
        {
            tracing::error!(error = %e, slot = slot.id, "Q&A changes not read");
            slot.dirty.store(true, Ordering::Release);
        }
        let retry = slot.dirty.load(Ordering::Acquire);
        tokio::select! {
            _ = slot.wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)), if retry => {}
        }
    }
}

async fn broadcast_changes(app: &AppState, slot: &Slot) -> Result<(), sqlx::Error> {
    let mut reader = app.db.reader();
    let mut exec = reader.exec().await?;
    let mut sent = slot.sent.load(Ordering::Acquire);
    if sent < 0 {
        // The first read starts from now: watchers catch up by themselves as they join.
        sent = db::qa::slot(exec.again(), slot.id)
            .await?
            .map_or(0, |s| s.last_seq);
        slot.sent.store(sent, Ordering::Release);
    }
    loop {
        let rows = db::qa::changes_since(exec.again(), slot.id, sent, BATCH).await?;
        let count = rows.len() as i64;
        for row in &rows {
            let change = Arc::new(Change::from_row(app, row));
            sent = change.seq;
            // Nobody listening is not an error: the last watcher just left.
            let _ = slot.changes.send(change);
        }
        slot.sent.store(sent, Ordering::Release);
        if count < BATCH {
            return Ok(());
        }
    }
}

#[derive(Deserialize)]
pub struct LiveQuery {
    since: Option<i64>,
}

/// `GET /qa/slots/{id}/live`: the WebSocket handshake. The page is the member's to see (any
/// active member may watch a slot); the Origin must be this site's.
pub async fn handshake(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slot_id): Path<i64>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let admitted = sockets::admit_handshake(&app, &headers, user.id)?;
    let (keeps, blocked) = {
        let mut conn = app.db.conn().await?;
        let mut exec = conn.exec();
        let slot = db::qa::slot(exec.again(), slot_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let blocked = db::blocks::blocked_ids(exec, user.id).await?;
        (super::rules::keeps(&user, &slot), blocked)
    };
    let since = query.since.filter(|since| *since >= 0);
    Ok(
        sockets::sized(upgrade, MAX_CLIENT_FRAME).on_upgrade(move |socket| {
            db::one_at_a_time(async move {
                let _admitted = admitted;
                let watcher = Watcher {
                    locale: Locale::from_code(&user.locale),
                    user_id: user.id,
                    keeps,
                    blocked: blocked.into_iter().collect(),
                };
                let mut socket = socket;
                let end = watch_slot(&app, &user, slot_id, &watcher, since, &mut socket).await;
                match end {
                    End::Gone => {}
                    End::Stopping => {
                        sockets::close(&mut socket, sockets::CLOSE_GOING_AWAY, "restarting").await;
                    }
                    End::AccessEnded => {
                        sockets::close(&mut socket, sockets::CLOSE_ACCESS_ENDED, "access ended")
                            .await;
                    }
                    End::Failed(error) => {
                        tracing::error!(error, slot = slot_id, "Q&A live connection");
                        sockets::close(&mut socket, 1011, "error").await;
                    }
                }
            })
        }),
    )
}

/// Who watches, as the fan-out needs to know them.
struct Watcher {
    locale: Locale,
    user_id: i64,
    keeps: bool,
    blocked: HashSet<i64>,
}

enum End {
    Gone,
    Stopping,
    AccessEnded,
    Failed(String),
}

impl From<sqlx::Error> for End {
    fn from(e: sqlx::Error) -> End {
        End::Failed(e.to_string())
    }
}

impl From<sockets::Gone> for End {
    fn from(_: sockets::Gone) -> End {
        End::Gone
    }
}

/// Sends the frames that bring the client up to date: the changes after `since` (or, with no
/// `since` or one the slot never reached, a reset: the client keeps the page it was served);
/// returns the last change sent.
async fn catch_up(
    app: &AppState,
    slot_id: i64,
    watcher: &Watcher,
    since: Option<i64>,
    socket: &mut WebSocket,
) -> Result<i64, End> {
    let mut reader = app.db.reader();
    let mut exec = reader.exec().await?;
    let last = db::qa::slot(exec.again(), slot_id)
        .await?
        .map_or(0, |s| s.last_seq);
    let from = since.filter(|since| *since <= last).unwrap_or(last);
    let hello = json(&Frame::Hello {
        seq: from,
        reset: since != Some(from),
    });
    sockets::send(socket, Message::Text(hello)).await?;
    let mut sent = from;
    loop {
        let rows = db::qa::changes_since(exec.again(), slot_id, sent, BATCH).await?;
        let count = rows.len() as i64;
        for row in &rows {
            let change = Change::from_row(app, row);
            sockets::send(socket, Message::Text(change.frame_for(watcher).clone())).await?;
            sent = change.seq;
        }
        if count < BATCH {
            return Ok(sent);
        }
    }
}

async fn watch_slot(
    app: &AppState,
    user: &SessionUser,
    slot_id: i64,
    watcher: &Watcher,
    since: Option<i64>,
    socket: &mut WebSocket,
) -> End {
    // Watching before reading: what commits after the read below reaches the channel.
    let (_watching, mut changes) = app.qa.watch(app, slot_id, user.id);
    let mut accounts = app.qa.accounts.subscribe();
    let mut sent = match catch_up(app, slot_id, watcher, since, socket).await {
        Ok(sent) => sent,
        Err(end) => return end,
    };
    let mut stopping = app.sockets.stopping();
    let mut ping = tokio::time::interval(sockets::PING_EVERY);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    loop {
        let step: Result<(), End> = tokio::select! {
            () = sockets::until_stopping(&mut stopping) => Err(End::Stopping),
            received = socket.recv() => {
                heard = tokio::time::Instant::now();
                match received {
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Err(End::Gone),
                    Some(Ok(_)) => Ok(()),
                }
            }
            change = changes.recv() => match change {
                Ok(change) if change.seq <= sent => Ok(()),
                Ok(change) => {
                    sent = change.seq;
                    sockets::send(socket, Message::Text(change.frame_for(watcher).clone()))
                        .await
                        .map_err(End::from)
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    match catch_up(app, slot_id, watcher, Some(sent), socket).await {
                        Ok(caught_up) => {
                            sent = caught_up;
                            Ok(())
                        }
                        Err(end) => Err(end),
                    }
                }
                Err(broadcast::error::RecvError::Closed) => Err(End::Gone),
            },
            changed = accounts.recv() => match changed {
                Ok(Some(id)) if id != user.id => Ok(()),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => still_here(app, user).await,
                Err(broadcast::error::RecvError::Closed) => Err(End::Gone),
            },
            _ = ping.tick() => {
                if heard.elapsed() > sockets::SILENT_LIMIT {
                    Err(End::Gone)
                } else {
                    sockets::send(socket, Message::Ping(Default::default())).await.map_err(End::from)
                }
            }
        };
        if let Err(end) = step {
            return end;
        }
    }
}

/// Whether the watcher's account is still the one that opened the page (not suspended,
/// deactivated or logged out everywhere since): checked when the bus says it changed.
async fn still_here(app: &AppState, user: &SessionUser) -> Result<(), End> {
    let found = app.users.get(&mut app.db.reader(), user.id).await?;
    found
        .filter(|u| u.status == "active" && u.auth_version == user.auth_version)
        .map(|_| ())
        .ok_or(End::AccessEnded)
}
