//! Queries on the expert Q&A: slots, questions and answers (experts' profiles and the writing
//! of slots are in `qa_slots`).
//!
//! Anonymity is kept here: every query that lists questions for members returns the asker's
//! name as `NULL` when they chose to be anonymous ([`ASKER_SHOWN`]), so the name never leaves
//! the database for a page, an e-mail or a live frame meant for other members. Only the
//! `staff_*` queries (for moderators and the slot's expert) return who asked.

use sqlx::FromRow;

use super::Exec;
use crate::on;

/// The asker's name as other members may see it: `NULL` when anonymous. `q` is the question,
/// `u` the asker.
pub const ASKER_SHOWN: &str = "CASE WHEN q.anonymous = 1 THEN NULL ELSE u.display_name END";

/// A slot with its expert, as its pages show it.
#[derive(Debug, Clone, FromRow)]
pub struct SlotRow {
    pub id: i64,
    pub expert_id: i64,
    pub expert_name: String,
    pub qualification: String,
    pub introduction: String,
    pub theme: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub deadline_at: i64,
    pub capacity: i64,
    pub publish_answers: bool,
    pub follow_ups: bool,
    pub last_seq: i64,
    pub cancelled_at: Option<i64>,
    /// Questions accepted so far (follow-ups do not take a place).
    pub accepted: i64,
}

impl SlotRow {
    /// Places still open to questions.
    pub fn places_left(&self) -> i64 {
        (self.capacity - self.accepted).max(0)
    }

    /// Whether members may still ask at `now`.
    pub fn taking_questions(&self, now: i64) -> bool {
        self.cancelled_at.is_none() && now < self.deadline_at && self.places_left() > 0
    }

    /// Whether the slot is on at `now`: the expert answers live.
    pub fn live(&self, now: i64) -> bool {
        self.cancelled_at.is_none() && self.starts_at <= now && now < self.ends_at
    }
}

/// The columns of [`SlotRow`] over `qa_slots s`, `users e` and `expert_profiles p`.
pub const SLOT_COLUMNS: &str = "s.id, s.expert_id, e.display_name AS expert_name, \
    COALESCE(p.qualification, '') AS qualification, COALESCE(p.introduction, '') AS introduction, \
    s.theme, s.starts_at, s.ends_at, s.deadline_at, s.capacity, \
    s.publish_answers = 1 AS publish_answers, s.follow_ups = 1 AS follow_ups, s.last_seq, \
    s.cancelled_at, (SELECT COUNT(*) FROM qa_questions a WHERE a.slot_id = s.id \
    AND a.status = 'accepted' AND a.parent_id IS NULL) AS accepted";

/// `FROM` for [`SLOT_COLUMNS`].
pub const SLOT_FROM: &str = "qa_slots s JOIN users e ON e.id = s.expert_id \
    LEFT JOIN expert_profiles p ON p.user_id = s.expert_id";

pub async fn slot(exec: Exec<'_>, id: i64) -> Result<Option<SlotRow>, sqlx::Error> {
    let sql = format!("SELECT {SLOT_COLUMNS} FROM {SLOT_FROM} WHERE s.id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}
