//! The member's list of notifications (`/notifications`): newest first, 20 a page, each item
//! checked again as it is listed (a post hidden, deleted or in a category closed to them, or by
//! someone blocked either way, is not shown). Opening an item marks it read and leads to what it
//! is about; "mark all read" clears the header's count.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::notify::Listed;
use crate::db::{self, users::SessionUser};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::viewer;
use crate::i18n::Tr;
use crate::web::input::Query;
use crate::web::layout::{Layout, Pager, local_time, pages_for};
use crate::{App, AppState};

const PER_PAGE: i64 = 20;

/// One line of the list.
pub struct Item {
    pub href: String,
    pub text: String,
    pub when: String,
    pub unread: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "notify/list.html")]
pub struct ListView {
    layout: Layout,
    items: Vec<Item>,
    pager: Pager,
    any_unread: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    page: String,
}

fn text_of(t: Tr, row: &Listed) -> String {
    let name = row.author_name.as_deref().unwrap_or_default();
    let args = [("title", row.title.as_str()), ("name", name)];
    t.f(&format!("notices.item.{}", row.kind), &args)
}

/// Where an item leads: the post, the home page (announcements), or the path it was given.
fn target(row: &Listed) -> String {
    match (row.post_id, row.kind.as_str()) {
        (Some(post), _) => format!("/p/{post}"),
        (None, "announcement") => "/".to_owned(),
        (None, _) if row.path.starts_with('/') && !row.path.starts_with("//") => row.path.clone(),
        (None, _) => "/notifications".to_owned(),
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ListQuery>,
) -> AppResult<ListView> {
    let t = ctx.tr();
    let asked = match query.page.trim() {
        "" => 1,
        text => text
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest("page is not a number"))?,
    };
    let mut conn = app.db.conn().await?;
    let pages = pages_for(
        db::notify::count_listed(conn.exec(), viewer(&user), user.id).await?,
        PER_PAGE,
    );
    let page = asked.clamp(1, pages);
    let rows = db::notify::listed(
        conn.exec(),
        viewer(&user),
        user.id,
        None,
        PER_PAGE,
        (page - 1) * PER_PAGE,
    )
    .await?;
    drop(conn);
    let items: Vec<Item> = rows
        .iter()
        .map(|row| Item {
            href: format!("/notifications/{}", row.id),
            text: text_of(t, row),
            when: local_time(&app.site, row.created_at),
            unread: row.read_at.is_none(),
        })
        .collect();
    Ok(ListView {
        layout: Layout::titled(&app, &ctx, "notices.title"),
        any_unread: user.unread_notices > 0 || items.iter().any(|i| i.unread),
        items,
        pager: Pager::new(t, "/notifications", page, pages),
    })
}

/// Marks a notice read in one unit of work.
async fn mark_read(app: &App, user_id: i64, id: i64) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    if db::notify::mark_read(work.exec(), user_id, id, now).await? {
        work.announce(Event::NoticesChanged { user_id });
    }
    work.commit().await?;
    Ok(())
}

/// Opens an item: marks it read and leads to what it is about. Someone else's notice, or one
/// whose subject may no longer be seen, is not found.
pub async fn open(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let row = {
        let mut conn = app.db.conn().await?;
        db::notify::listed(conn.exec(), viewer(&user), user.id, Some(id), 1, 0).await?
    };
    let row = row.into_iter().next().ok_or(AppError::NotFound)?;
    // Marking read is a write, limited like every other; over the limit the link still leads
    // on, and the item stays unread.
    if row.read_at.is_none() && app.writes.check(&user, WriteKind::Notice).is_ok() {
        mark_read(&app, user.id, id).await?;
    }
    Ok(Redirect::to(&target(&row)).into_response())
}

pub async fn read_all(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Notice)?;
    mark_all_read(&app, &user).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s("notices.all_read").into_owned())
        .await?;
    Ok(Redirect::to("/notifications").into_response())
}

async fn mark_all_read(app: &App, user: &SessionUser) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    if db::notify::mark_all_read(work.exec(), user.id, now).await? > 0 {
        work.announce(Event::NoticesChanged { user_id: user.id });
    }
    work.commit().await?;
    Ok(())
}
