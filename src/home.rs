//! The logged-in home page: what the member can do now. It grows with each capability.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::session::RequestContext;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::web::layout::Layout;
use crate::web::layout::local_time;

/// One thing the member can do, as a large link with a line of explanation.
pub struct Action {
    pub href: &'static str,
    pub title: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home/home.html")]
pub struct HomeView {
    layout: Layout,
    greeting: String,
    actions: Vec<Action>,
    new_topics: Vec<TopicLink>,
    /// The latest topics, under the new ones, so the page is never blank.
    latest_topics: Vec<TopicLink>,
    announcements: Vec<crate::admin::announcements::AnnouncementItem>,
}

/// A topic on the home page: one with posts the member has not read, linked to the first of
/// them, or one of the latest topics.
pub struct TopicLink {
    pub href: String,
    pub title: String,
    pub detail: String,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<HomeView> {
    let t = ctx.tr();
    let action = |href, key: &str| Action {
        href,
        title: t.s(&format!("home.action.{key}.title")).into_owned(),
        text: t.s(&format!("home.action.{key}.text")).into_owned(),
    };
    let mut actions = vec![action("/forums", "forums"), action("/account", "account")];
    if user.role.is_staff() {
        actions.push(action("/mod/log", "mod_log"));
    }
    if user.role == Role::Coordinator {
        actions.push(action("/admin/invitations", "invitations"));
        actions.push(action("/admin/announcements", "announcements"));
        actions.push(action("/admin/categories", "categories"));
    }
    let mut reader = app.db.reader();
    let topics = app
        .new_topics
        .get(&mut reader, &app.read_marks, &user)
        .await?;
    let new_topics = topics
        .new
        .iter()
        .map(|n| TopicLink {
            href: format!("/p/{}", n.first_unread),
            detail: format!(
                "{} · {} · {}",
                n.category_name,
                t.f("social.unread_count", &[("count", &n.unread.to_string())]),
                local_time(&app.site, n.last_posted_at)
            ),
            title: n.title.clone(),
        })
        .collect();
    let latest_topics = topics
        .latest
        .iter()
        .map(|l| TopicLink {
            href: format!("/t/{}", l.id),
            detail: format!(
                "{} · {} · {}",
                l.category_name,
                t.f("forums.replies", &[("count", &l.reply_count.to_string())]),
                local_time(&app.site, l.last_posted_at)
            ),
            title: l.title.clone(),
        })
        .collect();
    Ok(HomeView {
        layout: Layout::titled(&app, &ctx, "home.title"),
        greeting: t.f("home.greeting", &[("name", &user.display_name)]),
        actions,
        new_topics,
        latest_topics,
        announcements: crate::admin::announcements::current(&app, &mut reader, t).await?,
    })
}

/// Unknown addresses: visitors are sent to the login page (they learn nothing); members get a 404.
pub async fn fallback(CurrentUser(_): CurrentUser) -> AppError {
    AppError::NotFound
}
