//! Statistics for funders: a past month seeded by SQL with figures known by construction (the
//! history a site would have; times chosen inside and at the edges of a Tokyo month), and the
//! current month made through the real pages. Checked cell by cell on the page and in the CSV
//! read back with the csv crate: small counts shown as "<5", the total that would give one away
//! hidden, staff left out, no names, and each download (only) in the log.

use jiff::civil::date;
use jiff::tz::TimeZone;

use crate::common::{Page, TestApp};
use crate::journeys::{category_id, member, staff, start_topic};

/// Unix seconds of 2026-`month`-`day` `hour`:`minute` in Tokyo.
fn tokyo(month: i8, day: i8, hour: i8, minute: i8) -> i64 {
    let zone = TimeZone::get("Asia/Tokyo").expect("zone");
    date(2026, month, day)
        .at(hour, minute, 0, 0)
        .to_zoned(zone)
        .expect("a time")
        .timestamp()
        .as_second()
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

/// Members (with a relation) and one moderator, who joined in May 2026, and an expert who
/// joined in April; each invited a day before.
const PEOPLE: [(&str, &str, &str); 17] = [
    ("p1", "member", "patient"),
    ("p2", "member", "patient"),
    ("p3", "member", "patient"),
    ("p4", "member", "patient"),
    ("p5", "member", "patient"),
    ("p6", "member", "patient"),
    ("f1", "member", "family"),
    ("f2", "member", "family"),
    ("f3", "member", "family"),
    ("f4", "member", "family"),
    ("s1", "member", "supporter"),
    ("s2", "member", "supporter"),
    ("s3", "member", "supporter"),
    ("s4", "member", "supporter"),
    ("s5", "member", "supporter"),
    ("staff", "moderator", "supporter"),
    ("expert", "expert", "supporter"),
];

/// The seeded history; the ids of its people by their short name.
struct Seeded {
    ids: std::collections::HashMap<&'static str, i64>,
}

impl Seeded {
    fn id(&self, who: &str) -> i64 {
        self.ids[who]
    }
}

async fn seed_may(app: &TestApp) {
    let mut ids = std::collections::HashMap::new();
    for (i, (who, role, relation)) in PEOPLE.iter().enumerate() {
        let (month, day) = if *who == "expert" { (4, 10) } else { (5, 3) };
        let joined = tokyo(month, day, 10, 0);
        let email = format!("{who}@seed.example.org");
        app.execute(&format!(
            "INSERT INTO invitations (email, role, relation, locale, token_hash, created_at, \
             sent_at, expires_at, accepted_at) VALUES ('{email}', '{role}', '{relation}', 'ja', \
             'seed-token-{i}', {invited}, {invited}, {expires}, {joined})",
            invited = joined - 86_400,
            expires = joined + 6 * 86_400,
        ))
        .await;
        app.execute(&format!(
            "INSERT INTO users (email, display_name, display_name_key, password_hash, role, \
             relation, created_at, updated_at) VALUES ('{email}', 'なまえ{who}', 'なまえ{who}', \
             'x', '{role}', '{relation}', {joined}, {joined})"
        ))
        .await;
        ids.insert(*who, user_id(app, &email).await);
    }
    let seeded = Seeded { ids };
    let id = |who: &str| seeded.id(who);
    let category = app.scalar("SELECT MIN(id) FROM categories").await;

    // Topics: two by members, one by staff.
    for (title, who, day) in [("t1", "p1", 5), ("t2", "p2", 6), ("t3", "staff", 7)] {
        let at = tokyo(5, day, 12, 0);
        app.execute(&format!(
            "INSERT INTO topics (category_id, author_id, title, created_at, last_posted_at) \
             VALUES ({category}, {author}, '{title}', {at}, {at})",
            author = id(who)
        ))
        .await;
    }
    // Posts: seven by members in May (the first just after midnight of 1 May in Tokyo, still
    // 30 April in UTC), two by staff, and one of p1's just after midnight of 1 June in Tokyo.
    let may_first = tokyo(5, 1, 0, 30);
    let june_first = tokyo(6, 1, 0, 30);
    for (body, topic, who, at) in [
        ("p1", "t1", "p1", tokyo(5, 5, 12, 0)),
        ("p2", "t2", "p2", tokyo(5, 6, 12, 0)),
        ("p3", "t1", "p3", tokyo(5, 8, 9, 0)),
        ("p4", "t1", "p4", tokyo(5, 8, 10, 0)),
        ("p5", "t1", "p5", tokyo(5, 8, 11, 0)),
        ("p6", "t1", "p6", may_first),
        ("f1", "t2", "f1", tokyo(5, 9, 12, 0)),
        ("staff-a", "t3", "staff", tokyo(5, 7, 12, 0)),
        ("staff-b", "t1", "staff", tokyo(5, 10, 12, 0)),
        ("p1-june", "t1", "p1", june_first),
    ] {
        app.execute(&format!(
            "INSERT INTO posts (topic_id, author_id, body_markdown, body_html, created_at) \
             SELECT id, {author}, '{body}', '<p>{body}</p>', {at} FROM topics \
             WHERE title = '{topic}'",
            author = id(who)
        ))
        .await;
    }
    // Reactions: f3 (her only act) and staff.
    for who in ["f3", "staff"] {
        app.execute(&format!(
            "INSERT INTO post_reactions (post_id, user_id, kind, created_at) \
             SELECT id, {user}, 'thanks', {at} FROM posts WHERE body_markdown = 'p1'",
            user = id(who),
            at = tokyo(5, 12, 8, 0)
        ))
        .await;
    }
    // Café: two sessions held, one cancelled.
    let room = app.scalar("SELECT MIN(id) FROM cafe_rooms").await;
    for (theme, day, cancelled) in [("s1", 10, "NULL"), ("s2", 20, "NULL"), ("s3", 25, "1")] {
        let starts = tokyo(5, day, 19, 0);
        app.execute(&format!(
            "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, theme, cancelled_at, \
             created_at) VALUES ({room}, {starts}, {ends}, '{theme}', {cancelled}, {created})",
            ends = starts + 3600,
            created = starts - 7 * 86_400,
        ))
        .await;
    }
    // Five members write in held sessions (s2 twice); staff too; f4 only in the cancelled one.
    for (seq, (who, session)) in [
        ("f2", "s1"),
        ("s2", "s1"),
        ("s3", "s1"),
        ("staff", "s1"),
        ("s4", "s2"),
        ("s5", "s2"),
        ("s2", "s2"),
        ("f4", "s3"),
    ]
    .into_iter()
    .enumerate()
    {
        app.execute(&format!(
            "INSERT INTO cafe_messages (room_id, session_id, author_id, body, seq, created_at) \
             SELECT room_id, id, {author}, 'こんばんは', {seq}, starts_at + 600 \
             FROM cafe_sessions WHERE theme = '{session}'",
            author = id(who),
            seq = 1000 + seq,
        ))
        .await;
    }
    // Q&A: three members' questions (two accepted, one answered), staff's question (accepted and
    // answered), a follow-up; an answer still a draft.
    app.execute(&format!(
        "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
         created_at) VALUES ({expert}, 'お金のこと', {starts}, {ends}, {deadline}, 10, {created})",
        expert = id("expert"),
        starts = tokyo(5, 15, 19, 0),
        ends = tokyo(5, 15, 20, 0),
        deadline = tokyo(5, 14, 12, 0),
        created = tokyo(4, 20, 12, 0),
    ))
    .await;
    let slot = app.scalar("SELECT MIN(id) FROM qa_slots").await;
    let screened = tokyo(5, 13, 9, 0);
    for (body, who, status) in [
        ("q1", "s1", "accepted"),
        ("q2", "p3", "accepted"),
        ("q3", "p4", "declined"),
        ("q4", "staff", "accepted"),
    ] {
        app.execute(&format!(
            "INSERT INTO qa_questions (slot_id, asker_id, body, shared, anonymous, status, \
             screened_at, created_at) VALUES ({slot}, {asker}, '{body}', 1, 0, '{status}', \
             {screened}, {asked})",
            asker = id(who),
            asked = tokyo(5, 12, 12, 0),
        ))
        .await;
    }
    app.execute(&format!(
        "INSERT INTO qa_questions (slot_id, asker_id, parent_id, body, shared, anonymous, status, \
         screened_at, created_at) SELECT {slot}, {asker}, id, 'q1-more', 1, 0, 'accepted', \
         {at}, {at} FROM qa_questions WHERE body = 'q1'",
        asker = id("s1"),
        at = tokyo(5, 15, 19, 30),
    ))
    .await;
    for (question, status, published) in [
        ("q1", "published", tokyo(5, 15, 19, 10).to_string()),
        ("q2", "draft", "NULL".to_owned()),
        ("q4", "published", tokyo(5, 15, 19, 20).to_string()),
        ("q1-more", "published", tokyo(5, 15, 19, 40).to_string()),
    ] {
        app.execute(&format!(
            "INSERT INTO qa_answers (question_id, slot_id, expert_id, body_markdown, body_html, \
             status, published_at, updated_at) SELECT id, {slot}, {expert}, 'a', '<p>a</p>', \
             '{status}', {published}, {updated} FROM qa_questions WHERE body = '{question}'",
            expert = id("expert"),
            updated = tokyo(5, 15, 19, 0),
        ))
        .await;
    }
    // Reports: handled in 2 and 4 hours, one open; staff's handled in 100 hours (left out).
    let moderator = id("staff");
    for (who, day, waited) in [
        ("p1", 10, Some(2)),
        ("p2", 11, Some(4)),
        ("p3", 12, None),
        ("staff", 12, Some(100)),
    ] {
        let at = tokyo(5, day, 10, 0);
        let (resolved, by, resolution) = match waited {
            Some(hours) => (
                (at + hours * 3600).to_string(),
                moderator.to_string(),
                "'dismissed'",
            ),
            None => ("NULL".to_owned(), "NULL".to_owned(), "NULL"),
        };
        app.execute(&format!(
            "INSERT INTO reports (reporter_id, target_kind, target_id, subject_user_id, reason, \
             created_at, resolved_at, resolved_by, resolution) SELECT {reporter}, 'post', id, \
             author_id, 'harassment', {at}, {resolved}, {by}, {resolution} FROM posts \
             WHERE body_markdown = 'f1'",
            reporter = id(who),
        ))
        .await;
    }
    // Crisis alerts: acknowledged after 10, 30 and 20 minutes; one about staff (left out).
    for (who, minutes) in [("p5", 10), ("p6", 30), ("f4", 20), ("staff", 999)] {
        let at = tokyo(5, 18, 22, 0);
        app.execute(&format!(
            "INSERT INTO alerts (cause, target_kind, target_id, subject_user_id, created_at, \
             acknowledged_at, acknowledged_by) VALUES ('crisis_words', 'post', 1, {subject}, \
             {at}, {acknowledged}, {moderator})",
            subject = id(who),
            acknowledged = at + minutes * 60,
        ))
        .await;
    }
}

const HEADERS_JA: [&str; 18] = [
    "月",
    "招待した人数",
    "参加した人数",
    "活動したメンバー（ご本人）",
    "活動したメンバー（ご家族）",
    "活動したメンバー（支援者）",
    "活動したメンバー（合計）",
    "話題",
    "投稿",
    "カフェの回数",
    "カフェの参加者",
    "専門家への質問",
    "受け付けた質問",
    "回答済みの質問",
    "報告",
    "報告の対応時間の中央値（時間）",
    "緊急アラート",
    "緊急アラートの確認時間の中央値（分）",
];

/// May: 15 invited and joined (the moderator's invitation and account left out); active
/// patients 6, family 4 (f1 posted, f2 wrote in the café, f3 reacted, f4 wrote only in a
/// cancelled session) hidden, supporters 5 (s1 asked, s2–s5 in the café); so the total (15) is
/// hidden. June: one post by p1, just after midnight in Tokyo.
const MAY: [&str; 18] = [
    "2026-05", "15", "15", "6", "<5", "5", "*", "2", "7", "2", "5", "3", "2", "1", "3", "3.0", "3",
    "20.0",
];
const JUNE: [&str; 18] = [
    "2026-06", "<5", "<5", "<5", "<5", "<5", "*", "0", "1", "0", "<5", "0", "0", "0", "0", "-",
    "0", "-",
];

fn table_rows(page: &Page) -> Vec<Vec<String>> {
    let count = page.select("table.stats-table tbody tr").len();
    (1..=count)
        .map(|n| {
            page.select(&format!(
                "table.stats-table tbody tr:nth-of-type({n}) > th, \
                 table.stats-table tbody tr:nth-of-type({n}) > td"
            ))
        })
        .collect()
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

async fn exports(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'stats.exported'")
        .await
}

async fn a_seeded_month_reads_back_cell_by_cell(app: TestApp) {
    let (coordinator, moderator) = staff(&app).await;
    seed_may(&app).await;

    assert_eq!(moderator.get("/admin/stats").await.status, 404);
    let page = coordinator
        .get("/admin/stats?from=2026-05&to=2026-06")
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.select("table.stats-table thead th"),
        strings(&HEADERS_JA)
    );
    assert_eq!(
        table_rows(&page),
        vec![strings(&MAY), strings(&JUNE)],
        "the seeded figures"
    );
    for who in ["p1", "f4", "s1", "staff"] {
        assert!(
            !page.body.contains(&format!("なまえ{who}")),
            "no names on the page"
        );
    }
    assert!(page.text().contains("「<5」"), "the rule is said");
    assert!(
        page.text()
            .contains("スタッフ（モデレーターとコーディネーター）の活動は")
    );
    // Four charts, each an image with a title and a description holding its numbers.
    assert_eq!(page.attrs("svg[role=img]", "viewBox").len(), 4);
    assert_eq!(
        page.select("svg title"),
        strings(&[
            "活動したメンバー（合計）",
            "投稿",
            "カフェの参加者",
            "回答済みの質問"
        ])
    );
    let posts = page.select("#chart-posts-desc").join("");
    assert!(
        posts.contains("2026-05 7") && posts.contains("2026-06 1"),
        "{posts}"
    );
    let active = page.select("#chart-active-desc").join("");
    assert!(active.contains("2026-05 *"), "{active}");
    assert_eq!(exports(&app).await, 0, "looking writes nothing");

    let csv = coordinator
        .get("/admin/stats.csv?from=2026-05&to=2026-06")
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = csv.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("2026-05_2026-06.csv"),
        "{disposition}"
    );
    let body = csv
        .body
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers, strings(&HEADERS_JA));
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("a row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(records, table_rows(&page), "the CSV is the page's table");
    assert_eq!(exports(&app).await, 1, "the download is in the log");
    let coordinator_id = user_id(&app, "coord@example.org").await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'stats.exported' \
             AND actor_id = {coordinator_id} AND target_kind = 'statistics' \
             AND reason = '2026-05..2026-06'"
        ))
        .await,
        1
    );
    assert!(!csv.body.contains("なまえ"), "no names in the CSV");

    // In English, the headers follow the coordinator's language; the cells stay the same.
    coordinator.get("/account").await;
    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    let english = coordinator
        .get("/admin/stats.csv?from=2026-05&to=2026-05")
        .await;
    let body = english
        .body
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        reader.headers().expect("headers").get(6),
        Some("Active members (total)")
    );
    let row: Vec<String> = reader
        .records()
        .next()
        .expect("May")
        .expect("a row")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(row, strings(&MAY));
    app.shutdown().await;
}
both_databases!(a_seeded_month_reads_back_cell_by_cell);

/// This month through the real pages: a member and a moderator invited and joined, each starts a
/// topic; only the member counts.
async fn this_month_counts_members_not_staff(app: TestApp) {
    let (coordinator, moderator) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let category = category_id(&app, "雑談").await;
    start_topic(&hana, category, "はじめまして", "よろしくお願いします。").await;
    start_topic(&moderator, category, "お知らせ", "スタッフからです。").await;

    let now = jiff::Timestamp::now()
        .to_zoned(TimeZone::get("Asia/Tokyo").expect("zone"))
        .strftime("%Y-%m")
        .to_string();
    let page = coordinator
        .get(&format!("/admin/stats?from={now}&to={now}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let rows = table_rows(&page);
    assert_eq!(rows.len(), 1);
    // Month, invited, joined, patients, family, supporters, total, topics, posts.
    assert_eq!(
        rows[0][..9],
        strings(&[&now, "<5", "<5", "<5", "<5", "<5", "*", "1", "1"])[..]
    );
    app.shutdown().await;
}
both_databases!(this_month_counts_members_not_staff);

/// A range that cannot be used is refused in the page's language, with this fiscal year shown;
/// a download of it is refused too and writes nothing.
async fn bad_ranges_are_refused_plainly(app: TestApp) {
    let (coordinator, _) = staff(&app).await;
    let today = jiff::Timestamp::now()
        .to_zoned(TimeZone::get("Asia/Tokyo").expect("zone"))
        .date();
    let april = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    let default_from = format!("{april}-04");
    for (query, message) in [
        ("from=2026-13&to=2027-01", "月は「2026-04」のように"),
        ("from=&to=2026-05", "月は「2026-04」のように"),
        ("from=2026-06&to=2026-05", "最初の月が最後の月より後"),
        ("from=2023-01&to=2026-01", "36 か月まで"),
    ] {
        let page = coordinator.get(&format!("/admin/stats?{query}")).await;
        assert_eq!(page.status, 422, "{query}");
        assert!(page.text().contains(message), "{query}: {}", page.text());
        assert_eq!(
            page.attr("input[name=from]", "value").as_deref(),
            Some(default_from.as_str()),
            "{query}: this fiscal year is shown"
        );
        let csv = coordinator.get(&format!("/admin/stats.csv?{query}")).await;
        assert_eq!(csv.status, 422, "{query}");
    }
    assert!(
        coordinator
            .get("/admin/stats")
            .await
            .contains("今年度（4月から今月まで）")
    );
    assert_eq!(exports(&app).await, 0);
    app.shutdown().await;
}
both_databases!(bad_ranges_are_refused_plainly);
