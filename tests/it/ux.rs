//! The rough edges members and coordinators meet: deleting a post and revoking an invitation ask
//! first, the home page never goes blank, a topic can be started from the forum index, and a
//! topic's title can be edited with its first post.

use crate::common::TestApp;
use crate::journeys::{
    category_id, first_coordinator, invite, member, member_as, reply, start_topic,
};

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

async fn the_home_page_lists_the_latest_topics_under_the_new_ones(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let hana = member(&app, &coordinator, "hana@example.org", "はな").await;
    let taro = member(&app, &coordinator, "taro@example.org", "たろう").await;
    let family = member_as(
        &app,
        &coordinator,
        "family@example.org",
        "member",
        "family",
        "かぞく",
    )
    .await;
    let chat = category_id(&app, "雑談").await;
    let older = start_topic(&hana, chat, "昨日の散歩", "桜が咲いていました。").await;
    let newer = start_topic(&hana, chat, "今日のおやつ", "みなさんは何を食べましたか。").await;
    start_topic(
        &family,
        category_id(&app, "家族の部屋").await,
        "家族だけの相談",
        "ひみつ",
    )
    .await;

    // Unread: listed as new, and not again among the latest.
    taro.get(&older).await;
    let home = taro.get("/").await;
    assert_eq!(home.select(".new-topics li").len(), 1, "{}", home.text());
    assert_eq!(
        home.attrs(".latest-topics a", "href"),
        vec![older.clone()],
        "{}",
        home.text()
    );
    // Everything read: the page still shows the latest topics, newest activity first, only
    // from categories taro may see.
    taro.get(&newer).await;
    let home = taro.get("/").await;
    assert!(home.select(".new-topics li").is_empty(), "{}", home.text());
    assert!(home.contains("前回から新しい投稿はありません。"));
    assert!(home.contains("最近の話題"), "{}", home.text());
    assert_eq!(
        home.attrs(".latest-topics a", "href"),
        vec![newer.clone(), older.clone()]
    );
    let latest = home.select(".latest-topics li");
    assert!(
        latest[0].contains("今日のおやつ") && latest[0].contains("雑談"),
        "{latest:?}"
    );
    assert!(!home.contains("家族だけの相談"), "{}", home.text());
    // A reply moves a topic up (times are kept to the second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    reply(&hana, &older, "続きです。").await;
    taro.get(&older).await;
    let home = taro.get("/").await;
    assert_eq!(
        home.attrs(".latest-topics a", "href"),
        vec![older.clone(), newer.clone()]
    );

    // The family member, once through everything, sees the family room's topic too; in English.
    family.get(&older).await;
    family.get(&newer).await;
    family.post_form("/preferences", &[("locale", "en")]).await;
    let home = family.get("/").await;
    let latest = home.select(".latest-topics li").join(" | ");
    assert!(
        latest.contains("今日のおやつ") && latest.contains("家族だけの相談"),
        "{latest}"
    );
    assert!(home.contains("Latest topics"), "{}", home.text());
    app.shutdown().await;
}
both_databases!(the_home_page_lists_the_latest_topics_under_the_new_ones);
