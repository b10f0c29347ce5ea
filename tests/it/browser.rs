//! The flow that matters most (issue 4), in a real browser: a member invited by e-mail joins from
//! the invitation link, starts a topic in Japanese on a phone-sized screen, another member replies
//! from another browser, and the first member follows the notification e-mail's link to the reply.
//!
//! Debian's headless Chromium is driven through ChromeDriver (WebDriver) with `fantoccini`. The
//! coordinator's part (inviting) goes through the harness's HTTP `Browser`; the two members each
//! have their own Chromium session with a fresh profile. Every page either member sees is checked
//! for requests to any other site. Without Chromium and ChromeDriver the test fails and says how
//! to install them (`scripts/test.sh` does).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::{NamedTempFile, TempDir};

use crate::common::{Backend, MAIL_WAIT, TestApp, spawn_app_with};
use crate::journeys::{PASSWORD, first_coordinator, invite};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone held upright (CSS pixels), as in `--window-size`.
const PHONE: (u32, u32) = (390, 844);
/// The whole story; it takes a few seconds.
const STORY_LIMIT: Duration = Duration::from_secs(90);
/// One step: ChromeDriver getting ready, a page arriving after a click.
const STEP_LIMIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

const TITLE: &str = "抗がん剤治療中の食事の工夫";
const BODY: &str =
    "味覚が変わって、食べられるものが減りました。\n皆さんはどんな工夫をしていますか。";
const REPLY: &str = "冷たいおかゆと果物のゼリーなら食べやすかったです。無理せずに。";

async fn invited_member_follows_the_mail_to_a_reply_on_her_phone(
    app: TestApp,
    chrome: &mut ChromeDriver,
) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana_link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let taro_link = invite(&app, &coordinator, "taro@example.org", "member", "patient").await;
    let hana = chrome.session().await;
    let taro = chrome.session().await;

    // Hana opens the invitation from her mail and joins.
    join_in_browser(&app, &hana, &hana_link, "はな").await;
    let size: Value = script(&hana, "return [window.innerWidth, window.innerHeight];").await;
    assert_eq!(
        size,
        json!([PHONE.0, PHONE.1]),
        "the page is seen on a phone-sized screen"
    );

    // From the home page: the forums, a category, and a new topic, all by their visible links.
    click(&hana, Locator::LinkText("フォーラム")).await;
    wait_for_url(&hana, "the forums", |u| u.path() == "/forums").await;
    page_is_sound(&app, &hana, "the forums").await;
    click(
        &hana,
        Locator::XPath("//a[.//span[normalize-space()='暮らし']]"),
    )
    .await;
    wait_for_url(&hana, "the category", |u| u.path().starts_with("/c/")).await;
    page_is_sound(&app, &hana, "the category").await;
    click(&hana, Locator::LinkText("新しい話題を始める")).await;
    wait_for_url(&hana, "the new-topic form", |u| u.path().ends_with("/new")).await;
    page_is_sound(&app, &hana, "the new-topic form").await;
    fill(&hana, "タイトル", TITLE).await;
    fill(&hana, "本文", BODY).await;
    click(&hana, Locator::Css("button[name='action'][value='post']")).await;
    let topic_url = wait_for_url(&hana, "the new topic", |u| u.path().starts_with("/t/")).await;
    page_is_sound(&app, &hana, "the new topic").await;
    assert_eq!(text(&hana, Locator::Css("h1")).await, TITLE);
    let first_post = text(&hana, Locator::Css("ol.posts .post-body")).await;
    assert!(
        first_post.contains("味覚が変わって") && first_post.contains("どんな工夫を"),
        "the topic shows what Hana wrote: {first_post:?}"
    );

    // Taro joins from his own invitation in another browser and replies.
    join_in_browser(&app, &taro, &taro_link, "たろう").await;
    taro.goto(topic_url.as_str())
        .await
        .expect("opening the topic");
    page_is_sound(&app, &taro, "the topic, for Taro").await;
    assert_eq!(text(&taro, Locator::Css("h1")).await, TITLE);
    fill(&taro, "返信の本文", REPLY).await;
    let before = app.mail.count();
    click(
        &taro,
        Locator::Css("form[action^='/t/'] button[name='action'][value='post']"),
    )
    .await;
    wait_for_url(&taro, "the topic after replying", |u| {
        u.fragment().is_some_and(|f| f.starts_with("post-"))
    })
    .await;
    page_is_sound(&app, &taro, "the topic after replying").await;

    // Hana gets an e-mail about the reply, and its link shows her the reply itself.
    let mail = app
        .mail
        .wait_for(
            |m| m.seq >= before && m.is_to("hana@example.org"),
            MAIL_WAIT,
        )
        .await;
    assert!(mail.subject.contains("新しい投稿"), "{}", mail.subject);
    assert!(
        !mail.text.contains("taro@example.org"),
        "no addresses in mails: {}",
        mail.text
    );
    let link = mail.link(&app.url("/p/"));
    let post_id: i64 = link
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a post id at the end of the mail's link {link}"));
    hana.goto(&link).await.expect("opening the mail's link");
    let anchor = format!("post-{post_id}");
    let landed = wait_for_url(&hana, "the reply from the mail's link", |u| {
        u.fragment() == Some(anchor.as_str())
    })
    .await;
    assert_eq!(
        landed.path(),
        topic_url.path(),
        "the link leads to the topic"
    );
    page_is_sound(&app, &hana, "the reply from the mail's link").await;
    let reply = hana
        .find(Locator::Id(&anchor))
        .await
        .unwrap_or_else(|e| panic!("no #{anchor} on {landed}: {e}"));
    let seen = reply.text().await.expect("the reply's text");
    assert!(
        seen.contains(REPLY) && seen.contains("たろう"),
        "Hana sees Taro's reply: {seen:?}"
    );
    // Subpixel rounding may leave the top a fraction of a pixel above the screen.
    let in_view: bool = script(
        &hana,
        &format!(
            "const r = document.getElementById('{anchor}').getBoundingClientRect();
             return r.top > -1 && r.top < window.innerHeight;"
        ),
    )
    .await;
    assert!(in_view, "the page opens scrolled to the reply");

    hana.close().await.expect("ending Hana's browser session");
    taro.close().await.expect("ending Taro's browser session");
    app.shutdown().await;
}

/// A story run on both databases, each with its own ChromeDriver, within [`STORY_LIMIT`].
macro_rules! chromium_story {
    ($name:ident, $story:ident, $configure:expr) => {
        mod $name {
            use super::*;

            async fn run(backend: Backend) {
                let mut chrome = ChromeDriver::start().await;
                let app = spawn_app_with(backend, $configure).await;
                if tokio::time::timeout(STORY_LIMIT, $story(app, &mut chrome))
                    .await
                    .is_err()
                {
                    panic!(
                        "{} did not finish within {STORY_LIMIT:?} on {backend:?}; \
                         ChromeDriver's log:\n{}",
                        stringify!($story),
                        chrome.log()
                    );
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(Backend::Postgres).await;
            }
        }
    };
}

chromium_story!(
    invitation_to_reply_in_chromium,
    invited_member_follows_the_mail_to_a_reply_on_her_phone,
    |config| config.notify_delay_seconds = 1
);

/// Typing a mention in the reply box suggests members' names (static/mentions.js); choosing one
/// completes it, and the reply mentions that member.
async fn names_are_suggested_while_typing_a_mention(app: TestApp, chrome: &mut ChromeDriver) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    crate::journeys::member(&app, &coordinator, "suzuki@example.org", "すずき").await;
    let hana_link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let hana = chrome.session().await;
    join_in_browser(&app, &hana, &hana_link, "はな").await;
    let chat = crate::journeys::category_id(&app, "雑談").await;
    let topic = crate::journeys::start_topic(&coordinator, chat, "ひとこと", "どうぞ。").await;
    hana.goto(&app.url(&topic))
        .await
        .expect("opening the topic");
    page_is_sound(&app, &hana, "the topic").await;
    let box_ = find(&hana, Locator::Css("textarea[name='body']")).await;
    box_.send_keys("ありがとう、@すず").await.expect("typing");
    let suggestion = Locator::XPath("//ul[@class='mention-suggestions']//button[.='すずき']");
    let deadline = Instant::now() + STEP_LIMIT;
    while hana.find(suggestion).await.is_err() {
        assert!(Instant::now() < deadline, "no suggestion for すず");
        tokio::time::sleep(POLL).await;
    }
    click(&hana, suggestion).await;
    box_.send_keys("さん").await.expect("typing");
    let typed = box_.prop("value").await.expect("the reply's text");
    assert_eq!(typed.as_deref(), Some("ありがとう、@すずきさん"));
    click(
        &hana,
        Locator::Css("form[action^='/t/'] button[name='action'][value='post']"),
    )
    .await;
    wait_for_url(&hana, "the topic after replying", |u| {
        u.fragment().is_some_and(|f| f.starts_with("post-"))
    })
    .await;
    let mentioned = text(&hana, Locator::Css("ol.posts li:last-child .post-body a")).await;
    assert_eq!(mentioned, "@すずき");
    hana.close().await.expect("ending Hana's browser session");
    app.shutdown().await;
}

chromium_story!(
    mention_suggestions_in_chromium,
    names_are_suggested_while_typing_a_mention,
    |_| {}
);

/// On a phone, the coordinator's tables (invitations, categories) are one card a row: a long
/// address keeps the screen's width instead of a column of a few characters.
async fn staff_tables_are_cards_on_a_phone(app: TestApp, chrome: &mut ChromeDriver) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let long = "tanaka.hanako.family.support@example.org";
    invite(&app, &coordinator, long, "member", "family").await;
    let staff = coordinator_in_browser(&app, &coordinator, chrome).await;
    for path in ["/admin/invitations", "/admin/categories"] {
        staff.goto(&app.url(path)).await.expect("opening the page");
        page_is_sound(&app, &staff, path).await;
        let (display, label, cell, screen): (String, String, f64, f64) = script(
            &staff,
            "const td = document.querySelector('table.cards tbody td');
             return [getComputedStyle(td.parentElement).display,
                     getComputedStyle(td, '::before').content,
                     td.getBoundingClientRect().width, window.innerWidth];",
        )
        .await;
        assert_eq!(display, "block", "{path}: a row is a card");
        assert!(label.len() > 2, "{path}: each value is named: {label}");
        assert!(
            cell > screen * 0.7,
            "{path}: a cell is {cell}px wide on a {screen}px screen"
        );
    }
    staff
        .goto(&app.url("/admin/invitations"))
        .await
        .expect("opening the invitations");
    let address: f64 = script(
        &staff,
        &format!(
            "return 0 + [...document.querySelectorAll('td.address')]
                 .filter(td => td.textContent.includes('{long}'))
                 .map(td => td.getBoundingClientRect().width)[0];"
        ),
    )
    .await;
    assert!(
        address > 300.0,
        "the long address has the card's width: {address}px"
    );
    staff.close().await.expect("ending the browser session");
    app.shutdown().await;
}

chromium_story!(
    staff_tables_in_chromium,
    staff_tables_are_cards_on_a_phone,
    |_| {}
);

/// A new member's first post waits for review: she sees it marked so, another member does not
/// see it, a moderator publishes it from the queue in one tap, and then everyone sees it.
async fn a_first_post_is_held_then_approved(app: TestApp, chrome: &mut ChromeDriver) {
    app.set_review_threshold(3).await;
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let taro = crate::journeys::member(&app, &coordinator, "taro@example.org", "たろう").await;
    let hana_link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let mod_link = invite(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
    )
    .await;
    let hana = chrome.session().await;
    let moderator = chrome.session().await;
    join_in_browser(&app, &hana, &hana_link, "はな").await;
    join_in_browser(&app, &moderator, &mod_link, "もでさん").await;

    let living = crate::journeys::category_id(&app, "暮らし").await;
    hana.goto(&app.url(&format!("/c/{living}/new")))
        .await
        .expect("opening the new-topic form");
    fill(&hana, "タイトル", TITLE).await;
    fill(&hana, "本文", BODY).await;
    click(&hana, Locator::Css("button[name='action'][value='post']")).await;
    let topic_url = wait_for_url(&hana, "the new topic", |u| u.path().starts_with("/t/")).await;
    page_is_sound(&app, &hana, "the held topic").await;
    let flash = text(&hana, Locator::Css("p.flash")).await;
    assert!(flash.contains("モデレーターが確認したあと"), "{flash:?}");
    let status = text(&hana, Locator::Css("p.status-note")).await;
    assert!(status.contains("確認待ち"), "{status:?}");
    assert_eq!(
        taro.get(topic_url.path()).await.status,
        404,
        "another member does not see it yet"
    );

    // The moderator reaches the queue from the header and publishes it.
    moderator.goto(&app.url("/")).await.expect("the home page");
    click(&moderator, Locator::Css("a[href='/mod/queue']")).await;
    wait_for_url(&moderator, "the queue", |u| u.path() == "/mod/queue").await;
    page_is_sound(&app, &moderator, "the queue").await;
    let item = text(&moderator, Locator::Css(".queue-item")).await;
    assert!(item.contains(TITLE) && item.contains("はな"), "{item:?}");
    click(&moderator, Locator::Css(".queue-item button.primary")).await;
    // The same address before and after: the page has changed once it carries the message.
    let flash = moderator
        .wait()
        .at_most(STEP_LIMIT)
        .for_element(Locator::Css("p.flash"))
        .await
        .expect("the queue again, with a message")
        .text()
        .await
        .expect("the message");
    assert!(flash.contains("公開しました"), "{flash:?}");
    assert!(moderator.find(Locator::Css(".queue-item")).await.is_err());

    let seen = taro.get(topic_url.path()).await;
    assert_eq!(seen.status, 200);
    assert!(seen.contains("味覚が変わって"));
    hana.goto(topic_url.as_str())
        .await
        .expect("the topic again");
    assert!(hana.find(Locator::Css("p.status-note")).await.is_err());
    hana.close().await.expect("ending Hana's browser session");
    moderator
        .close()
        .await
        .expect("ending the moderator's session");
    app.shutdown().await;
}

chromium_story!(
    first_post_review_in_chromium,
    a_first_post_is_held_then_approved,
    |_| {}
);

/// A coordinator runs the community from the staff's home: from the header to the home, to the
/// members list, finds a member by name, changes her role, and sees the change on her page and
/// in the list. (Issue 11's statistics and CSV join this story when they exist.)
async fn a_coordinator_finds_a_member_and_changes_her_role(
    app: TestApp,
    chrome: &mut ChromeDriver,
) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    crate::journeys::member(&app, &coordinator, "hana@example.org", "はな").await;
    crate::journeys::member(&app, &coordinator, "taro@example.org", "たろう").await;
    let staff = coordinator_in_browser(&app, &coordinator, chrome).await;

    click(&staff, Locator::Css("header a[href='/admin']")).await;
    wait_for_url(&staff, "the staff's home", |u| u.path() == "/admin").await;
    page_is_sound(&app, &staff, "the staff's home").await;
    click(
        &staff,
        Locator::XPath("//main//a[.//span[normalize-space()='メンバー']]"),
    )
    .await;
    wait_for_url(&staff, "the members list", |u| u.path() == "/admin/members").await;
    page_is_sound(&app, &staff, "the members list").await;
    fill(&staff, "表示名で探す", "はな").await;
    click(
        &staff,
        Locator::Css("form[role='search'] button[type='submit']"),
    )
    .await;
    wait_for_url(&staff, "the search's results", |u| {
        u.query().is_some_and(|q| q.contains("q="))
    })
    .await;
    page_is_sound(&app, &staff, "the search's results").await;
    let found = text(&staff, Locator::Css("table.members tbody")).await;
    assert!(
        found.contains("はな") && !found.contains("たろう"),
        "{found:?}"
    );
    click(&staff, Locator::LinkText("はな")).await;
    wait_for_url(&staff, "はな's staff page", |u| {
        u.path().starts_with("/mod/members/")
    })
    .await;
    page_is_sound(&app, &staff, "はな's staff page").await;
    assert!(
        !text(&staff, Locator::Css("main"))
            .await
            .contains("hana@example.org"),
        "no address until asked for"
    );

    click(&staff, Locator::Css("#manage_role option[value='expert']")).await;
    click(
        &staff,
        Locator::Css("form[action$='/role'] button[type='submit']"),
    )
    .await;
    let flash = staff
        .wait()
        .at_most(STEP_LIMIT)
        .for_element(Locator::Css("p.flash"))
        .await
        .expect("the member's page again, with a message")
        .text()
        .await
        .expect("the message");
    assert!(flash.contains("役割を変えました"), "{flash:?}");
    page_is_sound(&app, &staff, "はな's page after the change").await;
    let facts = text(&staff, Locator::XPath("//main/h1/following-sibling::p[1]")).await;
    assert!(facts.starts_with("専門家"), "{facts:?}");
    let chosen: Option<String> = find(&staff, Locator::Css("#manage_role"))
        .await
        .prop("value")
        .await
        .expect("the role chosen");
    assert_eq!(chosen.as_deref(), Some("expert"));

    staff
        .goto(&app.url("/admin/members?role=expert"))
        .await
        .expect("the experts");
    let experts = text(&staff, Locator::Css("table.members tbody")).await;
    assert!(experts.contains("はな"), "{experts:?}");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'member.role_changed' \
             AND reason = 'member -> expert'"
        )
        .await,
        1
    );

    // From the staff home to the statistics, and the CSV as the browser downloads it.
    staff
        .goto(&app.url("/admin"))
        .await
        .expect("the staff home");
    click(&staff, Locator::Css("a[href='/admin/stats']")).await;
    wait_for_url(&staff, "the statistics", |u| u.path() == "/admin/stats").await;
    page_is_sound(&app, &staff, "the statistics").await;
    let charts: i64 = script(
        &staff,
        "return document.querySelectorAll('main svg').length;",
    )
    .await;
    assert!(charts > 0, "charts drawn on the server");
    let csv: Vec<i64> = staff
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             const link = document.querySelector('a[download]');\
             fetch(link.href).then(r => r.arrayBuffer())\
               .then(b => done(Array.from(new Uint8Array(b).slice(0, 3))));",
            Vec::new(),
        )
        .await
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .expect("the CSV's first bytes");
    assert_eq!(csv, [0xEF, 0xBB, 0xBF], "UTF-8 with a BOM, for Excel");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'stats.exported'")
            .await,
        1
    );
    staff.close().await.expect("ending the browser session");
    app.shutdown().await;
}

chromium_story!(
    coordinator_changes_a_role_in_chromium,
    a_coordinator_finds_a_member_and_changes_her_role,
    |_| {}
);

/// The café between two browsers: a message typed in one appears in the other without a reload;
/// the other's network is cut (its connections dropped, new ones refused) while the first goes
/// on writing, and once it is back the second browser catches up by itself, each message once
/// and in order.
async fn two_members_talk_in_the_cafe_through_a_dropped_network(
    app: TestApp,
    chrome: &mut ChromeDriver,
) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana_link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let sora_link = invite(&app, &coordinator, "sora@example.org", "member", "patient").await;
    let hana = chrome.session().await;
    let sora = chrome.session().await;
    join_in_browser(&app, &hana, &hana_link, "はな").await;
    join_in_browser(&app, &sora, &sora_link, "そら").await;
    let room = app
        .scalar("SELECT id FROM cafe_rooms WHERE name = 'みんなのカフェ'")
        .await;
    app.execute(&format!(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, theme, created_at) \
         VALUES ({room}, 0, 4000000000, '春のおしゃべり', 0)"
    ))
    .await;
    // Sora's phone reaches the server through a network that can be cut (cookies are the
    // host's, whatever the port, so she is logged in there too).
    let network = Network::start(app.addr).await;
    let room_path = format!("/cafe/{room}");
    hana.goto(&app.url(&room_path)).await.expect("the room");
    sora.goto(&format!("{}{room_path}", network.base_url()))
        .await
        .expect("the room, on Sora's phone");
    page_is_sound(&app, &hana, "the café room").await;
    for browser in [&hana, &sora] {
        wait_for_text(browser, "#cafe-live", "自動で表示されます").await;
    }
    wait_for_text(&sora, "#cafe-presence", "はな").await;

    say_in_room(&hana, "こんにちは、はじめまして").await;
    wait_for_text(&sora, "#cafe-messages", "こんにちは、はじめまして").await;
    let url = hana.current_url().await.expect("the URL");
    assert_eq!(url.path(), room_path);
    assert_eq!(url.fragment(), None, "sent live, not by reloading the page");

    network.cut();
    wait_for_text(&sora, "#cafe-live", "接続が切れました").await;
    say_in_room(&hana, "今日は病院の帰りです").await;
    say_in_room(&hana, "皆さんはいかがですか").await;
    wait_for_text(&hana, "#cafe-messages", "皆さんはいかがですか").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let offline: String = text(&sora, Locator::Css("#cafe-messages")).await;
    assert!(
        !offline.contains("今日は病院の帰りです"),
        "nothing arrives while cut"
    );
    network.restore();
    wait_for_text(&sora, "#cafe-messages", "皆さんはいかがですか").await;
    let bodies: Vec<String> = script(
        &sora,
        "return [...document.querySelectorAll('#cafe-messages .cafe-body')].map(e => e.textContent);",
    )
    .await;
    assert_eq!(
        bodies,
        [
            "こんにちは、はじめまして",
            "今日は病院の帰りです",
            "皆さんはいかがですか"
        ],
        "every message once, in order"
    );
    // And it is live again.
    say_in_room(&sora, "おかえりなさい").await;
    wait_for_text(&hana, "#cafe-messages", "おかえりなさい").await;
    hana.close().await.expect("ending Hana's session");
    sora.close().await.expect("ending Sora's session");
    app.shutdown().await;
}

chromium_story!(
    cafe_between_two_browsers_in_chromium,
    two_members_talk_in_the_cafe_through_a_dropped_network,
    |_| {}
);

async fn a_member_asks_anonymously_and_watches_the_answer_arrive(
    app: TestApp,
    chrome: &mut ChromeDriver,
) {
    let (coordinator, moderator) = crate::journeys::staff(&app).await;
    let hana_link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let sora_link = invite(&app, &coordinator, "sora@example.org", "member", "family").await;
    let expert_link = invite(
        &app,
        &coordinator,
        "sensei@example.org",
        "expert",
        "supporter",
    )
    .await;
    let hana = chrome.session().await;
    let sora = chrome.session().await;
    let expert = chrome.session().await;
    join_in_browser(&app, &hana, &hana_link, "はな").await;
    join_in_browser(&app, &sora, &sora_link, "そら").await;
    join_in_browser(&app, &expert, &expert_link, "山田先生").await;
    let slot = app
        .scalar(
            "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
             created_at) SELECT id, '傷病手当金と休職', 0, 4000000000, 3900000000, 5, 0 \
             FROM users WHERE email = 'sensei@example.org' RETURNING id",
        )
        .await;
    let slot_path = format!("/qa/slots/{slot}");

    // Hana asks; the form offers sharing and anonymity, both chosen.
    hana.goto(&app.url(&slot_path)).await.expect("the slot");
    page_is_sound(&app, &hana, "the slot page").await;
    fill(
        &hana,
        "質問（2000文字まで）",
        "休職中に復職の準備をしてもよいですか。",
    )
    .await;
    let anonymous: bool = script(
        &hana,
        "return document.querySelector('#ask input[name=anonymous]').checked;",
    )
    .await;
    assert!(anonymous, "anonymous until she chooses otherwise");
    click(&hana, Locator::Css("#ask button[type='submit']")).await;
    wait_for_text(&hana, "#mine", "確認待ち").await;

    // A moderator accepts it.
    let question = app
        .scalar("SELECT id FROM qa_questions WHERE body = '休職中に復職の準備をしてもよいですか。'")
        .await;
    moderator
        .get(&format!("/mod/qa-questions/{question}"))
        .await;
    let accepted = moderator
        .post_form(&format!("/mod/qa-questions/{question}/accept"), &[])
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.text());

    // Sora watches the slot; the page marks itself, to show later that it never reloaded.
    sora.goto(&app.url(&slot_path)).await.expect("the slot");
    page_is_sound(&app, &sora, "the slot page, watching").await;
    wait_for_text(&sora, "#qa-live", "自動で表示されます").await;
    let _: Value = sora
        .execute("window.watchingSince = 1; return null;", Vec::new())
        .await
        .expect("marking the page");

    // The expert answers from the desk.
    expert
        .goto(&app.url(&format!("{slot_path}/desk")))
        .await
        .expect("the desk");
    page_is_sound(&app, &expert, "the expert's desk").await;
    wait_for_text(&expert, "main", "休職中に復職の準備をしてもよいですか。").await;
    fill(
        &expert,
        "回答（Markdown が使えます）",
        "主治医と相談しながら準備できます。",
    )
    .await;
    click(&expert, Locator::Css("button[value='publish']")).await;
    wait_for_text(&expert, "main", "回答を公開しました").await;

    // It appears on Sora's page by itself, with 匿名の相談者 and not Hana's name.
    wait_for_text(&sora, "#qa-answers", "主治医と相談しながら準備できます。").await;
    let shown = text(&sora, Locator::Css("#qa-answers")).await;
    assert!(shown.contains("匿名の相談者"), "{shown}");
    assert!(!shown.contains("はな"), "{shown}");
    assert!(
        shown.contains("個別の法的助言ではありません"),
        "the disclaimer: {shown}"
    );
    let same_page: bool = script(&sora, "return window.watchingSince === 1;").await;
    assert!(same_page, "the answer arrived live, without a reload");
    for browser in [hana, sora, expert] {
        browser.close().await.expect("ending a session");
    }
    app.shutdown().await;
}

chromium_story!(
    live_qa_in_chromium,
    a_member_asks_anonymously_and_watches_the_answer_arrive,
    |_| {}
);

/// Types into the room's message box and sends it.
async fn say_in_room(browser: &Client, message: &str) {
    fill(browser, "メッセージ", message).await;
    click(browser, Locator::Css("#compose button[type='submit']")).await;
    wait_for_script(
        browser,
        "return document.getElementById('cafe-body').value === '';",
    )
    .await;
}

/// Waits until the element at `css` contains `needle`.
async fn wait_for_text(browser: &Client, css: &str, needle: &str) {
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        let shown = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown.contains(needle) {
            return;
        }
        if Instant::now() > deadline {
            panic!("waited {STEP_LIMIT:?} for {needle:?} in {css}; it shows {shown:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn wait_for_script(browser: &Client, js: &str) {
    let deadline = Instant::now() + STEP_LIMIT;
    while !script::<bool>(browser, js).await {
        assert!(Instant::now() < deadline, "waited {STEP_LIMIT:?} for {js}");
        tokio::time::sleep(POLL).await;
    }
}

/// A network between one browser and the server that can be cut: while cut, every open
/// connection through it is dropped and new ones are refused.
struct Network {
    addr: std::net::SocketAddr,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Network {
    async fn start(server: std::net::SocketAddr) -> Network {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the network");
        let addr = listener.local_addr().expect("its address");
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_cut, conns) = (cut.clone(), open.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_cut.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(server).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().expect("the list").push(task.abort_handle());
            }
        });
        Network {
            addr,
            cut,
            open,
            accepting,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.open.lock().expect("the list").drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}

// ---------------------------------------------------------------------------------------------
// What a person does in the browser.

/// Opens an invitation link and joins with `name` and [`PASSWORD`], filling the fields found by
/// their labels; ends on the home page.
async fn join_in_browser(app: &TestApp, browser: &Client, link: &str, name: &str) {
    browser.goto(link).await.expect("opening the invitation");
    page_is_sound(app, browser, "the invitation").await;
    assert_eq!(
        text(browser, Locator::Css("h1")).await,
        "陽だまりへようこそ"
    );
    fill(browser, "表示名", name).await;
    fill(browser, "新しいパスワード", PASSWORD).await;
    fill(
        browser,
        "新しいパスワード（確認のため、もう一度）",
        PASSWORD,
    )
    .await;
    click(browser, Locator::Css("form button[type='submit']")).await;
    wait_for_url(browser, "the home page after joining", |u| u.path() == "/").await;
    page_is_sound(app, browser, "the home page after joining").await;
    let body = text(browser, Locator::Css("body")).await;
    assert!(body.contains(name), "the home page greets {name}: {body}");
}

/// A second coordinator (staff@example.org, すたっふ), invited by `coordinator`, joined in a
/// Chromium session of her own.
async fn coordinator_in_browser(
    app: &TestApp,
    coordinator: &crate::common::Browser,
    chrome: &mut ChromeDriver,
) -> Client {
    let link = invite(
        app,
        coordinator,
        "staff@example.org",
        "coordinator",
        "supporter",
    )
    .await;
    let staff = chrome.session().await;
    join_in_browser(app, &staff, &link, "すたっふ").await;
    staff
}

/// Types `value` into the field whose `<label>` reads `label`, and checks it arrived whole.
async fn fill(browser: &Client, label: &str, value: &str) {
    let xpath = format!("//label[normalize-space()='{label}']");
    let label_element = find(browser, Locator::XPath(&xpath)).await;
    let id = label_element
        .attr("for")
        .await
        .expect("the label's for attribute")
        .unwrap_or_else(|| panic!("the label {label:?} names no field"));
    let field = browser
        .find(Locator::Id(&id))
        .await
        .unwrap_or_else(|e| panic!("the label {label:?} names #{id}, which is missing: {e}"));
    field.clear().await.expect("clearing a field");
    field
        .send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("typing into {label:?}: {e}"));
    let typed = field.prop("value").await.expect("the field's value");
    assert_eq!(
        typed.as_deref().map(|v| v.replace("\r\n", "\n")),
        Some(value.to_owned()),
        "what was typed into {label:?}"
    );
}

/// The element at `locator`, which must be on the page.
async fn find(browser: &Client, locator: Locator<'_>) -> Element {
    let what = format!("{locator:?}");
    match browser.find(locator).await {
        Ok(element) => element,
        Err(e) => panic!("no {what} on {}: {e}", here(browser).await),
    }
}

async fn click(browser: &Client, locator: Locator<'_>) {
    let what = format!("{locator:?}");
    find(browser, locator)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {what}: {e}"));
}

async fn text(browser: &Client, locator: Locator<'_>) -> String {
    let element = find(browser, locator).await;
    element.text().await.expect("an element's text")
}

async fn script<T: serde::de::DeserializeOwned>(browser: &Client, js: &str) -> T {
    let value = browser
        .execute(js, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("running {js:?}: {e}"));
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("the result of {js:?}, {value}: {e}"))
}

async fn here(browser: &Client) -> String {
    match browser.current_url().await {
        Ok(url) => url.to_string(),
        Err(e) => format!("(no current URL: {e})"),
    }
}

/// Waits until the browser's URL satisfies `ready` (a page arrived after a click); returns it.
async fn wait_for_url(browser: &Client, what: &str, ready: impl Fn(&url::Url) -> bool) -> url::Url {
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        let url = browser.current_url().await.expect("the current URL");
        let loaded: String = script(browser, "return document.readyState;").await;
        if ready(&url) && loaded == "complete" {
            return url;
        }
        if Instant::now() > deadline {
            let body = text(browser, Locator::Css("body")).await;
            panic!("waited {STEP_LIMIT:?} for {what}; still on {url} ({loaded}):\n{body}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// What every page must be: on this site only (no request to any other host: fonts, scripts,
/// analytics…), and usable on a phone without scrolling sideways.
async fn page_is_sound(app: &TestApp, browser: &Client, what: &str) {
    let origin = format!("{}/", app.base_url());
    // A busy machine may list a resource's timing a moment after the load event: wait for the
    // stylesheet's entry (asserted below) before reading them all.
    let deadline = Instant::now() + STEP_LIMIT;
    let requests = loop {
        let requests: Vec<String> = script(
            browser,
            "return [location.href]
                .concat(performance.getEntriesByType('navigation').map(e => e.name))
                .concat(performance.getEntriesByType('resource').map(e => e.name));",
        )
        .await;
        if Instant::now() > deadline || requests.iter().any(|url| url.ends_with("/static/site.css"))
        {
            break requests;
        }
        tokio::time::sleep(POLL).await;
    };
    let elsewhere: Vec<&String> = requests
        .iter()
        .filter(|url| !url.starts_with(&origin))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "{what} made requests to other hosts than {origin}: {elsewhere:?}"
    );
    assert!(
        requests.iter().any(|url| url.ends_with("/static/site.css")),
        "{what}: the stylesheet is among the page's requests, so the check above saw them: \
         {requests:?}"
    );
    let (page_width, screen_width): (u32, u32) = script(
        browser,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
    )
    .await;
    assert!(
        page_width <= screen_width,
        "{what} is {page_width}px wide on a {screen_width}px phone screen"
    );
}

// ---------------------------------------------------------------------------------------------
// ChromeDriver and Chromium.

/// A `chromedriver` child process on a free port. Dropping it (also when a test panics) kills it
/// and every browser it started, then removes their profiles.
struct ChromeDriver {
    child: Child,
    url: String,
    log: NamedTempFile,
    profiles: Vec<TempDir>,
}

impl ChromeDriver {
    async fn start() -> ChromeDriver {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: the browser test needs Debian's `chromium` and \
                 `chromium-driver` packages (scripts/test.sh installs them; or run \
                 `apt-get install chromium chromium-driver`); package {package}"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port for ChromeDriver")
            .port();
        let log = NamedTempFile::new().expect("a log file for ChromeDriver");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("the log file"))
            .stderr(log.reopen().expect("the log file"))
            // Its own process group, so that the browsers it starts are killed with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            profiles: Vec::new(),
        };
        driver.wait_until_ready().await;
        driver
    }

    /// Polls `/status` until ChromeDriver says it is ready.
    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url);
        let deadline = Instant::now() + STEP_LIMIT;
        loop {
            if let Some(exit) = self.child.try_wait().expect("checking ChromeDriver") {
                panic!("ChromeDriver exited at start ({exit}):\n{}", self.log());
            }
            if let Ok(answer) = http.get(&status).timeout(POLL * 20).send().await
                && let Ok(body) = answer.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "ChromeDriver was not ready within {STEP_LIMIT:?}:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A new browser session: headless Chromium with a fresh profile and a phone-sized window,
    /// preferring Japanese.
    async fn session(&mut self) -> Client {
        let profile = tempfile::Builder::new()
            .prefix("hidamari-chromium-")
            .tempdir()
            .expect("a Chromium profile folder");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", PHONE.0, PHONE.1),
            "--lang=ja".to_owned(),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": { "intl.accept_languages": "ja" },
                // Headless windows are at least 500 pixels wide; a phone's screen is emulated.
                "mobileEmulation": {
                    "deviceMetrics": {
                        "width": PHONE.0, "height": PHONE.1, "pixelRatio": 3.0, "touch": true, "mobile": true,
                    },
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        self.profiles.push(profile);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Chromium could not be started through ChromeDriver ({CHROMIUM}): {e}\n\
                     ChromeDriver's log:\n{}",
                    self.log()
                )
            })
    }

    fn log(&self) -> String {
        let mut text = String::new();
        let _ = self
            .log
            .reopen()
            .and_then(|mut file| file.read_to_string(&mut text));
        text
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole process group: ChromeDriver and the browsers it started.
        // (procps' kill wants `--` before a negative id, or it quietly does nothing.)
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
