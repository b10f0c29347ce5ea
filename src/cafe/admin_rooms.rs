//! Café rooms, as coordinators manage them (`/admin/cafe`): create, edit, order, archive and
//! restore. A room has the texts and audience of a forum category (the same form checks them:
//! `admin::categories`) and says what it is outside its sessions: read-only or closed. Who may
//! enter is the café's rule (`db::cafe::ROOM_OPEN`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::admin::categories::{self, CategoryForm, Choice, FormView, audience_label};
use crate::admin::service::Direction;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::cafe::schedule::{self, Outside, RoomChecked, RoomEdited};
use crate::db;
use crate::db::cafe_schedule::ManagedRoom;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::layout::Layout;

/// The room form's fields as typed: a category's, and what the room is outside its sessions.
#[derive(Deserialize, Default, Clone)]
pub struct RoomForm {
    #[serde(flatten)]
    texts: CategoryForm,
    #[serde(default)]
    outside_sessions: String,
}

impl RoomForm {
    fn blank() -> RoomForm {
        RoomForm {
            texts: CategoryForm::blank(),
            outside_sessions: Outside::ReadOnly.as_str().to_owned(),
        }
    }

    fn of(r: &ManagedRoom) -> RoomForm {
        RoomForm {
            texts: CategoryForm {
                name: r.name.clone(),
                description: r.description.clone(),
                name_en: r.name_en.clone().unwrap_or_default(),
                description_en: r.description_en.clone().unwrap_or_default(),
                min_role: categories::audience_value(r.min_role_rank).to_owned(),
                only_relation: r.only_relation.clone().unwrap_or_default(),
            },
            outside_sessions: r.outside_sessions.clone(),
        }
    }
}

/// The room as it will be stored, or every reason it cannot be, in the reader's language.
pub fn check(
    t: Tr,
    form: &RoomForm,
    current_rank: Option<i64>,
) -> Result<RoomChecked, Vec<String>> {
    let texts = categories::check(t, &form.texts, current_rank);
    let outside = Outside::parse(&form.outside_sessions);
    match (texts, outside) {
        (Ok(texts), Some(outside)) => Ok(RoomChecked { texts, outside }),
        (texts, outside) => {
            let mut errors = texts.err().unwrap_or_default();
            if outside.is_none() {
                errors.push(t.s("cafe_schedule.bad_outside").into_owned());
            }
            Err(errors)
        }
    }
}

fn outside_label(t: Tr, value: &str) -> String {
    t.s(&format!("cafe_schedule.outside.{value}")).into_owned()
}

/// What the room form (templates/cafe/admin_room_form.html) shows.
pub struct RoomFormView {
    pub texts: FormView,
    pub outside: Vec<Choice>,
}

impl RoomFormView {
    fn new(t: Tr, form: RoomForm, errors: Vec<String>) -> RoomFormView {
        let outside = Outside::ALL
            .iter()
            .map(|o| Choice {
                value: o.as_str(),
                label: outside_label(t, o.as_str()),
                selected: form.outside_sessions == o.as_str(),
            })
            .collect();
        RoomFormView {
            texts: FormView::new(t, form.texts, errors),
            outside,
        }
    }
}

/// A room in the coordinators' list.
pub struct Row {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub english: Option<String>,
    pub audience: String,
    pub outside: String,
    pub upcoming: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/admin_rooms.html")]
pub struct RoomsView {
    layout: Layout,
    active: Vec<Row>,
    archived: Vec<Row>,
    form: RoomFormView,
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    form: RoomForm,
    errors: Vec<String>,
) -> AppResult<RoomsView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let all = db::cafe_schedule::managed_rooms(conn.exec(), db::now()).await?;
    drop(conn);
    let row = |r: &ManagedRoom| Row {
        id: r.id,
        name: r.name.clone(),
        description: r.description.clone(),
        english: r
            .name_en
            .as_ref()
            .map(|name| t.f("categories.english_name", &[("name", name)])),
        audience: audience_label(t, r.min_role_rank, r.only_relation.as_deref()),
        outside: outside_label(t, &r.outside_sessions),
        upcoming: t.count("cafe_schedule.upcoming_count", r.upcoming, &[]),
        first: false,
        last: false,
    };
    let mut active: Vec<Row> = all
        .iter()
        .filter(|r| r.archived_at.is_none())
        .map(row)
        .collect();
    if let Some(first) = active.first_mut() {
        first.first = true;
    }
    if let Some(last) = active.last_mut() {
        last.last = true;
    }
    let archived = all
        .iter()
        .filter(|r| r.archived_at.is_some())
        .map(row)
        .collect();
    Ok(RoomsView {
        layout: Layout::titled(app, ctx, "cafe_schedule.rooms_title"),
        active,
        archived,
        form: RoomFormView::new(t, form, errors),
    })
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<RoomsView> {
    list_view(&app, &ctx, RoomForm::blank(), Vec::new()).await
}

pub async fn create(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<RoomForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let checked = match check(t, &form, None) {
        Ok(checked) => checked,
        Err(errors) => {
            let view = list_view(&app, &ctx, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    schedule::create_room(&app, user.id, &checked).await?;
    SessionData(&ctx.session)
        .set_flash(t.f(
            "cafe_schedule.room_created",
            &[("name", &checked.texts.name)],
        ))
        .await?;
    Ok(Redirect::to("/admin/cafe").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/admin_room_edit.html")]
pub struct EditView {
    layout: Layout,
    id: i64,
    archived: bool,
    form: RoomFormView,
}

pub async fn edit_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<EditView> {
    let mut conn = app.db.conn().await?;
    let room = db::cafe_schedule::managed_room(conn.exec(), id, db::now())
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    Ok(EditView {
        layout: Layout::titled(&app, &ctx, "cafe_schedule.room_edit_title"),
        id,
        archived: room.archived_at.is_some(),
        form: RoomFormView::new(ctx.tr(), RoomForm::of(&room), Vec::new()),
    })
}

pub async fn update(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoomForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let edited = schedule::update_room(&app, user.id, id, |before| {
        check(t, &form, Some(before.min_role_rank))
    })
    .await?;
    let checked = match edited {
        RoomEdited::Saved(checked) => checked,
        RoomEdited::Refused { errors, archived } => {
            let view = EditView {
                layout: Layout::titled(&app, &ctx, "cafe_schedule.room_edit_title"),
                id,
                archived,
                form: RoomFormView::new(t, form, errors),
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    SessionData(&ctx.session)
        .set_flash(t.f("cafe_schedule.room_saved", &[("name", &checked.texts.name)]))
        .await?;
    Ok(Redirect::to("/admin/cafe").into_response())
}

pub async fn move_up(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    reorder(&app, &ctx, user.id, id, Direction::Up).await
}

pub async fn move_down(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    reorder(&app, &ctx, user.id, id, Direction::Down).await
}

async fn reorder(
    app: &AppState,
    ctx: &RequestContext,
    actor: i64,
    id: i64,
    direction: Direction,
) -> AppResult<Response> {
    if let Some(name) = schedule::move_room(app, actor, id, direction).await? {
        let key = match direction {
            Direction::Up => "cafe_schedule.room_moved_up",
            Direction::Down => "cafe_schedule.room_moved_down",
        };
        SessionData(&ctx.session)
            .set_flash(ctx.tr().f(key, &[("name", &name)]))
            .await?;
    }
    Ok(Redirect::to("/admin/cafe").into_response())
}

pub async fn archive(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    set_archived(&app, &ctx, user.id, id, true).await
}

pub async fn restore(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    set_archived(&app, &ctx, user.id, id, false).await
}

async fn set_archived(
    app: &AppState,
    ctx: &RequestContext,
    actor: i64,
    id: i64,
    archive: bool,
) -> AppResult<Response> {
    let name = schedule::set_room_archived(app, actor, id, archive).await?;
    let key = if archive {
        "cafe_schedule.room_archived"
    } else {
        "cafe_schedule.room_restored"
    };
    SessionData(&ctx.session)
        .set_flash(ctx.tr().f(key, &[("name", &name)]))
        .await?;
    Ok(Redirect::to("/admin/cafe").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    fn form(name: &str, relation: &str, outside: &str) -> RoomForm {
        RoomForm {
            texts: CategoryForm {
                name: name.to_owned(),
                min_role: "member".to_owned(),
                only_relation: relation.to_owned(),
                ..CategoryForm::default()
            },
            outside_sessions: outside.to_owned(),
        }
    }

    #[test]
    fn rooms_are_checked_like_categories_and_say_what_they_are_outside_sessions() {
        let t = Locale::Ja.tr();
        let checked = check(t, &form(" 家族の  カフェ ", "family", "closed"), None).expect("valid");
        assert_eq!(checked.texts.name, "家族の カフェ");
        assert_eq!(checked.texts.relation(), Some("family"));
        assert_eq!(checked.outside, Outside::Closed);
        let errors = check(t, &form("", "friend", "open"), None).expect_err("three problems");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.contains(&t.s("cafe_schedule.bad_outside").into_owned()));
    }
}
