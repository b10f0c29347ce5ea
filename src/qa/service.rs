//! What moderators and experts do to questions and answers, each in one unit of work with its
//! log row; and telling askers that their question was answered.

use crate::AppState;
use crate::db;
use crate::db::qa::{QuestionRef, SlotRow};
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::markdown;
use crate::notify::{self, Notice};
use crate::work::Work;

/// Why a screening action was not taken; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The question is no longer waiting (someone else screened it first).
    NotWaiting,
    /// Every place of the slot is taken.
    Full,
    /// The slot is over or cancelled.
    SlotOver,
    /// Only into another question of the same slot that is shared and not itself merged away.
    BadMerge,
}

impl Refused {
    pub fn key(self) -> &'static str {
        match self {
            Refused::NotWaiting => "qa.screen.not_waiting",
            Refused::Full => "qa.screen.full",
            Refused::SlotOver => "qa.screen.slot_over",
            Refused::BadMerge => "qa.screen.bad_merge",
        }
    }
}

/// What a moderator decides about a question.
pub enum Screening<'a> {
    Accept,
    /// With the reason the asker reads.
    Decline(&'a str),
    /// Into that question, whose answer answers this one too.
    Merge(i64),
    /// Taken away after it was accepted (a report, personal details), with the reason.
    Hide(&'a str),
}

async fn question_and_slot(work: &mut Work<'_>, id: i64) -> AppResult<(QuestionRef, SlotRow)> {
    let question = db::qa::question(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let slot = db::qa::slot(work.exec(), question.slot_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((question, slot))
}

/// Screens a question.
pub async fn screen(
    app: &AppState,
    moderator: &SessionUser,
    id: i64,
    decision: Screening<'_>,
) -> AppResult<Result<(), Refused>> {
    let mut work = app.work().await?;
    let verdict = screen_in(&mut work, moderator, id, decision).await?;
    if verdict.is_ok() {
        work.commit().await?;
    }
    Ok(verdict)
}

/// [`screen`], in the caller's unit of work.
pub async fn screen_in(
    work: &mut Work<'_>,
    moderator: &SessionUser,
    id: i64,
    decision: Screening<'_>,
) -> AppResult<Result<(), Refused>> {
    let (question, mut slot) = question_and_slot(work, id).await?;
    let now = work.now();
    let (status, reason, merged_into, action) = match decision {
        Screening::Accept => {
            // Counted under the slot's row lock: two moderators accepting at once on PostgreSQL
            // cannot both take the last place.
            slot = db::qa_slots::slot_for_update(work.exec(), slot.id)
                .await?
                .ok_or(AppError::NotFound)?;
            if question.status != "pending" {
                return Ok(Err(Refused::NotWaiting));
            }
            if slot.cancelled_at.is_some() || now >= slot.ends_at {
                return Ok(Err(Refused::SlotOver));
            }
            if question.parent_id.is_none() && slot.places_left() == 0 {
                return Ok(Err(Refused::Full));
            }
            ("accepted", String::new(), None, Action::QaQuestionAccepted)
        }
        Screening::Decline(reason) => {
            if question.status != "pending" {
                return Ok(Err(Refused::NotWaiting));
            }
            (
                "declined",
                reason.to_owned(),
                None,
                Action::QaQuestionDeclined,
            )
        }
        Screening::Merge(into) => {
            if !matches!(question.status.as_str(), "pending" | "accepted") {
                return Ok(Err(Refused::NotWaiting));
            }
            let target = db::qa::question(work.exec(), into).await?;
            let fits = target.is_some_and(|t| {
                t.id != question.id
                    && t.slot_id == question.slot_id
                    && t.shared
                    && matches!(t.status.as_str(), "pending" | "accepted")
            });
            if !fits {
                return Ok(Err(Refused::BadMerge));
            }
            (
                "merged",
                String::new(),
                Some(into),
                Action::QaQuestionMerged,
            )
        }
        Screening::Hide(reason) => {
            if question.status == "hidden" {
                return Ok(Err(Refused::NotWaiting));
            }
            ("hidden", reason.to_owned(), None, Action::QaQuestionHidden)
        }
    };
    db::qa::screen(
        work.exec(),
        id,
        status,
        &reason,
        merged_into,
        moderator.id,
        now,
    )
    .await?;
    let mut record =
        LogRecord::new(moderator.id, action, TargetKind::QaQuestion, id).about(question.asker_id);
    if !reason.is_empty() {
        record = record.because(&reason);
    }
    work.log(record).await?;
    answer_changed(work, &slot, id).await?;
    work.announce(Event::QueueChanged);
    Ok(Ok(()))
}

/// Live pages read a question's answer again when the question changed under it.
async fn answer_changed(work: &mut Work<'_>, slot: &SlotRow, question_id: i64) -> AppResult<()> {
    if db::qa::answer_to(work.exec(), question_id).await?.is_some() {
        let seq = db::qa::next_seq(work.exec(), slot.id).await?;
        if db::qa::touch_answer(work.exec(), question_id, seq).await? {
            work.announce(Event::QaSlot { slot_id: slot.id });
        }
    }
    Ok(())
}

/// Takes personal details out of a question: others read `body` and the note, staff keep the
/// asker's words.
pub async fn redact(
    app: &AppState,
    moderator: &SessionUser,
    id: i64,
    body: &str,
    note: &str,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let (question, slot) = question_and_slot(&mut work, id).await?;
    db::qa::redact(work.exec(), id, body, note).await?;
    if let Some(answer) = db::qa::answer_to(work.exec(), id).await? {
        let synonyms = db::search::synonyms(work.exec()).await?;
        let text = db::qa::search_text(body, &answer.body_markdown, &synonyms);
        db::qa::set_search_text(work.exec(), answer.id, &text).await?;
    }
    work.log(
        LogRecord::new(
            moderator.id,
            Action::QaQuestionRedacted,
            TargetKind::QaQuestion,
            id,
        )
        .about(question.asker_id)
        .because(note),
    )
    .await?;
    answer_changed(&mut work, &slot, id).await?;
    work.commit().await?;
    Ok(())
}

pub async fn clear_flag(app: &AppState, moderator: &SessionUser, id: i64) -> AppResult<()> {
    let mut work = app.work().await?;
    let (question, _) = question_and_slot(&mut work, id).await?;
    db::qa::clear_question_flag(work.exec(), id).await?;
    work.log(
        LogRecord::new(
            moderator.id,
            Action::QaFlagCleared,
            TargetKind::QaQuestion,
            id,
        )
        .about(question.asker_id),
    )
    .await?;
    work.announce(Event::QueueChanged);
    work.commit().await?;
    Ok(())
}

/// A moderator's decision on an answer: approve a held one (published, askers told), or hide
/// one with a reason.
pub async fn moderate_answer(
    app: &AppState,
    moderator: &SessionUser,
    answer_id: i64,
    hide: Option<&str>,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let answer = db::qa::answer(work.exec(), answer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (question, slot) = question_and_slot(&mut work, answer.question_id).await?;
    let (status, reason, action) = match hide {
        Some(reason) => ("hidden", reason, Action::QaAnswerHidden),
        None if answer.status == "held" => ("published", "", Action::QaAnswerApproved),
        None => return Err(AppError::NotFound),
    };
    let seq = db::qa::next_seq(work.exec(), slot.id).await?;
    let now = work.now();
    db::qa::set_answer_status(work.exec(), answer_id, status, reason, seq, now).await?;
    let mut record = LogRecord::new(moderator.id, action, TargetKind::QaQuestion, question.id)
        .about(slot.expert_id);
    if !reason.is_empty() {
        record = record.because(reason);
    }
    work.log(record).await?;
    if status == "published" && answer.published_at.is_none() {
        tell_askers(&mut work, &slot, question.id).await?;
    }
    work.announce(Event::QaSlot { slot_id: slot.id });
    work.announce(Event::QueueChanged);
    work.commit().await?;
    Ok(())
}

/// Saves the expert's draft answer (before or during the slot): nobody else sees it.
pub async fn save_draft(
    app: &AppState,
    expert: &SessionUser,
    question_id: i64,
    body: &str,
) -> AppResult<bool> {
    let mut work = app.work().await?;
    let (question, slot) = question_and_slot(&mut work, question_id).await?;
    if expert.id != slot.expert_id || question.status != "accepted" {
        return Err(AppError::NotFound);
    }
    let existing = db::qa::answer_to(work.exec(), question_id).await?;
    if existing.is_some_and(|a| a.status != "draft") {
        // Published already: a change goes through publishing again.
        return Ok(false);
    }
    let html = markdown::render(body);
    let row = db::qa::AnswerWrite {
        question_id,
        slot_id: slot.id,
        expert_id: expert.id,
        markdown: body,
        html: &html,
        status: "draft",
        status_reason: "",
        flagged: false,
        search_text: "",
        seq: None,
    };
    let now = work.now();
    db::qa::write_answer(work.exec(), &row, now).await?;
    work.commit().await?;
    Ok(true)
}

/// Tells the question's asker (and the askers of questions merged into it) that it was
/// answered: a notice in their list, mailed as their preferences say (see [`crate::notify`]),
/// and not mailed while they are on the slot's live page, where they see it come.
pub async fn tell_askers(work: &mut Work<'_>, slot: &SlotRow, question_id: i64) -> AppResult<()> {
    let app = work.app();
    let askers = db::qa::askers_of(work.exec(), question_id).await?;
    let path = format!("/qa/slots/{}#q{question_id}", slot.id);
    for asker in askers {
        let notice = Notice::answer(question_id, &slot.theme, &path);
        if app.qa.watching(slot.id, asker.user_id) {
            notify::listed_only(work, asker.user_id, notice).await?;
        } else {
            notify::member(work, asker.user_id, notice).await?;
        }
    }
    Ok(())
}
