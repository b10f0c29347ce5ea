//! Limits on writing: how much a member may write in a short time, how long a draft may be, and
//! which characters text may hold.

use hidamari::config::Config;

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{category_id, first_coordinator, member, reply, start_topic};

/// The limits a site runs with (the other stories raise them to set their scene quickly).
fn real_limits(config: &mut Config) {
    config.write_limit_scale = 1;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar(sql).await
}

/// Asserts the "please wait" page: 429, what was limited, and a `Retry-After` within a minute.
fn assert_paused(page: &Page, what: &str) {
    assert_eq!(page.status, 429, "{}", page.text());
    let text = page.text();
    assert!(text.contains("少し時間をおいてください"), "{text}");
    assert!(
        text.contains(&format!("短い時間に{what}が続いたため")),
        "says what was limited: {text}"
    );
    assert!(text.contains("秒たつと"), "says when: {text}");
    let retry_after = page
        .header("retry-after")
        .and_then(|s| s.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "{retry_after:?}"
    );
}

async fn a_member_writing_too_fast_is_paused_while_others_write(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let life = category_id(&app, "暮らし").await;
    let topic = start_topic(&hana, life, "にぎやかな話題", "どうぞ気軽に").await;

    // Eight replies in a row go through; the ninth waits, and its text is offered back.
    for n in 1..=8 {
        reply(&hana, &topic, &format!("返信{n}")).await;
    }
    hana.get(&topic).await;
    let refused = hana
        .post_form(&topic, &[("body", "九つ目の返信"), ("action", "post")])
        .await;
    assert_paused(&refused, "返信");
    assert_eq!(
        refused.select("form.kept textarea[name=body]").join(""),
        "九つ目の返信",
        "what was written is kept on the page"
    );
    assert_eq!(
        refused.attr("form.kept", "action").as_deref(),
        Some(topic.as_str()),
        "the form sends it to the same place again"
    );
    assert_eq!(
        refused
            .attr("form.kept input[name=action]", "value")
            .as_deref(),
        Some("post")
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM posts WHERE body_markdown = '九つ目の返信'"
        )
        .await,
        0,
        "nothing past the limit"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM posts").await, 9);

    // Another member is not held back by hana's limit, and staff have more room.
    reply(&taro, &topic, "たろうの返信").await;
    for n in 1..=9 {
        reply(&coordinator, &topic, &format!("スタッフの返信{n}")).await;
    }

    // A preview is counted on its own: hana may still look at what she writes.
    let preview = hana
        .post_form(&topic, &[("body", "見るだけ"), ("action", "preview")])
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text());

    // The same page in the member's language.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    hana.get(&topic).await;
    let english = hana
        .post_form(&topic, &[("body", "one more"), ("action", "post")])
        .await;
    assert_eq!(english.status, 429);
    assert!(
        english
            .text()
            .contains("A lot of replies came in a short time"),
        "{}",
        english.text()
    );
    assert!(english.text().contains("You can send again in about"));

    // Reactions: thirty presses in a row, then a pause that changes nothing.
    let post = count(
        &app,
        "SELECT MIN(id) FROM posts WHERE body_markdown = '返信1'",
    )
    .await;
    let react = format!("/p/{post}/react");
    taro.get(&topic).await;
    for _ in 0..30 {
        let done = taro.post_form(&react, &[("kind", "thanks")]).await;
        assert_eq!(done.status, 303, "{}", done.text());
    }
    let reactions = count(&app, "SELECT COUNT(*) FROM post_reactions").await;
    let refused = taro.post_form(&react, &[("kind", "thanks")]).await;
    assert_paused(&refused, "リアクション");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM post_reactions").await,
        reactions
    );
    app.shutdown().await;
}
both_databases!(
    a_member_writing_too_fast_is_paused_while_others_write,
    configure = real_limits
);

async fn previews_drafts_and_edits_are_limited(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let life = category_id(&app, "暮らし").await;
    let new_topic = format!("/c/{life}/new");

    // The composer's script: thirty saves in a row, then a pause; the last one saved stays.
    hana.get(&new_topic).await;
    let place = format!("topic:{life}");
    for n in 1..=30 {
        let body = format!("下書き{n}");
        let saved = hana
            .post_form("/drafts", &[("place", &place), ("body", &body)])
            .await;
        assert_eq!(saved.status, 204, "{}", saved.text());
    }
    let refused = hana
        .post_form("/drafts", &[("place", &place), ("body", "下書き31")])
        .await;
    assert_paused(&refused, "下書きの保存");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM drafts WHERE body = '下書き30'").await,
        1
    );

    // Previews: twenty in a row, then the page offers the title and text back to send again.
    for n in 1..=20 {
        let title = format!("題{n}");
        let preview = hana
            .post_form(
                &new_topic,
                &[("title", &title), ("body", "本文"), ("action", "preview")],
            )
            .await;
        assert_eq!(preview.status, 200, "{}", preview.text());
    }
    let refused = hana
        .post_form(
            &new_topic,
            &[("title", "二十一"), ("body", "本文"), ("action", "preview")],
        )
        .await;
    assert_paused(&refused, "プレビュー");
    assert_eq!(
        refused
            .attr("form.kept input[name=title]", "value")
            .as_deref(),
        Some("二十一")
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM drafts WHERE title = '二十一'").await,
        0
    );

    // Edits: ten in a row, then a pause that leaves the post as the tenth made it.
    let topic = start_topic(&hana, life, "直したい話題", "最初の本文").await;
    let post = count(&app, "SELECT MAX(id) FROM posts").await;
    let edit = format!("/p/{post}/edit");
    hana.get(&edit).await;
    for n in 1..=10 {
        let body = format!("直した本文{n}");
        let done = hana
            .post_form(&edit, &[("body", &body), ("action", "save")])
            .await;
        assert_eq!(done.status, 303, "{}", done.text());
    }
    let refused = hana
        .post_form(&edit, &[("body", "直した本文11"), ("action", "save")])
        .await;
    assert_paused(&refused, "投稿の編集");
    assert_eq!(
        refused.select("form.kept textarea[name=body]").join(""),
        "直した本文11"
    );
    let edited =
        format!("SELECT COUNT(*) FROM posts WHERE id = {post} AND body_markdown = '直した本文10'");
    assert_eq!(count(&app, &edited).await, 1);
    assert!(hana.get(&topic).await.text().contains("直した本文10"));
    app.shutdown().await;
}
both_databases!(
    previews_drafts_and_edits_are_limited,
    configure = real_limits
);

async fn a_draft_holds_no_more_than_a_post(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let life = category_id(&app, "暮らし").await;
    let new_topic = format!("/c/{life}/new");
    let place = format!("topic:{life}");
    let huge = "a".repeat(1_000_000);
    hana.get(&new_topic).await;
    let saved = hana
        .post_form(
            "/drafts",
            &[
                ("place", &place),
                ("title", "前の題"),
                ("body", "前の下書き"),
            ],
        )
        .await;
    assert_eq!(saved.status, 204);
    let drafts = "SELECT COUNT(*) FROM drafts WHERE title = '前の題' AND body = '前の下書き'";

    // A 1 MB preview: refused with the body's limit, the text still in the form, nothing stored.
    let preview = hana
        .post_form(
            &new_topic,
            &[("title", "題"), ("body", &huge), ("action", "preview")],
        )
        .await;
    assert_eq!(preview.status, 422);
    assert!(
        preview.text().contains("本文は20000文字までにしてください"),
        "{}",
        preview.text()
    );
    assert_eq!(
        preview.select("textarea[name=body]").join("").len(),
        huge.len()
    );
    assert!(preview.select(".preview").is_empty(), "no preview of it");
    assert_eq!(count(&app, drafts).await, 1, "the earlier draft stays");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM drafts").await, 1);

    // The composer refusing a post keeps the draft only when it fits: a title too long.
    let long_title = "題".repeat(121);
    let posted = hana
        .post_form(
            &new_topic,
            &[("title", &long_title), ("body", "本文"), ("action", "post")],
        )
        .await;
    assert_eq!(posted.status, 422);
    assert_eq!(count(&app, drafts).await, 1);

    // The composer's script: the same limit as the body's, to the character.
    let at_limit = "あ".repeat(20_000);
    let over = "あ".repeat(20_001);
    let refused = hana
        .post_form("/drafts", &[("place", &place), ("body", &over)])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(
        refused.body.contains("本文は20000文字まで"),
        "{}",
        refused.body
    );
    assert_eq!(count(&app, drafts).await, 1);
    let saved = hana
        .post_form("/drafts", &[("place", &place), ("body", &at_limit)])
        .await;
    assert_eq!(saved.status, 204);
    assert_eq!(
        count(&app, "SELECT MAX(LENGTH(body)) FROM drafts").await,
        20_000
    );

    // A reply's preview too.
    let topic = start_topic(&hana, life, "短い話題", "本文").await;
    hana.get(&topic).await;
    let preview = hana
        .post_form(&topic, &[("body", &huge), ("action", "preview")])
        .await;
    assert_eq!(preview.status, 422);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM drafts WHERE place LIKE 'reply:%'"
        )
        .await,
        0
    );
    app.shutdown().await;
}
both_databases!(a_draft_holds_no_more_than_a_post, configure = real_limits);

/// Posts `fields` to `path` from `form_page`, and asserts the refusal names `field`.
async fn refused_naming(
    browser: &Browser,
    form_page: &str,
    path: &str,
    fields: &[(&str, &str)],
    field: &str,
) {
    browser.get(form_page).await;
    let page = browser.post_form(path, fields).await;
    assert_eq!(page.status, 400, "{path}: {}", page.text());
    let text = page.text();
    assert!(
        text.contains(&format!("「{field}」に、画面に表示できない制御文字")),
        "{path}: {text}"
    );
    assert!(text.contains("何も変更されていません"), "{text}");
}

async fn control_characters_are_refused_in_every_form(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let life = category_id(&app, "暮らし").await;
    let new_topic = format!("/c/{life}/new");

    for (title, body, field) in [
        ("ぬる\u{0}文字", "本文", "タイトル"),
        ("ベル\u{7}", "本文", "タイトル"),
        ("題", "エスケープ\u{1b}[31m赤", "本文"),
        ("題", "削除\u{7f}", "本文"),
        ("題", "次の行\u{85}C1", "本文"),
    ] {
        for action in ["post", "preview"] {
            let fields = [("title", title), ("body", body), ("action", action)];
            refused_naming(&hana, &new_topic, &new_topic, &fields, field).await;
        }
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM topics").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM drafts").await, 0);

    // A reply, a draft, a display name, a category, an announcement, a list of invitations.
    let topic = start_topic(&hana, life, "題", "本文").await;
    let reply_fields = [("body", "a\u{0}b"), ("action", "post")];
    refused_naming(&hana, &topic, &topic, &reply_fields, "本文").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM posts").await, 1);
    let place = format!("reply:{}", topic.trim_start_matches("/t/"));
    let draft_fields = [("place", place.as_str()), ("body", "a\u{0}b")];
    refused_naming(&hana, &topic, "/drafts", &draft_fields, "本文").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM drafts").await, 0);
    let name_fields = [("display_name", "は\u{0}な")];
    refused_naming(&hana, "/account", "/account/name", &name_fields, "表示名").await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM users WHERE display_name = 'はな'"
        )
        .await,
        1
    );
    let categories = count(&app, "SELECT COUNT(*) FROM categories").await;
    let category_fields = [
        ("name", "新しい\u{0}部屋"),
        ("description", ""),
        ("min_role", "member"),
        ("only_relation", ""),
    ];
    refused_naming(
        &coordinator,
        "/admin/categories",
        "/admin/categories",
        &category_fields,
        "名前",
    )
    .await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM categories").await,
        categories
    );
    let announcement_fields = [("title", "お知らせ"), ("body", "本文\u{0}")];
    refused_naming(
        &coordinator,
        "/admin/announcements",
        "/admin/announcements",
        &announcement_fields,
        "本文",
    )
    .await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM announcements").await, 0);
    let invitations = count(&app, "SELECT COUNT(*) FROM invitations").await;
    let invitation_fields = [("emails", "a@example.org\u{0}\nb@example.org")];
    refused_naming(
        &coordinator,
        "/admin/invitations",
        "/admin/invitations",
        &invitation_fields,
        "メールアドレス",
    )
    .await;
    let csv = "c@example.org\u{0}\r\nd@example.org\r\n";
    let uploaded = coordinator
        .post_multipart(
            "/admin/invitations/csv",
            &[],
            &[("file", "people.csv", "text/csv", csv.as_bytes())],
        )
        .await;
    assert_eq!(uploaded.status, 422, "{}", uploaded.text());
    assert!(
        uploaded
            .text()
            .contains("「CSVファイル」に、画面に表示できない制御文字"),
        "{}",
        uploaded.text()
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM invitations").await,
        invitations
    );

    // A search with a NUL gets the same clear page, not a server error.
    for query in ["%00", "%E4%BB%95%00%E4%BA%8B", "%C2%85"] {
        let page = hana.get(&format!("/search?q={query}")).await;
        assert_eq!(page.status, 400, "{query}: {}", page.text());
        assert!(
            page.text().contains("「検索する言葉」に"),
            "{}",
            page.text()
        );
    }

    // A replacement character someone typed is text like any other, stored as typed; tabs and
    // line breaks (sent as CRLF, or a lone CR) are kept as tabs and newlines.
    let title = "文字化け\u{FFFD}の話";
    let typed = start_topic(&hana, life, title, "一行目\r\n\t二行目\r三行目\u{FFFD}").await;
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM topics WHERE title = '{title}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM posts WHERE body_markdown = '一行目\n\t二行目\n三行目\u{FFFD}'"
        )
        .await,
        1
    );
    assert!(hana.get(&typed).await.text().contains(title));
    let found = hana
        .get("/search?q=%E6%96%87%E5%AD%97%E5%8C%96%E3%81%91%EF%BF%BD")
        .await;
    assert_eq!(found.status, 200, "{}", found.text());
    assert!(
        found.text().contains("1件の投稿が見つかりました"),
        "{}",
        found.text()
    );

    // In English, the same refusal in English.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    hana.get("/account").await;
    let english = hana
        .post_form("/account/name", &[("display_name", "は\u{0}な")])
        .await;
    assert_eq!(english.status, 400);
    assert!(
        english
            .text()
            .contains("“Display name” contained a control character"),
        "{}",
        english.text()
    );

    // Invalid UTF-8 gets the page for unreadable input, in a form or in a query.
    hana.get("/account").await;
    let token = hana.csrf().expect("token");
    let origin = app.base_url();
    let page = hana
        .post_raw(
            "/account/name",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", &origin),
            ],
            format!("csrf={token}&display_name=%FF%FE"),
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.text().contains("We could not read that"),
        "{}",
        page.text()
    );
    let page = hana.get("/search?q=%FF").await;
    assert_eq!(page.status, 400);
    assert!(
        page.text().contains("We could not read that"),
        "{}",
        page.text()
    );
    app.shutdown().await;
}
both_databases!(control_characters_are_refused_in_every_form);

async fn account_and_staff_forms_are_limited_too(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;

    // Twenty changes of text size in a row, then a change of name waits: one limit for the
    // account's forms, each of which may hash a password or send a mail.
    hana.get("/account").await;
    for size in ["large", "normal"].iter().cycle().take(20) {
        let done = hana.post_form("/preferences", &[("text_size", size)]).await;
        assert_eq!(done.status, 303, "{}", done.text());
    }
    let refused = hana
        .post_form("/account/name", &[("display_name", "はなこ")])
        .await;
    assert_paused(&refused, "アカウントの変更");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM users WHERE display_name = 'はなこ'"
        )
        .await,
        0
    );

    // Following and unfollowing a topic over and over, and deleting one's posts, wait too.
    let topic = start_topic(
        &hana,
        category_id(&app, "暮らし").await,
        "片づけ",
        "最初の本文",
    )
    .await;
    let topic_id = topic.trim_start_matches("/t/");
    hana.get(&topic).await;
    for follow in ["no", "yes"].iter().cycle().take(30) {
        let done = hana
            .post_form(&format!("/t/{topic_id}/follow"), &[("follow", follow)])
            .await;
        assert_eq!(done.status, 303, "{}", done.text());
    }
    let refused = hana
        .post_form(&format!("/t/{topic_id}/follow"), &[("follow", "no")])
        .await;
    assert_paused(&refused, "お知らせの操作");
    // Eleven replies of hers (written straight into the database: replying has its own limit).
    app.execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 11) \
         INSERT INTO posts (topic_id, author_id, body_markdown, body_html, created_at) \
         SELECT {topic_id}, u.id, '消す返信' || i, '<p>消す返信' || i || '</p>', 1800000000 + i \
         FROM n, users u WHERE u.email = 'hana@example.org'"
    ))
    .await;
    let mut deleted = 0;
    for post in 0..11 {
        let id = count(&app, &format!("SELECT MAX(id) - {post} FROM posts")).await;
        hana.get(&format!("/p/{id}/delete")).await;
        let page = hana.post_form(&format!("/p/{id}/delete"), &[]).await;
        if page.status == 303 {
            deleted += 1;
        } else {
            assert_paused(&page, "投稿の削除");
        }
    }
    assert_eq!(deleted, 10);

    // A coordinator has three times a member's allowance (60 at once; inviting hana took one),
    // and then waits too.
    let life = category_id(&app, "暮らし").await;
    coordinator.get("/admin/categories").await;
    let mut moved = 0;
    let refused = loop {
        let page = coordinator
            .post_form(&format!("/admin/categories/{life}/up"), &[])
            .await;
        if page.status != 303 {
            break page;
        }
        moved += 1;
        assert!(moved <= 60, "no limit on moving categories");
    };
    assert_paused(&refused, "設定の変更");
    assert_eq!(
        moved, 59,
        "the coordinator's own allowance, less the invitation"
    );
    app.shutdown().await;
}
both_databases!(
    account_and_staff_forms_are_limited_too,
    configure = real_limits
);
