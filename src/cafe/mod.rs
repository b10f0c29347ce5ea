//! The peer-support café: rooms open to a role and relation, with scheduled sessions during
//! which members write; live over WebSockets, and a plain form without JavaScript.

pub mod admin_rooms;
pub mod admin_sessions;
pub mod calendar;
pub mod ics;
pub mod recurrence;
pub mod reminders;
pub mod schedule;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(schedule_routes())
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
