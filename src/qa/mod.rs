//! Expert Q&A: experts hold slots; members ask ahead (shared or private, named or anonymous);
//! moderators screen (`moderation::qa`); the expert answers at their desk (`desk`), live on the
//! slot's page (`slot`, fanned out by `live`); shared answers form the archive (`archive`).
//! Questions and answers are kinds of the content pipeline (`content::Draft::Question`,
//! `content::Draft::Answer`): watched words, crisis words, silence and write limits act on them
//! as on a post, and members report them (`report`).
//!
//! Experts' profiles (`experts`); slots as experts and coordinators create, edit and cancel
//! them (`slots`, the rules and units of work; `slot_pages`, the forms); the members' list of
//! slots (`list`).

pub mod archive;
pub mod desk;
pub mod experts;
pub mod list;
pub mod live;
pub mod report;
pub mod rules;
pub mod service;
pub mod slot;
pub mod slot_pages;
pub mod slots;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::moderation::reports::{report, report_page};
use report::AnsweredQuestion;

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
            get(report_page::<AnsweredQuestion>).post(report::<AnsweredQuestion>),
        )
        .route("/qa/archive", get(archive::page))
        .merge(slot_routes())
}

/// Experts' profiles, the slots' forms and the members' list of slots.
fn slot_routes() -> Router<AppState> {
    Router::new()
        .route("/qa", get(list::page))
        .route(
            "/qa/profile",
            get(experts::own_page).post(experts::own_update),
        )
        .route("/admin/experts", get(experts::admin_list))
        .route(
            "/admin/experts/{id}",
            get(experts::admin_edit_page).post(experts::admin_update),
        )
        .route(
            "/qa/slots/new",
            get(slot_pages::new_page).post(slot_pages::create),
        )
        .route(
            "/qa/slots/{id}/edit",
            get(slot_pages::edit_page).post(slot_pages::update),
        )
        .route(
            "/qa/slots/{id}/cancel",
            get(slot_pages::cancel_page).post(slot_pages::cancel),
        )
}
