//! Staff tools: the staff's home, the members list and the site's settings; and for
//! coordinators invitations, announcements, categories, search terms, statistics.

pub mod announcements;
pub mod categories;
pub mod home;
pub mod invitations;
pub mod members;
pub mod search_terms;
pub mod service;
pub mod settings;
pub mod site;
pub mod stats;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home::page))
        .route("/admin/members", get(members::page))
        .route(
            "/admin/settings",
            get(settings::page).post(settings::update),
        )
        .route(
            "/admin/invitations",
            get(invitations::page).post(invitations::invite_pasted),
        )
        .route("/admin/invitations/csv", post(invitations::invite_csv))
        .route(
            "/admin/announcements",
            get(announcements::page).post(announcements::post),
        )
        .route(
            "/admin/announcements/{id}/archive",
            post(announcements::archive),
        )
        .route(
            "/admin/categories",
            get(categories::page).post(categories::create),
        )
        .route(
            "/admin/categories/{id}",
            get(categories::edit_page).post(categories::update),
        )
        .route("/admin/categories/{id}/up", post(categories::move_up))
        .route("/admin/categories/{id}/down", post(categories::move_down))
        .route("/admin/categories/{id}/archive", post(categories::archive))
        .route("/admin/categories/{id}/restore", post(categories::restore))
        .route(
            "/admin/search-terms",
            get(search_terms::page).post(search_terms::add),
        )
        .route(
            "/admin/search-terms/{id}/delete",
            post(search_terms::remove),
        )
        .route("/admin/stats", get(stats::page))
        .route("/admin/stats.csv", get(stats::csv))
        .route("/admin/invitations/{id}/resend", post(invitations::resend))
        .route(
            "/admin/invitations/{id}/revoke",
            get(invitations::revoke_confirm).post(invitations::revoke),
        )
}
