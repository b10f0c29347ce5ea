//! The café's schedule, its rules and units of work: coordinators create, edit, order, archive
//! and restore rooms, and schedule, edit and cancel sessions (one at a time or a series from a
//! rule); members ask for a reminder. Each change is one unit of work with its log row and its
//! event; the handlers only parse, call one of these and render.

use jiff::civil::{Date, Time};

use crate::App;
use crate::admin::service::{Checked, Direction, Ordered, move_in};
use crate::cafe::recurrence::{self, Rule, RuleError, TimeError};
use crate::db::cafe_schedule::{ManagedRoom, ManagedSession, RoomRules, SessionPlan};
use crate::db::forums::Viewer;
use crate::db::{self, Exec};
use crate::domain::account::name_key;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::i18n::{Locale, Tr};
use crate::web::form::FieldErrors;
use crate::work::Work;

/// What a room is outside its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// History shown; nobody but staff writes.
    ReadOnly,
    /// Nothing shown but the schedule.
    Closed,
}

impl Outside {
    pub const ALL: [Outside; 2] = [Outside::ReadOnly, Outside::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outside::ReadOnly => "read_only",
            Outside::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Outside> {
        Outside::ALL.into_iter().find(|o| o.as_str() == value)
    }
}

/// A room as it may be stored: the texts and audience a category has, and what it is outside
/// its sessions.
#[derive(Debug, PartialEq, Eq)]
pub struct RoomChecked {
    pub texts: Checked,
    pub outside: Outside,
}

impl Ordered for ManagedRoom {
    fn id(&self) -> i64 {
        self.id
    }
    fn position(&self) -> i64 {
        self.position
    }
    fn archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

impl RoomChecked {
    fn rules(&self) -> RoomRules<'_> {
        RoomRules {
            min_role_rank: self.texts.min_role_rank,
            only_relation: self.texts.relation(),
            outside_sessions: self.outside.as_str(),
        }
    }

    fn same_as(&self, r: &ManagedRoom) -> bool {
        let t = &self.texts;
        t.name == r.name
            && t.description == r.description
            && t.name_en == r.name_en
            && t.description_en == r.description_en
            && t.min_role_rank == r.min_role_rank
            && t.relation() == r.only_relation.as_deref()
            && self.outside.as_str() == r.outside_sessions
    }

    fn summary(&self) -> String {
        format!(
            "{:?}: min rank {}, relation {}, outside sessions {}",
            self.texts.name,
            self.texts.min_role_rank,
            self.texts.relation().unwrap_or("any"),
            self.outside.as_str()
        )
    }
}

/// A room numbered `id`, or 404.
async fn room_by_id(work: &mut Work<'_>, id: i64) -> AppResult<ManagedRoom> {
    let now = work.now();
    db::cafe_schedule::managed_room(work.exec(), id, now)
        .await?
        .ok_or(AppError::NotFound)
}

fn room_log(actor: i64, action: Action, id: i64) -> LogRecord {
    LogRecord::new(actor, action, TargetKind::CafeRoom, id)
}

pub async fn create_room(app: &App, actor: i64, checked: &RoomChecked) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::cafe_schedule::lock_rooms(work.exec()).await?;
    let id =
        db::cafe_schedule::insert_room(work.exec(), checked.texts.texts(), checked.rules(), now)
            .await?;
    work.log(room_log(actor, Action::CafeRoomCreated, id).because(checked.summary()))
        .await?;
    work.announce(Event::CafeRoomsChanged);
    work.commit().await?;
    Ok(())
}

/// What became of a room's edit.
pub enum RoomEdited {
    Saved(RoomChecked),
    /// The form's reasons, and whether the room is archived, for the form shown again.
    Refused {
        errors: Vec<String>,
        archived: bool,
    },
}

/// Edits a room. `check` is the form's check against the room as stored, in the same unit of
/// work; an unchanged room writes nothing.
pub async fn update_room(
    app: &App,
    actor: i64,
    id: i64,
    check: impl FnOnce(&ManagedRoom) -> Result<RoomChecked, Vec<String>>,
) -> AppResult<RoomEdited> {
    let mut work = app.work().await?;
    let before = room_by_id(&mut work, id).await?;
    let checked = match check(&before) {
        Ok(checked) => checked,
        Err(errors) => {
            let archived = before.archived_at.is_some();
            return Ok(RoomEdited::Refused { errors, archived });
        }
    };
    if checked.same_as(&before) {
        return Ok(RoomEdited::Saved(checked));
    }
    db::cafe_schedule::update_room(work.exec(), id, checked.texts.texts(), checked.rules()).await?;
    let what = format!(
        "{:?} (min rank {}, relation {}, outside sessions {}) -> {}",
        before.name,
        before.min_role_rank,
        before.only_relation.as_deref().unwrap_or("any"),
        before.outside_sessions,
        checked.summary()
    );
    work.log(room_log(actor, Action::CafeRoomEdited, id).because(what))
        .await?;
    work.announce(Event::CafeRoomsChanged);
    work.commit().await?;
    Ok(RoomEdited::Saved(checked))
}

/// Swaps a room with its neighbour among those not archived, then numbers every room in the new
/// order. Returns the moved room's name, or `None` when there was nothing to move.
pub async fn move_room(
    app: &App,
    actor: i64,
    id: i64,
    direction: Direction,
) -> AppResult<Option<String>> {
    let mut work = app.work().await?;
    let now = work.now();
    db::cafe_schedule::lock_rooms(work.exec()).await?;
    let mut all = db::cafe_schedule::managed_rooms(work.exec(), now).await?;
    let Some(moved) = move_in(&mut all, id, direction)? else {
        return Ok(None);
    };
    for (room, position) in &moved.positions {
        db::cafe_schedule::set_room_position(work.exec(), *room, *position).await?;
    }
    let action = match direction {
        Direction::Up => Action::CafeRoomMovedUp,
        Direction::Down => Action::CafeRoomMovedDown,
    };
    let what = format!("swapped with room {}", moved.swapped_with);
    work.log(room_log(actor, action, id).because(what)).await?;
    work.announce(Event::CafeRoomsChanged);
    work.commit().await?;
    Ok(Some(all.swap_remove(moved.to).name))
}

/// Archives or restores a room and returns its name; doing it twice changes nothing more.
pub async fn set_room_archived(app: &App, actor: i64, id: i64, archive: bool) -> AppResult<String> {
    let mut work = app.work().await?;
    let now = work.now();
    let room = room_by_id(&mut work, id).await?;
    if room.archived_at.is_some() == archive {
        return Ok(room.name);
    }
    db::cafe_schedule::set_room_archived(work.exec(), id, archive.then_some(now)).await?;
    let action = if archive {
        Action::CafeRoomArchived
    } else {
        Action::CafeRoomRestored
    };
    let what = format!("{:?}, {} sessions to come", room.name, room.upcoming);
    work.log(room_log(actor, action, id).because(what)).await?;
    work.announce(Event::CafeRoomsChanged);
    work.announce(Event::CafeSession { room_id: id });
    work.commit().await?;
    Ok(room.name)
}

// Sessions.

/// Characters in a session's theme.
pub const MAX_THEME: usize = 100;

/// A session's times and people as typed, parsed but not yet checked against the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub start: Time,
    pub end: Time,
    pub theme: String,
    /// The facilitator's display name as typed; empty for none.
    pub facilitator: String,
}

/// One session on one date, or a series from a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dates {
    One(Date),
    Series { rule: Rule, first: Date, last: Date },
}

/// What the schedule forms ask for, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub dates: Dates,
    pub timing: Timing,
}

/// The message for a rule that gives no series.
pub fn rule_error(t: Tr, error: &RuleError) -> (&'static str, String) {
    match error {
        RuleError::EndBeforeStart => ("last", t.s("cafe_schedule.error.last_before_first").into()),
        RuleError::TooLong => (
            "last",
            t.f(
                "cafe_schedule.error.too_long",
                &[("months", &recurrence::MAX_MONTHS.to_string())],
            ),
        ),
        RuleError::NoWeeks => ("nth_1", t.s("cafe_schedule.error.no_weeks").into()),
        RuleError::NoDates => ("first", t.s("cafe_schedule.error.no_dates").into()),
        RuleError::TooMany(n) => (
            "last",
            t.f(
                "cafe_schedule.error.too_many",
                &[
                    ("count", &n.to_string()),
                    ("max", &recurrence::MAX_SESSIONS.to_string()),
                ],
            ),
        ),
    }
}

/// The facilitator named, when the name is a member's: their id. Empty: none.
async fn facilitator_by_name(exec: Exec<'_>, name: &str) -> Result<Option<Option<i64>>, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(Some(None));
    }
    let key = name_key(name);
    let found = db::users::by_name_keys(exec, std::slice::from_ref(&key)).await?;
    Ok(found.first().map(|(_, id, _)| Some(*id)))
}

/// The plans of every session `planned` makes, or every reason it makes none.
async fn plans(
    work: &mut Work<'_>,
    t: Tr,
    planned: &Planned,
    keep_start: Option<i64>,
) -> AppResult<Result<Vec<SessionPlan>, FieldErrors>> {
    let zone = &work.app().site.time_zone();
    let mut errors = FieldErrors::default();
    let dates = match &planned.dates {
        Dates::One(date) => vec![*date],
        Dates::Series { rule, first, last } => match rule.dates(*first, *last) {
            Ok(dates) => dates,
            Err(error) => {
                let (field, message) = rule_error(t, &error);
                errors.add(field, message);
                Vec::new()
            }
        },
    };
    let timing = &planned.timing;
    let mut times = Vec::with_capacity(dates.len());
    for date in &dates {
        match recurrence::session_times(zone, *date, timing.start, timing.end) {
            Ok(pair) => times.push(pair),
            Err(TimeError::EndNotAfterStart) => {
                errors.add("end", t.s("cafe_schedule.error.end_before_start").into());
                break;
            }
            Err(TimeError::Unrepresentable) => {
                errors.add("date", t.s("datetime.error.bad_date").into());
                break;
            }
        }
    }
    // A session cannot start in the past, unless an edit keeps the time it had.
    let now = work.now();
    let started = |start: i64| start <= now && Some(start) != keep_start;
    if errors.is_empty() && times.iter().any(|(start, _)| started(*start)) {
        match planned.dates {
            Dates::One(_) => errors.add("start", t.s("cafe_schedule.error.started").into()),
            Dates::Series { .. } => {
                errors.add("first", t.s("cafe_schedule.error.series_started").into());
            }
        }
    }
    let facilitator = facilitator_by_name(work.exec(), &timing.facilitator).await?;
    if facilitator.is_none() {
        errors.add(
            "facilitator",
            t.f(
                "cafe_schedule.error.unknown_facilitator",
                &[("name", timing.facilitator.trim())],
            ),
        );
    }
    match facilitator {
        Some(facilitator_id) if errors.is_empty() => Ok(Ok(times
            .into_iter()
            .map(|(starts_at, ends_at)| SessionPlan {
                starts_at,
                ends_at,
                theme: timing.theme.clone(),
                facilitator_id,
            })
            .collect())),
        _ => Ok(Err(errors)),
    }
}

/// Schedules one session or a series in a room (archived or not: a room may be prepared before
/// it opens). Returns how many sessions were made, or the form's problems (nothing written).
pub async fn schedule(
    app: &App,
    t: Tr,
    actor: i64,
    room_id: i64,
    planned: &Planned,
) -> AppResult<Result<usize, FieldErrors>> {
    let mut work = app.work().await?;
    let now = work.now();
    room_by_id(&mut work, room_id).await?;
    let plans = match plans(&mut work, t, planned, None).await? {
        Ok(plans) => plans,
        Err(errors) => return Ok(Err(errors)),
    };
    match &planned.dates {
        Dates::One(_) => {
            for plan in &plans {
                let id =
                    db::cafe_schedule::insert_session(work.exec(), room_id, None, plan, actor, now)
                        .await?;
                let what = format!("{}..{}", plan.starts_at, plan.ends_at);
                work.log(
                    LogRecord::new(
                        actor,
                        Action::CafeSessionScheduled,
                        TargetKind::CafeSession,
                        id,
                    )
                    .because(what),
                )
                .await?;
            }
        }
        Dates::Series { rule, first, last } => {
            let text = rule.text();
            let series =
                db::cafe_schedule::insert_series(work.exec(), room_id, &text, actor, now).await?;
            for plan in &plans {
                db::cafe_schedule::insert_session(
                    work.exec(),
                    room_id,
                    Some(series),
                    plan,
                    actor,
                    now,
                )
                .await?;
            }
            let what = format!(
                "room {room_id}: {text}, {first} to {last}, {} sessions",
                plans.len()
            );
            work.log(
                LogRecord::new(
                    actor,
                    Action::CafeSessionScheduled,
                    TargetKind::CafeSeries,
                    series,
                )
                .because(what),
            )
            .await?;
        }
    }
    work.announce(Event::CafeSession { room_id });
    work.commit().await?;
    Ok(Ok(plans.len()))
}

/// A session numbered `id`, or 404.
async fn session_by_id(work: &mut Work<'_>, id: i64) -> AppResult<ManagedSession> {
    db::cafe_schedule::managed_session(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Changes one session's time, theme or facilitator. A cancelled session is a stale form. When
/// its start moves, reminders already sent are sent again before the new time.
pub async fn edit_session(
    app: &App,
    t: Tr,
    actor: i64,
    id: i64,
    date: Date,
    timing: &Timing,
) -> AppResult<Result<ManagedSession, FieldErrors>> {
    let mut work = app.work().await?;
    let before = session_by_id(&mut work, id).await?;
    if before.cancelled_at.is_some() {
        return Err(AppError::StaleForm);
    }
    let planned = Planned {
        dates: Dates::One(date),
        timing: timing.clone(),
    };
    let plan = match plans(&mut work, t, &planned, Some(before.starts_at)).await? {
        Ok(mut plans) => match plans.pop() {
            Some(plan) => plan,
            None => return Err(AppError::Internal("a date gave no session".into())),
        },
        Err(errors) => return Ok(Err(errors)),
    };
    let unchanged = plan.starts_at == before.starts_at
        && plan.ends_at == before.ends_at
        && plan.theme == before.theme
        && plan.facilitator_id == before.facilitator_id;
    if unchanged {
        return Ok(Ok(before));
    }
    if !db::cafe_schedule::update_session(work.exec(), id, &plan).await? {
        return Err(AppError::StaleForm);
    }
    if plan.starts_at != before.starts_at {
        db::cafe_schedule::reset_reminders(work.exec(), id).await?;
    }
    let what = format!(
        "{}..{} -> {}..{}, theme {}, facilitator {:?} -> {:?}",
        before.starts_at,
        before.ends_at,
        plan.starts_at,
        plan.ends_at,
        if plan.theme == before.theme {
            "kept"
        } else {
            "changed"
        },
        before.facilitator_id,
        plan.facilitator_id
    );
    work.log(
        LogRecord::new(
            actor,
            Action::CafeSessionEdited,
            TargetKind::CafeSession,
            id,
        )
        .because(what),
    )
    .await?;
    work.announce(Event::CafeSession {
        room_id: before.room_id,
    });
    work.commit().await?;
    Ok(Ok(before))
}

/// What to cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// This session only.
    One,
    /// This session and the rest of its series.
    Rest,
}

/// The session to be cancelled (for its confirmation page); a session of no series cannot have
/// "the rest of its series" cancelled.
pub async fn session_to_cancel(app: &App, id: i64, what: Cancel) -> AppResult<ManagedSession> {
    let mut conn = app.db.conn().await?;
    let session = db::cafe_schedule::managed_session(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if what == Cancel::Rest && session.series_id.is_none() {
        return Err(AppError::NotFound);
    }
    Ok(session)
}

/// Cancels a session, or it and the rest of its series; returns the session and how many were
/// cancelled (0 when they already were). Reminders of cancelled sessions stay unsent.
pub async fn cancel(
    app: &App,
    actor: i64,
    id: i64,
    what: Cancel,
) -> AppResult<(ManagedSession, u64)> {
    let mut work = app.work().await?;
    let now = work.now();
    let session = session_by_id(&mut work, id).await?;
    let (count, record) = match (what, session.series_id) {
        (Cancel::One, _) => {
            let done = db::cafe_schedule::cancel_session(work.exec(), id, now).await?;
            let record = LogRecord::new(
                actor,
                Action::CafeSessionCancelled,
                TargetKind::CafeSession,
                id,
            );
            (u64::from(done), record)
        }
        (Cancel::Rest, Some(series)) => {
            let count =
                db::cafe_schedule::cancel_series_from(work.exec(), series, session.starts_at, now)
                    .await?;
            let record = LogRecord::new(
                actor,
                Action::CafeSessionCancelled,
                TargetKind::CafeSeries,
                series,
            )
            .because(format!("from session {id}: {count} sessions"));
            (count, record)
        }
        (Cancel::Rest, None) => return Err(AppError::NotFound),
    };
    if count > 0 {
        work.log(record).await?;
        work.announce(Event::CafeSession {
            room_id: session.room_id,
        });
        work.commit().await?;
    }
    Ok((session, count))
}

// Members.

/// What became of a reminder asked for or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    On,
    Off,
    /// The session has started: nothing to remind of any more (nothing written).
    Started,
}

/// Asks for (or stops) the reminder of a session the member may enter; 404 for any other.
pub async fn set_reminder(app: &App, viewer: Viewer, id: i64, on: bool) -> AppResult<Reminder> {
    let mut work = app.work().await?;
    let now = work.now();
    let session = db::cafe_schedule::open_session(work.exec(), viewer, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let outcome = if !on {
        db::cafe_schedule::remove_reminder(work.exec(), id, viewer.id).await?;
        Reminder::Off
    } else if session.starts_at <= now {
        return Ok(Reminder::Started);
    } else {
        db::cafe_schedule::add_reminder(work.exec(), id, viewer.id, now).await?;
        Reminder::On
    };
    work.commit().await?;
    Ok(outcome)
}

/// A session's time as members read it, in the site's time zone: `2026年12月10日（木）19:00〜20:30`,
/// `Thu 10 Dec 2026, 19:00–20:30`.
pub fn when(
    site: &crate::admin::site::SiteSettings,
    t: Tr,
    starts_at: i64,
    ends_at: i64,
) -> String {
    let local = |at: i64| {
        jiff::Timestamp::from_second(at)
            .ok()
            .map(|ts| ts.to_zoned(site.time_zone()))
    };
    let (Some(start), Some(end)) = (local(starts_at), local(ends_at)) else {
        return String::new();
    };
    let weekday = t.s(&format!(
        "cafe_schedule.weekday.{}",
        recurrence::weekday_code(start.weekday())
    ));
    let same_day = start.date() == end.date();
    let end_text = if same_day {
        end.strftime("%H:%M").to_string()
    } else {
        end.strftime("%Y-%m-%d %H:%M").to_string()
    };
    match Locale::parse(t.locale()) {
        Some(Locale::En) => format!(
            "{weekday} {}, {}–{end_text}",
            start.strftime("%-d %b %Y"),
            start.strftime("%H:%M"),
        ),
        _ => format!(
            "{}（{weekday}）{}〜{end_text}",
            start.strftime("%Y年%-m月%-d日"),
            start.strftime("%H:%M"),
        ),
    }
}
