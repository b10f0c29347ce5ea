//! Figures for DESIGN.md's "Performance targets", measured side by side in one run on this
//! machine, over loopback only: `cargo bench --bench bench`. It reports; it does not assert (the
//! exit code is 0 whether or not a goal is met, and non-zero only when the run itself failed).
//!
//! The real server runs in-process on SQLite in a temporary folder, on its own tokio runtime; the
//! load comes from a second runtime in the same process (as a separate load-generator process
//! would), with keep-alive connections:
//! - throughput: N closed-loop connections GET `/` logged in, against the real server and against
//!   a bare axum handler serving the very same bytes, alternating rounds, each after a warm-up;
//! - page-view latency: a few viewers each viewing `/` at a steady pace, first alone (baseline),
//!   then while a burst of 200 logins (argon2 verification each) runs. Latency is counted from
//!   the moment a view was due, so a stall also counts against the views it delayed.
//!
//! The login limits (per address and per client address) would answer most of a 200-login burst
//! from one address with 429 without running argon2. To measure argon2's cost, the burst is
//! spread over 20 accounts (10 logins each, the per-address burst) and its connections come from
//! 20 loopback source addresses 127.0.0.2–127.0.0.21 (10 each); every request still goes to
//! 127.0.0.1.
//!
//! Search: see `search.rs` (`HIDAMARI_BENCH=search` runs those rows alone). The café: see
//! `cafe.rs` (`HIDAMARI_BENCH=cafe` runs those rows alone, on a server of their own). The page
//! throughput rows alone, the home page's and the topic page's (`topic.rs`): `HIDAMARI_BENCH=pages`.

mod cafe;
mod search;
mod topic;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::runtime::Handle;

/// The allocator the `hidamari` binary uses, so the server here runs as it does in production;
/// the bare handler it is compared with shares it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

const PASSWORD: &str = "ひだまりの午後に紅茶を";
/// Accounts the login burst is spread over: 10 logins each, the per-address burst.
const ACCOUNTS: usize = 20;
const LOGINS: usize = 200;
/// Loopback source addresses the burst comes from: 10 logins each, under the per-client burst.
const LOGIN_SOURCES: usize = 20;

/// Closed-loop connections for the throughput comparison.
const CONNECTIONS: usize = 16;
const WARM_UP: Duration = Duration::from_secs(1);
/// Each server gets ROUNDS runs of RUN, alternating, so that other load on the machine falls on both.
const ROUNDS: u32 = 2;
const RUN: Duration = Duration::from_millis(2500);

/// Steady page views: VIEWERS viewers each viewing once every VIEW_INTERVAL (200 views a second).
const VIEWERS: usize = 4;
const VIEW_INTERVAL: Duration = Duration::from_millis(20);
const BASELINE: Duration = Duration::from_secs(5);
/// Views before the burst starts, so that the viewers' connections are open and warm.
const LEAD_IN: Duration = Duration::from_millis(500);

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

fn main() {
    match run() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("bench: the run failed: {e}");
            std::process::exit(1);
        }
    }
}

struct Row {
    what: String,
    value: String,
    goal: String,
    met: String,
}

fn row(what: impl Into<String>, value: impl Into<String>, goal: &str, met: Option<bool>) -> Row {
    Row {
        what: what.into(),
        value: value.into(),
        goal: goal.to_owned(),
        met: match met {
            Some(true) => "yes".into(),
            Some(false) => "NO".into(),
            None => "–".into(),
        },
    }
}

fn run() -> Res<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "hidamari bench: {cores} cores (available_parallelism), load average at start: {load}"
    );
    let only = std::env::var("HIDAMARI_BENCH").ok();
    if only.as_deref() == Some("search") {
        let mut notes = Vec::new();
        let rows = search::rows(&mut notes);
        print_table(&rows);
        println!();
        for note in &notes {
            println!("{note}");
        }
        return Ok(());
    }

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("load")
        .enable_all()
        .build()?;

    // TMPDIR chooses the folder: on tmpfs, fsync costs nothing and the figures change.
    let dir = tempfile::tempdir()?;
    println!(
        "server: hidamari::start on SQLite in {} (TMPDIR), own runtime with {cores} workers",
        dir.path().display()
    );
    println!(
        "load: a second runtime with {cores} workers in the same process, keep-alive, loopback only"
    );
    println!();
    let running = server_rt.block_on(async {
        let mut config = hidamari::config::Config::for_data_dir(dir.path(), None)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        config.base_url = url::Url::parse(&format!("http://{addr}"))?;
        config.smtp_url = None;
        // The café rows share a few members' sessions over many connections (see `cafe`).
        config.cafe_connections_per_member = cafe::CONNECTIONS_PER_MEMBER;
        Res::Ok(hidamari::start(config, listener).await?)
    })?;

    let mut notes = Vec::new();
    let cafe_only = only.as_deref() == Some("cafe");
    let pages_only = only.as_deref() == Some("pages");
    let result = client_rt.block_on(async {
        if cafe_only {
            cafe::rows(server_rt.handle(), &running, &mut notes).await
        } else {
            measure(server_rt.handle().clone(), &running, pages_only, &mut notes).await
        }
    });
    server_rt.block_on(running.shutdown());
    drop(client_rt);
    drop(server_rt);
    let mut rows = result?;
    if cafe_only || pages_only {
        print_table(&rows);
        println!();
        for note in &notes {
            println!("{note}");
        }
        return Ok(());
    }
    rows.extend(search::rows(&mut notes));

    print_table(&rows);
    println!();
    for note in &notes {
        println!("{note}");
    }
    println!(
        "page views: {VIEWERS} viewers, one view each every {} ms; latency from when a view was due.",
        VIEW_INTERVAL.as_millis()
    );
    println!(
        "throughput: {CONNECTIONS} closed-loop connections, {ROUNDS} alternating rounds of {:.1} s each after {:.0} s warm-up.",
        RUN.as_secs_f64(),
        WARM_UP.as_secs_f64()
    );
    println!(
        "GET / is the logged-in home page (a coordinator's); the topic page rows are read by members."
    );
    Ok(())
}

fn print_table(rows: &[Row]) {
    let headers = ["measurement", "value", "goal", "met"];
    let cells = |r: &Row| {
        [
            r.what.clone(),
            r.value.clone(),
            r.goal.clone(),
            r.met.clone(),
        ]
    };
    let width = |i: usize| {
        rows.iter()
            .map(|r| cells(r)[i].chars().count())
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..4).map(width).collect();
    let line = |cols: [String; 4]| {
        let padded: Vec<String> = cols
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(headers.map(str::to_owned));
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        line(cells(r));
    }
}

/// Where the load goes: a loopback address, its Host header, the path and the session cookie,
/// if any.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    host: HeaderValue,
    path: String,
    cookie: Option<HeaderValue>,
}

impl Target {
    fn new(addr: SocketAddr, cookie: Option<HeaderValue>) -> Res<Target> {
        Ok(Target {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            path: "/".to_owned(),
            cookie,
        })
    }

    fn at(&self, path: &str) -> Target {
        Target {
            path: path.to_owned(),
            ..self.clone()
        }
    }
}

async fn connect(addr: SocketAddr) -> Res<SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One GET of the target's page on an open connection: its status and body.
async fn get_page(
    sender: &mut SendRequest<Empty<Bytes>>,
    target: &Target,
) -> Res<(StatusCode, Bytes)> {
    let exchange = async {
        sender.ready().await?;
        let mut request =
            hyper::Request::get(target.path.as_str()).header(header::HOST, target.host.clone());
        if let Some(cookie) = &target.cookie {
            request = request.header(header::COOKIE, cookie.clone());
        }
        let response = sender.send_request(request.body(Empty::new())?).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Res::Ok((status, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| "request timed out")?
}

/// Every row but search's; with `pages_only`, the page throughput rows alone: the home page's
/// and the topic page's (`HIDAMARI_BENCH=pages`).
async fn measure(
    server: Handle,
    running: &hidamari::Running,
    pages_only: bool,
    notes: &mut Vec<String>,
) -> Res<Vec<Row>> {
    let addr = running.addr;
    let origin = format!("http://{addr}");

    // Accounts, through the invitation flow.
    eprintln!("bench: creating {ACCOUNTS} accounts through invitations…");
    let mut joins = Vec::new();
    for i in 0..ACCOUNTS {
        let app = running.app.clone();
        let email = account_email(i);
        let link = server
            .spawn(async move {
                hidamari::admin::service::invite_coordinator(&app.db, &app.config, &email)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await??;
        let origin = origin.clone();
        joins.push(tokio::spawn(async move {
            join(&origin, &link, &format!("ベンチ {i}")).await
        }));
    }
    let url = url::Url::parse(&origin)?;
    let mut members = Vec::with_capacity(ACCOUNTS);
    for joined in joins {
        let jar = joined.await??;
        let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url)
            .ok_or("no session cookie after joining")?;
        let cookie = HeaderValue::from_bytes(cookies.as_bytes())?;
        members.push(topic::Member { jar, cookie });
    }
    let real = Target::new(addr, Some(members[0].cookie.clone()))?;

    // The page, once, and a bare handler that serves exactly its bytes.
    let mut sender = connect(addr).await?;
    let (status, body) = get_page(&mut sender, &real).await?;
    drop(sender);
    if status != StatusCode::OK {
        return Err(format!("GET / logged in answered {status}").into());
    }
    let page = body.clone();
    let bare_listener = server
        .spawn(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await??;
    let bare_addr = bare_listener.local_addr()?;
    let bare_app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page) }
        }),
    );
    let bare_server = server.spawn(async move {
        let _ = axum::serve(bare_listener, bare_app).await;
    });
    let bare = Target::new(bare_addr, None)?;
    let mut sender = connect(bare_addr).await?;
    let (bare_status, bare_body) = get_page(&mut sender, &bare).await?;
    drop(sender);
    if bare_status != StatusCode::OK || bare_body != body {
        return Err("the bare handler does not serve the same bytes".into());
    }

    // a. Throughput, alternating rounds.
    eprintln!("bench: throughput, real server and bare handler…");
    let (mut real_ok, mut bare_ok, mut real_err, mut bare_err) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..ROUNDS {
        let (ok, err) = closed_loop(&bare, CONNECTIONS, WARM_UP, RUN).await?;
        bare_ok += ok;
        bare_err += err;
        let (ok, err) = closed_loop(&real, CONNECTIONS, WARM_UP, RUN).await?;
        real_ok += ok;
        real_err += err;
    }
    let seconds = RUN.as_secs_f64() * f64::from(ROUNDS);
    let real_rps = real_ok as f64 / seconds;
    let bare_rps = bare_ok as f64 / seconds;
    let ratio = if bare_rps > 0.0 {
        real_rps / bare_rps
    } else {
        0.0
    };

    let mut rows = vec![
        row(
            format!("GET / logged in, real server ({} B body)", body.len()),
            format!("{real_rps:.0} req/s{}", errors_note(real_err)),
            "",
            None,
        ),
        row(
            "same bytes, bare axum handler",
            format!("{bare_rps:.0} req/s{}", errors_note(bare_err)),
            "",
            None,
        ),
        row(
            "real / bare",
            format!("{:.1}%", ratio * 100.0),
            ">= 40%",
            Some(ratio >= 0.40 && real_err == 0),
        ),
    ];

    if pages_only {
        bare_server.abort();
        rows.extend(topic::rows(&server, addr, &members, notes).await?);
        return Ok(rows);
    }

    // b. Page views alone, then during a burst of logins.
    eprintln!("bench: page views without a burst…");
    let stop = Arc::new(AtomicBool::new(false));
    let viewers = start_viewers(&real, stop.clone());
    tokio::time::sleep(BASELINE).await;
    stop.store(true, Ordering::SeqCst);
    let baseline = collect_views(viewers).await?;
    let (b50, b99, bfail) = summary(&baseline, None);
    rows.push(row(
        format!("page views p50 / p99, no burst ({} views)", baseline.len()),
        format!("{} / {}{}", ms(b50), ms(b99), errors_note(bfail)),
        "baseline",
        None,
    ));

    eprintln!("bench: preparing {LOGINS} login clients…");
    let sources = login_sources();
    let mut prepared = Vec::with_capacity(LOGINS);
    for i in 0..LOGINS {
        let source = sources.as_ref().map(|s| s[i % s.len()]);
        prepared.push(prepare_login(&origin, source, account_email(i % ACCOUNTS)).await?);
    }

    eprintln!("bench: page views during a burst of {LOGINS} logins…");
    let stop = Arc::new(AtomicBool::new(false));
    let viewers = start_viewers(&real, stop.clone());
    // The same pace on the bare handler, as a control: what the machine alone does to latency.
    let control = start_viewers(&bare, stop.clone());
    tokio::time::sleep(LEAD_IN).await;
    let burst_start = Instant::now();
    let logins: Vec<_> = prepared
        .into_iter()
        .map(|p| tokio::spawn(p.submit(origin.clone())))
        .collect();
    let mut outcomes = Vec::with_capacity(LOGINS);
    for login in logins {
        outcomes.push(login.await?);
    }
    let burst_end = Instant::now();
    stop.store(true, Ordering::SeqCst);
    let during = collect_views(viewers).await?;
    let control = collect_views(control).await?;
    bare_server.abort();
    let (d50, d99, dfail) = summary(&during, Some((burst_start, burst_end)));
    let in_burst = during
        .iter()
        .filter(|v| v.due >= burst_start && v.due < burst_end)
        .count();
    rows.push(row(
        format!("page views p50 / p99, during burst ({in_burst} views)"),
        format!("{} / {}{}", ms(d50), ms(d99), errors_note(dfail)),
        "p99 < 100 ms",
        Some(d99 < Duration::from_millis(100) && dfail == 0),
    ));

    let (c50, c99, cfail) = summary(&control, Some((burst_start, burst_end)));
    rows.push(row(
        "control: bare handler views p50 / p99, during burst",
        format!("{} / {}{}", ms(c50), ms(c99), errors_note(cfail)),
        "",
        None,
    ));

    let mut slowest: Vec<&View> = during
        .iter()
        .filter(|v| v.due >= burst_start && v.due < burst_end)
        .collect();
    slowest.sort_by_key(|v| std::cmp::Reverse(v.latency));
    let slowest: Vec<String> = slowest
        .iter()
        .take(8)
        .map(|v| {
            format!(
                "{} at +{:.2} s",
                ms(v.latency),
                v.due.saturating_duration_since(burst_start).as_secs_f64()
            )
        })
        .collect();
    notes.push(format!(
        "slowest views during the burst (when due, from its start): {}",
        slowest.join(", ")
    ));

    let count = |f: &dyn Fn(&Result<StatusCode, String>) -> bool| {
        outcomes.iter().filter(|(s, _)| f(s)).count()
    };
    let succeeded = count(&|s| matches!(s, Ok(s) if *s == StatusCode::SEE_OTHER));
    let busy = count(&|s| matches!(s, Ok(s) if *s == StatusCode::SERVICE_UNAVAILABLE));
    let limited = count(&|s| matches!(s, Ok(s) if *s == StatusCode::TOO_MANY_REQUESTS));
    let other = LOGINS - succeeded - busy - limited;
    let mut login_times: Vec<Duration> = outcomes.iter().map(|(_, t)| *t).collect();
    login_times.sort();
    let others: Vec<String> = outcomes
        .iter()
        .filter_map(|(s, _)| match s {
            Ok(s)
                if [
                    StatusCode::SEE_OTHER,
                    StatusCode::SERVICE_UNAVAILABLE,
                    StatusCode::TOO_MANY_REQUESTS,
                ]
                .contains(s) =>
            {
                None
            }
            Ok(s) => Some(s.as_u16().to_string()),
            Err(e) => Some(e.clone()),
        })
        .collect();
    rows.push(row(
        "logins: succeeded / busy 503 / limited 429 / other",
        format!("{succeeded} / {busy} / {limited} / {other}"),
        "",
        None,
    ));
    rows.push(row(
        "login burst: duration; each login p50 / max",
        format!(
            "{:.2} s; {} / {}",
            (burst_end - burst_start).as_secs_f64(),
            ms(percentile(&login_times, 0.50)),
            ms(login_times.last().copied().unwrap_or_default())
        ),
        "",
        None,
    ));
    if succeeded > 0 {
        let slots = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let per = (burst_end - burst_start) * slots as u32 / succeeded as u32;
        rows.push(row(
            "argon2 verification, implied cost each (burst × slots / successes)",
            ms(per),
            "",
            None,
        ));
    }
    match &sources {
        Some(_) => notes.push(format!(
            "login burst: {ACCOUNTS} accounts x {} logins, from {LOGIN_SOURCES} loopback source \
             addresses 127.0.0.2-{} (below the per-address and per-client limits), to 127.0.0.1",
            LOGINS / ACCOUNTS,
            1 + LOGIN_SOURCES
        )),
        None => notes.push(
            "login burst: could not bind loopback source addresses, so it came from 127.0.0.1 \
             and met the per-client limit (429s)"
                .to_owned(),
        ),
    }
    if !others.is_empty() {
        let mut shown = others.clone();
        shown.sort();
        shown.dedup();
        notes.push(format!("other login answers: {}", shown.join(", ")));
    }

    rows.extend(topic::rows(&server, addr, &members, notes).await?);
    rows.extend(cafe::rows(&server, running, notes).await?);
    Ok(rows)
}

fn account_email(i: usize) -> String {
    format!("bench{i}@example.org")
}

fn errors_note(errors: u64) -> String {
    if errors == 0 {
        String::new()
    } else {
        format!(" ({errors} failed)")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn csrf_of(html: &str) -> Res<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(r#"input[name="csrf"]"#).map_err(|e| e.to_string())?;
    let value = document
        .select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .ok_or("no csrf field on the page")?;
    Ok(value.to_owned())
}

fn form_client(jar: Arc<reqwest::cookie::Jar>, source: Option<IpAddr>) -> Res<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(source)
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// Accepts an invitation: the join form, then a display name and the password. Returns the
/// cookie jar holding the logged-in session.
async fn join(origin: &str, link: &str, name: &str) -> Res<Arc<reqwest::cookie::Jar>> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = form_client(jar.clone(), None)?;
    let page = client.get(link).send().await?;
    if page.status() != StatusCode::OK {
        return Err(format!("the invitation page answered {}", page.status()).into());
    }
    let csrf = csrf_of(&page.text().await?)?;
    let fields = [
        ("csrf", csrf.as_str()),
        ("display_name", name),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let answer = client
        .post(link)
        .header(header::ORIGIN, origin)
        .form(&fields)
        .send()
        .await?;
    if answer.status() != StatusCode::SEE_OTHER {
        return Err(format!("joining answered {}", answer.status()).into());
    }
    Ok(jar)
}

/// A visitor who has opened the login page (session cookie and CSRF token) and is about to submit.
struct PreparedLogin {
    client: reqwest::Client,
    /// Where the session cookie lands once the login succeeds.
    jar: Arc<reqwest::cookie::Jar>,
    csrf: String,
    email: String,
}

async fn prepare_login(origin: &str, source: Option<IpAddr>, email: String) -> Res<PreparedLogin> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = form_client(jar.clone(), source)?;
    let page = client.get(format!("{origin}/login")).send().await?;
    if page.status() != StatusCode::OK {
        return Err(format!("GET /login answered {}", page.status()).into());
    }
    let csrf = csrf_of(&page.text().await?)?;
    Ok(PreparedLogin {
        client,
        jar,
        csrf,
        email,
    })
}

impl PreparedLogin {
    /// Submits the login form: the answer's status (or the error) and how long it took.
    async fn submit(self, origin: String) -> (Result<StatusCode, String>, Duration) {
        let started = Instant::now();
        let fields = [
            ("csrf", self.csrf.as_str()),
            ("email", self.email.as_str()),
            ("password", PASSWORD),
        ];
        let answer = self
            .client
            .post(format!("{origin}/login"))
            .header(header::ORIGIN, origin.as_str())
            .form(&fields)
            .send()
            .await;
        (
            answer.map(|a| a.status()).map_err(|e| e.to_string()),
            started.elapsed(),
        )
    }
}

/// Loopback source addresses 127.0.0.2… for the login burst, when this system lets us bind them.
fn login_sources() -> Option<Vec<IpAddr>> {
    loopback_sources([127, 0, 0, 2], LOGIN_SOURCES)
}

/// `count` loopback addresses from `first` on (last byte counting up), when this system lets us
/// bind them all.
fn loopback_sources(first: [u8; 4], count: usize) -> Option<Vec<IpAddr>> {
    let [a, b, c, d] = first;
    let sources: Vec<IpAddr> = (0..count)
        .map(|i| IpAddr::V4(Ipv4Addr::new(a, b, c, d + i as u8)))
        .collect();
    let bindable = sources
        .iter()
        .all(|ip| std::net::TcpListener::bind(SocketAddr::new(*ip, 0)).is_ok());
    bindable.then_some(sources)
}

/// Closed loop: `connections` connections each sending the next request when the last is answered.
/// Counts the answers (200 and other) that complete within `run` after `warm_up`.
async fn closed_loop(
    target: &Target,
    connections: usize,
    warm_up: Duration,
    run: Duration,
) -> Res<(u64, u64)> {
    let start = Instant::now();
    let from = start + warm_up;
    let until = from + run;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut sender = connect(target.addr).await?;
            while Instant::now() < until {
                let answer = get_page(&mut sender, &target).await;
                let done = Instant::now();
                let counts = done >= from && done < until;
                match answer {
                    Ok((StatusCode::OK, _)) => ok += u64::from(counts),
                    Ok(_) => failed += u64::from(counts),
                    Err(_) => {
                        failed += u64::from(counts);
                        sender = connect(target.addr).await?;
                    }
                }
            }
            Res::Ok((ok, failed))
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for task in tasks {
        let (o, f) = task.await??;
        ok += o;
        failed += f;
    }
    Ok((ok, failed))
}

struct View {
    due: Instant,
    latency: Duration,
    ok: bool,
}

/// VIEWERS viewers, each on its own connection, each viewing `/` every VIEW_INTERVAL (staggered)
/// until `stop`. A view that could not be sent on time is sent as soon as possible and its
/// latency still counts from when it was due.
fn start_viewers(
    target: &Target,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Res<Vec<View>>>> {
    let start = Instant::now() + Duration::from_millis(50);
    (0..VIEWERS)
        .map(|i| {
            let target = target.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut views = Vec::new();
                let mut sender = connect(target.addr).await?;
                let mut due = start + VIEW_INTERVAL * i as u32 / VIEWERS as u32;
                while !stop.load(Ordering::SeqCst) {
                    tokio::time::sleep_until(due.into()).await;
                    let answer = get_page(&mut sender, &target).await;
                    let latency = due.elapsed();
                    let ok = matches!(answer, Ok((StatusCode::OK, _)));
                    if answer.is_err() {
                        sender = connect(target.addr).await?;
                    }
                    views.push(View { due, latency, ok });
                    due += VIEW_INTERVAL;
                }
                Ok(views)
            })
        })
        .collect()
}

async fn collect_views(viewers: Vec<tokio::task::JoinHandle<Res<Vec<View>>>>) -> Res<Vec<View>> {
    let mut all = Vec::new();
    for viewer in viewers {
        all.extend(viewer.await??);
    }
    Ok(all)
}

/// p50, p99 and the number of failed views among those due within `window` (all when None).
fn summary(views: &[View], window: Option<(Instant, Instant)>) -> (Duration, Duration, u64) {
    let inside = |v: &&View| window.is_none_or(|(from, until)| v.due >= from && v.due < until);
    let mut latencies: Vec<Duration> = views.iter().filter(inside).map(|v| v.latency).collect();
    latencies.sort();
    let failed = views.iter().filter(inside).filter(|v| !v.ok).count() as u64;
    (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        failed,
    )
}
