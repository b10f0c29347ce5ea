//! Notification preferences, read as the SMTP peer receives the mail: each kind off, at once or
//! in the daily digest; quiet hours that hold mail until they end (never account mail); the
//! one-click unsubscribe turning off exactly its kind; the list of notifications with its
//! unread count, checked again as it is listed.
//!
//! Notifications gather for an hour here, so nothing goes out on its own: each story runs the
//! mailer at the moment it names (a time in the night, the digest's hour).

use std::time::Duration;

use hidamari::notify::{Kind, Notice, rules};

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{category_id, first_coordinator, member, post_id, reply, start_topic};

const WAIT: Duration = Duration::from_secs(20);

/// Notices gather for an hour: nothing is mailed unless a story runs the mailer.
fn gathering(config: &mut hidamari::config::Config) {
    config.notify_delay_seconds = 3600;
}

/// Runs the mailer as it would run at `at`, replies counted as gathered.
async fn mail_at(app: &TestApp, at: i64) {
    hidamari::notify::mailer::mail_due_at(app.app(), 0, at)
        .await
        .expect("writing the notification mails");
}

fn now() -> i64 {
    hidamari::db::now()
}

async fn user_id(app: &TestApp, name: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM users WHERE display_name = '{name}'"
    ))
    .await
}

async fn outbox_to(app: &TestApp, address: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM outbox WHERE recipient = '{address}'"
    ))
    .await
}

/// Saves every kind's mode and the quiet hours (hours, "" for none) from the account page.
async fn choose(browser: &Browser, modes: [&str; 5], quiet: (&str, &str)) -> Page {
    browser.get("/account").await;
    let mut fields: Vec<(&str, &str)> = Kind::ALL.iter().map(|k| k.as_str()).zip(modes).collect();
    fields.push(("quiet_from", quiet.0));
    fields.push(("quiet_until", quiet.1));
    browser.post_form("/account/notifications", &fields).await
}

/// The number in the header's notifications link, if any.
async fn unread_badge(browser: &Browser) -> Option<i64> {
    browser
        .get("/account")
        .await
        .select("a[href=\"/notifications\"] .count-badge")
        .first()
        .map(|n| n.parse().expect("a number"))
}

fn one_click(mail: &crate::common::Message) -> String {
    mail.header("List-Unsubscribe")
        .expect("List-Unsubscribe")
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

async fn announce(coordinator: &Browser, title: &str, body: &str) {
    coordinator.get("/admin/announcements").await;
    let posted = coordinator
        .post_form(
            "/admin/announcements",
            &[("title", title), ("body", body), ("email", "on")],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.text());
}

/// A question of `asker` answered (published) in a slot of its own; returns the question's id.
async fn answered_question(app: &TestApp, asker: i64, n: i64) -> i64 {
    let slot = app
        .scalar(
            "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
             created_at) SELECT MIN(id), '休職の相談', 0, 4000000000, 3900000000, 5, 0 FROM users \
             RETURNING id",
        )
        .await;
    let question = app
        .scalar(&format!(
            "INSERT INTO qa_questions (slot_id, asker_id, body, shared, anonymous, status, \
             created_at) VALUES ({slot}, {asker}, '質問{n}', 1, 1, 'accepted', 0) RETURNING id"
        ))
        .await;
    app.execute(&format!(
        "INSERT INTO qa_answers (question_id, slot_id, expert_id, body_markdown, body_html, \
         status, seq, published_at, updated_at) SELECT {question}, {slot}, MIN(id), '回答です', \
         '<p>回答です</p>', 'published', 1, 0, 0 FROM users"
    ))
    .await;
    question
}

/// An answer from the expert Q&A, through the API its service calls in its unit of work.
async fn answer(app: &TestApp, asker: i64, n: i64, title: &str) -> i64 {
    let question = answered_question(app, asker, n).await;
    let mut work = app.app().work().await.expect("a unit of work");
    let path = format!("/qa/questions/{question}");
    hidamari::notify::member(&mut work, asker, Notice::answer(question, title, &path))
        .await
        .expect("notifying");
    work.commit().await.expect("commit");
    question
}

async fn each_kind_follows_its_preference(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let hana_id = user_id(&app, "はな").await;
    let chat = category_id(&app, "雑談").await;

    // Hana's invitation is the only mail to her so far.
    let invited = outbox_to(&app, "hana@example.org").await;
    // Replies in the digest, no mention mail, announcements and answers at once.
    let saved = choose(&hana, ["digest", "off", "now", "now", "now"], ("", "")).await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let settings = hana.get("/account").await;
    assert_eq!(
        settings.attrs("input[name=reply][checked]", "value"),
        vec!["digest"]
    );
    assert_eq!(
        settings.attrs("input[name=mention][checked]", "value"),
        vec!["off"]
    );

    let topic = start_topic(&hana, chat, "冬の過ごし方", "寒くなりましたね。").await;
    reply(&taro, &topic, "温かいお茶がおすすめです").await;
    start_topic(&taro, chat, "相談", "@はなさん、どう思いますか。").await;
    mail_at(&app, now()).await;
    assert_eq!(
        outbox_to(&app, "hana@example.org").await,
        invited,
        "the reply waits for the digest, the mention is not mailed"
    );

    // An announcement goes at once, and its one-click link turns off announcements only.
    let before = app.mail.count();
    announce(&coordinator, "年末のお休み", "12月29日から休みます。").await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(mail.text.contains("年末のお休み"), "{}", mail.text);
    let link = one_click(&mail);
    assert!(
        link.contains(&format!("/unsubscribe/{hana_id}/kannouncement/")),
        "{link}"
    );

    // An expert's answer, through the Q&A's call, goes at once too.
    let before = app.mail.count();
    answer(&app, hana_id, 41, "傷病手当金のこと").await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(
        mail.subject.contains("ご相談に回答がありました"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("傷病手当金のこと"), "{}", mail.text);
    assert!(one_click(&mail).contains("/kanswer/"));

    // The digest at the next digest hour holds the reply once, and not the mention.
    let tz = app.config().time_zone.clone();
    let morning = rules::next_digest(&tz, now());
    let before = app.mail.count();
    mail_at(&app, morning).await;
    let digest = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(digest.subject.contains("まとめ"), "{}", digest.subject);
    assert!(
        digest.text.contains("温かいお茶がおすすめです"),
        "{}",
        digest.text
    );
    assert!(!digest.text.contains("どう思いますか"), "{}", digest.text);
    assert!(one_click(&digest).contains("/kreply/"));
    let mailed = outbox_to(&app, "hana@example.org").await;
    mail_at(&app, morning + 86_400).await;
    assert_eq!(
        outbox_to(&app, "hana@example.org").await,
        mailed,
        "each item is in one digest only"
    );

    // The announcement's one-click POST (no session) turns announcements off, nothing else.
    let provider = app.client();
    let done = provider
        .post_raw(
            &link,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let settings = hana.get("/account").await;
    assert_eq!(
        settings.attrs("input[name=announcement][checked]", "value"),
        vec!["off"]
    );
    assert_eq!(
        settings.attrs("input[name=reply][checked]", "value"),
        vec!["digest"],
        "the other kinds stay as they were"
    );
    let before = app.mail.count();
    announce(
        &coordinator,
        "新年のごあいさつ",
        "今年もよろしくお願いします。",
    )
    .await;
    app.mail
        .wait_for(|m| m.seq >= before && m.is_to("taro@example.org"), WAIT)
        .await;
    assert_eq!(
        outbox_to(&app, "hana@example.org").await,
        mailed,
        "no announcement mail to hana"
    );
    let list = hana.get("/notifications").await;
    assert!(
        list.text().contains("新年のごあいさつ"),
        "it is still in her notifications: {}",
        list.text()
    );
    app.shutdown().await;
}
both_databases!(each_kind_follows_its_preference, configure = gathering);

async fn quiet_hours_hold_mail_until_they_end(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let hana_id = user_id(&app, "はな").await;
    let chat = category_id(&app, "雑談").await;
    let tz = app.config().time_zone.clone();

    let invited = outbox_to(&app, "hana@example.org").await;
    // Quiet hours that hold the present moment: from this hour for two hours.
    let hour = rules::local_minute(&tz, now()) / 60;
    let (from, until) = (hour.to_string(), ((hour + 2) % 24).to_string());
    let saved = choose(&hana, ["now", "now", "now", "now", "now"], (&from, &until)).await;
    assert_eq!(saved.status, 303, "{}", saved.text());

    let before = app.mail.count();
    announce(&coordinator, "相談会のお知らせ", "来週あります。").await;
    app.mail
        .wait_for(|m| m.seq >= before && m.is_to("taro@example.org"), WAIT)
        .await;
    let topic = start_topic(&hana, chat, "眠れない夜", "最近よく眠れません。").await;
    let by_taro = post_id(&reply(&taro, &topic, "ぬるめのお風呂はどうでしょう").await);
    reply(&taro, &topic, "散歩もいいですよ").await;
    mail_at(&app, now()).await;
    assert_eq!(
        outbox_to(&app, "hana@example.org").await,
        invited,
        "nothing is mailed in quiet hours"
    );

    // Account mail is never held.
    let visitor = app.client();
    visitor.get("/reset").await;
    let before = app.mail.count();
    visitor
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;
    let reset = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(reset.text.contains("/reset/"), "{}", reset.text);

    // Taro's first reply is deleted while the mail waits: when the window ends, what is left
    // goes out, checked again then.
    taro.get(&topic).await;
    assert_eq!(
        taro.post_form(&format!("/p/{by_taro}/delete"), &[])
            .await
            .status,
        303
    );
    let quiet = Some((hour * 60, ((hour + 2) % 24) * 60));
    let end = rules::quiet_ends(&tz, quiet, now());
    assert!(end > now(), "the window is still on");
    mail_at(&app, end - 60).await;
    assert_eq!(
        outbox_to(&app, "hana@example.org").await,
        invited + 1,
        "still held (the one more is the reset)"
    );
    let before = app.mail.count();
    mail_at(&app, end).await;
    let to_hana = |text: &'static str| {
        move |m: &crate::common::Message| {
            m.seq >= before && m.is_to("hana@example.org") && m.text.contains(text)
        }
    };
    let replies = app.mail.wait_for(to_hana("散歩もいいですよ"), WAIT).await;
    assert!(
        !replies.text.contains("ぬるめのお風呂"),
        "the deleted reply is left out: {}",
        replies.text
    );
    app.mail.wait_for(to_hana("相談会のお知らせ"), WAIT).await;

    // A preference changed while mail waits is what counts when the mail is written.
    reply(&taro, &topic, "夜のあいだの返信です").await;
    let saved = choose(&hana, ["off", "now", "now", "now", "now"], (&from, &until)).await;
    assert_eq!(saved.status, 303);
    let count = outbox_to(&app, "hana@example.org").await;
    mail_at(&app, end + 60).await;
    assert_eq!(outbox_to(&app, "hana@example.org").await, count);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = {hana_id} AND mailed_at IS NULL"
        ))
        .await,
        0,
        "handled, not mailed"
    );
    app.shutdown().await;
}
both_databases!(quiet_hours_hold_mail_until_they_end, configure = gathering);

async fn the_list_shows_what_may_be_seen_with_an_unread_count(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let jiro = member(&app, &coordinator, "jiro@example.org", "じろう").await;
    let hana_id = user_id(&app, "はな").await;
    let chat = category_id(&app, "雑談").await;

    assert_eq!(unread_badge(&hana).await, None);
    let topic = start_topic(&hana, chat, "通院の記録", "今日は検査でした。").await;
    let hidden = post_id(&reply(&taro, &topic, "おつかれさまでした").await);
    reply(&taro, &topic, "ゆっくり休んでください").await;
    let by_jiro = post_id(&reply(&jiro, &topic, "じろうです").await);
    start_topic(&taro, chat, "質問です", "@はなさん、教えてください。").await;
    assert_eq!(unread_badge(&hana).await, Some(4));

    // Hana blocks jiro; a moderator hides one of taro's replies.
    hana.get(&format!("/p/{by_jiro}/block")).await;
    assert_eq!(
        hana.post_form(&format!("/p/{by_jiro}/block"), &[])
            .await
            .status,
        303
    );
    coordinator.get(&format!("/mod/posts/{hidden}")).await;
    let hid = coordinator
        .post_form(
            &format!("/mod/posts/{hidden}/hide"),
            &[("reason", "個人の情報が含まれていたため")],
        )
        .await;
    assert_eq!(hid.status, 303, "{}", hid.text());
    hana.get("/").await; // the block's confirmation, which names jiro, is shown here
    let list = hana.get("/notifications").await;
    let items = list.select("ul.notices li a");
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items
            .iter()
            .any(|i| i.contains("たろうさんが「通院の記録」に投稿しました"))
    );
    assert!(items.iter().any(|i| i.contains("あなたの名前を書きました")));
    assert!(
        !list.text().contains("じろう"),
        "a blocked writer does not show"
    );
    assert_eq!(
        unread_badge(&hana).await,
        Some(2),
        "the hidden post and the blocked writer are counted out"
    );

    // Opening an item marks it read and leads to the post; nobody else opens it.
    let links = list.attrs("ul.notices li a", "href");
    let opened = hana.get(&links[0]).await;
    assert_eq!(opened.status, 303);
    assert!(opened.location().is_some_and(|l| l.starts_with("/p/")));
    assert_eq!(taro.get(&links[1]).await.status, 404, "someone else's");
    let list = hana.get("/notifications").await;
    assert_eq!(list.select("ul.notices li.unread").len(), 1);

    // Mark all read; then pages of 20.
    assert_eq!(hana.post_form("/notifications/read", &[]).await.status, 303);
    assert_eq!(unread_badge(&hana).await, None);
    let first_answer = answer(&app, hana_id, 1, "相談1").await;
    for n in 2..=21 {
        answer(&app, hana_id, n, &format!("相談{n}")).await;
    }
    assert_eq!(unread_badge(&hana).await, Some(21));
    let first = hana.get("/notifications").await;
    assert_eq!(first.select("ul.notices li").len(), 20);
    assert!(first.text().contains("相談21"));
    let second = hana.get("/notifications?page=2").await;
    assert_eq!(second.select("ul.notices li").len(), 3);
    assert!(second.text().contains("相談1」"), "{}", second.text());
    // An answer hidden since is not listed any more.
    app.execute(&format!(
        "UPDATE qa_answers SET status = 'hidden' WHERE question_id = {first_answer}"
    ))
    .await;
    let second = hana.get("/notifications?page=2").await;
    assert_eq!(second.select("ul.notices li").len(), 2);
    assert!(!second.text().contains("相談1」"), "{}", second.text());

    // Bad input gets a clear error and changes nothing.
    let bad = hana.get("/notifications?page=にページ").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.text().contains("内容を読み取れませんでした"),
        "{}",
        bad.text()
    );
    assert_eq!(hana.get("/notifications/99999").await.status, 404);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = {hana_id} AND read_at IS NULL"
        ))
        .await,
        21,
        "bad input changed nothing"
    );
    app.shutdown().await;
}
both_databases!(
    the_list_shows_what_may_be_seen_with_an_unread_count,
    configure = gathering
);

async fn bad_preferences_get_clear_errors_and_change_nothing(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let hana_id = user_id(&app, "はな").await;
    let chat = category_id(&app, "雑談").await;
    let stored = || async {
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notify_prefs WHERE user_id = {hana_id}"
        ))
        .await
            + app
                .scalar(&format!(
                    "SELECT COUNT(*) FROM users WHERE id = {hana_id} AND quiet_from IS NOT NULL"
                ))
                .await
    };

    let one_end = choose(&hana, ["now", "now", "now", "now", "now"], ("22", "")).await;
    assert_eq!(one_end.status, 422);
    assert!(
        one_end.text().contains("始まりと終わりの両方を選ぶか"),
        "{}",
        one_end.text()
    );
    assert_eq!(
        one_end.attrs("select[name=quiet_from] option[selected]", "value"),
        vec!["22"],
        "what was chosen stays"
    );
    let same = choose(&hana, ["now", "now", "now", "now", "now"], ("7", "7")).await;
    assert_eq!(same.status, 422);
    assert!(same.text().contains("ちがう時刻"));
    let unknown = choose(&hana, ["sometimes", "now", "now", "now", "now"], ("", "")).await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.text().contains("受け取り方を選んでください"));
    let missing = hana
        .post_form("/account/notifications", &[("reply", "off")])
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(stored().await, 0, "nothing was saved");

    // In English, in English.
    hana.get("/account").await;
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let english = choose(&hana, ["now", "now", "now", "now", "now"], ("", "25")).await;
    assert_eq!(english.status, 422);
    assert!(
        english
            .text()
            .contains("Please choose a time from the list."),
        "{}",
        english.text()
    );
    assert_eq!(stored().await, 0);

    // The page a mail's stop link opens changes every kind, checked the same way.
    let topic = start_topic(&hana, chat, "週末", "何をしますか。").await;
    reply(&taro, &topic, "本を読みます").await;
    let before = app.mail.count();
    mail_at(&app, now()).await;
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    let link = one_click(&mail);
    let stranger = app.client();
    let page = stranger.get(&link).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.select("input[name=cafe][type=radio]").len(), 3);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let settings = format!("{link}/settings");
    let bad = stranger
        .post_raw(
            &settings,
            &form,
            "reply=off&mention=off&answer=off&cafe=off&announcement=never&quiet_from=&quiet_until=",
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    assert!(
        bad.text().contains("受け取り方を選んでください"),
        "{}",
        bad.text()
    );
    assert_eq!(stored().await, 0, "nothing was saved");
    let forged = stranger
        .post_raw(
            &format!("{}0000/settings", &link[..link.len() - 4]),
            &form,
            "reply=off&mention=off&answer=off&cafe=off&announcement=off&quiet_from=&quiet_until=",
        )
        .await;
    assert_eq!(forged.status, 404);
    assert_eq!(stored().await, 0);
    let good = stranger
        .post_raw(
            &settings,
            &form,
            "reply=digest&mention=off&answer=now&cafe=off&announcement=digest&quiet_from=22&quiet_until=7",
        )
        .await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(stored().await, 6, "five kinds and the quiet hours");
    let settings = hana.get("/account").await;
    assert_eq!(
        settings.attrs("input[name=announcement][checked]", "value"),
        vec!["digest"]
    );
    assert_eq!(
        settings.attrs("select[name=quiet_until] option[selected]", "value"),
        vec!["7"]
    );
    app.shutdown().await;
}
both_databases!(
    bad_preferences_get_clear_errors_and_change_nothing,
    configure = gathering
);

async fn cafe_reminders_follow_each_members_preference(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let jiro = member(&app, &coordinator, "jiro@example.org", "じろう").await;
    let room = app
        .scalar("SELECT id FROM cafe_rooms WHERE name = 'みんなのカフェ'")
        .await;
    let starts = now() + 600;
    app.execute(&format!(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, created_at) \
         VALUES ({room}, {starts}, {}, 0)",
        starts + 3 * 86_400
    ))
    .await;
    let session = app.scalar("SELECT MAX(id) FROM cafe_sessions").await;
    for browser in [&hana, &taro, &jiro] {
        browser.get("/cafe").await;
        let asked = browser
            .post_form(
                &format!("/cafe/sessions/{session}/remind"),
                &[("remind", "on")],
            )
            .await;
        assert_eq!(asked.status, 303, "{}", asked.text());
    }
    assert_eq!(
        choose(&taro, ["now", "now", "now", "off", "now"], ("", ""))
            .await
            .status,
        303
    );
    assert_eq!(
        choose(&jiro, ["now", "now", "now", "digest", "now"], ("", ""))
            .await
            .status,
        303
    );
    let taro_before = outbox_to(&app, "taro@example.org").await;
    let jiro_before = outbox_to(&app, "jiro@example.org").await;

    let before = app.mail.count();
    let reminded = hidamari::cafe::reminders::send_due(app.app())
        .await
        .expect("reminders");
    assert_eq!(reminded, 3, "each reminder is handled once");
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("hana@example.org"), WAIT)
        .await;
    assert!(
        mail.subject.contains("まもなくカフェが始まります"),
        "{}",
        mail.subject
    );
    assert!(one_click(&mail).contains("/kcafe/"), "{}", one_click(&mail));
    assert_eq!(
        outbox_to(&app, "taro@example.org").await,
        taro_before,
        "off"
    );
    assert_eq!(
        outbox_to(&app, "jiro@example.org").await,
        jiro_before,
        "waits for the digest"
    );
    assert!(
        hana.get("/notifications")
            .await
            .select("ul.notices li")
            .is_empty(),
        "reminders are mail only"
    );

    let tz = app.config().time_zone.clone();
    let before = app.mail.count();
    mail_at(&app, rules::next_digest(&tz, now())).await;
    let digest = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to("jiro@example.org"), WAIT)
        .await;
    assert!(digest.text.contains("みんなのカフェ"), "{}", digest.text);
    assert!(one_click(&digest).contains("/kcafe/"));
    assert_eq!(outbox_to(&app, "taro@example.org").await, taro_before);
    app.shutdown().await;
}
both_databases!(
    cafe_reminders_follow_each_members_preference,
    configure = gathering
);
