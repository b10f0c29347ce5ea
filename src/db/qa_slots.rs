//! Queries on experts' profiles and on the writing of Q&A slots: the accounts with the expert
//! role and their profiles, slots created, edited and cancelled, and the slots as the members'
//! list shows them (read through [`super::qa::SLOT_COLUMNS`], with the places left).

use sqlx::FromRow;

use super::Exec;
use super::qa::{SLOT_COLUMNS, SLOT_FROM, SlotRow};
use crate::on;

/// An account with the expert role, and its profile when it has one.
#[derive(Debug, Clone, FromRow)]
pub struct Expert {
    pub id: i64,
    pub display_name: String,
    /// `active` or `deactivated`.
    pub status: String,
    pub qualification: Option<String>,
    pub introduction: Option<String>,
}

impl Expert {
    pub fn active(&self) -> bool {
        self.status == "active"
    }
}

const EXPERT: &str = "SELECT u.id, u.display_name, u.status, p.qualification, p.introduction \
    FROM users u LEFT JOIN expert_profiles p ON p.user_id = u.id WHERE u.role = 'expert'";

/// Every account with the expert role, by name.
pub async fn experts(exec: Exec<'_>) -> Result<Vec<Expert>, sqlx::Error> {
    let sql = format!("{EXPERT} ORDER BY u.display_name, u.id");
    on!(exec, |c| sqlx::query_as(&sql).fetch_all(c).await)
}

/// The account numbered `id`, when it has the expert role.
pub async fn expert(exec: Exec<'_>, id: i64) -> Result<Option<Expert>, sqlx::Error> {
    let sql = format!("{EXPERT} AND u.id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Writes an expert's profile, made if it was not there.
pub async fn save_profile(
    exec: Exec<'_>,
    user_id: i64,
    qualification: &str,
    introduction: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO expert_profiles (user_id, qualification, introduction, updated_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
               qualification = excluded.qualification, introduction = excluded.introduction, \
               updated_at = excluded.updated_at";
    on!(exec, |c| sqlx::query(sql)
        .bind(user_id)
        .bind(qualification)
        .bind(introduction)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// A slot as it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPlan {
    pub expert_id: i64,
    pub theme: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub deadline_at: i64,
    pub capacity: i64,
    pub publish_answers: bool,
    pub follow_ups: bool,
}

/// Binds a plan's fields as `$1` to `$8`, in the order of [`SlotPlan`].
macro_rules! bind_plan {
    ($query:expr, $plan:expr) => {
        $query
            .bind($plan.expert_id)
            .bind(&$plan.theme)
            .bind($plan.starts_at)
            .bind($plan.ends_at)
            .bind($plan.deadline_at)
            .bind($plan.capacity)
            .bind(i64::from($plan.publish_answers))
            .bind(i64::from($plan.follow_ups))
    };
}

pub async fn insert_slot(
    exec: Exec<'_>,
    plan: &SlotPlan,
    created_by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO qa_slots (expert_id, theme, starts_at, ends_at, deadline_at, capacity, \
               publish_answers, follow_ups, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    on!(exec, |c| bind_plan!(sqlx::query_scalar(sql), plan)
        .bind(created_by)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Changes a slot that is not cancelled; whether it did.
pub async fn update_slot(exec: Exec<'_>, id: i64, plan: &SlotPlan) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE qa_slots SET expert_id = $1, theme = $2, starts_at = $3, ends_at = $4, \
               deadline_at = $5, capacity = $6, publish_answers = $7, follow_ups = $8 \
               WHERE id = $9 AND cancelled_at IS NULL";
    on!(exec, |c| bind_plan!(sqlx::query(sql), plan)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Cancels a slot; whether it did (not when it already was).
pub async fn cancel_slot(exec: Exec<'_>, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE qa_slots SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL";
    on!(exec, |c| sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// The members with a question waiting or accepted in the slot, each once.
pub async fn open_askers(exec: Exec<'_>, slot_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT DISTINCT asker_id FROM qa_questions WHERE slot_id = $1 \
               AND status IN ('pending', 'accepted') ORDER BY asker_id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(slot_id)
        .fetch_all(c)
        .await)
}

/// The slot numbered `id`, its row locked for the rest of the transaction (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already holds the database): questions accepted meanwhile cannot slip under
/// a capacity being lowered.
pub async fn slot_for_update(exec: Exec<'_>, id: i64) -> Result<Option<SlotRow>, sqlx::Error> {
    let mut exec = exec;
    let lock = "UPDATE qa_slots SET capacity = capacity WHERE id = $1";
    on!(exec.again(), |c| sqlx::query(lock)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
    super::qa::slot(exec, id).await
}

/// Slots that have not ended at `now` (cancelled ones too), soonest first.
pub async fn upcoming(exec: Exec<'_>, now: i64, limit: i64) -> Result<Vec<SlotRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {SLOT_COLUMNS} FROM {SLOT_FROM} WHERE s.ends_at > $1 \
         ORDER BY s.starts_at, s.id LIMIT $2"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(now)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Slots that ended by `now`, newest first.
pub async fn past(exec: Exec<'_>, now: i64, limit: i64) -> Result<Vec<SlotRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {SLOT_COLUMNS} FROM {SLOT_FROM} WHERE s.ends_at <= $1 \
         ORDER BY s.starts_at DESC, s.id DESC LIMIT $2"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(now)
        .bind(limit)
        .fetch_all(c)
        .await)
}
