//! Following topics and categories: new posts arrive by e-mail, batched, with links that stop
//! them without logging in.

use std::time::Duration;

use crate::common::{Backend, TestApp, spawn_app_with};
use crate::journeys::{first_coordinator, member, member_as, reply, start_topic};

const WAIT: Duration = Duration::from_secs(20);

async fn new_posts_are_mailed_in_one_batch_and_can_be_stopped(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let work = app
        .scalar("SELECT id FROM categories WHERE name = '仕事とお金'")
        .await;

    let topic = start_topic(&hana, work, "職場への伝え方", "どう伝えましたか。").await;
    assert!(
        hana.get(&topic).await.text().contains("フォロー中です"),
        "the author follows the topic"
    );
    let before = app.mail.count();
    for n in 1..=3 {
        reply(&taro, &topic, &format!("返信その{n}です")).await;
    }
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(mail.subject.contains("新しい投稿"), "{}", mail.subject);
    for n in 1..=3 {
        assert!(
            mail.text.contains(&format!("返信その{n}です")),
            "one mail lists all three: {}",
            mail.text
        );
    }
    assert!(
        !mail.text.contains("coord@example.org") && !mail.text.contains("taro@example.org"),
        "no addresses in mails"
    );
    let post_link = mail.link(&format!("{}/p/", app.base_url()));
    let opened = hana.get(&post_link).await;
    assert_eq!(opened.status, 303, "the mail's link leads to the post");

    // The stop link works without logging in, and changes nothing until the button is pressed.
    let stop = mail.link(&format!("{}/unsubscribe/", app.base_url()));
    let stranger = app.client();
    let page = stranger.get(&stop).await;
    assert_eq!(page.status, 200);
    assert!(hana.get(&topic).await.text().contains("フォロー中です"));
    let done = stranger
        .post_form(&stop, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(done.status, 200);
    assert!(done.text().contains("止めました"));
    assert!(!hana.get(&topic).await.text().contains("フォロー中です"));
    let forged = stop.replace(&stop[stop.len() - 4..], "0000");
    assert_eq!(
        app.client().get(&forged).await.status,
        404,
        "a link with a wrong signature is refused"
    );

    // Someone who still follows gets the next post, and hana does not.
    let after = app.mail.count();
    reply(&coordinator, &topic, "スタッフからもひとこと。").await;
    app.mail
        .wait_for(|m| m.seq >= after && m.is_to("taro@example.org"), WAIT)
        .await;
    assert!(
        app.mail
            .messages_to("hana@example.org")
            .iter()
            .all(|m| m.seq < after),
        "hana stopped them"
    );
    app.shutdown().await;
}

async fn category_followers_hear_of_new_topics_they_may_see(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let mother = member_as(
        &app,
        &coordinator,
        "mother@example.org",
        "member",
        "family",
        "はは",
    )
    .await;
    let family_room = app
        .scalar("SELECT id FROM categories WHERE name = '家族の部屋'")
        .await;
    let life = app
        .scalar("SELECT id FROM categories WHERE name = '暮らし'")
        .await;

    // A patient cannot follow the family room: it does not exist for them.
    hana.get("/forums").await;
    assert_eq!(
        hana.post_form(&format!("/c/{family_room}/follow"), &[])
            .await
            .status,
        404
    );
    hana.get(&format!("/c/{life}")).await;
    assert_eq!(
        hana.post_form(&format!("/c/{life}/follow"), &[])
            .await
            .status,
        303
    );
    // Turning reply mail off in the account stops them all.
    mother.get("/account").await;
    let saved = mother
        .post_form(
            "/account/notifications",
            &[
                ("reply", "off"),
                ("mention", "off"),
                ("answer", "now"),
                ("cafe", "now"),
                ("announcement", "now"),
                ("quiet_from", ""),
                ("quiet_until", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    mother.get(&format!("/c/{life}")).await;
    mother.post_form(&format!("/c/{life}/follow"), &[]).await;

    let before = app.mail.count();
    start_topic(&coordinator, life, "春の散歩", "桜がきれいでした。").await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(mail.text.contains("春の散歩"));
    // One more mail, to someone else, after which mother's silence is certain.
    start_topic(&mother, life, "家族として", "見守っています。").await;
    app.mail
        .wait_for(|m| m.seq > mail.seq && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(
        app.mail
            .messages_to("mother@example.org")
            .iter()
            .all(|m| m.seq < before),
        "mother turned reply mail off"
    );
    app.shutdown().await;
}

async fn run(
    backend: Backend,
    story: fn(TestApp) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) {
    let app = spawn_app_with(backend, |config| config.notify_delay_seconds = 2).await;
    story(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_mail_sqlite() {
    run(Backend::Sqlite, |app| {
        Box::pin(new_posts_are_mailed_in_one_batch_and_can_be_stopped(app))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_mail_postgres() {
    run(Backend::Postgres, |app| {
        Box::pin(new_posts_are_mailed_in_one_batch_and_can_be_stopped(app))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_followers_sqlite() {
    run(Backend::Sqlite, |app| {
        Box::pin(category_followers_hear_of_new_topics_they_may_see(app))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_followers_postgres() {
    run(Backend::Postgres, |app| {
        Box::pin(category_followers_hear_of_new_topics_they_may_see(app))
    })
    .await;
}

async fn mentions_link_and_notify_unless_blocked_or_hidden(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    member(&app, &coordinator, "taro@example.org", "たろう").await;
    member(&app, &coordinator, "jiro@example.org", "じろう").await;
    let mother = member_as(
        &app,
        &coordinator,
        "mother@example.org",
        "member",
        "family",
        "はは",
    )
    .await;
    let taro = app
        .scalar("SELECT id FROM users WHERE display_name = 'たろう'")
        .await;
    let jiro = app
        .scalar("SELECT id FROM users WHERE display_name = 'じろう'")
        .await;
    let hana_id = app
        .scalar("SELECT id FROM users WHERE display_name = 'はな'")
        .await;
    app.execute(&format!(
        "INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES ({jiro}, {hana_id}, 0)"
    ))
    .await;
    let chat = app
        .scalar("SELECT id FROM categories WHERE name = '雑談'")
        .await;
    let family_room = app
        .scalar("SELECT id FROM categories WHERE name = '家族の部屋'")
        .await;

    let before = app.mail.count();
    let topic = start_topic(
        &hana,
        chat,
        "こんにちは",
        "@たろう さん、@じろう さん、`@こーでぃ` お元気ですか。",
    )
    .await;
    let page = hana.get(&topic).await;
    let links = page.attrs(".post-body a", "href");
    assert!(
        links.iter().any(|h| h.ends_with(&format!("/u/{taro}"))),
        "a mention links to the member: {links:?}"
    );
    assert_eq!(links.len(), 2, "code is left alone: {links:?}");
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("taro@example.org"), WAIT)
        .await;
    assert!(mail.text.contains("お元気ですか"));
    let profile = hana.get(&format!("/u/{taro}")).await;
    assert_eq!(profile.status, 200);
    assert!(profile.text().contains("たろう") && !profile.body.contains("taro@example.org"));

    // A mention in the family room reaches no one who may not read it.
    start_topic(
        &mother,
        family_room,
        "家族より",
        "@たろう さんにも読んでほしい",
    )
    .await;
    // A later mail to taro proves the earlier ones had their chance.
    let sentinel = app.mail.count();
    start_topic(&hana, chat, "もう一度", "@たろう さん、こちらもどうぞ。").await;
    let last = app
        .mail
        .wait_for(|m| m.seq >= sentinel && m.is_to("taro@example.org"), WAIT)
        .await;
    let to_taro = app.mail.messages_to("taro@example.org");
    assert!(
        to_taro.iter().all(|m| !m.text.contains("読んでほしい")),
        "nothing from a room taro cannot see"
    );
    assert!(last.text.contains("こちらもどうぞ"));
    assert!(
        app.mail
            .messages_to("jiro@example.org")
            .iter()
            .all(|m| m.seq < before),
        "jiro blocks hana: no mail"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_sqlite() {
    run(Backend::Sqlite, |app| {
        Box::pin(mentions_link_and_notify_unless_blocked_or_hidden(app))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_postgres() {
    run(Backend::Postgres, |app| {
        Box::pin(mentions_link_and_notify_unless_blocked_or_hidden(app))
    })
    .await;
}
