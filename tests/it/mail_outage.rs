//! An SMTP outage delays mail and loses none: every mail queued while the server was down arrives
//! exactly once after it comes back.

use std::time::Duration;

use crate::common::TestApp;
use crate::journeys::{first_coordinator, member, send_invitations};

async fn mail_queued_during_an_outage_arrives_exactly_once(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    member(&app, &coordinator, "hana@example.org", "はな").await;
    let before = app.mail.count();

    app.mail.stop().await;
    let page = send_invitations(
        &coordinator,
        "a@example.org\nb@example.org\nc@example.org",
        "member",
        "patient",
        "ja",
    )
    .await;
    assert_eq!(page.select(".outcomes li.ok").len(), 3);
    let visitor = app.client();
    visitor.get("/reset").await;
    visitor
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;

    // While SMTP is down the mails wait in the outbox, and the worker has tried at least once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app
        .scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND attempts > 0")
        .await
        < 4
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not try to send"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.mail.count(), before);

    app.mail.start_again().await;
    for address in [
        "a@example.org",
        "b@example.org",
        "c@example.org",
        "hana@example.org",
    ] {
        app.mail
            .wait_for(
                |m| m.seq >= before && m.is_to(address),
                Duration::from_secs(60),
            )
            .await;
    }
    // One more mail, queued after the outage, arrives after every retry of the earlier ones.
    send_invitations(&coordinator, "d@example.org", "member", "patient", "ja").await;
    app.mail
        .wait_for(|m| m.is_to("d@example.org"), Duration::from_secs(30))
        .await;
    for address in ["a@example.org", "b@example.org", "c@example.org"] {
        assert_eq!(
            app.mail.messages_to(address).len(),
            1,
            "{address}: exactly once"
        );
    }
    assert_eq!(
        app.mail.messages_to("hana@example.org").len(),
        2,
        "the invitation and one reset mail"
    );
    // The worker records a delivery just after the SMTP server accepted it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app
        .scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .await
        > 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivered mail is recorded as sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.shutdown().await;
}
both_databases!(mail_queued_during_an_outage_arrives_exactly_once);
