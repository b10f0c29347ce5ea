//! Q&A slots, their rules and units of work: an expert creates, edits and cancels their own
//! slots, a coordinator any expert's. A slot's times are typed in the site's time zone; its
//! question deadline comes before its start; its capacity (1 to [`MAX_CAPACITY`] questions) is
//! never below the questions already accepted. A cancelled slot stays, marked cancelled. Each
//! change is one unit of work with its log row; bad input writes nothing.

use jiff::civil::{Date, Time};
use serde::Deserialize;

use crate::App;
use crate::db;
use crate::db::qa::SlotRow;
use crate::db::qa_slots::SlotPlan;
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::{Locale, Tr};
use crate::mail::Mail;
use crate::notify;
use crate::web::datetime::{instant, read_date, read_time};
use crate::web::form::FieldErrors;
use crate::web::layout::local_time;
use crate::work::Work;

/// Characters in a slot's theme.
pub const MAX_THEME: usize = 100;
/// The most questions a slot may take.
pub const MAX_CAPACITY: i64 = 50;

/// Whether `user` may hold slots at all: experts (their own) and coordinators (anyone's).
/// Anyone else gets 404, as for any page not theirs to know of.
pub fn may_hold_slots(user: &SessionUser) -> AppResult<()> {
    match user.role {
        Role::Expert | Role::Coordinator => Ok(()),
        Role::Member | Role::Moderator => Err(AppError::NotFound),
    }
}

/// Whether `user` may change a slot held by `expert_id`: a coordinator, or that expert. Another
/// expert is refused (403); anyone else gets 404.
pub fn may_manage(user: &SessionUser, expert_id: i64) -> AppResult<()> {
    may_hold_slots(user)?;
    if user.role == Role::Coordinator || user.id == expert_id {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A slot's fields as typed.
#[derive(Deserialize, Default, Clone)]
pub struct SlotForm {
    /// The expert's account id, chosen by a coordinator (an expert's own form has none).
    #[serde(default)]
    pub expert: String,
    #[serde(default)]
    pub theme: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub deadline_date: String,
    #[serde(default)]
    pub deadline_time: String,
    #[serde(default)]
    pub capacity: String,
    /// A checkbox: present (`on`) when ticked.
    #[serde(default)]
    pub publish_answers: String,
    #[serde(default)]
    pub follow_ups: String,
}

impl SlotForm {
    /// A new slot's form: answers published afterwards, no follow-ups, ten questions.
    pub fn blank() -> SlotForm {
        SlotForm {
            capacity: "10".to_owned(),
            publish_answers: "on".to_owned(),
            ..SlotForm::default()
        }
    }

    /// The form as it shows a stored slot: its dates and times in the site's zone.
    pub fn of(site: &crate::admin::site::SiteSettings, slot: &SlotRow) -> SlotForm {
        let text = |at: i64, format: &str| crate::web::layout::in_site_zone(site, at, format);
        let on = |yes: bool| if yes { "on" } else { "" }.to_owned();
        SlotForm {
            expert: slot.expert_id.to_string(),
            theme: slot.theme.clone(),
            date: text(slot.starts_at, "%Y-%m-%d"),
            start: text(slot.starts_at, "%H:%M"),
            end: text(slot.ends_at, "%H:%M"),
            deadline_date: text(slot.deadline_at, "%Y-%m-%d"),
            deadline_time: text(slot.deadline_at, "%H:%M"),
            capacity: slot.capacity.to_string(),
            publish_answers: on(slot.publish_answers),
            follow_ups: on(slot.follow_ups),
        }
    }

    pub fn publishes(&self) -> bool {
        !self.publish_answers.is_empty()
    }

    pub fn allows_follow_ups(&self) -> bool {
        !self.follow_ups.is_empty()
    }
}

/// A slot's form read: what needs neither the database nor the clock is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// The expert chosen on a coordinator's form.
    pub expert: Option<i64>,
    pub theme: String,
    pub date: Date,
    pub start: Time,
    pub end: Time,
    pub deadline_date: Date,
    pub deadline_time: Time,
    pub capacity: i64,
    pub publish_answers: bool,
    pub follow_ups: bool,
}

/// The form read, or every problem it has.
pub fn read_slot(t: Tr, form: &SlotForm) -> Result<Typed, FieldErrors> {
    let mut errors = FieldErrors::default();
    let expert = form.expert.trim();
    let expert = if expert.is_empty() {
        None
    } else {
        let id = expert.parse::<i64>().ok();
        if id.is_none() {
            errors.add("expert", t.s("qa_slots.error.unknown_expert").into());
        }
        id
    };
    let theme = form.theme.split_whitespace().collect::<Vec<_>>().join(" ");
    if theme.is_empty() {
        errors.add("theme", t.s("qa_slots.error.theme_missing").into());
    } else if theme.chars().count() > MAX_THEME {
        let max = MAX_THEME.to_string();
        errors.add(
            "theme",
            t.f("qa_slots.error.theme_too_long", &[("max", &max)]),
        );
    }
    let date = read_date(t, &mut errors, "date", &form.date);
    let start = read_time(t, &mut errors, "start", &form.start);
    let end = read_time(t, &mut errors, "end", &form.end);
    let deadline_date = read_date(t, &mut errors, "deadline_date", &form.deadline_date);
    let deadline_time = read_time(t, &mut errors, "deadline_time", &form.deadline_time);
    let capacity = form
        .capacity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_CAPACITY).contains(n));
    if capacity.is_none() {
        let max = MAX_CAPACITY.to_string();
        errors.add(
            "capacity",
            t.f("qa_slots.error.bad_capacity", &[("max", &max)]),
        );
    }
    match (date, start, end, deadline_date, deadline_time, capacity) {
        (
            Some(date),
            Some(start),
            Some(end),
            Some(deadline_date),
            Some(deadline_time),
            Some(capacity),
        ) if errors.is_empty() => Ok(Typed {
            expert,
            theme,
            date,
            start,
            end,
            deadline_date,
            deadline_time,
            capacity,
            publish_answers: form.publishes(),
            follow_ups: form.allows_follow_ups(),
        }),
        _ => Err(errors),
    }
}

/// The slot `typed` describes, held by `expert_id`, checked against the clock and the slot as
/// it was (`before`, for an edit): the end after the start on the same day, the deadline before
/// the start, neither in the past unless an edit keeps it, the capacity not below the questions
/// accepted.
fn plan(
    work: &Work<'_>,
    t: Tr,
    expert_id: i64,
    typed: &Typed,
    before: Option<&SlotRow>,
) -> Result<SlotPlan, FieldErrors> {
    let zone = &work.app().site.time_zone();
    let now = work.now();
    let mut errors = FieldErrors::default();
    let starts = instant(zone, typed.date, typed.start);
    let ends = instant(zone, typed.date, typed.end);
    let deadline = instant(zone, typed.deadline_date, typed.deadline_time);
    if starts.is_none() || ends.is_none() {
        errors.add("date", t.s("datetime.error.bad_date").into());
    }
    if deadline.is_none() {
        errors.add("deadline_date", t.s("datetime.error.bad_date").into());
    }
    let (Some(starts_at), Some(ends_at), Some(deadline_at)) = (starts, ends, deadline) else {
        return Err(errors);
    };
    if typed.end <= typed.start || ends_at <= starts_at {
        errors.add("end", t.s("qa_slots.error.end_before_start").into());
    }
    let kept = |at: i64, was: fn(&SlotRow) -> i64| before.is_some_and(|b| was(b) == at);
    if starts_at <= now && !kept(starts_at, |b| b.starts_at) {
        errors.add("start", t.s("qa_slots.error.started").into());
    }
    if deadline_at >= starts_at {
        errors.add_for(
            &["deadline_date", "deadline_time"],
            t.s("qa_slots.error.deadline_after_start").into(),
        );
    } else if deadline_at <= now && !kept(deadline_at, |b| b.deadline_at) {
        errors.add_for(
            &["deadline_date", "deadline_time"],
            t.s("qa_slots.error.deadline_passed").into(),
        );
    }
    if let Some(before) = before
        && typed.capacity < before.accepted
    {
        errors.add(
            "capacity",
            t.count(
                "qa_slots.error.capacity_below_accepted",
                before.accepted,
                &[],
            ),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SlotPlan {
        expert_id,
        theme: typed.theme.clone(),
        starts_at,
        ends_at,
        deadline_at,
        capacity: typed.capacity,
        publish_answers: typed.publish_answers,
        follow_ups: typed.follow_ups,
    })
}

/// Who holds the slot: an expert themself; for a coordinator, the expert chosen on the form,
/// who must be an active account with the expert role. `None`: the form's problem.
async fn holder(
    work: &mut Work<'_>,
    actor: &SessionUser,
    chosen: Option<i64>,
    keep: Option<i64>,
) -> AppResult<Option<i64>> {
    if actor.role != Role::Coordinator {
        return Ok(Some(keep.unwrap_or(actor.id)));
    }
    let Some(id) = chosen else {
        return Ok(None);
    };
    let expert = db::qa_slots::expert(work.exec(), id).await?;
    // An edit may keep an expert whose account was deactivated since.
    Ok(expert
        .filter(|e| e.active() || Some(e.id) == keep)
        .map(|e| e.id))
}

/// The slot `typed` describes, with its holder, or every problem of the form (`before`: the
/// slot as it was, for an edit).
async fn checked(
    work: &mut Work<'_>,
    t: Tr,
    actor: &SessionUser,
    typed: &Typed,
    before: Option<&SlotRow>,
) -> AppResult<Result<SlotPlan, FieldErrors>> {
    let keep = before.map(|b| b.expert_id);
    let expert = holder(work, actor, typed.expert, keep).await?;
    let fallback = keep.unwrap_or(actor.id);
    let planned = plan(work, t, expert.unwrap_or(fallback), typed, before);
    Ok(match (expert, planned) {
        (Some(_), Ok(plan)) => Ok(plan),
        (expert, planned) => {
            let mut errors = planned.err().unwrap_or_default();
            if expert.is_none() {
                errors.add("expert", t.s("qa_slots.error.unknown_expert").into());
            }
            Err(errors)
        }
    })
}

fn summary(plan: &SlotPlan) -> String {
    format!(
        "expert {}, {}..{}, deadline {}, capacity {}, publish answers {}, follow-ups {}",
        plan.expert_id,
        plan.starts_at,
        plan.ends_at,
        plan.deadline_at,
        plan.capacity,
        plan.publish_answers,
        plan.follow_ups
    )
}

fn slot_log(actor: i64, action: Action, id: i64, expert_id: i64) -> LogRecord {
    LogRecord::new(actor, action, TargetKind::QaSlot, id).about(expert_id)
}

/// Creates a slot; its id, or the form's problems (nothing written).
pub async fn create(
    app: &App,
    t: Tr,
    actor: &SessionUser,
    typed: &Typed,
) -> AppResult<Result<i64, FieldErrors>> {
    may_hold_slots(actor)?;
    let mut work = app.work().await?;
    let now = work.now();
    let plan = match checked(&mut work, t, actor, typed, None).await? {
        Ok(plan) => plan,
        Err(errors) => return Ok(Err(errors)),
    };
    let id = db::qa_slots::insert_slot(work.exec(), &plan, actor.id, now).await?;
    work.log(slot_log(actor.id, Action::QaSlotCreated, id, plan.expert_id).because(summary(&plan)))
        .await?;
    work.commit().await?;
    Ok(Ok(id))
}

/// A slot that `actor` may change, locked for the rest of the unit of work; 404 when there is
/// none, a stale form when it was cancelled.
async fn managed(work: &mut Work<'_>, actor: &SessionUser, id: i64) -> AppResult<SlotRow> {
    may_hold_slots(actor)?;
    let slot = db::qa_slots::slot_for_update(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    may_manage(actor, slot.expert_id)?;
    if slot.cancelled_at.is_some() {
        return Err(AppError::StaleForm);
    }
    Ok(slot)
}

/// Changes a slot; the form's problems when it cannot (nothing written). An unchanged slot
/// writes nothing.
pub async fn edit(
    app: &App,
    t: Tr,
    actor: &SessionUser,
    id: i64,
    typed: &Typed,
) -> AppResult<Result<(), FieldErrors>> {
    let mut work = app.work().await?;
    let before = managed(&mut work, actor, id).await?;
    let plan = match checked(&mut work, t, actor, typed, Some(&before)).await? {
        Ok(plan) => plan,
        Err(errors) => return Ok(Err(errors)),
    };
    let was = SlotPlan {
        expert_id: before.expert_id,
        theme: before.theme.clone(),
        starts_at: before.starts_at,
        ends_at: before.ends_at,
        deadline_at: before.deadline_at,
        capacity: before.capacity,
        publish_answers: before.publish_answers,
        follow_ups: before.follow_ups,
    };
    if plan == was {
        return Ok(Ok(()));
    }
    if !db::qa_slots::update_slot(work.exec(), id, &plan).await? {
        return Err(AppError::StaleForm);
    }
    let what = format!(
        "{} -> {}, theme {}",
        summary(&was),
        summary(&plan),
        if plan.theme == was.theme {
            "kept"
        } else {
            "changed"
        }
    );
    work.log(slot_log(actor.id, Action::QaSlotEdited, id, plan.expert_id).because(what))
        .await?;
    work.commit().await?;
    Ok(Ok(()))
}

/// A slot `actor` may cancel (for its confirmation page): not cancelled yet.
pub async fn slot_to_cancel(app: &App, actor: &SessionUser, id: i64) -> AppResult<SlotRow> {
    may_hold_slots(actor)?;
    let mut conn = app.db.conn().await?;
    let slot = db::qa::slot(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    may_manage(actor, slot.expert_id)?;
    if slot.cancelled_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(slot)
}

/// Cancels a slot; whether it did (`false`: it already was). The slot stays, marked cancelled.
pub async fn cancel(app: &App, actor: &SessionUser, id: i64) -> AppResult<bool> {
    let mut work = app.work().await?;
    let now = work.now();
    may_hold_slots(actor)?;
    let slot = db::qa_slots::slot_for_update(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    may_manage(actor, slot.expert_id)?;
    if !db::qa_slots::cancel_slot(work.exec(), id, now).await? {
        return Ok(false);
    }
    let what = format!("{:?}, {} questions accepted", slot.theme, slot.accepted);
    work.log(slot_log(actor.id, Action::QaSlotCancelled, id, slot.expert_id).because(what))
        .await?;
    tell_askers(&mut work, &slot).await?;
    work.commit().await?;
    Ok(true)
}

/// Everyone whose question waits or was accepted hears that the slot will not take place, in
/// their language: a mail about their own request, like the answer to a report, sent whatever
/// their mail settings (which govern the site's news, not replies to what they asked).
async fn tell_askers(work: &mut Work<'_>, slot: &SlotRow) -> AppResult<()> {
    let app = work.app();
    let when = local_time(&app.site, slot.starts_at);
    let link = app.config.link("/qa");
    for asker in db::qa_slots::open_askers(work.exec(), slot.id).await? {
        let Some((member, email)) = notify::mailer::recipient(work, asker).await? else {
            continue;
        };
        let mail = Mail::QaSlotCancelled {
            display_name: &member.display_name,
            theme: &slot.theme,
            when: &when,
            link: &link,
        };
        work.mail(Locale::from_code(&member.locale), &email, &mail)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn form() -> SlotForm {
        SlotForm {
            theme: "  傷病手当金と  復職 ".into(),
            date: "2027-01-14".into(),
            start: "19:00".into(),
            end: "20:30:00".into(),
            deadline_date: "2027-01-10".into(),
            deadline_time: "23:59".into(),
            ..SlotForm::blank()
        }
    }

    #[test]
    fn a_slot_form_reads_into_its_fields() {
        let typed = read_slot(Locale::Ja.tr(), &form()).expect("a slot");
        assert_eq!(typed.theme, "傷病手当金と 復職");
        assert_eq!(typed.date, date(2027, 1, 14));
        assert_eq!(typed.end, time(20, 30, 0, 0));
        assert_eq!(typed.deadline_time, time(23, 59, 0, 0));
        assert_eq!(typed.capacity, 10);
        assert!(typed.publish_answers && !typed.follow_ups);
        assert_eq!(typed.expert, None);
    }

    #[test]
    fn a_slot_form_names_each_problem_by_its_input() {
        let t = Locale::En.tr();
        for (capacity, ok) in [
            ("0", false),
            ("1", true),
            ("50", true),
            ("51", false),
            ("x", false),
        ] {
            let typed = read_slot(
                t,
                &SlotForm {
                    capacity: capacity.into(),
                    ..form()
                },
            );
            assert_eq!(typed.is_ok(), ok, "capacity {capacity}");
        }
        let bad = SlotForm {
            expert: "someone".into(),
            theme: " ".into(),
            date: "2027-02-30".into(),
            start: "25:00".into(),
            deadline_time: String::new(),
            ..form()
        };
        let errors = read_slot(t, &bad).expect_err("problems");
        for field in ["expert", "theme", "date", "start", "deadline_time"] {
            assert!(errors.has(field), "{field}");
        }
        assert!(!errors.has("end") && !errors.has("capacity"));
    }

    #[test]
    fn only_the_slots_expert_and_coordinators_manage_it() {
        let expert = SessionUser::for_test(7, Role::Expert);
        assert!(may_manage(&expert, 7).is_ok());
        assert!(matches!(may_manage(&expert, 8), Err(AppError::Forbidden)));
        assert!(may_manage(&SessionUser::for_test(1, Role::Coordinator), 7).is_ok());
        for role in [Role::Member, Role::Moderator] {
            let other = SessionUser::for_test(7, role);
            assert!(matches!(may_manage(&other, 7), Err(AppError::NotFound)));
        }
    }
}
