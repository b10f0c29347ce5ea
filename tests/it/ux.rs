//! The rough edges members and coordinators meet: deleting a post and revoking an invitation ask
//! first, the home page never goes blank, a topic can be started from the forum index, and a
//! topic's title can be edited with its first post.

use crate::common::TestApp;
use crate::journeys::{
    category_id, first_coordinator, invite, member, member_as, reply, start_topic,
};

async fn deleting_a_post_asks_first(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let topic = start_topic(
        &hana,
        category_id(&app, "暮らし").await,
        "眠れない夜",
        "最初の投稿です。",
    )
    .await;
    let landed = reply(&hana, &topic, "消すかもしれない返信です。").await;
    let post = landed.rsplit("#post-").next().expect("a post anchor");

    // The topic page links to a confirmation; no button there deletes.
    let page = hana.get(&topic).await;
    let delete_link = format!("/p/{post}/delete");
    assert!(
        page.attrs(".post-actions a", "href").contains(&delete_link),
        "{:?}",
        page.attrs(".post-actions a", "href")
    );
    assert!(
        page.attrs(&format!("form[action='{delete_link}']"), "action")
            .is_empty(),
        "one tap must not delete"
    );

    // The confirmation shows the post and a clearly labelled button, and changes nothing.
    let confirm = hana.get(&delete_link).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    assert!(
        confirm.contains("この投稿を削除しますか"),
        "{}",
        confirm.text()
    );
    assert!(confirm.select(".confirm-subject")[0].contains("消すかもしれない返信です。"));
    assert_eq!(confirm.select("button.danger"), vec!["削除する".to_owned()]);
    assert_eq!(
        confirm.attrs(
            &format!("form[method=post][action='{delete_link}']"),
            "action"
        ),
        vec![delete_link.clone()],
        "the button posts to the one address that deletes"
    );
    let cancel = confirm
        .attr(".buttons a", "href")
        .expect("a way back without deleting");
    assert!(cancel.ends_with(&format!("#post-{post}")), "{cancel}");
    let deleted =
        format!("SELECT COUNT(*) FROM posts WHERE id = {post} AND deleted_at IS NOT NULL");
    assert_eq!(app.scalar(&deleted).await, 0);
    assert!(
        hana.get(&topic)
            .await
            .contains("消すかもしれない返信です。")
    );

    // Someone else's post: no confirmation either.
    assert_eq!(taro.get(&delete_link).await.status, 403);

    // In English too.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let english = hana.get(&delete_link).await;
    assert!(english.contains("Delete this post?"), "{}", english.text());
    assert_eq!(
        english.select("button.danger"),
        vec!["Delete the post".to_owned()]
    );

    // The confirmation's button deletes.
    let done = hana.post_form(&delete_link, &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(app.scalar(&deleted).await, 1);
    let after = hana.follow(&done).await;
    assert!(after.contains("This post was deleted."), "{}", after.text());
    assert_eq!(hana.get(&delete_link).await.status, 404, "gone already");
    app.shutdown().await;
}
both_databases!(deleting_a_post_asks_first);

async fn revoking_an_invitation_asks_first(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let id = app
        .scalar("SELECT id FROM invitations WHERE email = 'hana@example.org'")
        .await;
    let revoke = format!("/admin/invitations/{id}/revoke");
    let list = coordinator.get("/admin/invitations").await;
    assert!(list.attrs("a", "href").contains(&revoke));
    assert!(
        list.attrs(&format!("form[action='{revoke}']"), "action")
            .is_empty(),
        "one tap must not revoke"
    );

    let confirm = coordinator.get(&revoke).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    assert!(confirm.contains("この招待を取り消しますか"));
    assert!(confirm.select(".confirm-subject")[0].contains("hana@example.org"));
    assert_eq!(
        confirm.select("button.danger"),
        vec!["招待を取り消す".to_owned()]
    );
    assert_eq!(
        confirm.attr(".buttons a", "href").as_deref(),
        Some("/admin/invitations")
    );
    let revoked =
        format!("SELECT COUNT(*) FROM invitations WHERE id = {id} AND revoked_at IS NOT NULL");
    assert_eq!(
        app.scalar(&revoked).await,
        0,
        "the first tap changes nothing"
    );
    assert_eq!(app.client().get(&link).await.status, 200);
    let viewed = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'invitation.viewed' AND target_kind = 'invitation' AND target_id = {id}"
    );
    assert_eq!(
        app.scalar(&viewed).await,
        1,
        "showing the address is written down"
    );

    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    let english = coordinator.get(&revoke).await;
    assert!(
        english.contains("Revoke this invitation?"),
        "{}",
        english.text()
    );
    assert_eq!(
        english.select("button.danger"),
        vec!["Revoke the invitation".to_owned()]
    );

    let done = coordinator.post_form(&revoke, &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(app.scalar(&revoked).await, 1);
    assert_eq!(app.client().get(&link).await.status, 410);
    let again = coordinator.get(&revoke).await;
    assert_eq!(again.status, 403, "nothing left to revoke");
    assert!(again.contains("Nothing was changed"), "{}", again.text());
    app.shutdown().await;
}
both_databases!(revoking_an_invitation_asks_first);

async fn the_home_page_lists_the_latest_topics_under_the_new_ones(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let family = member_as(
        &app,
        &coordinator,
        "family@example.org",
        "member",
        "family",
        "かぞく",
    )
    .await;
    let chat = category_id(&app, "雑談").await;
    let older = start_topic(&hana, chat, "昨日の散歩", "桜が咲いていました。").await;
    let newer = start_topic(&hana, chat, "今日のおやつ", "みなさんは何を食べましたか。").await;
    start_topic(
        &family,
        category_id(&app, "家族の部屋").await,
        "家族だけの相談",
        "ひみつ",
    )
    .await;

    // Unread: listed as new, and not again among the latest.
    taro.get(&older).await;
    let home = taro.get("/").await;
    assert_eq!(home.select(".new-topics li").len(), 1, "{}", home.text());
    assert_eq!(
        home.attrs(".latest-topics a", "href"),
        vec![older.clone()],
        "{}",
        home.text()
    );
    // Everything read: the page still shows the latest topics, newest activity first, only
    // from categories taro may see.
    taro.get(&newer).await;
    let home = taro.get("/").await;
    assert!(home.select(".new-topics li").is_empty(), "{}", home.text());
    assert!(home.contains("前回から新しい投稿はありません。"));
    assert!(home.contains("最近の話題"), "{}", home.text());
    assert_eq!(
        home.attrs(".latest-topics a", "href"),
        vec![newer.clone(), older.clone()]
    );
    let latest = home.select(".latest-topics li");
    assert!(
        latest[0].contains("今日のおやつ") && latest[0].contains("雑談"),
        "{latest:?}"
    );
    assert!(!home.contains("家族だけの相談"), "{}", home.text());
    // A reply moves a topic up (times are kept to the second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    reply(&hana, &older, "続きです。").await;
    taro.get(&older).await;
    let home = taro.get("/").await;
    assert_eq!(
        home.attrs(".latest-topics a", "href"),
        vec![older.clone(), newer.clone()]
    );

    // The family member, once through everything, sees the family room's topic too; in English.
    family.get(&older).await;
    family.get(&newer).await;
    family.post_form("/preferences", &[("locale", "en")]).await;
    let home = family.get("/").await;
    let latest = home.select(".latest-topics li").join(" | ");
    assert!(
        latest.contains("今日のおやつ") && latest.contains("家族だけの相談"),
        "{latest}"
    );
    assert!(home.contains("Latest topics"), "{}", home.text());
    app.shutdown().await;
}
both_databases!(the_home_page_lists_the_latest_topics_under_the_new_ones);

async fn a_topic_starts_from_the_forum_index_in_a_chosen_category(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let index = hana.get("/forums").await;
    assert!(index.attrs("a", "href").contains(&"/forums/new".to_owned()));

    let form = hana.get("/forums/new").await;
    assert_eq!(form.status, 200);
    let offered = form.select("select[name=category] option");
    assert!(offered.contains(&"仕事とお金".to_owned()), "{offered:?}");
    assert!(
        !offered
            .iter()
            .any(|o| o == "家族の部屋" || o == "専門家とスタッフ"),
        "only categories she may post in: {offered:?}"
    );
    let topics = "SELECT COUNT(*) FROM topics";
    let post = |category: &str| {
        let category = category.to_owned();
        let hana = &hana;
        async move {
            hana.post_form(
                "/forums/new",
                &[
                    ("category", category.as_str()),
                    ("title", "職場への伝え方"),
                    ("body", "どう話しましたか。"),
                    ("action", "post"),
                ],
            )
            .await
        }
    };

    // No category chosen: the form comes back with what was typed and what to fix.
    let missing = post("").await;
    assert_eq!(missing.status, 422);
    assert!(
        missing.contains("カテゴリーを選んでください。"),
        "{}",
        missing.text()
    );
    assert_eq!(
        missing.attr("input[name=title]", "value").as_deref(),
        Some("職場への伝え方")
    );
    // A category she may not post in, an unknown one, or one that is not a number: a clear
    // error that does not tell which, and nothing is made.
    let family_room = category_id(&app, "家族の部屋").await.to_string();
    let staff_room = category_id(&app, "専門家とスタッフ").await.to_string();
    for hostile in [
        family_room.as_str(),
        staff_room.as_str(),
        "999999",
        "1 OR 1=1",
        "-1",
    ] {
        let refused = post(hostile).await;
        assert_eq!(refused.status, 422, "{hostile}: {}", refused.text());
        assert!(
            refused.contains("選ばれたカテゴリーには投稿できません"),
            "{hostile}: {}",
            refused.text()
        );
        assert!(refused.select("option[selected]").is_empty(), "{hostile}");
    }
    assert_eq!(app.scalar(topics).await, 0, "nothing was made");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM drafts").await, 0);

    // A preview keeps the chosen category.
    let work = category_id(&app, "仕事とお金").await;
    let chosen = work.to_string();
    let preview = hana
        .post_form(
            "/forums/new",
            &[
                ("category", chosen.as_str()),
                ("title", "職場への伝え方"),
                ("body", "**どう**話しましたか。"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    assert_eq!(
        preview.select("option[selected]"),
        vec!["仕事とお金".to_owned()]
    );

    let started = post(&chosen).await;
    assert_eq!(started.status, 303, "{}", started.text());
    let topic = hana.follow(&started).await;
    assert_eq!(topic.select("h1"), vec!["職場への伝え方".to_owned()]);
    assert!(topic.select(".crumbs a").contains(&"仕事とお金".to_owned()));
    let in_work = format!(
        "SELECT COUNT(*) FROM topics WHERE title = '職場への伝え方' AND category_id = {work}"
    );
    assert_eq!(app.scalar(&in_work).await, 1);
    assert_eq!(app.scalar(topics).await, 1);

    // In English.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let english = hana.get("/forums/new").await;
    assert!(english.contains("Choose the category the topic belongs in."));
    let missing = post("").await;
    assert!(
        missing.contains("Please choose a category."),
        "{}",
        missing.text()
    );
    app.shutdown().await;
}
both_databases!(a_topic_starts_from_the_forum_index_in_a_chosen_category);

async fn a_topics_title_is_edited_with_its_first_post(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let topic = start_topic(
        &hana,
        category_id(&app, "治療のこと").await,
        "抗がん剤の副作用",
        "しびれがつらいです。",
    )
    .await;
    let first = app
        .scalar("SELECT MIN(id) FROM posts WHERE body_markdown = 'しびれがつらいです。'")
        .await;
    let landed = reply(&taro, &topic, "わかります。").await;
    let reply_id = landed.rsplit("#post-").next().expect("a post anchor");
    let title = || async { hana.get(&topic).await.select("h1") };

    let edit = format!("/p/{first}/edit");
    let form = hana.get(&edit).await;
    assert_eq!(
        form.attr("input[name=title]", "value").as_deref(),
        Some("抗がん剤の副作用")
    );
    let reply_form = taro.get(&format!("/p/{reply_id}/edit")).await;
    assert_eq!(reply_form.status, 200);
    assert!(
        reply_form.attr("input[name=title]", "value").is_none(),
        "a reply has no title"
    );
    assert_eq!(taro.get(&edit).await.status, 403, "not his topic");
    let hijack = taro
        .post_form(&edit, &[("title", "乗っ取り"), ("action", "save")])
        .await;
    assert_eq!(hijack.status, 403);

    // The same rules as a new title: too long or empty is refused, and nothing changes.
    let long = "あ".repeat(121);
    for (bad, message) in [
        (long.as_str(), "タイトルは120文字までにしてください。"),
        ("   ", "タイトルを入力してください。"),
    ] {
        let refused = hana
            .post_form(
                &edit,
                &[
                    ("title", bad),
                    ("body", "しびれがつらいです。"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.contains(message), "{}", refused.text());
        assert_eq!(
            refused.attr("input[name=title]", "value").as_deref(),
            Some(bad),
            "what was typed comes back"
        );
    }
    assert_eq!(title().await, vec!["抗がん剤の副作用".to_owned()]);

    let saved = hana
        .post_form(
            &edit,
            &[
                ("title", "  抗がん剤の副作用と  しびれ "),
                ("body", "しびれがつらいです。"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(
        title().await,
        vec!["抗がん剤の副作用と しびれ".to_owned()],
        "trimmed and folded like a new title"
    );
    let found = hana.get("/search?q=%E3%81%97%E3%81%B3%E3%82%8C").await;
    assert!(
        found.contains("抗がん剤の副作用と しびれ"),
        "{}",
        found.text()
    );

    // Staff may change the title of anyone's topic, and it is written down; they may edit any
    // post's text too (with a note on the post), here they leave it as it is.
    let moderator = crate::journeys::member_as(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
        "もでれーた",
    )
    .await;
    let page = moderator.get(&topic).await;
    assert_eq!(
        page.attrs(".post-actions a", "href")
            .iter()
            .filter(|href| href.ends_with("/edit"))
            .collect::<Vec<_>>(),
        vec![&edit, &format!("/p/{reply_id}/edit")],
        "staff are offered every post of others"
    );
    let staff_form = moderator.get(&edit).await;
    assert_eq!(staff_form.status, 200);
    assert_eq!(staff_form.select("input[name=title]").len(), 1);
    let renamed = moderator
        .post_form(
            &edit,
            &[
                ("title", "副作用のしびれについて"),
                ("body", "しびれがつらいです。"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(renamed.status, 303, "{}", renamed.text());
    assert_eq!(title().await, vec!["副作用のしびれについて".to_owned()]);
    assert!(
        hana.get(&topic).await.contains("しびれがつらいです。"),
        "the text stays hers to change"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'topic.renamed'")
            .await,
        1
    );

    // The history shows every title the topic had, newest first; the text is unchanged.
    let history = moderator.get(&format!("/p/{first}/history")).await;
    assert_eq!(history.status, 200);
    let titles = history.select(".revision-title strong");
    assert_eq!(
        titles,
        vec![
            "副作用のしびれについて".to_owned(),
            "抗がん剤の副作用と しびれ".to_owned(),
            "抗がん剤の副作用".to_owned(),
        ]
    );
    assert!(
        history
            .select("pre.source")
            .iter()
            .all(|b| b == "しびれがつらいです。")
    );
    let reply_history = moderator.get(&format!("/p/{reply_id}/history")).await;
    assert!(reply_history.select(".revision-title").is_empty());

    // In English.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let english = hana
        .post_form(&edit, &[("title", ""), ("body", "x"), ("action", "save")])
        .await;
    assert_eq!(english.status, 422);
    assert!(
        english.contains("Please write a title."),
        "{}",
        english.text()
    );
    app.shutdown().await;
}
both_databases!(a_topics_title_is_edited_with_its_first_post);

async fn the_privacy_page_says_what_is_stored_in_both_languages(app: TestApp) {
    let visitor = app.client();
    let page = visitor.get("/login").await;
    assert_eq!(
        page.attr("a[href='/privacy']", "href").as_deref(),
        Some("/privacy")
    );
    let page = visitor.get("/privacy").await;
    assert_eq!(page.status, 200);
    for needle in [
        "保存しているもの",
        "誰が見られるか",
        "外部のサービスに何も送りません",
        "匿名の相談者",
    ] {
        assert!(page.contains(needle), "{needle}: {}", page.text());
    }
    let english = visitor
        .get_with_headers("/privacy", &[("accept-language", "en")])
        .await;
    assert!(english.contains("No tracking"), "{}", english.text());
    app.shutdown().await;
}
both_databases!(the_privacy_page_says_what_is_stored_in_both_languages);

async fn a_profile_shows_only_what_its_member_chose(app: TestApp) {
    let (coordinator, moderator) = crate::journeys::staff(&app).await;
    let hana = crate::journeys::member(&app, &coordinator, "hana@example.org", "はな").await;
    let sora = crate::journeys::member(&app, &coordinator, "sora@example.org", "そら").await;
    let hana_id = app
        .scalar("SELECT id FROM users WHERE email = 'hana@example.org'")
        .await;
    let page = hana.get("/account").await;
    assert!(page.attr("a[href='/account/profile']", "href").is_some());
    hana.get("/account/profile").await;
    // Too long: a clear message, and nothing stored.
    let long = "あ".repeat(61);
    let refused = hana
        .post_form("/account/profile", &[("cancer", long.as_str())])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("60文字まで"), "{}", refused.text());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM member_profiles").await, 0);
    let saved = hana
        .post_form(
            "/account/profile",
            &[
                ("cancer", "乳がん"),
                ("show_cancer", "1"),
                ("stage", "経過観察中"),
                ("work", "時短勤務"),
                ("introduction", "仙台に住んでいます。"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    // Sora sees the one field hana chose; not the others, not her relation.
    let page = sora.get(&format!("/u/{hana_id}")).await;
    assert!(page.contains("乳がん"), "{}", page.text());
    for hidden in ["経過観察中", "時短勤務", "仙台に住んでいます", "患者"] {
        assert!(!page.contains(hidden), "{hidden}: {}", page.text());
    }
    // Staff see the relation (restricted rooms follow it), and the rest as members do.
    let page = moderator.get(&format!("/u/{hana_id}")).await;
    assert!(
        page.contains("患者") && page.contains("乳がん"),
        "{}",
        page.text()
    );
    assert!(!page.contains("時短勤務"), "{}", page.text());
    // She shows her relation too; the form keeps what she wrote.
    let form = hana.get("/account/profile").await;
    assert_eq!(
        form.attr("#profile-work", "value").as_deref(),
        Some("時短勤務")
    );
    hana.post_form(
        "/account/profile",
        &[
            ("cancer", "乳がん"),
            ("show_cancer", "1"),
            ("show_relation", "1"),
        ],
    )
    .await;
    let page = sora.get(&format!("/u/{hana_id}")).await;
    assert!(page.contains("患者"), "{}", page.text());
    app.shutdown().await;
}
both_databases!(a_profile_shows_only_what_its_member_chose);
