//! A member's page, where mentions lead: their display name, role, since when, and their recent
//! posts that the reader may see, and what they chose to tell about themselves (`account::profile`).
//! No e-mail address; the relation only when they show it (or to staff).

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
    /// What the member chose to tell (label, text), in the form's order.
    told: Vec<(String, String)>,
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
    let told_of = db::profiles::member_profile(conn.exec(), id).await?;
    drop(conn);
    let mut told = Vec::new();
    // Staff see the relation: restricted rooms and categories follow it.
    if told_of.show_relation || user.role.is_staff() {
        told.push((
            t.s("profile.relation").into_owned(),
            crate::account::profile::relation_label(t, &profile.relation),
        ));
    }
    for (shown, key, text) in [
        (told_of.show_cancer, "profile.cancer", &told_of.cancer),
        (told_of.show_stage, "profile.stage", &told_of.stage),
        (told_of.show_work, "profile.work", &told_of.work),
        (
            told_of.show_introduction,
            "profile.introduction",
            &told_of.introduction,
        ),
    ] {
        if shown && !text.is_empty() {
            told.push((t.s(key).into_owned(), text.clone()));
        }
    }
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
        told,
    })
}
