//! Every route for every role, CSRF and Origin checks, headers, rate limits and unreadable input.

use crate::common::{Browser, Page, TestApp};
use crate::journeys::{PASSWORD, first_coordinator, invite, join, login};

const ROLES: [&str; 5] = ["visitor", "member", "expert", "moderator", "coordinator"];
const EMAILS: [&str; 5] = [
    "",
    "member@example.org",
    "expert@example.org",
    "moderator@example.org",
    "coord@example.org",
];

/// A browser for each role, each logged in (the visitor is not).
async fn browsers(app: &TestApp) -> Vec<Browser> {
    let coordinator = first_coordinator(app, "coord@example.org", "こーでぃ").await;
    let mut all = vec![app.client()];
    for (role, email, name) in [
        ("member", EMAILS[1], "めんばー"),
        ("expert", EMAILS[2], "せんもん"),
        ("moderator", EMAILS[3], "もでれーた"),
    ] {
        let link = invite(app, &coordinator, email, role, "supporter").await;
        all.push(join(app, &link, name).await);
    }
    all.push(coordinator);
    all
}

const BOGUS_TOKEN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

struct Route {
    method: &'static str,
    path: String,
    fields: Vec<(&'static str, String)>,
    /// Expected status for visitor, member, expert, moderator, coordinator.
    expect: [u16; 5],
}

fn get(path: &str, expect: [u16; 5]) -> Route {
    Route {
        method: "GET",
        path: path.to_owned(),
        fields: Vec::new(),
        expect,
    }
}

fn post(path: &str, fields: &[(&'static str, &'static str)], expect: [u16; 5]) -> Route {
    Route {
        method: "POST",
        path: path.to_owned(),
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        expect,
    }
}

/// A whole notification preferences form.
const PREFS: &[(&str, &str)] = &[
    ("reply", "now"),
    ("mention", "now"),
    ("answer", "now"),
    ("cafe", "now"),
    ("announcement", "now"),
    ("quiet_from", ""),
    ("quiet_until", ""),
];

fn table() -> Vec<Route> {
    const MEMBERS: [u16; 5] = [303, 200, 200, 200, 200];
    const COORDINATOR_ONLY: [u16; 5] = [303, 404, 404, 404, 200];
    vec![
        get("/", MEMBERS),
        get("/account", MEMBERS),
        get("/admin/invitations", COORDINATOR_ONLY),
        get("/admin/invitations?page=2", COORDINATOR_ONLY),
        get("/no/such/page", [303, 404, 404, 404, 404]),
        get("/login", [200, 303, 303, 303, 303]),
        get("/reset", [200; 5]),
        // What is stored and who sees it, before anyone joins.
        get("/privacy", [200; 5]),
        get("/account/profile", [303, 200, 200, 200, 200]),
        // Only ever the session's own profile.
        post(
            "/account/profile",
            &[("cancer", "のぞき見")],
            [303, 303, 303, 303, 303],
        ),
        get(&format!("/invite/{BOGUS_TOKEN}"), [410; 5]),
        get("/invite/not-a-token", [410; 5]),
        get(&format!("/reset/{BOGUS_TOKEN}"), [410; 5]),
        get(&format!("/account/email/confirm/{BOGUS_TOKEN}"), [410; 5]),
        get("/forums", MEMBERS),
        // One's own place in the café's presence lists; a visitor is sent to log in.
        post("/cafe/presence", &[("invisible", "1")], [303; 5]),
        get("/c/1", MEMBERS),
        get("/c/1/new", MEMBERS),
        get("/forums/new", MEMBERS),
        post(
            "/forums/new",
            &[("category", "999999"), ("title", "x"), ("body", "x")],
            [303, 422, 422, 422, 422],
        ),
        get("/c/999999", [303, 404, 404, 404, 404]),
        get("/t/999999", [303, 404, 404, 404, 404]),
        get("/p/999999", [303, 404, 404, 404, 404]),
        get("/p/999999/edit", [303, 404, 404, 404, 404]),
        get("/p/999999/history", [303, 404, 404, 404, 404]),
        get("/p/999999/delete", [303, 404, 404, 404, 404]),
        get(
            "/admin/invitations/999999/revoke",
            [303, 404, 404, 404, 404],
        ),
        get("/t/abc", [303, 400, 400, 400, 400]),
        post(
            "/c/1/new",
            &[("title", ""), ("body", "")],
            [303, 422, 422, 422, 422],
        ),
        post("/t/999999", &[("body", "x")], [303, 404, 404, 404, 404]),
        post(
            "/p/999999/edit",
            &[("body", "x")],
            [303, 404, 404, 404, 404],
        ),
        post("/p/999999/delete", &[], [303, 404, 404, 404, 404]),
        post(
            "/p/999999/react",
            &[("kind", "thanks")],
            [303, 404, 404, 404, 404],
        ),
        get("/p/999999/block", [303, 404, 404, 404, 404]),
        get("/mod/queue", [303, 404, 404, 200, 200]),
        get("/admin", [303, 404, 404, 200, 200]),
        get("/admin/members", [303, 404, 404, 200, 200]),
        get("/admin/settings", COORDINATOR_ONLY),
        get("/mod/members/999999", [303, 404, 404, 404, 404]),
        post(
            "/mod/members/999999/account/role",
            &[("role", "member")],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/mod/members/999999/account/relation",
            &[("relation", "family")],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/mod/members/999999/account/deactivate",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/mod/members/999999/account/reactivate",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post("/mod/members/999999/email", &[], [303, 404, 404, 404, 404]),
        get("/me/withheld", MEMBERS),
        get("/mod/posts/999999", [303, 404, 404, 404, 404]),
        post("/mod/posts/999999/approve", &[], [303, 404, 404, 404, 404]),
        post(
            "/mod/posts/999999/hide",
            &[("reason", "理由")],
            [303, 404, 404, 404, 404],
        ),
        post("/mod/posts/999999/restore", &[], [303, 404, 404, 404, 404]),
        post(
            "/mod/posts/999999/clear-flag",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/mod/alerts/999999/acknowledge",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post("/p/999999/block", &[], [303, 404, 404, 404, 404]),
        get("/account/blocks", MEMBERS),
        post(
            "/account/blocks/999999/unblock",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post("/t/999999/pin", &[], [303, 404, 404, 404, 404]),
        post("/t/999999/unpin", &[], [303, 404, 404, 404, 404]),
        post("/t/999999/close", &[], [303, 404, 404, 404, 404]),
        post("/t/999999/reopen", &[], [303, 404, 404, 404, 404]),
        post("/t/999999/follow", &[], [303, 404, 404, 404, 404]),
        post(
            "/c/999999/follow",
            &[("follow", "no")],
            [303, 404, 404, 404, 404],
        ),
        post("/account/notifications", PREFS, [303; 5]),
        post(
            "/account/notifications",
            &[("reply", "sometimes")],
            [303, 422, 422, 422, 422],
        ),
        get("/notifications", MEMBERS),
        get("/notifications?page=2", MEMBERS),
        get("/notifications?page=x", [303, 400, 400, 400, 400]),
        get("/notifications/999999", [303, 404, 404, 404, 404]),
        get("/notifications/abc", [303, 400, 400, 400, 400]),
        post("/notifications/read", &[], [303; 5]),
        get("/unsubscribe/1/kreply/00", [404; 5]),
        get("/unsubscribe/1/kreply-kreply/00", [404; 5]),
        post("/unsubscribe/1/kreply/00/settings", PREFS, [404; 5]),
        get("/unsubscribe/1/t1/00", [404; 5]),
        get("/unsubscribe/1/x1/00", [404; 5]),
        get("/unsubscribe/1/all/00", [404; 5]),
        post(
            "/unsubscribe/1/t1/00",
            &[("List-Unsubscribe", "One-Click")],
            [404; 5],
        ),
        post("/unsubscribe/1/t1/00", &[], [400; 5]),
        get("/members/suggest?q=め", MEMBERS),
        get("/admin/announcements", COORDINATOR_ONLY),
        post(
            "/admin/announcements",
            &[("title", "")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/announcements/999999/archive",
            &[],
            [303, 404, 404, 404, 404],
        ),
        get("/support", MEMBERS),
        get("/mod/words", [303, 404, 404, 200, 200]),
        post("/mod/words", &[("word", "")], [303, 404, 404, 422, 422]),
        post("/mod/words/999999/delete", &[], [303, 404, 404, 404, 404]),
        get("/mod/reports", [303, 404, 404, 200, 200]),
        post(
            "/mod/posts/999999/reports/resolve",
            &[("resolution", "dismissed"), ("note", "x")],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/mod/posts/999999/notes",
            &[("body", "x")],
            [303, 404, 404, 404, 404],
        ),
        get("/p/999999/report", [303, 404, 404, 404, 404]),
        post(
            "/p/999999/report",
            &[("reason", "harassment")],
            [303, 404, 404, 404, 404],
        ),
        get("/admin/crisis-words", COORDINATOR_ONLY),
        post(
            "/admin/crisis-words",
            &[("word", "")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/crisis-words/999999/delete",
            &[],
            [303, 404, 404, 404, 404],
        ),
        // Equivalent search terms and the progress of the re-normalizing a change queues;
        // group 1 is a seeded one.
        get("/admin/search-terms", COORDINATOR_ONLY),
        post(
            "/admin/search-terms",
            &[("terms", "")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/search-terms/999999/delete",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/admin/search-terms/1/delete",
            &[],
            [303, 404, 404, 404, 303],
        ),
        get("/admin/support", COORDINATOR_ONLY),
        // The funders' statistics: no ids (no list of people), only a range of months.
        get("/admin/stats", COORDINATOR_ONLY),
        get("/admin/stats?from=2026-04&to=2027-03", COORDINATOR_ONLY),
        get("/admin/stats?from=2026-13&to=x", [303, 404, 404, 404, 422]),
        get("/admin/stats.csv?from=2026-04&to=2027-03", COORDINATOR_ONLY),
        get("/admin/stats.csv", COORDINATOR_ONLY),
        get(
            "/admin/stats.csv?from=2027-03&to=2026-04",
            [303, 404, 404, 404, 422],
        ),
        post("/admin/support", &[("body", "")], [303, 404, 404, 404, 422]),
        get("/admin/categories", COORDINATOR_ONLY),
        get("/admin/categories/1", COORDINATOR_ONLY),
        get("/admin/categories/999999", [303, 404, 404, 404, 404]),
        post(
            "/admin/categories",
            &[("name", ""), ("min_role", "member")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/categories/1",
            &[("name", ""), ("min_role", "member")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/categories/999999",
            &[("name", "x"), ("min_role", "member")],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/admin/categories/999999/up",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/admin/categories/999999/down",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/admin/categories/999999/archive",
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            "/admin/categories/999999/restore",
            &[],
            [303, 404, 404, 404, 404],
        ),
        get("/u/1", MEMBERS),
        get("/u/999999", [303, 404, 404, 404, 404]),
        post(
            "/drafts",
            &[("place", "topic:999999"), ("body", "x")],
            [303, 404, 404, 404, 404],
        ),
        get("/healthz", [200; 5]),
        get("/static/site.css", [200; 5]),
        get("/static/missing.css", [404; 5]),
        post(
            "/account/name",
            &[("display_name", "")],
            [303, 422, 422, 422, 422],
        ),
        post(
            "/account/password",
            &[("current_password", "x")],
            [303, 422, 422, 422, 422],
        ),
        post(
            "/account/email",
            &[("new_email", "bad")],
            [303, 422, 422, 422, 422],
        ),
        post(
            "/admin/invitations",
            &[("emails", "")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/invitations/1/revoke",
            &[],
            [303, 404, 404, 404, 403],
        ),
        post(
            "/admin/invitations/1/resend",
            &[],
            [303, 404, 404, 404, 403],
        ),
        post("/preferences", &[("text_size", "large")], [303; 5]),
        post("/reset", &[("email", "bad")], [422; 5]),
        post(&format!("/reset/{BOGUS_TOKEN}"), &[], [410; 5]),
        post(&format!("/invite/{BOGUS_TOKEN}"), &[], [410; 5]),
        post(
            &format!("/account/email/confirm/{BOGUS_TOKEN}"),
            &[],
            [410; 5],
        ),
        // Exporting one's own data: the page, a request, and links that are nobody's.
        get("/account/export", MEMBERS),
        post("/account/export", &[], [303; 5]),
        get(
            &format!("/account/export/{BOGUS_TOKEN}"),
            [303, 404, 404, 404, 404],
        ),
        post(
            &format!("/account/export/{BOGUS_TOKEN}"),
            &[],
            [303, 404, 404, 404, 404],
        ),
        // Leaving acts only on the session's own account; a wrong password changes nothing.
        get("/account/delete", MEMBERS),
        get("/account/delete/confirm?content=keep", MEMBERS),
        get(
            "/account/delete/confirm?content=maybe",
            [303, 422, 422, 422, 422],
        ),
        get("/goodbye", [200; 5]),
        post(
            "/account/delete",
            &[("content", "keep"), ("password", "wrong password")],
            [303, 422, 422, 422, 422],
        ),
        post("/logout", &[], [303; 5]),
    ]
}

/// The café's schedule, on real sessions: one in the room open to everyone, one in the family
/// room (the seeded rooms 1 and 2; every browser but the staff's is a supporter).
async fn cafe_routes(app: &TestApp) -> Vec<Route> {
    const MEMBERS: [u16; 5] = [303, 200, 200, 200, 200];
    const COORDINATOR_ONLY: [u16; 5] = [303, 404, 404, 404, 200];
    const NOBODY: [u16; 5] = [303, 404, 404, 404, 404];
    let soon = hidamari::db::now() + 86_400;
    let mut ids = Vec::new();
    for room in [1, 2] {
        app.execute(&format!(
            "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, theme, created_at) \
             VALUES ({room}, {soon}, {}, 'テーマ', 0)",
            soon + 3600
        ))
        .await;
        ids.push(
            app.scalar(&format!(
                "SELECT MAX(id) FROM cafe_sessions WHERE room_id = {room}"
            ))
            .await,
        );
    }
    let (open, family) = (ids[0], ids[1]);
    let remind = [("remind", "on")];
    vec![
        get("/cafe", MEMBERS),
        get(&format!("/cafe/sessions/{open}.ics"), MEMBERS),
        get(
            &format!("/cafe/sessions/{family}.ics"),
            [303, 404, 404, 200, 200],
        ),
        get("/cafe/sessions/999999.ics", NOBODY),
        get(&format!("/cafe/sessions/{open}"), NOBODY),
        post(&format!("/cafe/sessions/{open}/remind"), &remind, [303; 5]),
        post(
            &format!("/cafe/sessions/{family}/remind"),
            &remind,
            [303, 404, 404, 303, 303],
        ),
        post("/cafe/sessions/999999/remind", &remind, NOBODY),
        get("/admin/cafe", COORDINATOR_ONLY),
        post(
            "/admin/cafe",
            &[("name", ""), ("min_role", "member")],
            [303, 404, 404, 404, 422],
        ),
        get("/admin/cafe/rooms/2", COORDINATOR_ONLY),
        get("/admin/cafe/rooms/999999", NOBODY),
        post(
            "/admin/cafe/rooms/2",
            &[("name", ""), ("min_role", "member")],
            [303, 404, 404, 404, 422],
        ),
        post(
            "/admin/cafe/rooms/999999",
            &[
                ("name", "x"),
                ("min_role", "member"),
                ("outside_sessions", "closed"),
            ],
            NOBODY,
        ),
        post("/admin/cafe/rooms/999999/up", &[], NOBODY),
        post("/admin/cafe/rooms/999999/down", &[], NOBODY),
        post("/admin/cafe/rooms/999999/archive", &[], NOBODY),
        post("/admin/cafe/rooms/999999/restore", &[], NOBODY),
        get("/admin/cafe/rooms/2/sessions", COORDINATOR_ONLY),
        get("/admin/cafe/rooms/999999/sessions", NOBODY),
        post(
            "/admin/cafe/rooms/2/sessions",
            &[("date", "")],
            [303, 404, 404, 404, 422],
        ),
        post("/admin/cafe/rooms/999999/sessions", &[("date", "")], NOBODY),
        post(
            "/admin/cafe/rooms/2/series",
            &[("first", "")],
            [303, 404, 404, 404, 422],
        ),
        post("/admin/cafe/rooms/999999/series", &[("first", "")], NOBODY),
        get(&format!("/admin/cafe/sessions/{family}"), COORDINATOR_ONLY),
        get("/admin/cafe/sessions/999999", NOBODY),
        post(
            &format!("/admin/cafe/sessions/{family}"),
            &[("date", "")],
            [303, 404, 404, 404, 422],
        ),
        get(
            &format!("/admin/cafe/sessions/{family}/cancel"),
            COORDINATOR_ONLY,
        ),
        get(
            &format!("/admin/cafe/sessions/{family}/cancel-series"),
            NOBODY,
        ),
        post("/admin/cafe/sessions/999999/cancel", &[], NOBODY),
        post("/admin/cafe/sessions/999999/cancel-series", &[], NOBODY),
        post(
            &format!("/admin/cafe/sessions/{family}/cancel-series"),
            &[],
            NOBODY,
        ),
    ]
}

/// Expert Q&A slots and profiles, on real ids: a slot of the matrix's expert (せんもん), and a
/// slot and profile of another expert, whom only a coordinator may touch. The other expert's
/// slot is cancelled last (by the coordinator), so the routes before it see it open.
async fn qa_routes(app: &TestApp, coordinator: &Browser) -> Vec<Route> {
    const MEMBERS: [u16; 5] = [303, 200, 200, 200, 200];
    const COORDINATOR_ONLY: [u16; 5] = [303, 404, 404, 404, 200];
    const HOLDERS: [u16; 5] = [303, 404, 200, 404, 200];
    const NOBODY: [u16; 5] = [303, 404, 404, 404, 404];
    let link = invite(app, coordinator, "fp@example.org", "expert", "supporter").await;
    join(app, &link, "べつのせんもん").await;
    let id = |email: &str| {
        let sql = format!("SELECT id FROM users WHERE email = '{email}'");
        async move { app.scalar(&sql).await }
    };
    let (own_expert, other_expert, member) = (
        id(EMAILS[2]).await,
        id("fp@example.org").await,
        id(EMAILS[1]).await,
    );
    app.execute(&format!(
        "INSERT INTO expert_profiles (user_id, qualification, updated_at) \
         VALUES ({other_expert}, 'ファイナンシャルプランナー', 0)"
    ))
    .await;
    let soon = hidamari::db::now() + 86_400;
    let mut slots = Vec::new();
    for expert in [own_expert, other_expert] {
        app.execute(&format!(
            "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
             created_at) VALUES ({expert}, 'テーマ', {soon}, {}, {}, 5, 0)",
            soon + 3600,
            soon - 3600
        ))
        .await;
        slots.push(app.scalar("SELECT MAX(id) FROM qa_slots").await);
    }
    let (own, other) = (slots[0], slots[1]);
    let bad_slot = [("theme", "")];
    vec![
        get("/qa", MEMBERS),
        get("/qa/profile", [303, 404, 200, 404, 404]),
        post(
            "/qa/profile",
            &[("qualification", "")],
            [303, 404, 422, 404, 404],
        ),
        get("/admin/experts", COORDINATOR_ONLY),
        get(&format!("/admin/experts/{other_expert}"), COORDINATOR_ONLY),
        get(&format!("/admin/experts/{member}"), NOBODY),
        get("/admin/experts/999999", NOBODY),
        post(
            &format!("/admin/experts/{other_expert}"),
            &[("qualification", "")],
            [303, 404, 404, 404, 422],
        ),
        post(
            &format!("/admin/experts/{member}"),
            &[("qualification", "弁護士")],
            NOBODY,
        ),
        get("/qa/slots/new", HOLDERS),
        post("/qa/slots/new", &bad_slot, [303, 404, 422, 404, 422]),
        get(&format!("/qa/slots/{own}/edit"), HOLDERS),
        get(
            &format!("/qa/slots/{other}/edit"),
            [303, 404, 403, 404, 200],
        ),
        get("/qa/slots/999999/edit", NOBODY),
        post(
            &format!("/qa/slots/{own}/edit"),
            &bad_slot,
            [303, 404, 422, 404, 422],
        ),
        post(
            &format!("/qa/slots/{other}/edit"),
            &bad_slot,
            [303, 404, 403, 404, 422],
        ),
        post("/qa/slots/999999/edit", &bad_slot, NOBODY),
        get(&format!("/qa/slots/{own}/cancel"), HOLDERS),
        get(
            &format!("/qa/slots/{other}/cancel"),
            [303, 404, 403, 404, 200],
        ),
        get("/qa/slots/999999/cancel", NOBODY),
        post("/qa/slots/999999/cancel", &[], NOBODY),
        post(
            &format!("/qa/slots/{other}/cancel"),
            &[],
            [303, 404, 403, 404, 303],
        ),
    ]
}

async fn request(browser: &Browser, route: &Route) -> Page {
    match route.method {
        "GET" => browser.get(&route.path).await,
        _ => {
            // A fresh token from a page that has the form, as a browser would have.
            browser.get("/reset").await;
            let fields: Vec<(&str, &str)> =
                route.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post_form(&route.path, &fields).await
        }
    }
}

async fn every_route_for_every_role(app: TestApp) {
    let browsers = browsers(&app).await;
    let cafe = cafe_routes(&app).await;
    let qa = qa_routes(&app, &browsers[4]).await;
    for route in table().into_iter().chain(cafe).chain(qa) {
        for (index, browser) in browsers.iter().enumerate() {
            if route.path == "/logout" {
                continue; // checked last, since it ends the session
            }
            let page = request(browser, &route).await;
            let role = ROLES[index];
            assert_eq!(
                page.status.as_u16(),
                route.expect[index],
                "{} {} as {role}: {}",
                route.method,
                route.path,
                page.text()
            );
            if page.status == 303
                && index == 0
                && route.path != "/preferences"
                && route.path != "/logout"
            {
                let to_login = page.redirect_path();
                assert!(
                    to_login == "/login" || to_login.starts_with("/login?next=%2F"),
                    "visitors are sent to the login page: {to_login}"
                );
                assert!(
                    page.body.is_empty() || !page.body.contains("@"),
                    "nothing behind the redirect"
                );
            }
            // No page shows another member's address, except the coordinator's invitation list.
            let coordinator_list = index == 4 && route.path.starts_with("/admin/invitations");
            for (other, email) in EMAILS.iter().enumerate() {
                if other != index && !email.is_empty() && !coordinator_list {
                    assert!(
                        !page.body.contains(email),
                        "{} {} as {role} shows {email}",
                        route.method,
                        route.path
                    );
                }
            }
        }
    }
    // What was refused changed nothing: the slots keep their theme, only the coordinator
    // cancelled the other expert's, and the profiles are as they were.
    for check in [
        "SELECT COUNT(*) = 2 FROM qa_slots WHERE theme = 'テーマ'",
        "SELECT COUNT(*) = 1 FROM qa_slots WHERE cancelled_at IS NOT NULL",
        "SELECT COUNT(*) = 1 FROM expert_profiles WHERE qualification = 'ファイナンシャルプランナー'",
        "SELECT COUNT(*) = 0 FROM audit_log WHERE action IN ('qa_slot.created', 'qa_slot.edited', 'expert_profile.edited')",
    ] {
        assert_eq!(app.scalar(check).await, 1, "{check}");
    }
    for browser in &browsers {
        browser.get("/reset").await;
        let out = browser.post_form("/logout", &[]).await;
        assert_eq!(out.status, 303);
        assert!(!crate::journeys::is_logged_in(browser).await);
    }
    app.shutdown().await;
}
both_databases!(every_route_for_every_role);

async fn forged_and_stale_forms_change_nothing(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    coordinator.get("/admin/invitations").await;
    let fields = [
        ("emails", "forged@example.org"),
        ("role", "coordinator"),
        ("relation", "supporter"),
        ("locale", "ja"),
    ];

    // No token.
    let page = coordinator
        .post_form(
            "/admin/invitations",
            &[("csrf", ""), fields[0], fields[1], fields[2], fields[3]],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(
        page.text().contains("何も変更されていません"),
        "{}",
        page.text()
    );
    // A token from another session.
    let other = app.client();
    other.get("/login").await;
    let foreign = other.csrf().expect("token");
    let page = coordinator
        .post_form(
            "/admin/invitations",
            &[
                ("csrf", &foreign),
                fields[0],
                fields[1],
                fields[2],
                fields[3],
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    // The right token, from another site.
    let token = coordinator.csrf().expect("token");
    let body = format!(
        "csrf={token}&emails=forged%40example.org&role=coordinator&relation=supporter&locale=ja"
    );
    let cross = coordinator
        .post_raw(
            "/admin/invitations",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "https://evil.example.com"),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(cross.status, 403);
    // No Origin and no Referer at all.
    let bare = coordinator
        .post_raw(
            "/admin/invitations",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await;
    assert_eq!(bare.status, 403);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitations WHERE email = 'forged@example.org'")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM outbox WHERE recipient = 'forged@example.org'")
            .await,
        0
    );

    // Login is protected too (login CSRF).
    let visitor = app.client();
    visitor.get("/login").await;
    let login_forged = visitor
        .post_form(
            "/login",
            &[
                ("csrf", "nope"),
                ("email", "coord@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(login_forged.status, 403);
    assert!(!crate::journeys::is_logged_in(&visitor).await);
    app.shutdown().await;
}
both_databases!(forged_and_stale_forms_change_nothing);

async fn headers_forbid_framing_sniffing_and_third_parties(app: TestApp) {
    let visitor = app.client();
    for path in [
        "/login",
        "/healthz",
        "/static/site.css",
        "/",
        "/no/such/page",
    ] {
        let page = visitor.get(path).await;
        let csp = page
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("http"), "no third-party source: {csp}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            page.header("referrer-policy"),
            Some("same-origin"),
            "{path}"
        );
    }
    let login = visitor.get("/login").await;
    for attribute in ["src", "href", "action"] {
        for value in login.attrs(&format!("[{attribute}]"), attribute) {
            assert!(
                value.starts_with('/') || value.starts_with('#'),
                "only this site is referenced: {value}"
            );
        }
    }
    assert!(
        !login.body.contains("<script>") && !login.body.contains(" style=\""),
        "no inline script or style"
    );
    let first_visit = app.client().get("/login").await;
    let cookie = first_visit.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    app.shutdown().await;
}
both_databases!(headers_forbid_framing_sniffing_and_third_parties);

async fn login_is_rate_limited_per_address(app: TestApp) {
    first_coordinator(&app, "coord@example.org", "ひまわり").await;
    let browser = app.client();
    let mut limited = None;
    for attempt in 0..15 {
        browser.get("/login").await;
        let page = browser
            .post_form(
                "/login",
                &[
                    ("email", "coord@example.org"),
                    ("password", "まちがったパスワードです"),
                ],
            )
            .await;
        if page.status == 429 {
            limited = Some((attempt, page));
            break;
        }
        assert_eq!(page.status, 422);
    }
    let (attempt, page) = limited.expect("the address is limited within 15 attempts");
    assert!(
        attempt >= 5,
        "a few mistakes are allowed: limited at {attempt}"
    );
    assert!(page.text().contains("数分おいてから"), "{}", page.text());
    // While limited, even the right password is refused from this client, and says so the same
    // way (another client is only slowed down: see login::a_hostile_client_cannot_lock_a_member_out).
    let (_, right) = login(&app, "coord@example.org", PASSWORD).await;
    assert_eq!(right.status, 429);
    // Another address is not affected by this one's limit.
    let (_, other) = login(&app, "someone@example.org", PASSWORD).await;
    assert_eq!(other.status, 422);
    app.shutdown().await;
}
both_databases!(login_is_rate_limited_per_address);

async fn unreadable_input_gets_a_page_in_the_readers_language(app: TestApp) {
    let coordinator = first_coordinator(&app, "coord@example.org", "ひまわり").await;
    coordinator.get("/account").await;
    let token = coordinator.csrf().expect("token");
    let origin = app.base_url();
    // Invalid UTF-8 in a percent-encoded field.
    let body = format!("csrf={token}&display_name=%FF%FE%FD");
    let page = coordinator
        .post_raw(
            "/account/name",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", &origin),
            ],
            body,
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.text().contains("内容を読み取れませんでした"),
        "{}",
        page.text()
    );
    // A JSON body where a form is expected.
    let page = coordinator
        .post_raw(
            "/account/name",
            &[("content-type", "application/json"), ("origin", &origin)],
            "{}",
        )
        .await;
    assert_eq!(page.status, 400);
    // The same kind of page in English for a reader who chose English.
    coordinator.get("/").await;
    coordinator
        .post_form("/preferences", &[("locale", "en")])
        .await;
    let missing = coordinator.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().contains("Page not found"),
        "{}",
        missing.text()
    );
    // A body over the limit (last: the server closes a connection whose body it refused to read).
    let huge = format!("csrf={token}&display_name={}", "a".repeat(2 * 1024 * 1024));
    let page = coordinator
        .post_raw(
            "/account/name",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", &origin),
            ],
            huge,
        )
        .await;
    assert!(page.status.is_client_error(), "{}", page.status);
    let name = app
        .scalar("SELECT COUNT(*) FROM users WHERE display_name = 'ひまわり'")
        .await;
    assert_eq!(name, 1, "nothing changed");

    app.shutdown().await;
}
both_databases!(unreadable_input_gets_a_page_in_the_readers_language);

/// What other members wrote and staff made, for the matrix below: real ids, not unknown ones.
struct Others {
    hana: i64,
    topic: i64,
    first_post: i64,
    reply: i64,
    family_topic: i64,
    family_post: i64,
    staff_category: i64,
    /// As a form field.
    family_category: String,
    invitation: i64,
    announcement: i64,
    /// Hana's notice of that announcement.
    hana_notice: i64,
    /// みんなのカフェ, in session, with a message by hana; and the family café.
    cafe_room: i64,
    cafe_message: i64,
    family_cafe: i64,
    /// Another expert's slot, on now, with hana's answered (shared) and waiting questions.
    qa_slot: i64,
    qa_answered: i64,
    qa_waiting: i64,
    qa_answer: i64,
    /// Hana's mailed link to the export of her data, as a path.
    hana_export: String,
}

async fn others_content(app: &TestApp, coordinator: &Browser) -> Others {
    use crate::journeys::{category_id, reply, start_topic};
    let link = invite(app, coordinator, "hana@example.org", "member", "patient").await;
    let hana = join(app, &link, "はな").await;
    let link = invite(app, coordinator, "kazoku@example.org", "member", "family").await;
    let family = join(app, &link, "かぞく").await;
    let work = category_id(app, "仕事とお金").await;
    let topic = start_topic(&hana, work, "通院の日の休み方", "半休を使っています").await;
    reply(&hana, &topic, "時間休もあります").await;
    let family_room = category_id(app, "家族の部屋").await;
    start_topic(&family, family_room, "家族として", "支え方に迷っています").await;
    coordinator.get("/admin/invitations").await;
    let page = crate::journeys::send_invitations(
        coordinator,
        "pending@example.org",
        "member",
        "patient",
        "ja",
    )
    .await;
    assert_eq!(page.status, 200);
    coordinator.get("/admin/announcements").await;
    let page = coordinator
        .post_form(
            "/admin/announcements",
            &[("title", "お知らせ"), ("body", "今月のカフェ")],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.text());
    let cafe_room = app
        .scalar("SELECT id FROM cafe_rooms WHERE name = 'みんなのカフェ'")
        .await;
    app.execute(&format!(
        "INSERT INTO cafe_sessions (room_id, starts_at, ends_at, created_at) \
         VALUES ({cafe_room}, 0, 4000000000, 0)"
    ))
    .await;
    hana.get(&format!("/cafe/{cafe_room}")).await;
    let sent = hana
        .post_form(
            &format!("/cafe/{cafe_room}/messages"),
            &[("body", "カフェでこんにちは")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let link = invite(
        app,
        coordinator,
        "sensei@example.org",
        "expert",
        "supporter",
    )
    .await;
    join(app, &link, "せんせい").await;
    let qa_slot = app
        .scalar(
            "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
             created_at) SELECT id, '休職の相談', 0, 4000000000, 3900000000, 5, 0 FROM users \
             WHERE email = 'sensei@example.org' RETURNING id",
        )
        .await;
    let question = |status: &str, body: &str| {
        format!(
            "INSERT INTO qa_questions (slot_id, asker_id, body, shared, anonymous, status, \
             created_at) SELECT {qa_slot}, id, '{body}', 1, 1, '{status}', 0 FROM users \
             WHERE email = 'hana@example.org' RETURNING id"
        )
    };
    let qa_answered = app.scalar(&question("accepted", "答えのある質問")).await;
    let qa_waiting = app.scalar(&question("pending", "待っている質問")).await;
    let qa_answer = app
        .scalar(&format!(
            "INSERT INTO qa_answers (question_id, slot_id, expert_id, body_markdown, body_html, \
             status, seq, published_at, updated_at) SELECT {qa_answered}, {qa_slot}, id, \
             '回答です', '<p>回答です</p>', 'published', 1, 0, 0 FROM users \
             WHERE email = 'sensei@example.org' RETURNING id"
        ))
        .await;
    hana.get("/account/export").await;
    let asked = hana.post_form("/account/export", &[]).await;
    assert_eq!(asked.status, 303, "{}", asked.text());
    let export_prefix = app.url("/account/export/");
    let hana_export = app
        .mail
        .wait_for(
            |m| m.is_to("hana@example.org") && !m.links(&export_prefix).is_empty(),
            std::time::Duration::from_secs(30),
        )
        .await
        .link(&export_prefix)
        .trim_start_matches(&app.base_url())
        .to_owned();
    let id = |sql: &'static str| async move { app.scalar(sql).await };
    let hana_notice = app
        .scalar(
            "SELECT n.id FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE u.email = 'hana@example.org' AND n.kind = 'announcement'",
        )
        .await;
    Others {
        hana_export,
        hana_notice,
        qa_slot,
        qa_answered,
        qa_waiting,
        qa_answer,
        cafe_room,
        cafe_message: id("SELECT MAX(id) FROM cafe_messages").await,
        family_cafe: id("SELECT id FROM cafe_rooms WHERE name = '家族のカフェ'").await,
        hana: id("SELECT id FROM users WHERE email = 'hana@example.org'").await,
        topic: id("SELECT id FROM topics WHERE title = '通院の日の休み方'").await,
        first_post: id(
            "SELECT MIN(p.id) FROM posts p JOIN topics t ON t.id = p.topic_id \
                   WHERE t.title = '通院の日の休み方'",
        )
        .await,
        reply: id(
            "SELECT MAX(p.id) FROM posts p JOIN topics t ON t.id = p.topic_id \
                   WHERE t.title = '通院の日の休み方'",
        )
        .await,
        family_topic: id("SELECT id FROM topics WHERE title = '家族として'").await,
        family_post: id(
            "SELECT MIN(p.id) FROM posts p JOIN topics t ON t.id = p.topic_id \
                         WHERE t.title = '家族として'",
        )
        .await,
        staff_category: id("SELECT id FROM categories WHERE name = '専門家とスタッフ'").await,
        family_category: family_room.to_string(),
        invitation: id("SELECT id FROM invitations WHERE email = 'pending@example.org'").await,
        announcement: id("SELECT MAX(id) FROM announcements").await,
    }
}

/// Not asked of this role: the request would change what the next checks rely on (a moderator
/// deleting hana's reply, say), and the staff's own paths have their own stories.
const SKIP: u16 = 0;

fn others_table(o: &Others) -> Vec<Route> {
    const MEMBERS: [u16; 5] = [303, 200, 200, 200, 200];
    const STAFF_ONLY: [u16; 5] = [303, 404, 404, 200, 200];
    const NOT_THEIRS: [u16; 5] = [303, 403, 403, 403, 403];
    const COORDINATOR_ACTS: [u16; 5] = [303, 404, 404, 404, SKIP];
    const STAFF_ACTS: [u16; 5] = [303, 404, 404, SKIP, SKIP];
    let (topic, reply, family_topic, family_post) =
        (o.topic, o.reply, o.family_topic, o.family_post);
    vec![
        get(&format!("/t/{topic}"), MEMBERS),
        get(&format!("/p/{reply}"), [303, 303, 303, 303, 303]),
        get(&format!("/u/{}", o.hana), MEMBERS),
        // Hana's notifications are hers alone, and her mail settings are changed by her links.
        get(
            &format!("/notifications/{}", o.hana_notice),
            [303, 404, 404, 404, 404],
        ),
        post(
            &format!("/unsubscribe/{}/kreply/00/settings", o.hana),
            PREFS,
            [404; 5],
        ),
        post(
            &format!("/unsubscribe/{}/kannouncement/00", o.hana),
            &[("List-Unsubscribe", "One-Click")],
            [404; 5],
        ),
        // Staff edit a member's text, with a note on the post that a moderator did.
        get(&format!("/p/{reply}/edit"), [303, 403, 403, 200, 200]),
        get(
            &format!("/p/{}/edit", o.first_post),
            [303, 403, 403, 200, 200],
        ),
        post(
            &format!("/p/{}/edit", o.first_post),
            &[("title", "書き換えた題"), ("body", "書き換えました")],
            [303, 403, 403, SKIP, SKIP],
        ),
        post(
            &format!("/p/{reply}/edit"),
            &[("body", "書き換えました")],
            [303, 403, 403, SKIP, SKIP],
        ),
        get(&format!("/p/{reply}/delete"), NOT_THEIRS),
        post(&format!("/p/{reply}/delete"), &[], NOT_THEIRS),
        get(
            &format!("/p/{family_post}/delete"),
            [303, 404, 404, 403, 403],
        ),
        get(&format!("/p/{reply}/history"), [303, 404, 404, 200, 200]),
        // Moderation acts on real posts of others: members and experts do not learn it exists.
        get(&format!("/mod/posts/{reply}"), [303, 404, 404, 200, 200]),
        get(
            &format!("/mod/posts/{family_post}"),
            [303, 404, 404, 200, 200],
        ),
        post(
            &format!("/mod/posts/{reply}/hide"),
            &[("reason", "のぞき")],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(
            &format!("/mod/posts/{reply}/approve"),
            &[],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(
            &format!("/mod/posts/{reply}/restore"),
            &[],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(
            &format!("/mod/posts/{reply}/clear-flag"),
            &[],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(&format!("/t/{topic}/pin"), &[], [303, 404, 404, SKIP, SKIP]),
        post(
            &format!("/t/{topic}/close"),
            &[],
            [303, 404, 404, SKIP, SKIP],
        ),
        // Family only: members who are not family, and experts, do not learn it exists.
        get(&format!("/t/{family_topic}"), STAFF_ONLY),
        get(&format!("/p/{family_post}"), [303, 404, 404, 303, 303]),
        // Staff may change the title of a topic they can see, with its first post.
        get(&format!("/p/{family_post}/edit"), [303, 404, 404, 200, 200]),
        post(
            &format!("/t/{family_topic}"),
            &[("body", "のぞきました"), ("action", "post")],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(
            &format!("/p/{family_post}/react"),
            &[("kind", "thanks")],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(
            &format!("/t/{family_topic}/follow"),
            &[("follow", "yes")],
            [303, 404, 404, SKIP, SKIP],
        ),
        // Anyone who can see someone else's post can report it; bad input stores nothing.
        get(&format!("/p/{reply}/report"), MEMBERS),
        post(
            &format!("/p/{reply}/report"),
            &[("reason", "other"), ("note", "")],
            [303, 422, 422, 422, 422],
        ),
        get(&format!("/p/{family_post}/report"), STAFF_ONLY),
        post(
            &format!("/p/{family_post}/report"),
            &[("reason", "harassment")],
            [303, 404, 404, SKIP, SKIP],
        ),
        // The post's moderation page, its notes and its reports are for staff only.
        get(&format!("/mod/posts/{reply}"), STAFF_ONLY),
        post(
            &format!("/mod/posts/{reply}/notes"),
            &[("body", "のぞき")],
            [303, 404, 404, SKIP, SKIP],
        ),
        post(
            &format!("/mod/posts/{reply}/notes"),
            &[("body", "")],
            [303, 404, 404, 422, 422],
        ),
        post(
            &format!("/mod/posts/{reply}/reports/resolve"),
            &[("resolution", "hidden"), ("note", "のぞき")],
            [303, 404, 404, SKIP, SKIP],
        ),
        get(
            &format!("/c/{}", o.staff_category),
            [303, 404, 200, 200, 200],
        ),
        // Hana's export link works only in her session: for everyone else it is unknown.
        get(&o.hana_export, [303, 404, 404, 404, 404]),
        post(&o.hana_export, &[], [303, 404, 404, 404, 404]),
        // Deleting an account names no account: another member's id in the form is ignored,
        // and (with a wrong password) nothing is deleted.
        Route {
            method: "POST",
            path: "/account/delete".to_owned(),
            fields: vec![
                ("content", "delete".to_owned()),
                ("password", "not hana's password".to_owned()),
                ("user_id", o.hana.to_string()),
                ("id", o.hana.to_string()),
            ],
            expect: [303, 422, 422, 422, 422],
        },
        // Starting a topic from the index in a category one may not see makes nothing.
        Route {
            method: "POST",
            path: "/forums/new".to_owned(),
            fields: vec![
                ("category", o.family_category.clone()),
                ("title", "のぞき見".to_owned()),
                ("body", "入れないはず".to_owned()),
                ("action", "post".to_owned()),
            ],
            expect: [303, 422, 422, SKIP, SKIP],
        },
        get(
            &format!("/admin/invitations/{}/revoke", o.invitation),
            [303, 404, 404, 404, 200],
        ),
        post(
            &format!("/admin/invitations/{}/revoke", o.invitation),
            &[],
            COORDINATOR_ACTS,
        ),
        post(
            &format!("/admin/invitations/{}/resend", o.invitation),
            &[],
            COORDINATOR_ACTS,
        ),
        post(
            &format!("/admin/announcements/{}/archive", o.announcement),
            &[],
            COORDINATOR_ACTS,
        ),
        post("/admin/categories/1/archive", &[], COORDINATOR_ACTS),
        // A member's staff page and the log: staff only; the actions are the staff's own
        // stories (tests/it/moderation_members.rs), but nobody else may send them.
        get("/mod/log", STAFF_ONLY),
        get(&format!("/mod/log?member={}", o.hana), STAFF_ONLY),
        get(&format!("/mod/members/{}", o.hana), STAFF_ONLY),
        post(
            &format!("/mod/members/{}/silence", o.hana),
            &[("length", "1w"), ("reason", "のぞき見")],
            STAFF_ACTS,
        ),
        post(
            &format!("/mod/members/{}/suspend", o.hana),
            &[("length", "1w"), ("reason", "のぞき見")],
            STAFF_ACTS,
        ),
        post(
            &format!("/mod/members/{}/notes", o.hana),
            &[("body", "のぞき見")],
            STAFF_ACTS,
        ),
        // The café: every room member reads; only those who keep the room act on others.
        get(&format!("/cafe/{}", o.cafe_room), MEMBERS),
        get(
            &format!("/cafe/{}", o.family_cafe),
            [303, 404, 404, 200, 200],
        ),
        // A plain GET is no WebSocket handshake (the café stories make real ones).
        get(
            &format!("/cafe/{}/live", o.cafe_room),
            [303, 400, 400, 400, 400],
        ),
        get(
            &format!("/cafe/{}/live", o.family_cafe),
            [303, 400, 400, 400, 400],
        ),
        post(
            &format!("/cafe/{}/messages/{}/remove", o.cafe_room, o.cafe_message),
            &[("reason", "のぞき")],
            [303, 403, 403, SKIP, SKIP],
        ),
        post(
            &format!("/cafe/{}/messages/{}/approve", o.cafe_room, o.cafe_message),
            &[],
            [303, 403, 403, SKIP, SKIP],
        ),
        post(
            &format!("/cafe/{}/messages/{}/remove", o.family_cafe, o.cafe_message),
            &[("reason", "のぞき")],
            [303, 404, 404, 404, 404],
        ),
        post(
            &format!("/cafe/{}/members/{}/mute", o.cafe_room, o.hana),
            &[],
            [303, 403, 403, SKIP, SKIP],
        ),
        post(
            &format!("/cafe/{}/slow", o.cafe_room),
            &[("seconds", "30")],
            [303, 403, 403, SKIP, SKIP],
        ),
        post(
            &format!("/cafe/{}/pause", o.cafe_room),
            &[],
            [303, 403, 403, SKIP, SKIP],
        ),
        post(
            &format!("/cafe/{}/messages", o.family_cafe),
            &[("body", "のぞき見")],
            [303, 404, 404, SKIP, SKIP],
        ),
        // The staff's home, the members list and the site's settings.
        get("/admin", STAFF_ONLY),
        get("/admin/members", STAFF_ONLY),
        get(
            "/admin/members?q=%E3%81%AF%E3%81%AA&state=active",
            STAFF_ONLY,
        ),
        get("/admin/members?joined=2026-13", [303, 404, 404, 422, 422]),
        get("/admin/settings", [303, 404, 404, 404, 200]),
        post(
            "/admin/settings",
            &[("site_name", ""), ("time_zone", "Asia/Tokyo")],
            [303, 404, 404, 404, 422],
        ),
        // Coordinators alone change hana's account: a bad value or what is already so changes
        // nothing; deactivating would change what the next checks rely on.
        post(
            &format!("/mod/members/{}/account/role", o.hana),
            &[("role", "king")],
            [303, 404, 404, 404, 422],
        ),
        post(
            &format!("/mod/members/{}/account/role", o.hana),
            &[("role", "member")],
            [303, 404, 404, 404, 409],
        ),
        post(
            &format!("/mod/members/{}/account/relation", o.hana),
            &[("relation", "patient")],
            [303, 404, 404, 404, 409],
        ),
        post(
            &format!("/mod/members/{}/account/reactivate", o.hana),
            &[],
            [303, 404, 404, 404, 409],
        ),
        post(
            &format!("/mod/members/{}/account/deactivate", o.hana),
            &[],
            [303, 404, 404, 404, SKIP],
        ),
        post(
            &format!("/mod/members/{}/account/promote", o.hana),
            &[],
            [303, 404, 404, 404, 404],
        ),
        post(
            &format!("/mod/members/{}/email", o.hana),
            &[],
            [303, 404, 404, 404, 200],
        ),
        // The expert Q&A: every member reads a slot and the archive; the desk and answering are
        // the slot's own expert's; screening is staff's.
        get(&format!("/qa/slots/{}", o.qa_slot), MEMBERS),
        get("/qa/archive", MEMBERS),
        get(
            &format!("/qa/slots/{}/live", o.qa_slot),
            [303, 400, 400, 400, 400],
        ),
        get(&format!("/qa/slots/{}/desk", o.qa_slot), NOT_THEIRS),
        post(
            &format!("/qa/questions/{}/answer", o.qa_answered),
            &[("body", "横取りの回答"), ("action", "publish")],
            NOT_THEIRS,
        ),
        post(
            &format!("/qa/questions/{}/follow-up", o.qa_answered),
            &[("body", "なりすまし")],
            [303, 404, 404, 404, 404],
        ),
        post(
            &format!("/qa/slots/{}/questions", o.qa_slot),
            &[("body", "質問です")],
            [303, SKIP, SKIP, SKIP, SKIP],
        ),
        get(&format!("/qa/questions/{}/report", o.qa_answered), MEMBERS),
        get(
            &format!("/qa/questions/{}/report", o.qa_waiting),
            [303, 404, 404, 404, 404],
        ),
        post(
            &format!("/qa/questions/{}/report", o.qa_answered),
            &[("reason", "other"), ("note", "確認してください")],
            [303, SKIP, SKIP, SKIP, SKIP],
        ),
        get("/mod/qa", STAFF_ONLY),
        get(&format!("/mod/qa-questions/{}", o.qa_waiting), STAFF_ONLY),
        post(
            &format!("/mod/qa-questions/{}/accept", o.qa_waiting),
            &[],
            STAFF_ACTS,
        ),
        post(
            &format!("/mod/qa-questions/{}/reports/resolve", o.qa_answered),
            &[("resolution", "dismissed"), ("note", "問題なし")],
            STAFF_ACTS,
        ),
        post(
            &format!("/mod/qa-answers/{}/hide", o.qa_answer),
            &[("reason", "確認のため")],
            STAFF_ACTS,
        ),
        // Nothing is in force to lift: staff are told so, and nothing is written.
        post(
            &format!("/mod/members/{}/unsilence", o.hana),
            &[],
            [303, 404, 404, 409, 409],
        ),
        post(
            &format!("/mod/members/{}/unsuspend", o.hana),
            &[],
            [303, 404, 404, 409, 409],
        ),
    ]
}

async fn others_content_for_every_role(app: TestApp) {
    let browsers = browsers(&app).await;
    let others = others_content(&app, &browsers[4]).await;
    let reply_body = format!(
        "SELECT COUNT(*) FROM posts WHERE id = {} AND body_markdown = '時間休もあります' AND deleted_at IS NULL",
        others.reply
    );
    for route in others_table(&others) {
        for (index, browser) in browsers.iter().enumerate() {
            if route.expect[index] == SKIP {
                continue;
            }
            let page = request(browser, &route).await;
            assert_eq!(
                page.status.as_u16(),
                route.expect[index],
                "{} {} as {}: {}",
                route.method,
                route.path,
                ROLES[index],
                page.text()
            );
        }
    }
    // What was refused changed nothing.
    assert_eq!(
        app.scalar(&reply_body).await,
        1,
        "hana's reply is as she wrote it"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM data_exports WHERE downloaded_at IS NULL AND ready_at IS NOT NULL"
        )
        .await,
        1,
        "hana's export is still hers to download"
    );
    let family_posts = format!(
        "SELECT COUNT(*) FROM posts WHERE topic_id = {}",
        others.family_topic
    );
    assert_eq!(app.scalar(&family_posts).await, 1, "nobody replied unseen");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM topics WHERE title = 'のぞき見'")
            .await,
        0,
        "nobody started a topic unseen"
    );
    let reactions = format!(
        "SELECT COUNT(*) FROM post_reactions WHERE post_id = {}",
        others.family_post
    );
    assert_eq!(app.scalar(&reactions).await, 0, "nobody reacted unseen");
    let untouched = [
        format!(
            "SELECT COUNT(*) FROM qa_answers WHERE id = {} AND body_markdown = '回答です' \
             AND status = 'published'",
            others.qa_answer
        ),
        format!(
            "SELECT COUNT(*) FROM qa_questions WHERE id = {} AND status = 'pending'",
            others.qa_waiting
        ),
        "SELECT COUNT(*) = 2 FROM qa_questions".to_owned(),
        format!(
            "SELECT COUNT(*) FROM topics WHERE id = {} AND title = '通院の日の休み方'",
            others.topic
        ),
        format!(
            "SELECT COUNT(*) FROM posts WHERE id = {} AND body_markdown = '半休を使っています'",
            others.first_post
        ),
        format!(
            "SELECT COUNT(*) FROM topics WHERE id = {} AND pinned_at IS NULL AND closed_at IS NULL",
            others.topic
        ),
        format!(
            "SELECT COUNT(*) FROM invitations WHERE id = {} AND revoked_at IS NULL",
            others.invitation
        ),
        format!(
            "SELECT COUNT(*) FROM announcements WHERE id = {} AND archived_at IS NULL",
            others.announcement
        ),
        "SELECT COUNT(*) FROM categories WHERE id = 1 AND archived_at IS NULL".to_owned(),
        format!(
            "SELECT COUNT(*) FROM users WHERE id = {} AND silenced_until IS NULL AND suspended_until IS NULL",
            others.hana
        ),
        "SELECT COUNT(*) = 0 FROM staff_notes".to_owned(),
        format!(
            "SELECT COUNT(*) FROM cafe_messages WHERE id = {} AND status = 'published'",
            others.cafe_message
        ),
        "SELECT COUNT(*) = 1 FROM cafe_messages".to_owned(),
        "SELECT COUNT(*) = 0 FROM cafe_mutes".to_owned(),
        "SELECT COUNT(*) FROM cafe_sessions WHERE slow_mode_seconds = 0 AND paused_at IS NULL"
            .to_owned(),
        "SELECT COUNT(*) = 0 FROM audit_log WHERE action LIKE 'member.%'".to_owned(),
        format!(
            "SELECT COUNT(*) FROM users WHERE id = {} AND role = 'member' \
             AND relation = 'patient' AND status = 'active'",
            others.hana
        ),
        "SELECT COUNT(*) = 0 FROM audit_log WHERE action = 'setting.changed'".to_owned(),
        "SELECT COUNT(*) = 0 FROM users WHERE deleted_at IS NOT NULL".to_owned(),
        "SELECT COUNT(*) = 0 FROM audit_log WHERE action = 'account.deleted'".to_owned(),
        // The coordinator asked once; nobody else saw the address.
        format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'email.viewed' AND target_id = {}",
            others.hana
        ),
        format!(
            "SELECT COUNT(*) FROM notifications WHERE id = {} AND read_at IS NULL",
            others.hana_notice
        ),
        format!(
            "SELECT COUNT(*) = 0 FROM notify_prefs WHERE user_id = {}",
            others.hana
        ),
    ];
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reports").await
            + app.scalar("SELECT COUNT(*) FROM staff_notes").await
            + app
                .scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('report.resolved', 'note.added')")
                .await,
        0,
        "nothing reported, noted or resolved"
    );
    for check in untouched {
        assert_eq!(app.scalar(&check).await, 1, "{check}");
    }
    app.shutdown().await;
}
both_databases!(others_content_for_every_role);
