//! Coordinators invite by e-mail: one address, many pasted, or a CSV file; resend and revoke.

use crate::common::{MAIL_WAIT, TestApp};
use crate::journeys::{first_coordinator, invite, join, member, send_invitations};

async fn a_batch_reports_each_address_and_a_bad_one_changes_nothing(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    member(&app, &coordinator, "hana@example.org", "はな").await;
    let sent_before = app.mail.count();

    let refused = send_invitations(
        &coordinator,
        "a@example.org\nnot-an-address\nb@example.org",
        "member",
        "patient",
        "ja",
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("「not-an-address」はメールアドレスの形になっていないようです"),
        "{}",
        refused.text()
    );
    assert_eq!(
        refused.select("textarea[name=emails]").join(""),
        "a@example.org not-an-address b@example.org",
        "the form keeps what was typed"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM invitations WHERE email IN ('a@example.org', 'b@example.org')"
        )
        .await,
        0
    );

    let mixed = send_invitations(
        &coordinator,
        "a@example.org, HANA@example.org; b@example.org a@example.org",
        "expert",
        "supporter",
        "en",
    )
    .await;
    assert_eq!(mixed.status, 200);
    let outcomes = mixed.select(".outcomes li");
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(outcomes[0].contains("a@example.org") && outcomes[0].contains("招待を送りました"));
    assert!(outcomes[1].contains("hana@example.org") && outcomes[1].contains("すでにメンバーです"));
    assert!(outcomes[2].contains("b@example.org") && outcomes[2].contains("招待を送りました"));

    let again = send_invitations(&coordinator, "a@example.org", "member", "patient", "ja").await;
    assert!(
        again
            .select(".outcomes li")
            .join("")
            .contains("すでに招待中です")
    );

    let to_a = app.mail.wait_for_mail_to("a@example.org").await;
    app.mail.wait_for_mail_to("b@example.org").await;
    assert!(
        to_a.subject.contains("You are invited"),
        "the mail is in the chosen language: {}",
        to_a.subject
    );
    assert_eq!(
        app.mail.count(),
        sent_before + 2,
        "exactly one mail per new invitation"
    );

    let link = to_a.link(&format!("{}/invite/", app.base_url()));
    let a = join(&app, &link, "エー").await;
    let account = a.get("/account").await;
    assert!(
        account.text().contains("専門家"),
        "the role chosen: {}",
        account.text()
    );
    assert!(
        account.text().contains("支援者"),
        "the relation chosen: {}",
        account.text()
    );

    let list = coordinator.get("/admin/invitations").await;
    let rows = list.select("tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("a@example.org") && r.contains("参加済み") && r.contains("エー")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.contains("b@example.org")
            && r.contains("返事待ち")
            && r.contains("ひまわり")),
        "{rows:?}"
    );
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'invitations.viewed'")
            .await
            >= 1,
        "viewing addresses is audited"
    );
    app.shutdown().await;
}
both_databases!(a_batch_reports_each_address_and_a_bad_one_changes_nothing);

async fn a_csv_file_invites_with_its_own_columns(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    coordinator.get("/admin/invitations").await;
    let csv = "email,role,relation,locale\r\nmod@example.org,moderator,supporter,en\r\nfamily@example.org,,family,\r\n";
    let page = coordinator
        .post_multipart(
            "/admin/invitations/csv",
            &[
                ("role", "member"),
                ("relation", "patient"),
                ("locale", "ja"),
            ],
            &[("file", "people.csv", "text/csv", csv.as_bytes())],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.select(".outcomes li.ok").len(), 2);
    let to_mod = app.mail.wait_for_mail_to("mod@example.org").await;
    assert!(to_mod.subject.contains("You are invited"));
    let to_family = app.mail.wait_for_mail_to("family@example.org").await;
    assert!(to_family.subject.contains("ご招待"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM invitations WHERE email = 'mod@example.org' AND role = 'moderator' AND relation = 'supporter'").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM invitations WHERE email = 'family@example.org' AND role = 'member' AND relation = 'family'").await, 1);

    coordinator.get("/admin/invitations").await;
    let bad = coordinator
        .post_multipart(
            "/admin/invitations/csv",
            &[
                ("role", "member"),
                ("relation", "patient"),
                ("locale", "ja"),
            ],
            &[("file", "people.csv", "text/csv", b"x@example.org,king\r\n")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("1行目"), "{}", bad.text());
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitations WHERE email = 'x@example.org'")
            .await,
        0
    );

    let forged = coordinator
        .post_multipart(
            "/admin/invitations/csv",
            &[
                ("csrf", "forged"),
                ("role", "member"),
                ("relation", "patient"),
                ("locale", "ja"),
            ],
            &[("file", "people.csv", "text/csv", b"y@example.org\r\n")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitations WHERE email = 'y@example.org'")
            .await,
        0
    );
    app.shutdown().await;
}
both_databases!(a_csv_file_invites_with_its_own_columns);

async fn resend_replaces_the_link_and_revoke_ends_it(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let first_link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let id = app
        .scalar("SELECT id FROM invitations WHERE email = 'hana@example.org'")
        .await;

    // An expired invitation can be resent; its old link stops working.
    app.execute("UPDATE invitations SET expires_at = 0 WHERE email = 'hana@example.org'")
        .await;
    assert_eq!(app.client().get(&first_link).await.status, 410, "expired");
    let list = coordinator.get("/admin/invitations").await;
    assert!(
        list.select("tbody tr")
            .iter()
            .any(|r| r.contains("hana@example.org") && r.contains("期限切れ"))
    );
    let resent = coordinator
        .post_form(&format!("/admin/invitations/{id}/resend"), &[])
        .await;
    assert_eq!(resent.status, 303);
    let second = app
        .mail
        .wait_for(
            |m| m.is_to("hana@example.org") && !m.text.contains(&first_link),
            MAIL_WAIT,
        )
        .await;
    let second_link = second.link(&format!("{}/invite/", app.base_url()));
    assert_eq!(
        app.client().get(&first_link).await.status,
        410,
        "the old link is replaced"
    );
    assert_eq!(app.client().get(&second_link).await.status, 200);

    coordinator.get("/admin/invitations").await;
    let revoked = coordinator
        .post_form(&format!("/admin/invitations/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(app.client().get(&second_link).await.status, 410, "revoked");
    coordinator.get("/admin/invitations").await;
    let twice = coordinator
        .post_form(&format!("/admin/invitations/{id}/revoke"), &[])
        .await;
    assert_eq!(twice.status, 403, "a stale form changes nothing");
    assert!(twice.text().contains("何も変更されていません"));

    // After a revoke the address can be invited anew.
    let fresh = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    join(&app, &fresh, "はな").await;
    coordinator.get("/admin/invitations").await;
    let unknown = coordinator
        .post_form("/admin/invitations/999999/resend", &[])
        .await;
    assert_eq!(unknown.status, 404);
    let wrong_type = coordinator
        .post_form("/admin/invitations/abc/resend", &[])
        .await;
    assert_eq!(wrong_type.status, 400);
    assert!(
        wrong_type.text().contains("何も変更されていません"),
        "a page in the reader's language: {}",
        wrong_type.text()
    );
    app.shutdown().await;
}
both_databases!(resend_replaces_the_link_and_revoke_ends_it);
