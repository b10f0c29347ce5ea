//! The café's rows: fan-out in a room of 1,000 connections, the resident memory of 10,000 idle
//! ones, and a forum topic page while the room runs.
//!
//! - Fan-out, on the in-process server: [`ROOM`] WebSocket connections to みんなのカフェ during a
//!   session, made by a load client written with tokio-tungstenite; [`SENDERS`] of them send
//!   [`RATE`] messages a second between them (each sender one every two seconds, staggered) for
//!   [`RUN`]. Each message's latency runs from just before its frame is written to the moment the
//!   last of the [`ROOM`] connections (its sender's included) has read it. The server and the
//!   load client run in this one process on the same cores, so the rows also show the CPU time
//!   a message costs each of them ([`Cpu`]): what a fan-out cannot take less than here.
//! - Meanwhile the topic page of `topic.rs` (20 posts, logged in) is viewed at the steady pace
//!   of the page-view rows (main.rs); the same views, before any café connection, are the
//!   baseline it is compared with.
//! - Memory: the release binary `hidamari serve` in a child process of its own, on SQLite in a
//!   temporary folder, so that its resident memory is the server's alone; its VmRSS
//!   (/proc/PID/status) before any café connection and with [`IDLE`] idle connections open,
//!   divided by their number. The load client and its buffers live in this process.
//!
//! Members: logging in 1,000 members would cost 1,000 argon2 verifications for nothing the rows
//! measure, so [`MEMBERS`] members are written straight into the `users` table (with the hash of
//! one password, made once), each logs in once through the login form (from loopback source
//! addresses of their own, below the per-client login limit), and the connections share their
//! sessions in turn: [`MEMBERS`] distinct members in the room, 20 connections each for
//! fan-out, 200 each for memory (as members with several tabs and devices open). The session
//! that makes the room writable is one row of `cafe_sessions`, written straight in too.
//! Senders are distinct members, and each sends fewer messages than the café's write limit lets
//! a member send at once (12), so nothing is refused.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hidamari::db::users::NewUser;
use hidamari::db::{self, Db};
use hidamari::domain::account::DisplayName;
use hidamari::domain::role::{Relation, Role};
use hidamari::on;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::topic::{self, Member};
use super::{
    PASSWORD, REQUEST_TIMEOUT, Res, Row, Target, collect_views, loopback_sources, ms, percentile,
    prepare_login, row, start_viewers, summary,
};

/// Distinct members connected.
const MEMBERS: usize = 50;
/// The servers' setting for connections per member: each member's session carries many of
/// the bench's connections (the product's default is a few tabs).
pub const CONNECTIONS_PER_MEMBER: usize = 10_000;
/// Connections in the fan-out room.
const ROOM: usize = 1_000;
/// Members who send during the run (distinct members), and the room's messages a second.
const SENDERS: usize = 20;
const RATE: u32 = 10;
const RUN: Duration = Duration::from_secs(20);
/// After the last message, how long the receipts of the last may still come.
const DRAIN: Duration = Duration::from_secs(2);
/// After the connections opened: presence lists stop flowing (one every 500 ms while members
/// arrive), the room is quiet.
const SETTLE: Duration = Duration::from_secs(3);
/// Handshakes under way at once while a crowd connects.
const CONNECTING: usize = 64;
/// Idle connections for the memory row.
const IDLE: usize = 10_000;
/// The memory row's source addresses (so that no one address runs short of ephemeral ports),
/// and the logins'.
const IDLE_SOURCES: [u8; 4] = [127, 0, 2, 1];
const IDLE_SOURCE_COUNT: usize = 4;
const LOGIN_SOURCES: [u8; 4] = [127, 0, 1, 2];
/// Logins from one source address: fewer than the per-client login burst (10).
const LOGINS_PER_SOURCE: usize = 5;

const FAN_OUT_P99: Duration = Duration::from_millis(10);
const TOPIC_P99: Duration = Duration::from_millis(20);
const BYTES_PER_CONNECTION: f64 = 8.0 * 1024.0;

type Socket = WebSocketStream<TcpStream>;

pub async fn rows(
    server: &Handle,
    running: &hidamari::Running,
    notes: &mut Vec<String>,
) -> Res<Vec<Row>> {
    let fd_limit = raise_fd_limit()?;
    let addr = running.addr;
    let origin = format!("http://{addr}");
    eprintln!("bench: café: {MEMBERS} members, a session on…");
    let hash = hidamari::auth::password::Passwords::new(1)?
        .hash(PASSWORD)
        .await?;
    let (emails, room) = {
        let app = running.app.clone();
        let hash = hash.clone();
        server
            .spawn(async move {
                let db = &app.db;
                let prepared = prepare_room(db, "cafe", &hash).await?;
                // These new members write the topic: the first-posts review would hold their
                // posts, so this site turns it off, as a coordinator can (and, as the settings
                // page does, has the server read its settings again: it keeps them in memory).
                let mut tx = db.begin().await?;
                db::settings::set(tx.exec(), db::settings::REVIEW_THRESHOLD, "0").await?;
                tx.commit().await?;
                app.site.reload(db, &app.config).await?;
                Res::Ok(prepared)
            })
            .await?
            .map_err(|e| e.to_string())?
    };
    let members = log_in_all(&origin, &emails).await?;

    eprintln!("bench: café: a topic of {} posts…", topic::POSTS);
    let clients = members
        .iter()
        .map(|m| super::form_client(m.jar.clone(), None))
        .collect::<Res<Vec<_>>>()?;
    let (_, topic_path) = topic::topic_of_posts(&clients, &origin).await?;
    let reader = Target::new(addr, Some(members[0].cookie.clone()))?.at(&topic_path);
    let mut sender = super::connect(addr).await?;
    let (status, page) = super::get_page(&mut sender, &reader).await?;
    drop(sender);
    let shown = topic::page_posts(&page);
    if status != StatusCode::OK || shown != topic::POSTS {
        return Err(format!("the topic page answered {status} with {shown} posts").into());
    }

    eprintln!("bench: café: the topic page alone…");
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_alone = Cpu::now()?;
    let viewers = start_viewers(&reader, stop.clone());
    tokio::time::sleep(super::BASELINE).await;
    let cpu_alone = Cpu::now()?.since(&cpu_alone);
    stop.store(true, Ordering::SeqCst);
    let alone = collect_views(viewers).await?;
    let (a50, a99, afail) = summary(&alone, None);

    eprintln!("bench: café: {ROOM} connections to the room…");
    let door = Door {
        addr,
        origin: origin.clone(),
        room,
    };
    let cookies: Vec<HeaderValue> = members.iter().map(|m| m.cookie.clone()).collect();
    let sockets = open_crowd(&door, &cookies, ROOM, &[]).await?;
    let total = RUN.as_secs() as usize * RATE as usize;
    let tally = Arc::new(Tally::new(total));
    let stop_readers = Arc::new(tokio::sync::Notify::new());
    let mut sinks = Vec::with_capacity(SENDERS);
    let mut readers = Vec::with_capacity(ROOM);
    for (i, socket) in sockets.into_iter().enumerate() {
        let (sink, stream) = socket.split();
        if i < SENDERS {
            sinks.push(sink);
        }
        readers.push(tokio::spawn(read_room(
            stream,
            tally.clone(),
            stop_readers.clone(),
        )));
    }
    tokio::time::sleep(SETTLE).await;

    eprintln!(
        "bench: café: {RATE} messages a second for {:.0} s, the topic page viewed meanwhile…",
        RUN.as_secs_f64()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = Cpu::now()?;
    let viewers = start_viewers(&reader, stop.clone());
    let run_start = Instant::now() + Duration::from_millis(200);
    let senders: Vec<_> = sinks
        .into_iter()
        .enumerate()
        .map(|(i, sink)| tokio::spawn(send_room(sink, i, run_start, tally.clone())))
        .collect();
    let mut sinks = Vec::with_capacity(SENDERS);
    for sender in senders {
        sinks.push(sender.await??);
    }
    let run_end = Instant::now();
    tokio::time::sleep(DRAIN).await;
    let cpu = Cpu::now()?.since(&cpu_before);
    stop.store(true, Ordering::SeqCst);
    let during = collect_views(viewers).await?;
    stop_readers.notify_waiters();
    let mut frames = 0u64;
    for reader in readers {
        frames += reader.await??;
    }
    drop(sinks);

    let (latencies, incomplete) = tally.latencies(ROOM);
    let refused = tally.refused.load(Ordering::SeqCst);
    let p99 = percentile(&latencies, 0.99);
    let max = latencies.last().copied().unwrap_or_default();
    let met = p99 < FAN_OUT_P99 && incomplete == 0 && refused == 0 && !latencies.is_empty();
    let mut rows = vec![row(
        format!(
            "café fan-out: {ROOM} conns ({MEMBERS} members), {RATE} msg/s; send to last receipt p50 / p99 / max ({} messages)",
            latencies.len()
        ),
        format!(
            "{} / {} / {}{}",
            ms(percentile(&latencies, 0.50)),
            ms(p99),
            ms(max),
            incomplete_note(incomplete, refused)
        ),
        "p99 < 10 ms",
        Some(met),
    )];
    let (to_first, spread) = tally.split(ROOM);
    rows.push(row(
        "  of which: send to first receipt p50 / p99; first to last receipt p50 / p99",
        format!(
            "{} / {}; {} / {}",
            ms(percentile(&to_first, 0.50)),
            ms(percentile(&to_first, 0.99)),
            ms(percentile(&spread, 0.50)),
            ms(percentile(&spread, 0.99))
        ),
        "",
        None,
    ));
    let messages = latencies.len().max(1) as u32;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    rows.push(row(
        format!(
            "  CPU per message, views included (user + kernel): server; SQLite threads; load client; all over {cores} cores"
        ),
        format!(
            "{} ({} kernel); {}; {} ({} kernel); {}",
            ms(cpu.server.total() / messages),
            ms(cpu.server.kernel / messages),
            ms(cpu.database.total() / messages),
            ms(cpu.load.total() / messages),
            ms(cpu.load.kernel / messages),
            ms(cpu.total() / messages / cores),
        ),
        "",
        None,
    ));
    let (d50, d99, dfail) = summary(&during, Some((run_start, run_end)));
    rows.push(row(
        format!("topic page p50 / p99, alone ({} views)", alone.len()),
        format!("{} / {}{}", ms(a50), ms(a99), super::errors_note(afail)),
        "baseline",
        None,
    ));
    let in_run = during
        .iter()
        .filter(|v| v.due >= run_start && v.due < run_end)
        .count();
    rows.push(row(
        format!("topic page p50 / p99, while the room runs ({in_run} views)"),
        format!("{} / {}{}", ms(d50), ms(d99), super::errors_note(dfail)),
        "p99 < 20 ms",
        Some(d99 < TOPIC_P99 && dfail == 0),
    ));
    notes.push(format!(
        "café fan-out: {ROOM} connections sharing the sessions of {MEMBERS} members; {SENDERS} of \
         them (distinct members) send one message every {:.0} s each, staggered; {frames} frames \
         read by the load client in all.",
        SENDERS as f64 / f64::from(RATE)
    ));
    notes.push(format!(
        "café CPU: this process's threads' user and kernel time from /proc (10 ms ticks) over \
         the run and its drain ({:.1} s), divided by the messages every connection read: the \
         server's runtime (its workers and blocking threads), SQLite's connection threads, and \
         the load client's runtime (the {ROOM} readers, the senders and the topic page's \
         viewers). The topic page's views alone cost {} of CPU a second (server {}, load client \
         {}). Server and load client share the {cores} cores, so the last figure (everything \
         over {cores} cores) is about the least time a message's fan-out can take here. On \
         loopback the kernel time of a send includes the receiving socket's TCP processing: \
         part of the server's kernel time is the load client's side of the connection.",
        cpu.wall.as_secs_f64(),
        ms(cpu_alone.per_second(cpu_alone.total())),
        ms(cpu_alone.per_second(cpu_alone.server.total())),
        ms(cpu_alone.per_second(cpu_alone.load.total())),
    ));
    notes.push(format!(
        "topic page while the room runs: the page-view pace of main.rs ({} viewers, one view \
         each every {} ms), against the same views before any café connection.",
        super::VIEWERS,
        super::VIEW_INTERVAL.as_millis()
    ));

    // The fan-out rows stand whatever becomes of the child process.
    rows.push(match memory_row(&hash, fd_limit, notes).await {
        Ok(row) => row,
        Err(e) => row(
            "café: resident memory per idle connection",
            format!("not measured: {e}"),
            "<= 8 KiB",
            None,
        ),
    });
    Ok(rows)
}

/// User and kernel time of a group of threads.
#[derive(Default)]
struct Times {
    user: Duration,
    kernel: Duration,
}

impl Times {
    fn total(&self) -> Duration {
        self.user + self.kernel
    }

    fn since(&self, before: &Times) -> Times {
        Times {
            user: self.user.saturating_sub(before.user),
            kernel: self.kernel.saturating_sub(before.kernel),
        }
    }
}

/// This process's CPU time by thread group, read from /proc/self/task: the server's runtime
/// (threads named "server"), SQLite's connection threads ("sqlx-sqlite-worker-N") and the
/// load client's runtime ("load"). Threads that ended since an earlier reading (idle blocking
/// threads) take their time with them, so a difference can only come out low.
struct Cpu {
    at: Instant,
    /// For a difference: the time between the readings.
    wall: Duration,
    server: Times,
    database: Times,
    load: Times,
}

impl Cpu {
    fn now() -> Res<Cpu> {
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let tick = Duration::from_secs(1) / u32::try_from(ticks).unwrap_or(100).max(1);
        let mut cpu = Cpu {
            at: Instant::now(),
            wall: Duration::ZERO,
            server: Times::default(),
            database: Times::default(),
            load: Times::default(),
        };
        for task in std::fs::read_dir("/proc/self/task")? {
            // A thread may end between the listing and the reading.
            let Ok(stat) = std::fs::read_to_string(task?.path().join("stat")) else {
                continue;
            };
            // "tid (name) state ppid …": the name may hold spaces, the fields after it do not;
            // utime and stime are the 14th and 15th fields.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            let (Some(user), Some(kernel)) = (
                fields.get(11).and_then(|f| f.parse::<u32>().ok()),
                fields.get(12).and_then(|f| f.parse::<u32>().ok()),
            ) else {
                continue;
            };
            let group = if name.starts_with("server") {
                &mut cpu.server
            } else if name.starts_with("sqlx-sqlite") {
                &mut cpu.database
            } else if name.starts_with("load") {
                &mut cpu.load
            } else {
                continue;
            };
            group.user += tick * user;
            group.kernel += tick * kernel;
        }
        Ok(cpu)
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            at: self.at,
            wall: self.at.saturating_duration_since(before.at),
            server: self.server.since(&before.server),
            database: self.database.since(&before.database),
            load: self.load.since(&before.load),
        }
    }

    /// `time` of this difference, per second of it.
    fn per_second(&self, time: Duration) -> Duration {
        time.div_f64(self.wall.as_secs_f64().max(f64::EPSILON))
    }

    fn total(&self) -> Duration {
        self.server.total() + self.database.total() + self.load.total()
    }
}

fn incomplete_note(incomplete: usize, refused: u32) -> String {
    match (incomplete, refused) {
        (0, 0) => String::new(),
        _ => format!(" ({incomplete} not read by every conn, {refused} refused)"),
    }
}

/// Raises this process's soft limit of open files to its hard limit (the server's child
/// process inherits it); the limit now.
fn raise_fd_limit() -> Res<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err("getrlimit(RLIMIT_NOFILE) failed".into());
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            return Err("setrlimit(RLIMIT_NOFILE) failed".into());
        }
    }
    Ok(limit.rlim_cur)
}

/// Writes [`MEMBERS`] members (patients, all with [`PASSWORD`]) and a session on now in
/// みんなのカフェ: their e-mail addresses and the room.
async fn prepare_room(db: &Db, prefix: &str, hash: &str) -> Res<(Vec<String>, i64)> {
    let now = db::now();
    let mut tx = db.begin().await?;
    let mut emails = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let email = format!("{prefix}{i}@example.org");
        let name = DisplayName::parse(&format!("カフェの{prefix}{i}"))
            .map_err(|e| format!("a display name: {e:?}"))?;
        db::users::insert(
            tx.exec(),
            &NewUser {
                email: &email,
                display_name: &name,
                password_hash: hash,
                role: Role::Member,
                relation: Relation::Patient,
                locale: "ja",
                invited_by: None,
                now,
            },
        )
        .await?;
        emails.push(email);
    }
    let room: i64 = on!(tx.exec(), |c| sqlx::query_scalar(
        "SELECT id FROM cafe_rooms WHERE position = 1"
    )
    .fetch_one(c)
    .await)?;
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, theme, created_at) \
         VALUES ($1, $2, $3, 'ベンチのおしゃべり', $2)"
    )
    .bind(room)
    .bind(now - 60)
    .bind(now + 3 * 3600)
    .execute(c)
    .await
    .map(|_| ()))?;
    tx.commit().await?;
    Ok((emails, room))
}

/// Logs every member in through the login form, [`LOGINS_PER_SOURCE`] from each loopback source.
async fn log_in_all(origin: &str, emails: &[String]) -> Res<Vec<Member>> {
    let sources = loopback_sources(LOGIN_SOURCES, emails.len().div_ceil(LOGINS_PER_SOURCE))
        .ok_or("cannot bind the loopback source addresses for the logins")?;
    let url = url::Url::parse(origin)?;
    let mut members = Vec::with_capacity(emails.len());
    // A few at a time: argon2 runs on one slot a core.
    for (c, chunk) in emails.chunks(4).enumerate() {
        let mut logins = Vec::new();
        for (j, email) in chunk.iter().enumerate() {
            let source = sources[(c * 4 + j) / LOGINS_PER_SOURCE];
            let prepared = prepare_login(origin, Some(source), email.clone()).await?;
            let jar = prepared.jar.clone();
            logins.push((jar, tokio::spawn(prepared.submit(origin.to_owned()))));
        }
        for (jar, login) in logins {
            let (status, _) = login.await?;
            if status.as_ref().ok() != Some(&StatusCode::SEE_OTHER) {
                return Err(format!("a café member's login answered {status:?}").into());
            }
            let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url)
                .ok_or("no session cookie after logging in")?;
            let cookie = HeaderValue::from_bytes(cookies.as_bytes())?;
            members.push(Member { jar, cookie });
        }
    }
    Ok(members)
}

/// Where the café's connections go.
struct Door {
    addr: SocketAddr,
    origin: String,
    room: i64,
}

/// The load client's buffers: small, like the server's, so that 10,000 connections fit.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// One connection, from `source` when given, read up to its opening's `state` frame.
async fn open(door: &Door, cookie: &HeaderValue, source: Option<IpAddr>) -> Res<Socket> {
    let tcp = tokio::net::TcpSocket::new_v4()?;
    if let Some(source) = source {
        tcp.bind(SocketAddr::new(source, 0))?;
    }
    let opening = async {
        let stream = tcp.connect(door.addr).await?;
        stream.set_nodelay(true)?;
        let mut request =
            format!("ws://{}/cafe/{}/live", door.addr, door.room).into_client_request()?;
        let headers = request.headers_mut();
        headers.insert(header::ORIGIN, HeaderValue::from_str(&door.origin)?);
        headers.insert(header::COOKIE, cookie.clone());
        let (mut socket, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(client_config()))
                .await?;
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    if parse(&text).is_some_and(|f| f.kind == "state") {
                        return Res::Ok(socket);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(format!("the room closed the connection: {frame:?}").into());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Err("the connection ended during its opening".into()),
            }
        }
    };
    tokio::time::timeout(REQUEST_TIMEOUT, opening)
        .await
        .map_err(|_| "a café connection's opening timed out")?
}

/// `count` connections, the i-th with `cookies[i % len]` (and from `sources[i % len]`, if any),
/// [`CONNECTING`] handshakes at a time; in the order they were asked for.
async fn open_crowd(
    door: &Door,
    cookies: &[HeaderValue],
    count: usize,
    sources: &[IpAddr],
) -> Res<Vec<Socket>> {
    let door = Arc::new(Door {
        addr: door.addr,
        origin: door.origin.clone(),
        room: door.room,
    });
    let slots = Arc::new(Semaphore::new(CONNECTING));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let permit = slots.clone().acquire_owned().await?;
        let door = door.clone();
        let cookie = cookies[i % cookies.len()].clone();
        let source = (!sources.is_empty()).then(|| sources[i % sources.len()]);
        tasks.push(tokio::spawn(async move {
            let socket = open(&door, &cookie, source).await;
            drop(permit);
            socket
        }));
    }
    let mut sockets = Vec::with_capacity(count);
    for task in tasks {
        sockets.push(task.await??);
    }
    Ok(sockets)
}

/// A server frame, as much of it as the load client reads.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    body: Option<Cow<'a, str>>,
}

fn parse(text: &str) -> Option<Frame<'_>> {
    serde_json::from_str(text).ok()
}

/// The body of message `k`: its number first, for the readers to find it.
fn body(k: usize) -> String {
    format!("{k}: こんにちは、今日もよろしくお願いします。")
}

fn number_of(body: &str) -> Option<usize> {
    body.split(':').next()?.parse().ok()
}

/// The run's messages: when each was sent, when the last connection read it, how many read it
/// (nanoseconds from `base`, 0 for not yet).
struct Tally {
    base: Instant,
    sent: Vec<AtomicU64>,
    /// The first connection's receipt (u64::MAX for none yet).
    first: Vec<AtomicU64>,
    last: Vec<AtomicU64>,
    read_by: Vec<AtomicU32>,
    refused: AtomicU32,
}

impl Tally {
    fn new(total: usize) -> Tally {
        Tally {
            base: Instant::now(),
            sent: (0..total).map(|_| AtomicU64::new(0)).collect(),
            first: (0..total).map(|_| AtomicU64::new(u64::MAX)).collect(),
            last: (0..total).map(|_| AtomicU64::new(0)).collect(),
            read_by: (0..total).map(|_| AtomicU32::new(0)).collect(),
            refused: AtomicU32::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn read(&self, k: usize) {
        if let (Some(first), Some(last), Some(read_by)) =
            (self.first.get(k), self.last.get(k), self.read_by.get(k))
        {
            let now = self.now();
            first.fetch_min(now, Ordering::AcqRel);
            last.fetch_max(now, Ordering::AcqRel);
            read_by.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Each message's latency to its last reader, sorted, among those every connection read;
    /// and how many messages sent were not read by all.
    fn latencies(&self, connections: usize) -> (Vec<Duration>, usize) {
        let mut latencies = Vec::new();
        let mut incomplete = 0;
        for k in 0..self.sent.len() {
            let sent = self.sent[k].load(Ordering::Acquire);
            if sent == 0 {
                continue;
            }
            if self.read_by[k].load(Ordering::Acquire) as usize != connections {
                incomplete += 1;
                continue;
            }
            let last = self.last[k].load(Ordering::Acquire);
            latencies.push(Duration::from_nanos(last.saturating_sub(sent)));
        }
        latencies.sort();
        (latencies, incomplete)
    }
}

impl Tally {
    /// Where the time goes, for the messages every connection read: from sending to the first
    /// receipt (the write path, the commit, the room task's read), and from the first receipt
    /// to the last (the fan-out itself); each sorted.
    fn split(&self, connections: usize) -> (Vec<Duration>, Vec<Duration>) {
        let (mut to_first, mut spread) = (Vec::new(), Vec::new());
        for k in 0..self.sent.len() {
            let sent = self.sent[k].load(Ordering::Acquire);
            if sent == 0 || self.read_by[k].load(Ordering::Acquire) as usize != connections {
                continue;
            }
            let first = self.first[k].load(Ordering::Acquire);
            let last = self.last[k].load(Ordering::Acquire);
            to_first.push(Duration::from_nanos(first.saturating_sub(sent)));
            spread.push(Duration::from_nanos(last.saturating_sub(first)));
        }
        to_first.sort();
        spread.sort();
        (to_first, spread)
    }
}

/// Reads one connection's frames until `stop`, noting each message's receipt; the frames read.
async fn read_room(
    mut stream: SplitStream<Socket>,
    tally: Arc<Tally>,
    stop: Arc<tokio::sync::Notify>,
) -> Res<u64> {
    let mut frames = 0;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        let message = tokio::select! {
            () = &mut stopped => return Ok(frames),
            message = stream.next() => message,
        };
        match message {
            Some(Ok(Message::Text(text))) => {
                frames += 1;
                let Some(frame) = parse(&text) else {
                    return Err(format!("an unreadable frame: {text}").into());
                };
                match frame.kind.as_ref() {
                    "message" => {
                        if let Some(k) = frame.body.as_deref().and_then(number_of) {
                            tally.read(k);
                        }
                    }
                    "refused" => {
                        tally.refused.fetch_add(1, Ordering::AcqRel);
                    }
                    _ => {}
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(format!("the room closed a connection: {frame:?}").into());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("a café connection ended".into()),
        }
    }
}

/// Sender `i`: message `i`, `i + SENDERS`, … one every SENDERS / RATE seconds from `start` (plus
/// its place in the stagger), until the run's messages are sent. Gives the sink back.
async fn send_room(
    mut sink: SplitSink<Socket, Message>,
    i: usize,
    start: Instant,
    tally: Arc<Tally>,
) -> Res<SplitSink<Socket, Message>> {
    let every = Duration::from_secs(1) / RATE;
    let mut k = i;
    while k < tally.sent.len() {
        tokio::time::sleep_until((start + every * k as u32).into()).await;
        let frame = serde_json::json!({"type": "send", "body": body(k), "nonce": format!("b{k}")});
        tally.sent[k].store(tally.now().max(1), Ordering::Release);
        sink.send(Message::Text(frame.to_string().into())).await?;
        k += SENDERS;
    }
    Ok(sink)
}

/// Resident memory per idle connection: the release server in a child process, its VmRSS
/// before any café connection and with [`IDLE`] open.
async fn memory_row(hash: &str, fd_limit: u64, notes: &mut Vec<String>) -> Res<Row> {
    // This process holds the client's sockets, the child the server's; each needs a margin
    // for its database, listeners and the rest.
    let count = IDLE.min(
        usize::try_from(fd_limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(256),
    );
    let dir = tempfile::tempdir()?;
    eprintln!("bench: café: the release server in a child process…");
    let child = Child::start(dir.path()).await?;
    let measured = idle_connections(&child, hash, count).await;
    let log = child.stop().await;
    let (before, at_tenth, after) = match measured {
        Ok(sizes) => sizes,
        Err(e) => return Err(format!("{e} (the server's log ends: {log})").into()),
    };
    let per = after.saturating_sub(before) as f64 / count as f64;
    let tenth = count / 10;
    let marginal = after.saturating_sub(at_tenth) as f64 / (count - tenth) as f64;
    notes.push(format!(
        "café memory: `hidamari serve` (release) in a child process, VmRSS {} KiB before any \
         café connection, {} KiB with {tenth}, {} KiB with {count} idle connections ({MEMBERS} \
         members' sessions in turn, from {IDLE_SOURCE_COUNT} loopback source addresses); from \
         {tenth} to {count}: {:.1} KiB each. Open files: limit raised to {fd_limit} in the bench only.",
        before / 1024,
        at_tenth / 1024,
        after / 1024,
        marginal / 1024.0
    ));
    // Logging the members in (argon2) leaves memory the allocator gives back later, so the
    // figure from "before" can come out low: the row shows both, and the larger one counts.
    Ok(row(
        format!(
            "café: resident memory per idle connection, server alone: {tenth} to {count} conns; 0 to {count}"
        ),
        format!("{:.1} KiB; {:.1} KiB", marginal / 1024.0, per / 1024.0),
        "<= 8 KiB",
        Some(count == IDLE && per.max(marginal) <= BYTES_PER_CONNECTION),
    ))
}

/// VmRSS of the child before any café connection, with a tenth of `count`, and with `count`.
async fn idle_connections(child: &Child, hash: &str, count: usize) -> Res<(u64, u64, u64)> {
    let (emails, room) = {
        let db = Db::connect(&child.database_url).await?;
        let prepared = prepare_room(&db, "idle", hash).await;
        db.close().await;
        prepared?
    };
    let members = log_in_all(&child.origin, &emails).await?;
    let cookies: Vec<HeaderValue> = members.iter().map(|m| m.cookie.clone()).collect();
    let sources = loopback_sources(IDLE_SOURCES, IDLE_SOURCE_COUNT)
        .ok_or("cannot bind the loopback source addresses for the idle connections")?;
    let door = Door {
        addr: child.addr,
        origin: child.origin.clone(),
        room,
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = child.resident()?;
    eprintln!("bench: café: {count} idle connections…");
    let stop = Arc::new(tokio::sync::Notify::new());
    let tally = Arc::new(Tally::new(0));
    let mut readers = Vec::with_capacity(count);
    let tenth = count / 10;
    let mut at_tenth = 0;
    for (from, to) in [(0, tenth), (tenth, count)] {
        for socket in open_crowd(&door, &cookies, to - from, &sources).await? {
            let (sink, stream) = socket.split();
            readers.push((
                sink,
                tokio::spawn(read_room(stream, tally.clone(), stop.clone())),
            ));
        }
        tokio::time::sleep(SETTLE).await;
        if from == 0 {
            at_tenth = child.resident()?;
        }
    }
    let after = child.resident()?;
    stop.notify_waiters();
    for (sink, reader) in readers {
        reader.await??;
        drop(sink);
    }
    Ok((before, at_tenth, after))
}

/// `hidamari serve` (the release binary cargo built with this bench) in a child process.
struct Child {
    process: tokio::process::Child,
    pid: u32,
    addr: SocketAddr,
    origin: String,
    database_url: String,
    log: std::path::PathBuf,
}

impl Child {
    async fn start(dir: &Path) -> Res<Child> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log = dir.join("server.log");
        let out = std::fs::File::create(&log)?;
        let process = tokio::process::Command::new(env!("CARGO_BIN_EXE_hidamari"))
            .arg("serve")
            .env("HIDAMARI_DATA_DIR", dir)
            .env("HIDAMARI_LISTEN", addr.to_string())
            .env(
                "HIDAMARI_CAFE_CONNECTIONS_PER_MEMBER",
                CONNECTIONS_PER_MEMBER.to_string(),
            )
            .env("RUST_LOG", "hidamari=warn")
            .env_remove("DATABASE_URL")
            .env_remove("HIDAMARI_CONFIG")
            .env_remove("HIDAMARI_BENCH")
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()?;
        let pid = process.id().ok_or("the server exited at once")?;
        let database_url = hidamari::config::Config::for_data_dir(dir, None)?.database_url;
        let child = Child {
            process,
            pid,
            addr,
            origin: format!("http://{addr}"),
            database_url,
            log,
        };
        let healthz = format!("{}/healthz", child.origin);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(answer) = client.get(&healthz).send().await
                && answer.status() == StatusCode::OK
            {
                return Ok(child);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server in the child process did not start: {}",
                    child.log_tail()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// VmRSS in bytes.
    fn resident(&self) -> Res<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmRSS in /proc/PID/status")?;
        Ok(kib * 1024)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" / ")
    }

    /// SIGTERM (a graceful stop), SIGKILL if it takes too long; the end of its log.
    async fn stop(mut self) -> String {
        if let Ok(pid) = i32::try_from(self.pid) {
            // SAFETY: kill only sends a signal to the child this struct started.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(Duration::from_secs(20), self.process.wait())
            .await
            .is_err()
        {
            let _ = self.process.kill().await;
        }
        self.log_tail()
    }
}
