//! Exporting one's own data: `/account/export` asks for it and shows how its preparation goes
//! (a background job, `jobs::export`); the mailed link `/account/export/{secret}` shows a page
//! with a button, and only that button's POST downloads the file, once. The link works only in
//! the member's own session, so neither a forwarded mail nor a mail scanner that opens links
//! can use it.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::account::service::{self, ExportLink};
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::error::AppResult;
use crate::jobs::{self, export::LINK_SECONDS};
use crate::web::layout::{Layout, in_site_zone, local_time};
use crate::web::progress::JobView;

/// The member's latest export as the page shows it.
pub enum ExportState {
    None,
    Preparing(JobView),
    Failed,
    /// The link was mailed; it works until then.
    Mailed(String),
    Downloaded(String),
    Expired,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/export.html")]
pub struct ExportView {
    layout: Layout,
    state: ExportState,
    hours: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/export_link.html")]
pub struct LinkView {
    layout: Layout,
    /// Until when the link works, when it does.
    ready_until: Option<String>,
    /// Why it does not, otherwise.
    message: String,
}

/// `GET /account/export`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<ExportView> {
    let now = crate::db::now();
    let latest = service::latest_export(&app, &user).await?;
    let state = match latest {
        None => ExportState::None,
        Some((_, status)) if status.running => {
            ExportState::Preparing(JobView::of(&app, ctx.tr(), &status))
        }
        Some((_, status)) if status.failed => ExportState::Failed,
        Some((export, _)) => match ExportLink::of(Some(&export), now) {
            ExportLink::Used { at } => ExportState::Downloaded(local_time(&app.site, at)),
            ExportLink::Ready { expires_at } => {
                ExportState::Mailed(local_time(&app.site, expires_at))
            }
            ExportLink::Expired | ExportLink::Unknown => ExportState::Expired,
        },
    };
    Ok(ExportView {
        layout: Layout::titled(&app, &ctx, "export.title"),
        state,
        hours: LINK_SECONDS / 3600,
    })
}

/// `POST /account/export`: asks for an export (or joins the one being prepared).
pub async fn request(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Export)?;
    let queued = service::request_export(&app, &user).await?;
    let key = if queued {
        "export.requested"
    } else {
        "export.already"
    };
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to("/account/export").into_response())
}

fn link_page(app: &AppState, ctx: &RequestContext, link: ExportLink) -> Response {
    let t = ctx.tr();
    let (status, ready_until, message) = match link {
        ExportLink::Ready { expires_at } => (
            StatusCode::OK,
            Some(local_time(&app.site, expires_at)),
            String::new(),
        ),
        ExportLink::Used { .. } => (StatusCode::GONE, None, t.s("export.link.used").into_owned()),
        ExportLink::Expired => (
            StatusCode::GONE,
            None,
            t.s("export.link.expired").into_owned(),
        ),
        ExportLink::Unknown => (
            StatusCode::NOT_FOUND,
            None,
            t.s("export.link.unknown").into_owned(),
        ),
    };
    let view = LinkView {
        layout: Layout::titled(app, ctx, "export.link.title"),
        ready_until,
        message,
    };
    (status, view).into_response()
}

/// `GET /account/export/{secret}`: the mailed link, with the download button when it works.
pub async fn link(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(secret): Path<String>,
) -> AppResult<Response> {
    let link = service::check_export_link(&app, &user, &secret).await?;
    Ok(link_page(&app, &ctx, link))
}

/// `POST /account/export/{secret}`: the file, once.
pub async fn download(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(secret): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Export)?;
    match service::take_export(&app, &user, &secret).await? {
        Ok(taken) => {
            let day = in_site_zone(&app.site, crate::db::now(), "%Y%m%d");
            let file = jobs::export::file(app.clone(), taken.id, taken.member, taken.prepared_at);
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/json; charset=utf-8".to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"hidamari-{day}.json\""),
                    ),
                ],
                Body::from_stream(file),
            )
                .into_response())
        }
        Err(link) => Ok(link_page(&app, &ctx, link)),
    }
}
