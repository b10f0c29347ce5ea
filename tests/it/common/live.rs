//! A café room's live connection as the page's script makes it: a WebSocket handshake with the
//! browser's cookies and the site's Origin, JSON frames both ways.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Browser;

/// How long a frame that should come may take.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

pub struct Live {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    nonces: u64,
}

/// What the handshake answered when it did not upgrade.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
}

impl Live {
    /// Connects `browser` to room `room`, after change `since` when given.
    pub async fn connect(browser: &Browser, room: i64, since: Option<i64>) -> Live {
        Live::try_connect(browser, room, since, Some(browser.origin()))
            .await
            .unwrap_or_else(|refused| panic!("café handshake refused: {refused:?}"))
    }

    /// The handshake with the given Origin (or none); the status when it is refused.
    pub async fn try_connect(
        browser: &Browser,
        room: i64,
        since: Option<i64>,
        origin: Option<&str>,
    ) -> Result<Live, Refused> {
        let query = since.map(|s| format!("?since={s}")).unwrap_or_default();
        Live::try_connect_to(browser, &format!("/cafe/{room}/live{query}"), origin).await
    }

    /// The handshake to any live page's `path` (with its query), with the given Origin.
    pub async fn try_connect_to(
        browser: &Browser,
        path: &str,
        origin: Option<&str>,
    ) -> Result<Live, Refused> {
        let url = format!("{}{path}", browser.origin().replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("a WebSocket request");
        let headers = request.headers_mut();
        if let Some(origin) = origin {
            headers.insert("origin", HeaderValue::from_str(origin).expect("an origin"));
        }
        if let Some(cookie) = browser.cookie_header() {
            headers.insert("cookie", HeaderValue::from_str(&cookie).expect("cookies"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Live { socket, nonces: 0 }),
            Err(tungstenite::Error::Http(response)) => Err(Refused {
                status: response.status().as_u16(),
            }),
            Err(e) => panic!("live handshake failed: {e}"),
        }
    }

    /// The next JSON frame (pings are answered by the library and skipped).
    pub async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.socket.next())
                .await
                .expect("a frame within the wait")
                .expect("the connection is open")
                .expect("a readable frame");
            match message {
                Message::Text(text) => {
                    return serde_json::from_str(&text).expect("a JSON frame");
                }
                Message::Close(frame) => panic!("closed while a frame was expected: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next frame of `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Frames until one of `kind` satisfies `wanted`; every frame read on the way, that one last.
    pub async fn until(&mut self, kind: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let frame = self.next().await;
            let done = frame["type"] == kind && wanted(&frame);
            seen.push(frame);
            if done {
                return seen;
            }
        }
    }

    /// The opening: the hello, then the messages and the state that follow it (up to `state`).
    pub async fn opening(&mut self) -> (Value, Vec<Value>, Value) {
        let hello = self.next_of("hello").await;
        let mut messages = Vec::new();
        loop {
            let frame = self.next().await;
            match frame["type"].as_str() {
                Some("state") => return (hello, messages, frame),
                Some("message" | "removed") => messages.push(frame),
                _ => {}
            }
        }
    }

    /// Sends a message; returns the nonce its answer carries.
    pub async fn send(&mut self, body: &str) -> String {
        self.nonces += 1;
        let nonce = format!("n{}", self.nonces);
        self.send_raw(json!({"type": "send", "body": body, "nonce": nonce}).to_string())
            .await;
        nonce
    }

    pub async fn send_raw(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("sending a frame");
    }

    /// Sends a message and waits for its `ack` or `refused`.
    pub async fn say(&mut self, body: &str) -> Value {
        let nonce = self.send(body).await;
        loop {
            let frame = self.next().await;
            if (frame["type"] == "ack" || frame["type"] == "refused") && frame["nonce"] == nonce {
                return frame;
            }
        }
    }

    /// Reads until the server closes; the close frame it sent.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.socket.next())
                .await
                .expect("closed within the wait");
            match message {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Drops the connection without a closing handshake, as a phone losing its network does.
    pub fn drop_abruptly(self) {
        drop(self.socket);
    }
}
