//! The rough edges members and coordinators meet: deleting a post and revoking an invitation ask
//! first, the home page never goes blank, a topic can be started from the forum index, and a
//! topic's title can be edited with its first post.

use crate::common::TestApp;
use crate::journeys::{category_id, first_coordinator, invite, member, reply, start_topic};

async fn deleting_a_post_asks_first(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let topic = start_topic(
        &hana,
        category_id(&app, "暮らし").await,
        "眠れない夜",
        "最初の投稿です。",
    )
    .await;
    let landed = reply(&hana, &topic, "消すかもしれない返信です。").await;
    let post = landed.rsplit("#post-").next().expect("a post anchor");

    // The topic page links to a confirmation; no button there deletes.
    let page = hana.get(&topic).await;
    let delete_link = format!("/p/{post}/delete");
    assert!(
        page.attrs(".post-actions a", "href").contains(&delete_link),
        "{:?}",
        page.attrs(".post-actions a", "href")
    );
    assert!(
        page.attrs(&format!("form[action='{delete_link}']"), "action")
            .is_empty(),
        "one tap must not delete"
    );

    // The confirmation shows the post and a clearly labelled button, and changes nothing.
    let confirm = hana.get(&delete_link).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    assert!(
        confirm.contains("この投稿を削除しますか"),
        "{}",
        confirm.text()
    );
    assert!(confirm.select(".confirm-subject")[0].contains("消すかもしれない返信です。"));
    assert_eq!(confirm.select("button.danger"), vec!["削除する".to_owned()]);
    assert_eq!(
        confirm.attrs(
            &format!("form[method=post][action='{delete_link}']"),
            "action"
        ),
        vec![delete_link.clone()],
        "the button posts to the one address that deletes"
    );
    let cancel = confirm
        .attr(".buttons a", "href")
        .expect("a way back without deleting");
    assert!(cancel.ends_with(&format!("#post-{post}")), "{cancel}");
    let deleted =
        format!("SELECT COUNT(*) FROM posts WHERE id = {post} AND deleted_at IS NOT NULL");
    assert_eq!(app.scalar(&deleted).await, 0);
    assert!(
        hana.get(&topic)
            .await
            .contains("消すかもしれない返信です。")
    );

    // Someone else's post: no confirmation either.
    assert_eq!(taro.get(&delete_link).await.status, 403);

    // In English too.
    hana.post_form("/preferences", &[("locale", "en")]).await;
    let english = hana.get(&delete_link).await;
    assert!(english.contains("Delete this post?"), "{}", english.text());
    assert_eq!(
        english.select("button.danger"),
        vec!["Delete the post".to_owned()]
    );

    // The confirmation's button deletes.
    let done = hana.post_form(&delete_link, &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(app.scalar(&deleted).await, 1);
    let after = hana.follow(&done).await;
    assert!(after.contains("This post was deleted."), "{}", after.text());
    assert_eq!(hana.get(&delete_link).await.status, 404, "gone already");
    app.shutdown().await;
}
both_databases!(deleting_a_post_asks_first);

async fn revoking_an_invitation_asks_first(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let link = invite(&app, &coordinator, "hana@example.org", "member", "patient").await;
    let id = app
        .scalar("SELECT id FROM invitations WHERE email = 'hana@example.org'")
        .await;
    let revoke = format!("/admin/invitations/{id}/revoke");
    let list = coordinator.get("/admin/invitations").await;
    assert!(list.attrs("a", "href").contains(&revoke));
    assert!(
        list.attrs(&format!("form[action='{revoke}']"), "action")
            .is_empty(),
        "one tap must not revoke"
    );

    let confirm = coordinator.get(&revoke).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    assert!(confirm.contains("この招待を取り消しますか"));
    assert!(confirm.select(".confirm-subject")[0].contains("hana@example.org"));
    assert_eq!(
        confirm.select("button.danger"),
        vec!["招待を取り消す".to_owned()]
    );
    assert_eq!(
        confirm.attr(".buttons a", "href").as_deref(),
        Some("/admin/invitations")
    );
    let revoked =
        format!("SELECT COUNT(*) FROM invitations WHERE id = {id} AND revoked_at IS NOT NULL");
    assert_eq!(
        app.scalar(&revoked).await,
        0,
        "the first tap changes nothing"
    );
    assert_eq!(app.client().get(&link).await.status, 200);
    let viewed = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'invitation.viewed' AND detail = 'invitation {id}'"
    );
    assert_eq!(
        app.scalar(&viewed).await,
        1,
        "showing the address is written down"
    );

    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    let english = coordinator.get(&revoke).await;
    assert!(
        english.contains("Revoke this invitation?"),
        "{}",
        english.text()
    );
    assert_eq!(
        english.select("button.danger"),
        vec!["Revoke the invitation".to_owned()]
    );

    let done = coordinator.post_form(&revoke, &[]).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(app.scalar(&revoked).await, 1);
    assert_eq!(app.client().get(&link).await.status, 410);
    let again = coordinator.get(&revoke).await;
    assert_eq!(again.status, 403, "nothing left to revoke");
    assert!(again.contains("Nothing was changed"), "{}", again.text());
    app.shutdown().await;
}
both_databases!(revoking_an_invitation_asks_first);
