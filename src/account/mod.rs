//! Accounts: login and logout, joining by invitation, password reset, and the member's own
//! settings (display name, password, e-mail with re-verification, language and text size).

pub mod export;
pub mod join;
pub mod leave;
pub mod login;
pub mod privacy;
pub mod profile;
pub mod reset;
pub mod service;
pub mod settings;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::db::{self, Db};

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
        .route("/privacy", get(privacy::page))
        .route("/goodbye", get(leave::goodbye))
}

/// Pages for members.
pub fn member_routes() -> Router<AppState> {
    Router::new()
        .route("/logout", post(login::logout))
        .route("/account", get(settings::page))
        .route("/account/profile", get(profile::page).post(profile::save))
        .route("/account/name", post(settings::change_name))
        .route("/account/password", post(settings::change_password))
        .route("/account/email", post(settings::change_email))
        .route("/account/export", get(export::page).post(export::request))
        .route(
            "/account/export/{secret}",
            get(export::link).post(export::download),
        )
        .route("/account/delete", get(leave::form).post(leave::submit))
        .route("/account/delete/confirm", get(leave::confirm))
}

/// Gives the members who joined before look-alike names were refused the skeleton of their name
/// (see [`crate::domain::account::look_alike_key`]); run at start-up, returns how many got one. When two of those
/// names look alike, the earlier member keeps the skeleton and the later one is logged for a
/// coordinator to see to: both names still stand, and neither can be copied by a newcomer.
pub async fn fill_name_skeletons(db: &Db) -> Result<u64, sqlx::Error> {
    let missing = {
        let mut conn = db.conn().await?;
        db::users::without_skeleton(conn.exec()).await?
    };
    if missing.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let mut filled = 0;
    for (id, name) in missing {
        let skeleton = crate::domain::account::look_alike_key(&name);
        // Checked first rather than caught: a failed statement ends a PostgreSQL transaction.
        if db::users::skeleton_taken(tx.exec(), &skeleton).await? {
            tracing::warn!(user = id, "display name looks like another member's");
        } else {
            db::users::set_skeleton(tx.exec(), id, &skeleton).await?;
            filled += 1;
        }
    }
    tx.commit().await?;
    Ok(filled)
}
