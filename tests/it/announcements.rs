//! Coordinators' announcements: pinned on every home page, optionally e-mailed to everyone.

use crate::common::{MAIL_WAIT, TestApp};
use crate::journeys::{first_coordinator, member};

async fn an_announcement_reaches_every_member(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    assert_eq!(
        hana.get("/admin/announcements").await.status,
        404,
        "members do not post announcements"
    );

    coordinator.get("/admin/announcements").await;
    let refused = coordinator
        .post_form(
            "/admin/announcements",
            &[("title", ""), ("body", "本文だけ")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.select("textarea[name=body]").join(""),
        "本文だけ",
        "what was typed stays"
    );

    let before = app.mail.count();
    coordinator.get("/admin/announcements").await;
    let posted = coordinator
        .post_form(
            "/admin/announcements",
            &[
                ("title", "12月の相談会"),
                ("body", "12月10日に**オンライン相談会**があります。"),
                ("email", "on"),
            ],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.text());
    let home = hana.get("/").await;
    assert!(home.text().contains("12月の相談会"), "{}", home.text());
    assert!(home.body.contains("<strong>オンライン相談会</strong>"));
    for address in ["hana@example.org", "coord@example.org"] {
        let mail = app
            .mail
            .wait_for(|m| m.seq >= before && m.is_to(address), MAIL_WAIT)
            .await;
        assert!(mail.text.contains("12月の相談会"), "{}", mail.text);
    }

    let id = app.scalar("SELECT id FROM announcements").await;
    coordinator.get("/admin/announcements").await;
    let taken_down = coordinator
        .post_form(&format!("/admin/announcements/{id}/archive"), &[])
        .await;
    assert_eq!(taken_down.status, 303);
    assert!(!hana.get("/").await.text().contains("12月の相談会"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'announcement.%'")
            .await,
        2
    );
    app.shutdown().await;
}
both_databases!(an_announcement_reaches_every_member);
