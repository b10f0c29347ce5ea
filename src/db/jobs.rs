//! Queries on `jobs`, the background jobs (see `crate::jobs`). Claiming differs by dialect:
//! PostgreSQL skips a job another instance is claiming (`FOR UPDATE SKIP LOCKED`) and locks a
//! job's row for each batch; SQLite has one writer at a time, so plain statements do.

use sqlx::FromRow;

use super::Exec;
use crate::on;

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub job_key: String,
    pub state: String,
    pub payload: String,
    pub started_by: Option<i64>,
    pub stage: i64,
    pub cursor_id: i64,
    pub done: i64,
    pub total: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, kind, job_key, state, payload, started_by, stage, cursor_id, done, total, \
                       created_at, started_at, finished_at, error";

/// The open (queued or running) job of this kind and key, locked for this transaction on
/// PostgreSQL so that a change to it waits for the batch in progress.
pub async fn open_for_update(
    exec: Exec<'_>,
    kind: &str,
    key: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    let base = format!(
        "SELECT {COLUMNS} FROM jobs WHERE kind = $1 AND job_key = $2 \
         AND state IN ('queued', 'running')"
    );
    match exec {
        Exec::Postgres(c) => {
            sqlx::query_as(&format!("{base} FOR UPDATE"))
                .bind(kind)
                .bind(key)
                .fetch_optional(c)
                .await
        }
        Exec::Sqlite(c) => {
            sqlx::query_as(&base)
                .bind(kind)
                .bind(key)
                .fetch_optional(c)
                .await
        }
    }
}

/// A new queued job; returns its id.
pub async fn insert(
    exec: Exec<'_>,
    kind: &str,
    key: &str,
    payload: &str,
    started_by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO jobs (kind, job_key, payload, started_by, created_at) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(kind)
        .bind(key)
        .bind(payload)
        .bind(started_by)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// An open job starts its work again from the beginning, with a new payload (a second change
/// superseding the first).
pub async fn restart(
    exec: Exec<'_>,
    id: i64,
    payload: &str,
    started_by: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE jobs SET payload = $1, started_by = $2, stage = 0, cursor_id = 0, done = 0, \
               total = 0 WHERE id = $3";
    on!(exec, |c| sqlx::query(sql)
        .bind(payload)
        .bind(started_by)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Claims the oldest job that is queued, or running under a lease that has expired (its
/// worker died), for `owner` until `lease_until`.
pub async fn claim(
    exec: Exec<'_>,
    owner: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<JobRow>, sqlx::Error> {
    let pick = "SELECT id FROM jobs WHERE state = 'queued' \
                OR (state = 'running' AND (lease_until IS NULL OR lease_until <= $3)) \
                ORDER BY id LIMIT 1";
    let claim = |pick: &str| {
        format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
             started_at = COALESCE(started_at, $3) WHERE id IN ({pick}) RETURNING {COLUMNS}"
        )
    };
    match exec {
        Exec::Postgres(c) => {
            sqlx::query_as(&claim(&format!("{pick} FOR UPDATE SKIP LOCKED")))
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(c)
                .await
        }
        Exec::Sqlite(c) => {
            sqlx::query_as(&claim(pick))
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(c)
                .await
        }
    }
}

/// The job as its worker holds it, for one batch: `None` once the lease went to another worker
/// or the job is no longer running. Locks the row on PostgreSQL until the batch commits.
pub async fn held(exec: Exec<'_>, id: i64, owner: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let base = format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1 AND state = 'running' AND lease_owner = $2"
    );
    match exec {
        Exec::Postgres(c) => {
            sqlx::query_as(&format!("{base} FOR UPDATE"))
                .bind(id)
                .bind(owner)
                .fetch_optional(c)
                .await
        }
        Exec::Sqlite(c) => {
            sqlx::query_as(&base)
                .bind(id)
                .bind(owner)
                .fetch_optional(c)
                .await
        }
    }
}

/// Where a job got to after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: i64,
    pub cursor_id: i64,
    pub done: i64,
    pub total: i64,
}

impl JobRow {
    /// Where the job has got to.
    pub fn progress(&self) -> Progress {
        Progress {
            stage: self.stage,
            cursor_id: self.cursor_id,
            done: self.done,
            total: self.total,
        }
    }
}

/// Records a batch's progress and renews the lease.
pub async fn advance(
    exec: Exec<'_>,
    id: i64,
    progress: Progress,
    lease_until: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE jobs SET stage = $1, cursor_id = $2, done = $3, total = $4, lease_until = $5 \
               WHERE id = $6";
    on!(exec, |c| sqlx::query(sql)
        .bind(progress.stage)
        .bind(progress.cursor_id)
        .bind(progress.done)
        .bind(progress.total)
        .bind(lease_until)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// The job ends: `done`, or `failed` with the error's text.
pub async fn finish(
    exec: Exec<'_>,
    id: i64,
    error: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE jobs SET state = $1, error = $2, finished_at = $3, lease_owner = NULL, \
               lease_until = NULL, done = CASE WHEN $1 = 'done' THEN total ELSE done END \
               WHERE id = $4";
    let state = if error.is_some() { "failed" } else { "done" };
    on!(exec, |c| sqlx::query(sql)
        .bind(state)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))
}

/// The newest job of this kind and key, open or not.
pub async fn latest(exec: Exec<'_>, kind: &str, key: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE kind = $1 AND job_key = $2 ORDER BY id DESC LIMIT 1"
    );
    on!(exec, |c| sqlx::query_as(&sql)
        .bind(kind)
        .bind(key)
        .fetch_optional(c)
        .await)
}

/// Deletes every job of this kind and key (the member they were for left); a worker holding
/// one finds it gone at its next batch.
pub async fn delete(exec: Exec<'_>, kind: &str, key: &str) -> Result<(), sqlx::Error> {
    let sql = "DELETE FROM jobs WHERE kind = $1 AND job_key = $2";
    on!(exec, |c| sqlx::query(sql)
        .bind(kind)
        .bind(key)
        .execute(c)
        .await
        .map(|_| ()))
}

/// The payload of the open job of this kind and key, if there is one.
pub async fn open_payload(
    exec: Exec<'_>,
    kind: &str,
    key: &str,
) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT payload FROM jobs WHERE kind = $1 AND job_key = $2 \
               AND state IN ('queued', 'running')";
    on!(exec, |c| sqlx::query_scalar(sql)
        .bind(kind)
        .bind(key)
        .fetch_optional(c)
        .await)
}

/// Every running job's lease ends (SQLite at start-up: one process owns the database, so a
/// lease left behind belongs to a process that died); they are taken up again at once.
pub async fn release_leases(exec: Exec<'_>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE state = 'running'";
    on!(exec, |c| sqlx::query(sql).execute(c).await.map(|_| ()))
}
