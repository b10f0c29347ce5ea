//! A member's report on an answered question they can see: the same reasons, the same
//! one-open-report rule and the same moderators' alert as a report on a post. The report is on
//! the question and its answer together; staff see who asked, the reporter never does.

use crate::AppState;
use crate::db;
use crate::db::users::SessionUser;
use crate::domain::log::TargetKind;
use crate::error::{AppError, AppResult};
use crate::moderation::reports::{ReportTarget, Reportable, Reported};

/// How much of a question the report form quotes.
const EXCERPT_CHARS: usize = 160;

/// Answered questions, as reported at `/qa/questions/{id}/report`.
pub struct AnsweredQuestion;

impl Reportable for AnsweredQuestion {
    async fn reportable(
        app: &AppState,
        user: &SessionUser,
        question_id: i64,
    ) -> AppResult<(ReportTarget, Reported)> {
        let mut conn = app.db.conn().await?;
        let row = db::qa::shown_answer(conn.exec(), question_id, user.id, false, db::now())
            .await?
            .ok_or(AppError::NotFound)?;
        let link = format!("/qa/slots/{}#q{}", row.slot_id, row.question_id);
        let target = ReportTarget {
            kind: TargetKind::QaQuestion,
            id: row.question_id,
            author_id: row.asker_id,
            link: format!("/mod/qa-questions/{}", row.question_id),
        };
        let reported = Reported {
            action: format!("/qa/questions/{}/report", row.question_id),
            link,
            heading: row.theme.clone(),
            excerpt: row.question.chars().take(EXCERPT_CHARS).collect(),
        };
        Ok((target, reported))
    }
}
