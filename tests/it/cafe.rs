//! The café room over real WebSockets: history on join, backfill after a dropped connection with
//! no gap and no duplicate, presence, removal and mute reaching every client, slow mode and
//! pause, rate and size limits, a foreign Origin, a visitor and a member of the wrong relation
//! refused, a suspended member cut off mid-session, crisis and watched words through the same
//! pipeline as the forums, the page without JavaScript, and 1001 on shutdown.

use std::collections::HashSet;

use serde_json::Value;

use crate::common::live::Live;
use crate::common::{Browser, TestApp};
use crate::journeys::{member, member_as, staff};

struct Scene {
    moderator: Browser,
    coordinator: Browser,
    hana: Browser,
    sora: Browser,
    hana_id: i64,
    room: i64,
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

async fn room_id(app: &TestApp, name: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM cafe_rooms WHERE name = '{name}'"))
        .await
}

/// A session on in `room` from a minute ago for an hour; its id.
async fn session_now(app: &TestApp, room: i64, facilitator: Option<i64>) -> i64 {
    let facilitator = facilitator.map_or("NULL".to_owned(), |id| id.to_string());
    app.scalar(&format!(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, theme, facilitator_id, created_at) \
         VALUES ({room}, {start}, {end}, '春のおしゃべり', {facilitator}, {start}) RETURNING id",
        start = now() - 60,
        end = now() + 3600,
    ))
    .await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Staff, hana and sora (patients), and みんなのカフェ in session.
async fn scene(app: &TestApp) -> Scene {
    let (coordinator, moderator) = staff(app).await;
    let hana = member(app, &coordinator, "hana@example.org", "はな").await;
    let sora = member(app, &coordinator, "sora@example.org", "そら").await;
    let room = room_id(app, "みんなのカフェ").await;
    session_now(app, room, None).await;
    Scene {
        hana_id: user_id(app, "hana@example.org").await,
        moderator,
        coordinator,
        hana,
        sora,
        room,
    }
}

fn ids(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| f["id"].as_i64().expect("an id"))
        .collect()
}

async fn history_on_join_and_live_messages(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    let (hello, history, state) = hana.opening().await;
    assert_eq!(hello["reset"], true);
    assert!(history.is_empty());
    assert_eq!(state["open"], true, "{state}");
    assert_eq!(state["keeps"], false);
    let mut sent = Vec::new();
    for n in 1..=55 {
        let ack = hana.say(&format!("こんにちは {n}")).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        sent.push(ack["id"].as_i64().expect("an id"));
    }
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    let (hello, history, _) = sora.opening().await;
    assert_eq!(hello["reset"], true);
    assert_eq!(
        ids(&history),
        sent[5..].to_vec(),
        "the last 50, oldest first"
    );
    assert_eq!(history[0]["author"]["name"], "はな");
    assert_eq!(history[49]["body"], "こんにちは 55");
    // Who is here, updated live.
    let presence = sora
        .until("presence", |p| {
            let names = p["names"].as_array().cloned().unwrap_or_default();
            names.contains(&"はな".into()) && names.contains(&"そら".into())
        })
        .await;
    assert_eq!(presence.last().map(|p| p["count"].clone()), Some(2.into()));
    // A message reaches the other member at once, as the room's next change.
    let ack = hana.say("今日はよろしくお願いします").await;
    let message = sora.next_of("message").await;
    assert_eq!(message["id"], ack["id"]);
    assert_eq!(message["seq"], ack["seq"]);
    assert_eq!(message["body"], "今日はよろしくお願いします");
    // The page without the script shows the same conversation.
    let page = s.sora.get(&format!("/cafe/{}", s.room)).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("今日はよろしくお願いします"));
    assert_eq!(page.select(".cafe-message").len(), 50);
    // Sora leaves: hana's list follows.
    drop(sora);
    hana.until("presence", |p| p["count"] == 1).await;
    app.shutdown().await;
}
both_databases!(history_on_join_and_live_messages);

async fn backfill_after_a_dropped_connection_has_no_gap_and_no_duplicate(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    sora.opening().await;
    let first = hana.say("一つ目").await;
    let seen = sora.next_of("message").await;
    let last_seen = seen["seq"].as_i64().expect("a seq");
    // Sora's phone loses its network; the room goes on.
    sora.drop_abruptly();
    let mut missed = Vec::new();
    for body in ["二つ目", "三つ目", "四つ目"] {
        missed.push(hana.say(body).await["id"].as_i64().expect("an id"));
    }
    s.moderator.get(&format!("/cafe/{}", s.room)).await;
    let removed = s
        .moderator
        .post_form(
            &format!("/cafe/{}/messages/{}/remove", s.room, first["id"]),
            &[("reason", "個人情報が含まれていたため")],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.text());
    let mut again = Live::connect(&s.sora, s.room, Some(last_seen)).await;
    let (hello, frames, _) = again.opening().await;
    assert_eq!(
        hello["reset"], false,
        "a short absence is caught up, not reset"
    );
    assert_eq!(
        ids(&frames),
        missed,
        "exactly the messages missed, in order"
    );
    let removals: Vec<&Value> = frames.iter().filter(|f| f["type"] == "removed").collect();
    assert_eq!(removals.len(), 1);
    assert_eq!(removals[0]["id"], first["id"]);
    let seqs: Vec<i64> = frames.iter().filter_map(|f| f["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in the room's order: {seqs:?}"
    );
    assert!(
        seqs.iter().all(|seq| *seq > last_seen),
        "nothing seen before"
    );
    // Live again afterwards, and nothing comes twice.
    let next = hana.say("五つ目").await;
    let message = again.next_of("message").await;
    assert_eq!(message["id"], next["id"]);
    // A client that asks from a change the room never had starts from the history.
    let mut odd = Live::connect(&s.sora, s.room, Some(1_000_000)).await;
    let (hello, frames, _) = odd.opening().await;
    assert_eq!(hello["reset"], true);
    let shown: HashSet<i64> = ids(&frames).into_iter().collect();
    assert_eq!(shown.len(), ids(&frames).len(), "no message twice");
    assert!(!shown.contains(&first["id"].as_i64().unwrap_or_default()));
    app.shutdown().await;
}
both_databases!(backfill_after_a_dropped_connection_has_no_gap_and_no_duplicate);

async fn removal_mute_slow_mode_and_pause_reach_every_client(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    sora.opening().await;
    let mut moderator = Live::connect(&s.moderator, s.room, None).await;
    let (_, _, state) = moderator.opening().await;
    assert_eq!(state["keeps"], true, "moderators keep every room");
    let said = hana.say("この薬は絶対に効きます").await;
    sora.next_of("message").await;
    let room_page = format!("/cafe/{}", s.room);
    s.moderator.get(&room_page).await;
    let page = s
        .moderator
        .post_form(
            &format!("/cafe/{}/messages/{}/remove", s.room, said["id"]),
            &[("reason", "医療の情報として不確かなため")],
        )
        .await;
    assert_eq!(page.status, 303);
    for live in [&mut hana, &mut sora] {
        let removed = live.next_of("removed").await;
        assert_eq!(removed["id"], said["id"]);
    }
    assert!(!s.sora.get(&room_page).await.contains("絶対に効きます"));
    // Staff still find what was removed, and why, from the log.
    let log = s.moderator.get("/mod/log").await;
    let looked_up = format!("/mod/cafe-messages/{}", said["id"]);
    assert!(
        log.attrs("a", "href").contains(&looked_up),
        "{}",
        log.text()
    );
    let record = s.moderator.get(&looked_up).await;
    assert!(record.contains("絶対に効きます") && record.contains("医療の情報として不確かなため"));
    assert_eq!(s.sora.get(&looked_up).await.status, 404);
    // A member cannot remove someone else's message, nor mute anyone.
    s.sora.get(&room_page).await;
    let other = hana.say("ありがとうございます").await;
    let refused = s
        .sora
        .post_form(
            &format!("/cafe/{}/messages/{}/remove", s.room, other["id"]),
            &[("reason", "")],
        )
        .await;
    assert_eq!(refused.status, 403);
    let refused = s
        .sora
        .post_form(&format!("/cafe/{}/members/{}/mute", s.room, s.hana_id), &[])
        .await;
    assert_eq!(refused.status, 403);
    // Muted for the rest of the session: told at once, refused after.
    s.moderator.get(&room_page).await;
    let page = s
        .moderator
        .post_form(&format!("/cafe/{}/members/{}/mute", s.room, s.hana_id), &[])
        .await;
    assert_eq!(page.status, 303);
    let state = hana.until("state", |f| f["muted"] == true).await;
    assert!(state.last().is_some());
    let answer = hana.say("聞こえますか").await;
    assert_eq!(answer["type"], "refused");
    assert!(
        answer["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("書き込みができません")
    );
    // Slow mode: one message per 30 seconds each.
    s.moderator.get(&room_page).await;
    let page = s
        .moderator
        .post_form(&format!("/cafe/{}/slow", s.room), &[("seconds", "30")])
        .await;
    assert_eq!(page.status, 303);
    sora.until("state", |f| f["slow"] == 30).await;
    assert_eq!(sora.say("ゆっくり話しましょう").await["type"], "ack");
    let second = sora.say("もう一つ").await;
    assert_eq!(second["type"], "refused");
    assert!(
        second["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("ゆっくりモード")
    );
    // Paused: members wait, the moderator still speaks.
    s.moderator.get(&room_page).await;
    let page = s
        .moderator
        .post_form(&format!("/cafe/{}/pause", s.room), &[])
        .await;
    assert_eq!(page.status, 303);
    sora.until("state", |f| f["paused"] == true).await;
    assert_eq!(moderator.say("少し休憩します").await["type"], "ack");
    let message = sora.next_of("message").await;
    assert_eq!(message["author"]["role"], "moderator");
    let invalid = s
        .moderator
        .post_form(&format!("/cafe/{}/slow", s.room), &[("seconds", "7")])
        .await;
    assert_eq!(invalid.status, 400, "only the offered intervals");
    for action in [
        "cafe_message.removed",
        "cafe.member_muted",
        "cafe.slow_mode_set",
        "cafe.paused",
    ] {
        let rows = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await;
        assert_eq!(rows, 1, "{action} logged once");
    }
    app.shutdown().await;
}
both_databases!(removal_mute_slow_mode_and_pause_reach_every_client);

async fn handshakes_and_messages_are_checked(app: TestApp) {
    let s = scene(&app).await;
    let other_site = Live::try_connect(&s.hana, s.room, None, Some("http://evil.example")).await;
    assert_eq!(other_site.err().map(|r| r.status), Some(403));
    let no_origin = Live::try_connect(&s.hana, s.room, None, None).await;
    assert_eq!(no_origin.err().map(|r| r.status), Some(403));
    let visitor = app.client();
    let refused = Live::try_connect(&visitor, s.room, None, Some(visitor.origin())).await;
    assert_eq!(
        refused.err().map(|r| r.status),
        Some(303),
        "sent to the login page"
    );
    let unknown = Live::try_connect(&s.hana, 9999, None, Some(s.hana.origin())).await;
    assert_eq!(unknown.err().map(|r| r.status), Some(404));
    // A few tabs and devices, not a script's thousand sockets.
    let mut tabs = Vec::new();
    for _ in 0..8 {
        let mut tab = Live::connect(&s.sora, s.room, None).await;
        tab.opening().await;
        tabs.push(tab);
    }
    let one_more = Live::try_connect(&s.sora, s.room, None, Some(s.sora.origin())).await;
    assert_eq!(one_more.err().map(|r| r.status), Some(429));
    // Closing one tab makes room for another, once the server has seen it go.
    tabs.pop();
    let mut again = None;
    for _ in 0..100 {
        match Live::try_connect(&s.sora, s.room, None, Some(s.sora.origin())).await {
            Ok(live) => {
                again = Some(live);
                break;
            }
            Err(refused) => assert_eq!(refused.status, 429),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "a closed tab's place is freed");
    drop(tabs);
    // A family room is not there for a patient, and is for a family member.
    let family_room = room_id(&app, "家族のカフェ").await;
    session_now(&app, family_room, None).await;
    let not_hers = Live::try_connect(&s.hana, family_room, None, Some(s.hana.origin())).await;
    assert_eq!(not_hers.err().map(|r| r.status), Some(404));
    assert_eq!(
        s.hana.get(&format!("/cafe/{family_room}")).await.status,
        404
    );
    let mama = member_as(
        &app,
        &s.coordinator,
        "mama@example.org",
        "member",
        "family",
        "まま",
    )
    .await;
    let mut family = Live::connect(&mama, family_room, None).await;
    family.opening().await;

    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let long = hana.say(&"あ".repeat(1001)).await;
    assert_eq!(long["type"], "refused");
    assert!(
        long["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("1000文字")
    );
    let control = hana.say("こんにちは\u{0007}").await;
    assert_eq!(control["type"], "refused");
    let blank = hana.say("   ").await;
    assert_eq!(blank["type"], "refused");
    hana.send_raw("{not json".into()).await;
    let unreadable = hana.next_of("refused").await;
    assert!(
        unreadable["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("読み取れません")
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM cafe_messages").await,
        0,
        "nothing refused was stored"
    );
    // A frame larger than any message ends the connection instead of filling memory.
    hana.send_raw(format!(
        "{{\"type\":\"send\",\"nonce\":\"x\",\"body\":\"{}\"}}",
        "a".repeat(40_000)
    ))
    .await;
    assert!(
        hana.closed()
            .await
            .is_none_or(|frame| u16::from(frame.code) != 1000)
    );

    // Silenced mid-visit: still reading, refused when writing, with the moderators' reason.
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    sora.opening().await;
    let sora_id = user_id(&app, "sora@example.org").await;
    s.moderator.get(&format!("/mod/members/{sora_id}")).await;
    let page = s
        .moderator
        .post_form(
            &format!("/mod/members/{sora_id}/silence"),
            &[
                ("length", "1d"),
                ("until", ""),
                ("reason", "少しお休みしましょう"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.text());
    let refused = sora.say("聞こえますか").await;
    assert_eq!(refused["type"], "refused");
    assert!(
        refused["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("少しお休みしましょう")
    );

    // Suspended mid-session: cut off at once.
    let mama_id = user_id(&app, "mama@example.org").await;
    s.moderator.get(&format!("/mod/members/{mama_id}")).await;
    let page = s
        .moderator
        .post_form(
            &format!("/mod/members/{mama_id}/suspend"),
            &[("length", "1d"), ("until", ""), ("reason", "確認のため")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.text());
    let closed = family.closed().await.expect("a close frame");
    assert_eq!(u16::from(closed.code), 4401);
    app.shutdown().await;
}
both_databases!(handshakes_and_messages_are_checked);

fn strict_write_limits(config: &mut hidamari::config::Config) {
    config.write_limit_scale = 1;
}

async fn a_member_cannot_flood_the_room(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let mut answers = Vec::new();
    for n in 0..14 {
        answers.push(hana.say(&format!("連投 {n}")).await);
    }
    let accepted = answers.iter().filter(|a| a["type"] == "ack").count();
    assert_eq!(accepted, 12, "a dozen at once, then the limit");
    let refused = answers.last().expect("answers");
    assert_eq!(refused["type"], "refused");
    assert!(
        refused["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("カフェのメッセージ")
    );
    app.shutdown().await;
}
both_databases!(
    a_member_cannot_flood_the_room,
    configure = strict_write_limits
);

async fn crisis_and_watched_words_act_on_cafe_messages(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    sora.opening().await;
    // A crisis message goes through, the writer is shown where help is, moderators are alerted.
    let ack = hana.say("もう消えたいです").await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["crisis"], true);
    assert!(ack["notice"].as_str().unwrap_or_default().contains("窓口"));
    assert_eq!(sora.next_of("message").await["id"], ack["id"]);
    let alerts = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM alerts WHERE cause = 'crisis_words' \
             AND target_kind = 'cafe_message' AND target_id = {}",
            ack["id"]
        ))
        .await;
    assert_eq!(alerts, 1);
    let link = format!("/cafe/{}#m{}", s.room, ack["id"]);
    // Every moderator is mailed a link to the message at once (waiting fails the story).
    app.mail
        .wait_for(
            |m| m.is_to("mod@example.org") && m.text.contains(&link),
            crate::common::MAIL_WAIT,
        )
        .await;
    // A watched word that blocks stores nothing; one that holds waits for a keeper.
    s.moderator.get("/mod/words").await;
    for (word, action) in [("もうけ話", "block"), ("必ず治る", "hold")] {
        let page = s
            .moderator
            .post_form("/mod/words", &[("word", word), ("action", action)])
            .await;
        assert_eq!(page.status, 303, "{}", page.text());
    }
    let blocked = hana.say("いいもうけ話があります").await;
    assert_eq!(blocked["type"], "refused");
    let held = hana.say("この水を飲めば必ず治る").await;
    assert_eq!(held["type"], "ack");
    assert_eq!(held["held"], true);
    let later = hana.say("今日は晴れですね").await;
    let next = sora.next_of("message").await;
    assert_eq!(
        next["id"], later["id"],
        "the held message did not reach sora"
    );
    let mut moderator = Live::connect(&s.moderator, s.room, None).await;
    let (_, history, _) = moderator.opening().await;
    assert!(
        ids(&history).contains(&held["id"].as_i64().unwrap_or_default()),
        "staff see it"
    );
    s.moderator.get(&format!("/cafe/{}", s.room)).await;
    let page = s
        .moderator
        .post_form(
            &format!("/cafe/{}/messages/{}/approve", s.room, held["id"]),
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    let approved = sora.next_of("message").await;
    assert_eq!(approved["id"], held["id"]);
    assert_eq!(approved["held"], false);
    app.shutdown().await;
}
both_databases!(crisis_and_watched_words_act_on_cafe_messages);

async fn the_room_works_without_javascript(app: TestApp) {
    let s = scene(&app).await;
    let room_page = format!("/cafe/{}", s.room);
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    sora.opening().await;
    let page = s.hana.get(&room_page).await;
    assert!(page.contains("開催中"), "{}", page.text());
    let sent = s
        .hana
        .post_form(
            &format!("/cafe/{}/messages", s.room),
            &[("body", "フォームから失礼します")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    assert_eq!(
        sora.next_of("message").await["body"],
        "フォームから失礼します"
    );
    let page = s.hana.get(&room_page).await;
    assert!(page.contains("フォームから失礼します"));
    let too_long = s
        .hana
        .post_form(
            &format!("/cafe/{}/messages", s.room),
            &[("body", &"い".repeat(1001))],
        )
        .await;
    assert_eq!(too_long.status, 422);
    assert!(
        too_long.contains("1000文字"),
        "the error in the page's language"
    );
    assert_eq!(
        too_long
            .select("textarea[name=body]")
            .first()
            .map(|t| t.chars().count()),
        Some(1001),
        "what was written is kept"
    );
    // Outside a session the room is read-only: the history shows, nothing is written.
    app.execute("UPDATE cafe_sessions SET ends_at = starts_at + 1")
        .await;
    let closed = s
        .hana
        .post_form(
            &format!("/cafe/{}/messages", s.room),
            &[("body", "まだいますか")],
        )
        .await;
    assert_eq!(closed.status, 422);
    assert!(closed.contains("開催時間外"));
    assert!(
        closed.contains("フォームから失礼します"),
        "read-only: the history stays"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM cafe_messages WHERE body = 'まだいますか'")
            .await,
        0
    );
    app.shutdown().await;
}
both_databases!(the_room_works_without_javascript);

async fn shutdown_tells_clients_to_go_elsewhere(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let reading = tokio::spawn(async move { hana.closed().await });
    app.shutdown().await;
    let frame = reading
        .await
        .expect("the reader finished")
        .expect("a close frame");
    assert_eq!(u16::from(frame.code), 1001);
}
both_databases!(shutdown_tells_clients_to_go_elsewhere);

async fn members_report_messages_and_staff_handle_them_from_their_page(app: TestApp) {
    let s = scene(&app).await;
    let mut hana = Live::connect(&s.hana, s.room, None).await;
    hana.opening().await;
    let mut sora = Live::connect(&s.sora, s.room, None).await;
    sora.opening().await;
    let said = hana.say("連絡先を教えてください、個別に話しましょう").await;
    let message = said["id"].as_i64().expect("an id");
    sora.next_of("message").await;
    // The message's own address leads to it in its room; the room offers to report it.
    let permalink = s.sora.get(&format!("/cafe/messages/{message}")).await;
    assert_eq!(
        permalink.location(),
        Some(format!("/cafe/{}#m{message}", s.room).as_str())
    );
    let room = s.sora.get(&format!("/cafe/{}", s.room)).await;
    let report_links = room.attrs(".cafe-report a", "href");
    assert!(report_links.contains(&format!("/cafe/messages/{message}/report")));
    assert_eq!(
        s.hana
            .get(&format!("/cafe/messages/{message}/report"))
            .await
            .status,
        404,
        "nobody reports their own message"
    );
    let form = s
        .sora
        .get(&format!("/cafe/messages/{message}/report"))
        .await;
    assert_eq!(form.status, 200);
    assert!(
        form.contains("個別に話しましょう"),
        "the form quotes the message"
    );
    let empty = s
        .sora
        .post_form(
            &format!("/cafe/messages/{message}/report"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(empty.status, 422);
    let sent = s
        .sora
        .post_form(
            &format!("/cafe/messages/{message}/report"),
            &[
                ("reason", "private_information"),
                ("note", "連絡先の交換は心配です"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    assert_eq!(
        sent.location(),
        Some(format!("/cafe/{}#m{message}", s.room).as_str())
    );
    // A held message waits on the staff's page too.
    s.moderator.get("/mod/words").await;
    s.moderator
        .post_form("/mod/words", &[("word", "必ず治る"), ("action", "hold")])
        .await;
    let held = hana.say("この食事で必ず治る").await;
    assert_eq!(held["held"], true);
    let queue = s.moderator.get("/mod/queue").await;
    assert!(queue.contains("カフェのメッセージ (2)"), "{}", queue.text());
    let page = s.moderator.get("/mod/cafe").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("この食事で必ず治る") && page.contains("連絡先の交換は心配です"));
    assert_eq!(s.sora.get("/mod/cafe").await.status, 404, "staff only");
    let approved = s
        .moderator
        .post_form(&format!("/mod/cafe-messages/{}/approve", held["id"]), &[])
        .await;
    assert_eq!(approved.status, 303);
    assert_eq!(sora.next_of("message").await["id"], held["id"]);
    // Resolving the report by hiding the message removes it for everyone, tells the reporter.
    s.moderator.get("/mod/cafe").await;
    let resolved = s
        .moderator
        .post_form(
            &format!("/mod/cafe-messages/{message}/reports/resolve"),
            &[
                ("resolution", "hidden"),
                ("note", "連絡先の交換はご遠慮ください"),
            ],
        )
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.text());
    assert_eq!(sora.next_of("removed").await["id"], message);
    assert_eq!(hana.next_of("removed").await["id"], message);
    app.mail
        .wait_for(
            |m| m.is_to("sora@example.org") && m.text.contains("報告"),
            crate::common::MAIL_WAIT,
        )
        .await;
    let rows = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'report.resolved' \
             AND target_kind = 'cafe_message' AND target_id = {message}"
        ))
        .await;
    assert_eq!(rows, 1);
    assert!(
        s.moderator
            .get("/mod/queue")
            .await
            .contains("カフェのメッセージ (0)")
    );
    app.shutdown().await;
}
both_databases!(members_report_messages_and_staff_handle_them_from_their_page);

async fn the_end_of_a_session_reaches_the_room_by_itself(app: TestApp) {
    let s = scene(&app).await;
    // The family café is closed outside its sessions; this one ends in two seconds.
    let family_room = room_id(&app, "家族のカフェ").await;
    app.execute(&format!(
        "UPDATE cafe_rooms SET outside_sessions = 'closed' WHERE id = {family_room}"
    ))
    .await;
    app.execute(&format!(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, created_at) \
         VALUES ({family_room}, {start}, {end}, {start})",
        start = now() - 60,
        end = now() + 2,
    ))
    .await;
    let mama = member_as(
        &app,
        &s.coordinator,
        "mama@example.org",
        "member",
        "family",
        "まま",
    )
    .await;
    let mut family = Live::connect(&mama, family_room, None).await;
    let (_, _, state) = family.opening().await;
    assert_eq!(state["open"], true);
    let mut moderator = Live::connect(&s.moderator, family_room, None).await;
    moderator.opening().await;
    // The member is shown out; the moderator, who keeps the room, is told it closed.
    let closed = family.closed().await.expect("a close frame");
    assert_eq!(u16::from(closed.code), 4403);
    moderator
        .until("state", |state| state["open"] == false)
        .await;
    app.shutdown().await;
}
both_databases!(the_end_of_a_session_reaches_the_room_by_itself);
