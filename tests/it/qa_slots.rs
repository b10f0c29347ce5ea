//! Expert Q&A, experts and slots: a labour attorney writes her profile; a coordinator edits
//! another expert's (logged) from the list of expert accounts; experts and coordinators create,
//! edit and cancel slots, which members see at /qa with the places left; bad input is refused
//! in the page's language and changes nothing.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{ToSpan, Zoned};

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{first_coordinator, member, member_as};

fn tokyo() -> TimeZone {
    TimeZone::get("Asia/Tokyo").expect("the zone")
}

fn today_in_tokyo() -> Date {
    Zoned::now().with_time_zone(tokyo()).date()
}

/// `date` at `hour:minute` in Tokyo, as Unix seconds.
fn at(date: Date, hour: i8, minute: i8) -> i64 {
    date.to_datetime(Time::constant(hour, minute, 0, 0))
        .to_zoned(tokyo())
        .expect("a time in Tokyo")
        .timestamp()
        .as_second()
}

/// The fields of a slot on `date` from 19:00 to 20:30, questions until 21:00 two days before.
fn slot_fields(date: Date, theme: &str, capacity: &str) -> Vec<(&'static str, String)> {
    let deadline = date.checked_sub(2.days()).expect("a date");
    vec![
        ("theme", theme.to_owned()),
        ("date", date.to_string()),
        ("start", "19:00".to_owned()),
        ("end", "20:30".to_owned()),
        ("deadline_date", deadline.to_string()),
        ("deadline_time", "21:00".to_owned()),
        ("capacity", capacity.to_owned()),
        ("publish_answers", "on".to_owned()),
    ]
}

async fn post(browser: &Browser, path: &str, form: &str, fields: &[(&str, String)]) -> Page {
    assert_eq!(browser.get(form).await.status, 200, "{form}");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post_form(path, &fields).await
}

/// Everything but `name` as given, `name` replaced.
fn with(fields: &[(&'static str, String)], name: &str, value: &str) -> Vec<(&'static str, String)> {
    let mut fields: Vec<_> = fields.iter().filter(|(k, _)| *k != name).cloned().collect();
    let key = [
        "expert",
        "theme",
        "date",
        "start",
        "end",
        "deadline_date",
        "deadline_time",
        "capacity",
    ]
    .into_iter()
    .find(|k| *k == name)
    .expect("a field of the slot form");
    fields.push((key, value.to_owned()));
    fields
}

/// The text of slot `id`'s entry in the list.
fn row(page: &Page, id: i64) -> String {
    page.select(&format!("#slot-{id}"))
        .pop()
        .unwrap_or_else(|| panic!("slot {id} listed"))
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

/// The people of these stories: the first coordinator, two experts (たなか, sr@example.org;
/// すずき, fp@example.org) and a member (はな).
struct People {
    coordinator: Browser,
    tanaka: Browser,
    suzuki: Browser,
    hana: Browser,
}

async fn people(app: &TestApp) -> People {
    let coordinator = first_coordinator(app, "coord@example.org", "こーでぃ").await;
    let expert = |email: &'static str, name: &'static str| {
        member_as(app, &coordinator, email, "expert", "supporter", name)
    };
    let tanaka = expert("sr@example.org", "たなか").await;
    let suzuki = expert("fp@example.org", "すずき").await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    People {
        coordinator,
        tanaka,
        suzuki,
        hana,
    }
}

async fn profile_story(app: TestApp) {
    let People {
        coordinator,
        tanaka: sharoushi,
        hana,
        ..
    } = people(&app).await;
    let (tanaka, suzuki) = (
        user_id(&app, "sr@example.org").await,
        user_id(&app, "fp@example.org").await,
    );
    let hana_id = user_id(&app, "hana@example.org").await;

    // The coordinator's list: every expert account, none with a profile yet.
    let list = coordinator.get("/admin/experts").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.select("ul.experts li strong"), ["すずき", "たなか"]);
    assert_eq!(
        list.select("ul.experts li span.hint"),
        ["プロフィールはまだありません"; 2]
    );
    assert_eq!(
        list.attrs("ul.experts li a", "href"),
        [
            format!("/admin/experts/{suzuki}"),
            format!("/admin/experts/{tanaka}")
        ]
    );
    assert!(!list.contains("はな"), "members are not listed");

    // The expert's own form: a qualification is required; a long introduction is refused.
    let form = sharoushi.get("/qa/profile").await;
    assert_eq!(form.status, 200);
    let refused = sharoushi
        .post_form(
            "/qa/profile",
            &[("qualification", "  "), ("introduction", "よろしく")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.contains("資格を入力してください。"),
        "{}",
        refused.text()
    );
    let long = "あ".repeat(401);
    let refused = sharoushi
        .post_form(
            "/qa/profile",
            &[("qualification", "社会保険労務士"), ("introduction", &long)],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("紹介文は400文字までにしてください。"));
    assert_eq!(
        refused.attr("#qualification", "value").as_deref(),
        Some("社会保険労務士")
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM expert_profiles").await, 0);

    let saved = sharoushi
        .post_form(
            "/qa/profile",
            &[
                ("qualification", " 社会保険労務士 "),
                (
                    "introduction",
                    "仙台で開業しています。\n傷病手当金のご相談が多いです。",
                ),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let again = sharoushi.follow(&saved).await;
    assert!(again.contains("プロフィールを保存しました。"));
    assert_eq!(
        again.attr("#qualification", "value").as_deref(),
        Some("社会保険労務士")
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM expert_profiles WHERE user_id = {tanaka} \
             AND qualification = '社会保険労務士' \
             AND introduction LIKE '仙台で開業しています。%傷病手当金のご相談が多いです。'"
        ))
        .await,
        1
    );
    // Her own edit is not a staff action.
    let logged = "SELECT COUNT(*) FROM audit_log WHERE action = 'expert_profile.edited'";
    assert_eq!(app.scalar(logged).await, 0);

    // The coordinator creates the other expert's profile: logged, about that expert.
    let form = coordinator.get(&format!("/admin/experts/{suzuki}")).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("すずき"));
    let saved = coordinator
        .post_form(
            &format!("/admin/experts/{suzuki}"),
            &[
                ("qualification", "ファイナンシャルプランナー"),
                ("introduction", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(saved.redirect_path(), "/admin/experts");
    let by_coordinator = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'expert_profile.edited' \
         AND target_kind = 'member' AND target_id = {suzuki} AND subject_user_id = {suzuki}"
    );
    assert_eq!(app.scalar(&by_coordinator).await, 1);
    // Saving it unchanged writes nothing more.
    let same = coordinator
        .post_form(
            &format!("/admin/experts/{suzuki}"),
            &[
                ("qualification", "ファイナンシャルプランナー"),
                ("introduction", ""),
            ],
        )
        .await;
    assert_eq!(same.status, 303);
    assert_eq!(app.scalar(logged).await, 1);
    let list = coordinator.follow(&same).await;
    assert!(list.contains("ファイナンシャルプランナー") && list.contains("社会保険労務士"));

    // Nobody else reaches these pages; a member is no expert to give a profile.
    assert_eq!(hana.get("/qa/profile").await.status, 404);
    assert_eq!(hana.get("/admin/experts").await.status, 404);
    assert_eq!(sharoushi.get("/admin/experts").await.status, 404);
    assert_eq!(coordinator.get("/qa/profile").await.status, 404);
    assert_eq!(
        coordinator
            .get(&format!("/admin/experts/{hana_id}"))
            .await
            .status,
        404
    );
    hana.get("/").await;
    let refused = hana
        .post_form("/qa/profile", &[("qualification", "弁護士")])
        .await;
    assert_eq!(refused.status, 404);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM expert_profiles").await, 2);

    // In English, the same refusal in English.
    sharoushi
        .post_form("/preferences", &[("locale", "en")])
        .await;
    sharoushi.get("/qa/profile").await;
    let refused = sharoushi
        .post_form("/qa/profile", &[("qualification", "")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.contains("Please enter the qualification."),
        "{}",
        refused.text()
    );
    app.shutdown().await;
}
both_databases!(profile_story);

async fn slots_story(app: TestApp) {
    let People {
        coordinator,
        tanaka,
        suzuki,
        hana,
    } = people(&app).await;
    let moderator = member_as(
        &app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
        "もで",
    )
    .await;
    let (tanaka_id, suzuki_id) = (
        user_id(&app, "sr@example.org").await,
        user_id(&app, "fp@example.org").await,
    );
    tanaka.get("/qa/profile").await;
    let saved = tanaka
        .post_form(
            "/qa/profile",
            &[
                ("qualification", "社会保険労務士"),
                ("introduction", "復職のご相談をどうぞ。"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);

    // The header leads to the list; members see no "new slot" link, experts do.
    let home = hana.get("/").await;
    assert!(
        home.attrs("header nav a", "href")
            .contains(&"/qa".to_owned())
    );
    let empty = hana.get("/qa").await;
    assert_eq!(empty.status, 200);
    assert!(empty.contains("これからの相談枠は、まだありません。"));
    assert!(
        empty
            .attrs("a", "href")
            .iter()
            .all(|h| h != "/qa/slots/new")
    );
    assert!(
        tanaka
            .get("/qa")
            .await
            .attrs("a", "href")
            .contains(&"/qa/slots/new".to_owned())
    );
    assert_eq!(hana.get("/qa/slots/new").await.status, 404);
    assert_eq!(moderator.get("/qa/slots/new").await.status, 404);

    // The expert's own slot, in ten days; her form has no choice of expert.
    let day = today_in_tokyo().checked_add(10.days()).expect("a date");
    let form = tanaka.get("/qa/slots/new").await;
    assert!(form.select("select#expert").is_empty());
    assert_eq!(
        form.attr("input#publish_answers", "checked").as_deref(),
        Some("")
    );
    assert_eq!(form.attr("input#follow_ups", "checked"), None);
    let fields = slot_fields(day, "傷病手当金と復職", "3");
    let made = post(&tanaka, "/qa/slots/new", "/qa/slots/new", &fields).await;
    assert_eq!(made.status, 303, "{}", made.text());
    let first: i64 = app.scalar("SELECT MAX(id) FROM qa_slots").await;
    assert_eq!(made.location(), Some(format!("/qa#slot-{first}").as_str()));
    let deadline = at(day.checked_sub(2.days()).expect("a date"), 21, 0);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM qa_slots WHERE id = {first} AND expert_id = {tanaka_id} \
             AND theme = '傷病手当金と復職' AND starts_at = {} AND ends_at = {} \
             AND deadline_at = {deadline} AND capacity = 3 AND publish_answers = 1 \
             AND follow_ups = 0 AND cancelled_at IS NULL",
            at(day, 19, 0),
            at(day, 20, 30)
        ))
        .await,
        1
    );
    let created = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'qa_slot.created' \
         AND target_kind = 'qa_slot' AND target_id = {first} AND subject_user_id = {tanaka_id}"
    );
    assert_eq!(app.scalar(&created).await, 1);

    // A coordinator's slot for the other expert, sooner; the expert is chosen from the list of
    // expert accounts only.
    let form = coordinator.get("/qa/slots/new").await;
    let choices = form.attrs("select#expert option", "value");
    assert_eq!(
        choices,
        ["".to_owned(), suzuki_id.to_string(), tanaka_id.to_string()]
    );
    assert!(
        form.select("select#expert option")
            .contains(&"たなか（社会保険労務士）".to_owned())
    );
    let sooner = today_in_tokyo().checked_add(5.days()).expect("a date");
    let mut fields = slot_fields(sooner, "がんと家計のこと", "2");
    let slots = "SELECT COUNT(*) FROM qa_slots";
    let refused = post(&coordinator, "/qa/slots/new", "/qa/slots/new", &fields).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("専門家の一覧から選んでください。"));
    let hana_id = user_id(&app, "hana@example.org").await.to_string();
    let refused = post(
        &coordinator,
        "/qa/slots/new",
        "/qa/slots/new",
        &with(&fields, "expert", &hana_id),
    )
    .await;
    assert_eq!(refused.status, 422, "a member is no expert");
    assert_eq!(app.scalar(slots).await, 1);
    fields.push(("expert", suzuki_id.to_string()));
    fields.push(("follow_ups", "on".to_owned()));
    let made = post(&coordinator, "/qa/slots/new", "/qa/slots/new", &fields).await;
    assert_eq!(made.status, 303, "{}", made.text());
    let second: i64 = app.scalar("SELECT MAX(id) FROM qa_slots").await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM qa_slots WHERE id = {second} AND expert_id = {suzuki_id} \
             AND follow_ups = 1 AND created_by = (SELECT id FROM users WHERE email = 'coord@example.org')"
        ))
        .await,
        1
    );

    // Bad input, each refused in Japanese, nothing written.
    let base = slot_fields(day, "年金のこと", "5");
    let yesterday = today_in_tokyo().checked_sub(1.days()).expect("a date");
    let late_deadline = day.checked_add(1.days()).expect("a date").to_string();
    for (name, value, message) in [
        ("theme", " ", "テーマを入力してください。"),
        (
            "capacity",
            "51",
            "受け付ける質問の数は、1から50までの数で入力してください。",
        ),
        (
            "capacity",
            "0",
            "受け付ける質問の数は、1から50までの数で入力してください。",
        ),
        (
            "end",
            "18:00",
            "終わる時刻は、始まる時刻より後にしてください。",
        ),
        (
            "date",
            "2026-02-30",
            "日付を「2026-12-10」のような形で入力してください。",
        ),
        ("start", "", "時刻を入力してください。"),
        (
            "deadline_date",
            &late_deadline,
            "質問の締め切りは、始まる時刻より前にしてください。",
        ),
        (
            "date",
            &yesterday.to_string(),
            "この時刻はもう過ぎています。これからの日時を選んでください。",
        ),
    ] {
        let page = post(
            &tanaka,
            "/qa/slots/new",
            "/qa/slots/new",
            &with(&base, name, value),
        )
        .await;
        assert_eq!(page.status, 422, "{name} = {value:?}");
        assert!(
            page.contains(message),
            "{name} = {value:?}: {}",
            page.text()
        );
        assert_eq!(
            page.attr("#theme", "value").as_deref().map(str::trim),
            Some(if name == "theme" {
                ""
            } else {
                "年金のこと"
            })
        );
    }
    assert_eq!(app.scalar(slots).await, 2);

    // The members' list: soonest first, with expert, qualification, deadline and places.
    let list = hana.get("/qa").await;
    assert_eq!(
        list.attrs("ul.qa-slots li", "id"),
        [format!("slot-{second}"), format!("slot-{first}")]
    );
    let tanaka_row = row(&list, first);
    for seen in [
        "傷病手当金と復職",
        "たなか（社会保険労務士）",
        "復職のご相談をどうぞ。",
        "19:00〜20:30",
        "残り 3 件",
    ] {
        assert!(tanaka_row.contains(seen), "{seen} in {tanaka_row}");
    }
    let deadline_text = format!(
        "質問の締め切り: {} 21:00",
        day.checked_sub(2.days()).expect("a date")
    );
    assert!(tanaka_row.contains(&deadline_text), "{tanaka_row}");
    assert!(row(&list, second).contains("すずき"));
    assert!(
        list.attrs("a", "href")
            .contains(&format!("/qa/slots/{first}"))
    );
    assert!(
        list.attrs("a", "href")
            .iter()
            .all(|h| !h.ends_with("/edit"))
    );

    // Capacity never below the questions accepted.
    for status in ["accepted", "accepted", "pending"] {
        app.execute(&format!(
            "INSERT INTO qa_questions (slot_id, asker_id, body, shared, anonymous, status, created_at) \
             VALUES ({first}, {hana_id}, '質問です', 1, 0, '{status}', 0)"
        ))
        .await;
    }
    let edit = format!("/qa/slots/{first}/edit");
    let form = tanaka.get(&edit).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.attr("#capacity", "value").as_deref(), Some("3"));
    assert_eq!(
        form.attr("#deadline_time", "value").as_deref(),
        Some("21:00")
    );
    let stored = slot_fields(day, "傷病手当金と復職", "3");
    let refused = post(&tanaka, &edit, &edit, &with(&stored, "capacity", "1")).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.contains("すでに2件の質問を受け付けています。それより少なくはできません。"),
        "{}",
        refused.text()
    );
    let capacity_is =
        |n: i64| format!("SELECT COUNT(*) FROM qa_slots WHERE id = {first} AND capacity = {n}");
    assert_eq!(app.scalar(&capacity_is(3)).await, 1);
    let saved = post(&tanaka, &edit, &edit, &with(&stored, "capacity", "2")).await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(app.scalar(&capacity_is(2)).await, 1);
    let edited = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'qa_slot.edited' AND target_id = {first}"
    );
    assert_eq!(app.scalar(&edited).await, 1);
    // Unchanged: nothing written.
    let saved = post(&tanaka, &edit, &edit, &with(&stored, "capacity", "2")).await;
    assert_eq!(saved.status, 303);
    assert_eq!(app.scalar(&edited).await, 1);
    let list = hana.get("/qa").await;
    assert!(row(&list, first).contains("受付終了"), "no place left");

    // A slot whose deadline has passed (its start still ahead) is closed too.
    let soon = hidamari::db::now() + 3600;
    app.execute(&format!(
        "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, created_at) \
         VALUES ({suzuki_id}, '締め切り後', {soon}, {}, {}, 5, 0)",
        soon + 3600,
        soon - 7200
    ))
    .await;
    let closed: i64 = app.scalar("SELECT MAX(id) FROM qa_slots").await;
    // And a slot that ended yesterday is under the recent ones.
    let past = hidamari::db::now() - 86_400;
    app.execute(&format!(
        "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, created_at) \
         VALUES ({tanaka_id}, '先月の相談会', {past}, {}, {}, 5, 0)",
        past + 3600,
        past - 86_400
    ))
    .await;
    let ended: i64 = app.scalar("SELECT MAX(id) FROM qa_slots").await;
    let list = hana.get("/qa").await;
    assert!(row(&list, closed).contains("受付終了"));
    assert_eq!(
        list.attrs("section[aria-labelledby=upcoming-heading] li", "id"),
        [
            format!("slot-{closed}"),
            format!("slot-{second}"),
            format!("slot-{first}")
        ]
    );
    assert_eq!(
        list.attrs("section[aria-labelledby=past-heading] li", "id"),
        [format!("slot-{ended}")]
    );

    // Another expert cannot touch it; a member or moderator does not know of the forms.
    assert_eq!(suzuki.get(&edit).await.status, 403);
    let refused = post(
        &suzuki,
        &edit,
        "/qa/slots/new",
        &with(&stored, "theme", "横取り"),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(hana.get(&edit).await.status, 404);
    assert_eq!(moderator.get(&edit).await.status, 404);
    let cancel = format!("/qa/slots/{first}/cancel");
    assert_eq!(suzuki.get(&cancel).await.status, 403);
    suzuki.get("/qa").await;
    assert_eq!(suzuki.post_form(&cancel, &[]).await.status, 403);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM qa_slots WHERE id = {first} AND theme = '傷病手当金と復職' \
             AND cancelled_at IS NULL"
        ))
        .await,
        1
    );

    // The coordinator edits any expert's slot; the expert may be changed to another.
    let other = format!("/qa/slots/{second}/edit");
    let form = coordinator.get(&other).await;
    assert_eq!(
        form.attr("select#expert option[selected]", "value"),
        Some(suzuki_id.to_string())
    );
    let moved = post(
        &coordinator,
        &other,
        &other,
        &with(&fields, "expert", &tanaka_id.to_string()),
    )
    .await;
    assert_eq!(moved.status, 303, "{}", moved.text());
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM qa_slots WHERE id = {second} AND expert_id = {tanaka_id}"
        ))
        .await,
        1
    );

    // Cancelled after a confirmation page: it stays listed, marked, with no edit links.
    let ask = tanaka.get(&cancel).await;
    assert_eq!(ask.status, 200);
    assert!(ask.contains("受け付けた質問: 2件"));
    let done = tanaka.post_form(&cancel, &[]).await;
    assert_eq!(done.status, 303);
    assert!(
        tanaka
            .follow(&done)
            .await
            .contains("相談枠を中止しました。")
    );
    let cancelled = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'qa_slot.cancelled' AND target_id = {first}"
    );
    assert_eq!(app.scalar(&cancelled).await, 1);
    // Hana, whose three questions were waiting or accepted, hears of it once, with a way on.
    let told = app
        .mail
        .wait_for(
            |m| m.is_to("hana@example.org") && m.subject.contains("相談枠が中止になりました"),
            std::time::Duration::from_secs(10),
        )
        .await;
    assert!(told.text.contains("傷病手当金と復職"), "{}", told.text);
    assert!(!told.link(&app.url("/qa")).is_empty());
    assert_eq!(
        app.mail
            .messages_to("hana@example.org")
            .iter()
            .filter(|m| m.subject.contains("相談枠が中止"))
            .count(),
        1
    );
    let list = hana.get("/qa").await;
    let marked = row(&list, first);
    assert!(
        marked.contains("中止") && !marked.contains("残り"),
        "{marked}"
    );
    let own = tanaka.get("/qa").await;
    assert!(!own.attrs("a", "href").contains(&edit));
    assert_eq!(tanaka.get(&edit).await.status, 404);
    assert_eq!(tanaka.get(&cancel).await.status, 404);
    tanaka.get("/qa").await;
    let again = tanaka.post_form(&cancel, &[]).await;
    assert_eq!(again.status, 303);
    assert!(
        tanaka
            .follow(&again)
            .await
            .contains("この相談枠は、すでに中止されています。")
    );
    assert_eq!(app.scalar(&cancelled).await, 1);
    let stale = post(&tanaka, &edit, "/qa/slots/new", &stored).await;
    assert_eq!(stale.status, 403, "a cancelled slot's form is stale");

    // In English: places and closed slots in words, and a refusal in English.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let list = hana.get("/qa").await;
    assert!(row(&list, closed).contains("Closed to questions"));
    tanaka.post_form("/preferences", &[("locale", "en")]).await;
    let page = post(
        &tanaka,
        "/qa/slots/new",
        "/qa/slots/new",
        &with(&base, "capacity", "x"),
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(
        page.contains("Please enter a number of questions from 1 to 50."),
        "{}",
        page.text()
    );
    let made = post(&tanaka, "/qa/slots/new", "/qa/slots/new", &base).await;
    assert_eq!(made.status, 303);
    let list = hana.get("/qa").await;
    let newest: i64 = app.scalar("SELECT MAX(id) FROM qa_slots").await;
    assert!(
        row(&list, newest).contains("5 places left"),
        "{}",
        row(&list, newest)
    );
    app.shutdown().await;
}
both_databases!(slots_story);

async fn a_silenced_expert_offers_nothing_new_but_may_cancel(app: TestApp) {
    let People {
        coordinator,
        tanaka,
        hana,
        ..
    } = people(&app).await;
    let tanaka_id = user_id(&app, "sr@example.org").await;
    let profile = [
        ("qualification", "社会保険労務士"),
        ("introduction", "復職のご相談をどうぞ。"),
    ];
    tanaka.get("/qa/profile").await;
    assert_eq!(tanaka.post_form("/qa/profile", &profile).await.status, 303);
    let date = today_in_tokyo().checked_add(14.days()).expect("a date");
    let fields = slot_fields(date, "年金と仕事", "5");
    let made = post(&tanaka, "/qa/slots/new", "/qa/slots/new", &fields).await;
    assert_eq!(made.status, 303, "{}", made.text());
    let slot = app.scalar("SELECT MAX(id) FROM qa_slots").await;

    coordinator.get(&format!("/mod/members/{tanaka_id}")).await;
    let silenced = coordinator
        .post_form(
            &format!("/mod/members/{tanaka_id}/silence"),
            &[
                ("length", "1d"),
                ("until", ""),
                ("reason", "確認しています"),
            ],
        )
        .await;
    assert_eq!(silenced.status, 303, "{}", silenced.text());

    // No new slot, no change members would read, no new profile text: a clear page each time.
    let refused = post(
        &tanaka,
        "/qa/slots/new",
        "/qa/slots/new",
        &with(&fields, "theme", "もう一枠"),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(
        refused.contains("書き込みを止めています"),
        "{}",
        refused.text()
    );
    assert!(refused.contains("確認しています"), "{}", refused.text());
    let edit = format!("/qa/slots/{slot}/edit");
    let changed = post(&tanaka, &edit, &edit, &with(&fields, "theme", "書きかえ")).await;
    assert_eq!(changed.status, 403, "{}", changed.text());
    tanaka.get("/qa/profile").await;
    let rewritten = tanaka
        .post_form(
            "/qa/profile",
            &[("qualification", "社労士"), ("introduction", "書きかえ")],
        )
        .await;
    assert_eq!(rewritten.status, 403, "{}", rewritten.text());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM qa_slots").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM qa_slots WHERE theme = '年金と仕事'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM expert_profiles WHERE introduction = '書きかえ'")
            .await,
        0
    );

    // Cancelling what they offered stays possible, and members see it cancelled.
    let cancel = format!("/qa/slots/{slot}/cancel");
    assert_eq!(tanaka.get(&cancel).await.status, 200);
    assert_eq!(tanaka.post_form(&cancel, &[]).await.status, 303);
    let list = hana.get("/qa").await;
    assert!(row(&list, slot).contains("中止"), "{}", row(&list, slot));
    app.shutdown().await;
}
both_databases!(a_silenced_expert_offers_nothing_new_but_may_cancel);
