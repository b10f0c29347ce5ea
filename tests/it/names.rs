//! Display names that pose as someone else, the badges of staff and experts (who members cannot
//! block when staff), and forms that keep what was typed and tie each problem to its input.

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{
    PASSWORD, category_id, first_coordinator, invite, join, member, member_as, reply, start_topic,
};

const TAKEN: &str = "すでに使われている名前と同じか、よく似ていて見分けがつきません";

/// Characters that show nothing, as used to pass for someone: soft hyphen, combining grapheme
/// joiner, Hangul filler, Braille blank, a tag letter, zero-width space, byte-order mark, a bidi
/// override.
const INVISIBLE: &[char] = &[
    '\u{00AD}',
    '\u{034F}',
    '\u{3164}',
    '\u{2800}',
    '\u{E0041}',
    '\u{200B}',
    '\u{FEFF}',
    '\u{202E}',
];

async fn post_join(browser: &Browser, link: &str, name: &str) -> Page {
    browser
        .post_form(
            link,
            &[
                ("display_name", name),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
}

async fn rename(browser: &Browser, name: &str) -> Page {
    browser.get("/account").await;
    browser
        .post_form("/account/name", &[("display_name", name)])
        .await
}

/// The input `id` is marked invalid and described by the message shown by it, which says `text`.
fn tied_to_input(page: &Page, id: &str, text: &str) {
    let input = format!("#{id}");
    assert_eq!(
        page.attr(&input, "aria-invalid").as_deref(),
        Some("true"),
        "{id} is marked invalid: {}",
        page.body
    );
    let described = page.attr(&input, "aria-describedby").unwrap_or_default();
    let message_id = described
        .split(' ')
        .find(|d| d.ends_with("-error"))
        .unwrap_or_else(|| panic!("{id} is described by its message: {described:?}"));
    let message = page.select(&format!("#{message_id}")).join("");
    assert!(message.contains(text), "{id}'s message {message:?}");
    assert_eq!(
        page.attr(".errors a", "href"),
        Some(format!("#{}", message_id.trim_end_matches("-error"))),
        "the summary links to the input"
    );
}

fn not_marked(page: &Page, id: &str) {
    assert_eq!(page.attr(&format!("#{id}"), "aria-invalid"), None, "{id}");
}

async fn look_alike_and_invisible_names_are_refused(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "Hinata").await;
    member(&app, &coordinator, "hima@example.org", "ヒマワリ").await;

    let link = invite(&app, &coordinator, "taro@example.org", "member", "patient").await;
    let taro = app.client();
    taro.get(&link).await;
    for alike in [
        "Hinata\u{00AD}",
        "Hin\u{E0041}ata",
        "Ніnata",       // Cyrillic Н and і
        "Ηinata",       // Greek capital eta
        "Ｈｉｎａｔａ", // full-width
        "HINATA",
        "ﾋﾏﾜﾘ", // half-width katakana
        "ヒマワリ\u{3164}",
    ] {
        let refused = post_join(&taro, &link, alike).await;
        assert_eq!(refused.status, 422, "joining as {alike:?}");
        tied_to_input(&refused, "display_name", TAKEN);
    }
    let blank = post_join(&taro, &link, "\u{2800}\u{3164}\u{200B}").await;
    assert_eq!(blank.status, 422);
    tied_to_input(&blank, "display_name", "画面に表示されない文字だけ");
    let taro = join(&app, &link, "たろう").await;

    for &c in INVISIBLE {
        for alike in [
            format!("Hinata{c}"),
            format!("Hi{c}nata"),
            format!("ヒマ{c}ワリ"),
        ] {
            let refused = rename(&taro, &alike).await;
            assert_eq!(refused.status, 422, "renaming to {alike:?}");
            tied_to_input(&refused, "display_name", TAKEN);
        }
    }
    for alike in ["Нinatа", "Ηιnata", "ｈｉｎａｔａ"] {
        let refused = rename(&taro, alike).await;
        assert_eq!(refused.status, 422, "renaming to {alike:?}");
        assert!(refused.text().contains(TAKEN));
    }
    // Ordinary Japanese names, and one's own name written another way.
    for name in ["たろう", "さくら", "ひまわり", "山田 花子"] {
        let saved = rename(&taro, name).await;
        assert_eq!(saved.status, 303, "renaming to {name}: {}", saved.text());
    }
    let saved = rename(&taro, "山田\u{200B}　花子").await;
    assert_eq!(saved.status, 303);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE display_name = '山田 花子'")
            .await,
        1,
        "stored as it shows"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE display_name_skeleton IS NULL")
            .await,
        0
    );
    app.shutdown().await;
}
both_databases!(look_alike_and_invisible_names_are_refused);

/// Two people join at the same moment with names that look alike: one of them gets it.
async fn look_alike_joins_at_the_same_time_leave_one_name(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let first = invite(&app, &coordinator, "a@example.org", "member", "patient").await;
    let second = invite(&app, &coordinator, "b@example.org", "member", "patient").await;
    let (a, b) = (app.client(), app.client());
    a.get(&first).await;
    b.get(&second).await;
    let (one, other) = tokio::join!(
        post_join(&a, &first, "Sakura"),
        post_join(&b, &second, "Ѕаkurа") // Cyrillic Ѕ and а
    );
    let mut statuses = [one.status.as_u16(), other.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 422]);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE role = 'member'")
            .await,
        1
    );
    app.shutdown().await;
}
both_databases!(look_alike_joins_at_the_same_time_leave_one_name);

/// Members who joined before skeletons were kept get theirs at start-up; of two whose names
/// already look alike, the first keeps the name's skeleton, and newcomers still cannot copy it.
async fn existing_members_get_their_skeletons(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "Hinata").await;
    member(&app, &coordinator, "hana@example.org", "Hana").await;
    app.execute("UPDATE users SET display_name_skeleton = NULL")
        .await;
    // Written before look-alikes were refused: Cyrillic Н and а.
    app.execute(
        "INSERT INTO users (email, display_name, display_name_key, password_hash, role, relation, \
         created_at, updated_at) VALUES ('old@example.org', 'Нanа', 'нanа', 'x', 'member', 'patient', 1, 1)",
    )
    .await;
    let filled = hidamari::account::fill_name_skeletons(app.db())
        .await
        .expect("filling skeletons");
    assert_eq!(filled, 2, "the later look-alike is left without one");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE display_name_skeleton = 'hana' AND display_name = 'Hana'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE display_name_skeleton IS NULL AND email = 'old@example.org'")
            .await,
        1
    );
    let link = invite(&app, &coordinator, "new@example.org", "member", "patient").await;
    let newcomer = app.client();
    newcomer.get(&link).await;
    for alike in ["Hinata", "HANA", "Ηana"] {
        let refused = post_join(&newcomer, &link, alike).await;
        assert_eq!(refused.status, 422, "{alike}");
    }
    app.shutdown().await;
}
both_databases!(existing_members_get_their_skeletons);

async fn staff_and_experts_wear_a_badge_and_staff_cannot_be_blocked(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let moderator = member_as(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
        "もでれ",
    )
    .await;
    let expert = member_as(
        &app,
        &coordinator,
        "sr@example.org",
        "expert",
        "supporter",
        "社労士の森",
    )
    .await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let chat = category_id(&app, "雑談").await;
    let topic = start_topic(&coordinator, chat, "ようこそ", "コーディネーターの投稿").await;
    reply(&moderator, &topic, "モデレーターの返事").await;
    reply(&expert, &topic, "専門家の返事").await;
    reply(&hana, &topic, "はなの返事").await;
    let post = |body: &'static str| {
        let app = &app;
        async move {
            app.scalar(&format!(
                "SELECT id FROM posts WHERE body_markdown = '{body}'"
            ))
            .await
        }
    };
    let (coord_post, mod_post, expert_post, hana_post) = (
        post("コーディネーターの投稿").await,
        post("モデレーターの返事").await,
        post("専門家の返事").await,
        post("はなの返事").await,
    );

    let page = hana.get(&topic).await;
    let badge = |id: i64| {
        page.select(&format!("#post-{id} .post-meta .badge"))
            .join("|")
    };
    assert_eq!(badge(coord_post), "コーディネーター");
    assert_eq!(badge(mod_post), "モデレーター");
    assert_eq!(badge(expert_post), "専門家");
    assert_eq!(badge(hana_post), "");
    // Read with the name: each post is named by its author and the badge.
    let named_by = |id: i64| page.attr(&format!("#post-{id} article"), "aria-labelledby");
    assert_eq!(
        named_by(mod_post),
        Some(format!("post-{mod_post}-author post-{mod_post}-badge"))
    );
    assert_eq!(
        named_by(hana_post),
        Some(format!("post-{hana_post}-author"))
    );
    let block_link = |id: i64| page.select(&format!("#post-{id} a.block-link")).len();
    assert_eq!(block_link(coord_post), 0, "no block offered for staff");
    assert_eq!(block_link(mod_post), 0);
    assert_eq!(block_link(expert_post), 1, "experts are not staff");

    for staff_post in [coord_post, mod_post] {
        let asked = hana.get(&format!("/p/{staff_post}/block")).await;
        assert_eq!(asked.status, 403);
        assert!(asked.text().contains("スタッフはブロックできません"));
        assert!(asked.select("form[action$='/block']").is_empty());
        let refused = hana.post_form(&format!("/p/{staff_post}/block"), &[]).await;
        assert_eq!(refused.status, 403);
        assert!(
            refused
                .text()
                .contains("ブロックできないようになっています"),
            "{}",
            refused.text()
        );
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM user_blocks").await, 0);

    // On member pages, and in English.
    let id_of = |name: &'static str| {
        let app = &app;
        async move {
            app.scalar(&format!(
                "SELECT id FROM users WHERE display_name = '{name}'"
            ))
            .await
        }
    };
    let coord_page = hana.get(&format!("/u/{}", id_of("こーでぃ").await)).await;
    assert_eq!(
        coord_page.select("main .badge").join(""),
        "コーディネーター"
    );
    let hana_page = hana.get(&format!("/u/{}", id_of("はな").await)).await;
    assert!(hana_page.select("main .badge").is_empty());
    assert!(hana_page.text().contains("メンバー"));
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let page = hana.get(&topic).await;
    assert_eq!(
        page.select(&format!("#post-{expert_post} .badge")).join(""),
        "Expert"
    );
    let coord_page = hana.get(&format!("/u/{}", id_of("こーでぃ").await)).await;
    assert_eq!(coord_page.select("main .badge").join(""), "Coordinator");
    app.shutdown().await;
}
both_databases!(staff_and_experts_wear_a_badge_and_staff_cannot_be_blocked);

async fn forms_keep_what_was_typed_and_tie_problems_to_their_inputs(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let link = invite(&app, &coordinator, "taro@example.org", "member", "patient").await;
    let taro = app.client();
    taro.get(&link).await;

    // A name in use: the name and both passwords come back as typed.
    let taken = post_join(&taro, &link, "ひまわり").await;
    assert_eq!(taken.status, 422);
    tied_to_input(&taken, "display_name", TAKEN);
    assert_eq!(
        taken.attr("#display_name", "aria-describedby").as_deref(),
        Some("display_name_hint display_name-error")
    );
    assert_eq!(taken.attr("#password", "value").as_deref(), Some(PASSWORD));
    assert_eq!(
        taken.attr("#password_confirm", "value").as_deref(),
        Some(PASSWORD)
    );
    assert_eq!(taken.header("cache-control"), Some("no-store"));
    not_marked(&taken, "password");
    not_marked(&taken, "password_confirm");

    // Passwords that differ: typed again, the name kept.
    let mismatch = taro
        .post_form(
            &link,
            &[
                ("display_name", "たろう"),
                ("password", PASSWORD),
                ("password_confirm", "ちがうパスワードですよね"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    tied_to_input(&mismatch, "password_confirm", "一致しません");
    not_marked(&mismatch, "display_name");
    assert_eq!(
        mismatch.attr("#display_name", "value").as_deref(),
        Some("たろう")
    );
    assert_eq!(mismatch.attr("#password", "value").as_deref(), Some(""));
    let taro = join(&app, &link, "たろう").await;

    // Asking for a reset, and choosing the new password.
    let visitor = app.client();
    visitor.get("/reset").await;
    let bad = visitor
        .post_form("/reset", &[("email", "not an address")])
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.attr("#email", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        bad.attr("#email", "value").as_deref(),
        Some("not an address")
    );
    visitor
        .post_form("/reset", &[("email", "taro@example.org")])
        .await;
    let mail = app
        .mail
        .wait_for(
            |m| m.is_to("taro@example.org") && m.text.contains("/reset/"),
            crate::common::MAIL_WAIT,
        )
        .await;
    let reset_link = mail.link(&format!("{}/reset/", app.base_url()));
    visitor.get(&reset_link).await;
    let short = visitor
        .post_form(
            &reset_link,
            &[("password", "short"), ("password_confirm", "short")],
        )
        .await;
    assert_eq!(short.status, 422);
    tied_to_input(&short, "password", "10文字以上");
    assert_eq!(
        short.attr("#password", "aria-describedby").as_deref(),
        Some("password_hint password-error")
    );

    // The account page: each of its forms ties its own inputs.
    let wrong = {
        taro.get("/account").await;
        taro.post_form(
            "/account/password",
            &[
                ("current_password", "まちがったパスワードです"),
                ("password", "あたらしいパスワードにします"),
                ("password_confirm", "あたらしいパスワードにします"),
            ],
        )
        .await
    };
    assert_eq!(wrong.status, 422);
    tied_to_input(&wrong, "current_password", "パスワード");
    not_marked(&wrong, "password");
    not_marked(&wrong, "display_name");
    let email = {
        taro.get("/account").await;
        taro.post_form(
            "/account/email",
            &[
                ("new_email", "new@example.org"),
                ("current_password", "ちがいます"),
            ],
        )
        .await
    };
    assert_eq!(email.status, 422);
    tied_to_input(&email, "email_current_password", "パスワード");
    assert_eq!(
        email.attr("#new_email", "value").as_deref(),
        Some("new@example.org")
    );
    let name = rename(&taro, "ひまわり").await;
    tied_to_input(&name, "display_name", TAKEN);
    assert_eq!(
        name.attr("#display_name", "value").as_deref(),
        Some("ひまわり")
    );
    app.shutdown().await;
}
both_databases!(forms_keep_what_was_typed_and_tie_problems_to_their_inputs);
