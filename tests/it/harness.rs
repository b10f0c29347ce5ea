//! The harness checks itself: the SMTP peer, the browser's form handling and the server process.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use lettre::message::MultiPart;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::common::{Backend, MAIL_WAIT, MailBox, Page, TestApp, process_setup};

fn mail(to: &str, subject: &str, text: &str) -> lettre::Message {
    lettre::Message::builder()
        .from("hidamari <noreply@localhost>".parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(
            text.to_owned(),
            format!("<p>{text}</p>"),
        ))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_peer_receives_and_can_go_down() {
    let mailbox = MailBox::start().await;
    let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(&mailbox.url())
        .unwrap()
        .timeout(Some(Duration::from_secs(5)))
        .build();

    // ASCII text goes over the wire as 7bit, so the line starting with a dot is dot-stuffed.
    let text = "Hello,\r\n.a line that starts with a dot\r\n..two\r\nYour link: http://127.0.0.1:9/invite/abc123.\r\n";
    smtp.send(mail("a@example.org", "招待のお知らせ", text))
        .await
        .unwrap();
    let got = mailbox
        .wait_for(|m| m.is_to("a@example.org"), MAIL_WAIT)
        .await;
    assert_eq!(got.seq, 0);
    assert_eq!(got.subject, "招待のお知らせ");
    assert_eq!(got.to, ["a@example.org"]);
    assert_eq!(got.envelope_from, "noreply@localhost");
    assert!(
        got.text
            .contains("\n.a line that starts with a dot\r\n..two\r\n"),
        "{:?}",
        got.text
    );
    assert!(got.html.contains("<p>Hello,"), "{:?}", got.html);
    assert_eq!(
        got.link("http://127.0.0.1:9/invite/"),
        "http://127.0.0.1:9/invite/abc123"
    );
    assert_eq!(got.header("mime-version").as_deref(), Some("1.0"));

    // Down: the port refuses connections and a send fails with a transient error.
    mailbox.stop().await;
    assert!(
        tokio::net::TcpStream::connect(mailbox.addr())
            .await
            .is_err()
    );
    let failed = smtp
        .send(mail("b@example.org", "down", "nothing"))
        .await
        .unwrap_err();
    assert!(!failed.is_permanent(), "{failed}");

    // Up again on the same port.
    mailbox.start_again().await;
    smtp.send(mail("b@example.org", "up again", "hello"))
        .await
        .unwrap();
    let again = mailbox.wait_for(|m| m.seq >= 1, MAIL_WAIT).await;
    assert_eq!(again.subject, "up again");
    assert_eq!(mailbox.count(), 2);

    // A refused recipient is a permanent error.
    mailbox.refuse("gone@example.org");
    let refused = smtp
        .send(mail("gone@example.org", "refused", "x"))
        .await
        .unwrap_err();
    assert!(refused.is_permanent(), "{refused}");
    assert_eq!(mailbox.count(), 2);
    assert!(mailbox.messages_to("gone@example.org").is_empty());
    mailbox.stop().await;
}

both_databases!(browser_sends_forms_like_a_browser);

async fn browser_sends_forms_like_a_browser(app: TestApp) {
    let browser = app.client();
    let fields = [
        ("email", "nobody@example.org"),
        ("password", "wrong password"),
    ];
    browser.get("/login").await;
    let token = browser.csrf().expect("the login page's token");

    // With the token and our Origin, the form reaches the handler (which refuses the login).
    let page = browser.post_form("/login", &fields).await;
    assert_ne!(page.status, 403, "{}", page.text());
    assert!(
        page.csrf().is_some(),
        "the login form again: {}",
        page.text()
    );

    // Without the token, or without the Origin, or from another origin: a stale-form page.
    assert_eq!(browser.post_form_raw("/login", &fields).await.status, 403);
    let with_token = [fields[0], fields[1], ("csrf", token.as_str())];
    assert_eq!(
        browser.post_form_raw("/login", &with_token).await.status,
        403
    );
    let body = serde_urlencoded::to_string(with_token).unwrap();
    let page = browser
        .post_raw(
            "/login",
            &[
                ("origin", "http://evil.example"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            body,
        )
        .await;
    assert_eq!(page.status, 403);

    // Direct database checks work on either database, whatever the integer's width.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.scalar("SELECT 1 + 1").await, 2);
    assert_eq!(app.execute("DELETE FROM users").await, 0);
    app.shutdown().await;
}

async fn server_process_stops_and_restarts(backend: Backend) {
    let setup = process_setup(backend).await;
    let server = setup.start_server(&[]).await;
    let browser = server.client();
    assert_eq!(browser.get("/healthz").await.status, 200);
    assert_eq!(browser.get("/login").await.status, 200);
    let addr = server.addr;
    let status = server.kill_hard().await;
    assert!(!status.success(), "SIGKILL ends the process: {status}");

    let server = setup.start_server_at(addr, &[]).await;
    assert_eq!(server.addr, addr);
    assert_eq!(browser.get("/healthz").await.status, 200);
    // The process is gone either way. (Whether a SIGTERM right after start-up is handled
    // gracefully is the application's business, for the shutdown story to check: `serve`
    // installs its SIGTERM handler only after /healthz already answers.)
    let status = server.terminate().await;
    assert!(
        status.success() || status.signal() == Some(15),
        "SIGTERM ends the process: {status}"
    );
    setup.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_process_stops_and_restarts_sqlite() {
    server_process_stops_and_restarts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_process_stops_and_restarts_postgres() {
    server_process_stops_and_restarts(Backend::Postgres).await;
}

#[test]
fn pages_read_like_a_person_sees_them() {
    let body = r#"<!doctype html><html><head><title>Hidden title</title>
        <style>p { color: red }</style></head><body>
        <h1>ようこそ、<strong>ひまわり</strong>さん</h1><p>One</p><p>Two</p>
        <script>var secret = 1;</script>
        <form action="/login" method="post"><input type="hidden" name="csrf" value="abc">
        <label>Mail <input name="email" value="a@example.org"></label></form>
        <ul><li class="x">first <a href="/a">link</a></li><li class="x">second</li></ul>
        </body></html>"#;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("location", "/login?next=%2F".parse().unwrap());
    let page = Page {
        status: reqwest::StatusCode::SEE_OTHER,
        url: "http://127.0.0.1:1/account".into(),
        headers,
        body: body.into(),
    };
    assert_eq!(
        page.text(),
        "ようこそ、ひまわりさん One Two Mail first link second"
    );
    assert_eq!(page.select("li.x"), ["first link", "second"]);
    assert_eq!(page.attr("form", "action").as_deref(), Some("/login"));
    assert_eq!(page.attrs("li a", "href"), ["/a"]);
    assert_eq!(page.csrf().as_deref(), Some("abc"));
    assert_eq!(page.redirect_path(), "/login?next=%2F");
    assert_eq!(
        page.location_url().as_deref(),
        Some("http://127.0.0.1:1/login?next=%2F")
    );
}
