//! Announcements: coordinators post one; it is pinned on every member's home page until it is
//! taken down, and may be e-mailed to every member through the outbox in the same transaction.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::admin::service;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::{self, notifications::Announcement};
use crate::error::AppResult;
use crate::events::{Event, EventBus};
use crate::forums::rules;
use crate::web::layout::Layout;
use crate::web::layout::local_time;

/// An announcement as pages show it.
pub struct AnnouncementItem {
    pub id: i64,
    pub title: String,
    pub body_html: String,
    pub byline: String,
}

/// The pinned announcements, kept in memory on SQLite (one process sees every change, and
/// every home page view shows them); read each time on PostgreSQL, where other instances may
/// post one. Forgotten when the bus says an announcement was posted or taken down, and after a
/// minute as a safety net.
#[derive(Clone)]
pub struct AnnouncementCache(Option<moka::sync::Cache<(), Arc<Vec<Announcement>>>>);

impl AnnouncementCache {
    pub fn for_db(db: &db::Db) -> AnnouncementCache {
        match db.dialect() {
            db::Dialect::Sqlite => AnnouncementCache(Some(
                moka::sync::Cache::builder()
                    .max_capacity(1)
                    .time_to_live(Duration::from_secs(60))
                    .build(),
            )),
            db::Dialect::Postgres => AnnouncementCache(None),
        }
    }

    async fn get(&self, reader: &mut db::Reader<'_>) -> AppResult<Arc<Vec<Announcement>>> {
        if let Some(list) = self.0.as_ref().and_then(|cache| cache.get(&())) {
            return Ok(list);
        }
        let list = Arc::new(db::notifications::current_announcements(reader.exec().await?).await?);
        if let Some(cache) = &self.0 {
            cache.insert((), list.clone());
        }
        Ok(list)
    }

    /// Forgets the list when an announcement is posted or taken down.
    pub fn listen_to(&self, bus: &EventBus) {
        if let Some(cache) = self.0.clone() {
            bus.listen(move |event| {
                if *event == Event::AnnouncementsChanged {
                    cache.invalidate_all();
                }
            });
        }
    }
}

/// The announcements pinned now, for the home page and the coordinators' page.
pub async fn current(
    app: &AppState,
    reader: &mut db::Reader<'_>,
    t: crate::i18n::Tr,
) -> AppResult<Vec<AnnouncementItem>> {
    let list = app.announcements.get(reader).await?;
    Ok(list
        .iter()
        .map(|a| AnnouncementItem {
            byline: t.f(
                "announcements.byline",
                &[
                    ("name", &a.author_name),
                    ("time", &local_time(&app.site, a.created_at)),
                ],
            ),
            id: a.id,
            title: a.title.clone(),
            body_html: a.body_html.clone(),
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/announcements.html")]
pub struct AnnouncementsView {
    layout: Layout,
    announcements: Vec<AnnouncementItem>,
    title: String,
    body: String,
    email: bool,
    errors: Vec<String>,
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<AnnouncementsView> {
    Ok(AnnouncementsView {
        layout: Layout::titled(&app, &ctx, "announcements.title"),
        announcements: current(&app, &mut app.db.reader(), ctx.tr()).await?,
        title: String::new(),
        body: String::new(),
        email: false,
        errors: Vec::new(),
    })
}

#[derive(Deserialize)]
pub struct AnnouncementForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// A checkbox: present when ticked.
    email: Option<String>,
}

pub async fn post(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<AnnouncementForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let email = form.email.is_some();
    let (title, body) = match (rules::title(&form.title), rules::body(&form.body)) {
        (Ok(title), Ok(body)) => (title, body),
        (title, body) => {
            let errors = [title.err(), body.err()]
                .into_iter()
                .flatten()
                .map(|p| t.s(p.key()).into_owned())
                .collect();
            let view = AnnouncementsView {
                layout: Layout::titled(&app, &ctx, "announcements.title"),
                announcements: current(&app, &mut app.db.reader(), t).await?,
                title: form.title,
                body: form.body,
                email,
                errors,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    service::post_announcement(&app, user.id, &title, &body, email).await?;
    let key = if email {
        "announcements.posted_mailed"
    } else {
        "announcements.posted"
    };
    SessionData(&ctx.session)
        .set_flash(t.s(key).into_owned())
        .await?;
    Ok(Redirect::to("/admin/announcements").into_response())
}

/// Takes an announcement off the home pages.
pub async fn archive(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    service::archive_announcement(&app, user.id, id).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s("announcements.archived").into_owned())
        .await?;
    Ok(Redirect::to("/admin/announcements").into_response())
}
