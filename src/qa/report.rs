//! A member's report on an answered question they can see: the same reasons, the same
//! one-open-report rule and the same moderators' alert as a report on a post. The report is on
//! the question and its answer together; staff see who asked, the reporter never does.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{CurrentUser, RequestContext};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::users::SessionUser;
use crate::domain::log::TargetKind;
use crate::error::{AppError, AppResult};
use crate::moderation::reports::{
    ReportForm, ReportFormView, ReportTarget, Reported, report_form, submit_report,
};

/// How much of a question the report form quotes.
const EXCERPT_CHARS: usize = 160;

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

/// `GET /qa/questions/{id}/report`.
pub async fn report_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<ReportFormView> {
    let (_, reported) = reportable(&app, &user, id).await?;
    Ok(report_form(
        &app,
        &ctx,
        reported,
        "",
        String::new(),
        Vec::new(),
    ))
}

/// `POST /qa/questions/{id}/report`.
pub async fn report(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> AppResult<Response> {
    let (target, reported) = reportable(&app, &user, id).await?;
    app.writes.check(&user, WriteKind::Report)?;
    submit_report(&app, &ctx, &user, &target, reported, form).await
}
