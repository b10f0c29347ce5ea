//! Leaving: a member deletes their own account (`/account/delete`), and the registry of member
//! data (src/db/member_data.rs) that says what deletion does with every table.

use hidamari::db::member_data;

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{
    Footprints, PASSWORD, category_id, first_coordinator, footprints, invite, is_logged_in, join,
    login, member, member_as, reply, staff, start_topic,
};

const TOMBSTONE: &str = "退会したメンバー";

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

/// Goes through both pages as a member would, ending with the password: the final answer.
async fn leave(browser: &Browser, content: &str, password: &str) -> Page {
    let first = browser.get("/account/delete").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(
        first
            .attrs("form", "action")
            .contains(&"/account/delete/confirm".to_owned()),
        "{}",
        first.text()
    );
    let confirm = browser
        .get(&format!("/account/delete/confirm?content={content}"))
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    assert!(confirm.csrf().is_some(), "{}", confirm.text());
    browser
        .post_form(
            "/account/delete",
            &[("content", content), ("password", password)],
        )
        .await
}

/// The text columns of every table holding `needle`, on the live schema.
async fn found(app: &TestApp, needle: &str) -> Vec<(String, String)> {
    let mut conn = app.db().conn().await.expect("a connection");
    member_data::columns_containing(conn.exec(), needle)
        .await
        .expect("searching every text column")
}

async fn schema_columns(app: &TestApp) -> Vec<(String, String)> {
    let mut conn = app.db().conn().await.expect("a connection");
    member_data::referring_columns(conn.exec())
        .await
        .expect("reading the schema")
}

async fn every_column_referring_to_members_is_in_the_registry(app: TestApp) {
    let columns = schema_columns(&app).await;
    assert!(columns.contains(&("posts".into(), "author_id".into())));
    assert!(columns.contains(&("users".into(), "email".into())));
    let missing: Vec<_> = columns
        .iter()
        .filter(|(t, c)| member_data::entry_for(t, c).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "columns referring to members that the registry of member data (src/db/member_data.rs) \
         does not cover: {missing:?}"
    );
    // Every entry names a real column.
    for e in member_data::REGISTRY {
        app.scalar(&format!("SELECT COUNT({}) FROM {}", e.column, e.table))
            .await;
    }
    // A new table referring to members is found, in either spelling, until it is covered.
    app.execute(
        "CREATE TABLE leave_probe (id BIGINT PRIMARY KEY, owner BIGINT REFERENCES users (id), \
         helper_user_id BIGINT)",
    )
    .await;
    let columns = schema_columns(&app).await;
    for column in ["owner", "helper_user_id"] {
        assert!(
            columns.contains(&("leave_probe".into(), column.into())),
            "{column}: {columns:?}"
        );
        assert!(member_data::entry_for("leave_probe", column).is_none());
    }
    app.shutdown().await;
}
both_databases!(every_column_referring_to_members_is_in_the_registry);

async fn deleting_an_account_leaves_no_personal_data(app: TestApp) {
    app.set_review_threshold(0).await;
    let (coordinator, moderator) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はなみずき").await;
    let sora = member(&app, &coordinator, "sora@example.org", "そらまめ").await;
    let hana_id = user_id(&app, "hana@example.org").await;
    let sora_id = user_id(&app, "sora@example.org").await;

    // Hana writes, reacts, follows, blocks, reports, tells about herself; and is reported.
    let Footprints {
        topic,
        hana_post,
        room,
    } = footprints(&app, &coordinator, &hana, &sora, hana_id).await;
    sora.get(&format!("/p/{hana_post}/report")).await;
    let reported = sora
        .post_form(
            &format!("/p/{hana_post}/report"),
            &[("reason", "harassment"), ("note", "")],
        )
        .await;
    assert_eq!(reported.status, 303, "{}", reported.text());
    // An export of her data, prepared and waiting for her to download it.
    hana.get("/account/export").await;
    let export = hana.post_form("/account/export", &[]).await;
    assert_eq!(export.status, 303, "{}", export.text());
    let started = std::time::Instant::now();
    while app
        .scalar("SELECT COUNT(*) FROM data_exports WHERE ready_at IS NOT NULL")
        .await
        == 0
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(app.scalar("SELECT COUNT(*) FROM data_export_parts").await > 0);
    // Mail to her waiting in the outbox (a reset link), besides the invitation sent.
    let visitor = app.client();
    visitor.get("/reset").await;
    visitor
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;
    assert!(
        app.scalar("SELECT COUNT(*) FROM outbox WHERE recipient = 'hana@example.org'")
            .await
            >= 2
    );
    // Before: the address and the name are found (the search can fail).
    assert!(!found(&app, "hana@example.org").await.is_empty());
    assert!(!found(&app, "はなみずき").await.is_empty());

    // Someone else's id in the form changes nothing: only the session's own account is deleted.
    let answer = hana
        .post_form(
            "/account/delete",
            &[
                ("content", "keep"),
                ("password", PASSWORD),
                ("user_id", &sora_id.to_string()),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert_eq!(answer.redirect_path(), "/goodbye");
    let goodbye = hana.get("/goodbye").await;
    assert_eq!(goodbye.status, 200);
    assert!(
        goodbye.text().contains("退会しました"),
        "{}",
        goodbye.text()
    );
    assert!(!is_logged_in(&hana).await);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {sora_id} AND deleted_at IS NULL"
        ))
        .await,
        1
    );

    // No personal data is left in any table.
    assert_eq!(found(&app, "hana@example.org").await, vec![]);
    assert_eq!(found(&app, "はなみずき").await, vec![]);
    assert_eq!(found(&app, "庭いじり").await, vec![]);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {hana_id} AND quiet_from IS NULL \
             AND quiet_until IS NULL"
        ))
        .await,
        1
    );
    for table in [
        "user_tokens",
        "post_reactions",
        "topic_reads",
        "topic_subscriptions",
        "notifications",
        "drafts",
        "cafe_reminders",
        "notify_prefs",
        "member_profiles",
        "data_exports",
    ] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE user_id = {hana_id}"
            ))
            .await,
            0,
            "{table}"
        );
    }
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM user_blocks WHERE blocker_id = {hana_id}"
        ))
        .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM data_export_parts").await,
        0
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'account.export' AND job_key = '{hana_id}'"
        ))
        .await,
        0
    );
    // Logged with her id only.
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.deleted' \
             AND actor_id = {hana_id} AND reason = ''"
        ))
        .await,
        1
    );

    // What she wrote stays, under 退会したメンバー: in the topic, the café and the staff's reports.
    let page = sora.get(&topic).await;
    assert!(
        page.text().contains("川沿いの桜並木を歩きました"),
        "{}",
        page.text()
    );
    assert!(page.text().contains(TOMBSTONE), "{}", page.text());
    let cafe = sora.get(&format!("/cafe/{room}")).await;
    assert!(cafe.text().contains("カフェで話せてうれしいです"));
    assert!(cafe.text().contains(TOMBSTONE), "{}", cafe.text());
    let reports = moderator.get("/mod/reports").await;
    assert!(reports.text().contains(TOMBSTONE), "{}", reports.text());
    let search = sora.get("/search?q=%E6%A1%9C%E4%B8%A6%E6%9C%A8").await;
    assert!(search.text().contains(TOMBSTONE), "{}", search.text());

    // The old address logs in like an unknown one, and can be invited again as a new member.
    let (_, old) = login(&app, "hana@example.org", PASSWORD).await;
    let (_, unknown) = login(&app, "nobody@example.org", PASSWORD).await;
    assert_eq!(old.status, 422);
    assert_eq!(old.select(".errors"), unknown.select(".errors"));
    let link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let again = join(&app, &link, "はなみずき").await;
    assert!(is_logged_in(&again).await);
    assert_ne!(user_id(&app, "hana@example.org").await, hana_id);
    app.shutdown().await;
}
both_databases!(deleting_an_account_leaves_no_personal_data);

async fn deleting_what_one_wrote_takes_it_from_topics_and_search(app: TestApp) {
    app.set_review_threshold(0).await;
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はなみずき").await;
    let sora = member(&app, &coordinator, "sora@example.org", "そらまめ").await;
    let category = category_id(&app, "雑談").await;
    let topic = start_topic(&sora, category, "春の散歩の話", "桜が咲きました").await;
    reply(&hana, &topic, "ひまわり畑の迷路で遊びました").await;
    let own = start_topic(&hana, category, "はなの庭だより", "チューリップ畑の手入れ").await;
    reply(&sora, &own, "また教えてください").await;
    let search = sora
        .get("/search?q=%E3%81%B2%E3%81%BE%E3%82%8F%E3%82%8A%E7%95%91")
        .await;
    assert!(search.text().contains("迷路"), "{}", search.text());

    let answer = leave(&hana, "delete", PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.text());

    let page = sora.get(&topic).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("桜が咲きました"));
    assert!(!page.text().contains("ひまわり畑"), "{}", page.text());
    let garden = sora.get(&own).await;
    assert!(
        garden.text().contains("また教えてください"),
        "{}",
        garden.text()
    );
    assert!(
        !garden.text().contains("チューリップ畑"),
        "{}",
        garden.text()
    );
    assert!(
        !garden.text().contains("はなの庭だより"),
        "{}",
        garden.text()
    );
    for query in [
        "%E3%81%B2%E3%81%BE%E3%82%8F%E3%82%8A%E7%95%91",
        "%E3%83%81%E3%83%A5%E3%83%BC%E3%83%AA%E3%83%83%E3%83%97",
    ] {
        let search = sora.get(&format!("/search?q={query}")).await;
        assert_eq!(search.status, 200);
        assert!(!search.text().contains("迷路"), "{}", search.text());
        assert!(!search.text().contains("手入れ"), "{}", search.text());
    }
    assert_eq!(found(&app, "ひまわり畑").await, vec![]);
    assert_eq!(found(&app, "チューリップ畑").await, vec![]);
    app.shutdown().await;
}
both_databases!(deleting_what_one_wrote_takes_it_from_topics_and_search);

async fn a_wrong_password_or_no_choice_changes_nothing(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はなみずき").await;
    let confirm = hana.get("/account/delete/confirm?content=keep").await;
    assert!(
        confirm.text().contains("本当に退会しますか"),
        "{}",
        confirm.text()
    );
    let answer = leave(&hana, "keep", "まちがったパスワードです").await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.select(".errors").join(" ").contains("パスワード"),
        "{}",
        answer.text()
    );
    let no_choice = hana.get("/account/delete/confirm?content=maybe").await;
    assert_eq!(no_choice.status, 422);
    assert!(
        no_choice
            .select(".errors")
            .join(" ")
            .contains("選んでください")
    );
    hana.get("/account/delete").await;
    let forged = hana
        .post_form(
            "/account/delete",
            &[("content", ""), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 422);
    assert!(is_logged_in(&hana).await);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM users WHERE email = 'hana@example.org' AND deleted_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'account.deleted'")
            .await,
        0
    );
    // In English too.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let english = leave(&hana, "keep", "still wrong").await;
    assert_eq!(english.status, 422);
    assert!(
        english.text().contains("Do you really want to leave?"),
        "{}",
        english.text()
    );
    app.shutdown().await;
}
both_databases!(a_wrong_password_or_no_choice_changes_nothing);

async fn the_last_coordinator_cannot_leave(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let answer = leave(&coordinator, "keep", PASSWORD).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer
            .select(".errors")
            .join(" ")
            .contains("最後のコーディネーター"),
        "{}",
        answer.text()
    );
    assert!(is_logged_in(&coordinator).await);
    // With a second coordinator, the first may leave; the second then may not.
    let second = member_as(
        &app,
        &coordinator,
        "coord2@example.org",
        "coordinator",
        "supporter",
        "つぎのこーでぃ",
    )
    .await;
    let answer = leave(&coordinator, "keep", PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert!(!is_logged_in(&coordinator).await);
    let answer = leave(&second, "keep", PASSWORD).await;
    assert_eq!(answer.status, 422);
    app.shutdown().await;
}
both_databases!(the_last_coordinator_cannot_leave);

async fn every_session_ends_at_once(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はなみずき").await;
    let (phone, answer) = login(&app, "hana@example.org", PASSWORD).await;
    assert_eq!(answer.status, 303);
    assert!(is_logged_in(&phone).await);
    let answer = leave(&hana, "keep", PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert!(!is_logged_in(&phone).await);
    // The tombstone has no staff page, and cannot be reactivated.
    let id = app
        .scalar("SELECT id FROM users WHERE deleted_at IS NOT NULL")
        .await;
    assert_eq!(
        coordinator.get(&format!("/mod/members/{id}")).await.status,
        404
    );
    coordinator.get("/admin/members").await;
    let refused = coordinator
        .post_form(&format!("/mod/members/{id}/account/reactivate"), &[])
        .await;
    assert_eq!(refused.status, 404, "{}", refused.text());
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {id} AND status = 'deactivated'"
        ))
        .await,
        1
    );
    app.shutdown().await;
}
both_databases!(every_session_ends_at_once);
