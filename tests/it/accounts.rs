//! Joining, logging in and out, resetting and changing a password, changing the e-mail address.

use crate::common::TestApp;
use crate::journeys::{
    OTHER_PASSWORD, PASSWORD, first_coordinator, invite, is_logged_in, join, login, member,
};

async fn invitation_leads_to_a_home_page_closed_to_others(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let visitor = app.client();
    let closed = visitor.get("/").await;
    assert_eq!(closed.status, 303);
    assert_eq!(closed.redirect_path(), "/login");

    let link = invite(&app, &coordinator, "Hana@Example.org", "member", "family").await;
    let mail = app.mail.wait_for_mail_to("hana@example.org").await;
    assert!(mail.subject.contains("ご招待"), "subject: {}", mail.subject);
    assert!(
        mail.text.contains("ひまわり"),
        "the inviter's name is in the mail: {}",
        mail.text
    );
    assert!(
        mail.html.contains(&link),
        "the HTML part carries the link too"
    );

    let hana = join(&app, &link, "はな").await;
    let home = hana.get("/").await;
    assert_eq!(home.status, 200);
    assert!(
        home.text().contains("こんにちは、はなさん"),
        "{}",
        home.text()
    );
    assert!(
        !home.text().contains("coord@example.org"),
        "no other member's address on a member's page"
    );
    assert!(
        hana.get("/admin/invitations").await.status == 404,
        "members do not see coordinator tools"
    );

    // The link is single use.
    let again = app.client().get(&link).await;
    assert_eq!(again.status, 410);
    assert!(
        again.text().contains("すでにアカウントが作られています"),
        "{}",
        again.text()
    );

    let logout = hana.post_form("/logout", &[]).await;
    assert_eq!(logout.redirect_path(), "/login");
    assert!(!is_logged_in(&hana).await);

    let (browser, answer) = login(&app, "HANA@example.org ", PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert!(is_logged_in(&browser).await);
    app.shutdown().await;
}
both_databases!(invitation_leads_to_a_home_page_closed_to_others);

async fn login_failures_never_tell_who_is_a_member(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    member(&app, &coordinator, "hana@example.org", "はな").await;
    let (_, wrong_password) = login(&app, "hana@example.org", "まちがったパスワードです").await;
    let (_, unknown) = login(&app, "nobody@example.org", "まちがったパスワードです").await;
    assert_eq!(wrong_password.status, 422);
    assert_eq!(unknown.status, 422);
    let message = |page: &crate::common::Page| page.select(".errors").join(" ");
    assert_eq!(message(&wrong_password), message(&unknown));
    assert!(message(&unknown).contains("メールアドレスかパスワードが違うようです"));
    // The address typed is kept in the form.
    assert_eq!(
        unknown.attr("input[name=email]", "value").as_deref(),
        Some("nobody@example.org")
    );
    app.shutdown().await;
}
both_databases!(login_failures_never_tell_who_is_a_member);

async fn password_reset_by_mail(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let before = app.mail.count();

    let visitor = app.client();
    visitor.get("/reset").await;
    let unknown = visitor
        .post_form("/reset", &[("email", "nobody@example.org")])
        .await;
    visitor.get("/reset").await;
    let known = visitor
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(
        unknown.select("main").join(""),
        known.select("main").join(""),
        "same answer either way"
    );

    let mail = app
        .mail
        .wait_for(
            |m| m.is_to("hana@example.org") && m.subject.contains("パスワード"),
            crate::common::MAIL_WAIT,
        )
        .await;
    assert_eq!(
        app.mail.count(),
        before + 1,
        "no mail for an unknown address"
    );
    let link = mail.link(&format!("{}/reset/", app.base_url()));

    let reader = app.client();
    assert_eq!(reader.get(&link).await.status, 200);
    let weak = reader
        .post_form(
            &link,
            &[
                ("password", "password123"),
                ("password_confirm", "password123"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.text().contains("よく使われていて"), "{}", weak.text());
    let (_, still_old) = login(&app, "hana@example.org", PASSWORD).await;
    assert_eq!(
        still_old.status, 303,
        "a refused new password changes nothing"
    );

    let done = reader
        .post_form(
            &link,
            &[
                ("password", OTHER_PASSWORD),
                ("password_confirm", OTHER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(is_logged_in(&reader).await, "a reset logs the reader in");
    assert!(
        !is_logged_in(&hana).await,
        "a reset ends every other session"
    );
    let (_, old) = login(&app, "hana@example.org", PASSWORD).await;
    assert_eq!(old.status, 422);
    let (_, new) = login(&app, "hana@example.org", OTHER_PASSWORD).await;
    assert_eq!(new.status, 303);
    assert_eq!(
        app.client().get(&link).await.status,
        410,
        "the link is single use"
    );

    // An expired link cannot be used.
    visitor.get("/reset").await;
    visitor
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;
    let second = app
        .mail
        .wait_for(
            |m| {
                m.is_to("hana@example.org") && m.text.contains("/reset/") && !m.text.contains(&link)
            },
            crate::common::MAIL_WAIT,
        )
        .await;
    let second_link = second.link(&format!("{}/reset/", app.base_url()));
    app.execute("UPDATE user_tokens SET expires_at = 0").await;
    assert_eq!(app.client().get(&second_link).await.status, 410);
    app.shutdown().await;
}
both_databases!(password_reset_by_mail);

async fn password_change_ends_other_sessions(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let phone = member(&app, &coordinator, "hana@example.org", "はな").await;
    let (laptop, _) = login(&app, "hana@example.org", PASSWORD).await;
    assert!(is_logged_in(&laptop).await);

    phone.get("/account").await;
    let wrong = phone
        .post_form(
            "/account/password",
            &[
                ("current_password", "ちがうパスワードです"),
                ("password", OTHER_PASSWORD),
                ("password_confirm", OTHER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(is_logged_in(&laptop).await, "a refused change ends nothing");

    phone.get("/account").await;
    let changed = phone
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", OTHER_PASSWORD),
                ("password_confirm", OTHER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    assert!(
        is_logged_in(&phone).await,
        "the session that changed it stays"
    );
    assert!(!is_logged_in(&laptop).await, "every other session ends");
    let notice = app
        .mail
        .wait_for(
            |m| m.is_to("hana@example.org") && m.subject.contains("パスワードが変更"),
            crate::common::MAIL_WAIT,
        )
        .await;
    assert!(notice.text.contains("はな"));
    app.shutdown().await;
}
both_databases!(password_change_ends_other_sessions);

async fn email_change_is_confirmed_from_the_new_address(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    hana.get("/account").await;
    let wrong = hana
        .post_form(
            "/account/email",
            &[
                ("new_email", "hana.new@example.org"),
                ("current_password", "ちがうパスワードです"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong.attr("input[name=new_email]", "value").as_deref(),
        Some("hana.new@example.org")
    );

    hana.get("/account").await;
    let asked = hana
        .post_form(
            "/account/email",
            &[
                ("new_email", "Hana.New@example.org"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(asked.status, 303);
    let mail = app.mail.wait_for_mail_to("hana.new@example.org").await;
    let link = mail.link(&format!("{}/account/email/confirm/", app.base_url()));

    // Opening the link changes nothing by itself (mail scanners follow links).
    let confirm = app.client();
    assert_eq!(confirm.get(&link).await.status, 200);
    let (_, still_old) = login(&app, "hana@example.org", PASSWORD).await;
    assert_eq!(still_old.status, 303);

    let done = confirm.post_form(&link, &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let notice = app
        .mail
        .wait_for(
            |m| m.is_to("hana@example.org") && m.text.contains("hana.new@example.org"),
            crate::common::MAIL_WAIT,
        )
        .await;
    assert!(notice.subject.contains("メールアドレスが変更"));
    let (_, old) = login(&app, "hana@example.org", PASSWORD).await;
    assert_eq!(old.status, 422);
    let (_, new) = login(&app, "hana.new@example.org", PASSWORD).await;
    assert_eq!(new.status, 303);
    assert_eq!(app.client().get(&link).await.status, 410, "single use");
    app.shutdown().await;
}
both_databases!(email_change_is_confirmed_from_the_new_address);

async fn display_names_are_unique_and_forms_keep_what_was_typed(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    member(&app, &coordinator, "hana@example.org", "Hana Sun").await;
    let link = invite(&app, &coordinator, "taro@example.org", "member", "patient").await;
    let taro = app.client();
    taro.get(&link).await;
    let taken = taro
        .post_form(
            &link,
            &[
                ("display_name", "ｈａｎａ　ｓｕｎ"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(
        taken
            .text()
            .contains("この表示名は、すでに使われている名前と同じか"),
        "{}",
        taken.text()
    );
    assert_eq!(
        taken.attr("input[name=display_name]", "value").as_deref(),
        Some("ｈａｎａ　ｓｕｎ")
    );

    let long_name = "な".repeat(5000);
    let too_long = taro
        .post_form(
            &link,
            &[
                ("display_name", &long_name),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(too_long.status, 422);
    let text = too_long.text();
    assert!(
        text.contains("20文字まで") && text.contains("10文字以上"),
        "both problems are named: {text}"
    );

    let mismatch = taro
        .post_form(
            &link,
            &[
                ("display_name", "たろう"),
                ("password", PASSWORD),
                ("password_confirm", OTHER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.text().contains("一致しません"));
    assert_eq!(
        taro.get(&link).await.status,
        200,
        "the invitation is still open after refused forms"
    );

    let joined = taro
        .post_form(
            &link,
            &[
                ("display_name", "たろう"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.status, 303);
    app.shutdown().await;
}
both_databases!(display_names_are_unique_and_forms_keep_what_was_typed);

async fn english_is_complete_and_chosen_by_setting_or_browser(app: TestApp) {
    let visitor = app.client();
    let english = visitor
        .get_with_headers("/login", &[("accept-language", "en-US,en;q=0.9")])
        .await;
    assert!(english.text().contains("Log in"), "{}", english.text());
    assert_eq!(english.attr("html", "lang").as_deref(), Some("en"));
    let japanese = app.client().get("/login").await;
    assert!(japanese.text().contains("ログイン"));
    assert_eq!(japanese.attr("html", "lang").as_deref(), Some("ja"));

    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    coordinator.get("/").await;
    let saved = coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    assert_eq!(saved.status, 303);
    coordinator.get("/").await;
    coordinator
        .post_form("/preferences", &[("text_size", "xlarge")])
        .await;
    let home = coordinator.get("/").await;
    assert!(home.text().contains("Hello, ひまわり"), "{}", home.text());
    assert_eq!(home.attr("html", "class").as_deref(), Some("size-xlarge"));
    // The setting is the member's, not the browser's: it holds in a new session too.
    let (again, _) = login(&app, "coord@example.org", PASSWORD).await;
    let home = again.get("/").await;
    assert!(home.text().contains("Hello, ひまわり"));
    app.shutdown().await;
}
both_databases!(english_is_complete_and_chosen_by_setting_or_browser);
