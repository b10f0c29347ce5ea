//! One post: its stable address, editing and deleting one's own (deleting after a page that
//! asks first), the topic's title with its first post, and the edit history for staff.

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
use crate::content::{self, Draft};
use crate::db::users::SessionUser;
use crate::db::{self, forums::PostRef};
use crate::error::{AppError, AppResult};
use crate::forums::rules::{self, MAX_BODY, MAX_TITLE};
use crate::forums::{page_of, service, topics, viewer};
use crate::web::layout::Layout;
use crate::web::layout::local_time;

/// A post the reader may see; otherwise 404.
pub(crate) async fn visible_post(
    app: &AppState,
    user: &SessionUser,
    id: i64,
) -> AppResult<PostRef> {
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

/// What the reader may change of a visible, undeleted post: its text when they wrote it; the
/// topic's title with the first post, when they wrote it or are staff. Anyone else: 403.
struct Editable {
    post: PostRef,
    body: bool,
    title: bool,
}

async fn editable_post(app: &AppState, user: &SessionUser, id: i64) -> AppResult<Editable> {
    let post = visible_post(app, user, id).await?;
    let author = post.author_id == user.id;
    let staff = user.role.is_staff();
    let title = post.opens_topic && (author || staff);
    if !author && !staff {
        return Err(AppError::Forbidden);
    }
    if post.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    // Staff edit a member's text with a note on the post saying a moderator did.
    Ok(Editable {
        post,
        body: author || staff,
        title,
    })
}

impl Editable {
    /// The limits the form states, for the fields it has.
    fn limits(&self, t: crate::i18n::Tr) -> String {
        let title = MAX_TITLE.to_string();
        let body = MAX_BODY.to_string();
        match (self.title, self.body) {
            (true, true) => t.f("forums.limits", &[("title", &title), ("body", &body)]),
            (true, false) => t.f("ux.title_limit", &[("title", &title)]),
            _ => t.f("forums.body_limit", &[("body", &body)]),
        }
    }
}

pub fn address(post: &PostRef) -> String {
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
    /// The topic's title, when the reader may change it (first post only).
    title: Option<String>,
    /// The text, when the reader may change it (they wrote it).
    body: Option<String>,
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
    let editable = editable_post(&app, &user, id).await?;
    Ok(EditView {
        layout: Layout::titled(&app, &ctx, "forums.edit_title"),
        post_id: id,
        limits: editable.limits(ctx.tr()),
        title: editable.title.then(|| editable.post.topic_title.clone()),
        body: editable.body.then(|| editable.post.body_markdown.clone()),
        errors: Vec::new(),
        preview: None,
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    /// Absent (a form without the field) keeps the title as it is.
    title: Option<String>,
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
    let editable = editable_post(&app, &user, id).await?;
    let post = &editable.post;
    // Only the fields the reader may change are read; anything else the form sends is ignored.
    let title = editable
        .title
        .then(|| form.title.as_deref().unwrap_or(&post.topic_title));
    let body = editable.body.then_some(form.body.as_str());
    let refusal = if form.action == "preview" {
        None
    } else {
        let draft = Draft::Edit { post, title, body };
        match content::submit(&app, &user, draft).await? {
            Ok(accepted) => return topics::after_submit(&app, &ctx, &user, accepted, false).await,
            Err(refusal) => Some(refusal),
        }
    };
    let checked_body = body.map(rules::body);
    let errors: Vec<String> = match &refusal {
        Some(refusal) => refusal.messages(t, &app.site),
        None => [
            title.map(rules::title).and_then(Result::err),
            checked_body.clone().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|p| t.s(p.key()).into_owned())
        .collect(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = EditView {
        layout: Layout::titled(&app, &ctx, "forums.edit_title"),
        post_id: id,
        limits: editable.limits(t),
        preview: checked_body
            .as_ref()
            .and_then(|body| topics::preview(&form.action, body)),
        title: editable
            .title
            .then(|| form.title.unwrap_or_else(|| post.topic_title.clone())),
        body: editable.body.then_some(form.body),
        errors,
    };
    Ok((status, view).into_response())
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
    app.writes.check(&user, WriteKind::Withdraw)?;
    service::delete_post(&app, user.id, &post).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s("forums.deleted_flash").into_owned())
        .await?;
    Ok(Redirect::to(&address(&post)).into_response())
}

pub struct RevisionItem {
    /// "Before the edit of … by …".
    pub heading: String,
    /// The topic's title then, for the first post.
    pub title: Option<String>,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/history.html")]
pub struct HistoryView {
    layout: Layout,
    post_link: String,
    current: String,
    /// The topic's title now, for the first post.
    current_title: Option<String>,
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
                    ("time", &local_time(&app.site, r.created_at)),
                    ("name", &r.editor_name),
                ],
            ),
            title: r.title,
            body: r.body_markdown,
        })
        .collect();
    Ok(HistoryView {
        layout: Layout::titled(&app, &ctx, "forums.history_title"),
        post_link: address(&post),
        current_title: post.opens_topic.then(|| post.topic_title.clone()),
        current: post.body_markdown,
        revisions,
    })
}
