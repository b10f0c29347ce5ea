//! Moderation: the review queue, actions on posts, members' view of their own withheld posts.

pub mod count;
pub mod queue;

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
}
