//! The peer-support café: rooms open to a role and relation, with scheduled sessions during
//! which members write; live over WebSockets (`live`, fanned out by `hub`), and a complete page
//! without JavaScript (`room`). A café message is a kind of the content pipeline
//! (`content::Draft::CafeMessage`): watched words, crisis words, silence, write limits and
//! reports (`report`) act on it as on a post. The schedule (`schedule`, with `recurrence`): coordinators' rooms and
//! sessions (`admin_rooms`, `admin_sessions`), the members' café page with calendar files and
//! reminders (`calendar`, `ics`, `reminders`).

pub mod admin_rooms;
pub mod admin_sessions;
pub mod calendar;
pub mod hub;
pub mod ics;
pub mod live;
pub mod recurrence;
pub mod reminders;
pub mod report;
pub mod room;
pub mod rules;
pub mod schedule;
pub mod service;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::moderation::reports::{report, report_page};
use report::CafeMessage;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cafe/{id}", get(room::page))
        .route("/cafe/{id}/live", get(live::handshake))
        .route("/cafe/{id}/messages", post(room::send))
        .route("/cafe/{id}/messages/{message}/remove", post(room::remove))
        .route("/cafe/{id}/messages/{message}/approve", post(room::approve))
        .route("/cafe/{id}/members/{member}/mute", post(room::mute))
        .route("/cafe/{id}/slow", post(room::slow))
        // pause, resume
        .route("/cafe/{id}/{action}", post(room::pause))
        .route("/cafe/presence", post(room::presence))
        .route("/cafe/messages/{id}", get(report::permalink))
        .route(
            "/cafe/messages/{id}/report",
            get(report_page::<CafeMessage>).post(report::<CafeMessage>),
        )
        .merge(schedule_routes())
}

/// The schedule: coordinators' rooms and sessions, the members' café page, calendar files and
/// reminders.
fn schedule_routes() -> Router<AppState> {
    Router::new()
        .route("/cafe", get(calendar::page))
        .route("/cafe/sessions/{id}", get(calendar::calendar_file))
        .route("/cafe/sessions/{id}/remind", post(calendar::remind))
        .route(
            "/admin/cafe",
            get(admin_rooms::page).post(admin_rooms::create),
        )
        .route(
            "/admin/cafe/rooms/{id}",
            get(admin_rooms::edit_page).post(admin_rooms::update),
        )
        .route("/admin/cafe/rooms/{id}/up", post(admin_rooms::move_up))
        .route("/admin/cafe/rooms/{id}/down", post(admin_rooms::move_down))
        .route("/admin/cafe/rooms/{id}/archive", post(admin_rooms::archive))
        .route("/admin/cafe/rooms/{id}/restore", post(admin_rooms::restore))
        .route(
            "/admin/cafe/rooms/{id}/sessions",
            get(admin_sessions::page).post(admin_sessions::schedule_one),
        )
        .route(
            "/admin/cafe/rooms/{id}/series",
            post(admin_sessions::schedule_series),
        )
        .route(
            "/admin/cafe/sessions/{id}",
            get(admin_sessions::edit_page).post(admin_sessions::update),
        )
        .route(
            "/admin/cafe/sessions/{id}/cancel",
            get(admin_sessions::cancel_one_confirm).post(admin_sessions::cancel_one),
        )
        .route(
            "/admin/cafe/sessions/{id}/cancel-series",
            get(admin_sessions::cancel_rest_confirm).post(admin_sessions::cancel_rest),
        )
}
