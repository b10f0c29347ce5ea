//! What every live page's WebSocket shares (the café's rooms and the Q&A's live slots): how many
//! a member may open, buffers sized for small frames, sending with a deadline, pings, the codes
//! a connection closes with, and closing them all with 1001 when the server stops.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use tokio::sync::{Notify, watch};

/// Pings keep phones' connections from being dropped by routers; a client that has said nothing
/// (not even a pong) for [`SILENT_LIMIT`] is gone.
pub const PING_EVERY: Duration = Duration::from_secs(30);
pub const SILENT_LIMIT: Duration = Duration::from_secs(75);
/// A client that takes longer than this to take a frame is dropped (it reconnects and catches
/// up from the database).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// What each connection's read buffer starts with: a line of chat, not a page.
const READ_BUFFER: usize = 1024;

pub const CLOSE_GOING_AWAY: u16 = 1001;
/// The account may not be here any more: reload the page.
pub const CLOSE_ACCESS_ENDED: u16 = 4401;
/// The room or slot is not open to the member: reload the page.
pub const CLOSE_NOT_OPEN: u16 = 4403;

/// Connections one member may have open on an instance, over every live page, unless
/// configured otherwise: a few tabs and devices, not thousands of sockets from a script holding
/// their session.
pub const PER_MEMBER: usize = 8;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The live connections of this instance.
#[derive(Default)]
pub struct Sockets {
    per_member: Mutex<HashMap<i64, usize>>,
    open: AtomicUsize,
    all_closed: Notify,
    /// Raised on shutdown: every connection closes with 1001.
    stopping: watch::Sender<bool>,
}

/// A member's admitted connection, counted until dropped.
pub struct Admitted {
    sockets: Arc<Sockets>,
    user_id: i64,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut per_member = lock(&self.sockets.per_member);
        if let Some(open) = per_member.get_mut(&self.user_id) {
            *open -= 1;
            if *open == 0 {
                per_member.remove(&self.user_id);
            }
        }
        drop(per_member);
        if self.sockets.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.sockets.all_closed.notify_waiters();
        }
    }
}

impl Sockets {
    /// Counts one more connection for the member, unless they have `limit` open already (counted
    /// at the handshake, so a burst of handshakes cannot pass the limit before any is counted).
    pub fn admit(self: &Arc<Self>, user_id: i64, limit: usize) -> Option<Admitted> {
        let mut per_member = lock(&self.per_member);
        let open = per_member.entry(user_id).or_default();
        if *open >= limit {
            return None;
        }
        *open += 1;
        self.open.fetch_add(1, Ordering::AcqRel);
        Some(Admitted {
            sockets: self.clone(),
            user_id,
        })
    }

    /// Connections open on this instance.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Tells every connection to close (1001, going away) and waits, at most `patience`, for
    /// them to have closed.
    pub async fn close_all(&self, patience: Duration) {
        self.stopping.send_replace(true);
        let closed = async {
            loop {
                let notified = self.all_closed.notified();
                if self.open() == 0 {
                    return;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(patience, closed).await.is_err() {
            tracing::warn!(
                open = self.open(),
                "live connections still open at shutdown"
            );
        }
    }
}

/// The checks every live page's handshake makes before anything else: the Origin is this
/// site's (a WebSocket is not bound by CORS, and SameSite cookies go along with a cross-site
/// handshake), and the member has a connection left; the admission to keep for the socket.
pub fn admit_handshake(
    app: &crate::AppState,
    headers: &axum::http::HeaderMap,
    user_id: i64,
) -> crate::error::AppResult<Admitted> {
    if !crate::auth::csrf::websocket_origin_ours(headers, &app.config.base_url) {
        tracing::info!(user = user_id, "live handshake from another origin refused");
        return Err(crate::error::AppError::Forbidden);
    }
    app.sockets
        .admit(user_id, app.config.cafe_connections_per_member)
        .ok_or_else(|| {
            tracing::info!(user = user_id, "too many live connections for one member");
            crate::error::AppError::TooManyRequests
        })
}

/// Resolves once the server stops (or the signal is gone).
pub async fn until_stopping(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Buffers sized for small frames, not the 128 KiB defaults: an idle connection costs a few KiB,
/// and a reader that stops reading cannot make its write buffer grow without bound. The read
/// buffer holds a line; a longer frame (up to `max_frame`) grows it as it comes.
pub fn sized(upgrade: WebSocketUpgrade, max_frame: usize) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
}

/// The client did not take the frame in time, or is gone.
#[derive(Debug)]
pub struct Gone;

pub async fn send(socket: &mut WebSocket, message: Message) -> Result<(), Gone> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(Gone),
    }
}

/// Sends the closing frame, without waiting long for a client that does not read.
pub async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let close = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(close)).await;
}
