//! A topic page is served from memory while nothing it shows changed (on SQLite; see
//! `forums::page_cache`). Each story views the page first, so that what it shows is kept, then
//! changes one thing and checks that the very next view shows the change, to the readers it
//! concerns and to no one else.

use crate::common::{Browser, TestApp};
use crate::journeys::{category_id, member, post_id, reply, staff, start_topic};

async fn first_post_of(app: &TestApp, topic: &str) -> i64 {
    let id = topic.trim_start_matches("/t/");
    app.scalar(&format!("SELECT MIN(id) FROM posts WHERE topic_id = {id}"))
        .await
}

/// The text of post `id` on `browser`'s next view of `topic`.
async fn post_text(browser: &Browser, topic: &str, id: i64) -> String {
    let page = browser.get(topic).await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.select(&format!("#post-{id}")).join("")
}

/// The readers of a story: staff, and はな who starts a topic in 雑談 that たろう answers.
struct Readers {
    coordinator: Browser,
    moderator: Browser,
    hana: Browser,
    taro: Browser,
    topic: String,
    /// たろう's reply.
    answer: i64,
}

/// [`Readers`], each of whom has viewed the topic (so that what they see is kept) and seen
/// `answer_text`.
async fn readers(app: &TestApp, title: &str, body: &str, answer_text: &str) -> Readers {
    let (coordinator, moderator) = staff(app).await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(app, &coordinator, "taro@example.org", "たろう").await;
    let chat = category_id(app, "雑談").await;
    let topic = start_topic(&hana, chat, title, body).await;
    let answer = post_id(&reply(&taro, &topic, answer_text).await);
    for reader in [&hana, &taro, &moderator] {
        assert!(
            post_text(reader, &topic, answer)
                .await
                .contains(answer_text)
        );
    }
    Readers {
        coordinator,
        moderator,
        hana,
        taro,
        topic,
        answer,
    }
}

async fn edits_names_reactions_and_titles_are_seen_on_the_next_view(app: TestApp) {
    let Readers {
        moderator,
        hana,
        taro,
        topic,
        answer,
        ..
    } = readers(&app, "こんにちは", "最初の文章", "たろうの返信です").await;
    let first = first_post_of(&app, &topic).await;
    assert!(post_text(&taro, &topic, first).await.contains("最初の文章"));

    // The author edits her post, and its title.
    hana.get(&format!("/p/{first}/edit")).await;
    let saved = hana
        .post_form(
            &format!("/p/{first}/edit"),
            &[
                ("title", "こんにちは、みなさん"),
                ("body", "直した文章"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let page = taro.get(&topic).await;
    let text = page.select(&format!("#post-{first}")).join("");
    assert!(
        text.contains("直した文章") && !text.contains("最初の文章"),
        "{text}"
    );
    assert_eq!(page.select("h1"), ["こんにちは、みなさん"]);

    // A reaction: the giver sees it pressed, the author sees who gave it.
    let reacted = taro
        .post_form(&format!("/p/{first}/react"), &[("kind", "thanks")])
        .await;
    assert_eq!(reacted.status, 303);
    let page = taro.get(&topic).await;
    assert_eq!(
        page.attr(
            &format!("#post-{first} button[value=thanks]"),
            "aria-pressed"
        )
        .as_deref(),
        Some("true")
    );
    assert!(
        post_text(&hana, &topic, first)
            .await
            .contains("ありがとう：たろう")
    );

    // A new name shows on his posts and under the reactions he gave, for everyone.
    taro.get("/account").await;
    let renamed = taro
        .post_form("/account/name", &[("display_name", "たろう改")])
        .await;
    assert!(
        renamed.status == 303 || renamed.status == 200,
        "{}",
        renamed.text()
    );
    assert!(post_text(&hana, &topic, answer).await.contains("たろう改"));
    assert!(
        post_text(&hana, &topic, first)
            .await
            .contains("ありがとう：たろう改")
    );

    // A reply appears at once, for someone who viewed the page just before.
    let another = post_id(&reply(&taro, &topic, "もうひとつの返信").await);
    assert!(
        post_text(&hana, &topic, another)
            .await
            .contains("もうひとつの返信")
    );

    // Closed by a moderator: no reply form on the next view.
    moderator.get(&topic).await;
    let closed = moderator.post_form(&format!("{topic}/close"), &[]).await;
    assert_eq!(closed.status, 303);
    let page = hana.get(&topic).await;
    assert!(
        page.select("textarea[name=body]").is_empty(),
        "{}",
        page.text()
    );
    app.shutdown().await;
}
both_databases!(edits_names_reactions_and_titles_are_seen_on_the_next_view);

async fn hides_blocks_holds_and_drafts_are_seen_by_those_they_concern(app: TestApp) {
    let Readers {
        coordinator,
        moderator,
        hana,
        taro,
        topic,
        answer,
    } = readers(
        &app,
        "きょうのこと",
        "はなの書いた文章",
        "たろうの書いた文章",
    )
    .await;

    // Hidden by a moderator: the text goes for others; its author reads why.
    moderator.get(&format!("/mod/posts/{answer}")).await;
    let hidden = moderator
        .post_form(
            &format!("/mod/posts/{answer}/hide"),
            &[("reason", "個人情報が含まれていました")],
        )
        .await;
    assert_eq!(hidden.status, 303, "{}", hidden.text());
    let seen = post_text(&hana, &topic, answer).await;
    assert!(!seen.contains("たろうの書いた文章"), "{seen}");
    let own = post_text(&taro, &topic, answer).await;
    assert!(
        own.contains("たろうの書いた文章") && own.contains("個人情報が含まれていました"),
        "{own}"
    );

    // A block folds the blocked member's posts away for the blocker alone.
    let kept = post_id(&reply(&taro, &topic, "ブロックされる前の返信").await);
    assert!(
        !post_text(&hana, &topic, kept)
            .await
            .contains("blocked-post")
    );
    hana.get(&format!("/p/{kept}/block")).await;
    let blocked = hana.post_form(&format!("/p/{kept}/block"), &[]).await;
    assert_eq!(blocked.status, 303);
    let page = hana.get(&topic).await;
    assert_eq!(
        page.select(&format!("#post-{kept} details.blocked-post"))
            .len(),
        1,
        "{}",
        page.text()
    );
    let page = moderator.get(&topic).await;
    assert!(
        page.select(&format!("#post-{kept} details.blocked-post"))
            .is_empty()
    );

    // A newcomer's reply waits for review: shown to him and to staff, not to others, though
    // the page was kept for his kind of reader just before.
    app.set_review_threshold(3).await;
    let jiro = member(&app, &coordinator, "jiro@example.org", "じろう").await;
    assert_eq!(jiro.get(&topic).await.status, 200);
    let held = post_id(&reply(&jiro, &topic, "じろうの最初の返信").await);
    let own = jiro.get(&topic).await;
    assert!(own.text().contains("じろうの最初の返信"), "{}", own.text());
    assert!(own.select(&format!("#post-{held} .status-note")).len() == 1);
    assert!(
        post_text(&moderator, &topic, held)
            .await
            .contains("じろうの最初の返信")
    );
    let others = taro.get(&topic).await;
    assert!(others.select(&format!("#post-{held}")).is_empty());
    assert!(!others.text().contains("じろうの最初の返信"));

    // A draft kept by a preview comes back in the reply form on the next view.
    let draft = "下書きのつづき";
    let previewed = hana
        .post_form(&topic, &[("body", draft), ("action", "preview")])
        .await;
    assert_eq!(previewed.status, 200);
    let page = hana.get(&topic).await;
    assert_eq!(page.select("textarea[name=body]"), [draft]);
    assert!(
        taro.get(&topic)
            .await
            .select("textarea[name=body]")
            .iter()
            .all(|t| t.is_empty())
    );

    // Following shows at once.
    let follow = hana
        .post_form(&format!("{topic}/follow"), &[("follow", "no")])
        .await;
    assert_eq!(follow.status, 303);
    let page = hana.get(&topic).await;
    assert_eq!(
        page.attr("form.follow input[name=follow]", "value")
            .as_deref(),
        Some("yes"),
        "{}",
        page.text()
    );
    app.shutdown().await;
}
both_databases!(hides_blocks_holds_and_drafts_are_seen_by_those_they_concern);

/// A post that readers of one kind see alike is rendered once (see `forums::topics`), yet each
/// reader's copy carries their own form token, their own pressed reactions and what is new to
/// them; its author still gets the edit links and no reaction forms.
async fn readers_who_see_a_post_alike_each_get_their_own_parts(app: TestApp) {
    let Readers {
        coordinator,
        hana,
        taro,
        topic,
        answer,
        ..
    } = readers(&app, "おはよう", "はなの文章", "たろうの返信です").await;
    let jiro = member(&app, &coordinator, "jiro@example.org", "じろう").await;
    let first = first_post_of(&app, &topic).await;
    // Read twice each, so the second view of the later reader is served the kept rendering.
    for _ in 0..2 {
        for reader in [&taro, &jiro] {
            let page = reader.get(&topic).await;
            assert_eq!(page.status, 200, "{}", page.text());
            let own = page
                .attr("form[action=\"/logout\"] input[name=csrf]", "value")
                .expect("a logout form with the reader's token");
            let in_post = page.attrs(&format!("#post-{first} input[name=csrf]"), "value");
            assert_eq!(in_post.len(), 3, "one reaction form for each kind");
            assert!(in_post.iter().all(|t| *t == own), "{in_post:?} vs {own}");
        }
    }
    let tokens = |page: &crate::common::Page| {
        page.attr("form[action=\"/logout\"] input[name=csrf]", "value")
    };
    let (taro_page, jiro_page) = (taro.get(&topic).await, jiro.get(&topic).await);
    assert_ne!(tokens(&taro_page), tokens(&jiro_page));

    // たろう's reaction, sent with the token his page gave him, is pressed for him alone.
    let reacted = taro
        .post_form(&format!("/p/{first}/react"), &[("kind", "cheer")])
        .await;
    assert_eq!(reacted.status, 303, "{}", reacted.text());
    let pressed = |page: &crate::common::Page| {
        page.attr(
            &format!("#post-{first} button[value=cheer]"),
            "aria-pressed",
        )
    };
    for _ in 0..2 {
        assert_eq!(pressed(&taro.get(&topic).await).as_deref(), Some("true"));
        assert_eq!(pressed(&jiro.get(&topic).await).as_deref(), Some("false"));
    }

    // A reply is new to じろう, who read the page before it, and not to its writer.
    let late = post_id(&reply(&taro, &topic, "あとからの返信").await);
    let page = jiro.get(&topic).await;
    assert_eq!(page.select(&format!("#post-{late} .tag.new")).len(), 1);
    let page = taro.get(&topic).await;
    assert!(page.select(&format!("#post-{late} .tag.new")).is_empty());

    // The author sees her own post with its edit link and no reaction forms; たろう's reply has
    // his.
    let page = hana.get(&topic).await;
    assert_eq!(
        page.select(&format!("a[href=\"/p/{first}/edit\"]")).len(),
        1
    );
    assert!(
        page.attrs(&format!("#post-{first} input[name=csrf]"), "value")
            .is_empty()
    );
    let page = taro.get(&topic).await;
    assert_eq!(
        page.select(&format!("a[href=\"/p/{answer}/edit\"]")).len(),
        1
    );
    assert!(
        page.select(&format!("a[href=\"/p/{first}/edit\"]"))
            .is_empty()
    );
    app.shutdown().await;
}
both_databases!(readers_who_see_a_post_alike_each_get_their_own_parts);
