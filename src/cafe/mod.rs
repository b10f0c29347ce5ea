//! The peer-support café: rooms open to a role and relation, with scheduled sessions during
//! which members write; live over WebSockets (`live`, fanned out by `hub`), and a complete page
//! without JavaScript (`room`). A café message is a kind of the content pipeline
//! (`content::Draft::CafeMessage`): watched words, crisis words, silence and write limits act on
//! it as on a post.

pub mod hub;
pub mod live;
pub mod report;
pub mod room;
pub mod rules;
pub mod service;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

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
            get(report::report_page).post(report::report),
        )
}
