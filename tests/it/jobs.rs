//! Background jobs: re-normalizing the search text after the equivalent terms change runs in
//! batches while members keep posting, shows its progress on the page that started it, keeps
//! search correct meanwhile, and is taken up again when the worker that held it died.

use std::time::{Duration, Instant};

use hidamari::config::Config;

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{category_id, first_coordinator, member, start_topic};

/// How many posts the stories write straight into the database.
const POSTS: i64 = 1_000;
/// How long a story waits for a job at most.
const JOB_WAIT: Duration = Duration::from_secs(60);

/// Batches of 50 posts, a pause of 300 ms between them: about 21 batches over six seconds,
/// so the stories see the job while it runs.
fn slow_batches(config: &mut Config) {
    config.job_batch_size = 50;
    config.job_batch_pause_ms = 300;
}

/// Writes `POSTS` replies in the topic, `しゅようの記録 番号N番` for N from 1, straight into the
/// database, and indexes them for search as the server does at start.
async fn many_posts(app: &TestApp, topic: i64, author: i64) {
    let written = app
        .execute(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {POSTS}) \
             INSERT INTO posts (topic_id, author_id, body_markdown, body_html, created_at) \
             SELECT {topic}, {author}, 'しゅようの記録 番号' || i || '番', \
             '<p>しゅようの記録 番号' || i || '番</p>', 1800000000 + i FROM n"
        ))
        .await;
    assert_eq!(written, POSTS as u64);
    let indexed = hidamari::db::search::backfill(app.db())
        .await
        .expect("indexing the posts");
    assert_eq!(indexed, POSTS as u64);
}

/// The stories' site: a coordinator, the member はな and her topic of `POSTS` replies (the
/// topic's path).
struct Site {
    coordinator: Browser,
    hana: Browser,
    treatment: i64,
    topic: String,
}

async fn site_with_many_posts(app: &TestApp) -> Site {
    let coordinator = first_coordinator(app, "coord@example.org", "こーでぃ").await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let treatment = category_id(app, "治療のこと").await;
    let topic = start_topic(&hana, treatment, "しゅようの記録", "記録をつけています").await;
    let topic_id: i64 = topic.trim_start_matches("/t/").parse().expect("a topic id");
    let author = app
        .scalar("SELECT id FROM users WHERE display_name = 'はな'")
        .await;
    many_posts(app, topic_id, author).await;
    Site {
        coordinator,
        hana,
        treatment,
        topic,
    }
}

/// Adds a group of equivalent terms from the terms page, as a coordinator would.
async fn add_terms(coordinator: &Browser, terms: &str) {
    coordinator.get("/admin/search-terms").await;
    let added = coordinator
        .post_form_following("/admin/search-terms", &[("terms", terms)])
        .await;
    assert!(
        added.text().contains("言い換えを追加しました"),
        "{}",
        added.text()
    );
}

fn query_path(query: &str) -> String {
    let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    format!("/search?q={q}")
}

/// How many matching posts the search shows for `query`.
async fn hits(browser: &Browser, query: &str) -> usize {
    let page = browser.get(&query_path(query)).await;
    assert_eq!(page.status, 200, "searching {query}: {}", page.text());
    page.attrs(".search-results a.search-hit", "href").len()
}

/// The progress bar, while the page shows one: its value and maximum once the job has counted
/// its rows, `Some(None)` for the bar without a value shown before that.
fn progress(page: &Page) -> Option<Option<(i64, i64)>> {
    if page.attrs("progress#job-progress", "id").is_empty() {
        return None;
    }
    let value = page.attrs("progress#job-progress", "value").pop();
    let max = page.attrs("progress#job-progress", "max").pop();
    Some(match (value, max) {
        (Some(value), Some(max)) => Some((
            value.parse().expect("a number"),
            max.parse().expect("a number"),
        )),
        _ => None,
    })
}

fn refreshes(page: &Page) -> bool {
    !page.attrs("meta[http-equiv=refresh]", "content").is_empty()
}

/// Reads the terms page until the job says it is done; returns the page.
async fn until_done(coordinator: &Browser) -> Page {
    let started = Instant::now();
    loop {
        let page = coordinator.get("/admin/search-terms").await;
        assert_eq!(page.status, 200, "{}", page.text());
        if page.text().contains("更新が終わりました") {
            return page;
        }
        assert!(
            started.elapsed() < JOB_WAIT,
            "the job did not finish: {}",
            page.text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn renormalizing_runs_in_batches_while_members_post(app: TestApp) {
    let Site {
        coordinator,
        hana,
        topic,
        ..
    } = site_with_many_posts(&app).await;
    assert_eq!(hits(&hana, "しゅよう 番号1000番").await, 1);
    assert_eq!(
        hits(&hana, "腫瘍 番号1000番").await,
        0,
        "not an equivalent yet"
    );

    add_terms(&coordinator, "腫瘍 しゅよう").await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'search_terms.added'")
            .await,
        1,
        "logged as before"
    );

    // While it runs: the page shows a bar that moves and refreshes itself, a member posts
    // without waiting, and search finds posts by the old terms and, once reached, by the new.
    let mut seen: Vec<(i64, i64)> = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut replies = 0;
    let mut early_found_by_new = false;
    let mut late_missed_by_new = false;
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < JOB_WAIT, "the job did not finish");
        let page = coordinator.get("/admin/search-terms").await;
        let Some(bar) = progress(&page) else {
            assert!(
                page.text().contains("更新が終わりました"),
                "no bar and not done: {}",
                page.text()
            );
            break;
        };
        assert!(refreshes(&page), "a running job refreshes the page");
        let Some((done, total)) = bar else {
            assert!(page.text().contains("準備をしています"), "{}", page.text());
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        assert!(
            page.text().contains(&format!("{done} / {total} 件")),
            "the bar's text: {}",
            page.text()
        );
        if done > 0 && done < total {
            seen.push((done, total));
            // Both forms of every post are found whatever its batch.
            assert_eq!(hits(&hana, "しゅよう 番号1番").await, 1);
            assert_eq!(hits(&hana, "しゅよう 番号1000番").await, 1);
            // The first batch is done: its posts are found by the new equivalent.
            assert_eq!(hits(&hana, "腫瘍 番号1番").await, 1);
            early_found_by_new = true;
            if done < total / 2 && hits(&hana, "腫瘍 番号1000番").await == 0 {
                // The last post's batch is still to come.
                late_missed_by_new = true;
            }
            hana.get(&topic).await;
            let before = Instant::now();
            let answer = hana
                .post_form(
                    &topic,
                    &[("body", "待たずに書けました"), ("action", "post")],
                )
                .await;
            slowest = slowest.max(before.elapsed());
            assert_eq!(answer.status, 303, "replying: {}", answer.text());
            replies += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen.len() >= 2 && seen.first().map(|s| s.0) < seen.last().map(|s| s.0),
        "the bar moved: {seen:?}"
    );
    assert!(early_found_by_new && late_missed_by_new, "{seen:?}");
    assert!(replies >= 2, "{replies} replies while it ran");
    assert!(
        slowest < Duration::from_secs(1),
        "a reply waited {slowest:?} while the job ran"
    );

    // Done: the page says so and stops refreshing; every post is found by either term.
    let page = until_done(&coordinator).await;
    assert!(
        !refreshes(&page),
        "a finished job does not refresh the page"
    );
    assert!(progress(&page).is_none());
    assert_eq!(hits(&hana, "腫瘍 番号1000番").await, 1);
    assert_eq!(hits(&hana, "シュヨウ 番号500番").await, 1);
    assert_eq!(hits(&hana, "しゅよう 番号1番").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM post_search WHERE body LIKE '%しゅよう%'")
            .await,
        0,
        "every post re-normalized"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND done = total AND total > 1000"
        )
        .await,
        1
    );
    app.shutdown().await;
}
both_databases!(
    renormalizing_runs_in_batches_while_members_post,
    configure = slow_batches
);

/// Batches of 100 posts, quickly.
fn quick_batches(config: &mut Config) {
    config.job_batch_size = 100;
    config.job_batch_pause_ms = 0;
}

async fn a_job_whose_worker_died_is_taken_up_again(app: TestApp) {
    let Site {
        coordinator, hana, ..
    } = site_with_many_posts(&app).await;
    // A change whose job a worker had taken halfway when its instance died: its lease ran out
    // a minute ago. The posts up to its cursor were done (here: left as they were, to show
    // that the job goes on from its cursor rather than starting again).
    app.execute(
        "INSERT INTO search_term_groups (terms, created_at) VALUES ('腫瘍 しゅよう', 1800000000)",
    )
    .await;
    let cursor = app
        .scalar("SELECT post_id FROM post_search ORDER BY post_id LIMIT 1 OFFSET 499")
        .await;
    let now = app.scalar("SELECT MAX(created_at) FROM users").await;
    app.execute(&format!(
        "INSERT INTO jobs (kind, state, payload, stage, cursor_id, done, total, created_at, \
         started_at, lease_owner, lease_until) VALUES ('search.reindex', 'running', \
         '{{\"before\":[[\"がん 癌 ガン\"]]}}', 0, {cursor}, 500, {total}, {now}, {now}, 'gone', {past})",
        total = POSTS + 1,
        past = now - 60,
    ))
    .await;

    let page = until_done(&coordinator).await;
    assert!(!refreshes(&page));
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM post_search WHERE post_id > {cursor} AND body LIKE '%しゅよう%'"
        ))
        .await,
        0,
        "the posts after the cursor were re-normalized"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM post_search WHERE post_id <= {cursor} AND body LIKE '%しゅよう%'"
        ))
        .await,
        499,
        "the posts up to the cursor were not done again"
    );
    assert_eq!(hits(&hana, "腫瘍 番号1000番").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done' AND lease_owner IS NULL")
            .await,
        1
    );
    app.shutdown().await;
}
both_databases!(
    a_job_whose_worker_died_is_taken_up_again,
    configure = quick_batches
);

async fn two_changes_in_quick_succession_make_one_job(app: TestApp) {
    let Site {
        coordinator,
        hana,
        treatment,
        ..
    } = site_with_many_posts(&app).await;
    start_topic(&hana, treatment, "けんさの日", "あしたはけんさです").await;

    for terms in ["腫瘍 しゅよう", "検査 けんさ"] {
        add_terms(&coordinator, terms).await;
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
            .await,
        1,
        "one job for both changes"
    );
    // Meanwhile, both the old and the new terms find the posts.
    assert_eq!(hits(&hana, "けんさ").await, 1);
    assert_eq!(hits(&hana, "しゅよう 番号1000番").await, 1);
    until_done(&coordinator).await;
    assert_eq!(hits(&hana, "検査").await, 1);
    assert_eq!(hits(&hana, "腫瘍 番号1000番").await, 1);
    assert_eq!(hits(&hana, "腫瘍 番号1番").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM jobs").await, 1);
    app.shutdown().await;
}
both_databases!(
    two_changes_in_quick_succession_make_one_job,
    configure = slow_batches
);
