//! Queries for the funders' statistics: the rows of a range of time (Unix seconds, `start`
//! inclusive, `end` exclusive), which the statistics service counts by month in the site's time
//! zone. Staff (moderators and coordinators, by their current role) are left out of every
//! query: their work is not the members' activity. Only ids, relations and times are read;
//! never a name or a text.

use super::Exec;
use crate::on;

/// The ids of the staff, as a subquery.
const STAFF: &str = "SELECT id FROM users WHERE role IN ('moderator', 'coordinator')";

/// Times from `sql`, whose `$1` and `$2` are the range.
async fn times(exec: Exec<'_>, sql: &str, start: i64, end: i64) -> Result<Vec<i64>, sqlx::Error> {
    on!(exec, |c| sqlx::query_scalar::<_, i64>(sql)
        .bind(start)
        .bind(end)
        .fetch_all(c)
        .await)
}

/// When each invitation to a member or expert was created.
pub async fn invited(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT created_at FROM invitations WHERE created_at >= $1 AND created_at < $2 \
               AND role NOT IN ('moderator', 'coordinator')";
    times(exec, sql, start, end).await
}

/// When each member's account was created (by accepting an invitation).
pub async fn joined(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT created_at FROM users WHERE created_at >= $1 AND created_at < $2 \
               AND role NOT IN ('moderator', 'coordinator')";
    times(exec, sql, start, end).await
}

/// One member's act: who, their relation, when.
pub type Act = (i64, String, i64);

/// Every post, café message, question and reaction written in the range by a member (not
/// staff), with the writer's relation.
pub async fn acts(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<Act>, sqlx::Error> {
    let sql = "SELECT a.user_id, u.relation, a.at FROM ( \
                 SELECT author_id AS user_id, created_at AS at FROM posts \
                   WHERE created_at >= $1 AND created_at < $2 \
                 UNION ALL SELECT author_id, created_at FROM cafe_messages \
                   WHERE created_at >= $1 AND created_at < $2 \
                 UNION ALL SELECT asker_id, created_at FROM qa_questions \
                   WHERE created_at >= $1 AND created_at < $2 \
                 UNION ALL SELECT user_id, created_at FROM post_reactions \
                   WHERE created_at >= $1 AND created_at < $2 \
               ) a JOIN users u ON u.id = a.user_id \
               WHERE u.role NOT IN ('moderator', 'coordinator')";
    on!(exec, |c| sqlx::query_as::<_, Act>(sql)
        .bind(start)
        .bind(end)
        .fetch_all(c)
        .await)
}

/// When each topic was started by a member.
pub async fn topics(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at FROM topics WHERE created_at >= $1 AND created_at < $2 \
         AND author_id NOT IN ({STAFF})"
    );
    times(exec, &sql, start, end).await
}

/// When each post (a topic's first post included) was written by a member.
pub async fn posts(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at FROM posts WHERE created_at >= $1 AND created_at < $2 \
         AND author_id NOT IN ({STAFF})"
    );
    times(exec, &sql, start, end).await
}

/// When each café session held in the range started: not cancelled, and started before `now`.
pub async fn cafe_sessions(
    exec: Exec<'_>,
    start: i64,
    end: i64,
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "SELECT starts_at FROM cafe_sessions WHERE starts_at >= $1 AND starts_at < $2 \
               AND starts_at <= $3 AND cancelled_at IS NULL";
    on!(exec, |c| sqlx::query_scalar::<_, i64>(sql)
        .bind(start)
        .bind(end)
        .bind(now)
        .fetch_all(c)
        .await)
}

/// Each member who wrote in a session held in the range, once per session, with the session's
/// start.
pub async fn cafe_participants(
    exec: Exec<'_>,
    start: i64,
    end: i64,
    now: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT DISTINCT m.author_id, s.starts_at FROM cafe_messages m \
         JOIN cafe_sessions s ON s.id = m.session_id \
         WHERE s.starts_at >= $1 AND s.starts_at < $2 AND s.starts_at <= $3 \
         AND s.cancelled_at IS NULL AND m.author_id NOT IN ({STAFF})"
    );
    on!(exec, |c| sqlx::query_as::<_, (i64, i64)>(&sql)
        .bind(start)
        .bind(end)
        .bind(now)
        .fetch_all(c)
        .await)
}

/// When each question (not a follow-up) was sent by a member.
pub async fn questions_asked(
    exec: Exec<'_>,
    start: i64,
    end: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at FROM qa_questions WHERE created_at >= $1 AND created_at < $2 \
         AND parent_id IS NULL AND asker_id NOT IN ({STAFF})"
    );
    times(exec, &sql, start, end).await
}

/// When each member's question (not a follow-up) that stands accepted was accepted.
pub async fn questions_accepted(
    exec: Exec<'_>,
    start: i64,
    end: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT screened_at FROM qa_questions WHERE screened_at >= $1 AND screened_at < $2 \
         AND status = 'accepted' AND parent_id IS NULL AND asker_id NOT IN ({STAFF})"
    );
    times(exec, &sql, start, end).await
}

/// When each published answer to a member's question (not a follow-up) was published.
pub async fn questions_answered(
    exec: Exec<'_>,
    start: i64,
    end: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT a.published_at FROM qa_answers a JOIN qa_questions q ON q.id = a.question_id \
         WHERE a.published_at >= $1 AND a.published_at < $2 AND a.status = 'published' \
         AND q.parent_id IS NULL AND q.asker_id NOT IN ({STAFF})"
    );
    times(exec, &sql, start, end).await
}

/// Something raised and perhaps dealt with: when, and when it was dealt with.
pub type Handled = (i64, Option<i64>);

/// Raised-and-handled times from `sql`, whose `$1` and `$2` are the range.
async fn handled(
    exec: Exec<'_>,
    sql: &str,
    start: i64,
    end: i64,
) -> Result<Vec<Handled>, sqlx::Error> {
    on!(exec, |c| sqlx::query_as::<_, Handled>(sql)
        .bind(start)
        .bind(end)
        .fetch_all(c)
        .await)
}

/// Each member's report made in the range, with when it was resolved.
pub async fn reports(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<Handled>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at, resolved_at FROM reports WHERE created_at >= $1 AND created_at < $2 \
         AND reporter_id NOT IN ({STAFF})"
    );
    handled(exec, &sql, start, end).await
}

/// Each crisis alert about a member raised in the range, with when it was acknowledged.
pub async fn alerts(exec: Exec<'_>, start: i64, end: i64) -> Result<Vec<Handled>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at, acknowledged_at FROM alerts \
         WHERE created_at >= $1 AND created_at < $2 \
         AND (subject_user_id IS NULL OR subject_user_id NOT IN ({STAFF}))"
    );
    handled(exec, &sql, start, end).await
}
