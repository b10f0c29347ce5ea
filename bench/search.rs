//! Search over 100,000 posts of generated Japanese text, on SQLite and on PostgreSQL: the p95 of a
//! 2-character query (「仕事」) and of a longer one (「抗がん剤」); then over 100,000 posts of which
//! one in five is adversarial (a character repeated, a near-repeated pattern), the p95 of
//! degenerate queries and of the same everyday ones. Each query goes through the function the
//! search page uses (`db::search::search`, after loading the equivalent terms and normalizing the
//! query as the page does), one query at a time on an otherwise idle database.
//!
//! The posts are written straight into the tables in batches (users, topics, posts and their
//! `post_search` rows, normalized by the same code the write path uses), not through the pages:
//! making 100,000 posts over HTTP would take the whole run. Topics are spread over every
//! category, restricted ones included; the searcher is a member (patient), as most readers are.

use std::time::{Duration, Instant};

use hidamari::db::forums::Viewer;
use hidamari::db::search::{Outcome, PageOf};
use hidamari::db::{self, Db};
use hidamari::forums::search::{Checked, POSTS_PER_TOPIC, RESULTS_PER_PAGE, check_query};
use hidamari::on;
use hidamari::text;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Res, Row, ms, percentile, row};

/// The throwaway PostgreSQL cluster of the integration tests, reused as it is (the same file):
/// `initdb --locale=C.UTF-8` in a temporary folder, as the `postgres` user when run as root,
/// stopped and removed when this process ends.
#[allow(dead_code)]
#[path = "../tests/it/common/postgres.rs"]
mod postgres;

pub const POSTS: usize = 100_000;
const BATCH: usize = 1_000;
const WARM_UP: usize = 20;
const RUNS: usize = 300;
const GOAL: Duration = Duration::from_millis(50);
/// The first page of results, as the search page asks for it.
const FIRST_PAGE: PageOf = PageOf {
    topics: RESULTS_PER_PAGE,
    offset: 0,
    posts_per_topic: POSTS_PER_TOPIC,
};

const TREATMENT: &[&str] = &[
    "抗がん剤",
    "抗癌剤",
    "副作用",
    "点滴",
    "通院",
    "入院",
    "手術",
    "放射線治療",
    "主治医",
    "看護師さん",
    "血液検査",
    "吐き気",
    "だるさ",
    "脱毛",
    "手足のしびれ",
    "薬",
    "診察",
    "病院",
    "がん",
    "ガン",
    "再発",
    "経過観察",
    "免疫療法",
    "ウィッグ",
    "セカンドオピニオン",
];
const WORK: &[&str] = &[
    "仕事",
    "職場",
    "上司",
    "同僚",
    "休職",
    "復職",
    "時短勤務",
    "在宅勤務",
    "有給休暇",
    "傷病手当金",
    "会社",
    "産業医",
    "人事の担当者",
    "退職",
    "転職活動",
    "お給料",
    "障害年金",
    "社会保険労務士さん",
    "パート",
    "シフト",
];
const LIFE: &[&str] = &[
    "食事",
    "散歩",
    "睡眠",
    "家族",
    "子ども",
    "買い物",
    "料理",
    "味噌汁",
    "天気",
    "友人",
    "趣味",
    "読書",
    "お風呂",
    "朝ごはん",
    "気分転換",
    "体力",
    "疲れ",
    "不安な気持ち",
    "ヨガ",
    "テレビ",
    "猫",
    "庭の花",
    "コーヒー",
    "音楽",
];
const SENTENCES: &[&str] = &[
    "{a}のことで{b}に相談しました。",
    "{a}と{b}の両立がむずかしいです。",
    "最近は{a}が気になっています。",
    "{a}の前に{b}をしておくと少し楽になりました。",
    "{a}について、{b}から説明がありました。",
    "今日は{a}の日でした。{b}もあって少し疲れました。",
    "{a}と{b}、どちらも大事にしたいと思います。",
    "みなさんは{a}のとき、{b}をどうしていますか？",
    "{a}がつらい日は、{b}で気持ちを切りかえています。",
    "先週から{a}を始めました。{b}はまだ様子見です。",
];

fn pick<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

/// A word from the topic's theme most of the time, from daily life otherwise.
fn word<'a>(rng: &mut StdRng, theme: &[&'a str]) -> &'a str {
    if rng.random_bool(0.6) {
        pick(rng, theme)
    } else {
        pick(rng, LIFE)
    }
}

fn post_text(rng: &mut StdRng, theme: &[&str]) -> String {
    let mut text = String::new();
    for i in 0..rng.random_range(2..=5) {
        if i == 2 {
            text.push('\n');
        }
        let (a, b) = (word(rng, theme), word(rng, theme));
        text.push_str(&pick(rng, SENTENCES).replace("{a}", a).replace("{b}", b));
    }
    text
}

/// Which posts a database is filled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corpus {
    /// Everyday Japanese posts.
    Ordinary,
    /// The same, with many posts of repeated characters and near-repeated patterns among them.
    Adversarial,
}

/// In the adversarial corpus, one post in this many is repetition.
const ADVERSARIAL_EVERY: usize = 5;
const ADVERSARIAL_MIN: usize = 200;
const ADVERSARIAL_MAX: usize = 4_000;

/// One character repeated, or a near-repeated pattern: what a hostile member posts to make
/// searches expensive.
fn adversarial_text(rng: &mut StdRng) -> String {
    let len = rng.random_range(ADVERSARIAL_MIN..=ADVERSARIAL_MAX);
    let letter = pick(rng, &["あ", "ー", "a", "w", "草"]);
    let unit = match rng.random_range(0..5) {
        0 | 1 => letter.to_owned(),
        2 => format!("{letter}い"),
        3 => format!("{}い", letter.repeat(rng.random_range(2..40))),
        _ => format!(
            "{}{}",
            letter.repeat(rng.random_range(1..20)),
            pick(rng, WORK)
        ),
    };
    unit.chars().cycle().take(len).collect()
}

/// The bench's rows for both databases; a database that cannot be had is "not measured".
pub fn rows(notes: &mut Vec<String>) -> Vec<Row> {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return not_measured("both", &e.to_string()),
    };
    let mut rows = Vec::new();
    for corpus in [Corpus::Ordinary, Corpus::Adversarial] {
        eprintln!("bench: search, SQLite: generating {POSTS} posts ({corpus:?})…");
        let dir = tempfile::tempdir();
        let sqlite = rt.block_on(async {
            let dir = dir.as_ref().map_err(|e| e.to_string())?;
            let url = format!("sqlite://{}/search.db", dir.path().display());
            measure_on(&url, "SQLite", corpus, notes)
                .await
                .map_err(|e| e.to_string())
        });
        if std::env::var_os("HIDAMARI_BENCH_KEEP").is_some()
            && let Ok(dir) = dir
        {
            // For looking into the plans afterwards.
            notes.push(format!(
                "search: SQLite database ({corpus:?}) kept in {}",
                dir.keep().display()
            ));
        }
        match sqlite {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => rows.append(&mut not_measured("SQLite", &e)),
        }
        match postgres_url(&rt) {
            Err(reason) => rows.append(&mut not_measured("PostgreSQL", &reason)),
            Ok(url) => {
                eprintln!("bench: search, PostgreSQL: generating {POSTS} posts ({corpus:?})…");
                match rt.block_on(measure_on(&url, "PostgreSQL", corpus, notes)) {
                    Ok(mut r) => rows.append(&mut r),
                    Err(e) => rows.append(&mut not_measured("PostgreSQL", &e.to_string())),
                }
            }
        }
    }
    notes.push(format!(
        "search: {POSTS} generated posts (2–5 sentences from a vocabulary of treatment, work and \
         daily-life words) in topics over every category; a member searches; {RUNS} runs per \
         query after {WARM_UP} warm-up, one at a time, first page of {RESULTS_PER_PAGE} topics. \
         Adversarial: the same, but one post in {ADVERSARIAL_EVERY} is instead one character \
         repeated, or a near-repeated pattern, {ADVERSARIAL_MIN}–{ADVERSARIAL_MAX} characters long, \
         and the queries are degenerate ones."
    ));
    rows
}

fn not_measured(database: &str, reason: &str) -> Vec<Row> {
    let first = reason.lines().next().unwrap_or("").to_owned();
    vec![row(
        format!("search over {POSTS} posts on {database}"),
        format!("not measured: {first}"),
        "p95 < 50 ms",
        None,
    )]
}

/// A fresh database on the tests' throwaway cluster, or why there is none.
fn postgres_url(rt: &tokio::runtime::Runtime) -> Result<String, String> {
    let configured = std::env::var("HIDAMARI_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .any(|d| d.path().join("bin/initdb").exists())
        })
        .unwrap_or(false)
        || std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join("initdb").exists()));
    if !configured && !installed {
        return Err("no PostgreSQL binaries found (initdb)".to_owned());
    }
    // The harness panics when it cannot start a server: catch that as a reason.
    rt.block_on(async { tokio::spawn(postgres::fresh_database()).await })
        .map(|(url, name)| {
            if std::env::var_os("HIDAMARI_BENCH_KEEP").is_some() {
                eprintln!("bench: search, PostgreSQL database {name} is kept");
            }
            url
        })
        .map_err(|e| format!("PostgreSQL could not be started: {e}"))
}

async fn measure_on(
    url: &str,
    database: &str,
    corpus: Corpus,
    notes: &mut Vec<String>,
) -> Res<Vec<Row>> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let started = Instant::now();
    let user = generate(&db, corpus).await?;
    let generated = started.elapsed();
    if let Db::Postgres(pool) = &db {
        // As autovacuum would soon after a load like this one.
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    let viewer = Viewer {
        id: user,
        rank: 0,
        relation: "patient",
        staff: false,
        locale: hidamari::i18n::Locale::Ja,
    };
    let mut rows = Vec::new();
    let queries: Vec<(&str, String, bool)> = match corpus {
        Corpus::Ordinary => vec![
            ("2-character", "仕事".into(), true),
            ("3+-character", "抗がん剤".into(), true),
            ("1-character", "薬".into(), false),
            ("two words", "仕事 両立".into(), false),
        ],
        Corpus::Adversarial => vec![
            ("adversarial, 99 of one letter", "あ".repeat(99), true),
            (
                "adversarial, near-repeat",
                format!("{}い", "あ".repeat(40)),
                true,
            ),
            ("adversarial, 6 of one letter", "ああああああ".into(), true),
            ("adversarial, 3 of one letter", "あああ".into(), true),
            ("adversarial, 2 of one letter", "ああ".into(), true),
            ("adversarial, pattern", "あいあい".into(), true),
            ("adversarial, letters and a word", "ああ仕事".into(), true),
            (
                "adversarial, many words",
                "あ い う え お か き く け こ".into(),
                true,
            ),
            ("adversarial corpus, 2-character", "仕事".into(), true),
            ("adversarial corpus, 3+-character", "抗がん剤".into(), true),
        ],
    };
    for (label, query, goal) in queries {
        let (times, answer) = time_query(&db, viewer, user, &query).await?;
        let p95 = percentile(&times, 0.95);
        let shown: String = query.chars().take(12).collect();
        let shown = if shown.len() < query.len() {
            format!("{shown}…({} characters)", query.chars().count())
        } else {
            shown
        };
        rows.push(row(
            format!("search {label} 「{shown}」 on {database}: p50 / p95 ({answer})"),
            format!("{} / {}", ms(percentile(&times, 0.50)), ms(p95)),
            if goal { "p95 < 50 ms" } else { "" },
            goal.then_some(p95 < GOAL),
        ));
    }
    if corpus == Corpus::Adversarial {
        notes.push(format!(
            "search on {database}: {POSTS} posts ({corpus:?}) generated and indexed in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        db.close().await;
        return Ok(rows);
    }
    // A coordinator adds a group of equivalent terms: every post is re-normalized in the same
    // transaction (the writers of a SQLite database wait meanwhile).
    let started = Instant::now();
    let mut tx = db.begin().await?;
    db::search::add_term_group(tx.exec(), "しごと 仕事", db::now()).await?;
    let changed = db::search::reindex_all(tx.exec()).await?;
    tx.commit().await?;
    rows.push(row(
        format!(
            "equivalent terms added on {database}: all posts re-normalized ({changed} changed)"
        ),
        format!("{:.2} s", started.elapsed().as_secs_f64()),
        "",
        None,
    ));
    notes.push(format!(
        "search on {database}: {POSTS} posts generated and indexed in {:.1} s",
        generated.as_secs_f64()
    ));
    db.close().await;
    Ok(rows)
}

/// What the search page does for one query: the equivalent terms, the query's terms, the
/// reader's blocks, a page. Returns the times and what the reader was answered.
async fn time_query(
    db: &Db,
    viewer: Viewer,
    user: i64,
    query: &str,
) -> Res<(Vec<Duration>, String)> {
    let mut times = Vec::with_capacity(RUNS);
    let mut answer = String::new();
    for i in 0..WARM_UP + RUNS {
        let start = Instant::now();
        let mut conn = db.conn().await?;
        let synonyms = db::search::synonyms(conn.exec()).await?;
        answer = match check_query(Some(query), &synonyms) {
            Checked::Terms(terms) => {
                let blocked = db::blocks::blocked_ids(conn.exec(), user).await?;
                match db::search::search(conn.exec(), viewer, &blocked, &terms, FIRST_PAGE).await? {
                    Outcome::Found(found) if found.capped => {
                        format!("capped: {} hits among the newest", found.post_total)
                    }
                    Outcome::Found(found) => format!("{} hits", found.post_total),
                    Outcome::TooSlow => "stopped by the time limit".to_owned(),
                }
            }
            Checked::TooBroad => "refused as too broad".to_owned(),
            other => return Err(format!("the query {query} was refused: {other:?}").into()),
        };
        drop(conn);
        if i >= WARM_UP {
            times.push(start.elapsed());
        }
    }
    times.sort();
    Ok((times, answer))
}

/// Makes one author, topics over every category, and [`POSTS`] posts with their search rows.
async fn generate(db: &Db, corpus: Corpus) -> Res<i64> {
    let mut rng = StdRng::seed_from_u64(20261125);
    let now = db::now();
    let mut tx = db.begin().await?;
    let synonyms = db::search::synonyms(tx.exec()).await?;
    let categories: Vec<i64> = on!(tx.exec(), |c| sqlx::query_scalar(
        "SELECT id FROM categories ORDER BY position"
    )
    .fetch_all(c)
    .await)?;
    let user: i64 = on!(tx.exec(), |c| {
        sqlx::query_scalar(
        "INSERT INTO users (email, display_name, display_name_key, password_hash, role, relation, created_at, updated_at) \
         VALUES ('search-bench@example.org', 'ベンチ', 'べんち', 'x', 'member', 'patient', $1, $1) RETURNING id"
    )
    .bind(now)
    .fetch_one(c)
    .await
    })?;
    tx.commit().await?;

    let mut written = 0;
    let mut at = now - POSTS as i64 * 60;
    while written < POSTS {
        let mut tx = db.begin().await?;
        let mut in_tx = 0;
        while in_tx < 10 * BATCH && written < POSTS {
            // One batch: topics first, then their posts.
            let mut topics = Vec::new();
            let mut planned = 0;
            while planned < BATCH && written + planned < POSTS {
                let category = categories[rng.random_range(0..categories.len())];
                let theme = if rng.random_bool(0.5) {
                    TREATMENT
                } else {
                    WORK
                };
                let title = format!(
                    "{}と{}について",
                    word(&mut rng, theme),
                    word(&mut rng, theme)
                );
                let posts = rng.random_range(1..=20).min(POSTS - written - planned);
                planned += posts;
                topics.push((category, theme, title, posts));
            }
            let topic_ids: Vec<i64> = on!(tx.exec(), |c| {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO topics (category_id, author_id, title, created_at, last_posted_at, reply_count) ",
                );
                insert.push_values(&topics, |mut b, (category, _, title, posts)| {
                    b.push_bind(*category)
                        .push_bind(user)
                        .push_bind(title.clone())
                        .push_bind(at)
                        .push_bind(at)
                        .push_bind(*posts as i64 - 1);
                });
                insert.push(" RETURNING id");
                insert.build_query_scalar().fetch_all(c).await
            })?;
            let mut posts = Vec::with_capacity(planned);
            for ((category, theme, title, count), topic) in topics.iter().zip(&topic_ids) {
                for n in 0..*count {
                    at += 1;
                    let body = match corpus {
                        Corpus::Adversarial if rng.random_range(0..ADVERSARIAL_EVERY) == 0 => {
                            adversarial_text(&mut rng)
                        }
                        _ => post_text(&mut rng, theme),
                    };
                    let title = if n == 0 {
                        text::normalize(title, &synonyms)
                    } else {
                        String::new()
                    };
                    let search = db::search::searchable_body(&body, &synonyms);
                    posts.push((*topic, *category, body, at, title, search));
                }
            }
            let post_ids: Vec<i64> = on!(tx.exec(), |c| {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO posts (topic_id, author_id, body_markdown, body_html, created_at) ",
                );
                insert.push_values(&posts, |mut b, (topic, _, body, at, _, _)| {
                    b.push_bind(*topic)
                        .push_bind(user)
                        .push_bind(body.clone())
                        .push_bind(hidamari::markdown::render(body))
                        .push_bind(*at);
                });
                insert.push(" RETURNING id");
                insert.build_query_scalar().fetch_all(c).await
            })?;
            on!(tx.exec(), |c| {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO post_search (post_id, category_id, created_at, title, body) ",
                );
                insert.push_values(
                    posts.iter().zip(&post_ids),
                    |mut b, ((_, category, _, at, title, search), id)| {
                        b.push_bind(*id)
                            .push_bind(*category)
                            .push_bind(*at)
                            .push_bind(title.clone())
                            .push_bind(search.clone());
                    },
                );
                insert.build().execute(c).await.map(|_| ())
            })?;
            if let db::Exec::Sqlite(c) = tx.exec() {
                // What db::search::index_post writes on SQLite besides post_search.
                let mut insert =
                    sqlx::QueryBuilder::new("INSERT INTO post_search_grams (rowid, grams) ");
                insert.push_values(
                    posts.iter().zip(&post_ids),
                    |mut b, ((_, _, _, _, title, search), id)| {
                        b.push_bind(*id)
                            .push_bind(db::search::gram_tokens(title, search));
                    },
                );
                insert.build().execute(c).await?;
            }
            written += posts.len();
            in_tx += posts.len();
        }
        tx.commit().await?;
    }
    Ok(user)
}
