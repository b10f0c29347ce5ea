//! Expert Q&A: experts (社会保険労務士, 弁護士, …) hold slots; members ask ahead and the expert
//! answers during the slot. Experts' profiles (`experts`), slots as experts and coordinators
//! create, edit and cancel them (`slots`, the rules and units of work; `slot_pages`, the
//! forms), and the members' list of slots (`list`).

pub mod experts;
pub mod list;
pub mod slot_pages;
pub mod slots;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn routes() -> Router<AppState> {
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
