//! Screening the expert Q&A (`/mod/qa`): questions waiting (those a watched word held first),
//! flagged and reported questions, held and flagged answers; and one question's page
//! (`/mod/qa-questions/{id}`) with who asked, the asker's own words when they were redacted, and
//! every decision: accept, decline with a reason the asker reads, redact with a visible note,
//! merge into a similar question, hide, resolve reports, and the answer's approval or hiding.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, Require, Staff};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::qa::{AnswerRow, QuestionRef};
use crate::db::users::SessionUser;
use crate::domain::log::TargetKind;
use crate::domain::report::Resolution;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::moderation::queue::{self, moderator_reason};
use crate::moderation::reports::{
    ReportLine, ResolveForm, checked_resolution, close_reports, resolved,
};
use crate::qa::rules;
use crate::qa::service::{self, Screening};
use crate::web::layout::{Layout, local_time};

/// Items each section lists at once.
const PER_SECTION: i64 = 100;

pub struct QuestionItem {
    pub q: QuestionRef,
    pub slot: String,
    pub time: String,
    pub status: String,
}

fn question_item(app: &AppState, t: Tr, q: QuestionRef, slot: &str) -> QuestionItem {
    QuestionItem {
        time: local_time(&app.site, q.created_at),
        status: t.s(&format!("qa.screen.status.{}", q.status)).into_owned(),
        slot: slot.to_owned(),
        q,
    }
}

pub struct AnswerItem {
    pub row: AnswerRow,
    pub state: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/qa.html")]
pub struct QaQueueView {
    layout: Layout,
    waiting: Vec<QuestionItem>,
    looked: Vec<QuestionItem>,
    answers: Vec<AnswerItem>,
}

async fn slot_line(app: &AppState, exec: db::Exec<'_>, slot_id: i64) -> AppResult<String> {
    let slot = db::qa::slot(exec, slot_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(format!(
        "{} · {} · {}",
        slot.theme,
        slot.expert_name,
        local_time(&app.site, slot.starts_at)
    ))
}

/// `GET /mod/qa`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
) -> AppResult<QaQueueView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let mut exec = conn.exec();
    let mut waiting = db::qa::waiting_questions(exec.again(), PER_SECTION).await?;
    // Those a watched word held are looked at first.
    waiting.sort_by_key(|q| !q.held);
    let looked = db::qa::questions_to_look_at(exec.again(), PER_SECTION).await?;
    let answers = db::qa::answers_to_look_at(exec.again(), PER_SECTION).await?;
    let mut lists = [Vec::new(), Vec::new()];
    for (list, questions) in lists.iter_mut().zip([waiting, looked]) {
        for q in questions {
            let line = slot_line(&app, exec.again(), q.slot_id).await?;
            list.push(question_item(&app, t, q, &line));
        }
    }
    let [waiting, looked] = lists;
    drop(conn);
    Ok(QaQueueView {
        layout: Layout::titled(&app, &ctx, "qa.screen.title"),
        waiting,
        looked,
        answers: answers
            .into_iter()
            .map(|row| AnswerItem {
                state: t.s(&format!("qa.desk.state.{}", row.status)).into_owned(),
                row,
            })
            .collect(),
    })
}

/// The open reports on the question and the form resolving them (`moderation/resolve.html`).
pub struct OpenReports {
    pub count: String,
    pub reports: Vec<ReportLine>,
    pub note: String,
    pub errors: Vec<String>,
}

/// Another question of the slot this one can be merged into.
pub struct MergeChoice {
    pub id: i64,
    pub excerpt: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/qa_question.html")]
pub struct QuestionView {
    layout: Layout,
    item: QuestionItem,
    answer: Option<db::qa::AnswerRef>,
    merge_choices: Vec<MergeChoice>,
    reports: Option<OpenReports>,
    errors: Vec<String>,
    /// What a form came back with.
    reason: String,
    body: String,
    note: String,
}

async fn question_view(
    app: &AppState,
    ctx: &RequestContext,
    id: i64,
    errors: Vec<String>,
    (reason, body, note): (String, Option<String>, String),
) -> AppResult<QuestionView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let mut exec = conn.exec();
    let q = db::qa::question(exec.again(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let line = slot_line(app, exec.again(), q.slot_id).await?;
    let answer = db::qa::answer_to(exec.again(), id).await?;
    let merge_choices = db::qa::staff_questions(exec.again(), q.slot_id)
        .await?
        .into_iter()
        .filter(|o| o.id != q.id && o.shared && matches!(o.status.as_str(), "pending" | "accepted"))
        .map(|o| MergeChoice {
            id: o.id,
            excerpt: o.body.chars().take(60).collect(),
        })
        .collect();
    let reports: Vec<ReportLine> = db::reports::open_on(exec, TargetKind::QaQuestion, id)
        .await?
        .into_iter()
        .map(|r| ReportLine {
            reason: t
                .s(&format!("reports.reason.{}", r.reason.as_str()))
                .into_owned(),
            note: r.note,
            reporter: r.reporter_name,
            time: local_time(&app.site, r.created_at),
        })
        .collect();
    drop(conn);
    let reports = (!reports.is_empty()).then(|| OpenReports {
        count: t.f("reports.count", &[("count", &reports.len().to_string())]),
        reports,
        note: reason.clone(),
        errors: errors.clone(),
    });
    let body = body.unwrap_or_else(|| q.body.clone());
    Ok(QuestionView {
        layout: Layout::titled(app, ctx, "qa.screen.question_title"),
        item: question_item(app, t, q, &line),
        answer,
        merge_choices,
        reports,
        errors,
        reason,
        body,
        note,
    })
}

/// `GET /mod/qa-questions/{id}`.
pub async fn question_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
    Path(id): Path<i64>,
) -> AppResult<QuestionView> {
    question_view(&app, &ctx, id, Vec::new(), Default::default()).await
}

#[derive(Deserialize)]
pub struct ScreenForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    into: String,
}

/// `POST /mod/qa-questions/{id}/{accept|decline|redact|merge|hide|clear-flag}`.
pub async fn act(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ScreenForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let t = ctx.tr();
    let reason = || moderator_reason(&form.reason);
    let refused = |key: &str, body: Option<String>| {
        (
            vec![t.s(key).into_owned()],
            (form.reason.clone(), body, form.note.clone()),
        )
    };
    let outcome: ScreenOutcome = match action.as_str() {
        "accept" => screen(&app, t, &user, id, Screening::Accept, "qa.screen.accepted").await?,
        "decline" => match reason() {
            Ok(reason) => {
                let decision = Screening::Decline(&reason);
                screen(&app, t, &user, id, decision, "qa.screen.declined").await?
            }
            Err(key) => Err(refused(key, None)),
        },
        "hide" => match reason() {
            Ok(reason) => {
                let decision = Screening::Hide(&reason);
                screen(&app, t, &user, id, decision, "qa.screen.hidden").await?
            }
            Err(key) => Err(refused(key, None)),
        },
        "merge" => match form.into.parse::<i64>() {
            Ok(into) => {
                screen(
                    &app,
                    t,
                    &user,
                    id,
                    Screening::Merge(into),
                    "qa.screen.merged",
                )
                .await?
            }
            Err(_) => Err(refused("qa.screen.bad_merge", None)),
        },
        "redact" => {
            let body = rules::question(&form.body);
            let note = moderator_reason(&form.note);
            match (body, note) {
                (Ok(body), Ok(note)) => {
                    service::redact(&app, &user, id, &body, &note).await?;
                    Ok("qa.screen.redacted")
                }
                (Err(problem), _) => Err(refused(problem.key(), Some(form.body.clone()))),
                (_, Err(_)) => Err(refused("qa.screen.note_missing", Some(form.body.clone()))),
            }
        }
        "clear-flag" => {
            service::clear_flag(&app, &user, id).await?;
            Ok("moderation.flag_cleared_flash")
        }
        _ => return Err(AppError::NotFound),
    };
    match outcome {
        Ok(key) => queue::done(&ctx, true, key, &format!("/mod/qa-questions/{id}")).await,
        Err((errors, kept)) => {
            let view = question_view(&app, &ctx, id, errors, kept).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

/// What a form came back with: the messages, and the reason, text and note to show again.
type Kept = (String, Option<String>, String);
type ScreenOutcome = Result<&'static str, (Vec<String>, Kept)>;

async fn screen(
    app: &AppState,
    t: Tr,
    user: &SessionUser,
    id: i64,
    decision: Screening<'_>,
    done: &'static str,
) -> AppResult<ScreenOutcome> {
    Ok(match service::screen(app, user, id, decision).await? {
        Ok(()) => Ok(done),
        Err(refused) => Err((
            vec![t.s(refused.key()).into_owned()],
            (String::new(), None, String::new()),
        )),
    })
}

#[derive(Deserialize)]
pub struct AnswerActionForm {
    #[serde(default)]
    reason: String,
}

/// `POST /mod/qa-answers/{id}/{approve|hide}`.
pub async fn answer_act(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<AnswerActionForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let key = match action.as_str() {
        "approve" => {
            service::moderate_answer(&app, &user, id, None).await?;
            "qa.screen.answer_approved"
        }
        "hide" => {
            let reason = moderator_reason(&form.reason).map_err(|_| {
                AppError::BadRequest("a reason of at most 500 characters is needed")
            })?;
            service::moderate_answer(&app, &user, id, Some(&reason)).await?;
            "qa.screen.answer_hidden"
        }
        _ => return Err(AppError::NotFound),
    };
    queue::done(&ctx, true, key, "/mod/qa").await
}

/// `POST /mod/qa-questions/{id}/reports/resolve`: every open report on the question at once;
/// hiding takes the question and its answer away.
pub async fn resolve(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let (resolution, note) = match checked_resolution(ctx.tr(), &form) {
        Ok(checked) => checked,
        Err(errors) => {
            let kept = (form.note, None, String::new());
            let view = question_view(&app, &ctx, id, errors, kept).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    let mut work = app.work().await?;
    let question = db::qa::question(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let target = (TargetKind::QaQuestion, id, question.asker_id);
    let author = if close_reports(&mut work, &user, target, resolution, &note).await? {
        if resolution == Resolution::Hidden {
            // Already hidden: the reports are resolved all the same.
            let _ = service::screen_in(&mut work, &user, id, Screening::Hide(&note)).await?;
        }
        work.commit().await?;
        Some(question.asker_id)
    } else {
        None
    };
    resolved(&ctx, resolution, author, "/mod/qa").await
}
