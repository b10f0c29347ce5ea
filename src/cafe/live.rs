//! A member's live connection to a room, over a WebSocket.
//!
//! The handshake is a page request like any other (the session cookie, the room open to the
//! member) plus an Origin check. Then, in JSON text frames:
//! - the server sends `hello` (`reset` when the client should drop what it shows), the messages
//!   it should show (the last 50 on a first join; exactly the changes after `?since=N` on a
//!   reconnect), `state` (open, paused, slow mode, muted, whether the member keeps the room) and
//!   `presence`; then each `message` and `removed` as they happen, each with the room's change
//!   number `seq`;
//! - the client sends `{"type":"send","body":…,"nonce":…}`, answered by `ack` or `refused`.
//!
//! Every message sent is checked as a form post is: the member's account and the room again,
//! the write limit, silence, and the content pipeline. A member whose access ends (suspended,
//! deactivated, role or relation changed, the room closed to them) is cut off at once: the bus
//! tells the connection, which checks again and closes. Closing codes the client reads: 1001 the
//! server is restarting (reconnect), 4401 the account may not be here any more, 4403 the room is
//! not open to the member (both: reload the page instead).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::hub::{Audience, Change, Joined, Member, Outgoing, SessionNow, Signals};
use super::rules::RoomState;
use crate::AppState;
use crate::auth::session::CurrentUser;
use crate::auth::write_limit::WriteKind;
use crate::content::{self, Draft, Outcome};
use crate::db;
use crate::db::users::SessionUser;
use crate::error::{AppError, AppResult};
use crate::forums::viewer;
use crate::i18n::{Locale, Tr};
use crate::web::input::{self, Query};
use crate::web::sockets;

/// Messages shown on a first join.
pub const HISTORY: i64 = 50;
/// A reconnecting client that missed more changes than this starts again from the history.
const BACKFILL_LIMIT: i64 = 500;
/// A client frame is one message and its envelope: a thousand characters, escaped, fit.
const MAX_CLIENT_FRAME: usize = 16 * 1024;

#[derive(Deserialize)]
pub struct LiveQuery {
    since: Option<i64>,
}

/// `GET /cafe/{id}/live`: the WebSocket handshake.
pub async fn handshake(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(room_id): Path<i64>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let admitted = sockets::admit_handshake(&app, &headers, user.id)?;
    let room = {
        let mut conn = app.db.conn().await?;
        RoomState::load(conn.exec(), viewer(&user), room_id, db::now())
            .await?
            .ok_or(AppError::NotFound)?
    };
    if !room.readable_by(&user) {
        return Err(AppError::Forbidden);
    }
    let since = query.since.filter(|since| *since >= 0);
    Ok(sockets::sized(upgrade, MAX_CLIENT_FRAME)
        // One pooled connection at a time, as in a request: asking for a second fails at once
        // instead of waiting on a pool the other connections hold.
        .on_upgrade(move |socket| {
            db::one_at_a_time(async move {
                // Boxed, as are the rare paths of `run` below: the task keeps only what an idle
                // connection needs between frames, not the largest state of joining or sending.
                let _admitted = admitted;
                let mut live = match Box::pin(Live::join(app, user, room, since)).await {
                    Ok(live) => live,
                    Err(e) => {
                        tracing::error!(error = %e, room = room_id, "café join failed");
                        return;
                    }
                };
                let mut socket = socket;
                let end = live.run(&mut socket).await;
                live.close(&mut socket, end).await;
            })
        }))
}

/// Why a connection ends.
#[derive(Debug)]
enum End {
    /// The client left, or went quiet.
    Gone,
    /// The server stops: 1001.
    Stopping,
    AccessEnded,
    RoomClosed,
    Failed(String),
}

impl From<AppError> for End {
    fn from(e: AppError) -> End {
        match e {
            AppError::NotFound => End::RoomClosed,
            other => End::Failed(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for End {
    fn from(e: sqlx::Error) -> End {
        End::Failed(e.to_string())
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Send { body: String, nonce: String },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerFrame<'a> {
    Hello {
        me: i64,
        seq: i64,
        reset: bool,
    },
    State {
        open: bool,
        paused: bool,
        slow: i64,
        muted: bool,
        keeps: bool,
        notice: String,
    },
    Ack {
        nonce: &'a str,
        id: i64,
        seq: i64,
        held: bool,
        crisis: bool,
        notice: String,
    },
    Refused {
        nonce: &'a str,
        messages: Vec<String>,
    },
}

fn frame(json: &ServerFrame<'_>) -> Message {
    Message::Text(serde_json::to_string(json).unwrap_or_default().into())
}

struct Live {
    app: AppState,
    user: Arc<SessionUser>,
    room_id: i64,
    audience: Arc<Audience>,
    /// The place in the room, left when the connection ends.
    joined: Joined,
    signals: Arc<Signals>,
    queue: mpsc::Receiver<Outgoing>,
    /// The last change this client has been sent.
    sent: i64,
    /// Whether the room is closed outside sessions (so the session ending ends the visit).
    closed_outside: bool,
    /// What to send first: the hello, the messages and the state.
    opening: Vec<Message>,
}

impl Live {
    async fn join(
        app: AppState,
        user: Arc<SessionUser>,
        room: RoomState,
        since: Option<i64>,
    ) -> Result<Live, sqlx::Error> {
        let (blocked, invisible) = {
            let mut reader = app.db.reader();
            let mut exec = reader.exec().await?;
            let blocked = db::blocks::blocked_ids(exec.again(), user.id).await?;
            (blocked, db::cafe::invisible(exec, user.id).await?)
        };
        let audience = Arc::new(Audience {
            user_id: user.id,
            keeps: room.kept_by(&user).into(),
            blocked: RwLock::new(blocked.into_iter().collect::<HashSet<_>>()),
            visible: (!invisible).into(),
        });
        let (queue_tx, queue) = mpsc::channel(super::hub::QUEUE);
        let signals: Arc<Signals> = Arc::default();
        let member = Member {
            name: user.display_name.clone(),
            audience: audience.clone(),
            queue: queue_tx,
            signals: signals.clone(),
        };
        // Joined before anything is read: what commits after the reads below reaches the queue.
        let joined = app.cafe.join(&app, room.room.id, member);
        let mut live = Live {
            room_id: room.room.id,
            closed_outside: room.room.closed_outside_sessions(),
            app,
            user,
            audience,
            joined,
            signals,
            queue,
            sent: 0,
            opening: Vec::new(),
        };
        live.opening = live.catch_up(since).await?;
        let muted = match &room.session {
            Some(session) => {
                let mut reader = live.app.db.reader();
                db::cafe::is_muted(reader.exec().await?, session.id, live.user.id).await?
            }
            None => false,
        };
        let state = live.state_frame(room.session.as_ref(), muted);
        live.opening.push(state);
        Ok(live)
    }

    fn t(&self) -> Tr {
        Locale::from_code(&self.user.locale).tr()
    }

    /// The frames that bring the client up to date: the changes after `since` when it has seen
    /// the room before and not too much happened since, else a reset and the latest history.
    async fn catch_up(&mut self, since: Option<i64>) -> Result<Vec<Message>, sqlx::Error> {
        let mut reader = self.app.db.reader();
        let mut exec = reader.exec().await?;
        let last = db::cafe::last_seq(exec.again(), self.room_id)
            .await?
            .unwrap_or(0);
        if let Some(since) = since.filter(|since| *since <= last) {
            let rows =
                db::cafe::changes_since(exec.again(), self.room_id, since, BACKFILL_LIMIT + 1)
                    .await?;
            if rows.len() as i64 <= BACKFILL_LIMIT {
                let mut frames = vec![frame(&ServerFrame::Hello {
                    me: self.user.id,
                    seq: since,
                    reset: false,
                })];
                self.sent = since;
                for row in &rows {
                    let change = Change::from_row(&self.app.site, row);
                    if self.audience.shown(&change) {
                        frames.push(Message::Text(change.json.clone()));
                    }
                    self.sent = change.seq;
                }
                return Ok(frames);
            }
        }
        // The same connection: a second one taken while this one is held would wait for the
        // pool forever once as many connections join at once as the pool has.
        let rows = db::cafe::history(exec, viewer(&self.user), self.room_id, last, HISTORY).await?;
        let mut frames = vec![frame(&ServerFrame::Hello {
            me: self.user.id,
            seq: last,
            reset: true,
        })];
        frames.extend(
            rows.iter()
                .map(|row| Message::Text(Change::from_row(&self.app.site, row).json)),
        );
        self.sent = last;
        Ok(frames)
    }

    fn state_frame(&self, session: Option<&db::cafe::SessionRow>, muted: bool) -> Message {
        let t = self.t();
        let keeps = self.audience.keeps.load(Ordering::Acquire);
        let paused = session.is_some_and(|s| s.paused_at.is_some());
        let slow = session.map_or(0, |s| s.slow_mode_seconds);
        let notice = if session.is_none() {
            t.s("cafe.state.closed")
        } else if muted {
            t.s("cafe.state.muted")
        } else if paused {
            t.s("cafe.state.paused")
        } else if slow > 0 {
            t.f("cafe.state.slow", &[("seconds", &slow.to_string())])
                .into()
        } else {
            t.s("cafe.state.open")
        };
        frame(&ServerFrame::State {
            open: session.is_some(),
            paused,
            slow,
            muted,
            keeps,
            notice: notice.into_owned(),
        })
    }

    /// The connection's loop, its branches polled in a fixed order (`biased`): the server
    /// stopping, then the signals, so that an account or room to check again comes before any
    /// frame waiting in the queue (a member whose access ended is sent nothing more once the
    /// bus has told the connection), then the queue, then the client, then the ping. The queue
    /// coming before the client starves no one: it is bounded and only the room fills it, so
    /// it empties between the room's changes. (The futures are made again on every turn: kept
    /// across turns they would make every idle connection's task larger.)
    async fn run(&mut self, socket: &mut WebSocket) -> End {
        for message in std::mem::take(&mut self.opening) {
            if let Err(end) = send(socket, message).await {
                return end;
            }
        }
        let mut stopping = self.app.sockets.stopping();
        let signals = self.signals.clone();
        let mut ping = tokio::time::interval(sockets::PING_EVERY);
        ping.tick().await;
        let mut heard = tokio::time::Instant::now();
        loop {
            let step = tokio::select! {
                biased;
                () = sockets::until_stopping(&mut stopping) => Err(End::Stopping),
                _ = signals.wake.notified() => Box::pin(self.signalled(socket)).await,
                outgoing = self.queue.recv() => match outgoing {
                    Some(outgoing) => self.deliver(socket, outgoing).await,
                    None => Err(End::Gone),
                },
                received = socket.recv() => {
                    heard = tokio::time::Instant::now();
                    match received {
                        Some(Ok(message)) => Box::pin(self.received(socket, message)).await,
                        Some(Err(_)) | None => Err(End::Gone),
                    }
                }
                _ = ping.tick() => {
                    if heard.elapsed() > sockets::SILENT_LIMIT {
                        Err(End::Gone)
                    } else {
                        send(socket, Message::Ping(Default::default())).await
                    }
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    async fn close(&self, socket: &mut WebSocket, end: End) {
        let (code, reason) = match &end {
            End::Gone => return,
            End::Stopping => (sockets::CLOSE_GOING_AWAY, "restarting"),
            End::AccessEnded => (sockets::CLOSE_ACCESS_ENDED, "access ended"),
            End::RoomClosed => (sockets::CLOSE_NOT_OPEN, "room closed"),
            End::Failed(error) => {
                tracing::error!(
                    error,
                    user = self.user.id,
                    room = self.room_id,
                    "café connection"
                );
                (1011, "error")
            }
        };
        tracing::info!(
            user = self.user.id,
            room = self.room_id,
            code,
            "café connection closed"
        );
        sockets::close(socket, code, reason).await;
    }

    async fn deliver(&mut self, socket: &mut WebSocket, outgoing: Outgoing) -> Result<(), End> {
        match outgoing {
            Outgoing::Change(change) => {
                if change.seq <= self.sent {
                    return Ok(());
                }
                self.sent = change.seq;
                send(socket, Message::Text(change.json.clone())).await
            }
            Outgoing::Presence(json) => send(socket, Message::Text((*json).clone())).await,
            Outgoing::Session(now) => self.session_changed(socket, &now).await,
        }
    }

    async fn session_changed(
        &mut self,
        socket: &mut WebSocket,
        now: &SessionNow,
    ) -> Result<(), End> {
        let session = now.session.as_ref();
        let keeps = self.user.role.is_staff()
            || session.is_some_and(|s| s.facilitator_id == Some(self.user.id));
        self.audience.keeps.store(keeps, Ordering::Release);
        if session.is_none() && self.closed_outside && !keeps {
            return Err(End::RoomClosed);
        }
        let muted = now.muted.contains(&self.user.id);
        send(socket, self.state_frame(session, muted)).await
    }

    async fn signalled(&mut self, socket: &mut WebSocket) -> Result<(), End> {
        let signals = self.signals.clone();
        if signals.recheck.swap(false, Ordering::AcqRel) {
            self.recheck().await?;
        }
        if signals.blocks.swap(false, Ordering::AcqRel) {
            let mut reader = self.app.db.reader();
            let blocked = db::blocks::blocked_ids(reader.exec().await?, self.user.id).await?;
            *self
                .audience
                .blocked
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = blocked.into_iter().collect();
        }
        if signals.lagged.swap(false, Ordering::AcqRel) {
            // What waits in the queue is older than what the database holds now: keep only
            // the latest presence and session, and read the changes again.
            let mut latest_presence = None;
            let mut latest_session = None;
            while let Ok(outgoing) = self.queue.try_recv() {
                match outgoing {
                    Outgoing::Change(_) => {}
                    Outgoing::Presence(json) => latest_presence = Some(json),
                    Outgoing::Session(now) => latest_session = Some(now),
                }
            }
            tracing::info!(
                user = self.user.id,
                room = self.room_id,
                "café client lagged: catching up"
            );
            let frames = self.catch_up(Some(self.sent)).await?;
            for message in frames {
                send(socket, message).await?;
            }
            if let Some(now) = latest_session {
                self.session_changed(socket, &now).await?;
            }
            if let Some(json) = latest_presence {
                send(socket, Message::Text((*json).clone())).await?;
            }
        }
        Ok(())
    }

    /// Whether the member may still be here: the account as it is now, the room as they may
    /// see it now.
    async fn recheck(&mut self) -> Result<(), End> {
        let user = self.current_user().await?;
        let (room, invisible) = {
            let mut reader = self.app.db.reader();
            let mut exec = reader.exec().await?;
            let room =
                RoomState::load(exec.again(), viewer(&user), self.room_id, db::now()).await?;
            (room, db::cafe::invisible(exec, user.id).await?)
        };
        self.audience.visible.store(!invisible, Ordering::Release);
        self.joined.room.presence_changed();
        match room {
            Some(room) if room.readable_by(&user) => {
                self.audience
                    .keeps
                    .store(room.kept_by(&user), Ordering::Release);
                // A coordinator may have made the room closed (or read-only) outside sessions.
                self.closed_outside = room.room.closed_outside_sessions();
                self.user = user;
                Ok(())
            }
            _ => Err(End::RoomClosed),
        }
    }

    /// The member's account as it is now; the visit ends when it is no longer the one that
    /// opened it (logged out everywhere, suspended, deactivated).
    async fn current_user(&self) -> Result<Arc<SessionUser>, End> {
        let found = self
            .app
            .users
            .get(&mut self.app.db.reader(), self.user.id)
            .await?;
        found
            .filter(|u| u.status == "active" && u.auth_version == self.user.auth_version)
            .ok_or(End::AccessEnded)
    }

    async fn received(&mut self, socket: &mut WebSocket, message: Message) -> Result<(), End> {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return Err(End::Gone),
            Message::Ping(_) | Message::Pong(_) | Message::Binary(_) => return Ok(()),
        };
        let Ok(ClientFrame::Send { body, nonce }) = serde_json::from_str::<ClientFrame>(&text)
        else {
            let t = self.t();
            let refused = ServerFrame::Refused {
                nonce: "",
                messages: vec![t.s("cafe.unreadable").into_owned()],
            };
            return send(socket, frame(&refused)).await;
        };
        let nonce: String = nonce.chars().take(64).collect();
        let reply = self.send_message(&body, &nonce).await?;
        send(socket, frame(&reply)).await
    }

    /// A message from the client, checked as a form post is.
    async fn send_message<'n>(
        &mut self,
        body: &str,
        nonce: &'n str,
    ) -> Result<ServerFrame<'n>, End> {
        let user = self.current_user().await?;
        self.user = user.clone();
        let t = self.t();
        let refused = |messages: Vec<String>| ServerFrame::Refused { nonce, messages };
        let body = match input::clean_text("body", body) {
            Ok(body) => body,
            Err(_) => {
                return Ok(refused(vec![
                    crate::web::limits::control_character_message(t, "body"),
                ]));
            }
        };
        if let Err(refusal) = self.app.writes.check(&user, WriteKind::CafeMessage) {
            return Ok(refused(vec![crate::web::limits::refusal_message(
                &self.app, t, &refusal,
            )]));
        }
        let draft = Draft::CafeMessage {
            room_id: self.room_id,
            body: &body,
        };
        match content::submit(&self.app, &user, draft).await? {
            Ok(accepted) => {
                let content::Placed::CafeMessage {
                    message_id, seq, ..
                } = accepted.placed
                else {
                    return Err(End::Failed("a café message placed elsewhere".into()));
                };
                let held = matches!(accepted.outcome, Outcome::Held(_));
                let notice = if accepted.crisis {
                    t.s("cafe.crisis_notice").into_owned()
                } else if held {
                    t.s("cafe.held_notice").into_owned()
                } else {
                    String::new()
                };
                Ok(ServerFrame::Ack {
                    nonce,
                    id: message_id,
                    seq,
                    held,
                    crisis: accepted.crisis,
                    notice,
                })
            }
            Err(refusal) => Ok(refused(refusal.messages(t, &self.app.site))),
        }
    }
}

async fn send(socket: &mut WebSocket, message: Message) -> Result<(), End> {
    sockets::send(socket, message).await.map_err(|_| End::Gone)
}
