//! Forums: categories by role and relation, topics and replies, Markdown, edits and deletions.

use crate::common::TestApp;
use crate::journeys::{category_id, first_coordinator, member, member_as, reply, start_topic};

async fn restricted_categories_do_not_exist_for_others(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let patient = member(&app, &coordinator, "patient@example.org", "ほんにん").await;
    let family = member_as(
        &app,
        &coordinator,
        "family@example.org",
        "member",
        "family",
        "かぞく",
    )
    .await;
    let expert = member_as(
        &app,
        &coordinator,
        "expert@example.org",
        "expert",
        "supporter",
        "せんもん",
    )
    .await;
    let moderator = member_as(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
        "もでれーた",
    )
    .await;
    let family_room = category_id(&app, "家族の部屋").await;
    let staff_room = category_id(&app, "専門家とスタッフ").await;
    let family_topic = start_topic(
        &family,
        family_room,
        "家族として思うこと",
        "ひみつの家族の話",
    )
    .await;
    let staff_topic =
        start_topic(&expert, staff_room, "スタッフ連絡", "ひみつのスタッフの話").await;

    // Who sees what: patient, family, expert, moderator, coordinator.
    let readers = [&patient, &family, &expert, &moderator, &coordinator];
    let cases: [(&str, String, [bool; 5]); 4] = [
        (
            "family room",
            format!("/c/{family_room}"),
            [false, true, false, true, true],
        ),
        (
            "family topic",
            family_topic.clone(),
            [false, true, false, true, true],
        ),
        (
            "staff room",
            format!("/c/{staff_room}"),
            [false, false, true, true, true],
        ),
        (
            "staff topic",
            staff_topic.clone(),
            [false, false, true, true, true],
        ),
    ];
    for (what, path, sees) in &cases {
        for (reader, visible) in readers.iter().zip(sees) {
            let page = reader.get(path).await;
            let expected = if *visible { 200 } else { 404 };
            assert_eq!(page.status, expected, "{what} ({path})");
        }
    }
    // Nor does the index name them, nor can one post into them.
    let index = patient.get("/forums").await;
    assert!(index.text().contains("治療のこと"));
    assert!(
        !index.text().contains("家族の部屋") && !index.text().contains("専門家とスタッフ"),
        "{}",
        index.text()
    );
    patient.get("/forums").await;
    let intrusion = patient
        .post_form(&family_topic, &[("body", "のぞき"), ("action", "post")])
        .await;
    assert_eq!(intrusion.status, 404);
    let post_id = app
        .scalar("SELECT MIN(id) FROM posts WHERE body_markdown = 'ひみつの家族の話'")
        .await;
    assert_eq!(
        patient.get(&format!("/p/{post_id}")).await.status,
        404,
        "a post's own address obeys its category"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM posts WHERE body_markdown = 'のぞき'")
            .await,
        0
    );
    app.shutdown().await;
}
both_databases!(restricted_categories_do_not_exist_for_others);

async fn a_conversation_in_japanese_with_pages_and_stable_links(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let work = category_id(&app, "仕事とお金").await;

    let topic = start_topic(
        &hana,
        work,
        "仕事と治療の両立",
        "はじめまして。\n職場にどう伝えたか、教えてください。",
    )
    .await;
    let page = taro.get(&topic).await;
    assert!(page.text().contains("仕事と治療の両立"));
    let body = page.select(".post-body").join("");
    assert!(body.contains("はじめまして。"), "{body}");
    assert!(
        page.body.contains("はじめまして。<br"),
        "line breaks show as typed: {}",
        page.body
    );

    let first_reply = reply(&taro, &topic, "私は上司にだけ伝えました。").await;
    assert!(first_reply.contains("#post-"), "{first_reply}");
    for n in 0..20 {
        reply(&taro, &topic, &format!("返信その{n}")).await;
    }
    // 22 posts: the second page has two, and the first reply's stable address finds page one.
    let second = hana.get(&format!("{topic}?page=2")).await;
    assert_eq!(second.select("li.post").len(), 2);
    let list = hana.get(&format!("/c/{work}")).await;
    assert!(list.text().contains("返信 21件"), "{}", list.text());
    let first_reply_id = first_reply
        .rsplit("post-")
        .next()
        .expect("an anchor")
        .to_owned();
    let permalink = hana.get(&format!("/p/{first_reply_id}")).await;
    assert_eq!(permalink.status, 303);
    assert!(
        permalink.redirect_path().contains("page=1"),
        "{}",
        permalink.redirect_path()
    );
    let last_id = app.scalar("SELECT MAX(id) FROM posts").await;
    assert!(
        hana.get(&format!("/p/{last_id}"))
            .await
            .redirect_path()
            .contains("page=2")
    );
    app.shutdown().await;
}
both_databases!(a_conversation_in_japanese_with_pages_and_stable_links);

async fn hostile_markdown_is_inert_and_previews_work_without_javascript(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let life = category_id(&app, "暮らし").await;
    let hostile = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[リンク](javascript:alert(3))\n\n[data](data:text/html;base64,PHNjcmlwdD4=)\n\n<a href=\"https://example.org\" onclick=\"x()\">a</a>\n\n[ok](https://example.org)";

    coordinator.get(&format!("/c/{life}/new")).await;
    let preview = coordinator
        .post_form(
            &format!("/c/{life}/new"),
            &[
                ("title", "プレビュー"),
                ("body", "**太字**です"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("<strong>太字</strong>"),
        "{}",
        preview.body
    );
    assert_eq!(
        preview.attr("input[name=title]", "value").as_deref(),
        Some("プレビュー"),
        "the form keeps what was typed"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM topics").await,
        0,
        "a preview posts nothing"
    );

    let topic = start_topic(&coordinator, life, "<b>題名</b>", hostile).await;
    let page = coordinator.get(&topic).await;
    let body = page.select(".post-body").join("");
    // Raw HTML shows as text; nothing of it acts.
    for element in [
        ".post-body script",
        ".post-body img",
        ".post-body iframe",
        "[onerror]",
        "[onclick]",
    ] {
        assert!(
            page.select(element).is_empty(),
            "{element} in {}",
            page.body
        );
    }
    for href in page.attrs(".post-body a", "href") {
        assert!(href.starts_with("https://"), "only safe links: {href}");
    }
    assert!(
        body.contains("<script>alert(1)</script>"),
        "the typed text is shown as text: {body}"
    );
    assert_eq!(page.select("h1").join(""), "<b>題名</b>", "a title is text");
    assert!(page.select("h1 b").is_empty());
    assert!(
        body.contains("リンク") && body.contains("ok"),
        "harmless text stays: {body}"
    );
    let safe_link = page.attrs(".post-body a[href^='https://example.org']", "rel");
    assert!(
        safe_link
            .iter()
            .all(|rel| rel.contains("nofollow") && rel.contains("noopener")),
        "{safe_link:?}"
    );
    assert!(!safe_link.is_empty());

    // Limits are stated and enforced, with what was typed kept.
    coordinator.get(&format!("/c/{life}/new")).await;
    let long_body = "あ".repeat(20_001);
    let refused = coordinator
        .post_form(
            &format!("/c/{life}/new"),
            &[("title", ""), ("body", &long_body), ("action", "post")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text().contains("タイトルを入力してください")
            && refused.text().contains("20000文字まで")
    );
    assert_eq!(
        refused
            .select("textarea[name=body]")
            .join("")
            .chars()
            .count(),
        20_001
    );
    app.shutdown().await;
}
both_databases!(hostile_markdown_is_inert_and_previews_work_without_javascript);

async fn authors_edit_and_delete_and_moderators_see_the_history(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let moderator = member_as(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
        "もでれーた",
    )
    .await;
    let chat = category_id(&app, "雑談").await;
    let topic = start_topic(&hana, chat, "こんにちは", "最初の文章").await;
    let post = app.scalar("SELECT MIN(id) FROM posts").await;

    assert_eq!(
        taro.get(&format!("/p/{post}/edit")).await.status,
        403,
        "not someone else's post"
    );
    taro.get(&topic).await;
    assert_eq!(
        taro.post_form(
            &format!("/p/{post}/edit"),
            &[("body", "乗っ取り"), ("action", "save")]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        taro.post_form(&format!("/p/{post}/delete"), &[])
            .await
            .status,
        403
    );

    hana.get(&format!("/p/{post}/edit")).await;
    let saved = hana
        .post_form(
            &format!("/p/{post}/edit"),
            &[("body", "直した文章"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = taro.get(&topic).await;
    assert!(page.text().contains("直した文章") && page.text().contains("（編集済み）"));
    assert!(!page.text().contains("最初の文章"));

    assert_eq!(
        hana.get(&format!("/p/{post}/history")).await.status,
        404,
        "history is for staff"
    );
    let history = moderator.get(&format!("/p/{post}/history")).await;
    assert_eq!(history.status, 200);
    assert!(history.text().contains("最初の文章") && history.text().contains("直した文章"));

    hana.get(&topic).await;
    let deleted = hana.post_form(&format!("/p/{post}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    let page = taro.get(&topic).await;
    assert!(page.text().contains("この投稿は削除されました"));
    assert!(!page.text().contains("直した文章"));
    let history = moderator.get(&format!("/p/{post}/history")).await;
    assert!(
        history.text().contains("直した文章"),
        "moderators can still read what was deleted"
    );
    app.shutdown().await;
}
both_databases!(authors_edit_and_delete_and_moderators_see_the_history);
