//! Around the posts: reactions of support, staff pinning and closing topics, unread markers and
//! "new since your last visit", and blocking another member.

use crate::common::{Browser, TestApp};
use crate::journeys::{category_id, first_coordinator, invite, join, member, reply, start_topic};

async fn post_id(app: &TestApp, body: &str) -> i64 {
    app.scalar(&format!(
        "SELECT MIN(id) FROM posts WHERE body_markdown = '{body}'"
    ))
    .await
}

/// Presses a reaction button under post `post` on the topic page `topic`.
async fn react(browser: &Browser, topic: &str, post: i64, kind: &str) -> u16 {
    browser.get(topic).await;
    browser
        .post_form(&format!("/p/{post}/react"), &[("kind", kind)])
        .await
        .status
        .as_u16()
}

/// The count shown on a reaction button of a post, read from the topic page.
fn count(page: &crate::common::Page, post: i64, kind: &str) -> String {
    page.select(&format!(
        "#post-{post} button[value={kind}] .count, #post-{post} span.reaction .count"
    ))
    .into_iter()
    .next()
    .unwrap_or_default()
}

async fn reactions_are_toggled_counted_per_kind_and_show_who(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let chat = category_id(&app, "雑談").await;
    let topic = start_topic(&hana, chat, "今日の調子", "少し歩けました").await;
    let post = post_id(&app, "少し歩けました").await;

    assert_eq!(react(&taro, &topic, post, "thanks").await, 303);
    assert_eq!(react(&taro, &topic, post, "cheer").await, 303);
    assert_eq!(react(&coordinator, &topic, post, "thanks").await, 303);
    let page = taro.get(&topic).await;
    let thanks = page
        .select(&format!("#post-{post} button[value=thanks]"))
        .join("");
    assert!(
        thanks.contains("ありがとう") && thanks.contains('2'),
        "{thanks}"
    );
    assert_eq!(count(&page, post, "empathy"), "0");
    assert_eq!(count(&page, post, "cheer"), "1");
    assert_eq!(
        page.attr(&format!("#post-{post} button[value=cheer]"), "aria-pressed")
            .as_deref(),
        Some("true"),
        "the reader sees what they gave"
    );
    let who = page.select(&format!("#post-{post} details.reactors li"));
    assert!(
        who.iter()
            .any(|l| l.contains("ありがとう") && l.contains("たろう") && l.contains("こーでぃ")),
        "{who:?}"
    );
    assert!(
        who.iter()
            .any(|l| l.contains("応援してます") && l.contains("たろう")),
        "{who:?}"
    );

    // Pressing again takes it back: one of each kind per member.
    assert_eq!(react(&taro, &topic, post, "thanks").await, 303);
    let page = hana.get(&topic).await;
    assert_eq!(count(&page, post, "thanks"), "1");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM post_reactions WHERE post_id = {post}"
        ))
        .await,
        2
    );
    // The author sees the counts, without buttons; and cannot thank themselves.
    assert!(
        page.select(&format!("#post-{post} form[action$='/react']"))
            .is_empty()
    );
    assert_eq!(react(&hana, &topic, post, "thanks").await, 403);
    // Unknown kinds, deleted posts and posts one may not see are refused.
    assert_eq!(react(&taro, &topic, post, "like").await, 400);
    hana.get(&topic).await;
    assert_eq!(
        hana.post_form(&format!("/p/{post}/delete"), &[])
            .await
            .status,
        303
    );
    assert_eq!(react(&taro, &topic, post, "empathy").await, 404);
    let page = taro.get(&topic).await;
    assert!(page.select(&format!("#post-{post} .reactions")).is_empty());
    let family_room = category_id(&app, "家族の部屋").await;
    let family_topic = start_topic(&coordinator, family_room, "家族の話", "家族だけの話").await;
    let family_post = post_id(&app, "家族だけの話").await;
    assert_eq!(react(&taro, "/", family_post, "thanks").await, 404);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM post_reactions WHERE post_id = {family_post}"
        ))
        .await,
        0
    );
    assert_eq!(taro.get(&family_topic).await.status, 404);

    // English is complete.
    taro.get("/").await;
    taro.post_form("/preferences", &[("locale", "en")]).await;
    hana.get(&topic).await;
    let second = start_topic(&hana, chat, "Hello", "A good day").await;
    let second_post = post_id(&app, "A good day").await;
    assert_eq!(react(&taro, &second, second_post, "empathy").await, 303);
    let page = taro.get(&second).await;
    assert!(
        page.text().contains("I feel the same") && page.text().contains("See who sent support"),
        "{}",
        page.text()
    );
    app.shutdown().await;
}
both_databases!(reactions_are_toggled_counted_per_kind_and_show_who);

async fn staff_pin_and_close_topics_and_closed_topics_take_no_replies(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let link = invite(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
    )
    .await;
    let moderator = join(&app, &link, "もでれーた").await;
    let life = category_id(&app, "暮らし").await;
    let older = start_topic(&hana, life, "古い話題", "前からある話").await;
    let newer = start_topic(&hana, life, "新しい話題", "最近の話").await;
    let older_id: i64 = older.trim_start_matches("/t/").parse().expect("an id");

    // Members see no staff tools, and the staff routes do not exist for them.
    let page = hana.get(&older).await;
    assert!(page.select(".staff-tools").is_empty());
    for action in ["pin", "unpin", "close", "reopen"] {
        hana.get(&older).await;
        let refused = hana.post_form(&format!("{older}/{action}"), &[]).await;
        assert_eq!(refused.status, 404, "{action}");
    }
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM topics WHERE pinned_at IS NOT NULL OR closed_at IS NOT NULL"
        )
        .await,
        0
    );

    // A moderator pins the older topic: it lists first.
    let page = moderator.get(&older).await;
    assert_eq!(page.select(".staff-tools button").len(), 2);
    let pinned = moderator.post_form(&format!("{older}/pin"), &[]).await;
    assert_eq!(pinned.status, 303);
    let list = hana.get(&format!("/c/{life}")).await;
    let titles = list.select(".topic-title");
    assert!(
        titles[0].contains("古い話題") && titles[0].contains("固定"),
        "{titles:?}"
    );
    assert!(titles[1].contains("新しい話題"), "{titles:?}");

    // Closed: no replies, for anyone; reopened: replies again.
    moderator.get(&older).await;
    assert_eq!(
        moderator
            .post_form(&format!("{older}/close"), &[])
            .await
            .status,
        303
    );
    let page = hana.get(&older).await;
    assert!(page.select("textarea[name=body]").is_empty());
    let refused = hana
        .post_form(&older, &[("body", "締め切り後の返信"), ("action", "post")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM posts WHERE body_markdown = '締め切り後の返信'")
            .await,
        0
    );
    coordinator.get(&older).await;
    assert_eq!(
        coordinator
            .post_form(&format!("{older}/reopen"), &[])
            .await
            .status,
        303
    );
    coordinator.get(&older).await;
    assert_eq!(
        coordinator
            .post_form(&format!("{older}/unpin"), &[])
            .await
            .status,
        303
    );
    reply(&hana, &older, "再開後の返信").await;
    let titles = hana.get(&format!("/c/{life}")).await.select(".topic-title");
    assert!(!titles.iter().any(|t| t.contains("固定")), "{titles:?}");
    let _ = newer;

    // Each change is one audit line, written by the one who made it.
    for (action, actor) in [
        ("topic.pinned", "もでれーた"),
        ("topic.closed", "もでれーた"),
        ("topic.reopened", "こーでぃ"),
        ("topic.unpinned", "こーでぃ"),
    ] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.actor_id \
                 WHERE a.action = '{action}' AND u.display_name = '{actor}' \
                 AND a.target_kind = 'topic' AND a.target_id = {older_id}"
            ))
            .await,
            1,
            "{action}"
        );
    }
    app.shutdown().await;
}
both_databases!(staff_pin_and_close_topics_and_closed_topics_take_no_replies);

async fn unread_markers_appear_and_clear_and_home_shows_what_is_new(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let work = category_id(&app, "仕事とお金").await;
    let home = taro.get("/").await;
    assert!(home.text().contains("前回から新しい投稿はありません"));

    let topic = start_topic(&hana, work, "復職のこと", "復職して一か月です").await;
    let first = post_id(&app, "復職して一か月です").await;
    // The writer has nothing new; the other member has.
    assert!(hana.get("/").await.select(".new-topics li").is_empty());
    let home = taro.get("/").await;
    let items = home.select(".new-topics li");
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].contains("復職のこと") && items[0].contains("新着 1件"));
    assert_eq!(
        home.attr(".new-topics a", "href"),
        Some(format!("/p/{first}"))
    );
    let list = taro.get(&format!("/c/{work}")).await;
    assert_eq!(list.select(".topics .tag.new"), vec!["新着 1件".to_owned()]);

    // Reading the topic clears both.
    taro.get(&topic).await;
    assert!(taro.get("/").await.select(".new-topics li").is_empty());
    assert!(
        taro.get(&format!("/c/{work}"))
            .await
            .select(".topics .tag.new")
            .is_empty()
    );

    // Two replies: counted, the home link goes to the first of them, and the topic marks them.
    reply(&hana, &topic, "職場の理解がありがたいです").await;
    reply(&hana, &topic, "時短勤務にしました").await;
    let next = post_id(&app, "職場の理解がありがたいです").await;
    let list = taro.get(&format!("/c/{work}")).await;
    assert_eq!(list.select(".topics .tag.new"), vec!["新着 2件".to_owned()]);
    let home = taro.get("/").await;
    assert_eq!(
        home.attr(".new-topics a", "href"),
        Some(format!("/p/{next}"))
    );
    let permalink = taro.get(&format!("/p/{next}")).await;
    assert!(
        permalink
            .location()
            .is_some_and(|to| to.ends_with(&format!("#post-{next}")))
    );
    let page = taro.get(&topic).await;
    assert_eq!(page.select("li.post .tag.new").len(), 2);
    assert!(page.select(&format!("#post-{first} .tag.new")).is_empty());
    // Seen now: nothing is new on the next visit.
    let page = taro.get(&topic).await;
    assert!(page.select("li.post .tag.new").is_empty());
    assert!(taro.get("/").await.select(".new-topics li").is_empty());

    // Topics in categories the member may not see never show as new.
    let family_room = category_id(&app, "家族の部屋").await;
    start_topic(&coordinator, family_room, "家族だけの話題", "ひみつ").await;
    let home = taro.get("/").await;
    assert!(!home.text().contains("家族だけの話題"));
    assert!(
        !coordinator
            .get("/")
            .await
            .select(".new-topics")
            .concat()
            .contains("家族だけの話題"),
        "one's own posts are not new (they are among the latest topics)"
    );
    assert!(hana.get("/").await.select(".new-topics li").is_empty());

    // English.
    reply(&hana, &topic, "また書きます").await;
    taro.get("/").await;
    taro.post_form("/preferences", &[("locale", "en")]).await;
    let home = taro.get("/").await;
    assert!(
        home.text().contains("New since your last visit") && home.text().contains("1 new"),
        "{}",
        home.text()
    );
    app.shutdown().await;
}
both_databases!(unread_markers_appear_and_clear_and_home_shows_what_is_new);

async fn blocking_folds_posts_for_the_blocker_only_and_can_be_undone(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let chat = category_id(&app, "雑談").await;
    let topic = start_topic(&hana, chat, "雑談しましょう", "はなの書いた文章").await;
    reply(&taro, &topic, "たろうの返事").await;
    let hana_post = post_id(&app, "はなの書いた文章").await;
    let taro_post = post_id(&app, "たろうの返事").await;
    let hana_id = app
        .scalar("SELECT id FROM users WHERE display_name = 'はな'")
        .await;
    let taro_id = app
        .scalar("SELECT id FROM users WHERE display_name = 'たろう'")
        .await;

    // From the post's author line, with a confirmation page.
    let page = taro.get(&topic).await;
    assert_eq!(
        page.attr(&format!("#post-{hana_post} a.block-link"), "href"),
        Some(format!("/p/{hana_post}/block"))
    );
    assert!(
        page.select(&format!("#post-{taro_post} a.block-link"))
            .is_empty(),
        "not oneself"
    );
    let confirm = taro.get(&format!("/p/{hana_post}/block")).await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.text().contains("「はな」さんをブロックしますか")
            && confirm.text().contains("相手の方には知らされません"),
        "{}",
        confirm.text()
    );
    assert_eq!(
        taro.get(&format!("/p/{taro_post}/block")).await.status,
        404,
        "no one blocks themselves"
    );
    let blocked = taro.post_form(&format!("/p/{hana_post}/block"), &[]).await;
    assert_eq!(blocked.status, 303);

    // Folded for the blocker, who can still open it.
    let page = taro.get(&topic).await;
    let folded = page.select(&format!("#post-{hana_post} details.blocked-post"));
    assert_eq!(folded.len(), 1, "{}", page.body);
    assert!(
        folded[0].contains("ブロックしている人の投稿です")
            && folded[0].contains("はなの書いた文章")
    );
    assert!(page.text().contains("ブロックしました"));
    assert!(
        page.select(&format!("#post-{taro_post} details.blocked-post"))
            .is_empty()
    );
    // Nothing changes for anyone else, and the blocked member is not told.
    for other in [&hana, &coordinator] {
        let page = other.get(&topic).await;
        assert!(page.select("details.blocked-post").is_empty());
        assert!(!page.text().contains("ブロックしている"));
    }
    assert!(!hana.get("/").await.text().contains("ブロック"));
    assert!(!hana.get("/account/blocks").await.text().contains("たろう"));

    // The API notifications use: either direction counts; filtering keeps the others.
    {
        let mut conn = app.db().conn().await.expect("a connection");
        assert!(
            hidamari::db::blocks::either_blocks(conn.exec(), hana_id, taro_id)
                .await
                .expect("either_blocks")
        );
        assert!(
            hidamari::db::blocks::either_blocks(conn.exec(), taro_id, hana_id)
                .await
                .expect("either_blocks")
        );
        let coordinator_id = app
            .scalar("SELECT id FROM users WHERE display_name = 'こーでぃ'")
            .await;
        let recipients =
            hidamari::db::blocks::without_blocks(conn.exec(), hana_id, &[taro_id, coordinator_id])
                .await
                .expect("without_blocks");
        assert_eq!(recipients, vec![coordinator_id]);
    }

    // Listed on the account's page, and undone there.
    let account = taro.get("/account").await;
    assert_eq!(
        account.attr("a[href='/account/blocks']", "href").as_deref(),
        Some("/account/blocks")
    );
    let list = taro.get("/account/blocks").await;
    assert!(list.text().contains("はな"), "{}", list.text());
    let undone = taro
        .post_form(&format!("/account/blocks/{hana_id}/unblock"), &[])
        .await;
    assert_eq!(undone.status, 303);
    let list = taro.get("/account/blocks").await;
    assert!(list.text().contains("ブロックしている人はいません"));
    let page = taro.get(&topic).await;
    assert!(page.select("details.blocked-post").is_empty());
    assert!(
        page.select(".post-body")
            .join("")
            .contains("はなの書いた文章")
    );
    taro.get("/account/blocks").await;
    assert_eq!(
        taro.post_form(&format!("/account/blocks/{hana_id}/unblock"), &[])
            .await
            .status,
        404,
        "nothing left to undo"
    );
    app.shutdown().await;
}
both_databases!(blocking_folds_posts_for_the_blocker_only_and_can_be_undone);
