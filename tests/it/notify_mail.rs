//! The mail about new posts, read as the SMTP peer receives it: what it counts is what it lists,
//! it says why each topic is in it, posts that may no longer reach the reader are left out when
//! it is written, and its one-click unsubscribe stops what it is about and nothing else.
//! Mentions: honorifics and full-width signs, a bounded cost, names suggested while typing.
//!
//! Notifications gather for an hour here, so nothing goes out on its own; each story mails what
//! is waiting when it chooses, as the mailer does once the delay has passed.

use std::time::Duration;

use crate::common::{Browser, Message, TestApp, spawn_app_with};
use crate::journeys::{
    PASSWORD, category_id, first_coordinator, invite, member, post_id, reply, start_topic,
};

const WAIT: Duration = Duration::from_secs(20);

/// The site's configured name here, not the default, so a name written into a page or a mail
/// shows.
const SITE: &str = "こもれび広場";

/// `stories!(name, story)`: the tests `name::sqlite` and `name::postgres`, on an app whose
/// notifications wait for [`mail_waiting`].
macro_rules! stories {
    ($name:ident, $story:ident) => {
        mod $name {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run($crate::common::Backend::Sqlite, super::$story).await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::run($crate::common::Backend::Postgres, super::$story).await;
            }
        }
    };
}

async fn run<F, Fut>(backend: crate::common::Backend, story: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let app = spawn_app_with(backend, |config| {
        config.notify_delay_seconds = 3600;
        config.site_name = SITE.to_owned();
    })
    .await;
    if tokio::time::timeout(crate::common::STORY_LIMIT, story(app))
        .await
        .is_err()
    {
        panic!("the story did not finish in time on {backend:?}");
    }
}

/// Writes the mails for every notification waiting now.
async fn mail_waiting(app: &TestApp) {
    hidamari::notify::mailer::mail_due(app.app(), 0)
        .await
        .expect("writing the notification mails");
}

async fn user_id(app: &TestApp, name: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM users WHERE display_name = '{name}'"
    ))
    .await
}

async fn block_author_of(browser: &Browser, post: i64) {
    assert_eq!(browser.get(&format!("/p/{post}/block")).await.status, 200);
    let done = browser.post_form(&format!("/p/{post}/block"), &[]).await;
    assert_eq!(done.status, 303, "blocking: {}", done.text());
}

async fn mails_to(app: &TestApp, address: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM outbox WHERE recipient = '{address}'"
    ))
    .await
}

/// The number a mail's opening line gives ("…が3件あります").
fn counted(mail: &Message) -> usize {
    let line = mail
        .text
        .lines()
        .find(|l| l.contains("件あります"))
        .unwrap_or_else(|| panic!("no count in {}", mail.text));
    let digits: String = line
        .split("件あります")
        .next()
        .unwrap_or_default()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().expect("a count")
}

fn post_links(app: &TestApp, mail: &Message) -> Vec<String> {
    mail.links(&app.url("/p/"))
}

async fn waiting_mail_is_checked_again_for_blocks_and_visibility(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let jiro = member(&app, &coordinator, "jiro@example.org", "じろう").await;
    let kenta = member(&app, &coordinator, "kenta@example.org", "けんた").await;
    let chat = category_id(&app, "雑談").await;
    let work = category_id(&app, "仕事とお金").await;

    let topic = start_topic(&hana, chat, "近況", "みなさんお元気ですか。").await;
    reply(&taro, &topic, "たろうの返信です").await;
    let by_jiro = post_id(&reply(&jiro, &topic, "じろうの返信です").await);
    let by_kenta = post_id(&reply(&kenta, &topic, "けんたの返信です").await);
    reply(&coordinator, &topic, "スタッフの返信です").await;
    start_topic(
        &coordinator,
        work,
        "閉じる部屋",
        "@はなさん、見てください。",
    )
    .await;

    // While the mail waits: hana blocks jiro, taro blocks hana (the other direction), kenta
    // deletes his reply, and the coordinator archives the category of the mention.
    block_author_of(&hana, by_jiro).await;
    let hana_id = user_id(&app, "はな").await;
    let by_hana = app
        .scalar(&format!(
            "SELECT MIN(id) FROM posts WHERE author_id = {hana_id}"
        ))
        .await;
    block_author_of(&taro, by_hana).await;
    kenta.get(&topic).await;
    assert_eq!(
        kenta
            .post_form(&format!("/p/{by_kenta}/delete"), &[])
            .await
            .status,
        303
    );
    coordinator.get("/admin/categories").await;
    assert_eq!(
        coordinator
            .post_form(&format!("/admin/categories/{work}/archive"), &[])
            .await
            .status,
        303
    );

    let before = app.mail.count();
    mail_waiting(&app).await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(mail.text.contains("スタッフの返信です"), "{}", mail.text);
    for gone in [
        "たろうの返信です",
        "じろうの返信です",
        "けんたの返信です",
        "見てください",
    ] {
        assert!(
            !mail.text.contains(gone),
            "{gone} is left out: {}",
            mail.text
        );
        assert!(
            !mail.html.contains(gone),
            "{gone} is left out of the HTML too"
        );
    }
    assert_eq!(counted(&mail), 1, "{}", mail.text);
    assert_eq!(post_links(&app, &mail).len(), 1);

    // A mail with nothing left in it is not sent at all.
    let yuki = member(&app, &coordinator, "yuki@example.org", "ゆき").await;
    let by_yuki = post_id(&reply(&yuki, &topic, "ゆきの返信です").await);
    block_author_of(&hana, by_yuki).await;
    let queued = mails_to(&app, "hana@example.org").await;
    mail_waiting(&app).await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM notifications WHERE mailed_at IS NULL")
            .await,
        0,
        "the notification was handled"
    );
    assert_eq!(
        mails_to(&app, "hana@example.org").await,
        queued,
        "no empty mail"
    );
    app.shutdown().await;
}
stories!(
    waiting_mail_rechecks_blocks,
    waiting_mail_is_checked_again_for_blocks_and_visibility
);

async fn one_mail_says_why_lists_what_it_counts_and_stops_only_its_follows(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let hana_id = user_id(&app, "はな").await;
    let chat = category_id(&app, "雑談").await;
    let life = category_id(&app, "暮らし").await;
    let work = category_id(&app, "仕事とお金").await;

    hana.get(&format!("/c/{life}")).await;
    assert_eq!(
        hana.post_form(&format!("/c/{life}/follow"), &[])
            .await
            .status,
        303
    );
    let followed = start_topic(&hana, chat, "通院の日", "今日は通院でした。").await;
    let kept = start_topic(&hana, chat, "ごはんの話", "最近の食事です。").await;
    reply(&taro, &followed, "おつかれさまでした").await;
    reply(&taro, &followed, "ゆっくり休んでください").await;
    start_topic(&taro, life, "散歩のすすめ", "短い散歩から。").await;
    start_topic(&taro, work, "職場のこと", "@はなさん、ご意見ください。").await;

    let before = app.mail.count();
    mail_waiting(&app).await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    let text = &mail.text;
    assert_eq!(counted(&mail), 4, "{text}");
    assert_eq!(
        post_links(&app, &mail).len(),
        4,
        "every counted post is listed: {text}"
    );
    for excerpt in [
        "おつかれさまでした",
        "ゆっくり休んでください",
        "短い散歩から",
        "ご意見ください",
    ] {
        assert!(text.contains(excerpt), "{excerpt}: {text}");
    }
    assert_eq!(
        text.matches("たろうさん（").count(),
        4,
        "author and time: {text}"
    );
    // Grouped by topic, each with its reason.
    let section = |title: &str| {
        let start = text
            .find(&format!("■ 話題「{title}」"))
            .unwrap_or_else(|| panic!("no section for {title}: {text}"));
        let rest = &text[start + "■".len()..];
        rest[..rest.find("■ 話題").unwrap_or(rest.len())].to_owned()
    };
    let clinic = section("通院の日");
    assert!(clinic.contains("この話題をフォローしています"), "{clinic}");
    assert!(clinic.contains("おつかれさまでした") && clinic.contains("ゆっくり休んでください"));
    assert!(
        clinic.contains("この話題についてのメールを止める"),
        "{clinic}"
    );
    let walk = section("散歩のすすめ");
    assert!(
        walk.contains("カテゴリー「暮らし」をフォローしています"),
        "{walk}"
    );
    assert!(
        walk.contains("カテゴリー「暮らし」についてのメールを止める"),
        "{walk}"
    );
    let mention = section("職場のこと");
    assert!(
        mention.contains("あなたの名前が書かれています"),
        "{mention}"
    );
    assert!(
        !mention.contains("メールを止める"),
        "a mention follows nothing: {mention}"
    );
    assert!(text.contains("すべてのお知らせメールの設定"));
    assert_eq!(
        mail.link(&app.url("/account")),
        app.url("/account#notify-heading")
    );

    // The headers a mail program needs for one-click unsubscribe: it turns off the kinds of
    // mail this one carries (new posts and a mention), and nothing else.
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    let prefix = format!(
        "<{}",
        app.url(&format!("/unsubscribe/{hana_id}/kreply-kmention/"))
    );
    assert!(
        header.starts_with(&prefix) && header.ends_with('>'),
        "{header}"
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    // The next mail is about new posts only: its one-click POST, with no session, no token and
    // no Origin, turns that kind of mail off; follows and mentions stay.
    reply(&taro, &kept, "おいしそうですね").await;
    let before = app.mail.count();
    mail_waiting(&app).await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert_eq!(counted(&mail), 1);
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    let link = header
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert!(link.contains(&format!("/{hana_id}/kreply/")), "{link}");
    let provider = app.client();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let page = provider.get(&link).await;
    assert_eq!(page.status, 200, "the link's page changes nothing");
    assert!(
        page.text()
            .contains("フォローしている話題やカテゴリーへの新しい投稿"),
        "it names the kind of mail: {}",
        page.text()
    );
    let wrong = provider
        .post_raw(&link, &form, "List-Unsubscribe=Yes")
        .await;
    assert_eq!(wrong.status, 400);
    let forged = format!("{}0000", &link[..link.len() - 4]);
    let forged = provider
        .post_raw(&forged, &form, "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(forged.status, 404);
    let checked = |page: &crate::common::Page, kind: &str| {
        page.attrs(&format!("input[name={kind}][checked]"), "value")
    };
    assert_eq!(checked(&hana.get("/account").await, "reply"), vec!["now"]);
    // As RFC 8058 says a mail program SHOULD send it: multipart/form-data.
    let boundary = "one-click-boundary";
    let multipart = format!("multipart/form-data; boundary={boundary}");
    let done = provider
        .post_raw(
            &link,
            &[("Content-Type", multipart.as_str())],
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
                 One-Click\r\n--{boundary}--\r\n"
            ),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let settings = hana.get("/account").await;
    assert_eq!(
        checked(&settings, "reply"),
        vec!["off"],
        "reply mail is off"
    );
    for kind in ["mention", "answer", "cafe", "announcement"] {
        assert_eq!(checked(&settings, kind), vec!["now"], "{kind} is unchanged");
    }
    assert!(
        hana.get(&kept).await.text().contains("フォロー中です"),
        "the follow stays"
    );
    // The settings the mail links to list every follow, each with its own button.
    assert_eq!(
        settings.select(".follows li a"),
        vec![
            "話題「通院の日」",
            "話題「ごはんの話」",
            "カテゴリー「暮らし」"
        ],
    );
    let unfollowed = hana
        .post_form(
            &format!("/c/{life}/follow"),
            &[("follow", "no"), ("back", "settings")],
        )
        .await;
    assert_eq!(unfollowed.status, 303);
    assert!(
        unfollowed
            .location()
            .is_some_and(|l| l.ends_with("/account#notify-heading")),
        "back to the settings"
    );
    assert_eq!(
        hana.get("/account").await.select(".follows li a"),
        vec!["話題「通院の日」", "話題「ごはんの話」"]
    );

    // With reply mail off, a new post in a followed topic is not mailed; a mention still is, and
    // a mail only of mentions says so in its subject; its one-click link turns mentions off.
    reply(&taro, &followed, "まだ届きますか").await;
    start_topic(&taro, chat, "質問", "＠はな様、教えてください。").await;
    let before = app.mail.count();
    mail_waiting(&app).await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(
        mail.subject.contains("あなたの名前が書かれた投稿"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("教えてください"), "{}", mail.text);
    assert!(!mail.text.contains("まだ届きますか"), "{}", mail.text);
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    assert!(
        header.contains(&format!("/unsubscribe/{hana_id}/kmention/")),
        "{header}"
    );

    // Someone hammering the signed links is slowed down.
    let bogus = format!("/unsubscribe/{hana_id}/t1/00");
    let mut limited = false;
    for _ in 0..200 {
        if provider.get(&bogus).await.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "signed links are rate-limited");
    app.shutdown().await;
}
stories!(
    one_mail_says_why,
    one_mail_says_why_lists_what_it_counts_and_stops_only_its_follows
);

async fn mentions_with_honorifics_full_width_and_spaces(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let suzuki = member(&app, &coordinator, "suzuki@example.org", "すずき").await;
    member(&app, &coordinator, "hanako@example.org", "ひだまり 花子").await;
    let suzuki_id = user_id(&app, "すずき").await;
    let hanako_id = user_id(&app, "ひだまり 花子").await;
    let chat = category_id(&app, "雑談").await;

    let topic = start_topic(
        &hana,
        chat,
        "ごあいさつ",
        "@すずきさん、＠ひだまり 花子さま、こんにちは。",
    )
    .await;
    let links = hana.get(&topic).await.attrs(".post-body a", "href");
    assert!(
        links
            .iter()
            .any(|h| h.ends_with(&format!("/u/{suzuki_id}"))),
        "{links:?}"
    );
    assert!(
        links
            .iter()
            .any(|h| h.ends_with(&format!("/u/{hanako_id}"))),
        "{links:?}"
    );
    let before = app.mail.count();
    mail_waiting(&app).await;
    for address in ["suzuki@example.org", "hanako@example.org"] {
        let mail = app
            .mail
            .wait_for(|m| m.seq >= before && m.is_to(address), WAIT)
            .await;
        assert!(
            mail.text.contains("あなたの名前が書かれています"),
            "{}",
            mail.text
        );
    }

    // Whatever the body, the cost is bounded: ten thousand signs, and a hundred mentions of
    // one name, post as usual and notify once.
    let signs = start_topic(&hana, chat, "記号", &"@".repeat(10_000)).await;
    assert_eq!(hana.get(&signs).await.status, 200);
    start_topic(&hana, chat, "たくさん", &"@すずきさん ".repeat(100)).await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = {suzuki_id} AND mailed_at IS NULL"
        ))
        .await,
        1
    );

    // Names are suggested while typing: members only, any width, no blocked members.
    let suggest = |q: &str| format!("/members/suggest?q={}", url_escape(q));
    let names = |page: crate::common::Page| -> Vec<String> {
        page.json()["names"]
            .as_array()
            .expect("names")
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names(hana.get(&suggest("すず")).await), vec!["すずき"]);
    assert_eq!(
        names(hana.get(&suggest("ひだまり花")).await),
        vec!["ひだまり 花子"]
    );
    assert_eq!(
        names(hana.get(&suggest("ひだまり　花")).await),
        vec!["ひだまり 花子"]
    );
    assert_eq!(app.client().get(&suggest("すず")).await.status, 303);
    let by_hana = app
        .scalar(&format!(
            "SELECT MIN(id) FROM posts WHERE author_id = {}",
            user_id(&app, "はな").await
        ))
        .await;
    suzuki.get(&topic).await;
    block_author_of(&suzuki, by_hana).await;
    assert!(
        names(hana.get(&suggest("すず")).await).is_empty(),
        "suzuki blocks hana"
    );
    for n in 0..12 {
        app.execute(&format!(
            "INSERT INTO users (email, display_name, display_name_key, password_hash, role, relation, created_at, updated_at) \
             VALUES ('sato{n}@example.org', 'さとう{n}', 'さとう{n}', 'x', 'member', 'patient', 0, 0)"
        ))
        .await;
    }
    assert_eq!(
        names(hana.get(&suggest("さと")).await).len(),
        8,
        "a few at most"
    );
    let mut limited = false;
    for _ in 0..100 {
        if hana.get(&suggest("さと")).await.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "suggestions are rate-limited");
    app.shutdown().await;
}
stories!(
    mentions_honorifics,
    mentions_with_honorifics_full_width_and_spaces
);

fn url_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn the_site_is_named_as_configured_in_pages_and_mails(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let before = app.mail.count();
    let link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let invitation = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    let visitor = app.client();
    let join = visitor.get(&link).await;
    assert_eq!(
        join.select("h1"),
        vec![format!("{SITE}へようこそ")],
        "the invitation page"
    );
    assert!(join.select("title")[0].ends_with(SITE));
    let joined = visitor
        .post_form(
            &link,
            &[
                ("display_name", "はな"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.status, 303);
    let chat = category_id(&app, "雑談").await;
    let topic = start_topic(&visitor, chat, "ごあいさつ", "よろしくお願いします。").await;
    reply(&coordinator, &topic, "ようこそ").await;
    let before = app.mail.count();
    mail_waiting(&app).await;
    let notice = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    for mail in [&invitation, &notice] {
        assert!(mail.subject.contains(SITE), "{}", mail.subject);
        assert!(mail.text.contains(SITE), "{}", mail.text);
        assert!(!mail.text.contains("陽だまり"), "{}", mail.text);
    }
    assert_eq!(
        visitor.get("/").await.select(".brand"),
        vec![SITE.to_owned()]
    );
    app.shutdown().await;
}
stories!(
    site_name,
    the_site_is_named_as_configured_in_pages_and_mails
);
