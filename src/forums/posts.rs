//! One post: its stable address, editing and deleting one's own (deleting after a page that
//! asks first), and the edit history for staff.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::users::SessionUser;
use crate::db::{self, forums::PostRef};
use crate::error::{AppError, AppResult};
use crate::forums::rules::{self, MAX_BODY};
use crate::forums::{page_of, topics, viewer};
use crate::markdown;
use crate::web::layout::Layout;
use crate::web::layout::local_time;

/// A post the reader may see; otherwise 404.
async fn visible_post(app: &AppState, user: &SessionUser, id: i64) -> AppResult<PostRef> {
    let mut conn = app.db.conn().await?;
    db::forums::post(conn.exec(), viewer(user), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A post the reader wrote and has not deleted; someone else's is not theirs to change.
async fn own_post(app: &AppState, user: &SessionUser, id: i64) -> AppResult<PostRef> {
    let post = visible_post(app, user, id).await?;
    if post.author_id != user.id {
        return Err(AppError::Forbidden);
    }
    if post.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(post)
}

fn address(post: &PostRef) -> String {
    format!(
        "/t/{}?page={}#post-{}",
        post.topic_id,
        page_of(post.position),
        post.id
    )
}

/// `/p/{id}` stays valid however many replies follow: it finds the post's page.
pub async fn permalink(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Redirect> {
    let post = visible_post(&app, &user, id).await?;
    Ok(Redirect::to(&address(&post)))
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/edit_post.html")]
pub struct EditView {
    layout: Layout,
    post_id: i64,
    body: String,
    errors: Vec<String>,
    preview: Option<String>,
    limits: String,
}

pub async fn edit_form(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<EditView> {
    let post = own_post(&app, &user, id).await?;
    Ok(EditView {
        layout: Layout::titled(&app, &ctx, "forums.edit_title"),
        post_id: id,
        body: post.body_markdown,
        errors: Vec::new(),
        preview: None,
        limits: ctx
            .tr()
            .f("forums.body_limit", &[("body", &MAX_BODY.to_string())]),
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    action: String,
}

pub async fn edit(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> AppResult<Response> {
    app.writes
        .check(&user, WriteKind::Edit.or_preview(&form.action))?;
    let t = ctx.tr();
    let post = own_post(&app, &user, id).await?;
    let body = rules::body(&form.body);
    if form.action == "preview" || body.is_err() {
        let errors: Vec<String> = body
            .as_ref()
            .err()
            .map(|p| t.s(p.key()).into_owned())
            .into_iter()
            .collect();
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let view = EditView {
            layout: Layout::titled(&app, &ctx, "forums.edit_title"),
            post_id: id,
            preview: topics::preview(&form.action, &body),
            body: form.body,
            errors,
            limits: t.f("forums.body_limit", &[("body", &MAX_BODY.to_string())]),
        };
        return Ok((status, view).into_response());
    }
    let Ok(body) = body else {
        return Err(AppError::Internal("edit checked above".into()));
    };
    if body != post.body_markdown {
        let mut tx = app.db.begin().await?;
        // Mentions in an edited post link as in a new one; only new posts notify.
        let base = app.config.base_url.as_str().trim_end_matches('/');
        let (linked, _) = crate::forums::mentions::resolve(&mut tx, base, &body).await?;
        let html = markdown::render(&linked);
        db::forums::edit_post(tx.exec(), id, user.id, &body, &html, db::now()).await?;
        db::search::index_post(tx.exec(), id).await?;
        tx.commit().await?;
    }
    Ok(Redirect::to(&address(&post)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/delete_post.html")]
pub struct DeleteView {
    layout: Layout,
    post_id: i64,
    post_link: String,
    body_html: String,
}

/// `GET /p/{id}/delete`: the post as it reads and a button that deletes it; nothing changes
/// until that button is pressed, so a stray tap on "delete" loses nothing.
pub async fn delete_confirm(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<DeleteView> {
    let post = own_post(&app, &user, id).await?;
    Ok(DeleteView {
        layout: Layout::titled(&app, &ctx, "ux.delete_title"),
        post_id: id,
        post_link: address(&post),
        body_html: post.body_html,
    })
}

pub async fn delete(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let post = own_post(&app, &user, id).await?;
    let mut tx = app.db.begin().await?;
    db::forums::delete_post(tx.exec(), id, user.id, db::now()).await?;
    db::search::index_post(tx.exec(), id).await?;
    tx.commit().await?;
    app.new_topics.changed();
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s("forums.deleted_flash").into_owned())
        .await?;
    Ok(Redirect::to(&address(&post)).into_response())
}

pub struct RevisionItem {
    /// "Before the edit of … by …".
    pub heading: String,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/history.html")]
pub struct HistoryView {
    layout: Layout,
    post_link: String,
    current: String,
    revisions: Vec<RevisionItem>,
}

/// Every earlier text of a post, for moderators and coordinators.
pub async fn history(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<HistoryView> {
    if !user.role.is_staff() {
        return Err(AppError::NotFound);
    }
    let t = ctx.tr();
    let post = visible_post(&app, &user, id).await?;
    let mut conn = app.db.conn().await?;
    let revisions = db::forums::revisions(conn.exec(), id)
        .await?
        .into_iter()
        .map(|r| RevisionItem {
            heading: t.f(
                "forums.history_before",
                &[
                    ("time", &local_time(&app.config, r.created_at)),
                    ("name", &r.editor_name),
                ],
            ),
            body: r.body_markdown,
        })
        .collect();
    Ok(HistoryView {
        layout: Layout::titled(&app, &ctx, "forums.history_title"),
        post_link: address(&post),
        current: post.body_markdown,
        revisions,
    })
}
