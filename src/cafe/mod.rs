//! The peer-support café: rooms open to a role and relation, with scheduled sessions during
//! which members write; live over WebSockets, and a plain form without JavaScript.

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
