//! A small SMTP server the application sends its mail to, inside the test process.
//!
//! It speaks just enough SMTP for lettre over plain TCP (EHLO/HELO, MAIL FROM, RCPT TO, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT; no STARTTLS, no AUTH), keeps every message it accepts, and
//! wakes whoever waits for one. It can be stopped (the port then refuses connections) and started
//! again on the same port, to play an SMTP outage.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// How long [`MailBox::wait_for`] waits when a test has no better figure.
pub const MAIL_WAIT: Duration = Duration::from_secs(10);

/// One accepted message, parsed.
#[derive(Clone, Debug)]
pub struct Message {
    /// 0 for the first message this server accepted, then 1, 2, …
    pub seq: usize,
    /// The envelope: `MAIL FROM` and `RCPT TO` as given.
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    /// Headers and bodies, decoded.
    pub subject: String,
    pub from: String,
    pub to: Vec<String>,
    pub text: String,
    pub html: String,
    /// The message as received, after dot-unstuffing.
    pub raw: Vec<u8>,
}

impl Message {
    fn parse(seq: usize, envelope_from: String, envelope_to: Vec<String>, raw: Vec<u8>) -> Message {
        let parsed = MessageParser::default().parse(&raw);
        let (subject, from, to, text, html) = match &parsed {
            Some(m) => (
                m.subject().unwrap_or_default().to_owned(),
                m.from()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or_default()
                    .to_owned(),
                m.to()
                    .map(|a| {
                        a.iter()
                            .filter_map(|a| a.address())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                m.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
                m.body_html(0).map(|b| b.into_owned()).unwrap_or_default(),
            ),
            None => Default::default(),
        };
        Message {
            seq,
            envelope_from,
            envelope_to,
            subject,
            from,
            to,
            text,
            html,
            raw,
        }
    }

    /// Whether `address` is among the envelope recipients (case-insensitive).
    pub fn is_to(&self, address: &str) -> bool {
        self.envelope_to
            .iter()
            .any(|a| a.eq_ignore_ascii_case(address))
    }

    /// Every URL in the text body that starts with `prefix`, in order.
    pub fn links(&self, prefix: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find(prefix) {
            let tail = &rest[start..];
            let end = tail
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ')' | '」' | '）')
                })
                .unwrap_or(tail.len());
            found.push(
                tail[..end]
                    .trim_end_matches(['.', ',', '。', '、'])
                    .to_owned(),
            );
            rest = &tail[end..];
        }
        found
    }

    /// The first URL in the text body that starts with `prefix`, e.g. `app.url("/invite/")`.
    pub fn link(&self, prefix: &str) -> String {
        self.links(prefix).into_iter().next().unwrap_or_else(|| {
            panic!(
                "no link starting with {prefix} in the mail {:?}; its text:\n{}",
                self.subject, self.text
            )
        })
    }

    /// A header's raw value (trimmed), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = MessageParser::default().parse(&self.raw)?;
        parsed
            .headers_raw()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    }
}

/// The SMTP server and what it received. Clones share everything.
#[derive(Clone)]
pub struct MailBox {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    messages: Mutex<Vec<Message>>,
    arrived: Notify,
    /// Recipients answered with a permanent 550 at `RCPT TO`.
    refused: Mutex<Vec<String>>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl MailBox {
    /// Starts the server on 127.0.0.1 and a free port.
    pub async fn start() -> MailBox {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the test SMTP server");
        let addr = listener.local_addr().expect("the SMTP server's address");
        let inner = Arc::new(Inner {
            addr,
            messages: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            refused: Mutex::new(Vec::new()),
            server: Mutex::new(None),
        });
        let task = tokio::spawn(accept_loop(listener, inner.clone()));
        *inner.server.lock().unwrap() = Some(task);
        MailBox { inner }
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// What the application's `smtp_url` must be to send here.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.inner.addr.port())
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.inner.messages.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.inner.messages.lock().unwrap().len()
    }

    /// The messages whose envelope names `address`, oldest first.
    pub fn messages_to(&self, address: &str) -> Vec<Message> {
        self.messages()
            .into_iter()
            .filter(|m| m.is_to(address))
            .collect()
    }

    /// The first message (oldest first) that satisfies `wanted`, waiting for it up to `timeout`;
    /// panics then, listing what did arrive. Use `m.seq >= n` to wait for a message after the
    /// first `n` (see [`MailBox::count`]).
    pub async fn wait_for(&self, wanted: impl Fn(&Message) -> bool, timeout: Duration) -> Message {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.inner.arrived.notified();
            tokio::pin!(arrived);
            // Registered before looking, so a message stored in between still wakes us.
            arrived.as_mut().enable();
            if let Some(m) = self
                .inner
                .messages
                .lock()
                .unwrap()
                .iter()
                .find(|m| wanted(m))
            {
                return m.clone();
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let seen: Vec<String> = self
                    .messages()
                    .iter()
                    .map(|m| format!("  #{} to {:?}: {:?}", m.seq, m.envelope_to, m.subject))
                    .collect();
                panic!(
                    "no matching mail arrived within {timeout:?}; received {}:\n{}",
                    seen.len(),
                    if seen.is_empty() {
                        "  (nothing)".to_owned()
                    } else {
                        seen.join("\n")
                    }
                );
            }
        }
    }

    /// The first message to `address` (envelope), waiting up to [`MAIL_WAIT`].
    pub async fn wait_for_mail_to(&self, address: &str) -> Message {
        self.wait_for(|m| m.is_to(address), MAIL_WAIT).await
    }

    /// From now on, `RCPT TO:<address>` is refused with a permanent error (550).
    pub fn refuse(&self, address: &str) {
        self.inner
            .refused
            .lock()
            .unwrap()
            .push(address.to_ascii_lowercase());
    }

    /// Stops listening and drops open connections: until [`MailBox::start_again`], the port
    /// refuses connections.
    pub async fn stop(&self) {
        let task = self.inner.server.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            // Once the task is gone, so are its listener and connections.
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn start_again(&self) {
        self.stop().await;
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut pause = Duration::from_millis(5);
        let listener = loop {
            match TcpListener::bind(self.inner.addr).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() >= deadline => {
                    panic!("binding the SMTP port {} again: {e}", self.inner.addr)
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        };
        let task = tokio::spawn(accept_loop(listener, self.inner.clone()));
        *self.inner.server.lock().unwrap() = Some(task);
    }
}

async fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    // Dropped with this task: aborting the task closes every connection too.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(session(stream, inner.clone()));
                }
                Err(e) => eprintln!("test SMTP server: accept: {e}"),
            },
            Some(_) = connections.join_next() => {}
        }
    }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, inner: Arc<Inner>) {
    if let Err(e) = converse(stream, &inner).await {
        // Clients hanging up mid-conversation are normal (pool shutdown); worth a line in the log.
        eprintln!("test SMTP server: connection ended: {e}");
    }
}

async fn converse(stream: TcpStream, inner: &Inner) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer
        .write_all(b"220 hidamari-test ESMTP ready\r\n")
        .await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-hidamari-test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 26214400\r\n",
            "HELO" => b"250 hidamari-test\r\n",
            "MAIL" => match angle_address(&command, "MAIL FROM:") {
                Some(address) => {
                    from = Some(address);
                    to.clear();
                    b"250 2.1.0 OK\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (&from, angle_address(&command, "RCPT TO:")) {
                (None, _) => b"503 5.5.1 MAIL first\r\n",
                (_, None) => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
                (_, Some(address)) => {
                    if inner
                        .refused
                        .lock()
                        .unwrap()
                        .contains(&address.to_ascii_lowercase())
                    {
                        b"550 5.1.1 No such mailbox here\r\n"
                    } else {
                        to.push(address);
                        b"250 2.1.5 OK\r\n"
                    }
                }
            },
            "DATA" if to.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let raw = read_data(&mut reader).await?;
                let envelope_from = from.take().unwrap_or_default();
                let envelope_to = std::mem::take(&mut to);
                let seq = {
                    let mut messages = inner.messages.lock().unwrap();
                    let seq = messages.len();
                    messages.push(Message::parse(seq, envelope_from, envelope_to, raw));
                    seq
                };
                inner.arrived.notify_waiters();
                writer
                    .write_all(format!("250 2.0.0 OK queued as {seq}\r\n").as_bytes())
                    .await?;
                continue;
            }
            "RSET" => {
                from = None;
                to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// `MAIL FROM:<a@b> SIZE=…` → `a@b` (the keyword compared case-insensitively).
fn angle_address(command: &str, keyword: &str) -> Option<String> {
    let head = command.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = command[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_owned())
}

/// The lines after DATA up to the lone dot, with leading dots unstuffed.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside DATA",
            ));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(raw);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        raw.extend_from_slice(unstuffed);
    }
}
