//! Many readers at once, and readers while someone writes: every page answers with its content,
//! and `/healthz` answers meanwhile. A request holds one pooled connection at a time, and a page
//! view never waits for the write lock.

use std::time::Duration;

use futures_util::future::join_all;

use crate::common::{Backend, Browser, MAIL_WAIT, TestApp};
use crate::journeys::{category_id, first_coordinator, join, reply, send_invitations, start_topic};

/// Members reading at once, each with several requests in flight.
const MEMBERS: usize = 16;
const REQUESTS_EACH: usize = 4;
/// Long enough for a loaded machine to serve every page; a stalled pool never gets there.
const ALL_SERVED_WITHIN: Duration = Duration::from_secs(30);
/// A probe waits for no page: it answers within this even while every page is queued.
const HEALTH_WITHIN: Duration = Duration::from_secs(5);

/// `count` members, invited in one batch by `coordinator` and joined at once.
async fn members(app: &TestApp, coordinator: &Browser, count: usize) -> Vec<Browser> {
    let emails: Vec<String> = (0..count)
        .map(|i| format!("reader{i}@example.org"))
        .collect();
    let page = send_invitations(coordinator, &emails.join("\n"), "member", "patient", "ja").await;
    assert_eq!(page.status, 200, "inviting: {}", page.text());
    let links: Vec<String> = join_all(emails.iter().map(|email| async move {
        app.mail
            .wait_for(|m| m.is_to(email), MAIL_WAIT)
            .await
            .link(&format!("{}/invite/", app.base_url()))
    }))
    .await;
    join_all(
        links
            .iter()
            .enumerate()
            .map(|(i, link)| async move { join(app, link, &format!("読者{i}")).await }),
    )
    .await
}

/// A topic of `posts` posts by `writer` in category `category`; returns its path.
async fn long_topic(writer: &Browser, category: i64, title: &str, posts: usize) -> String {
    let topic = start_topic(writer, category, title, "最初の投稿です").await;
    for i in 1..posts {
        reply(writer, &topic, &format!("返信その{i}です")).await;
    }
    topic
}

/// Polls `/healthz` until `done` turns true; each answer must be 200 and quick.
async fn probe_health(app: &TestApp, done: tokio::sync::watch::Receiver<bool>) -> usize {
    let probe = app.client();
    let mut answered = 0;
    while !*done.borrow() {
        let answer = tokio::time::timeout(HEALTH_WITHIN, probe.get("/healthz"))
            .await
            .unwrap_or_else(|_| panic!("/healthz did not answer within {HEALTH_WITHIN:?}"));
        assert_eq!(answer.status, 200, "/healthz: {}", answer.body);
        answered += 1;
        let mut done = done.clone();
        let _ = tokio::time::timeout(Duration::from_millis(20), done.changed()).await;
    }
    answered
}

async fn many_members_reading_at_once_are_all_served(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let readers = members(&app, &coordinator, MEMBERS).await;
    let work = category_id(&app, "仕事とお金").await;
    let topic = long_topic(&coordinator, work, "職場への伝え方", 25).await;

    let (finished, done) = tokio::sync::watch::channel(false);
    let health = probe_health(&app, done);
    let crowd = async {
        // Three rounds: the first marks every post read, the next ones read what is marked.
        for round in 0..3 {
            let requests = readers.iter().flat_map(|reader| {
                let topic = &topic;
                (0..REQUESTS_EACH).map(move |i| {
                    let path = match i % 2 {
                        0 => topic.clone(),
                        _ => format!("/c/{work}"),
                    };
                    async move { (path.clone(), reader.get(&path).await) }
                })
            });
            let pages = tokio::time::timeout(ALL_SERVED_WITHIN, join_all(requests))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "round {round}: {} requests not all served within {ALL_SERVED_WITHIN:?}",
                        MEMBERS * REQUESTS_EACH
                    )
                });
            for (path, page) in pages {
                assert_eq!(page.status, 200, "round {round}, {path}: {}", page.text());
                if path == topic {
                    assert_eq!(page.select("li.post").len(), 20, "{path}");
                    assert!(page.text().contains("職場への伝え方"));
                } else {
                    assert!(
                        page.select(".topics .topic-title")
                            .iter()
                            .any(|t| t.contains("職場への伝え方")),
                        "{path}: {}",
                        page.text()
                    );
                }
            }
        }
        let _ = finished.send(true);
    };
    let (answered, ()) = tokio::join!(health, crowd);
    assert!(
        answered > 0,
        "/healthz was asked while the pages were served"
    );

    // What each reader has read is remembered: the first page, not the five posts on the second.
    for reader in &readers {
        let home = reader.get("/").await;
        let new = home.select(".new-topics li");
        assert_eq!(new.len(), 1, "{new:?}");
        assert!(new[0].contains("新着 5件"), "{new:?}");
    }
    app.shutdown().await;
}
both_databases!(many_members_reading_at_once_are_all_served);

/// A transaction that holds the write lock (SQLite) or the read markers' table (PostgreSQL)
/// until it is dropped.
async fn hold_writes(app: &TestApp) -> hidamari::db::Tx {
    let mut tx = app.db().begin().await.expect("a write transaction");
    if app.backend == Backend::Postgres {
        // Readers (ACCESS SHARE) pass; inserts and updates (ROW EXCLUSIVE) wait.
        hidamari::on!(tx.exec(), |c| sqlx::query(
            "LOCK TABLE topic_reads IN EXCLUSIVE MODE"
        )
        .execute(c)
        .await
        .map(|_| ()))
        .expect("locking topic_reads");
    }
    tx
}

async fn page_views_do_not_wait_behind_a_writer(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = members(&app, &coordinator, 1).await.remove(0);
    let work = category_id(&app, "仕事とお金").await;
    let topic = long_topic(&coordinator, work, "通院と仕事", 3).await;
    // The welcome after joining is shown (and taken from the session) before the writer comes.
    hana.get("/").await;

    let writer = hold_writes(&app).await;
    // Hana reads the topic while the writer holds on: the page answers, and from then on its
    // posts are read on every page, though the marker cannot be written yet.
    let page = tokio::time::timeout(HEALTH_WITHIN, hana.get(&topic))
        .await
        .expect("the topic page answers while a writer holds the lock");
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.select("li.post .tag.new").len(), 0, "first visit");
    let home = tokio::time::timeout(HEALTH_WITHIN, hana.get("/"))
        .await
        .expect("the home page answers while a writer holds the lock");
    assert!(home.select(".new-topics li").is_empty(), "{}", home.text());
    let list = tokio::time::timeout(HEALTH_WITHIN, hana.get(&format!("/c/{work}")))
        .await
        .expect("the category page answers while a writer holds the lock");
    assert!(
        list.select(".topics .tag.new").is_empty(),
        "{}",
        list.text()
    );
    let health = tokio::time::timeout(HEALTH_WITHIN, app.client().get("/healthz"))
        .await
        .expect("/healthz answers while a writer holds the lock");
    assert_eq!(health.status, 200);
    drop(writer);

    // Written down soon after the writer lets go.
    let hana_id = app
        .scalar("SELECT id FROM users WHERE email = 'reader0@example.org'")
        .await;
    let last_post = app.scalar("SELECT MAX(id) FROM posts").await;
    let deadline = tokio::time::Instant::now() + ALL_SERVED_WITHIN;
    let marked = format!(
        "SELECT COUNT(*) FROM topic_reads WHERE user_id = {hana_id} AND last_read_post_id = {last_post}"
    );
    while app.scalar(&marked).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the read marker was not written within {ALL_SERVED_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.shutdown().await;
}
both_databases!(page_views_do_not_wait_behind_a_writer);
