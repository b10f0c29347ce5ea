//! Accounts: login and logout, joining by invitation, password reset, and the member's own
//! settings (display name, password, e-mail with re-verification, language and text size).

pub mod join;
pub mod login;
pub mod reset;
pub mod rules;
pub mod settings;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// Pages a visitor may open.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/invite/{token}", get(join::form).post(join::submit))
        .route(
            "/reset",
            get(reset::request_form).post(reset::request_submit),
        )
        .route("/reset/{token}", get(reset::form).post(reset::submit))
        .route(
            "/account/email/confirm/{token}",
            get(settings::confirm_email_form).post(settings::confirm_email),
        )
        .route("/preferences", post(settings::preferences))
}

/// Pages for members.
pub fn member_routes() -> Router<AppState> {
    Router::new()
        .route("/logout", post(login::logout))
        .route("/account", get(settings::page))
        .route("/account/name", post(settings::change_name))
        .route("/account/password", post(settings::change_password))
        .route("/account/email", post(settings::change_email))
        .route("/account/notifications", post(settings::notifications))
}

/// A view's list of problems with a submitted form, already in the reader's language.
pub type FormErrors = Vec<String>;
