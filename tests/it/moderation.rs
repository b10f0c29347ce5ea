//! Moderation on the content pipeline: a new member's first posts wait for review, watched words
//! block, hold or flag (on normalised Japanese and English text), crisis words never block and
//! alert every moderator once, moderators hide, restore and edit with the log written in the same
//! transaction, and content others may not see stays out of every path that shows content.

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};
use crate::journeys::{category_id, member, post_id, reply, start_topic};

struct Team {
    moderator: Browser,
    hana: Browser,
    taro: Browser,
}

async fn team(app: &TestApp) -> Team {
    let (coordinator, moderator) = crate::journeys::staff(app).await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(app, &coordinator, "taro@example.org", "たろう").await;
    Team {
        moderator,
        hana,
        taro,
    }
}

async fn log_rows(app: &TestApp, action: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
    ))
    .await
}

/// Sends a form from the page it is on (so its CSRF token is the page's).
async fn submit(browser: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    browser.get(page).await;
    browser.post_form(action, fields).await
}

async fn first_post_of(app: &TestApp, topic: &str) -> i64 {
    let id = topic.trim_start_matches("/t/");
    app.scalar(&format!("SELECT MIN(id) FROM posts WHERE topic_id = {id}"))
        .await
}

async fn search_finds(browser: &Browser, word: &str) -> bool {
    let query: String = url::form_urlencoded::byte_serialize(word.as_bytes()).collect();
    let page = browser.get(&format!("/search?q={query}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    !page.select("ol.search-results > li").is_empty()
}

/// The count in the staff's header, recounted after the queue changed (soon, not at once).
async fn header_counts(staff: &Browser, expected: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let shown = staff.get("/").await.select(".count-badge");
        if shown == [expected.to_owned()] {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the header shows {shown:?}, not {expected}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn first_posts_wait_for_review(app: TestApp) {
    let team = team(&app).await;
    let living = category_id(&app, "暮らし").await;
    // Taro's topic is from before review was turned on.
    let taro_topic = start_topic(
        &team.taro,
        living,
        "通院の交通費",
        "みなさんどうしていますか",
    )
    .await;
    app.set_review_threshold(2).await;
    let hana_id = app
        .scalar("SELECT id FROM users WHERE email = 'hana@example.org'")
        .await;
    let follow = submit(
        &team.taro,
        &format!("/c/{living}"),
        &format!("/c/{living}/follow"),
        &[("follow", "yes")],
    )
    .await;
    assert_eq!(follow.status, 303, "{}", follow.text());

    // Hana's first topic waits; she sees it with its status, nobody else does.
    let topic = start_topic(
        &team.hana,
        living,
        "はじめまして",
        "乳がんの治療中です。＠たろう さんよろしく",
    )
    .await;
    let first = first_post_of(&app, &topic).await;
    let own = team.hana.get(&topic).await;
    assert_eq!(own.status, 200);
    assert!(
        own.contains("モデレーターが確認してから公開されます"),
        "{}",
        own.text()
    );
    assert!(own.contains("乳がんの治療中です"));
    assert_eq!(
        team.taro.get(&topic).await.status,
        404,
        "others do not see a held topic"
    );
    assert_eq!(team.taro.get(&format!("/p/{first}")).await.status, 404);
    assert!(
        !team
            .taro
            .get(&format!("/c/{living}"))
            .await
            .contains("はじめまして")
    );
    assert!(!team.taro.get("/").await.contains("はじめまして"));
    assert!(!search_finds(&team.taro, "乳がんの治療中").await);
    assert!(
        !team
            .taro
            .get(&format!("/u/{hana_id}"))
            .await
            .contains("はじめまして")
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notifications WHERE post_id = {first}"
        ))
        .await,
        0,
        "neither followers nor the member mentioned hear of a held post"
    );
    let mine = team.hana.get("/me/withheld").await;
    assert!(mine.contains("はじめまして"), "{}", mine.text());

    // A reply to Taro's topic is her second post: it waits too. Her third does not.
    let second = post_id(&reply(&team.hana, &taro_topic, "交通費の助成があるそうです").await);
    assert!(!team.taro.get(&taro_topic).await.contains("交通費の助成"));
    let queue = team.moderator.get("/mod/queue").await;
    assert_eq!(queue.status, 200);
    let items = queue.attrs(".queue-item", "id");
    assert_eq!(
        items,
        vec![format!("item-{first}"), format!("item-{second}")],
        "oldest first"
    );
    assert!(
        queue.contains("公開済みの投稿 0 件"),
        "the author's history: {}",
        queue.text()
    );
    header_counts(&team.moderator, "2").await;
    assert!(
        team.hana.get("/").await.select(".count-badge").is_empty(),
        "staff only"
    );

    // The moderator publishes the first; it appears, and now the follower and the mention are
    // notified, and the log says who published it.
    let approved = submit(
        &team.moderator,
        "/mod/queue",
        &format!("/mod/posts/{first}/approve"),
        &[],
    )
    .await;
    assert_eq!(approved.status, 303);
    assert_eq!(team.taro.get(&topic).await.status, 200);
    assert!(
        team.taro
            .get(&format!("/c/{living}"))
            .await
            .contains("はじめまして")
    );
    assert!(search_finds(&team.taro, "乳がんの治療中").await);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE n.post_id = {first} AND u.email = 'taro@example.org' AND n.mentioned = 1"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.actor_id \
             WHERE a.action = 'post.approved' AND a.target_kind = 'post' AND a.target_id = {first} \
             AND u.email = 'mod@example.org'"
        ))
        .await,
        1
    );
    // Approving again changes nothing and writes nothing.
    let again = submit(
        &team.moderator,
        "/mod/queue",
        &format!("/mod/posts/{first}/approve"),
        &[],
    )
    .await;
    assert_eq!(again.status, 303);
    assert_eq!(log_rows(&app, "post.approved").await, 1);

    header_counts(&team.moderator, "1").await;
    // Two posts published: the next goes straight through.
    submit(
        &team.moderator,
        "/mod/queue",
        &format!("/mod/posts/{second}/approve"),
        &[],
    )
    .await;
    let third = post_id(&reply(&team.hana, &taro_topic, "三つめの投稿です").await);
    assert!(
        team.taro
            .get(&taro_topic)
            .await
            .contains("三つめの投稿です")
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {third} AND status = 'published'"
        ))
        .await,
        1
    );
    // A member may not see the queue or act on it.
    assert_eq!(team.hana.get("/mod/queue").await.status, 404);
    let refused = submit(
        &team.hana,
        &topic,
        &format!("/mod/posts/{first}/hide"),
        &[("reason", "x")],
    )
    .await;
    assert_eq!(refused.status, 404);
    app.shutdown().await;
}
both_databases!(first_posts_wait_for_review);

async fn watched_words_block_hold_and_flag(app: TestApp) {
    let team = team(&app).await;
    let living = category_id(&app, "暮らし").await;
    for (word, action) in [
        ("casino", "block"),
        ("とっこうやく", "hold"),
        ("サプリ", "flag"),
    ] {
        let added = submit(
            &team.moderator,
            "/mod/words",
            "/mod/words",
            &[("word", word), ("action", action)],
        )
        .await;
        assert_eq!(added.status, 303, "{}", added.text());
    }
    let topic = start_topic(&team.taro, living, "情報交換", "よろしくお願いします").await;
    let posts_before = app.scalar("SELECT COUNT(*) FROM posts").await;

    // Block: refused with the word named, the text kept, nothing stored (full-width letters).
    team.hana.get(&topic).await;
    let blocked = team
        .hana
        .post_form(
            &topic,
            &[("body", "ＣＡＳＩＮＯで稼げます"), ("action", "post")],
        )
        .await;
    assert_eq!(blocked.status, 422);
    assert!(
        blocked.contains("「casino」を含む投稿はできません"),
        "{}",
        blocked.text()
    );
    assert_eq!(
        blocked.select("textarea[name=body]"),
        vec!["ＣＡＳＩＮＯで稼げます".to_owned()]
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM posts").await, posts_before);
    // Hold: katakana matches the hiragana word; it waits for review.
    let held = post_id(&reply(&team.hana, &topic, "これはトッコウヤクです").await);
    assert!(!team.taro.get(&topic).await.contains("トッコウヤク"));
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {held} AND status = 'held' AND status_reason = 'watched_word'"
        ))
        .await,
        1
    );
    // Flag: published, and in the queue's flagged section until a moderator looks.
    let flagged = post_id(&reply(&team.hana, &topic, "さぷりを試しました").await);
    assert!(team.taro.get(&topic).await.contains("さぷりを試しました"));
    let queue = team.moderator.get("/mod/queue").await;
    assert!(
        queue
            .attrs(".queue-item", "id")
            .contains(&format!("item-{flagged}"))
    );
    let cleared = submit(
        &team.moderator,
        "/mod/queue",
        &format!("/mod/posts/{flagged}/clear-flag"),
        &[],
    )
    .await;
    assert_eq!(cleared.status, 303);
    assert!(
        !team
            .moderator
            .get("/mod/queue")
            .await
            .attrs(".queue-item", "id")
            .contains(&format!("item-{flagged}"))
    );

    // An edit that brings in a blocked word is refused and changes nothing.
    let edit = format!("/p/{flagged}/edit");
    let refused = submit(
        &team.hana,
        &edit,
        &edit,
        &[("body", "casino!"), ("action", "save")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(team.taro.get(&topic).await.contains("さぷりを試しました"));
    app.shutdown().await;
}
both_databases!(watched_words_block_hold_and_flag);

async fn a_post_in_crisis_goes_through_and_alerts_every_moderator_once(app: TestApp) {
    let team = team(&app).await;
    let living = category_id(&app, "暮らし").await;
    let topic = start_topic(
        &team.taro,
        living,
        "眠れない夜",
        "みなさんはどうしていますか",
    )
    .await;
    let before = app.mail.count();
    team.hana.get(&topic).await;
    let sent = team
        .hana
        .post_form(
            &topic,
            &[
                ("body", "もう ｗａｎｔ ｔｏ ｄｉｅ と思ってしまう"),
                ("action", "post"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    assert_eq!(
        sent.redirect_path(),
        "/support",
        "the writer is shown where to find help"
    );
    let support = team.hana.get("/support").await;
    assert!(
        support.contains("投稿は公開されました"),
        "{}",
        support.text()
    );
    assert!(support.contains("よりそいホットライン"));
    assert!(
        team.taro.get(&topic).await.contains("と思ってしまう"),
        "never blocked or held"
    );

    for address in ["mod@example.org", "coord@example.org"] {
        let mail = app
            .mail
            .wait_for(|m| m.seq >= before && m.is_to(address), MAIL_WAIT)
            .await;
        assert!(mail.subject.contains("至急"), "{}", mail.subject);
        assert!(
            !mail.text.contains("と思ってしまう"),
            "no post text in the mail"
        );
    }
    let urgent = |address: &'static str| {
        let app = &app;
        async move {
            app.scalar(&format!(
                "SELECT COUNT(*) FROM outbox WHERE recipient = '{address}' AND subject LIKE '%至急%'"
            ))
            .await
        }
    };
    assert_eq!(urgent("mod@example.org").await, 1);
    assert_eq!(urgent("coord@example.org").await, 1);
    assert_eq!(urgent("hana@example.org").await, 0);

    // The queue marks it urgent until a moderator acknowledges it; the acknowledgement is logged.
    let queue = team.moderator.get("/mod/queue").await;
    assert_eq!(queue.select(".card.urgent").len(), 1, "{}", queue.text());
    let alert = app.scalar("SELECT id FROM alerts").await;
    let acknowledged = submit(
        &team.moderator,
        "/mod/queue",
        &format!("/mod/alerts/{alert}/acknowledge"),
        &[],
    )
    .await;
    assert_eq!(acknowledged.status, 303);
    assert!(
        team.moderator
            .get("/mod/queue")
            .await
            .select(".card.urgent")
            .is_empty()
    );
    assert_eq!(log_rows(&app, "alert.acknowledged").await, 1);
    app.shutdown().await;
}
both_databases!(a_post_in_crisis_goes_through_and_alerts_every_moderator_once);

async fn moderators_hide_restore_and_edit_with_history(app: TestApp) {
    let team = team(&app).await;
    let living = category_id(&app, "暮らし").await;
    let topic = start_topic(
        &team.taro,
        living,
        "職場への伝え方",
        "上司にどう伝えましたか",
    )
    .await;
    let post = post_id(&reply(&team.hana, &topic, "人事の山田さんの電話番号は090です").await);
    let moderate = format!("/mod/posts/{post}");
    let hana_id = app
        .scalar("SELECT id FROM users WHERE email = 'hana@example.org'")
        .await;
    let staff_view = team.moderator.get(&topic).await;
    assert!(
        staff_view
            .attrs(".post-meta strong a", "href")
            .contains(&format!("/mod/members/{hana_id}")),
        "staff reach a post's author from the post"
    );
    assert!(
        team.taro
            .get(&topic)
            .await
            .attrs(".post-meta strong a", "href")
            .is_empty()
    );

    // A reason is required; without one nothing changes and nothing is logged.
    let refused = submit(
        &team.moderator,
        &moderate,
        &format!("{moderate}/hide"),
        &[("reason", "  ")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("理由を書いてください"));
    assert_eq!(log_rows(&app, "post.hidden").await, 0);

    let hidden = submit(
        &team.moderator,
        &moderate,
        &format!("{moderate}/hide"),
        &[("reason", "個人の連絡先が含まれていたため")],
    )
    .await;
    assert_eq!(hidden.status, 303);
    let seen = team.taro.get(&topic).await;
    assert!(seen.contains("この投稿はモデレーターにより非表示になりました"));
    assert!(!seen.contains("090"), "the text is not sent to others");
    assert!(!search_finds(&team.taro, "山田さん").await);
    let own = team.hana.get(&topic).await;
    assert!(
        own.contains("個人の連絡先が含まれていたため"),
        "the author sees why"
    );
    assert!(
        !own.contains(crate::journeys::MODERATOR_NAME),
        "never which moderator"
    );
    assert!(
        team.hana
            .get("/me/withheld")
            .await
            .contains("個人の連絡先が含まれていたため")
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'post.hidden' AND target_id = {post} \
             AND reason = '個人の連絡先が含まれていたため' \
             AND subject_user_id = (SELECT id FROM users WHERE email = 'hana@example.org')"
        ))
        .await,
        1
    );

    let restored = submit(
        &team.moderator,
        &moderate,
        &format!("{moderate}/restore"),
        &[],
    )
    .await;
    assert_eq!(restored.status, 303);
    assert!(team.taro.get(&topic).await.contains("人事の山田さん"));
    assert_eq!(log_rows(&app, "post.restored").await, 1);

    // An edit by a moderator: a note on the post, the original in the history, a log row.
    let edit = format!("/p/{post}/edit");
    let edited = submit(
        &team.moderator,
        &edit,
        &edit,
        &[
            (
                "body",
                "人事の担当者に相談しました（連絡先はモデレーターが削除）",
            ),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(edited.status, 303, "{}", edited.text());
    let seen = team.taro.get(&topic).await;
    assert!(seen.contains("モデレーターが編集"));
    assert!(!seen.contains("090"));
    let history = team.moderator.get(&format!("/p/{post}/history")).await;
    assert!(history.contains("人事の山田さんの電話番号は090です"));
    assert_eq!(log_rows(&app, "post.edited_by_moderator").await, 1);
    app.shutdown().await;
}
both_databases!(moderators_hide_restore_and_edit_with_history);
