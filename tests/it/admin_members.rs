//! The staff's home, the members list, what coordinators change on a member's staff page (role,
//! relation, deactivation, the e-mail address on request) and the site's settings: each change
//! seen at once, logged once, and refused with a clear message when it cannot be made.

use std::time::Duration;

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{PASSWORD, is_logged_in, login, member, member_as, staff};
use crate::moderation_members::logged;

/// Every staff page with no id in its address, and whether moderators may use it.
const STAFF_PAGES: [(&str, bool); 18] = [
    ("/mod/queue", true),
    ("/mod/reports", true),
    ("/mod/cafe", true),
    ("/mod/qa", true),
    ("/mod/words", true),
    ("/mod/log", true),
    ("/admin/members", true),
    ("/admin/invitations", false),
    ("/admin/announcements", false),
    ("/admin/categories", false),
    ("/admin/cafe", false),
    ("/admin/experts", false),
    ("/qa/slots/new", false),
    ("/admin/stats", false),
    ("/admin/settings", false),
    ("/admin/support", false),
    ("/admin/crisis-words", false),
    ("/admin/search-terms", false),
];

async fn id_of(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

/// The display names the members list shows for `query`.
async fn listed(staff: &Browser, query: &str) -> Vec<String> {
    let page = staff.get(&format!("/admin/members{query}")).await;
    assert_eq!(page.status, 200, "{query}: {}", page.text());
    page.select("a.member-link")
}

/// Sends one of the coordinators' forms on member `id`'s page.
async fn manage(staff: &Browser, id: i64, what: &str, fields: &[(&str, &str)]) -> Page {
    staff.get(&format!("/mod/members/{id}")).await;
    staff
        .post_form(&format!("/mod/members/{id}/{what}"), fields)
        .await
}

async fn staff_home_links_every_staff_page(app: TestApp) {
    let (coordinator, moderator) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;

    // The header leads staff to their home (and the queue); the rest of its old entries live
    // there now.
    for browser in [&coordinator, &moderator] {
        let header = browser.get("/").await.attrs("header a", "href");
        assert!(header.contains(&"/admin".to_owned()), "{header:?}");
        assert!(header.contains(&"/mod/queue".to_owned()), "{header:?}");
        for gone in ["/mod/words", "/mod/log", "/admin/invitations"] {
            assert!(!header.contains(&gone.to_owned()), "{header:?}");
        }
    }
    let header = hana.get("/").await.attrs("header a", "href");
    assert!(!header.contains(&"/admin".to_owned()), "{header:?}");
    assert_eq!(hana.get("/admin").await.status, 404);

    // A coordinator finds every staff page there, and each one opens.
    let home = coordinator.get("/admin").await;
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(home.contains("スタッフのページ"), "{}", home.text());
    let links = home.attrs("main ul.staff-home a", "href");
    let all: Vec<String> = STAFF_PAGES.iter().map(|(p, _)| (*p).to_owned()).collect();
    assert_eq!(links, all);
    for link in &links {
        assert_eq!(coordinator.get(link).await.status, 200, "{link}");
    }

    // A moderator finds the part they may use, and it all opens for them.
    let home = moderator.get("/admin").await;
    assert_eq!(home.status, 200);
    let links = home.attrs("main ul.staff-home a", "href");
    let theirs: Vec<String> = STAFF_PAGES
        .iter()
        .filter(|(_, moderators)| *moderators)
        .map(|(p, _)| (*p).to_owned())
        .collect();
    assert_eq!(links, theirs);
    for link in &links {
        assert_eq!(moderator.get(link).await.status, 200, "{link}");
    }
    for (page, moderators) in STAFF_PAGES {
        if !moderators {
            assert_eq!(moderator.get(page).await.status, 404, "{page}");
        }
    }
    app.shutdown().await;
}
both_databases!(staff_home_links_every_staff_page);

async fn members_are_found_filtered_and_changed(app: TestApp) {
    let (coordinator, moderator) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let sora = member_as(
        &app,
        &coordinator,
        "sora@example.org",
        "member",
        "family",
        "そら100%",
    )
    .await;
    let hana_id = id_of(&app, "hana@example.org").await;
    let sora_id = id_of(&app, "sora@example.org").await;
    let coordinator_id = id_of(&app, "coord@example.org").await;

    // The list, newest first; a name search, taken literally; filters.
    assert_eq!(
        listed(&moderator, "").await,
        ["そら100%", "はな", "もでさん", "こーでぃ"]
    );
    assert_eq!(listed(&moderator, "?q=は").await, ["はな"]);
    assert_eq!(listed(&moderator, "?q=%25").await, ["そら100%"]);
    assert_eq!(listed(&moderator, "?q=_").await, Vec::<String>::new());
    assert_eq!(listed(&moderator, "?role=moderator").await, ["もでさん"]);
    assert_eq!(listed(&moderator, "?relation=family").await, ["そら100%"]);
    let this_month = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
        .strftime("%Y-%m")
        .to_string();
    assert_eq!(
        listed(&moderator, &format!("?joined={this_month}&role=member"))
            .await
            .len(),
        2
    );
    assert!(listed(&moderator, "?joined=2020-01").await.is_empty());
    // Rows lead to the member's staff page; no address is shown.
    let list = coordinator.get("/admin/members").await;
    assert!(
        list.attrs("a.member-link", "href")
            .contains(&format!("/mod/members/{hana_id}"))
    );
    assert!(!list.contains("@example.org"), "{}", list.text());

    // Bad filters: a clear message in the reader's language, and no list.
    let bad = moderator
        .get("/admin/members?joined=2026-13&role=king")
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.contains("参加した月は「2026-04」のように"),
        "{}",
        bad.text()
    );
    assert!(
        bad.contains("役割は一覧から選んでください"),
        "{}",
        bad.text()
    );
    assert!(bad.select("a.member-link").is_empty());
    let long = moderator
        .get(&format!("/admin/members?q={}", "あ".repeat(41)))
        .await;
    assert_eq!(long.status, 422);
    assert!(long.contains("40文字まで"), "{}", long.text());

    // Only coordinators see the account forms, and only they may send them.
    let page = moderator.get(&format!("/mod/members/{hana_id}")).await;
    assert!(!page.contains("アカウントの管理"), "{}", page.text());
    for what in [
        "account/role",
        "account/relation",
        "account/deactivate",
        "account/reactivate",
        "email",
    ] {
        let refused = manage(&moderator, hana_id, what, &[("role", "expert")]).await;
        assert_eq!(refused.status, 404, "{what}");
    }

    // A role changes at once: はな is a moderator on her very next request.
    assert_eq!(hana.get("/mod/queue").await.status, 404);
    let done = manage(
        &coordinator,
        hana_id,
        "account/role",
        &[("role", "moderator")],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.text());
    let page = coordinator.follow(&done).await;
    assert!(page.contains("役割を変えました"), "{}", page.text());
    assert_eq!(hana.get("/mod/queue").await.status, 200);
    assert_eq!(logged(&app, "member.role_changed", hana_id).await, 1);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'member.role_changed' \
             AND actor_id = {coordinator_id} AND reason = 'member -> moderator'"
        ))
        .await,
        1
    );
    assert_eq!(listed(&coordinator, "?role=moderator").await.len(), 2);

    // The relation too.
    let done = manage(
        &coordinator,
        hana_id,
        "account/relation",
        &[("relation", "family")],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(logged(&app, "member.relation_changed", hana_id).await, 1);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {hana_id} AND relation = 'family'"
        ))
        .await,
        1
    );

    // Bad or unchanged values change nothing and say why.
    let before = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let bad = manage(&coordinator, hana_id, "account/role", &[("role", "king")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.contains("役割は一覧から選んでください"),
        "{}",
        bad.text()
    );
    let same = manage(
        &coordinator,
        hana_id,
        "account/relation",
        &[("relation", "family")],
    )
    .await;
    assert_eq!(same.status, 409);
    assert!(same.contains("すでにその状態です"), "{}", same.text());
    let missing = manage(&coordinator, 999_999, "account/role", &[("role", "member")]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, before);

    // The last active coordinator stays one, and active.
    for (what, fields) in [
        ("account/role", &[("role", "moderator")][..]),
        ("account/deactivate", &[]),
    ] {
        let refused = manage(&coordinator, coordinator_id, what, fields).await;
        assert_eq!(refused.status, 409, "{what}");
        assert!(
            refused.contains("有効なコーディネーターがいなくなるため"),
            "{}",
            refused.text()
        );
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE role = 'coordinator' AND status = 'active'")
            .await,
        1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, before);

    // Deactivation ends every session at once; login is refused; reactivation lets them back.
    assert!(is_logged_in(&sora).await);
    let done = manage(&coordinator, sora_id, "account/deactivate", &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert!(!is_logged_in(&sora).await);
    let (_, refused) = login(&app, "sora@example.org", PASSWORD).await;
    assert_ne!(refused.status, 303, "no login: {}", refused.text());
    assert_eq!(
        listed(&coordinator, "?state=deactivated").await,
        ["そら100%"]
    );
    assert!(
        !listed(&coordinator, "?state=active")
            .await
            .contains(&"そら100%".to_owned())
    );
    assert_eq!(logged(&app, "member.deactivated", sora_id).await, 1);
    let done = manage(&coordinator, sora_id, "account/reactivate", &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let (_, welcome) = login(&app, "sora@example.org", PASSWORD).await;
    assert_eq!(welcome.status, 303, "logged in again: {}", welcome.text());
    assert_eq!(logged(&app, "member.reactivated", sora_id).await, 1);

    // The address appears only when asked for, and each showing is logged.
    let page = coordinator.get(&format!("/mod/members/{sora_id}")).await;
    assert!(page.contains("アカウントの管理"), "{}", page.text());
    assert!(!page.contains("sora@example.org"));
    for n in 1..=2 {
        let shown = manage(&coordinator, sora_id, "email", &[]).await;
        assert_eq!(shown.status, 200);
        assert_eq!(shown.select(".email-shown"), ["sora@example.org"]);
        assert_eq!(logged(&app, "email.viewed", sora_id).await, n);
    }
    let page = coordinator.get(&format!("/mod/members/{sora_id}")).await;
    assert!(!page.contains("sora@example.org"));
    app.shutdown().await;
}
both_databases!(members_are_found_filtered_and_changed);

/// Sends the settings form with `changes` over what the page shows.
async fn save_settings(coordinator: &Browser, changes: &[(&str, &str)]) -> Page {
    let page = coordinator.get("/admin/settings").await;
    let mut fields: Vec<(String, String)> = [
        "site_name",
        "review_threshold",
        "invitation_days",
        "time_zone",
    ]
    .iter()
    .map(|name| {
        let value = page
            .attr(&format!("input[name={name}]"), "value")
            .unwrap_or_default();
        ((*name).to_owned(), value)
    })
    .collect();
    fields.push(("default_locale".into(), "ja".into()));
    for (name, value) in changes {
        if let Some(field) = fields.iter_mut().find(|(n, _)| n == name) {
            field.1 = (*value).to_owned();
        }
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    coordinator.post_form("/admin/settings", &fields).await
}

async fn site_settings_apply_at_once_everywhere(app: TestApp) {
    let (coordinator, moderator) = staff(&app).await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    assert_eq!(moderator.get("/admin/settings").await.status, 404);
    let page = coordinator.get("/admin/settings").await;
    assert_eq!(
        page.attr("input[name=site_name]", "value").as_deref(),
        Some("陽だまり"),
        "the configured name is the default"
    );
    assert_eq!(
        page.attr("input[name=time_zone]", "value").as_deref(),
        Some("Asia/Tokyo")
    );
    assert!(
        page.attrs("a", "href")
            .contains(&"/admin/support".to_owned())
    );

    let second = app.second_instance().await;
    let elsewhere = format!("http://{}/", second.addr);
    assert_eq!(hana.get(&elsewhere).await.select("a.brand"), ["陽だまり"]);

    // Bad input: every field's problem in the page's language, and nothing changed.
    let before = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let bad = save_settings(
        &coordinator,
        &[
            ("site_name", " "),
            ("review_threshold", "-1"),
            ("invitation_days", "91"),
            ("time_zone", "Tokyo"),
        ],
    )
    .await;
    assert_eq!(bad.status, 422);
    for message in [
        "サイトの名前を入力してください",
        "0から20までの数字",
        "1から90までの日数",
        "「Asia/Tokyo」のような地域の名前",
    ] {
        assert!(bad.contains(message), "{message}: {}", bad.text());
    }
    coordinator.get("/reset").await;
    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    let bad = save_settings(&coordinator, &[("time_zone", "Mars/Olympus")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.contains("Please enter a time zone name such as Asia/Tokyo"),
        "{}",
        bad.text()
    );
    coordinator
        .post_form("/preferences", &[("locale", "ja")])
        .await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, before);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM site_settings \
             WHERE name IN ('site_name', 'invitation_days', 'time_zone', 'default_locale')"
        )
        .await,
        0
    );

    // A topic written now, to see its time in the chosen zone.
    let work = crate::journeys::category_id(&app, "雑談").await;
    let topic = crate::journeys::start_topic(&hana, work, "時刻の確認", "いま何時でしょう").await;
    let written = app.scalar("SELECT MAX(created_at) FROM posts").await;
    let at = |zone: &str| {
        jiff::Timestamp::from_second(written)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    assert!(hana.get(&topic).await.contains(&at("Asia/Tokyo")));

    // Saved: in force on the very next page here, without a restart.
    let saved = save_settings(
        &coordinator,
        &[
            ("site_name", "ひなたの庭"),
            ("review_threshold", "1"),
            ("invitation_days", "14"),
            ("time_zone", "America/New_York"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let page = coordinator.follow(&saved).await;
    assert!(page.contains("設定を保存しました"), "{}", page.text());
    assert_eq!(page.select("a.brand"), ["ひなたの庭"]);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'setting.changed'")
            .await,
        4,
        "one row for each value changed"
    );
    assert_eq!(hana.get("/").await.select("a.brand"), ["ひなたの庭"]);
    let shown = hana.get(&topic).await;
    assert!(
        shown.contains(&at("America/New_York")),
        "times in the new zone: {}",
        shown.text()
    );
    // A new member's first post now waits for review.
    let kai = member(&app, &coordinator, "kai@example.org", "かい").await;
    crate::journeys::start_topic(&kai, work, "はじめまして", "よろしくお願いします").await;
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM posts p JOIN users u ON u.id = p.author_id \
             WHERE u.email = 'kai@example.org' AND p.status = 'held'"
        )
        .await,
        1
    );
    // Invitations sent from now on are valid for 14 days.
    crate::journeys::invite(&app, &coordinator, "ren@example.org", "member", "patient").await;
    assert_eq!(
        app.scalar(
            "SELECT (expires_at - sent_at) / 86400 FROM invitations WHERE email = 'ren@example.org'"
        )
        .await,
        14
    );

    // So does the command line's invitation of a coordinator.
    hidamari::admin::service::invite_coordinator(app.db(), app.config(), "cli@example.org")
        .await
        .expect("create-coordinator");
    assert_eq!(
        app.scalar(
            "SELECT (expires_at - sent_at) / 86400 FROM invitations WHERE email = 'cli@example.org'"
        )
        .await,
        14
    );

    // The other instance follows within seconds, without being told.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if hana.get(&elsewhere).await.select("a.brand") == ["ひなたの庭"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second instance never saw the new name"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The default language: a visitor with no preference reads English.
    let saved = save_settings(&coordinator, &[]).await;
    assert_eq!(saved.status, 303);
    let page = coordinator.get("/admin/settings").await;
    let mut fields: Vec<(&str, String)> = Vec::new();
    for name in [
        "site_name",
        "review_threshold",
        "invitation_days",
        "time_zone",
    ] {
        fields.push((
            name,
            page.attr(&format!("input[name={name}]"), "value")
                .unwrap_or_default(),
        ));
    }
    fields.push(("default_locale", "en".into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    assert_eq!(
        coordinator
            .post_form("/admin/settings", &fields)
            .await
            .status,
        303
    );
    let visitor = app.client();
    let login = visitor.get("/login").await;
    assert_eq!(login.attr("html", "lang").as_deref(), Some("en"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'setting.changed'")
            .await,
        5
    );
    second.shutdown().await;
    app.shutdown().await;
}
both_databases!(site_settings_apply_at_once_everywhere);
