//! Moderation: the review queue, actions on posts and on members, members' reports, staff notes
//! on queue items, members' view of their own withheld posts, and the log of what every
//! moderator and coordinator did. Each staff route admits staff only; others get 404.

pub mod cafe;
pub mod count;
pub mod log;
pub mod manage;
pub mod members;
pub mod notes;
pub mod qa;
pub mod queue;
pub mod reports;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mod/queue", get(queue::page))
        .route("/mod/posts/{id}", get(queue::post_page))
        .route("/mod/posts/{id}/hide", post(queue::hide))
        .route("/mod/posts/{id}/{action}", post(queue::act))
        .route("/mod/alerts/{id}/acknowledge", post(queue::acknowledge))
        .route("/me/withheld", get(queue::my_withheld))
        .route("/mod/log", get(log::page))
        .route("/mod/members/{id}", get(members::page))
        .route("/mod/members/{id}/notes", post(members::add_note))
        // role, relation, deactivate, reactivate
        .route("/mod/members/{id}/account/{change}", post(manage::account))
        .route("/mod/members/{id}/email", post(manage::show_email))
        // silence, unsilence, suspend, unsuspend
        .route("/mod/members/{id}/{action}", post(members::act))
        .route("/mod/posts/{id}/notes", post(notes::add_post_note))
        .route("/mod/reports", get(reports::queue_page))
        .route("/mod/qa", get(qa::page))
        .route("/mod/qa-questions/{id}", get(qa::question_page))
        .route("/mod/qa-questions/{id}/reports/resolve", post(qa::resolve))
        .route("/mod/qa-questions/{id}/{action}", post(qa::act))
        .route("/mod/qa-answers/{id}/{action}", post(qa::answer_act))
        .route("/mod/cafe", get(cafe::page))
        .route("/mod/cafe-messages/{id}", get(cafe::message_page))
        // approve, remove, clear-flag
        .route("/mod/cafe-messages/{id}/{action}", post(cafe::act))
        .route(
            "/mod/cafe-messages/{id}/reports/resolve",
            post(cafe::resolve),
        )
        .route("/mod/posts/{id}/reports/resolve", post(reports::resolve))
        .route(
            "/p/{id}/report",
            get(reports::report_page::<reports::Post>).post(reports::report::<reports::Post>),
        )
}
