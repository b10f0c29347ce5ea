//! Staff acting on members: silence and suspension (imposed, felt by the member on the very next
//! request, lifted early), who may act on whom, staff notes, and the log those actions write,
//! one row each in the action's own transaction, which nobody can change.

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};
use crate::journeys::{
    OTHER_PASSWORD, PASSWORD, category_id, is_logged_in, login, member, member_as, start_topic,
};

struct Scene {
    coordinator: Browser,
    moderator: Browser,
    hana: Browser,
    sora: Browser,
    coordinator_id: i64,
    moderator_id: i64,
    hana_id: i64,
    sora_id: i64,
    /// sora's topic, and its first post.
    topic: String,
    sora_post: i64,
}

async fn scene(app: &TestApp) -> Scene {
    let (coordinator, moderator) = crate::journeys::staff(app).await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let sora = member(app, &coordinator, "sora@example.org", "そら").await;
    let work = category_id(app, "仕事とお金").await;
    let topic = start_topic(&sora, work, "通院と仕事", "半休を使っています").await;
    let id = |email: &str| {
        let sql = format!("SELECT id FROM users WHERE email = '{email}'");
        async move { app.scalar(&sql).await }
    };
    Scene {
        coordinator_id: id("coord@example.org").await,
        moderator_id: id("mod@example.org").await,
        hana_id: id("hana@example.org").await,
        sora_id: id("sora@example.org").await,
        sora_post: app
            .scalar("SELECT MIN(p.id) FROM posts p JOIN topics t ON t.id = p.topic_id WHERE t.title = '通院と仕事'")
            .await,
        coordinator,
        moderator,
        hana,
        sora,
        topic,
    }
}

/// Sends the member page's silence or suspension form (`what` is `silence` or `suspend`).
async fn restrict(
    staff: &Browser,
    member: i64,
    what: &str,
    length: &str,
    until: &str,
    reason: &str,
) -> Page {
    staff.get(&format!("/mod/members/{member}")).await;
    staff
        .post_form(
            &format!("/mod/members/{member}/{what}"),
            &[("length", length), ("until", until), ("reason", reason)],
        )
        .await
}

/// Sends a lift button (`what` is `unsilence` or `unsuspend`).
async fn lift(staff: &Browser, member: i64, what: &str) -> Page {
    staff.get(&format!("/mod/members/{member}")).await;
    staff
        .post_form(&format!("/mod/members/{member}/{what}"), &[])
        .await
}

async fn note(staff: &Browser, member: i64, body: &str) -> Page {
    staff.get(&format!("/mod/members/{member}")).await;
    staff
        .post_form(&format!("/mod/members/{member}/notes"), &[("body", body)])
        .await
}

/// Log rows of `action` on member `target`.
pub async fn logged(app: &TestApp, action: &str, target: i64) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = '{action}' \
         AND target_kind = 'member' AND target_id = {target} AND subject_user_id = {target}"
    ))
    .await
}

async fn silence_stops_writing_but_not_reading_and_lifts_early(app: TestApp) {
    let s = scene(&app).await;
    let reason = "強い言葉が続いているため、少しお休みしてください";
    let page = restrict(&s.moderator, s.hana_id, "silence", "1w", "", reason).await;
    assert_eq!(page.status, 303, "{}", page.text());
    let page = s.moderator.follow(&page).await;
    assert!(page.contains("書き込みを止めました"), "{}", page.text());
    assert!(page.contains(reason), "the staff page shows the reason");
    assert_eq!(logged(&app, "member.silenced", s.hana_id).await, 1);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'member.silenced' AND actor_id = {} AND reason = '{reason}'",
            s.moderator_id
        ))
        .await,
        1,
        "the row says who and why"
    );

    // She still reads, and every page tells her why and until when, never who.
    let topic = s.hana.get(&s.topic).await;
    assert_eq!(topic.status, 200);
    let banner = topic.select(".silenced").join("");
    assert!(
        banner.contains(reason) && banner.contains("モデレーター"),
        "{banner}"
    );
    assert!(
        !topic.contains(crate::journeys::MODERATOR_NAME),
        "the moderator's name is not shown"
    );
    assert!(
        s.hana
            .get("/")
            .await
            .select(".silenced")
            .join("")
            .contains(reason)
    );
    assert!(
        s.sora.get(&s.topic).await.select(".silenced").is_empty(),
        "only she is told"
    );

    // Replying, starting a topic and reacting are refused, her text kept; nothing is written.
    let posts_before = app.scalar("SELECT COUNT(*) FROM posts").await;
    let refused = s
        .hana
        .post_form(
            &s.topic,
            &[
                ("body", "それでも言いたいことがあります"),
                ("action", "post"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(
        refused.select(".silenced").is_empty(),
        "said once, not twice"
    );
    let text = refused.select("main").join("");
    assert!(
        text.contains(reason) && text.contains("モデレーター"),
        "{text}"
    );
    assert!(!text.contains(crate::journeys::MODERATOR_NAME));
    assert_eq!(
        refused.select("main textarea").join(""),
        "それでも言いたいことがあります",
        "her text is kept"
    );
    let work = category_id(&app, "仕事とお金").await;
    s.hana.get(&format!("/c/{work}/new")).await;
    let new_topic = s
        .hana
        .post_form(
            &format!("/c/{work}/new"),
            &[
                ("title", "新しい話題"),
                ("body", "書けないはず"),
                ("action", "post"),
            ],
        )
        .await;
    assert_eq!(new_topic.status, 403);
    s.hana.get(&s.topic).await;
    let react = s
        .hana
        .post_form(&format!("/p/{}/react", s.sora_post), &[("kind", "thanks")])
        .await;
    assert_eq!(react.status, 403);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM posts").await, posts_before);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM post_reactions").await,
        0,
        "no reaction was kept"
    );
    // A preview writes nothing others see: still open to her.
    s.hana.get(&s.topic).await;
    let preview = s
        .hana
        .post_form(&s.topic, &[("body", "下書きとして"), ("action", "preview")])
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text());

    // Her account page and blocking stay open.
    assert_eq!(s.hana.get("/account").await.status, 200);
    assert_eq!(
        s.hana
            .get(&format!("/p/{}/block", s.sora_post))
            .await
            .status,
        200
    );
    let blocked = s
        .hana
        .post_form(&format!("/p/{}/block", s.sora_post), &[])
        .await;
    assert_eq!(blocked.status, 303, "{}", blocked.text());
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM user_blocks WHERE blocker_id = {} AND blocked_id = {}",
            s.hana_id, s.sora_id
        ))
        .await,
        1
    );

    // Lifted early: she writes again at once, and the banner is gone.
    let page = lift(&s.moderator, s.hana_id, "unsilence").await;
    assert_eq!(page.status, 303, "{}", page.text());
    assert_eq!(logged(&app, "member.unsilenced", s.hana_id).await, 1);
    let topic = s.hana.get(&s.topic).await;
    assert!(topic.select(".silenced").is_empty());
    let reply = s
        .hana
        .post_form(&s.topic, &[("body", "また書けました"), ("action", "post")])
        .await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    // Lifting again finds nothing to lift, and writes no row.
    let again = lift(&s.moderator, s.hana_id, "unsilence").await;
    assert_eq!(again.status, 409);
    assert_eq!(logged(&app, "member.unsilenced", s.hana_id).await, 1);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'member.%' AND target_id = {}",
            s.hana_id
        ))
        .await,
        2,
        "one row for each action, none for the refused writes"
    );
    app.shutdown().await;
}
both_databases!(silence_stops_writing_but_not_reading_and_lifts_early);

/// The date ten days from now in the site's zone, as a date input sends it, and how the
/// site writes the moment it ends.
fn ten_days_on(app: &TestApp) -> (String, String) {
    let zone = app.config().time_zone.clone();
    let date = jiff::Timestamp::now()
        .to_zoned(zone.clone())
        .date()
        .checked_add(jiff::Span::new().days(10))
        .expect("a date");
    (date.to_string(), format!("{date} 00:00"))
}

async fn suspension_ends_sessions_and_refuses_login_and_reset(app: TestApp) {
    let s = scene(&app).await;
    assert!(is_logged_in(&s.hana).await);
    let reason = "ほかのメンバーへの攻撃が続いたため";
    let (date, end) = ten_days_on(&app);
    let page = restrict(&s.moderator, s.hana_id, "suspend", "date", &date, reason).await;
    assert_eq!(page.status, 303, "{}", page.text());
    assert_eq!(logged(&app, "member.suspended", s.hana_id).await, 1);

    // Her open session ends on the very next request.
    assert!(!is_logged_in(&s.hana).await, "the open session ended");

    // A wrong password learns nothing; the right one is told why and until when.
    let (_, wrong) = login(&app, "hana@example.org", OTHER_PASSWORD).await;
    assert_eq!(wrong.status, 422);
    assert!(!wrong.contains(reason) && !wrong.contains("停止"));
    let (browser, right) = login(&app, "hana@example.org", PASSWORD).await;
    assert_eq!(right.status, 403, "{}", right.text());
    let text = right.select("main").join("");
    assert!(
        text.contains(reason) && text.contains(&end) && text.contains("モデレーター"),
        "{text}"
    );
    assert!(!text.contains(crate::journeys::MODERATOR_NAME));
    assert!(!is_logged_in(&browser).await);

    // A password reset changes the password but does not let her in.
    let visitor = app.client();
    visitor.get("/reset").await;
    let before = app.mail.count();
    visitor
        .post_form("/reset", &[("email", "hana@example.org")])
        .await;
    let mail = app
        .mail
        .wait_for(
            |m| m.seq >= before && m.is_to("hana@example.org") && m.text.contains("/reset/"),
            MAIL_WAIT,
        )
        .await;
    let link = mail.link(&format!("{}/reset/", app.base_url()));
    visitor.get(&link).await;
    let reset = visitor
        .post_form(
            &link,
            &[
                ("password", OTHER_PASSWORD),
                ("password_confirm", OTHER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(reset.status, 303, "{}", reset.text());
    assert_eq!(reset.redirect_path(), "/login");
    let told = visitor.follow(&reset).await;
    assert!(
        told.contains(reason) && told.contains(&end),
        "{}",
        told.text()
    );
    assert!(
        !is_logged_in(&visitor).await,
        "the reset did not log her in"
    );

    // Lifted: she logs in again (with her new password).
    let page = lift(&s.moderator, s.hana_id, "unsuspend").await;
    assert_eq!(page.status, 303, "{}", page.text());
    assert_eq!(logged(&app, "member.unsuspended", s.hana_id).await, 1);
    let (browser, answer) = login(&app, "hana@example.org", OTHER_PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert!(is_logged_in(&browser).await);
    app.shutdown().await;
}
both_databases!(suspension_ends_sessions_and_refuses_login_and_reset);

async fn staff_on_staff_is_refused_and_refusals_write_nothing(app: TestApp) {
    let s = scene(&app).await;
    let other_moderator = member_as(
        &app,
        &s.coordinator,
        "mod2@example.org",
        "moderator",
        "supporter",
        "もうひとり",
    )
    .await;
    let other_id = app
        .scalar("SELECT id FROM users WHERE email = 'mod2@example.org'")
        .await;
    let refusals = [
        (
            &s.moderator,
            other_id,
            "モデレーターに対しては、コーディネーターだけ",
        ),
        (
            &s.moderator,
            s.coordinator_id,
            "コーディネーターに対しては行えません",
        ),
        (&s.moderator, s.moderator_id, "自分自身に対しては行えません"),
        (
            &s.coordinator,
            s.coordinator_id,
            "自分自身に対しては行えません",
        ),
    ];
    for (staff, target, said) in refusals {
        for what in ["silence", "suspend"] {
            let page = restrict(staff, target, what, "1d", "", "試し").await;
            assert_eq!(page.status, 403, "{what} {target}: {}", page.text());
            assert!(page.contains(said), "{}", page.text());
        }
        // The page itself says so, without the forms.
        let page = staff.get(&format!("/mod/members/{target}")).await;
        assert!(page.contains(said));
        assert!(
            page.select(&format!("form[action='/mod/members/{target}/silence']"))
                .is_empty()
        );
    }
    // A form without a reason, or with no length, changes nothing either.
    let page = restrict(&s.moderator, s.hana_id, "silence", "1d", "", "  ").await;
    assert_eq!(page.status, 422);
    assert!(page.contains("理由を書いてください"));
    let page = restrict(
        &s.moderator,
        s.hana_id,
        "suspend",
        "date",
        "2001-01-01",
        "x",
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("明日以降"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'member.%'")
            .await,
        0,
        "no refused action wrote a row"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE silenced_until IS NOT NULL OR suspended_until IS NOT NULL")
            .await,
        0
    );
    assert!(is_logged_in(&other_moderator).await);

    // A coordinator may act on a moderator: the moderator is logged out at once.
    let page = restrict(
        &s.coordinator,
        other_id,
        "suspend",
        "3d",
        "",
        "引き継ぎのため",
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.text());
    assert!(!is_logged_in(&other_moderator).await);
    assert_eq!(logged(&app, "member.suspended", other_id).await, 1);
    app.shutdown().await;
}
both_databases!(staff_on_staff_is_refused_and_refusals_write_nothing);

async fn staff_notes_are_listed_newest_first(app: TestApp) {
    let s = scene(&app).await;
    let page = note(
        &s.moderator,
        s.hana_id,
        "最初のメモ：体調のことで不安が強そうです",
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.text());
    let page = note(
        &s.coordinator,
        s.hana_id,
        "二つ目：来週の面談で様子を聞きます",
    )
    .await;
    assert_eq!(page.status, 303);
    let empty = note(&s.moderator, s.hana_id, "   ").await;
    assert_eq!(empty.status, 422);
    assert!(empty.contains("メモを書いてください"));
    assert_eq!(logged(&app, "note.added", s.hana_id).await, 2);

    let page = s
        .moderator
        .get(&format!("/mod/members/{}", s.hana_id))
        .await;
    let notes = page.select("ol.notes li");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].contains("二つ目") && notes[0].contains("こーでぃ"),
        "{}",
        notes[0]
    );
    assert!(notes[1].contains("最初のメモ") && notes[1].contains(crate::journeys::MODERATOR_NAME));
    // Only on her page, and never shown to her.
    let sora_page = s
        .moderator
        .get(&format!("/mod/members/{}", s.sora_id))
        .await;
    assert!(sora_page.select("ol.notes li").is_empty());
    assert_eq!(
        s.hana
            .get(&format!("/mod/members/{}", s.hana_id))
            .await
            .status,
        404
    );
    let profile = s.hana.get(&format!("/u/{}", s.hana_id)).await;
    assert!(!profile.contains("最初のメモ"));
    // Her staff page shows her posts, whatever their status, and leads to her log entries.
    let page = s
        .moderator
        .get(&format!("/mod/members/{}", s.sora_id))
        .await;
    assert!(page.contains("通院と仕事"));
    assert!(
        page.attrs("main a", "href")
            .contains(&format!("/mod/log?member={}", s.sora_id))
    );
    app.shutdown().await;
}
both_databases!(staff_notes_are_listed_newest_first);

/// A statement that must fail, on whichever database the app runs.
async fn refused(app: &TestApp, sql: &str) -> bool {
    use hidamari::db::Db;
    match app.db() {
        Db::Sqlite { writer, .. } => sqlx::query(sql).execute(writer).await.is_err(),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.is_err(),
    }
}

async fn the_log_filters_and_cannot_be_changed(app: TestApp) {
    let s = scene(&app).await;
    let hana_reason = "はなさんへの理由";
    let sora_reason = "そらさんへの理由";
    restrict(&s.moderator, s.hana_id, "silence", "1d", "", hana_reason).await;
    restrict(&s.coordinator, s.sora_id, "suspend", "1w", "", sora_reason).await;
    note(&s.moderator, s.sora_id, "そらさんのメモ").await;

    let log = |query: &str| {
        let path = format!("/mod/log{query}");
        let staff = &s.moderator;
        async move {
            let page = staff.get(&path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.text());
            page.select("tbody tr")
        }
    };
    let all = log("").await;
    assert!(all.len() >= 3, "{all:?}");
    assert!(all[0].contains("メモを残した"), "newest first: {}", all[0]);
    assert!(
        all.iter()
            .any(|r| r.contains(hana_reason) && r.contains(crate::journeys::MODERATOR_NAME))
    );

    let silenced = log("?action=member.silenced").await;
    assert_eq!(silenced.len(), 1);
    assert!(silenced[0].contains(hana_reason) && silenced[0].contains("はな"));
    let about_sora = log(&format!("?member={}", s.sora_id)).await;
    assert!(
        about_sora.iter().any(|r| r.contains(sora_reason)),
        "{about_sora:?}"
    );
    assert!(about_sora.iter().any(|r| r.contains("メモを残した")));
    assert!(about_sora.iter().all(|r| !r.contains(hana_reason)));
    let by_coordinator = log(&format!("?actor={}", s.coordinator_id)).await;
    assert!(by_coordinator.iter().any(|r| r.contains(sora_reason)));
    assert!(by_coordinator.iter().all(|r| !r.contains(hana_reason)));
    let notes_on_sora = log(&format!("?action=note.added&member={}", s.sora_id)).await;
    assert_eq!(notes_on_sora.len(), 1);
    let members = log("?kind=member").await;
    assert!(members.len() >= 3);
    assert!(log("?kind=announcement").await.is_empty());
    assert_eq!(s.moderator.get("/mod/log?action=no.such").await.status, 400);

    // Pages of fifty, the filter kept from page to page.
    for n in 0..55 {
        app.execute(&format!(
            "INSERT INTO audit_log (actor_id, action, target_kind, target_id, subject_user_id, reason, created_at) \
             VALUES ({}, 'note.added', 'member', {}, {}, 'fill {n}', {n})",
            s.moderator_id, s.hana_id, s.hana_id
        ))
        .await;
    }
    let first = s.moderator.get("/mod/log?action=note.added").await;
    assert_eq!(first.select("tbody tr").len(), 50);
    let next = first.attr("a[rel=next]", "href").expect("a next page");
    assert_eq!(next, "/mod/log?action=note.added&page=2");
    let second = s.moderator.get(&next).await;
    assert_eq!(second.select("tbody tr").len(), 6);

    // Nobody changes or deletes a row, whatever path they take.
    assert!(refused(&app, "UPDATE audit_log SET reason = 'changed'").await);
    assert!(refused(&app, "DELETE FROM audit_log").await);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE reason = 'changed'")
            .await,
        0
    );
    assert!(app.scalar("SELECT COUNT(*) FROM audit_log").await >= 58);
    app.shutdown().await;
}
both_databases!(the_log_filters_and_cannot_be_changed);

async fn a_member_is_told_in_their_own_language(app: TestApp) {
    let s = scene(&app).await;
    let ken = member(&app, &s.coordinator, "ken@example.org", "けん").await;
    let ken_id = app
        .scalar("SELECT id FROM users WHERE email = 'ken@example.org'")
        .await;
    // He chooses English from the footer, as anyone would.
    ken.get("/").await;
    let chosen = ken.post_form("/preferences", &[("locale", "en")]).await;
    assert!(chosen.status.is_redirection(), "{}", chosen.text());
    restrict(
        &s.moderator,
        ken_id,
        "silence",
        "1d",
        "",
        "言葉づかいについて",
    )
    .await;
    let banner = ken.get("/").await.select(".silenced").join("");
    assert!(
        banner.contains("A moderator has paused") && banner.contains("言葉づかいについて"),
        "{banner}"
    );
    restrict(&s.moderator, ken_id, "suspend", "1d", "", "少しお休みを").await;
    // The login page is in the visitor's language; what only he may read is in his.
    let (_, answer) = login(&app, "ken@example.org", PASSWORD).await;
    assert_eq!(answer.status, 403);
    let text = answer.select("main").join("");
    assert!(
        text.contains("This account has been suspended by a moderator until")
            && text.contains("少しお休みを"),
        "{text}"
    );
    app.shutdown().await;
}
both_databases!(a_member_is_told_in_their_own_language);
