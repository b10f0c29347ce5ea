//! The privacy page, open to visitors too: what is stored, who sees it, what never happens.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::AppState;
use crate::auth::session::RequestContext;
use crate::web::layout::Layout;

/// Each section's heading and its points, as locale keys.
const SECTIONS: [(&str, &[&str]); 4] = [
    (
        "privacy.stored.title",
        &[
            "privacy.stored.account",
            "privacy.stored.content",
            "privacy.stored.safety",
            "privacy.stored.sessions",
        ],
    ),
    (
        "privacy.who.title",
        &[
            "privacy.who.members",
            "privacy.who.experts",
            "privacy.who.moderators",
            "privacy.who.coordinators",
        ],
    ),
    (
        "privacy.never.title",
        &[
            "privacy.never.third_parties",
            "privacy.never.tracking",
            "privacy.never.mail",
        ],
    ),
    ("privacy.rights.title", &["privacy.rights.text"]),
];

#[derive(Template, WebTemplate)]
#[template(path = "account/privacy.html")]
pub struct PrivacyView {
    layout: Layout,
    sections: [(&'static str, &'static [&'static str]); 4],
}

/// `GET /privacy`.
pub async fn page(State(app): State<AppState>, ctx: RequestContext) -> PrivacyView {
    PrivacyView {
        layout: Layout::titled(&app, &ctx, "privacy.title"),
        sections: SECTIONS,
    }
}
