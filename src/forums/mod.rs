//! Forums: categories, topics and replies. Markdown is rendered to sanitized HTML once, when a
//! post is written; a category a member may not see is a 404 everywhere, as if it did not exist.

pub mod drafts;
pub mod mentions;
pub mod notify;
pub mod page_cache;
pub mod posts;
pub mod profile;
pub mod reads;
pub mod rules;
pub mod search;
pub mod service;
pub mod social;
pub mod topics;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::db::forums::Viewer;
use crate::db::users::SessionUser;
use crate::domain::role::Role;

/// Posts on one page of a topic.
pub const POSTS_PER_PAGE: i64 = 20;
/// Topics on one page of a category.
pub const TOPICS_PER_PAGE: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forums", get(topics::index))
        .route(
            "/forums/new",
            get(topics::new_topic_anywhere_form).post(topics::create_topic_anywhere),
        )
        .route("/search", get(search::page))
        .route("/c/{id}", get(topics::category))
        .route(
            "/c/{id}/new",
            get(topics::new_topic_form).post(topics::create_topic),
        )
        .route("/t/{id}", get(topics::show).post(topics::reply))
        .route("/t/{id}/follow", post(notify::follow_topic))
        .route("/c/{id}/follow", post(notify::follow_category))
        .route("/u/{id}", get(profile::show))
        .route("/members/suggest", get(mentions::suggest))
        .route("/drafts", post(drafts::autosave))
        .route("/p/{id}", get(posts::permalink))
        .route("/p/{id}/edit", get(posts::edit_form).post(posts::edit))
        .route(
            "/p/{id}/delete",
            get(posts::delete_confirm).post(posts::delete),
        )
        .route("/p/{id}/history", get(posts::history))
        .merge(social::routes())
}

/// Pages reached from a mail without logging in.
pub fn public_routes() -> Router<AppState> {
    Router::new().route(
        "/unsubscribe/{user}/{what}/{signature}",
        get(notify::unsubscribe_page).post(notify::unsubscribe),
    )
}

pub fn viewer(user: &SessionUser) -> Viewer {
    Viewer {
        id: user.id,
        rank: match user.role {
            Role::Member => 0,
            Role::Expert => 1,
            Role::Moderator => 2,
            Role::Coordinator => 3,
        },
        relation: user.relation.as_str(),
        staff: user.role.is_staff(),
        locale: crate::i18n::Locale::from_code(&user.locale),
    }
}

/// The page a post is on, from its 1-based position in the topic.
pub fn page_of(position: i64) -> i64 {
    (position.max(1) - 1) / POSTS_PER_PAGE + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_map_to_pages_of_twenty() {
        assert_eq!(page_of(1), 1);
        assert_eq!(page_of(20), 1);
        assert_eq!(page_of(21), 2);
        assert_eq!(crate::web::layout::pages_for(0, POSTS_PER_PAGE), 1);
        assert_eq!(crate::web::layout::pages_for(41, POSTS_PER_PAGE), 3);
    }
}
