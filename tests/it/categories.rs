//! Coordinators manage categories: create with a restriction, edit, order, archive and restore.
//! Who sees what is checked through the members' own pages.

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};
use crate::journeys::{first_coordinator, member, member_as, reply, start_topic};

/// Posts the new-category form as typed.
async fn submit_new(
    coordinator: &Browser,
    name: &str,
    description: &str,
    min_role: &str,
    only_relation: &str,
) -> Page {
    coordinator.get("/admin/categories").await;
    coordinator
        .post_form(
            "/admin/categories",
            &[
                ("name", name),
                ("description", description),
                ("min_role", min_role),
                ("only_relation", only_relation),
            ],
        )
        .await
}

/// Creates a category through the form; returns its id.
async fn create(
    app: &TestApp,
    coordinator: &Browser,
    name: &str,
    min_role: &str,
    only_relation: &str,
) -> i64 {
    let page = submit_new(coordinator, name, "説明です。", min_role, only_relation).await;
    assert_eq!(page.status, 303, "creating {name}: {}", page.text());
    assert_eq!(page.redirect_path(), "/admin/categories");
    app.scalar(&format!("SELECT id FROM categories WHERE name = '{name}'"))
        .await
}

/// Presses one of the list's buttons (up, down, archive, restore) for a category.
async fn press(coordinator: &Browser, id: i64, action: &str) -> Page {
    coordinator.get("/admin/categories").await;
    coordinator
        .post_form(&format!("/admin/categories/{id}/{action}"), &[])
        .await
}

/// The category names on /forums, in order.
async fn forum_order(browser: &Browser) -> Vec<String> {
    let page = browser.get("/forums").await;
    assert_eq!(page.status, 200);
    page.select("ul.actions .action-title")
}

async fn audit_lines(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'category.%'")
        .await
}

async fn a_restricted_category_reaches_the_right_people_only(app: TestApp) {
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
        "family",
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

    // Readers: member patient, member family, expert (family), moderator, coordinator.
    let readers = [&patient, &family, &expert, &moderator, &coordinator];
    let cases: [(&str, &str, &str, [bool; 5]); 5] = [
        ("みんなの広場", "member", "", [true; 5]),
        (
            "家族だけの部屋",
            "member",
            "family",
            [false, true, true, true, true],
        ),
        (
            "専門家の相談室",
            "expert",
            "",
            [false, false, true, true, true],
        ),
        (
            "スタッフ控室",
            "moderator",
            "",
            [false, false, false, true, true],
        ),
        (
            "専門家と家族",
            "expert",
            "family",
            [false, false, true, true, true],
        ),
    ];
    let before = audit_lines(&app).await;
    for (name, min_role, relation, sees) in &cases {
        let id = create(&app, &coordinator, name, min_role, relation).await;
        let topic = start_topic(&coordinator, id, &format!("{name}の話題"), "本文です。").await;
        for (index, (reader, visible)) in readers.iter().zip(sees).enumerate() {
            let expected = if *visible { 200 } else { 404 };
            for path in [format!("/c/{id}"), topic.clone()] {
                let page = reader.get(&path).await;
                assert_eq!(page.status, expected, "{name}: {path} for reader {index}");
            }
            let listed = forum_order(reader).await.iter().any(|n| n == name);
            assert_eq!(listed, *visible, "{name} on /forums for reader {index}");
        }
    }
    assert_eq!(
        audit_lines(&app).await - before,
        5,
        "one audit line per category"
    );
    // The coordinators' list says who may see each one.
    let list = coordinator.get("/admin/categories").await;
    assert!(
        list.text().contains("専門家とスタッフだけ・ご家族だけ"),
        "{}",
        list.text()
    );
    app.shutdown().await;
}
both_databases!(a_restricted_category_reaches_the_right_people_only);

async fn coordinators_edit_order_archive_and_restore(app: TestApp) {
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
    let home = coordinator.get("/").await;
    assert!(
        home.attrs("a", "href")
            .contains(&"/admin/categories".to_owned()),
        "the home page links to the categories"
    );

    // Create, then edit: a new name, a description and a restriction to families.
    let id = create(&app, &coordinator, "読書会", "member", "").await;
    assert_eq!(
        forum_order(&patient).await.last().map(String::as_str),
        Some("読書会"),
        "a new category comes last"
    );
    let form = coordinator.get(&format!("/admin/categories/{id}")).await;
    assert_eq!(form.status, 200);
    assert_eq!(
        form.attr("input[name=name]", "value").as_deref(),
        Some("読書会")
    );
    let saved = coordinator
        .post_form(
            &format!("/admin/categories/{id}"),
            &[
                ("name", "家族の読書会"),
                ("description", "ご家族で本の話をしましょう。"),
                ("min_role", "member"),
                ("only_relation", "family"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let listed = coordinator.follow(&saved).await;
    assert!(
        listed.text().contains("「家族の読書会」を保存しました"),
        "{}",
        listed.text()
    );
    assert_eq!(patient.get(&format!("/c/{id}")).await.status, 404);
    let room = family.get(&format!("/c/{id}")).await;
    assert_eq!(room.status, 200);
    assert!(room.text().contains("家族の読書会"));
    assert!(room.text().contains("ご家族で本の話をしましょう。"));
    assert!(
        !forum_order(&patient)
            .await
            .contains(&"家族の読書会".to_owned())
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'category.edited' AND target_kind = 'category' AND target_id = {id}"
        ))
        .await,
        1
    );

    // Order: move the second category up, then back down.
    let original = forum_order(&patient).await;
    assert!(original.len() >= 3, "{original:?}");
    let second = app
        .scalar(&format!(
            "SELECT id FROM categories WHERE name = '{}'",
            original[1]
        ))
        .await;
    let moved = press(&coordinator, second, "up").await;
    assert_eq!(moved.status, 303, "{}", moved.text());
    let mut expected = original.clone();
    expected.swap(0, 1);
    assert_eq!(forum_order(&patient).await, expected);
    assert_eq!(press(&coordinator, second, "down").await.status, 303);
    assert_eq!(forum_order(&patient).await, original);
    // The first cannot go higher: nothing changes.
    let first = app
        .scalar(&format!(
            "SELECT id FROM categories WHERE name = '{}'",
            original[0]
        ))
        .await;
    let lines = audit_lines(&app).await;
    assert_eq!(press(&coordinator, first, "up").await.status, 303);
    assert_eq!(forum_order(&patient).await, original);
    assert_eq!(audit_lines(&app).await, lines, "no move, no audit line");
    // The buttons follow the coordinators' list, where every category shows: moving the family
    // room up passes the staff room, which the family never sees.
    let family_order = forum_order(&family).await;
    let full_order = forum_order(&coordinator).await;
    assert_eq!(
        full_order[full_order.len() - 2..],
        ["専門家とスタッフ".to_owned(), "家族の読書会".to_owned()]
    );
    assert_eq!(press(&coordinator, id, "up").await.status, 303);
    let moved_order = forum_order(&coordinator).await;
    assert_eq!(
        moved_order[moved_order.len() - 2..],
        ["家族の読書会".to_owned(), "専門家とスタッフ".to_owned()]
    );
    assert_eq!(forum_order(&family).await, family_order);

    // Archive: hidden from everyone, its topics too; restore brings them back.
    let topic = start_topic(&family, id, "おすすめの一冊", "本文です。").await;
    let archived = press(&coordinator, id, "archive").await;
    assert_eq!(archived.status, 303);
    let note = coordinator.follow(&archived).await;
    assert!(
        note.text().contains("いつでも元に戻せます"),
        "{}",
        note.text()
    );
    for reader in [&family, &coordinator] {
        assert_eq!(reader.get(&format!("/c/{id}")).await.status, 404);
        assert_eq!(reader.get(&topic).await.status, 404);
        assert!(
            !forum_order(reader)
                .await
                .contains(&"家族の読書会".to_owned())
        );
    }
    assert_eq!(
        note.select("table.archived strong"),
        vec!["家族の読書会".to_owned()],
        "the coordinators' list keeps it, among the archived"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM topics WHERE category_id = {id}"
        ))
        .await,
        1,
        "topics are kept"
    );
    assert_eq!(press(&coordinator, id, "restore").await.status, 303);
    assert_eq!(family.get(&topic).await.status, 200);
    assert_eq!(family.get(&format!("/c/{id}")).await.status, 200);
    assert_eq!(
        forum_order(&coordinator).await,
        moved_order,
        "back in its place"
    );
    assert_eq!(patient.get(&topic).await.status, 404, "still family only");

    for action in [
        "created",
        "edited",
        "moved_up",
        "moved_down",
        "archived",
        "restored",
    ] {
        assert!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'category.{action}'"
            ))
            .await
                >= 1,
            "an audit line for {action}"
        );
    }
    app.shutdown().await;
}
both_databases!(coordinators_edit_order_archive_and_restore);

async fn bad_input_changes_nothing(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let snapshot = "SELECT COUNT(*) FROM categories";
    let categories = app.scalar(snapshot).await;
    let lines = audit_lines(&app).await;
    let long = "あ".repeat(301);
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        ("", "空の名前", "member", "", "名前を入力してください"),
        ("長い説明", &long, "member", "", "説明は300文字まで"),
        (
            "役割がへん",
            "説明",
            "admin",
            "",
            "見られる役割は、一覧の中から選んでください",
        ),
        (
            "関係がへん",
            "説明",
            "member",
            "neighbour",
            "見られる関係は、一覧の中から選んでください",
        ),
        (&"な".repeat(41), "説明", "member", "", "名前は40文字まで"),
    ];
    for (name, description, min_role, relation, message) in &cases {
        let page = submit_new(&coordinator, name, description, min_role, relation).await;
        assert_eq!(page.status, 422, "{name}: {}", page.text());
        assert!(page.text().contains(message), "{name}: {}", page.text());
        assert_eq!(
            page.attr("input[name=name]", "value").unwrap_or_default(),
            *name,
            "the name typed stays"
        );
        assert_eq!(
            page.select("textarea[name=description]").join(""),
            *description,
            "the description typed stays"
        );
    }
    // Editing with bad input leaves the category as it was.
    let id = app
        .scalar("SELECT id FROM categories WHERE name = '治療のこと'")
        .await;
    coordinator.get(&format!("/admin/categories/{id}")).await;
    let refused = coordinator
        .post_form(
            &format!("/admin/categories/{id}"),
            &[
                ("name", "新しい名前"),
                ("description", "説明"),
                ("min_role", "superuser"),
                ("only_relation", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.attr("input[name=name]", "value").as_deref(),
        Some("新しい名前")
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM categories WHERE id = {id} AND name = '治療のこと' AND min_role_rank = 0"
        ))
        .await,
        1
    );
    // Errors are in the reader's language.
    coordinator.get("/").await;
    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    let english = submit_new(&coordinator, " ", "", "member", "").await;
    assert_eq!(english.status, 422);
    assert!(
        english.text().contains("Please enter a name."),
        "{}",
        english.text()
    );
    assert_eq!(app.scalar(snapshot).await, categories);
    assert_eq!(audit_lines(&app).await, lines);
    app.shutdown().await;
}
both_databases!(bad_input_changes_nothing);

async fn only_coordinators_reach_the_category_tools(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let mut others = Vec::new();
    for (email, role, name) in [
        ("member@example.org", "member", "めんばー"),
        ("expert@example.org", "expert", "せんもん"),
        ("mod@example.org", "moderator", "もでれーた"),
    ] {
        others.push(member_as(&app, &coordinator, email, role, "supporter", name).await);
    }
    let id = app
        .scalar("SELECT id FROM categories WHERE name = '雑談'")
        .await;
    let state = "SELECT CAST(SUM(position * 1000 + min_role_rank * 10 + CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) FROM categories";
    let before = app.scalar(state).await;
    let count = app.scalar("SELECT COUNT(*) FROM categories").await;
    let fields = [
        ("name", "のっとり"),
        ("description", ""),
        ("min_role", "member"),
        ("only_relation", ""),
    ];
    let list = "/admin/categories".to_owned();
    let edit = format!("/admin/categories/{id}");
    for browser in &others {
        for path in [&list, &edit] {
            assert_eq!(browser.get(path).await.status, 404, "GET {path}");
        }
        for path in [list.clone(), edit.clone()] {
            browser.get("/forums").await;
            assert_eq!(
                browser.post_form(&path, &fields).await.status,
                404,
                "POST {path}"
            );
        }
        for action in ["up", "down", "archive", "restore"] {
            browser.get("/forums").await;
            let path = format!("/admin/categories/{id}/{action}");
            assert_eq!(
                browser.post_form(&path, &[]).await.status,
                404,
                "POST {path}"
            );
        }
    }
    let visitor = app.client();
    let page = visitor.get("/admin/categories").await;
    assert_eq!(page.redirect_path(), "/login?next=%2Fadmin%2Fcategories");
    assert_eq!(app.scalar(state).await, before);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM categories").await, count);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM categories WHERE name = 'のっとり'")
            .await,
        0
    );
    assert_eq!(audit_lines(&app).await, 0);
    app.shutdown().await;
}
both_databases!(only_coordinators_reach_the_category_tools);

/// Notifications wait until the story mails them (see `notify_mail`).
fn notifications_wait(config: &mut hidamari::config::Config) {
    config.notify_delay_seconds = 3600;
}

/// A coordinator writes a category's English name and description; every page that names the
/// category shows them to a member who reads English, and the Japanese to one who reads
/// Japanese, mails included. An English name too long is refused and changes nothing.
async fn english_readers_see_the_english_category_texts(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let emma = member(&app, &coordinator, "emma@example.org", "えま").await;
    emma.get("/").await;
    emma.post_form("/preferences", &[("locale", "en")]).await;
    // The default categories come with English names.
    let seeded = forum_order(&emma).await;
    assert!(
        seeded.contains(&"Chat".to_owned()) && !seeded.contains(&"雑談".to_owned()),
        "{seeded:?}"
    );

    let id = create(&app, &coordinator, "読書会", "member", "").await;
    let form = coordinator.get(&format!("/admin/categories/{id}")).await;
    assert!(form.text().contains("英語の名前"), "{}", form.text());
    let edit = |name_en: String| {
        let coordinator = &coordinator;
        async move {
            coordinator.get(&format!("/admin/categories/{id}")).await;
            coordinator
                .post_form(
                    &format!("/admin/categories/{id}"),
                    &[
                        ("name", "読書会"),
                        ("description", "本の話をしましょう。"),
                        ("name_en", &name_en),
                        ("description_en", "Let us talk about books."),
                        ("min_role", "member"),
                        ("only_relation", ""),
                    ],
                )
                .await
        }
    };
    let saved = edit("  Book   club ".to_owned()).await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let list = coordinator.follow(&saved).await;
    assert!(list.text().contains("英語: Book club"), "{}", list.text());
    let form = coordinator.get(&format!("/admin/categories/{id}")).await;
    assert_eq!(
        form.attr("input[name=name_en]", "value").as_deref(),
        Some("Book club")
    );

    // Both follow the category; the coordinator starts a topic in it.
    for reader in [&hana, &emma] {
        reader.get(&format!("/c/{id}")).await;
        let followed = reader.post_form(&format!("/c/{id}/follow"), &[]).await;
        assert_eq!(followed.status, 303);
    }
    let topic = start_topic(&coordinator, id, "秋の一冊", "図書館で借りた本です。").await;

    for (reader, shown, hidden) in [
        (&emma, "Book club", "読書会"),
        (&hana, "読書会", "Book club"),
    ] {
        let index = reader.get("/forums").await;
        assert!(forum_order(reader).await.contains(&shown.to_owned()));
        let description = if shown == "Book club" {
            "Let us talk about books."
        } else {
            "本の話をしましょう。"
        };
        assert!(index.text().contains(description), "{}", index.text());
        let category = reader.get(&format!("/c/{id}")).await;
        assert_eq!(category.select("h1").join(""), shown);
        assert!(category.text().contains(description));
        let page = reader.get(&topic).await;
        assert!(
            page.select(".crumbs").join(" ").contains(shown),
            "{}",
            page.text()
        );
        let choice = reader.get("/forums/new").await;
        assert!(
            choice
                .select("select[name=category] option")
                .contains(&shown.to_owned())
        );
        let found = reader.get("/search?q=%E5%9B%B3%E6%9B%B8%E9%A4%A8").await;
        assert!(found.text().contains(shown), "{}", found.text());
        let settings = reader.get("/account").await;
        let follows = settings.select(".follows li a").join(" | ");
        assert!(follows.contains(shown), "{follows}");
        for page in [&index, &category, &page, &choice, &found, &settings] {
            assert!(!page.text().contains(hidden), "{hidden}: {}", page.text());
        }
    }
    // A reply makes the topic new again on the home page.
    reply(&coordinator, &topic, "感想をお待ちしています。").await;
    for (reader, shown, hidden) in [
        (&emma, "Book club", "読書会"),
        (&hana, "読書会", "Book club"),
    ] {
        let home = reader.get("/").await;
        let listed = home.select(".new-topics li").join(" | ");
        assert!(
            listed.contains(shown) && !listed.contains(hidden),
            "{listed}"
        );
    }

    let before = app.mail.count();
    hidamari::notify::mailer::mail_due(app.app(), 0)
        .await
        .expect("writing the notification mails");
    for (address, shown, hidden) in [
        ("emma@example.org", "“Book club”", "読書会"),
        ("hana@example.org", "「読書会」", "Book club"),
    ] {
        let mail = app
            .mail
            .wait_for(|m| m.seq >= before && m.is_to(address), MAIL_WAIT)
            .await;
        assert!(mail.text.contains(shown), "{address}: {}", mail.text);
        assert!(!mail.text.contains(hidden), "{address}: {}", mail.text);
    }

    // Too long an English name: a clear error, and the category as it was.
    let lines = audit_lines(&app).await;
    let refused = edit("a".repeat(61)).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("英語の名前は60文字までにしてください"),
        "{}",
        refused.text()
    );
    assert_eq!(
        refused.attr("input[name=name_en]", "value"),
        Some("a".repeat(61))
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM categories WHERE id = {id} AND name_en = 'Book club'"
        ))
        .await,
        1
    );
    assert_eq!(audit_lines(&app).await, lines);
    app.shutdown().await;
}
both_databases!(
    english_readers_see_the_english_category_texts,
    configure = notifications_wait
);
