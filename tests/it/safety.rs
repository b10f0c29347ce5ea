//! Safety: watched words kept by moderators, crisis words and the support page kept by
//! coordinators, every change logged in its own transaction, and the urgent alert mailed to
//! every active moderator and coordinator exactly once.

use hidamari::domain::log::TargetKind;
use hidamari::safety::AlertCause;

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};
use crate::journeys::{member, member_as};

/// The coordinator, a moderator and a member, by e-mail address.
async fn team(app: &TestApp) -> (Browser, Browser, Browser) {
    let (coordinator, moderator) = crate::journeys::staff(app).await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    (coordinator, moderator, hana)
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

async fn log_rows(app: &TestApp, action: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
    ))
    .await
}

/// Posts a form from the page it is on (so its CSRF token is the page's).
async fn submit(browser: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    browser.get(page).await;
    browser.post_form(action, fields).await
}

async fn add_watched(browser: &Browser, word: &str, action: &str) -> Page {
    submit(
        browser,
        "/mod/words",
        "/mod/words",
        &[("word", word), ("action", action)],
    )
    .await
}

async fn staff_pages_follow_the_roles(app: TestApp) {
    let (coordinator, moderator, hana) = team(&app).await;
    let crisis = app
        .scalar("SELECT id FROM crisis_words WHERE word = '死にたい'")
        .await;
    let crisis_remove = format!("/admin/crisis-words/{crisis}/delete");

    for page in ["/mod/words", "/admin/crisis-words", "/admin/support"] {
        assert_eq!(hana.get(page).await.status, 404, "a member on {page}");
        assert_eq!(
            coordinator.get(page).await.status,
            200,
            "the coordinator on {page}"
        );
    }
    for (action, fields) in [
        ("/mod/words", vec![("word", "宣伝"), ("action", "block")]),
        ("/admin/crisis-words", vec![("word", "もう限界")]),
        ("/admin/support", vec![("body", "書きかえ")]),
        (crisis_remove.as_str(), vec![]),
    ] {
        let refused = submit(&hana, "/", action, &fields).await;
        assert_eq!(refused.status, 404, "a member posting to {action}");
    }

    // A moderator keeps the watched words, not the crisis words or the support page.
    assert_eq!(moderator.get("/mod/words").await.status, 200);
    assert_eq!(moderator.get("/admin/crisis-words").await.status, 404);
    assert_eq!(moderator.get("/admin/support").await.status, 404);
    for (action, fields) in [
        ("/admin/crisis-words", vec![("word", "もう限界")]),
        ("/admin/support", vec![("body", "書きかえ")]),
        (crisis_remove.as_str(), vec![]),
    ] {
        let refused = submit(&moderator, "/mod/words", action, &fields).await;
        assert_eq!(refused.status, 404, "a moderator posting to {action}");
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM crisis_words WHERE word = '死にたい'")
            .await,
        1,
        "the crisis word is still there"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM watched_words").await
            + app
                .scalar("SELECT COUNT(*) FROM crisis_words WHERE word = 'もう限界'")
                .await
            + app.scalar("SELECT COUNT(*) FROM site_settings WHERE name = 'support_page'").await
            + app.scalar("SELECT COUNT(*) FROM audit_log WHERE target_kind IN ('watched_word', 'crisis_word', 'setting')").await,
        0,
        "nothing refused was stored or logged"
    );

    // Staff find their page from the staff's home in the header; every member finds the
    // support page in the footer.
    let home = moderator.get("/").await;
    assert!(
        home.attrs("header a", "href")
            .contains(&"/admin".to_owned())
    );
    let staff_home = moderator.get("/admin").await;
    assert!(
        staff_home
            .attrs("main a", "href")
            .contains(&"/mod/words".to_owned())
    );
    let home = hana.get("/").await;
    assert!(
        !home
            .attrs("header a", "href")
            .contains(&"/admin".to_owned())
    );
    assert!(
        home.attrs("footer a", "href")
            .contains(&"/support".to_owned())
    );
    app.shutdown().await;
}
both_databases!(staff_pages_follow_the_roles);

async fn moderators_keep_the_watched_words(app: TestApp) {
    let (_coordinator, moderator, _hana) = team(&app).await;
    let moderator_id = user_id(&app, "mod@example.org").await;

    let added = add_watched(&moderator, "ｻﾌﾟﾘ", "flag").await;
    assert_eq!(added.status, 303, "{}", added.text());
    let page = moderator.follow(&added).await;
    assert!(
        page.text().contains("「ｻﾌﾟﾘ」を追加しました"),
        "{}",
        page.text()
    );
    assert!(page.select("td.word").contains(&"ｻﾌﾟﾘ".to_owned()));
    let id = app
        .scalar("SELECT id FROM watched_words WHERE word = 'ｻﾌﾟﾘ' AND action = 'flag'")
        .await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'watched_word.added' \
             AND target_kind = 'watched_word' AND target_id = {id} AND actor_id = {moderator_id}"
        ))
        .await,
        1,
        "the addition is logged with who, what and which"
    );

    // Posts are screened against it, and against the seeded crisis words, on this database.
    let mut conn = app.db().conn().await.expect("a connection");
    let screening = hidamari::safety::screen(conn.exec(), "さぷりの話\nもうイナクナリタイ")
        .await
        .expect("screened");
    drop(conn);
    assert!(screening.flag && screening.crisis, "{screening:?}");
    assert!(
        screening.block.is_none() && !screening.hold,
        "{screening:?}"
    );

    // Refused: each with its reason, what was typed kept, nothing stored or logged.
    let long = "あ".repeat(101);
    for (word, action, reason) in [
        ("サプリ", "hold", "「ｻﾌﾟﾘ」がすでに登録されています"),
        ("さぷり", "block", "「ｻﾌﾟﾘ」がすでに登録されています"),
        ("\u{3000} ", "block", "言葉を入力してください"),
        (long.as_str(), "block", "100文字までにしてください"),
        ("宣伝", "", "扱いを選んでください"),
        ("宣伝", "delete", "扱いを選んでください"),
    ] {
        let refused = add_watched(&moderator, word, action).await;
        assert_eq!(refused.status, 422, "{word:?} {action:?}");
        assert!(
            refused.text().contains(reason),
            "{word:?}: {}",
            refused.text()
        );
        assert_eq!(
            refused.attr("input[name=word]", "value").as_deref(),
            Some(word),
            "what was typed stays"
        );
    }
    moderator.get("/mod/words").await;
    let forged = moderator
        .post_form(
            "/mod/words",
            &[("word", "宣伝"), ("action", "block"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let control = add_watched(&moderator, "宣\u{7}伝", "block").await;
    assert_eq!(control.status, 400);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM watched_words").await, 1);
    assert_eq!(log_rows(&app, "watched_word.added").await, 1);

    // In English, the refusal is in English.
    let english_now = submit(&moderator, "/", "/preferences", &[("locale", "en")]).await;
    assert_eq!(english_now.status, 303);
    let refused = add_watched(&moderator, "SAPURI", "").await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("Please choose what happens to a post with this word."),
        "{}",
        refused.text()
    );

    let removed = submit(
        &moderator,
        "/mod/words",
        &format!("/mod/words/{id}/delete"),
        &[],
    )
    .await;
    assert_eq!(removed.status, 303);
    assert!(
        moderator
            .follow(&removed)
            .await
            .text()
            .contains("“ｻﾌﾟﾘ” was removed.")
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM watched_words").await, 0);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'watched_word.removed' \
             AND target_id = {id} AND reason = 'ｻﾌﾟﾘ'"
        ))
        .await,
        1
    );
    let again = submit(
        &moderator,
        "/mod/words",
        &format!("/mod/words/{id}/delete"),
        &[],
    )
    .await;
    assert_eq!(again.status, 404, "an unknown word");
    assert_eq!(
        log_rows(&app, "watched_word.removed").await,
        1,
        "and no log row for it"
    );
    app.shutdown().await;
}
both_databases!(moderators_keep_the_watched_words);

async fn coordinators_keep_the_crisis_words(app: TestApp) {
    let (coordinator, _moderator, _hana) = team(&app).await;
    let page = coordinator.get("/admin/crisis-words").await;
    let seeded = page.select("td.word");
    for word in ["死にたい", "消えたい", "want to die", "kill myself"] {
        assert!(
            seeded.contains(&word.to_owned()),
            "{word} seeded: {seeded:?}"
        );
    }
    assert!(
        page.select("form[action='/admin/crisis-words'] input[name=action]")
            .is_empty(),
        "crisis words have no action to choose"
    );

    let refused = submit(
        &coordinator,
        "/admin/crisis-words",
        "/admin/crisis-words",
        &[("word", "ＷＡＮＴ  ＴＯ ＤＩＥ")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("「want to die」がすでに登録されています"),
        "{}",
        refused.text()
    );
    let added = submit(
        &coordinator,
        "/admin/crisis-words",
        "/admin/crisis-words",
        &[("word", "もう限界")],
    )
    .await;
    assert_eq!(added.status, 303, "{}", added.text());
    let id = app
        .scalar("SELECT id FROM crisis_words WHERE word = 'もう限界'")
        .await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'crisis_word.added' \
             AND target_kind = 'crisis_word' AND target_id = {id} AND reason = 'もう限界'"
        ))
        .await,
        1
    );

    let seeded_id = app
        .scalar("SELECT id FROM crisis_words WHERE word = 'suicide'")
        .await;
    let removed = submit(
        &coordinator,
        "/admin/crisis-words",
        &format!("/admin/crisis-words/{seeded_id}/delete"),
        &[],
    )
    .await;
    assert_eq!(removed.status, 303);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM crisis_words WHERE word = 'suicide'")
            .await,
        0
    );
    assert_eq!(log_rows(&app, "crisis_word.removed").await, 1);
    app.shutdown().await;
}
both_databases!(coordinators_keep_the_crisis_words);

async fn the_support_page_starts_seeded_and_coordinators_edit_it(app: TestApp) {
    let (coordinator, moderator, hana) = team(&app).await;
    let page = hana.get("/support").await;
    assert_eq!(page.status, 200);
    for text in [
        "いのちの電話",
        "よりそいホットライン",
        "0120-279-226",
        "コーディネーターの方へ",
    ] {
        assert!(page.text().contains(text), "{text}: {}", page.text());
    }
    assert!(
        !page
            .attrs("main a", "href")
            .contains(&"/admin/support".to_owned())
    );
    assert!(
        coordinator
            .get("/support")
            .await
            .attrs("main a", "href")
            .contains(&"/admin/support".to_owned())
    );
    let form = coordinator.get("/admin/support").await;
    assert!(
        form.select("textarea[name=body]")
            .join("")
            .contains("よりそいホットライン"),
        "the editor starts from the seeded text"
    );

    for (body, reason) in [
        (" \n ", "本文を入力してください"),
        (&"あ".repeat(20_001) as &str, "20000文字までにしてください"),
    ] {
        let refused = submit(
            &coordinator,
            "/admin/support",
            "/admin/support",
            &[("body", body)],
        )
        .await;
        assert_eq!(refused.status, 422);
        assert!(refused.text().contains(reason), "{}", refused.text());
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM site_settings WHERE name = 'support_page'")
            .await,
        0
    );
    assert_eq!(log_rows(&app, "support_page.edited").await, 0);

    let saved = submit(
        &coordinator,
        "/admin/support",
        "/admin/support",
        &[(
            "body",
            "# 陽だまりの窓口\n\n- **電話**：022-000-0000（平日10時〜16時）\n\n<script>alert(1)</script>",
        )],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(saved.redirect_path(), "/support");
    let page = moderator.get("/support").await;
    assert!(page.body.contains("<strong>電話</strong>"), "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "raw HTML is text");
    assert!(
        !page.text().contains("よりそいホットライン"),
        "the seeded text is replaced"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'support_page.edited' \
             AND target_kind = 'setting'"
        )
        .await,
        1
    );
    app.shutdown().await;
}
both_databases!(the_support_page_starts_seeded_and_coordinators_edit_it);

async fn an_alert_reaches_every_moderator_once(app: TestApp) {
    let (coordinator, moderator, _hana) = team(&app).await;
    let english = member_as(
        &app,
        &coordinator,
        "mod2@example.org",
        "moderator",
        "supporter",
        "ふたりめ",
    )
    .await;
    let english_now = submit(&english, "/", "/preferences", &[("locale", "en")]).await;
    assert_eq!(english_now.status, 303);
    member_as(
        &app,
        &coordinator,
        "gone@example.org",
        "moderator",
        "supporter",
        "やめたひと",
    )
    .await;
    app.execute("UPDATE users SET status = 'deactivated' WHERE email = 'gone@example.org'")
        .await;
    drop(moderator);
    let hana = user_id(&app, "hana@example.org").await;
    let before = app.mail.count();

    let mut work = app.app().work().await.expect("a unit of work");
    hidamari::safety::alert(
        &mut work,
        AlertCause::CrisisWords,
        TargetKind::Post,
        12,
        hana,
        "/p/12",
    )
    .await
    .expect("the alert");
    work.commit().await.expect("committed");

    let link = app.url("/p/12");
    for (address, subject) in [
        ("coord@example.org", "【至急】"),
        ("mod@example.org", "【至急】"),
        ("mod2@example.org", "[URGENT]"),
    ] {
        let mail = app
            .mail
            .wait_for(|m| m.seq >= before && m.is_to(address), MAIL_WAIT)
            .await;
        assert!(
            mail.subject.contains(subject),
            "{address}: {}",
            mail.subject
        );
        assert_eq!(mail.link(&link), link, "{address}: {}", mail.text);
        assert!(
            mail.text.contains("確認の一覧") || mail.text.contains("open the review queue"),
            "the mail says where to look, not what was written: {}",
            mail.text
        );
    }
    // Every mail is written in the alert's transaction, so the outbox holds all there will be.
    for (address, expected) in [
        ("coord@example.org", 1),
        ("mod@example.org", 1),
        ("mod2@example.org", 1),
        ("hana@example.org", 0),
        ("gone@example.org", 0),
    ] {
        let urgent = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM outbox WHERE recipient = '{address}' \
                 AND (subject LIKE '%至急%' OR subject LIKE '%URGENT%')"
            ))
            .await;
        assert_eq!(
            urgent, expected,
            "{address}: staff once, others (or the deactivated) never"
        );
        let received = app.mail.messages_to(address);
        let received = received.iter().filter(|m| m.seq >= before).count();
        assert_eq!(received, expected as usize, "{address}");
    }
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM alerts WHERE cause = 'crisis_words' AND target_kind = 'post' \
             AND target_id = 12 AND subject_user_id = {hana} AND acknowledged_at IS NULL"
        ))
        .await,
        1
    );
    app.shutdown().await;
}
both_databases!(an_alert_reaches_every_moderator_once);
