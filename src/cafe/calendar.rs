//! The members' café page (`/cafe`): the rooms open to the reader, whether a session is on now,
//! and the sessions of the next weeks in the site's time zone, each with "add to calendar" (an
//! `.ics` file) and a form that asks for, or stops, an e-mail reminder. Everything here is for
//! rooms open to the reader (`db::cafe::ROOM_OPEN`); anything else is 404.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{CurrentUser, RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::cafe::ics::{self, CalendarEvent};
use crate::cafe::schedule::{self, Reminder, when};
use crate::db;
use crate::db::cafe_schedule::OpenSession;
use crate::error::{AppError, AppResult};
use crate::forums::viewer;
use crate::i18n::Tr;
use crate::web::layout::Layout;

/// How far ahead the page lists sessions.
const AHEAD_DAYS: i64 = 28;
/// The most sessions the page lists.
const LISTED: i64 = 100;

/// A session as the page lists it.
pub struct SessionItem {
    pub id: i64,
    pub when: String,
    pub theme: String,
    pub facilitator: Option<String>,
    pub on_now: bool,
    pub reminded: bool,
    /// Whether a reminder can still be asked for (the session has not started).
    pub can_remind: bool,
}

/// A room with its sessions.
pub struct RoomItem {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// What the room is outside its sessions, in words.
    pub outside: String,
    pub on_now: bool,
    pub sessions: Vec<SessionItem>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cafe/index.html")]
pub struct CafeView {
    layout: Layout,
    rooms: Vec<RoomItem>,
    ahead: String,
}

fn item(app: &AppState, t: Tr, s: &OpenSession, now: i64) -> SessionItem {
    SessionItem {
        id: s.id,
        when: when(&app.site, t, s.starts_at, s.ends_at),
        theme: s.theme.clone(),
        facilitator: s.facilitator_name.clone(),
        on_now: s.starts_at <= now,
        reminded: s.reminded,
        can_remind: s.starts_at > now,
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<CafeView> {
    let t = ctx.tr();
    let viewer = viewer(&user);
    let now = db::now();
    let mut conn = app.db.conn().await?;
    let rooms = db::cafe::rooms(conn.exec(), viewer).await?;
    let sessions = db::cafe_schedule::open_sessions(
        conn.exec(),
        viewer,
        now,
        now + AHEAD_DAYS * 86_400,
        LISTED,
    )
    .await?;
    drop(conn);
    let rooms = rooms
        .into_iter()
        .map(|room| {
            let sessions: Vec<SessionItem> = sessions
                .iter()
                .filter(|s| s.room_id == room.id)
                .map(|s| item(&app, t, s, now))
                .collect();
            let outside = if room.closed_outside_sessions() {
                "cafe_schedule.outside_note.closed"
            } else {
                "cafe_schedule.outside_note.read_only"
            };
            RoomItem {
                id: room.id,
                on_now: sessions.iter().any(|s| s.on_now),
                name: room.name,
                description: room.description,
                outside: t.s(outside).into_owned(),
                sessions,
            }
        })
        .collect();
    Ok(CafeView {
        layout: Layout::titled(&app, &ctx, "cafe_schedule.title"),
        rooms,
        ahead: t.f(
            "cafe_schedule.ahead",
            &[("weeks", &(AHEAD_DAYS / 7).to_string())],
        ),
    })
}

/// `/cafe/sessions/{id}.ics`: the session as a calendar file.
pub async fn calendar_file(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(file): Path<String>,
) -> AppResult<Response> {
    let id = file
        .strip_suffix(".ics")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or(AppError::NotFound)?;
    let t = ctx.tr();
    let session = {
        let mut conn = app.db.conn().await?;
        db::cafe_schedule::open_session(conn.exec(), viewer(&user), id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let url = app.config.link(&format!("/cafe/{}", session.room_id));
    let host = app.config.base_url.host_str().unwrap_or("localhost");
    let uid = format!("cafe-session-{id}@{host}");
    let summary = if session.theme.is_empty() {
        session.room_name.clone()
    } else {
        format!("{}：{}", session.room_name, session.theme)
    };
    let mut description = vec![t.f("cafe_schedule.ics.room", &[("room", &session.room_name)])];
    if !session.theme.is_empty() {
        description.push(t.f("cafe_schedule.ics.theme", &[("theme", &session.theme)]));
    }
    if let Some(name) = &session.facilitator_name {
        description.push(t.f("cafe_schedule.ics.facilitator", &[("name", name)]));
    }
    description.push(url.clone());
    let body = ics::calendar(&CalendarEvent {
        uid: &uid,
        stamp: db::now(),
        starts_at: session.starts_at,
        ends_at: session.ends_at,
        summary: &summary,
        description: &description.join("\n"),
        url: &url,
    });
    let disposition = format!("attachment; filename=\"cafe-session-{id}.ics\"");
    Ok((
        [
            (header::CONTENT_TYPE, ics::CONTENT_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct RemindForm {
    /// `on` to ask for the reminder, `off` to stop it.
    #[serde(default)]
    remind: String,
}

/// "Remind me by e-mail" and "stop the reminder".
pub async fn remind(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RemindForm>,
) -> AppResult<Response> {
    let on = match form.remind.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("remind is on or off")),
    };
    app.writes.check(&user, WriteKind::Reminder)?;
    let key = match schedule::set_reminder(&app, viewer(&user), id, on).await? {
        Reminder::On => "cafe_schedule.reminder_on",
        Reminder::Off => "cafe_schedule.reminder_off",
        Reminder::Started => "cafe_schedule.reminder_started",
    };
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to(&format!("/cafe#session-{id}")).into_response())
}
