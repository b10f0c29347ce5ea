//! Reports: members report posts they can see, once per item while it is open; "worried"
//! alerts every moderator; moderators see reports grouped by post and resolve a group in one
//! unit of work (reports closed, one log row, each reporter mailed that it was handled); staff
//! leave notes on a queue item.

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};
use crate::journeys::{category_id, member, member_as, post_id, reply, start_topic};

/// The coordinator, a moderator, hana (who writes) and sora and kai (who report).
struct Team {
    coordinator: Browser,
    moderator: Browser,
    hana: Browser,
    sora: Browser,
    kai: Browser,
}

async fn team(app: &TestApp) -> Team {
    let (coordinator, moderator) = crate::journeys::staff(app).await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let sora = member(app, &coordinator, "sora@example.org", "そら").await;
    let kai = member(app, &coordinator, "kai@example.org", "かい").await;
    Team {
        coordinator,
        moderator,
        hana,
        sora,
        kai,
    }
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

/// A topic by hana with `replies` more posts by her; the posts' ids, first post first.
async fn hana_writes(app: &TestApp, hana: &Browser, replies: &[&str]) -> (String, Vec<i64>) {
    let work = category_id(app, "仕事とお金").await;
    let topic = start_topic(hana, work, "通院の日の休み方", "半休を使っています").await;
    let first = app
        .scalar("SELECT MIN(id) FROM posts WHERE body_markdown = '半休を使っています'")
        .await;
    let mut ids = vec![first];
    for body in replies {
        ids.push(post_id(&reply(hana, &topic, body).await));
    }
    (topic, ids)
}

/// Sends the report form from its page.
async fn report(browser: &Browser, post: i64, reason: &str, note: &str) -> Page {
    let path = format!("/p/{post}/report");
    browser.get(&path).await;
    browser
        .post_form(&path, &[("reason", reason), ("note", note)])
        .await
}

async fn open_reports(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM reports WHERE resolved_at IS NULL")
        .await
}

async fn members_report_with_each_reason(app: TestApp) {
    let t = team(&app).await;
    let (topic, posts) = hana_writes(&app, &t.hana, &["二", "三", "四", "五", "六"]).await;

    // A report link on each of hana's posts for others, none on one's own.
    let page = t.sora.get(&topic).await;
    let links = page.attrs(".post-actions a.report-link", "href");
    assert_eq!(links.len(), posts.len(), "{}", page.text());
    assert!(links.contains(&format!("/p/{}/report", posts[0])));
    let own = t.hana.get(&topic).await;
    assert!(own.attrs("a.report-link", "href").is_empty());

    let form = t.sora.get(&format!("/p/{}/report", posts[0])).await;
    assert_eq!(form.status, 200);
    assert!(
        form.text().contains("半休を使っています"),
        "the post's start"
    );
    let reasons = form.attrs("input[type=radio][name=reason]", "value");
    assert_eq!(
        reasons,
        [
            "harassment",
            "misinformation",
            "advertising",
            "private_information",
            "worried",
            "other"
        ]
    );
    assert!(form.text().contains("この人が心配"));

    // Bad input: a clear error, nothing stored.
    for (reason, note, error) in [
        ("", "", "報告の理由を選んでください"),
        ("spam", "", "報告の理由を選んでください"),
        ("other", "  ", "「その他」を選んだときは"),
        ("harassment", &"長".repeat(1001), "1000文字まで"),
    ] {
        let refused = report(&t.sora, posts[0], reason, note).await;
        assert_eq!(refused.status, 422, "{reason}: {}", refused.text());
        assert!(refused.text().contains(error), "{}", refused.text());
    }
    assert_eq!(open_reports(&app).await, 0, "nothing refused was stored");

    for (post, reason, note) in [
        (posts[0], "harassment", "言い方がきついです"),
        (posts[1], "misinformation", ""),
        (posts[2], "advertising", ""),
        (posts[3], "private_information", "病院名と実名"),
        (posts[4], "worried", ""),
        (posts[5], "other", "気になる書き方"),
    ] {
        let sent = report(&t.sora, post, reason, note).await;
        assert_eq!(sent.status, 303, "{reason}: {}", sent.text());
        let back = t.sora.follow(&sent).await;
        assert!(
            back.text().contains("ご報告ありがとうございます"),
            "{}",
            back.text()
        );
        let stored = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM reports WHERE target_kind = 'post' AND target_id = {post} \
                 AND reason = '{reason}' AND note = '{note}' AND resolved_at IS NULL \
                 AND reporter_id = (SELECT id FROM users WHERE email = 'sora@example.org') \
                 AND subject_user_id = (SELECT id FROM users WHERE email = 'hana@example.org')"
            ))
            .await;
        assert_eq!(stored, 1, "{reason}");
    }
    assert_eq!(open_reports(&app).await, 6);
    // Only the worried report is urgent.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM alerts").await, 1);
    app.shutdown().await;
}
both_databases!(members_report_with_each_reason);

async fn a_second_open_report_is_refused_kindly(app: TestApp) {
    let t = team(&app).await;
    let (_topic, posts) = hana_writes(&app, &t.hana, &[]).await;
    let first = report(&t.sora, posts[0], "harassment", "一回目").await;
    assert_eq!(first.status, 303);
    let again = report(&t.sora, posts[0], "other", "二回目").await;
    assert_eq!(again.status, 303, "{}", again.text());
    let page = t.sora.follow(&again).await;
    assert!(
        page.text().contains("すでにモデレーターに届いています"),
        "{}",
        page.text()
    );
    assert_eq!(open_reports(&app).await, 1, "the second was not stored");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reports WHERE note = '一回目' AND reason = 'harassment'")
            .await,
        1,
        "the first is as it was"
    );
    // Someone else's report on the same post is their own.
    assert_eq!(
        report(&t.kai, posts[0], "advertising", "").await.status,
        303
    );
    assert_eq!(open_reports(&app).await, 2);
    app.shutdown().await;
}
both_databases!(a_second_open_report_is_refused_kindly);

async fn a_worried_report_alerts_every_moderator_once(app: TestApp) {
    let t = team(&app).await;
    let (_topic, posts) = hana_writes(&app, &t.hana, &[]).await;
    let hana = user_id(&app, "hana@example.org").await;
    let before = app.mail.count();
    assert_eq!(report(&t.sora, posts[0], "worried", "").await.status, 303);
    // A second worried report from the same member changes nothing, and alerts no one.
    assert_eq!(report(&t.sora, posts[0], "worried", "").await.status, 303);

    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM alerts WHERE cause = 'worried_report' AND target_kind = 'post' \
             AND target_id = {} AND subject_user_id = {hana} AND acknowledged_at IS NULL",
            posts[0]
        ))
        .await,
        1
    );
    let link = app.url(&format!("/p/{}", posts[0]));
    for address in ["coord@example.org", "mod@example.org"] {
        let mail = app
            .mail
            .wait_for(|m| m.seq >= before && m.is_to(address), MAIL_WAIT)
            .await;
        assert!(mail.subject.contains("【至急】"), "{}", mail.subject);
        assert_eq!(mail.link(&link), link);
    }
    for (address, expected) in [
        ("coord@example.org", 1),
        ("mod@example.org", 1),
        ("sora@example.org", 0),
        ("hana@example.org", 0),
    ] {
        let urgent = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM outbox WHERE recipient = '{address}' AND subject LIKE '%至急%'"
            ))
            .await;
        assert_eq!(urgent, expected, "{address}");
    }
    // The queue shows it as urgent.
    let queue = t.moderator.get("/mod/queue").await;
    assert!(queue.text().contains("心配"), "{}", queue.text());
    app.shutdown().await;
}
both_databases!(a_worried_report_alerts_every_moderator_once);

/// The reports page's groups: each post's id and its count line, in order.
fn groups(page: &Page) -> Vec<(String, String)> {
    page.attrs("article.report-group", "id")
        .into_iter()
        .zip(page.select("article.report-group .report-count"))
        .collect()
}

async fn report_handled_mails(app: &TestApp, address: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM outbox WHERE recipient = '{address}' \
         AND subject LIKE '%ご報告への対応が終わりました%'"
    ))
    .await
}

async fn reports_are_grouped_and_resolved(app: TestApp) {
    let t = team(&app).await;
    let (topic, posts) =
        hana_writes(&app, &t.hana, &["ひどい言葉です", "宣伝です", "三つ目"]).await;
    let (a, b, c) = (posts[1], posts[2], posts[3]);
    let hana = user_id(&app, "hana@example.org").await;
    let moderator = user_id(&app, "mod@example.org").await;
    assert_eq!(
        report(&t.sora, a, "harassment", "攻撃的です").await.status,
        303
    );
    assert_eq!(report(&t.sora, b, "advertising", "").await.status, 303);
    assert_eq!(report(&t.kai, a, "other", "読んでつらい").await.status, 303);

    // One tap from the queue, grouped by post, the oldest report first, with counts.
    let queue = t.moderator.get("/mod/queue").await;
    assert!(
        queue
            .attrs("a[href='/mod/reports']", "href")
            .contains(&"/mod/reports".to_owned()),
        "{}",
        queue.text()
    );
    assert!(
        queue.text().contains("メンバーからの報告 (2)"),
        "{}",
        queue.text()
    );
    let page = t.moderator.get("/mod/reports").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        groups(&page),
        [
            (format!("reports-{a}"), "報告 2件".to_owned()),
            (format!("reports-{b}"), "報告 1件".to_owned())
        ]
    );
    let text = page.text();
    for expected in [
        "いやがらせ・攻撃的な内容",
        "攻撃的です",
        "その他",
        "読んでつらい",
        "宣伝・勧誘",
        "ひどい言葉です",
        "はな",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }

    // A resolution needs a note; refused, nothing changes.
    let resolve_a = format!("/mod/posts/{a}/reports/resolve");
    let refused = t
        .moderator
        .post_form(&resolve_a, &[("resolution", "hidden"), ("note", " ")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("理由を書いてください"));
    let refused = t
        .moderator
        .post_form(&resolve_a, &[("resolution", "ban"), ("note", "x")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(open_reports(&app).await, 3);

    // Hide: every report on the post closed, one log row, the post hidden, reporters mailed.
    t.moderator.get("/mod/reports").await;
    let done = t
        .moderator
        .post_form(
            &resolve_a,
            &[("resolution", "hidden"), ("note", "個人への攻撃のため")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(done.redirect_path(), "/mod/reports");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM reports WHERE target_id = {a} AND resolved_at IS NOT NULL \
             AND resolution = 'hidden' AND resolved_by = {moderator} \
             AND resolution_note = '個人への攻撃のため'"
        ))
        .await,
        2
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'report.resolved' \
             AND target_kind = 'post' AND target_id = {a} AND subject_user_id = {hana} \
             AND actor_id = {moderator} AND reason = '個人への攻撃のため'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {a} AND status = 'hidden' \
             AND status_reason = '個人への攻撃のため'"
        ))
        .await,
        1
    );
    let seen = t.kai.get(&topic).await.text();
    assert!(!seen.contains("ひどい言葉です"), "{seen}");
    assert!(seen.contains("この投稿はモデレーターにより非表示になりました"));
    for address in ["sora@example.org", "kai@example.org"] {
        assert_eq!(report_handled_mails(&app, address).await, 1, "{address}");
        let mail = app
            .mail
            .wait_for(
                |m| m.is_to(address) && m.subject.contains("ご報告への対応が終わりました"),
                MAIL_WAIT,
            )
            .await;
        assert!(
            !mail.text.contains("非表示") && !mail.text.contains("個人への攻撃"),
            "handled, not how: {}",
            mail.text
        );
    }
    assert_eq!(report_handled_mails(&app, "hana@example.org").await, 0);

    // The same group again: already handled, nothing more.
    let again = t
        .moderator
        .post_form(&resolve_a, &[("resolution", "dismissed"), ("note", "x")])
        .await;
    assert_eq!(again.status, 303);
    assert!(
        t.moderator
            .follow(&again)
            .await
            .text()
            .contains("すでに対応済み")
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.resolved'")
            .await,
        1
    );

    // Dismiss: closed, the post stays as it is.
    t.moderator.get("/mod/reports").await;
    let done = t
        .moderator
        .post_form(
            &format!("/mod/posts/{b}/reports/resolve"),
            &[("resolution", "dismissed"), ("note", "問題なし")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM reports WHERE target_id = {b} AND resolution = 'dismissed'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {b} AND status = 'published'"
        ))
        .await,
        1
    );
    assert_eq!(report_handled_mails(&app, "sora@example.org").await, 2);
    assert!(t.kai.get(&topic).await.text().contains("宣伝です"));

    // Acting on the member: resolved, and on to the member's page.
    assert_eq!(report(&t.kai, c, "harassment", "").await.status, 303);
    t.moderator.get("/mod/reports").await;
    let done = t
        .moderator
        .post_form(
            &format!("/mod/posts/{c}/reports/resolve"),
            &[
                ("resolution", "member_action"),
                ("note", "繰り返しているため"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.redirect_path(), format!("/mod/members/{hana}"));
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM reports WHERE target_id = {c} AND resolution = 'member_action'"
        ))
        .await,
        1
    );
    assert_eq!(open_reports(&app).await, 0);
    assert!(groups(&t.moderator.get("/mod/reports").await).is_empty());
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.resolved'")
            .await,
        3
    );
    app.shutdown().await;
}
both_databases!(reports_are_grouped_and_resolved);

async fn members_cannot_see_or_resolve_reports(app: TestApp) {
    let t = team(&app).await;
    let (_topic, posts) = hana_writes(&app, &t.hana, &[]).await;
    assert_eq!(
        report(&t.sora, posts[0], "harassment", "").await.status,
        303
    );
    for page in [
        "/mod/reports".to_owned(),
        format!("/mod/posts/{}", posts[0]),
    ] {
        assert_eq!(t.kai.get(&page).await.status, 404, "{page}");
    }
    t.kai.get("/").await;
    for (action, fields) in [
        (
            format!("/mod/posts/{}/reports/resolve", posts[0]),
            vec![("resolution", "dismissed"), ("note", "なし")],
        ),
        (
            format!("/mod/posts/{}/notes", posts[0]),
            vec![("body", "のぞき")],
        ),
    ] {
        let refused = t.kai.post_form(&action, &fields).await;
        assert_eq!(refused.status, 404, "{action}");
    }
    assert_eq!(open_reports(&app).await, 1, "still open");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM staff_notes").await, 0);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('report.resolved', 'note.added')"
        )
        .await,
        0
    );
    app.shutdown().await;
}
both_databases!(members_cannot_see_or_resolve_reports);

async fn reports_on_posts_one_cannot_see_are_404(app: TestApp) {
    let t = team(&app).await;
    let (_topic, posts) = hana_writes(&app, &t.hana, &["消す返信", "隠される返信"]).await;
    let family = member_as(
        &app,
        &t.coordinator,
        "kazoku@example.org",
        "member",
        "family",
        "かぞく",
    )
    .await;
    let room = category_id(&app, "家族の部屋").await;
    start_topic(&family, room, "家族として", "支え方に迷っています").await;
    let family_post = app
        .scalar("SELECT id FROM posts WHERE body_markdown = '支え方に迷っています'")
        .await;
    // hana deletes one reply; a moderator hides the other.
    let deleted = posts[1];
    let delete = format!("/p/{deleted}/delete");
    t.hana.get(&delete).await;
    assert_eq!(t.hana.post_form(&delete, &[]).await.status, 303);
    let hidden = posts[2];
    t.moderator.get(&format!("/mod/posts/{hidden}")).await;
    let hide = t
        .moderator
        .post_form(
            &format!("/mod/posts/{hidden}/hide"),
            &[("reason", "確認中")],
        )
        .await;
    assert_eq!(hide.status, 303);

    for (who, post) in [
        (&t.sora, family_post),
        (&t.sora, deleted),
        (&t.sora, hidden),
        (&t.sora, 999_999),
        (&t.hana, posts[0]),
    ] {
        let path = format!("/p/{post}/report");
        assert_eq!(who.get(&path).await.status, 404, "{path}");
        who.get("/").await;
        let refused = who
            .post_form(&path, &[("reason", "harassment"), ("note", "")])
            .await;
        assert_eq!(refused.status, 404, "{path}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 0);
    app.shutdown().await;
}
both_databases!(reports_on_posts_one_cannot_see_are_404);

async fn a_silenced_member_can_still_report(app: TestApp) {
    let t = team(&app).await;
    let (topic, posts) = hana_writes(&app, &t.hana, &[]).await;
    let sora = user_id(&app, "sora@example.org").await;
    let until = hidamari::db::now() + 3600;
    app.execute(&format!(
        "UPDATE users SET silenced_until = {until}, silence_reason = '少し休みましょう' WHERE id = {sora}"
    ))
    .await;
    app.app()
        .events
        .publish(&[hidamari::events::Event::MemberChanged { user_id: sora }]);
    t.sora.get(&topic).await;
    let refused = t
        .sora
        .post_form(&topic, &[("body", "返信します"), ("action", "post")])
        .await;
    assert_ne!(refused.status, 303, "silenced: no reply");
    assert_eq!(report(&t.sora, posts[0], "worried", "").await.status, 303);
    assert_eq!(open_reports(&app).await, 1);
    app.shutdown().await;
}
both_databases!(a_silenced_member_can_still_report);

async fn staff_leave_notes_on_a_queue_item(app: TestApp) {
    let t = team(&app).await;
    let (_topic, posts) = hana_writes(&app, &t.hana, &[]).await;
    let post = posts[0];
    let page_path = format!("/mod/posts/{post}");
    let notes_path = format!("/mod/posts/{post}/notes");
    let empty = t.moderator.get(&page_path).await;
    assert!(empty.text().contains("まだメモはありません"));

    let refused = t.moderator.post_form(&notes_path, &[("body", "  ")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("メモを書いてください"));
    let refused = t
        .moderator
        .post_form(&notes_path, &[("body", &"長".repeat(2001))])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM staff_notes").await, 0);

    let added = t
        .moderator
        .post_form(&notes_path, &[("body", "本人に連絡済みです")])
        .await;
    assert_eq!(added.status, 303, "{}", added.text());
    t.coordinator.get(&page_path).await;
    let added = t
        .coordinator
        .post_form(&notes_path, &[("body", "来週もう一度見ます")])
        .await;
    assert_eq!(added.status, 303);

    let page = t.moderator.get(&page_path).await;
    let notes = page.select(".staff-note");
    assert_eq!(notes.len(), 2, "{}", page.text());
    assert!(
        notes[0].contains("こーでぃ") && notes[0].contains("来週もう一度見ます"),
        "newest first: {notes:?}"
    );
    assert!(
        notes[1].contains(crate::journeys::MODERATOR_NAME)
            && notes[1].contains("本人に連絡済みです")
    );
    let hana = user_id(&app, "hana@example.org").await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'note.added' AND target_kind = 'post' \
             AND target_id = {post} AND subject_user_id = {hana}"
        ))
        .await,
        2
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM staff_notes WHERE target_kind = 'post' AND target_id = {post}"
        ))
        .await,
        2
    );
    // Notes never reach members.
    assert!(
        !t.hana
            .get_following(&format!("/p/{post}"))
            .await
            .text()
            .contains("本人に連絡済み")
    );
    app.shutdown().await;
}
both_databases!(staff_leave_notes_on_a_queue_item);
