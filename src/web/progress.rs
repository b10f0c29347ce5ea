//! A background job's progress as a page shows it (`templates/progress.html`): a bar and its
//! text, refreshed by the page itself while the job runs, so no script is needed.

use crate::AppState;
use crate::i18n::Tr;
use crate::jobs::Status;
use crate::web::layout::local_time;

/// While a job runs the page reloads itself this often.
pub const REFRESH_SECONDS: u32 = 3;

pub struct JobView {
    pub running: bool,
    pub failed: bool,
    /// Whether the job has counted the rows it will go through: until then the bar shows
    /// no value (an indeterminate bar) and the text says it is starting.
    pub counted: bool,
    pub done: i64,
    pub total: i64,
    /// "12,000 / 100,000 (12%)", or "starting" before the count.
    pub text: String,
    /// When it finished, in the site's time zone ("" while it runs).
    pub finished: String,
}

impl JobView {
    pub fn of(app: &AppState, t: Tr, status: &Status) -> JobView {
        let counted = status.total > 0;
        let text = if counted {
            t.f(
                "job.progress",
                &[
                    ("done", &status.done.to_string()),
                    ("total", &status.total.to_string()),
                    ("percent", &status.percent().to_string()),
                ],
            )
        } else {
            t.s("job.starting").into_owned()
        };
        let finished = status
            .finished_at
            .map(|at| local_time(&app.site, at))
            .unwrap_or_default();
        JobView {
            running: status.running,
            failed: status.failed,
            counted,
            done: status.done,
            total: status.total,
            text,
            finished,
        }
    }
}
