//! A room's page. Without JavaScript it is complete: the latest messages, the form to write one
//! (the page reloads), and for those who keep the room the buttons to remove, approve, mute,
//! slow down and pause. `static/cafe.js` upgrades the same page to live sending and receiving.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::live::HISTORY;
use super::rules::{MAX_MESSAGE, RoomState};
use super::service::{self, SLOW_MODES};
use crate::AppState;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{CurrentUser, RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::content::{self, Draft, Outcome};
use crate::db;
use crate::db::cafe::{MessageRow, SessionRow};
use crate::db::users::SessionUser;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::forums::viewer;
use crate::web::badge::Badge;
use crate::web::layout::{Layout, local_clock, local_time};

pub struct MessageItem {
    pub id: i64,
    pub author_id: i64,
    pub author: String,
    pub badge: Option<Badge>,
    pub body: String,
    pub time: String,
    pub held: bool,
    pub mine: bool,
    /// The reader may mute the author: they keep the room, the author is not staff or them.
    pub mutable: bool,
}

pub struct SlowChoice {
    pub seconds: i64,
    pub label: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/room.html")]
pub struct RoomView {
    pub layout: Layout,
    pub room_id: i64,
    pub name: String,
    pub description: String,
    /// The conversation is shown (during a session, or a room readable outside sessions).
    pub readable: bool,
    /// What the room is now, in words.
    pub status: String,
    pub session: Option<SessionText>,
    pub next_session: Option<SessionText>,
    pub messages: Vec<MessageItem>,
    /// The room's change number the page shows, for the script to follow on from.
    pub seq: i64,
    pub can_write: bool,
    pub keeps: bool,
    pub paused: bool,
    pub slow_modes: Vec<SlowChoice>,
    pub presence: Vec<String>,
    pub invisible: bool,
    pub body: String,
    pub errors: Vec<String>,
    pub max_message: usize,
    /// Role labels for the script, which shows badges on live messages.
    pub role_labels: Vec<(&'static str, String)>,
}

pub struct SessionText {
    pub when: String,
    pub theme: String,
    pub facilitator: Option<String>,
}

fn session_text(app: &AppState, session: &SessionRow) -> SessionText {
    SessionText {
        when: format!(
            "{} – {}",
            local_time(&app.site, session.starts_at),
            local_clock(&app.site, session.ends_at)
        ),
        theme: session.theme.clone(),
        facilitator: session.facilitator_name.clone(),
    }
}

/// Everything the page reads, on one connection.
struct PageData {
    room: RoomState,
    next: Option<SessionRow>,
    messages: Vec<MessageRow>,
    seq: i64,
    muted: bool,
    invisible: bool,
}

async fn page_data(app: &AppState, user: &SessionUser, room_id: i64) -> AppResult<PageData> {
    let now = db::now();
    let mut conn = app.db.conn().await?;
    let mut exec = conn.exec();
    let room = RoomState::load(exec.again(), viewer(user), room_id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let next = db::cafe::next_session(exec.again(), room_id, now).await?;
    let seq = db::cafe::last_seq(exec.again(), room_id)
        .await?
        .unwrap_or(0);
    let messages = if room.readable_by(user) {
        db::cafe::history(exec.again(), viewer(user), room_id, seq, HISTORY).await?
    } else {
        Vec::new()
    };
    let muted = match &room.session {
        Some(session) => db::cafe::is_muted(exec.again(), session.id, user.id).await?,
        None => false,
    };
    let invisible = db::cafe::invisible(exec, user.id).await?;
    Ok(PageData {
        room,
        next,
        messages,
        seq,
        muted,
        invisible,
    })
}

async fn render(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    room_id: i64,
    body: String,
    errors: Vec<String>,
) -> AppResult<RoomView> {
    let data = page_data(app, user, room_id).await?;
    let t = ctx.tr();
    let keeps = data.room.kept_by(user);
    let readable = data.room.readable_by(user);
    let paused = data.room.paused();
    let slow = data.room.slow_mode_seconds();
    let status = match &data.room.session {
        None if data.room.room.closed_outside_sessions() => t.s("cafe.state.closed_room"),
        None => t.s("cafe.state.closed"),
        Some(_) if data.muted => t.s("cafe.state.muted"),
        Some(_) if paused => t.s("cafe.state.paused"),
        Some(_) if slow > 0 => t
            .f("cafe.state.slow", &[("seconds", &slow.to_string())])
            .into(),
        Some(_) => t.s("cafe.state.open"),
    }
    .into_owned();
    let can_write = keeps || (data.room.session.is_some() && !paused && !data.muted);
    let messages = data
        .messages
        .iter()
        .map(|row| {
            let role = row.author_role.parse().unwrap_or(Role::Member);
            MessageItem {
                id: row.id,
                author_id: row.author_id,
                author: row.author_name.clone(),
                badge: Badge::for_role(t, role),
                body: row.body.clone(),
                time: local_clock(&app.site, row.created_at),
                held: row.status == "held",
                mine: row.author_id == user.id,
                mutable: keeps
                    && data.room.session.is_some()
                    && row.author_id != user.id
                    && !role.is_staff(),
            }
        })
        .collect();
    let presence = app.cafe.present_names(room_id);
    Ok(RoomView {
        layout: Layout::new(app, ctx, data.room.room.name.clone()),
        room_id,
        name: data.room.room.name.clone(),
        description: data.room.room.description.clone(),
        readable,
        status,
        session: data.room.session.as_ref().map(|s| session_text(app, s)),
        next_session: data.next.as_ref().map(|s| session_text(app, s)),
        messages,
        seq: data.seq,
        can_write,
        keeps,
        paused,
        slow_modes: SLOW_MODES
            .iter()
            .map(|&seconds| SlowChoice {
                seconds,
                label: if seconds == 0 {
                    t.s("cafe.slow.off").into_owned()
                } else {
                    t.f("cafe.slow.seconds", &[("seconds", &seconds.to_string())])
                },
                current: seconds == slow,
            })
            .collect(),
        presence,
        invisible: data.invisible,
        body,
        errors,
        max_message: MAX_MESSAGE,
        role_labels: Role::ALL
            .iter()
            .filter(|role| **role != Role::Member)
            .map(|role| (role.as_str(), t.s(&format!("role.{role}")).into_owned()))
            .collect(),
    })
}

/// `GET /cafe/{id}`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(room_id): Path<i64>,
) -> AppResult<RoomView> {
    render(&app, &ctx, &user, room_id, String::new(), Vec::new()).await
}

#[derive(Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    body: String,
}

/// `POST /cafe/{id}/messages`: a message sent without the script.
pub async fn send(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(room_id): Path<i64>,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::CafeMessage)?;
    let t = ctx.tr();
    let draft = Draft::CafeMessage {
        room_id,
        body: &form.body,
    };
    let accepted = match content::submit(&app, &user, draft).await? {
        Ok(accepted) => accepted,
        Err(refusal) => {
            let errors = refusal.messages(t, &app.site);
            let view = render(&app, &ctx, &user, room_id, form.body, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let flash = SessionData(&ctx.session);
    if accepted.crisis {
        flash
            .set_flash(t.s("moderation.crisis_flash").into_owned())
            .await?;
        return Ok(Redirect::to("/support").into_response());
    }
    if let Outcome::Held(_) = accepted.outcome {
        flash
            .set_flash(t.s("cafe.held_notice").into_owned())
            .await?;
    }
    Ok(Redirect::to(&format!("/cafe/{room_id}#compose")).into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    reason: String,
}

/// The most a keeper writes as the reason for removing a message.
const MAX_REASON: usize = 500;

async fn back_to_room(ctx: &RequestContext, room_id: i64, key: &str) -> AppResult<Response> {
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to(&format!("/cafe/{room_id}")).into_response())
}

/// `POST /cafe/{id}/messages/{message}/remove`.
pub async fn remove(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path((room_id, message_id)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let reason: String = form.reason.trim().chars().take(MAX_REASON).collect();
    service::remove(&app, &user, room_id, message_id, &reason).await?;
    back_to_room(&ctx, room_id, "cafe.done.removed").await
}

/// `POST /cafe/{id}/messages/{message}/approve`.
pub async fn approve(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path((room_id, message_id)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    service::approve(&app, &user, room_id, message_id).await?;
    back_to_room(&ctx, room_id, "cafe.done.approved").await
}

/// `POST /cafe/{id}/members/{member}/mute`.
pub async fn mute(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path((room_id, member_id)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    service::mute(&app, &user, room_id, member_id).await?;
    back_to_room(&ctx, room_id, "cafe.done.muted").await
}

#[derive(Deserialize)]
pub struct SlowForm {
    seconds: i64,
}

/// `POST /cafe/{id}/slow`.
pub async fn slow(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(room_id): Path<i64>,
    CsrfForm(form): CsrfForm<SlowForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    service::set_slow_mode(&app, &user, room_id, form.seconds).await?;
    back_to_room(&ctx, room_id, "cafe.done.slow").await
}

/// `POST /cafe/{id}/pause` and `/cafe/{id}/resume`.
pub async fn pause(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path((room_id, action)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let paused = match action.as_str() {
        "pause" => true,
        "resume" => false,
        _ => return Err(AppError::NotFound),
    };
    app.writes.check(&user, WriteKind::Moderate)?;
    service::set_paused(&app, &user, room_id, paused).await?;
    let key = if paused {
        "cafe.done.paused"
    } else {
        "cafe.done.resumed"
    };
    back_to_room(&ctx, room_id, key).await
}

#[derive(Deserialize)]
pub struct PresenceForm {
    #[serde(default)]
    invisible: String,
    #[serde(default)]
    room: Option<i64>,
}

/// `POST /cafe/presence`: whether the member shows in rooms' presence lists.
pub async fn presence(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<PresenceForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let invisible = form.invisible == "1";
    service::set_invisible(&app, &user, invisible).await?;
    let key = if invisible {
        "cafe.done.invisible"
    } else {
        "cafe.done.visible"
    };
    match form.room {
        Some(room_id) => back_to_room(&ctx, room_id, key).await,
        None => {
            SessionData(&ctx.session)
                .set_flash(ctx.tr().s(key).into_owned())
                .await?;
            Ok(Redirect::to("/cafe").into_response())
        }
    }
}
