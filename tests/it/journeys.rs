//! What people do, as steps a test can string together: a coordinator invites, an invitee joins,
//! a member logs in. Each step goes through the real pages and the real mail.

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};

pub const PASSWORD: &str = "ひだまりの午後に紅茶を";
pub const OTHER_PASSWORD: &str = "雨上がりの散歩道で深呼吸";

/// The first coordinator, made as the README says: `create-coordinator`, then its link.
pub async fn first_coordinator(app: &TestApp, email: &str, name: &str) -> Browser {
    let link = hidamari::admin::service::invite_coordinator(app.db(), app.config(), email)
        .await
        .expect("create-coordinator");
    join(app, &link, name).await
}

/// Opens an invitation link in a new browser and joins with `name` and [`PASSWORD`].
pub async fn join(app: &TestApp, link: &str, name: &str) -> Browser {
    let browser = app.client();
    let form = browser.get(link).await;
    assert_eq!(form.status, 200, "invitation page: {}", form.text());
    let done = browser
        .post_form(
            link,
            &[
                ("display_name", name),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "joining as {name}: {}", done.text());
    assert_eq!(done.redirect_path(), "/");
    browser
}

/// A coordinator invites `email` from the invitations page; returns the link from the mail.
pub async fn invite(
    app: &TestApp,
    coordinator: &Browser,
    email: &str,
    role: &str,
    relation: &str,
) -> String {
    let before = app.mail.count();
    let page = send_invitations(coordinator, email, role, relation, "ja").await;
    assert_eq!(page.status, 200, "inviting {email}: {}", page.text());
    assert!(
        page.text().contains("招待を送りました"),
        "no confirmation for {email}: {}",
        page.text()
    );
    let address = email.trim().to_lowercase();
    let mail = app
        .mail
        .wait_for(|m| m.seq >= before && m.is_to(&address), MAIL_WAIT)
        .await;
    mail.link(&format!("{}/invite/", app.base_url()))
}

/// Posts the invitation form with `emails` as typed.
pub async fn send_invitations(
    coordinator: &Browser,
    emails: &str,
    role: &str,
    relation: &str,
    locale: &str,
) -> Page {
    coordinator.get("/admin/invitations").await;
    coordinator
        .post_form(
            "/admin/invitations",
            &[
                ("emails", emails),
                ("role", role),
                ("relation", relation),
                ("locale", locale),
            ],
        )
        .await
}

/// A member invited by `coordinator` who has joined as `name`.
pub async fn member(app: &TestApp, coordinator: &Browser, email: &str, name: &str) -> Browser {
    member_as(app, coordinator, email, "member", "patient", name).await
}

/// Logs in from a new browser; returns the browser and the answer to the login form.
pub async fn login(app: &TestApp, email: &str, password: &str) -> (Browser, Page) {
    let browser = app.client();
    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    let answer = browser
        .post_form("/login", &[("email", email), ("password", password)])
        .await;
    (browser, answer)
}

/// Whether a browser's session is logged in: the home page shows instead of a redirect to login.
pub async fn is_logged_in(browser: &Browser) -> bool {
    let home = browser.get("/").await;
    match home.status.as_u16() {
        200 => true,
        303 => {
            assert_eq!(home.redirect_path(), "/login");
            false
        }
        other => panic!("unexpected status {other} for the home page"),
    }
}

/// A member invited with `role` and `relation`, joined as `name`.
pub async fn member_as(
    app: &TestApp,
    coordinator: &Browser,
    email: &str,
    role: &str,
    relation: &str,
    name: &str,
) -> Browser {
    let link = invite(app, coordinator, email, role, relation).await;
    join(app, &link, name).await
}

/// The id of a category by its name.
pub async fn category_id(app: &TestApp, name: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM categories WHERE name = '{name}'"))
        .await
}

/// Starts a topic from the category's form; returns the topic's path.
pub async fn start_topic(browser: &Browser, category: i64, title: &str, body: &str) -> String {
    browser.get(&format!("/c/{category}/new")).await;
    let page = browser
        .post_form(
            &format!("/c/{category}/new"),
            &[("title", title), ("body", body), ("action", "post")],
        )
        .await;
    assert_eq!(page.status, 303, "starting a topic: {}", page.text());
    page.redirect_path()
}

/// Replies from the topic's page; returns where the reply landed (`/t/…#post-N`).
pub async fn reply(browser: &Browser, topic: &str, body: &str) -> String {
    browser.get(topic).await;
    let page = browser
        .post_form(topic, &[("body", body), ("action", "post")])
        .await;
    assert_eq!(page.status, 303, "replying: {}", page.text());
    page.location().expect("a redirect").to_owned()
}

/// The post id a reply's address (`/t/…#post-N`) ends with.
pub fn post_id(address: &str) -> i64 {
    address
        .rsplit("#post-")
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no post id in {address}"))
}

/// The display name [`staff`] gives the moderator.
pub const MODERATOR_NAME: &str = "もでさん";

/// The first coordinator (coord@example.org, こーでぃ) and a moderator she invited
/// (mod@example.org, [`MODERATOR_NAME`]): the staff of the moderation stories.
pub async fn staff(app: &TestApp) -> (Browser, Browser) {
    let coordinator = first_coordinator(app, "coord@example.org", "こーでぃ").await;
    let moderator = member_as(
        app,
        &coordinator,
        "mod@example.org",
        "moderator",
        "supporter",
        MODERATOR_NAME,
    )
    .await;
    (coordinator, moderator)
}

/// What [`footprints`] left.
pub struct Footprints {
    /// Sora's topic, where Hana replied.
    pub topic: String,
    /// Hana's reply there.
    pub hana_post: i64,
    /// The café room she talked in.
    pub room: i64,
}

/// Hana (`hana_id`) leaves a trace of every kind in the site: a reply in Sora's topic and a
/// topic of her own, a reaction, a report with a note, a block, a café message, a question to
/// an expert, a private profile and mail settings. For the stories of what deletion erases and
/// export gives back.
pub async fn footprints(
    app: &TestApp,
    coordinator: &Browser,
    hana: &Browser,
    sora: &Browser,
    hana_id: i64,
) -> Footprints {
    let category = category_id(app, "雑談").await;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    };
    let topic = start_topic(sora, category, "春の散歩の話", "桜が咲きました").await;
    let sora_post = app.scalar("SELECT MIN(id) FROM posts").await;
    let hana_reply = reply(hana, &topic, "川沿いの桜並木を歩きました").await;
    let hana_post = crate::journeys::post_id(&hana_reply);
    let own_topic = start_topic(
        hana,
        category,
        "はなの庭だより",
        "チューリップが咲いています",
    )
    .await;
    reply(sora, &own_topic, "見てみたいです").await;
    hana.get(&topic).await;
    let react = hana
        .post_form(&format!("/p/{sora_post}/react"), &[("kind", "thanks")])
        .await;
    assert_eq!(react.status, 303, "{}", react.text());
    hana.get(&format!("/p/{sora_post}/report")).await;
    let report = hana
        .post_form(
            &format!("/p/{sora_post}/report"),
            &[
                ("reason", "other"),
                ("note", "はなみずきより確認をお願いします"),
            ],
        )
        .await;
    assert_eq!(report.status, 303, "{}", report.text());
    hana.get(&topic).await;
    let block = hana.post_form(&format!("/p/{sora_post}/block"), &[]).await;
    assert_eq!(block.status, 303, "{}", block.text());
    // A café message, in a session on now.
    let room = app
        .scalar("SELECT id FROM cafe_rooms WHERE name = 'みんなのカフェ'")
        .await;
    app.execute(&format!(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, theme, created_at) \
         VALUES ({room}, {start}, {end}, '春のおしゃべり', {start})",
        start = now() - 60,
        end = now() + 3600,
    ))
    .await;
    hana.get(&format!("/cafe/{room}")).await;
    let said = hana
        .post_form(
            &format!("/cafe/{room}/messages"),
            &[("body", "カフェで話せてうれしいです")],
        )
        .await;
    assert_eq!(said.status, 303, "{}", said.text());
    // A question to an expert.
    member_as(
        app,
        coordinator,
        "sensei@example.org",
        "expert",
        "supporter",
        "山田先生",
    )
    .await;
    let expert_id = app
        .scalar("SELECT id FROM users WHERE email = 'sensei@example.org'")
        .await;
    let slot = app
        .scalar(&format!(
            "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
             follow_ups, created_at) VALUES ({expert_id}, '傷病手当金', {start}, {end}, \
             {deadline}, 5, 1, 0) RETURNING id",
            start = now() + 7200,
            end = now() + 10800,
            deadline = now() + 3600,
        ))
        .await;
    hana.get(&format!("/qa/slots/{slot}")).await;
    let asked = hana
        .post_form(
            &format!("/qa/slots/{slot}/questions"),
            &[
                ("body", "休職中の手当について教えてください"),
                ("shared", "1"),
            ],
        )
        .await;
    assert!(asked.status == 303, "{}", asked.text());
    // Her private profile and her mail settings.
    hana.get("/account/profile").await;
    let profile = hana
        .post_form(
            "/account/profile",
            &[
                ("cancer", "はなみずき式の乳がん"),
                ("introduction", "庭いじりが好きです"),
                ("show_cancer", "1"),
            ],
        )
        .await;
    assert_eq!(profile.status, 303, "{}", profile.text());
    hana.get("/account").await;
    let prefs = hana
        .post_form(
            "/account/notifications",
            &[
                ("reply", "digest"),
                ("mention", "off"),
                ("answer", "now"),
                ("cafe", "now"),
                ("announcement", "now"),
                ("quiet_from", "22"),
                ("quiet_until", "7"),
            ],
        )
        .await;
    assert_eq!(prefs.status, 303, "{}", prefs.text());
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM notify_prefs WHERE user_id = {hana_id}"
        ))
        .await,
        5
    );
    Footprints {
        topic,
        hana_post,
        room,
    }
}
