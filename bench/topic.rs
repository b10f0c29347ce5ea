//! A topic page under a crowd: 16 members reading one topic of 20 posts, logged in, at 16 and at
//! 64 closed-loop connections (one and four each), against a bare axum handler serving the very
//! same bytes at the same concurrency, alternating rounds; then the same 16 connections while a
//! burst of replies (to another topic) and degenerate searches run, counted only while the burst
//! lasts. Latency is each request's, from sending it to its last byte.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use tokio::runtime::Handle;

use super::{
    Res, Row, Target, connect, csrf_of, errors_note, form_client, get_page, ms, percentile, row,
};

/// A member logged in: the cookie jar for forms, and the cookie for raw requests.
pub struct Member {
    pub jar: Arc<reqwest::cookie::Jar>,
    pub cookie: HeaderValue,
}

/// Members reading at once (the issue's 16 different members).
const READERS: usize = 16;
pub const POSTS: usize = 20;
const CROWDS: [usize; 2] = [16, 64];
const WARM_UP: Duration = Duration::from_secs(1);
const ROUNDS: u32 = 2;
const RUN: Duration = Duration::from_millis(2500);
/// The burst: this many replies, this many at once, from every member in turn.
const BURST_REPLIES: usize = 60;
const BURST_WRITERS: usize = 6;
/// Members searching at once during the burst, each for one degenerate query after another.
const SEARCHERS: usize = 2;

const QUIET_P99: Duration = Duration::from_millis(20);
const BURST_P99: Duration = Duration::from_millis(100);

/// What a crowd's requests that ended inside the measured window got.
#[derive(Default)]
struct Crowd {
    ok: u64,
    failed: u64,
    latencies: Vec<Duration>,
}

impl Crowd {
    fn add(&mut self, other: Crowd) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
    }

    fn p99(&mut self) -> Duration {
        self.latencies.sort();
        percentile(&self.latencies, 0.99)
    }
}

pub async fn rows(
    server: &Handle,
    addr: SocketAddr,
    members: &[Member],
    notes: &mut Vec<String>,
) -> Res<Vec<Row>> {
    let origin = format!("http://{addr}");
    if members.len() < READERS {
        return Err(format!("the topic rows need {READERS} members").into());
    }
    eprintln!(
        "bench: a topic of {POSTS} posts from {} members…",
        members.len()
    );
    let clients = members
        .iter()
        .map(|m| form_client(m.jar.clone(), None))
        .collect::<Res<Vec<_>>>()?;
    let (category, topic) = topic_of_posts(&clients, &origin).await?;
    let busy_topic = start_topic(&clients[1], &origin, category, "返信が続く話題").await?;

    let readers: Vec<Target> = members[..READERS]
        .iter()
        .map(|m| Ok(Target::new(addr, Some(m.cookie.clone()))?.at(&topic)))
        .collect::<Res<_>>()?;
    // Every reader has seen the topic once: what follows reads, it marks nothing new.
    let mut page = None;
    for reader in &readers {
        let mut sender = connect(addr).await?;
        let (status, body) = get_page(&mut sender, reader).await?;
        if status != StatusCode::OK {
            return Err(format!("GET {topic} answered {status}").into());
        }
        page.get_or_insert(body);
    }
    let page = page.ok_or("no reader")?;
    let posts_shown = page_posts(&page);
    if posts_shown != POSTS {
        return Err(format!("the topic page shows {posts_shown} posts, not {POSTS}").into());
    }

    let bare_listener = server
        .spawn(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await??;
    let bare_addr = bare_listener.local_addr()?;
    let bytes = page.clone();
    let bare_app = axum::Router::new().fallback(move || {
        let bytes = bytes.clone();
        async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes) }
    });
    let bare_server = server.spawn(async move {
        let _ = axum::serve(bare_listener, bare_app).await;
    });
    let bare = vec![Target::new(bare_addr, None)?.at(&topic)];

    let mut rows = Vec::new();
    for connections in CROWDS {
        eprintln!(
            "bench: the topic page at {connections} connections, real server and bare handler…"
        );
        let (mut real, mut control) = (Crowd::default(), Crowd::default());
        for _ in 0..ROUNDS {
            control.add(timed_crowd(&bare, connections, WARM_UP, RUN).await?);
            real.add(timed_crowd(&readers, connections, WARM_UP, RUN).await?);
        }
        let seconds = RUN.as_secs_f64() * f64::from(ROUNDS);
        let real_rps = real.ok as f64 / seconds;
        let bare_rps = control.ok as f64 / seconds;
        let ratio = if bare_rps > 0.0 {
            real_rps / bare_rps
        } else {
            0.0
        };
        let (real_p99, bare_p99) = (real.p99(), control.p99());
        rows.push(row(
            format!(
                "topic page ({POSTS} posts, {} B), {connections} conns from {READERS} members: real req/s, p99",
                page.len()
            ),
            format!("{real_rps:.0} req/s, {}{}", ms(real_p99), errors_note(real.failed)),
            "p99 < 20 ms",
            Some(real_p99 < QUIET_P99 && real.failed == 0),
        ));
        rows.push(row(
            format!("  same bytes, bare handler, {connections} conns: req/s, p99"),
            format!(
                "{bare_rps:.0} req/s, {}{}",
                ms(bare_p99),
                errors_note(control.failed)
            ),
            "",
            None,
        ));
        rows.push(row(
            format!("  topic page real / bare, {connections} conns"),
            format!("{:.1}%", ratio * 100.0),
            ">= 40%",
            Some(ratio >= 0.40 && real.failed == 0),
        ));
    }
    bare_server.abort();

    eprintln!(
        "bench: the topic page during a burst of {BURST_REPLIES} replies and degenerate searches…"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let measured_from = Instant::now() + WARM_UP;
    let crowd = tokio::spawn({
        let readers = readers.clone();
        let stop = stop.clone();
        async move { crowd_until(&readers, CROWDS[0], measured_from, stop).await }
    });
    tokio::time::sleep_until(measured_from.into()).await;
    let searchers: Vec<_> = members[..SEARCHERS]
        .iter()
        .map(|m| {
            let target = Target::new(addr, Some(m.cookie.clone()))?;
            let stop = stop.clone();
            Res::Ok(tokio::spawn(
                async move { search_until(target, stop).await },
            ))
        })
        .collect::<Res<_>>()?;
    let burst_start = Instant::now();
    let replies = burst_of_replies(&clients, &origin, &busy_topic).await;
    let burst = burst_start.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut during = crowd.await??;
    let mut searches = Crowd::default();
    for searcher in searchers {
        searches.add(searcher.await??);
    }
    let (posted, refused) = replies?;
    let during_p99 = during.p99();
    rows.push(row(
        format!(
            "topic page p99, {} conns, during {posted} replies and {} degenerate searches ({:.1} s)",
            CROWDS[0],
            searches.ok + searches.failed,
            burst.as_secs_f64()
        ),
        format!("{}{}", ms(during_p99), errors_note(during.failed)),
        "p99 < 100 ms",
        Some(during_p99 < BURST_P99 && during.failed == 0),
    ));
    rows.push(row(
        "  burst: replies posted / refused; search p99",
        format!("{posted} / {refused}; {}", ms(searches.p99())),
        "",
        None,
    ));
    notes.push(format!(
        "topic page: {READERS} members, closed loop, {ROUNDS} alternating rounds of {:.1} s after {:.0} s warm-up; \
         burst: {BURST_REPLIES} replies, {BURST_WRITERS} at a time, from {} members, to another topic, \
         and {SEARCHERS} members searching for 「{}」 one search after another.",
        RUN.as_secs_f64(),
        WARM_UP.as_secs_f64(),
        members.len(),
        degenerate_query_shown(),
    ));
    Ok(rows)
}

/// A topic of [`POSTS`] posts, written by `clients` in turn: its category and its path.
pub async fn topic_of_posts(clients: &[reqwest::Client], origin: &str) -> Res<(i64, String)> {
    let category = first_category(&clients[0], origin).await?;
    let topic = start_topic(&clients[0], origin, category, "職場への伝え方").await?;
    for i in 1..POSTS {
        let writer = &clients[i % clients.len()];
        reply(
            writer,
            origin,
            &topic,
            &format!("返信その{i}です。通院の日は半休にしています。"),
        )
        .await?;
    }
    Ok((category, topic))
}

/// The page's posts, counted as a reader sees them.
pub fn page_posts(page: &[u8]) -> usize {
    let html = scraper::Html::parse_document(&String::from_utf8_lossy(page));
    match scraper::Selector::parse("li.post") {
        Ok(posts) => html.select(&posts).count(),
        Err(_) => 0,
    }
}

/// The degenerate query the searchers send: one letter, 99 times.
fn degenerate_query() -> String {
    "あ".repeat(99)
}

fn degenerate_query_shown() -> String {
    format!("あ×{}", degenerate_query().chars().count())
}

async fn first_category(client: &reqwest::Client, origin: &str) -> Res<i64> {
    let page = client
        .get(format!("{origin}/forums"))
        .send()
        .await?
        .text()
        .await?;
    let html = scraper::Html::parse_document(&page);
    let links = scraper::Selector::parse(r#"a[href^="/c/"]"#).map_err(|e| e.to_string())?;
    html.select(&links)
        .filter_map(|a| a.value().attr("href"))
        .find_map(|href| href.trim_start_matches("/c/").parse().ok())
        .ok_or_else(|| "no category on /forums".into())
}

/// Starts a topic; returns its path.
async fn start_topic(
    client: &reqwest::Client,
    origin: &str,
    category: i64,
    title: &str,
) -> Res<String> {
    let form = format!("{origin}/c/{category}/new");
    let csrf = csrf_of(&client.get(&form).send().await?.text().await?)?;
    let fields = [
        ("csrf", csrf.as_str()),
        ("title", title),
        ("body", "最初の投稿です。みなさんはどうしていますか。"),
        ("action", "post"),
    ];
    let answer = client
        .post(&form)
        .header(header::ORIGIN, origin)
        .form(&fields)
        .send()
        .await?;
    if answer.status() != StatusCode::SEE_OTHER {
        return Err(format!("starting a topic answered {}", answer.status()).into());
    }
    let location = answer
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or("no Location after starting a topic")?;
    Ok(location.to_owned())
}

/// Replies to `topic`; the answer's status.
async fn reply(client: &reqwest::Client, origin: &str, topic: &str, body: &str) -> Res<StatusCode> {
    let url = format!("{origin}{topic}");
    let csrf = csrf_of(&client.get(&url).send().await?.text().await?)?;
    let fields = [("csrf", csrf.as_str()), ("body", body), ("action", "post")];
    let answer = client
        .post(&url)
        .header(header::ORIGIN, origin)
        .form(&fields)
        .send()
        .await?;
    match answer.status() {
        StatusCode::SEE_OTHER | StatusCode::TOO_MANY_REQUESTS => Ok(answer.status()),
        other => Err(format!("replying answered {other}").into()),
    }
}

/// BURST_REPLIES replies to `topic`, BURST_WRITERS at a time, from every member in turn: how many
/// were posted and how many the write limits refused.
async fn burst_of_replies(
    clients: &[reqwest::Client],
    origin: &str,
    topic: &str,
) -> Res<(usize, usize)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..BURST_WRITERS)
        .map(|_| {
            let (clients, origin, topic, next) = (
                clients.to_vec(),
                origin.to_owned(),
                topic.to_owned(),
                next.clone(),
            );
            tokio::spawn(async move {
                let (mut posted, mut refused) = (0, 0);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= BURST_REPLIES {
                        return Res::Ok((posted, refused));
                    }
                    let body = format!("続けての返信{i}です。");
                    match reply(&clients[i % clients.len()], &origin, &topic, &body).await? {
                        StatusCode::SEE_OTHER => posted += 1,
                        _ => refused += 1,
                    }
                }
            })
        })
        .collect();
    let (mut posted, mut refused) = (0, 0);
    for writer in writers {
        let (p, r) = writer.await??;
        posted += p;
        refused += r;
    }
    Ok((posted, refused))
}

/// One degenerate search after another until `stop`.
async fn search_until(target: Target, stop: Arc<AtomicBool>) -> Res<Crowd> {
    let query: String =
        url::form_urlencoded::byte_serialize(degenerate_query().as_bytes()).collect();
    let search = target.at(&format!("/search?q={query}"));
    let from = Instant::now();
    crowd_until(std::slice::from_ref(&search), 1, from, stop).await
}

/// `connections` closed-loop connections over `run` after `warm_up`.
async fn timed_crowd(
    targets: &[Target],
    connections: usize,
    warm_up: Duration,
    run: Duration,
) -> Res<Crowd> {
    let stop = Arc::new(AtomicBool::new(false));
    let from = Instant::now() + warm_up;
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until((from + run).into()).await;
            stop.store(true, Ordering::SeqCst);
        })
    };
    let crowd = crowd_until(targets, connections, from, stop).await;
    timer.abort();
    crowd
}

/// `connections` closed-loop connections, the i-th to `targets[i % len]`, each sending the next
/// request when the last is answered, until `stop`; counts the requests that end after `from`.
async fn crowd_until(
    targets: &[Target],
    connections: usize,
    from: Instant,
    stop: Arc<AtomicBool>,
) -> Res<Crowd> {
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let target = targets[i % targets.len()].clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut crowd = Crowd::default();
                let mut sender = connect(target.addr).await?;
                while !stop.load(Ordering::SeqCst) {
                    let sent = Instant::now();
                    let answer = get_page(&mut sender, &target).await;
                    let done = Instant::now();
                    if stop.load(Ordering::SeqCst) || done < from {
                        if answer.is_err() {
                            sender = connect(target.addr).await?;
                        }
                        continue;
                    }
                    crowd.latencies.push(done - sent);
                    match answer {
                        Ok((StatusCode::OK, _)) => crowd.ok += 1,
                        Ok(_) => crowd.failed += 1,
                        Err(_) => {
                            crowd.failed += 1;
                            sender = connect(target.addr).await?;
                        }
                    }
                }
                Res::Ok(crowd)
            })
        })
        .collect();
    let mut all = Crowd::default();
    for task in tasks {
        all.add(task.await??);
    }
    Ok(all)
}
