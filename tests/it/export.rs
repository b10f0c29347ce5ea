//! Exporting one's own data (`/account/export`): prepared in the background, offered by a link
//! mailed to the member that works once, in their own session, until it expires.

use std::time::Duration;

use hidamari::db::member_export::SECTIONS;
use serde_json::Value;

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{Footprints, footprints, member, staff};

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

/// Asks for an export from the page, as a member would; the page after the redirect.
async fn ask(browser: &Browser) -> Page {
    let page = browser.get("/account/export").await;
    assert_eq!(page.status, 200, "{}", page.text());
    browser.post_form_following("/account/export", &[]).await
}

/// The export link of the `nth` export mail (from 1) to `address`, as a path.
async fn mailed_link(app: &TestApp, address: &str, nth: usize) -> String {
    let prefix = app.url("/account/export/");
    let links = || -> Vec<String> {
        app.mail
            .messages_to(address)
            .iter()
            .flat_map(|m| m.links(&prefix).into_iter().take(1))
            .collect()
    };
    let started = std::time::Instant::now();
    loop {
        if let Some(link) = links().get(nth - 1) {
            return link.trim_start_matches(&app.base_url()).to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no export mail number {nth} to {address}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The rows of one section of an exported file.
fn section<'a>(file: &'a Value, name: &str) -> &'a Vec<Value> {
    file["sections"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no section {name} in {file}"))
}

async fn exporting_gives_back_everything_once(app: TestApp) {
    app.set_review_threshold(0).await;
    let (coordinator, _) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はなみずき").await;
    let sora = member(&app, &coordinator, "sora@example.org", "そらまめ").await;
    let hana_id = user_id(&app, "hana@example.org").await;
    let Footprints { topic, .. } = footprints(&app, &coordinator, &hana, &sora, hana_id).await;
    // Sora asks for hers too: nothing of hers may reach Hana's file.
    let sora_page = ask(&sora).await;
    assert_eq!(sora_page.status, 200);

    let none = hana.get("/account/export").await;
    assert!(
        none.text().contains("まだお申し込みはありません"),
        "{}",
        none.text()
    );
    let asked = ask(&hana).await;
    assert!(
        asked.text().contains("お申し込みを受けつけました"),
        "{}",
        asked.text()
    );
    let link = mailed_link(&app, "hana@example.org", 1).await;
    let sora_link = mailed_link(&app, "sora@example.org", 1).await;
    let page = hana.get("/account/export").await;
    assert!(page.text().contains("準備ができました"), "{}", page.text());
    assert!(
        page.attrs("meta[http-equiv=refresh]", "content").is_empty(),
        "a finished export does not refresh the page"
    );

    // Nobody else can use her link, not even with their own session; a visitor must log in.
    for (other, path) in [(&sora, &link), (&hana, &sora_link)] {
        assert_eq!(other.get(path).await.status, 404);
        let taken = other.post_form(path, &[]).await;
        assert_eq!(taken.status, 404, "{}", taken.text());
    }
    let visitor = app.client();
    let asked_to_log_in = visitor.get(&link).await;
    assert_eq!(asked_to_log_in.status, 303);
    assert!(asked_to_log_in.redirect_path().starts_with("/login"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM data_exports WHERE downloaded_at IS NOT NULL")
            .await,
        0
    );

    // Prepared two rows a batch: some sections come in several parts.
    let hers = format!(
        "FROM data_export_parts p JOIN data_exports e ON e.id = p.export_id \
         WHERE e.user_id = {hana_id}"
    );
    let parts = app.scalar(&format!("SELECT COUNT(*) {hers}")).await;
    let sections = app
        .scalar(&format!("SELECT COUNT(DISTINCT p.section) {hers}"))
        .await;
    assert!(parts > sections, "{parts} parts in {sections} sections");

    // Opening the link shows a button; only the button's POST gives the file.
    let offer = hana.get(&link).await;
    assert_eq!(offer.status, 200, "{}", offer.text());
    assert!(offer.csrf().is_some());
    let file = hana.post_form(&link, &[]).await;
    assert_eq!(file.status, 200, "{}", file.text());
    assert_eq!(
        file.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(
        file.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment; filename=\"hidamari-")),
        "{:?}",
        file.header("content-disposition")
    );
    let json = file.json();
    assert_eq!(json["format"], "hidamari-member-export/1");
    assert_eq!(json["member_id"], hana_id);
    let names: Vec<&str> = json["sections"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut expected: Vec<&str> = SECTIONS.iter().map(|s| s.name).collect();
    expected.sort_unstable();
    let mut got = names.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "every section, even empty ones");

    let account = &section(&json, "account")[0];
    assert_eq!(account["email"], "hana@example.org");
    assert_eq!(account["display_name"], "はなみずき");
    assert_eq!(account["relation"], "patient");
    assert_eq!(account["quiet_from"], 22 * 60);
    let has = |name: &str, field: &str, value: &str| {
        section(&json, name)
            .iter()
            .any(|row| row[field].as_str() == Some(value))
    };
    assert!(has("posts", "body_markdown", "川沿いの桜並木を歩きました"));
    assert!(has("posts", "body_markdown", "チューリップが咲いています"));
    assert!(has("topics", "title", "はなの庭だより"));
    assert!(has("reactions", "kind", "thanks"));
    assert!(has(
        "reports_made",
        "note",
        "はなみずきより確認をお願いします"
    ));
    assert!(has("cafe_messages", "body", "カフェで話せてうれしいです"));
    assert!(has(
        "questions",
        "body",
        "休職中の手当について教えてください"
    ));
    assert!(has("profile", "cancer", "はなみずき式の乳がん"));
    assert!(has("notification_settings", "mode", "digest"));
    assert_eq!(section(&json, "blocked_members").len(), 1);
    assert!(!section(&json, "followed_topics").is_empty());
    // Only hers: not Sora's topic's first post, address or name, no secrets.
    assert!(!has("posts", "body_markdown", "桜が咲きました"));
    for absent in ["sora@example.org", "そらまめ", "password_hash", "$argon2"] {
        assert!(!file.body.contains(absent), "{absent} in the file");
    }
    assert!(
        section(&json, "posts")
            .iter()
            .all(|p| p.get("author_id").is_none())
    );

    // Once: the link is used, the prepared parts are gone, the download is logged.
    let again = hana.post_form(&link, &[]).await;
    assert_eq!(again.status, 410, "{}", again.text());
    assert!(
        again.text().contains("このリンクはすでに使われました"),
        "{}",
        again.text()
    );
    assert_eq!(hana.get(&link).await.status, 410);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM data_export_parts WHERE export_id IN \
             (SELECT id FROM data_exports WHERE user_id = {hana_id})"
        ))
        .await,
        0
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.exported' \
             AND actor_id = {hana_id} AND reason = ''"
        ))
        .await,
        1
    );
    let page = hana.get("/account/export").await;
    assert!(
        page.text().contains("ダウンロードされました"),
        "{}",
        page.text()
    );
    assert!(hana.get(&topic).await.status == 200);
    app.shutdown().await;
}
both_databases!(
    exporting_gives_back_everything_once,
    configure = two_rows_a_batch
);

/// Batches of two rows: the file is put together from many parts, several per section.
fn two_rows_a_batch(config: &mut hidamari::config::Config) {
    config.job_batch_size = 2;
}

async fn a_new_request_replaces_the_link_and_links_expire(app: TestApp) {
    let (coordinator, _) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    ask(&hana).await;
    let first = mailed_link(&app, "hana@example.org", 1).await;
    // A second request while one is prepared joins it; once ready, a new one replaces it.
    let replaced = ask(&hana).await;
    assert!(
        replaced.text().contains("お申し込みを受けつけました")
            || replaced.text().contains("いま準備しているところです"),
        "{}",
        replaced.text()
    );
    let second = mailed_link(&app, "hana@example.org", 2).await;
    assert_ne!(first, second);
    assert_eq!(hana.get(&first).await.status, 404, "the old link is gone");
    assert_eq!(hana.post_form(&first, &[]).await.status, 404);
    assert_eq!(
        hana.get("/account/export/not-a-token").await.status,
        404,
        "a malformed link"
    );

    // Expired: refused with a clear page, and the prepared parts are deleted by housekeeping.
    app.execute("UPDATE data_exports SET expires_at = expires_at - 200000")
        .await;
    let expired = hana.get(&second).await;
    assert_eq!(expired.status, 410);
    assert!(
        expired.text().contains("期限が切れました"),
        "{}",
        expired.text()
    );
    assert_eq!(hana.post_form(&second, &[]).await.status, 410);
    let page = hana.get("/account/export").await;
    assert!(page.text().contains("期限が切れました"), "{}", page.text());
    assert!(app.scalar("SELECT COUNT(*) FROM data_export_parts").await > 0);
    hidamari::account::service::forget_expired_exports(app.app())
        .await
        .expect("housekeeping");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM data_export_parts").await,
        0
    );

    // In English, the mail and the pages read in English.
    hana.get("/account").await;
    let english = hana.post_form("/preferences", &[("locale", "en")]).await;
    assert_eq!(english.status, 303);
    let asked = ask(&hana).await;
    assert!(
        asked.text().contains("We have your request"),
        "{}",
        asked.text()
    );
    let third = mailed_link(&app, "hana@example.org", 3).await;
    let mail = app.mail.messages_to("hana@example.org");
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("Your data is ready")),
        "{:?}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let offer = hana.get(&third).await;
    assert!(offer.text().contains("Download"), "{}", offer.text());
    app.shutdown().await;
}
both_databases!(a_new_request_replaces_the_link_and_links_expire);
