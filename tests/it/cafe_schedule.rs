//! The café's schedule: a coordinator makes a room for families and a series on the 2nd and 4th
//! Thursdays; families see it on /cafe, add a session to their calendar and ask for a reminder,
//! which reaches them by e-mail once; others get 404; cancelled sessions are not reminded; bad
//! schedules are refused and change nothing.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{ToSpan, Zoned};

use crate::common::{Browser, MAIL_WAIT, Page, TestApp};
use crate::journeys::{first_coordinator, member, member_as};

fn tokyo() -> TimeZone {
    TimeZone::get("Asia/Tokyo").expect("the zone")
}

fn now_in_tokyo() -> Zoned {
    Zoned::now().with_time_zone(tokyo())
}

/// Posts the new-room form; the room's id.
async fn create_room(app: &TestApp, coordinator: &Browser, name: &str, relation: &str) -> i64 {
    coordinator.get("/admin/cafe").await;
    let page = coordinator
        .post_form(
            "/admin/cafe",
            &[
                ("name", name),
                ("description", "ご家族どうしで話せる部屋です。"),
                ("min_role", "member"),
                ("only_relation", relation),
                ("outside_sessions", "closed"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "creating {name}: {}", page.text());
    assert_eq!(page.redirect_path(), "/admin/cafe");
    app.scalar(&format!("SELECT id FROM cafe_rooms WHERE name = '{name}'"))
        .await
}

/// Posts the one-session form of a room.
async fn schedule_one(
    coordinator: &Browser,
    room: i64,
    date: &str,
    start: &str,
    end: &str,
    facilitator: &str,
) -> Page {
    let path = format!("/admin/cafe/rooms/{room}/sessions");
    assert_eq!(coordinator.get(&path).await.status, 200);
    coordinator
        .post_form(
            &path,
            &[
                ("date", date),
                ("start", start),
                ("end", end),
                ("theme", "ひと息つきましょう"),
                ("facilitator", facilitator),
            ],
        )
        .await
}

/// Posts the series form of a room: monthly on the weeks given, on Thursdays.
async fn schedule_series(
    coordinator: &Browser,
    room: i64,
    weeks: &[&'static str],
    first: &str,
    last: &str,
    facilitator: &str,
) -> Page {
    let path = format!("/admin/cafe/rooms/{room}/sessions");
    assert_eq!(coordinator.get(&path).await.status, 200);
    let mut fields = vec![
        ("kind", "monthly"),
        ("weekday", "thu"),
        ("first", first),
        ("last", last),
        ("start", "19:00"),
        ("end", "20:30"),
        ("theme", "働きながらの治療"),
        ("facilitator", facilitator),
    ];
    for week in weeks {
        fields.push((week, "on"));
    }
    coordinator
        .post_form(&format!("/admin/cafe/rooms/{room}/series"), &fields)
        .await
}

/// The 2nd and 4th Thursdays from `first` to `last`, counted day by day (not by the rule's code).
fn second_and_fourth_thursdays(first: Date, last: Date) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut day = first;
    while day <= last {
        if day.weekday() == Weekday::Thursday && matches!(day.day(), 8..=14 | 22..=28) {
            dates.push(day);
        }
        day = day.tomorrow().expect("a next day");
    }
    dates
}

/// The unfolded lines of a calendar file.
fn calendar_lines(text: &str) -> Vec<String> {
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn utc_value(lines: &[String], name: &str) -> i64 {
    let value = lines
        .iter()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"));
    let ts: jiff::Timestamp = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", value)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| dt.to_zoned(TimeZone::UTC))
        .map(|z| z.timestamp())
        .unwrap_or_else(|e| panic!("{name}:{value}: {e}"));
    ts.as_second()
}

/// A start a few minutes from now, inside the reminder window, and an end later the same day
/// (Tokyo time): date, start, end as the form takes them.
fn soon() -> (String, String, String) {
    let mut start = now_in_tokyo()
        .checked_add(10.minutes())
        .expect("a time")
        .round(jiff::Unit::Minute)
        .expect("rounded");
    if start.hour() == 23 && start.minute() >= 58 {
        // Too close to midnight for an end the same day: just after it, still within the window.
        start = start
            .tomorrow()
            .and_then(|z| z.start_of_day())
            .and_then(|z| z.checked_add(5.minutes()))
            .expect("a time");
    }
    let end = start
        .checked_add(30.minutes())
        .ok()
        .filter(|end| end.date() == start.date())
        .map(|end| end.strftime("%H:%M").to_string())
        .unwrap_or_else(|| "23:59".to_owned());
    (
        start.strftime("%Y-%m-%d").to_string(),
        start.strftime("%H:%M").to_string(),
        end,
    )
}

async fn a_family_series_reaches_families_with_calendar_files_and_reminders(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let patient = member(&app, &coordinator, "patient@example.org", "ほんにん").await;
    let family = member_as(
        &app,
        &coordinator,
        "family@example.org",
        "member",
        "family",
        "かぞく",
    )
    .await;

    // A room for families only, closed outside its sessions.
    let room = create_room(&app, &coordinator, "家族の語らい", "family").await;
    let listed = coordinator.get("/admin/cafe").await;
    assert!(listed.text().contains("家族の語らい"), "{}", listed.text());
    assert!(listed.text().contains("ご家族だけ"), "{}", listed.text());

    // A series: the 2nd and 4th Thursdays for three months from tomorrow.
    let first = now_in_tokyo().date().tomorrow().expect("tomorrow");
    let last = first.checked_add(3.months()).expect("a date");
    let page = schedule_series(
        &coordinator,
        room,
        &["nth_4", "nth_2"],
        &first.to_string(),
        &last.to_string(),
        "こーでぃ",
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.text());
    let expected = second_and_fourth_thursdays(first, last);
    assert!(expected.len() >= 5, "{expected:?}");
    let listed = coordinator.follow(&page).await;
    assert!(
        listed
            .text()
            .contains(&format!("{}回の予定を作りました", expected.len())),
        "{}",
        listed.text()
    );
    assert!(
        listed.text().contains("毎月 第2・第4 木曜日"),
        "{}",
        listed.text()
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM cafe_series WHERE room_id = {room} AND rule = 'monthly 2,4 thu'"
        ))
        .await,
        1
    );
    let count = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM cafe_sessions WHERE room_id = {room} AND series_id IS NOT NULL"
        ))
        .await;
    assert_eq!(count, i64::try_from(expected.len()).unwrap());
    // Each stored start is 19:00 in Tokyo on one of the expected dates, in order.
    for (index, date) in expected.iter().enumerate() {
        let start = app
            .scalar(&format!(
                "SELECT starts_at FROM cafe_sessions WHERE room_id = {room} \
                 ORDER BY starts_at LIMIT 1 OFFSET {index}"
            ))
            .await;
        let local = jiff::Timestamp::from_second(start)
            .unwrap()
            .to_zoned(tokyo());
        assert_eq!(local.date(), *date);
        assert_eq!((local.hour(), local.minute()), (19, 0));
    }
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('cafe_room.created', \
             'cafe_session.scheduled')"
        )
        .await,
        2,
        "one log row for the room, one for the series"
    );

    // Families see the room on /cafe (with the next sessions); patients do not.
    let seen = family.get("/cafe").await;
    assert_eq!(seen.status, 200);
    assert!(seen.text().contains("家族の語らい"), "{}", seen.text());
    assert!(seen.text().contains("みんなのカフェ"), "{}", seen.text());
    let other = patient.get("/cafe").await;
    assert_eq!(other.status, 200);
    assert!(!other.text().contains("家族の語らい"), "{}", other.text());
    assert!(other.text().contains("みんなのカフェ"), "{}", other.text());
    let header = family.get("/").await;
    assert!(
        header
            .attrs("header a", "href")
            .contains(&"/cafe".to_owned())
    );

    // The first session's calendar file reads back with its times in UTC.
    let session = app
        .scalar(&format!(
            "SELECT id FROM cafe_sessions WHERE room_id = {room} ORDER BY starts_at LIMIT 1"
        ))
        .await;
    let starts_at = app
        .scalar(&format!(
            "SELECT starts_at FROM cafe_sessions WHERE id = {session}"
        ))
        .await;
    let ics = family.get(&format!("/cafe/sessions/{session}.ics")).await;
    assert_eq!(ics.status, 200);
    assert_eq!(
        ics.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(
        ics.body.split("\r\n").all(|l| l.len() <= 75),
        "{}",
        ics.body
    );
    let lines = calendar_lines(&ics.body);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert!(lines.contains(&"BEGIN:VEVENT".to_owned()));
    assert_eq!(utc_value(&lines, "DTSTART"), starts_at);
    assert_eq!(utc_value(&lines, "DTEND"), starts_at + 90 * 60);
    let dtstart = lines.iter().find(|l| l.starts_with("DTSTART:")).unwrap();
    assert!(
        dtstart.ends_with("T100000Z"),
        "19:00 in Tokyo is 10:00 UTC: {dtstart}"
    );
    assert!(lines.iter().any(|l| l.starts_with("UID:cafe-session-")));
    assert!(
        lines.contains(&format!("URL:{}", app.url(&format!("/cafe/{room}")))),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("SUMMARY:家族の語らい：働きながらの治療")),
        "{lines:?}"
    );

    // A patient may not have it, nor ask for its reminder.
    assert_eq!(
        patient
            .get(&format!("/cafe/sessions/{session}.ics"))
            .await
            .status,
        404
    );
    patient.get("/cafe").await;
    let refused = patient
        .post_form(
            &format!("/cafe/sessions/{session}/remind"),
            &[("remind", "on")],
        )
        .await;
    assert_eq!(refused.status, 404);

    // Two sessions starting within the reminder window; families ask to be reminded of both,
    // then the second is cancelled.
    let (date, start, end) = soon();
    for _ in 0..2 {
        let page = schedule_one(&coordinator, room, &date, &start, &end, "").await;
        assert_eq!(page.status, 303, "{date} {start}-{end}: {}", page.text());
    }
    let soon_sessions: Vec<i64> = {
        let first = app
            .scalar(&format!(
                "SELECT MIN(id) FROM cafe_sessions WHERE room_id = {room} AND series_id IS NULL"
            ))
            .await;
        vec![first, first + 1]
    };
    for id in &soon_sessions {
        family.get("/cafe").await;
        let asked = family
            .post_form(&format!("/cafe/sessions/{id}/remind"), &[("remind", "on")])
            .await;
        assert_eq!(asked.status, 303, "{}", asked.text());
        let back = family.follow(&asked).await;
        assert!(back.text().contains("お知らせをやめる"), "{}", back.text());
    }
    // Stopping and asking again leaves one reminder.
    family.get("/cafe").await;
    family
        .post_form(
            &format!("/cafe/sessions/{}/remind", soon_sessions[0]),
            &[("remind", "off")],
        )
        .await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM cafe_reminders").await,
        1,
        "stopped"
    );
    family.get("/cafe").await;
    family
        .post_form(
            &format!("/cafe/sessions/{}/remind", soon_sessions[0]),
            &[("remind", "on")],
        )
        .await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM cafe_reminders").await, 2);

    // Two more families ask, then one is moved to another relation and one is suspended: they
    // can no longer enter the room, and get no reminder.
    for (email, name) in [
        ("moved@example.org", "うつった"),
        ("suspended@example.org", "とまった"),
    ] {
        let other = member_as(&app, &coordinator, email, "member", "family", name).await;
        other.get("/cafe").await;
        let asked = other
            .post_form(
                &format!("/cafe/sessions/{}/remind", soon_sessions[0]),
                &[("remind", "on")],
            )
            .await;
        assert_eq!(asked.status, 303, "{}", asked.text());
    }
    app.execute("UPDATE users SET relation = 'patient' WHERE email = 'moved@example.org'")
        .await;
    app.execute(&format!(
        "UPDATE users SET suspended_until = {} WHERE email = 'suspended@example.org'",
        hidamari::db::now() + 3600
    ))
    .await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM cafe_reminders").await, 4);

    let cancelled = soon_sessions[1];
    let confirm = coordinator
        .get(&format!("/admin/cafe/sessions/{cancelled}/cancel"))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.text().contains("この回を中止します"),
        "{}",
        confirm.text()
    );
    let done = coordinator
        .post_form(&format!("/admin/cafe/sessions/{cancelled}/cancel"), &[])
        .await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert!(
        coordinator
            .follow(&done)
            .await
            .text()
            .contains("1回を中止しました"),
    );

    // A session that has started can no longer be reminded of: said so, nothing written.
    app.execute(&format!(
        "UPDATE cafe_sessions SET starts_at = {} WHERE id = {session}",
        hidamari::db::now() - 60
    ))
    .await;
    family.get("/cafe").await;
    let late = family
        .post_form(
            &format!("/cafe/sessions/{session}/remind"),
            &[("remind", "on")],
        )
        .await;
    assert_eq!(late.status, 303);
    assert!(
        family
            .follow(&late)
            .await
            .text()
            .contains("この回はもう始まっています"),
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM cafe_reminders WHERE session_id = {session}"
        ))
        .await,
        0
    );

    // The task's pass writes one reminder, which reaches the SMTP peer; a second pass nothing.
    let sent = hidamari::cafe::reminders::send_due(app.app())
        .await
        .expect("reminders");
    assert_eq!(sent, 1);
    let mail = app
        .mail
        .wait_for(
            |m| m.is_to("family@example.org") && m.subject.contains("カフェ"),
            MAIL_WAIT,
        )
        .await;
    assert!(
        mail.subject.contains("まもなくカフェが始まります"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("家族の語らい"), "{}", mail.text);
    assert!(mail.text.contains("ひと息つきましょう"), "{}", mail.text);
    assert!(mail.text.contains(&start), "the time: {}", mail.text);
    assert_eq!(
        mail.link(&app.url("/cafe/")),
        app.url(&format!("/cafe/{room}"))
    );
    let again = hidamari::cafe::reminders::send_due(app.app())
        .await
        .expect("reminders");
    assert_eq!(again, 0);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM outbox WHERE recipient = 'family@example.org' \
                    AND subject LIKE '%カフェ%'"
        )
        .await,
        1,
        "reminded once"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM cafe_reminders WHERE session_id = {cancelled} AND sent_at IS NULL"
        ))
        .await,
        1,
        "the cancelled session's reminder stays unsent"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM outbox WHERE recipient IN ('moved@example.org', \
             'suspended@example.org') AND subject LIKE '%カフェ%'"
        )
        .await,
        0,
        "no reminder for members who can no longer enter"
    );
    assert!(
        !family
            .get("/cafe")
            .await
            .text()
            .contains(&format!("session-{cancelled}")),
        "cancelled sessions leave the page"
    );
    app.shutdown().await;
}
both_databases!(a_family_series_reaches_families_with_calendar_files_and_reminders);

/// A month (first and last day) after `after` in which no Thursday is a 5th one.
fn month_without_a_fifth_thursday(after: Date) -> (Date, Date) {
    let mut month = after.first_of_month().checked_add(1.month()).unwrap();
    loop {
        let last = month.last_of_month();
        if month.nth_weekday_of_month(5, Weekday::Thursday).is_err() {
            return (month, last);
        }
        month = month.checked_add(1.month()).unwrap();
    }
}

async fn bad_schedules_get_clear_errors_and_change_nothing(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "こーでぃ").await;
    let room = app
        .scalar("SELECT id FROM cafe_rooms WHERE name = 'みんなのカフェ'")
        .await;
    let tomorrow = now_in_tokyo().date().tomorrow().unwrap().to_string();

    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "20:00",
            "19:00",
            "",
            "終わる時刻は、始まる時刻より後にしてください。",
        ),
        (
            "19:00",
            "19:00",
            "",
            "終わる時刻は、始まる時刻より後にしてください。",
        ),
        (
            "19:00",
            "20:00",
            "だれでもない人",
            "「だれでもない人」という表示名のメンバーは見つかりませんでした",
        ),
        (
            "25:00",
            "20:00",
            "",
            "時刻を「19:00」のような形で入力してください。",
        ),
    ];
    for (start, end, facilitator, message) in cases {
        let page = schedule_one(&coordinator, room, &tomorrow, start, end, facilitator).await;
        assert_eq!(page.status, 422, "{start}-{end}: {}", page.text());
        assert!(page.text().contains(message), "{message}: {}", page.text());
        assert!(page.body.contains("aria-invalid=\"true\""));
    }
    // A start that has passed.
    let yesterday = now_in_tokyo().date().yesterday().unwrap().to_string();
    let page = schedule_one(&coordinator, room, &yesterday, "19:00", "20:00", "").await;
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains("この時刻はもう過ぎています"),
        "{}",
        page.text()
    );

    // A rule that gives no date: the 5th Thursday of a month that has none.
    let (first, last) = month_without_a_fifth_thursday(now_in_tokyo().date());
    let page = schedule_series(
        &coordinator,
        room,
        &["nth_5"],
        &first.to_string(),
        &last.to_string(),
        "",
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.text());
    assert!(
        page.text().contains("選んだ条件にあう日がありません"),
        "{}",
        page.text()
    );
    // Too many: longer than twelve months.
    let start = now_in_tokyo().date().tomorrow().unwrap();
    let too_far = start.checked_add(13.months()).unwrap();
    let page = schedule_series(
        &coordinator,
        room,
        &["nth_2", "nth_4"],
        &start.to_string(),
        &too_far.to_string(),
        "",
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains("12か月までにしてください"),
        "{}",
        page.text()
    );
    // No week chosen, and an end before the start.
    let page = schedule_series(
        &coordinator,
        room,
        &[],
        &too_far.to_string(),
        &start.to_string(),
        "",
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains("1つ以上選んでください"),
        "{}",
        page.text()
    );
    // An unknown facilitator on a good series.
    let page = schedule_series(
        &coordinator,
        room,
        &["nth_2"],
        &start.to_string(),
        &start.checked_add(2.months()).unwrap().to_string(),
        "だれでもない人",
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains("見つかりませんでした"),
        "{}",
        page.text()
    );

    // A room whose "outside sessions" is not one of the choices.
    coordinator.get("/admin/cafe").await;
    let page = coordinator
        .post_form(
            "/admin/cafe",
            &[
                ("name", "新しい部屋"),
                ("min_role", "member"),
                ("only_relation", ""),
                ("outside_sessions", "open"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains("開催時間外のようす"),
        "{}",
        page.text()
    );

    assert_eq!(app.scalar("SELECT COUNT(*) FROM cafe_sessions").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM cafe_series").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM cafe_rooms").await, 3);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'cafe_%'")
            .await,
        0
    );

    // A session edited, then its room archived: it leaves members' pages, and comes back.
    let page = schedule_one(&coordinator, room, &tomorrow, "19:00", "20:00", "こーでぃ").await;
    assert_eq!(page.status, 303, "{}", page.text());
    let session = app.scalar("SELECT id FROM cafe_sessions").await;
    let edit = coordinator
        .get(&format!("/admin/cafe/sessions/{session}"))
        .await;
    assert_eq!(
        edit.attr("input[name=start]", "value").as_deref(),
        Some("19:00")
    );
    assert_eq!(
        edit.attr("input[name=facilitator]", "value").as_deref(),
        Some("こーでぃ")
    );
    let refused = coordinator
        .post_form(
            &format!("/admin/cafe/sessions/{session}"),
            &[
                ("date", tomorrow.as_str()),
                ("start", "21:00"),
                ("end", "20:00"),
                ("facilitator", "こーでぃ"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    let saved = coordinator
        .post_form(
            &format!("/admin/cafe/sessions/{session}"),
            &[
                ("date", tomorrow.as_str()),
                ("start", "18:30"),
                ("end", "20:00"),
                ("theme", "眠れない夜のこと"),
                ("facilitator", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let page = coordinator.get("/cafe").await;
    assert!(page.text().contains("眠れない夜のこと"), "{}", page.text());
    assert!(page.text().contains("18:30〜20:00"), "{}", page.text());
    coordinator.get("/admin/cafe").await;
    let archived = coordinator
        .post_form(&format!("/admin/cafe/rooms/{room}/archive"), &[])
        .await;
    assert_eq!(archived.status, 303);
    assert!(
        !coordinator
            .get("/cafe")
            .await
            .text()
            .contains("眠れない夜のこと")
    );
    assert_eq!(
        coordinator
            .get(&format!("/cafe/sessions/{session}.ics"))
            .await
            .status,
        404
    );
    coordinator.get("/admin/cafe").await;
    coordinator
        .post_form(&format!("/admin/cafe/rooms/{room}/restore"), &[])
        .await;
    assert!(
        coordinator
            .get("/cafe")
            .await
            .text()
            .contains("眠れない夜のこと")
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'cafe_%'")
            .await,
        4,
        "scheduled, edited, archived, restored"
    );
    app.shutdown().await;
}
both_databases!(bad_schedules_get_clear_errors_and_change_nothing);
