//! Logging in and out: guessing throttled without locking members out, no session stored for
//! visitors, private pages kept out of caches, sessions renewed while used, the way back to the
//! page asked for, and the messages around it.

use hidamari::session_store::AnySessionStore;
use time::{Duration, OffsetDateTime};
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::Id;

use crate::common::{Backend, Browser, TestApp, spawn_app_with};
use crate::journeys::{
    PASSWORD, category_id, first_coordinator, invite, is_logged_in, join, login, member,
    start_topic,
};

const WRONG: &str = "まちがったパスワードです";

/// The sessions stored, on either database.
async fn stored_sessions(app: &TestApp) -> i64 {
    match app.backend {
        Backend::Sqlite => app.scalar("SELECT COUNT(*) FROM tower_sessions").await,
        Backend::Postgres => {
            app.scalar("SELECT COUNT(*) FROM tower_sessions.session")
                .await
        }
    }
}

/// Posts the login form from `browser` after opening it, as a person would.
async fn log_in_from(browser: &Browser, email: &str, password: &str) -> crate::common::Page {
    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    browser
        .post_form("/login", &[("email", email), ("password", password)])
        .await
}

async fn a_hostile_client_cannot_lock_a_member_out(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    member(&app, &coordinator, "hana@example.org", "はな").await;
    let hostile = app.client_from("203.0.113.9");
    let mut refused = 0;
    for _ in 0..20 {
        let page = log_in_from(&hostile, "hana@example.org", WRONG).await;
        match page.status.as_u16() {
            422 => {}
            429 => refused += 1,
            other => panic!("unexpected {other}: {}", page.text()),
        }
    }
    assert!(refused > 0, "the hostile client is refused in the end");
    assert_eq!(
        log_in_from(&hostile, "hana@example.org", PASSWORD)
            .await
            .status,
        429,
        "from there, even the right password waits"
    );

    // Hana, on her own device, still gets in (slowed down, not refused) and can reset.
    let hana = app.client_from("198.51.100.7");
    let answer = log_in_from(&hana, "hana@example.org", PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert!(is_logged_in(&hana).await);
    let reset = app.client_from("198.51.100.7");
    reset.get("/reset").await;
    let asked = reset
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text());
    app.mail
        .wait_for(
            |m| m.is_to("hana@example.org") && m.text.contains("/reset/"),
            crate::common::MAIL_WAIT,
        )
        .await;
    app.shutdown().await;
}

async fn a_hostile_client_cannot_lock_a_member_out_behind_a_proxy(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.trust_forwarded_for = true).await;
    a_hostile_client_cannot_lock_a_member_out(app).await;
}

#[tokio::test]
async fn a_hostile_client_cannot_lock_a_member_out_sqlite() {
    a_hostile_client_cannot_lock_a_member_out_behind_a_proxy(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_hostile_client_cannot_lock_a_member_out_postgres() {
    a_hostile_client_cannot_lock_a_member_out_behind_a_proxy(Backend::Postgres).await;
}

async fn visitors_store_no_session(app: TestApp) {
    first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let before = stored_sessions(&app).await;
    for _ in 0..200 {
        assert_eq!(app.client().get("/login").await.status, 200);
    }
    for path in ["/reset", "/invite/not-a-token"] {
        app.client().get(path).await;
    }
    let visitor = app.client();
    let wrong = log_in_from(&visitor, "coord@example.org", WRONG).await;
    assert_eq!(
        wrong.status,
        422,
        "the form's token is good: {}",
        wrong.text()
    );
    assert_eq!(stored_sessions(&app).await, before);

    // The visitor's token is bound to their own cookie: another's is refused.
    let other = app.client();
    other.get("/login").await;
    let stolen = visitor.csrf().expect("a token on the login page");
    let forged = other
        .post_form(
            "/login",
            &[
                ("email", "coord@example.org"),
                ("password", PASSWORD),
                ("csrf", &stolen),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let (_, answer) = login(&app, "coord@example.org", PASSWORD).await;
    assert_eq!(answer.status, 303);
    assert_eq!(stored_sessions(&app).await, before + 1, "a login is stored");
    app.shutdown().await;
}
both_databases!(visitors_store_no_session);

async fn private_pages_stay_out_of_caches(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    for path in ["/", "/account", "/admin/invitations"] {
        let page = coordinator.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
    }
    for path in ["/login", "/reset"] {
        let page = app.client().get(path).await;
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
    }
    let style = coordinator.get("/static/site.css").await;
    assert_eq!(style.status, 200);
    assert_ne!(style.header("cache-control"), Some("no-store"));
    app.shutdown().await;
}
both_databases!(private_pages_stay_out_of_caches);

async fn sessions_are_renewed_while_used(app: TestApp) {
    first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let (browser, answer) = login(&app, "coord@example.org", PASSWORD).await;
    let id: Id = answer
        .header("set-cookie")
        .and_then(|c| c.strip_prefix("hidamari_session="))
        .and_then(|c| c.split(';').next())
        .and_then(|id| id.parse().ok())
        .expect("a session cookie");
    // The session as stored (its expiry is kept with its data), read past any cache: a new
    // store each time (on SQLite a store keeps its own cache).
    let stored = async || {
        AnySessionStore::new(app.db())
            .load(&id)
            .await
            .expect("the session store")
            .expect("the session")
    };
    let written = stored().await.expiry_date;
    assert!(written > OffsetDateTime::now_utc() + Duration::days(29));
    // A page view early in the session's life writes nothing.
    assert_eq!(browser.get("/").await.status, 200);
    assert_eq!(stored().await.expiry_date, written);

    // Twenty days later (made so in the store; the cache of a running SQLite server would not
    // see it, so the visit goes to a second server on the same database).
    let mut record = stored().await;
    record.expiry_date -= Duration::days(20);
    AnySessionStore::new(app.db())
        .save(&record)
        .await
        .expect("ageing the session");
    let second = app.second_instance().await;
    // Cookies do not depend on the port: the browser sends its session there too.
    let home = browser.get(&format!("http://{}/", second.addr)).await;
    assert_eq!(home.status, 200, "still logged in: {}", home.text());
    let renewed = stored().await;
    assert!(
        renewed.expiry_date > OffsetDateTime::now_utc() + Duration::days(29),
        "renewed for another 30 days: {}",
        renewed.expiry_date
    );
    assert!(
        home.header("set-cookie")
            .is_some_and(|c| c.starts_with("hidamari_session=")),
        "with a fresh cookie"
    );
    // Once renewed, the next view writes nothing again.
    let again = browser.get(&format!("http://{}/", second.addr)).await;
    assert_eq!(again.status, 200);
    assert_eq!(stored().await.expiry_date, renewed.expiry_date);
    second.shutdown().await;
    app.shutdown().await;
}
both_databases!(sessions_are_renewed_while_used);

async fn login_returns_to_the_page_asked_for(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let category = category_id(&app, "雑談").await;
    let topic = start_topic(
        &coordinator,
        category,
        "お花見の相談",
        "来週はいかがですか。",
    )
    .await;

    let hana = app.client();
    let sent = hana.get(&topic).await;
    assert_eq!(sent.status, 303);
    let to_login = sent.redirect_path();
    assert!(to_login.starts_with("/login?next="), "{to_login}");
    let form = hana.get(&to_login).await;
    assert_eq!(
        form.attr("input[name=next]", "value").as_deref(),
        Some(topic.as_str())
    );
    let answer = hana
        .post_form(
            "/login",
            &[
                ("email", "coord@example.org"),
                ("password", PASSWORD),
                ("next", &topic),
            ],
        )
        .await;
    assert_eq!(answer.redirect_path(), topic);
    assert!(hana.get(&topic).await.text().contains("お花見の相談"));

    // Only paths of this site: anything else returns home.
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/t/1\r\nSet-Cookie: x=1",
        "evil.example",
    ] {
        let browser = app.client();
        let form = browser.get("/login").await;
        assert_eq!(form.status, 200);
        let answer = browser
            .post_form(
                "/login",
                &[
                    ("email", "coord@example.org"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(answer.location(), Some("/"), "{next:?}");
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let form = app.client().get(&format!("/login?next={encoded}")).await;
        assert_eq!(form.attr("input[name=next]", "value"), None, "{next:?}");
    }
    app.shutdown().await;
}
both_databases!(login_returns_to_the_page_asked_for);

async fn logging_out_says_so(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    hana.get("/").await;
    let out = hana.post_form("/logout", &[]).await;
    assert_eq!(out.redirect_path(), "/login");
    let page = hana.follow(&out).await;
    assert!(
        page.text().contains("ログアウトしました"),
        "{}",
        page.text()
    );
    // Said once, and the message leaves no session behind.
    assert!(
        !hana
            .get("/login")
            .await
            .text()
            .contains("ログアウトしました")
    );
    assert!(!is_logged_in(&hana).await);

    coordinator.get("/").await;
    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    coordinator.get("/").await;
    let out = coordinator.post_form("/logout", &[]).await;
    let page = coordinator.follow(&out).await;
    assert!(
        page.text().contains("You have logged out"),
        "{}",
        page.text()
    );
    assert_eq!(stored_sessions(&app).await, 0);
    app.shutdown().await;
}
both_databases!(logging_out_says_so);

async fn an_invitation_opened_again_offers_the_login(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let link = invite(&app, &coordinator, "hana@example.org", "member", "family").await;
    join(&app, &link, "はな").await;
    let again = app.client().get(&link).await;
    assert_eq!(again.status, 410);
    assert!(
        again.text().contains("すでにアカウントが作られています"),
        "{}",
        again.text()
    );
    assert!(!again.text().contains("新しい招待"), "{}", again.text());
    assert_eq!(again.attr("a.button", "href").as_deref(), Some("/login"));
    let english = app
        .client()
        .get_with_headers(&link, &[("accept-language", "en")])
        .await;
    assert!(
        english.text().contains("An account has already been made"),
        "{}",
        english.text()
    );
    app.shutdown().await;
}
both_databases!(an_invitation_opened_again_offers_the_login);

/// `hidamari create-coordinator --email …` run in `folder`, with only `env` of the hidamari
/// settings; returns whether it succeeded, and what it printed.
async fn create_coordinator(
    folder: &std::path::Path,
    env: &[(&str, &str)],
    extra: &[&str],
) -> (bool, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hidamari"));
    command
        .current_dir(folder)
        .args(["create-coordinator", "--email", "coord@example.org"])
        .args(extra);
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(|n| n.starts_with("HIDAMARI_") || n == "DATABASE_URL")
        {
            command.env_remove(&name);
        }
    }
    command.envs(env.iter().copied());
    let output = command.output().await.expect("running hidamari");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

async fn create_coordinator_uses_only_an_existing_database(backend: Backend) {
    let setup = crate::common::process_setup(backend).await;
    // In a folder where no server runs, it says which database it would use and makes none.
    let elsewhere = tempfile::tempdir().expect("a folder");
    let (made, printed) = create_coordinator(elsewhere.path(), &[], &[]).await;
    assert!(!made, "{printed}");
    let default_file = elsewhere.path().join("data").join("hidamari.db");
    assert!(
        printed.contains(&default_file.display().to_string()),
        "{printed}"
    );
    assert!(printed.contains("HIDAMARI_DATA_DIR"), "{printed}");
    assert!(printed.contains("--create-database"), "{printed}");
    assert!(!default_file.exists(), "no database was made");

    // The first run as the README tells it: `serve` makes the database and says how to go on.
    let data_dir = setup.dir.path().display().to_string();
    let env = [
        ("HIDAMARI_DATA_DIR", data_dir.as_str()),
        ("DATABASE_URL", setup.database_url.as_str()),
    ];
    let server = setup.start_server(&[]).await;
    // It prints the hint just after it starts answering.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.log().contains("create-coordinator") {
        assert!(std::time::Instant::now() < deadline, "{}", server.log());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Both name the database: the file's folder, or the PostgreSQL database.
    let database = match backend {
        Backend::Sqlite => data_dir.clone(),
        Backend::Postgres => setup
            .database_url
            .rsplit('/')
            .next()
            .expect("a database name")
            .to_owned(),
    };
    assert!(server.log().contains(&database), "{}", server.log());
    let (made, printed) = create_coordinator(elsewhere.path(), &env, &[]).await;
    assert!(made, "{printed}");
    assert!(printed.contains(&database), "{printed}");
    // The link names the default base URL; the token is what matters.
    let token = printed
        .split_whitespace()
        .find_map(|word| word.split_once("/invite/"))
        .map(|(_, token)| token.to_owned())
        .expect("a link");
    let link = format!("{}/invite/{token}", server.base_url());
    assert_eq!(server.client().get(&link).await.status, 200, "{link}");
    drop(server);

    // Asked for, it makes a new database.
    let (made, printed) = create_coordinator(elsewhere.path(), &[], &["--create-database"]).await;
    assert!(made, "{printed}");
    assert!(default_file.exists());
    setup.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_coordinator_uses_only_an_existing_database_sqlite() {
    create_coordinator_uses_only_an_existing_database(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_coordinator_uses_only_an_existing_database_postgres() {
    create_coordinator_uses_only_an_existing_database(Backend::Postgres).await;
}
