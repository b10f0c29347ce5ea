//! Expert Q&A: experts hold slots; members ask ahead (shared or private, named or anonymous);
//! moderators screen (`moderation::qa`); the expert answers at their desk (`desk`), live on the
//! slot's page (`slot`, fanned out by `live`); shared answers form the archive (`archive`).
//! Questions and answers are kinds of the content pipeline (`content::Draft::Question`,
//! `content::Draft::Answer`): watched words, crisis words, silence and write limits act on them
//! as on a post, and members report them (`report`).

pub mod archive;
pub mod desk;
pub mod live;
pub mod report;
pub mod rules;
pub mod service;
pub mod slot;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/qa/slots/{id}", get(slot::page))
        .route("/qa/slots/{id}/questions", post(slot::ask))
        .route("/qa/slots/{id}/live", get(live::handshake))
        .route("/qa/slots/{id}/desk", get(desk::page))
        .route("/qa/questions/{id}/follow-up", post(slot::follow_up))
        .route("/qa/questions/{id}/answer", post(desk::answer))
        .route(
            "/qa/questions/{id}/report",
            get(report::report_page).post(report::report),
        )
        .route("/qa/archive", get(archive::page))
}
