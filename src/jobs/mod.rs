//! Background jobs: long work that must not hold the one write transaction for seconds runs here
//! in small batches, each batch its own short transaction that also records the job's progress,
//! so a writer never waits for more than a batch.
//!
//! A job is a row of `jobs` (SQL in `db::jobs`): its [`Kind`], its state (queued, running, done,
//! failed), its progress (`done` of `total`), who started it and when, and a lease. One worker
//! task per instance ([`run`], started with the server) claims one job at a time (on PostgreSQL
//! with `FOR UPDATE SKIP LOCKED`, so with several instances each job runs once), renews the lease
//! with every batch, and takes up a job whose lease expired (its instance died) where it stopped.
//!
//! Adding a kind (an export of a member's data, a large batch of invitations):
//! 1. a variant of [`Kind`] with its name in [`Kind::name`] and [`Kind::parse`];
//! 2. the service that starts it calls [`queue`] (or its own variant of it) in its unit of
//!    work, with a key when several jobs of the kind may be open at once (one per member);
//! 3. its batch in [`Kind::batch`]: read the job's `stage` and `cursor_id`, do a bounded piece of
//!    work in the transaction it is given, return the new position and progress (and
//!    `finished` once there is nothing left). The batch's mail goes through the outbox and its
//!    events are announced on the same [`Work`], like any service's.
//! 4. the page that started it shows [`Status`] and refreshes while it runs.

pub mod export;
pub mod reindex;

use std::time::Duration;

use tokio::sync::watch;

use crate::db::jobs::{JobRow, Progress};
use crate::error::AppError;
use crate::work::Work;
use crate::{AppState, db};

/// How long a claim lasts without a batch renewing it: a worker that died gives its job up
/// after this.
pub const LEASE_SECONDS: i64 = 30;
/// How often an idle worker looks for a queued job.
const IDLE: Duration = Duration::from_secs(1);

/// What a job does. Stored by [`Kind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Re-normalizes the search text of every post and Q&A answer after the equivalent terms
    /// changed ([`reindex`]).
    Reindex,
    /// Prepares a member's export of their own data and mails them its link ([`export`]).
    Export,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Reindex => "search.reindex",
            Kind::Export => "account.export",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "search.reindex" => Some(Kind::Reindex),
            "account.export" => Some(Kind::Export),
            _ => None,
        }
    }

    /// One batch of the job's work, in `work`.
    async fn batch(self, work: &mut Work<'_>, job: &JobRow, size: i64) -> Result<Step, AppError> {
        match self {
            Kind::Reindex => reindex::batch(work, job, size).await,
            Kind::Export => export::batch(work, job, size).await,
        }
    }
}

/// What a batch did: where the job is now, and whether there is nothing left.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub progress: Progress,
    pub finished: bool,
}

/// A job as a page shows it.
#[derive(Debug, Clone)]
pub struct Status {
    pub id: i64,
    pub running: bool,
    pub failed: bool,
    pub done: i64,
    pub total: i64,
    pub finished_at: Option<i64>,
}

impl Status {
    pub fn of(job: &JobRow) -> Status {
        Status {
            id: job.id,
            running: matches!(job.state.as_str(), "queued" | "running"),
            failed: job.state == "failed",
            done: job.done,
            total: job.total,
            finished_at: job.finished_at,
        }
    }

    /// Whole percent done, 0 to 100.
    pub fn percent(&self) -> i64 {
        if self.total <= 0 {
            0
        } else {
            (self.done * 100 / self.total).clamp(0, 100)
        }
    }
}

/// The worker: claims a job, runs its batches until it is finished or its lease is lost, then
/// looks for the next one; stops when the server shuts down (a job in progress stays running
/// and is taken up again after its lease expires, or at the next start on SQLite).
pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
    let owner = crate::auth::csrf::new_token();
    loop {
        let claimed = claim(&app, &owner).await;
        let job = match claimed {
            Ok(Some(job)) => job,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => continue,
                    _ = shutdown.changed() => return,
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a background job");
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        tracing::info!(job = job.id, kind = %job.kind, "background job claimed");
        loop {
            if *shutdown.borrow() {
                return;
            }
            match step(&app, job.id, &owner).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(job = job.id, error = %e, "background job batch");
                    if let Err(e) = fail(&app, job.id, &owner, &e.to_string()).await {
                        tracing::error!(job = job.id, error = %e, "marking a job failed");
                    }
                    break;
                }
            }
            let pause = Duration::from_millis(app.config.job_batch_pause_ms);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

async fn claim(app: &AppState, owner: &str) -> Result<Option<JobRow>, AppError> {
    let mut work = app.work().await?;
    let now = work.now();
    let job = db::jobs::claim(work.exec(), owner, now, now + LEASE_SECONDS).await?;
    work.commit().await?;
    Ok(job)
}

/// Runs one batch of the job `owner` holds; whether there is more to do.
pub async fn step(app: &AppState, id: i64, owner: &str) -> Result<bool, AppError> {
    let mut work = app.work().await?;
    let Some(job) = db::jobs::held(work.exec(), id, owner).await? else {
        return Ok(false);
    };
    let Some(kind) = Kind::parse(&job.kind) else {
        let now = work.now();
        let error = format!("unknown kind of job: {}", job.kind);
        db::jobs::finish(work.exec(), id, Some(&error), now).await?;
        work.commit().await?;
        return Ok(false);
    };
    let size = i64::from(app.config.job_batch_size);
    let step = kind.batch(&mut work, &job, size).await?;
    let now = work.now();
    db::jobs::advance(work.exec(), id, step.progress, now + LEASE_SECONDS).await?;
    if step.finished {
        db::jobs::finish(work.exec(), id, None, now).await?;
    }
    work.commit().await?;
    if step.finished {
        tracing::info!(job = id, kind = %job.kind, "background job done");
    }
    Ok(!step.finished)
}

async fn fail(app: &AppState, id: i64, owner: &str, error: &str) -> Result<(), AppError> {
    let mut work = app.work().await?;
    if db::jobs::held(work.exec(), id, owner).await?.is_some() {
        let now = work.now();
        db::jobs::finish(work.exec(), id, Some(error), now).await?;
    }
    work.commit().await?;
    Ok(())
}
