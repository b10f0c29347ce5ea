//! What a question and an answer may be, and who may ask, follow up and answer when.

use crate::content::Refusal;
use crate::db::qa::{QuestionRef, SlotRow};
use crate::db::users::SessionUser;
use crate::forums::rules::{DraftProblem, text_of};

/// A question is a situation and what the member wants to know: a few paragraphs.
pub const MAX_QUESTION: usize = 2000;
/// An answer may explain at length, with lists and links.
pub const MAX_ANSWER: usize = 8000;
/// Questions one member may have waiting or accepted in one slot: room for others.
pub const MAX_OPEN_PER_MEMBER: i64 = 3;

pub fn question(raw: &str) -> Result<String, DraftProblem> {
    text_of(
        raw,
        MAX_QUESTION,
        DraftProblem::QuestionMissing,
        DraftProblem::QuestionTooLong,
    )
}

pub fn answer(raw: &str) -> Result<String, DraftProblem> {
    text_of(
        raw,
        MAX_ANSWER,
        DraftProblem::AnswerMissing,
        DraftProblem::AnswerTooLong,
    )
}

/// Keepers of a slot see who asked and every question: staff, and the slot's expert.
pub fn keeps(user: &SessionUser, slot: &SlotRow) -> bool {
    user.role.is_staff() || user.id == slot.expert_id
}

/// Whether `asker`, who has `open` questions in the slot already, may ask one more at `now`.
pub fn may_ask(slot: &SlotRow, open: i64, now: i64) -> Result<(), Refusal> {
    if !slot.taking_questions(now) {
        return Err(Refusal::QuestionsClosed);
    }
    if open >= MAX_OPEN_PER_MEMBER {
        return Err(Refusal::TooManyQuestions {
            max: MAX_OPEN_PER_MEMBER,
        });
    }
    Ok(())
}

/// Whether `asker` may follow up on `parent` now: their own accepted question, in a slot that
/// allows follow-ups, while it is on.
pub fn may_follow_up(
    slot: &SlotRow,
    parent: &QuestionRef,
    asker: &SessionUser,
    now: i64,
) -> Result<(), Refusal> {
    let own = parent.asker_id == asker.id && parent.slot_id == slot.id;
    if !own || parent.status != "accepted" || parent.parent_id.is_some() {
        return Err(Refusal::FollowUpsClosed);
    }
    if !slot.follow_ups || !slot.live(now) {
        return Err(Refusal::FollowUpsClosed);
    }
    Ok(())
}

/// Whether `expert` may publish an answer to `question` now: the slot's own expert, an accepted
/// question, from the slot's start (drafts may be written before).
pub fn may_answer(
    slot: &SlotRow,
    question: &QuestionRef,
    expert: &SessionUser,
    now: i64,
) -> Result<(), Refusal> {
    if expert.id != slot.expert_id || slot.cancelled_at.is_some() {
        return Err(Refusal::NotAnswerable);
    }
    if question.status != "accepted" {
        return Err(Refusal::NotAnswerable);
    }
    if now < slot.starts_at {
        return Err(Refusal::SlotNotStarted);
    }
    Ok(())
}
