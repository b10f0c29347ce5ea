//! The members' list of Q&A slots (`/qa`): the slots to come, soonest first, each with its
//! expert and qualification, theme, time and question deadline in the site's time zone and the
//! places left; then the recent past slots, newest first. Cancelled slots stay, marked so.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::AppState;
use crate::auth::session::{CurrentUser, RequestContext};
use crate::cafe::schedule::when;
use crate::db;
use crate::db::qa::SlotRow;
use crate::db::users::SessionUser;
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::qa::slots::may_manage;
use crate::web::layout::{Layout, local_time};

/// The most slots to come the page lists.
const UPCOMING: i64 = 100;
/// The most past slots the page lists.
const PAST: i64 = 20;

/// A slot as the list shows it.
pub struct SlotItem {
    pub id: i64,
    pub expert: String,
    pub qualification: String,
    pub introduction: String,
    pub theme: String,
    pub when: String,
    pub deadline: String,
    /// "残り 3 件", "受付終了", or for a past slot nothing.
    pub places: Option<String>,
    pub open: bool,
    pub live: bool,
    pub cancelled: bool,
    /// Whether the reader may edit or cancel it.
    pub manage: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/index.html")]
pub struct ListView {
    layout: Layout,
    upcoming: Vec<SlotItem>,
    past: Vec<SlotItem>,
    may_create: bool,
    is_expert: bool,
    is_coordinator: bool,
}

fn item(app: &AppState, t: Tr, user: &SessionUser, s: SlotRow, now: i64) -> SlotItem {
    let ended = s.ends_at <= now;
    let cancelled = s.cancelled_at.is_some();
    let open = s.taking_questions(now);
    let places = (!ended && !cancelled).then(|| {
        if open {
            t.count("qa_slots.places_left", s.places_left(), &[])
        } else {
            t.s("qa_slots.closed").into_owned()
        }
    });
    SlotItem {
        id: s.id,
        when: when(&app.site, t, s.starts_at, s.ends_at),
        deadline: t.f(
            "qa_slots.deadline",
            &[("time", &local_time(&app.site, s.deadline_at))],
        ),
        places,
        open,
        live: s.live(now),
        cancelled,
        manage: !cancelled && may_manage(user, s.expert_id).is_ok(),
        expert: s.expert_name,
        qualification: s.qualification,
        introduction: s.introduction,
        theme: s.theme,
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<ListView> {
    let t = ctx.tr();
    let now = db::now();
    let mut conn = app.db.conn().await?;
    let upcoming = db::qa_slots::upcoming(conn.exec(), now, UPCOMING).await?;
    let past = db::qa_slots::past(conn.exec(), now, PAST).await?;
    drop(conn);
    let items = |slots: Vec<SlotRow>| -> Vec<SlotItem> {
        slots
            .into_iter()
            .map(|s| item(&app, t, &user, s, now))
            .collect()
    };
    Ok(ListView {
        layout: Layout::titled(&app, &ctx, "qa_slots.title"),
        upcoming: items(upcoming),
        past: items(past),
        may_create: matches!(user.role, Role::Expert | Role::Coordinator),
        is_expert: user.role == Role::Expert,
        is_coordinator: user.role == Role::Coordinator,
    })
}
