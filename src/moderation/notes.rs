//! Staff notes: what moderators and coordinators write on a queue item (or, later, a member) so
//! that a team of a few can hand a case over without e-mail. Only staff see them; adding one is
//! a unit of work with its log row.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, Require, Staff};
use crate::auth::write_limit::WriteKind;
use crate::db::users::SessionUser;
use crate::db::{self, Exec};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::moderation::queue::{self, PostForms};
use crate::web::layout::local_time;

/// The longest note: a case handed over in a few paragraphs.
pub const MAX_NOTE: usize = 2000;

/// A note as the page shows it.
pub struct NoteItem {
    pub author: String,
    pub time: String,
    pub body: String,
}

/// The notes on an item, newest first.
pub async fn on_item(
    exec: Exec<'_>,
    site: &crate::admin::site::SiteSettings,
    kind: TargetKind,
    id: i64,
) -> Result<Vec<NoteItem>, sqlx::Error> {
    Ok(db::staff_notes::on_target(exec, kind, id)
        .await?
        .into_iter()
        .map(|n| NoteItem {
            time: local_time(site, n.created_at),
            author: n.author_name,
            body: n.body,
        })
        .collect())
}

/// A note's text as kept (its lines, trimmed), or the locale key of what is wrong with it.
pub fn note_text(raw: &str) -> Result<String, &'static str> {
    let body = raw.trim();
    if body.is_empty() {
        Err("notes.missing")
    } else if body.chars().count() > MAX_NOTE {
        Err("notes.too_long")
    } else {
        Ok(body.to_owned())
    }
}

/// Adds a note on an item about `member` (its author, say), logged.
pub async fn add_note(
    app: &AppState,
    staff: &SessionUser,
    kind: TargetKind,
    id: i64,
    member: i64,
    body: &str,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::staff_notes::add(work.exec(), kind, id, staff.id, body, now).await?;
    work.log(LogRecord::new(staff.id, Action::NoteAdded, kind, id).about(member))
        .await?;
    work.commit().await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    body: String,
}

/// A note on a post in the queue, from the post's moderation page.
pub async fn add_post_note(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let mut conn = app.db.conn().await?;
    let author = db::forums::post_state(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?
        .author_id;
    drop(conn);
    let body = match note_text(&form.body) {
        Ok(body) => body,
        Err(key) => {
            let forms = PostForms {
                note_errors: vec![ctx.tr().s(key).into_owned()],
                note: form.body,
                ..PostForms::default()
            };
            let view = queue::post_view(&app, &ctx, id, forms).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    add_note(&app, &user, TargetKind::Post, id, author, &body).await?;
    queue::done(
        &ctx,
        true,
        "notes.added_flash",
        &format!("/mod/posts/{id}#notes"),
    )
    .await
}
