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
use crate::text::Synonyms;

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

/// Takes the slot's next change number (see `cafe::next_seq`: the row lock orders the commits).
pub async fn next_seq(exec: Exec<'_>, slot_id: i64) -> Result<i64, sqlx::Error> {
    let sql = "UPDATE qa_slots SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(slot_id)
        .fetch_one(c)
        .await)
}

pub struct NewQuestion<'a> {
    pub slot_id: i64,
    pub asker_id: i64,
    pub parent_id: Option<i64>,
    pub body: &'a str,
    pub shared: bool,
    pub anonymous: bool,
    /// `pending` or, for a follow-up during the slot, `accepted`.
    pub status: &'a str,
    pub held: bool,
    pub flagged: bool,
}

pub async fn insert_question(
    exec: Exec<'_>,
    q: &NewQuestion<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO qa_questions (slot_id, asker_id, parent_id, body, shared, anonymous, \
               status, held, flagged_at, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(q.slot_id)
        .bind(q.asker_id)
        .bind(q.parent_id)
        .bind(q.body)
        .bind(i64::from(q.shared))
        .bind(i64::from(q.anonymous))
        .bind(q.status)
        .bind(i64::from(q.held))
        .bind(q.flagged.then_some(now))
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Questions the member has waiting or accepted in the slot (not follow-ups).
pub async fn open_questions_by(
    exec: Exec<'_>,
    slot_id: i64,
    asker_id: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM qa_questions WHERE slot_id = $1 AND asker_id = $2 \
               AND parent_id IS NULL AND status IN ('pending', 'accepted')";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(slot_id)
        .bind(asker_id)
        .fetch_one(c)
        .await)
}

/// A question as the rules and the staff pages need it: who asked is here, so it never goes
/// to a page for other members as it is.
#[derive(Debug, Clone, FromRow)]
pub struct QuestionRef {
    pub id: i64,
    pub slot_id: i64,
    pub asker_id: i64,
    pub asker_name: String,
    pub parent_id: Option<i64>,
    pub body: String,
    pub original_body: Option<String>,
    pub redaction_note: String,
    pub shared: bool,
    pub anonymous: bool,
    pub status: String,
    pub status_reason: String,
    pub held: bool,
    pub flagged_at: Option<i64>,
    pub merged_into: Option<i64>,
    pub created_at: i64,
    pub answer_status: Option<String>,
}

const QUESTION_REF: &str = "SELECT q.id, q.slot_id, q.asker_id, u.display_name AS asker_name, \
    q.parent_id, q.body, q.original_body, q.redaction_note, q.shared = 1 AS shared, \
    q.anonymous = 1 AS anonymous, q.status, q.status_reason, q.held = 1 AS held, q.flagged_at, \
    q.merged_into, q.created_at, a.status AS answer_status \
    FROM qa_questions q JOIN users u ON u.id = q.asker_id \
    LEFT JOIN qa_answers a ON a.question_id = q.id";

pub async fn question(exec: Exec<'_>, id: i64) -> Result<Option<QuestionRef>, sqlx::Error> {
    let sql = format!("{QUESTION_REF} WHERE q.id = $1");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// Every question of the slot, oldest first, for its expert and staff (with who asked).
pub async fn staff_questions(
    exec: Exec<'_>,
    slot_id: i64,
) -> Result<Vec<QuestionRef>, sqlx::Error> {
    let sql = format!("{QUESTION_REF} WHERE q.slot_id = $1 ORDER BY q.created_at, q.id");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(slot_id)
        .fetch_all(c)
        .await)
}

/// What waits for moderators in the Q&A, for the header's count: questions to screen, flagged
/// or reported questions, held or flagged answers (as `/mod/qa` lists them).
pub const WAITING_COUNT: &str = "(SELECT COUNT(*) FROM qa_questions q JOIN qa_slots s \
    ON s.id = q.slot_id WHERE q.status = 'pending' AND s.cancelled_at IS NULL) \
    + (SELECT COUNT(*) FROM qa_questions q WHERE q.status <> 'pending' AND (q.flagged_at IS NOT NULL \
    OR EXISTS (SELECT 1 FROM reports r WHERE r.target_kind = 'qa_question' \
    AND r.target_id = q.id AND r.resolved_at IS NULL))) \
    + (SELECT COUNT(*) FROM qa_answers a WHERE a.status = 'held' \
    OR (a.status = 'published' AND a.flagged_at IS NOT NULL))";

/// Questions waiting for screening in slots not cancelled, oldest first (those of a slot that
/// is over can only be declined).
pub async fn waiting_questions(
    exec: Exec<'_>,
    limit: i64,
) -> Result<Vec<QuestionRef>, sqlx::Error> {
    let sql = format!(
        "{QUESTION_REF} JOIN qa_slots s ON s.id = q.slot_id \
         WHERE q.status = 'pending' AND s.cancelled_at IS NULL \
         ORDER BY q.created_at, q.id LIMIT $1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Flagged questions (a watched word) not yet looked at, and questions with open reports.
pub async fn questions_to_look_at(
    exec: Exec<'_>,
    limit: i64,
) -> Result<Vec<QuestionRef>, sqlx::Error> {
    let sql = format!(
        "{QUESTION_REF} WHERE q.status <> 'pending' AND (q.flagged_at IS NOT NULL \
         OR EXISTS (SELECT 1 FROM reports r WHERE r.target_kind = 'qa_question' \
         AND r.target_id = q.id AND r.resolved_at IS NULL)) \
         ORDER BY q.created_at, q.id LIMIT $1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Sets a question's status and the reason its asker reads, as screened by `moderator`.
pub async fn screen(
    exec: Exec<'_>,
    id: i64,
    status: &str,
    reason: &str,
    merged_into: Option<i64>,
    moderator: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE qa_questions SET status = $1, status_reason = $2, merged_into = $3, \
               screened_by = $4, screened_at = $5, held = 0 WHERE id = $6";
    on!(exec, |c| sqlx::query(sql)
        .bind(status)
        .bind(reason)
        .bind(merged_into)
        .bind(moderator)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// Replaces the text others read, keeping the asker's first words for staff.
pub async fn redact(exec: Exec<'_>, id: i64, body: &str, note: &str) -> Result<(), sqlx::Error> {
    let sql = "UPDATE qa_questions SET original_body = COALESCE(original_body, body), body = $1, \
               redaction_note = $2 WHERE id = $3";
    on!(exec, |c| sqlx::query(sql)
        .bind(body)
        .bind(note)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn clear_question_flag(exec: Exec<'_>, id: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE qa_questions SET flagged_at = NULL WHERE id = $1";
    on!(exec, |c| sqlx::query(sql)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// The asker's own questions in a slot, with their answers when published.
#[derive(Debug, Clone, FromRow)]
pub struct OwnQuestion {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub body: String,
    pub redaction_note: String,
    pub shared: bool,
    pub anonymous: bool,
    pub status: String,
    pub status_reason: String,
    pub merged_into: Option<i64>,
    pub created_at: i64,
    /// Among the slot's questions waiting for screening, this one's place (1 is next).
    pub waiting_place: i64,
}

pub async fn own_questions(
    exec: Exec<'_>,
    slot_id: i64,
    asker_id: i64,
) -> Result<Vec<OwnQuestion>, sqlx::Error> {
    let sql = "SELECT q.id, q.parent_id, q.body, q.redaction_note, q.shared = 1 AS shared, \
               q.anonymous = 1 AS anonymous, q.status, q.status_reason, q.merged_into, q.created_at, \
               (SELECT COUNT(*) FROM qa_questions w WHERE w.slot_id = q.slot_id \
                AND w.status = 'pending' AND w.parent_id IS NULL AND w.id <= q.id) AS waiting_place \
               FROM qa_questions q WHERE q.slot_id = $1 AND q.asker_id = $2 \
               ORDER BY q.created_at, q.id";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(slot_id)
        .bind(asker_id)
        .fetch_all(c)
        .await)
}

/// An answer with its question, as a slot page, the live page and the archive show it.
/// `asker_shown` is `NULL` for an anonymous asker unless the reader is a keeper of the slot
/// (staff or its expert); `asker_id` is only read by the live fan-out, which never sends it.
#[derive(Debug, Clone, FromRow)]
pub struct AnswerRow {
    pub answer_id: i64,
    pub question_id: i64,
    pub slot_id: i64,
    pub parent_id: Option<i64>,
    pub asker_id: i64,
    pub asker_shown: Option<String>,
    pub anonymous: bool,
    pub shared: bool,
    pub question: String,
    pub redaction_note: String,
    pub question_status: String,
    pub status: String,
    pub body_markdown: String,
    pub body_html: String,
    pub seq: i64,
    pub published_at: Option<i64>,
    pub expert_name: String,
    pub theme: String,
    pub starts_at: i64,
}

/// Columns of [`AnswerRow`]; binds `$1` keeper (1 or 0).
const ANSWER_COLUMNS: &str = "a.id AS answer_id, q.id AS question_id, q.slot_id, q.parent_id, \
    q.asker_id, CASE WHEN $1 = 1 THEN u.display_name ELSE \
    (CASE WHEN q.anonymous = 1 THEN NULL ELSE u.display_name END) END AS asker_shown, \
    q.anonymous = 1 AS anonymous, q.shared = 1 AS shared, q.body AS question, q.redaction_note, \
    q.status AS question_status, a.status, a.body_markdown, a.body_html, a.seq, a.published_at, \
    e.display_name AS expert_name, s.theme, s.starts_at";

const ANSWER_FROM: &str = "qa_answers a JOIN qa_questions q ON q.id = a.question_id \
    JOIN users u ON u.id = q.asker_id JOIN qa_slots s ON s.id = a.slot_id \
    JOIN users e ON e.id = s.expert_id";

/// Whether a reader sees a published answer: keepers (`$1`) see all; the asker sees theirs;
/// others see shared ones, during the slot and, when the slot publishes its answers, afterwards
/// (`$3` now), unless they block a named asker. An anonymous asker's question is never hidden
/// by a block: hiding it from the blocker would tell them who asked. Binds `$2` reader.
pub const ANSWER_SHOWN: &str = "a.status = 'published' AND q.status = 'accepted' \
    AND ($1 = 1 OR q.asker_id = $2 OR (q.shared = 1 AND (s.publish_answers = 1 OR $3 < s.ends_at) \
    AND (q.anonymous = 1 OR NOT EXISTS (SELECT 1 FROM user_blocks b \
    WHERE b.blocker_id = $2 AND b.blocked_id = q.asker_id))))";

/// The answers of a slot the reader sees, in the order they were first published.
pub async fn answers(
    exec: Exec<'_>,
    slot_id: i64,
    reader: i64,
    keeper: bool,
    now: i64,
) -> Result<Vec<AnswerRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ANSWER_COLUMNS} FROM {ANSWER_FROM} WHERE {ANSWER_SHOWN} AND a.slot_id = $4 \
         ORDER BY a.published_at, a.id"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(i64::from(keeper))
        .bind(reader)
        .bind(now)
        .bind(slot_id)
        .fetch_all(c)
        .await)
}

/// The slot's answer changes after `since`, whatever their status, for the live fan-out (which
/// applies [`ANSWER_SHOWN`] per connection). Names as keepers read them: the fan-out sends a
/// member the frame rendered without them.
pub async fn changes_since(
    exec: Exec<'_>,
    slot_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<AnswerRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ANSWER_COLUMNS} FROM {ANSWER_FROM} \
         WHERE a.slot_id = $2 AND a.seq > $3 AND a.status <> 'draft' ORDER BY a.seq LIMIT $4"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(1_i64)
        .bind(slot_id)
        .bind(since)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// The answer to a question, whatever its status.
#[derive(Debug, Clone, FromRow)]
pub struct AnswerRef {
    pub id: i64,
    pub question_id: i64,
    pub slot_id: i64,
    pub body_markdown: String,
    pub status: String,
    pub published_at: Option<i64>,
}

pub async fn answer_to(exec: Exec<'_>, question_id: i64) -> Result<Option<AnswerRef>, sqlx::Error> {
    let sql = "SELECT id, question_id, slot_id, body_markdown, status, published_at \
               FROM qa_answers WHERE question_id = $1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(question_id)
        .fetch_optional(c)
        .await)
}

/// Every answer of the slot, drafts too, for its expert's desk.
pub async fn slot_answers(exec: Exec<'_>, slot_id: i64) -> Result<Vec<AnswerRef>, sqlx::Error> {
    let sql = "SELECT id, question_id, slot_id, body_markdown, status, published_at \
               FROM qa_answers WHERE slot_id = $1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(slot_id)
        .fetch_all(c)
        .await)
}

pub async fn answer(exec: Exec<'_>, id: i64) -> Result<Option<AnswerRef>, sqlx::Error> {
    let sql = "SELECT id, question_id, slot_id, body_markdown, status, published_at \
               FROM qa_answers WHERE id = $1";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub struct AnswerWrite<'a> {
    pub question_id: i64,
    pub slot_id: i64,
    pub expert_id: i64,
    pub markdown: &'a str,
    pub html: &'a str,
    /// `draft`, `published` or `held`.
    pub status: &'a str,
    pub status_reason: &'a str,
    pub flagged: bool,
    pub search_text: &'a str,
    /// The slot change it is, when others are to hear of it (not for a draft).
    pub seq: Option<i64>,
}

/// Writes the question's answer (a draft, or published or held), keeping when it was first
/// published. Returns its id.
pub async fn write_answer(
    exec: Exec<'_>,
    w: &AnswerWrite<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let published_at = (w.status != "draft").then_some(now);
    let sql = "INSERT INTO qa_answers (question_id, slot_id, expert_id, body_markdown, body_html, \
               status, status_reason, flagged_at, search_text, seq, published_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, 0), $11, $12) \
               ON CONFLICT (question_id) DO UPDATE SET body_markdown = excluded.body_markdown, \
               body_html = excluded.body_html, status = excluded.status, \
               status_reason = excluded.status_reason, \
               flagged_at = COALESCE(excluded.flagged_at, qa_answers.flagged_at), \
               search_text = excluded.search_text, \
               seq = COALESCE($10, qa_answers.seq), \
               published_at = COALESCE(qa_answers.published_at, excluded.published_at), \
               updated_at = excluded.updated_at \
               RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(w.question_id)
        .bind(w.slot_id)
        .bind(w.expert_id)
        .bind(w.markdown)
        .bind(w.html)
        .bind(w.status)
        .bind(w.status_reason)
        .bind(w.flagged.then_some(now))
        .bind(w.search_text)
        .bind(w.seq)
        .bind(published_at)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// A moderator's change of an answer's status (approved, hidden, restored) as slot change `seq`.
pub async fn set_answer_status(
    exec: Exec<'_>,
    id: i64,
    status: &str,
    reason: &str,
    seq: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE qa_answers SET status = $1, status_reason = $2, seq = $3, flagged_at = NULL, \
               published_at = COALESCE(published_at, $4), updated_at = $4 WHERE id = $5";
    on!(exec, |c| sqlx::query(sql)
        .bind(status)
        .bind(reason)
        .bind(seq)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Moves the answer's change number on, so that live pages fetch it again (its question was
/// redacted or hidden).
pub async fn touch_answer(exec: Exec<'_>, question_id: i64, seq: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE qa_answers SET seq = $1 WHERE question_id = $2 AND status <> 'draft'";
    on!(exec, |c| sqlx::query(sql)
        .bind(seq)
        .bind(question_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// Held and flagged answers, for moderators.
pub async fn answers_to_look_at(exec: Exec<'_>, limit: i64) -> Result<Vec<AnswerRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ANSWER_COLUMNS} FROM {ANSWER_FROM} \
         WHERE a.status = 'held' OR (a.status = 'published' AND a.flagged_at IS NOT NULL) \
         ORDER BY a.updated_at, a.id LIMIT $2"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(1_i64)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// Who is told that a question was answered: its asker, and the askers of the questions merged
/// into it, each with their language and address.
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    pub user_id: i64,
    pub email: String,
    pub locale: String,
    pub display_name: String,
}

pub async fn askers_of(exec: Exec<'_>, question_id: i64) -> Result<Vec<Recipient>, sqlx::Error> {
    let sql = "SELECT DISTINCT u.id AS user_id, u.email, u.locale, u.display_name \
               FROM qa_questions q JOIN users u ON u.id = q.asker_id \
               WHERE (q.id = $1 OR (q.merged_into = $1 AND q.status = 'merged')) \
               AND u.status = 'active'";
    on!(exec, |c| sqlx::query_as(sql)
        .bind(question_id)
        .fetch_all(c)
        .await)
}

/// The archive: answers published to members (shared questions of slots that publish their
/// answers), newest first, narrowed by theme words, expert and normalized search terms, each
/// found by plain containment. The archive grows only by experts' answers (a few a month), so
/// reading it whole costs little whatever the terms; the page size bounds what is sent.
pub struct ArchiveFilter<'a> {
    pub expert_id: Option<i64>,
    pub theme: Option<&'a str>,
    /// Each term with its forms (several while the search text is re-normalized, see
    /// `jobs::reindex`): an answer holding any form of a term holds it.
    pub terms: &'a [Vec<String>],
}

/// Binds $1 keeper (0), $2 reader, $3 now, like [`ANSWER_SHOWN`]; then $4 limit, $5 offset.
fn archive_where(filter: &ArchiveFilter<'_>) -> (String, Vec<String>, Option<i64>) {
    let mut conditions = vec![
        ANSWER_SHOWN.to_owned(),
        "q.shared = 1 AND s.publish_answers = 1 AND s.cancelled_at IS NULL".to_owned(),
    ];
    let mut params = Vec::new();
    if let Some(theme) = filter.theme {
        params.push(theme.to_owned());
        conditions.push(format!("s.theme = ${}", params.len() + 5));
    }
    for forms in filter.terms {
        let mut any = Vec::new();
        for form in forms {
            params.push(form.clone());
            any.push(format!(
                "instr_pos(a.search_text, ${}) > 0",
                params.len() + 5
            ));
        }
        conditions.push(format!("({})", any.join(" OR ")));
    }
    let expert = filter.expert_id;
    if expert.is_some() {
        conditions.push(format!("s.expert_id = ${}", params.len() + 6));
    }
    (conditions.join(" AND "), params, expert)
}

/// One page of the archive and the number of answers found.
pub async fn archive(
    exec: Exec<'_>,
    reader: i64,
    now: i64,
    filter: &ArchiveFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AnswerRow>, i64), sqlx::Error> {
    let (conditions, params, expert) = archive_where(filter);
    let is_sqlite = matches!(exec, Exec::Sqlite(_));
    let conditions = if is_sqlite {
        conditions.replace("instr_pos(", "instr(")
    } else {
        conditions.replace("instr_pos(", "strpos(")
    };
    let sql = format!(
        "SELECT {ANSWER_COLUMNS}, COUNT(*) OVER () AS total FROM {ANSWER_FROM} WHERE {conditions} \
         ORDER BY a.published_at DESC, a.id DESC LIMIT $4 OFFSET $5"
    );
    #[derive(FromRow)]
    struct Found {
        #[sqlx(flatten)]
        row: AnswerRow,
        total: i64,
    }
    macro_rules! query {
        () => {{
            let mut query = sqlx::query_as::<_, Found>(&sql)
                .bind(0_i64)
                .bind(reader)
                .bind(now)
                .bind(limit)
                .bind(offset);
            for value in &params {
                query = query.bind(value.as_str());
            }
            if let Some(expert) = expert {
                query = query.bind(expert);
            }
            query
        }};
    }
    let found: Vec<Found> = on!(exec, |c| query!().fetch_all(c).await)?;
    let total = found.first().map_or(0, |f| f.total);
    Ok((found.into_iter().map(|f| f.row).collect(), total))
}

/// Themes and experts the archive can be narrowed to.
pub async fn archive_choices(
    mut exec: Exec<'_>,
) -> Result<(Vec<String>, Vec<(i64, String)>), sqlx::Error> {
    const PUBLISHED: &str = "FROM qa_answers a JOIN qa_questions q ON q.id = a.question_id \
        JOIN qa_slots s ON s.id = a.slot_id JOIN users e ON e.id = s.expert_id \
        WHERE a.status = 'published' AND q.status = 'accepted' AND q.shared = 1 \
        AND s.publish_answers = 1 AND s.cancelled_at IS NULL";
    let themes = format!("SELECT DISTINCT s.theme {PUBLISHED} ORDER BY s.theme");
    let themes: Vec<String> = on!(exec.again(), |c| sqlx::query_scalar(&themes)
        .fetch_all(c)
        .await)?;
    let experts =
        format!("SELECT DISTINCT s.expert_id, e.display_name {PUBLISHED} ORDER BY e.display_name");
    let experts: Vec<(i64, String)> = on!(exec, |c| sqlx::query_as(&experts).fetch_all(c).await)?;
    Ok((themes, experts))
}

/// A question and its answer as the archive's search reads them: the text a reader sees,
/// normalized like the forums' search text.
pub fn search_text(question: &str, answer_markdown: &str, synonyms: &Synonyms) -> String {
    let answer = super::search::searchable_body(answer_markdown, synonyms);
    format!("{}\n{answer}", crate::text::normalize(question, synonyms))
}

pub async fn set_search_text(exec: Exec<'_>, id: i64, text: &str) -> Result<(), sqlx::Error> {
    let sql = "UPDATE qa_answers SET search_text = $1 WHERE id = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(text)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// How many answers have search text (the size of a re-normalizing job's second stage).
pub async fn indexed_answers(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM qa_answers WHERE status <> 'draft'";
    on!(exec, |c| sqlx::query_scalar(sql).fetch_one(c).await)
}

/// Normalizes again (the equivalent terms changed) up to `limit` answers after the answer
/// `after`, in id order, writing only those whose text changes.
pub async fn reindex(
    mut exec: Exec<'_>,
    synonyms: &Synonyms,
    after: i64,
    limit: i64,
) -> Result<super::search::Reindexed, sqlx::Error> {
    let sql = "SELECT a.id, q.body, a.body_markdown, a.search_text FROM qa_answers a \
               JOIN qa_questions q ON q.id = a.question_id WHERE a.status <> 'draft' AND a.id > $1 \
               ORDER BY a.id LIMIT $2";
    let rows: Vec<(i64, String, String, String)> = on!(exec.again(), |c| sqlx::query_as(sql)
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await)?;
    let mut batch = super::search::Reindexed {
        last: rows.last().map(|r| r.0),
        seen: rows.len() as u64,
        changed: 0,
    };
    for (id, question, answer, old) in rows {
        let text = search_text(&question, &answer, synonyms);
        if text != old {
            set_search_text(exec.again(), id, &text).await?;
            batch.changed += 1;
        }
    }
    Ok(batch)
}

/// The answered question, when the reader sees it (by [`ANSWER_SHOWN`]).
pub async fn shown_answer(
    exec: Exec<'_>,
    question_id: i64,
    reader: i64,
    keeper: bool,
    now: i64,
) -> Result<Option<AnswerRow>, sqlx::Error> {
    let sql =
        format!("SELECT {ANSWER_COLUMNS} FROM {ANSWER_FROM} WHERE {ANSWER_SHOWN} AND q.id = $4");
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(i64::from(keeper))
        .bind(reader)
        .bind(now)
        .bind(question_id)
        .fetch_optional(c)
        .await)
}
