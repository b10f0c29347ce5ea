//! Moderation: what staff (moderators and coordinators) do about members, and the log of what
//! every one of them did. Each route admits staff only; others get 404.

pub mod log;
pub mod members;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mod/log", get(log::page))
        .route("/mod/members/{id}", get(members::page))
        .route("/mod/members/{id}/notes", post(members::add_note))
        // silence, unsilence, suspend, unsuspend
        .route("/mod/members/{id}/{action}", post(members::act))
}
