//! A member's page, where mentions lead: their display name, role, since when, and their recent
//! posts that the reader may see. No e-mail address, no relation (that is theirs to tell).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::session::RequestContext;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::forums::viewer;
use crate::web::badge::Badge;
use crate::web::layout::Layout;
use crate::web::layout::local_time;

pub struct RecentItem {
    pub href: String,
    pub title: String,
    pub time: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/profile.html")]
pub struct ProfileView {
    layout: Layout,
    role: String,
    /// In place of the role's name, for staff and experts.
    badge: Option<Badge>,
    since: String,
    recent: Vec<RecentItem>,
    /// The member's staff page, for staff.
    staff_page: Option<String>,
}

pub async fn show(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<ProfileView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let profile = db::users::public_profile(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let recent = db::profiles::recent_posts(conn.exec(), viewer(&user), id, 10)
        .await?
        .into_iter()
        .map(|p| RecentItem {
            href: format!("/p/{}", p.post_id),
            title: p.topic_title,
            time: local_time(&app.site, p.created_at),
        })
        .collect();
    let since = jiff::Timestamp::from_second(profile.created_at)
        .map(|ts| {
            ts.to_zoned(app.site.time_zone())
                .strftime("%Y-%m")
                .to_string()
        })
        .unwrap_or_default();
    Ok(ProfileView {
        layout: Layout::new(&app, &ctx, profile.display_name),
        role: t.s(&format!("role.{}", profile.role)).into_owned(),
        badge: Badge::for_role(t, profile.role),
        since: t.f("profile.since", &[("month", &since)]),
        recent,
        staff_page: user.role.is_staff().then(|| format!("/mod/members/{id}")),
    })
}
