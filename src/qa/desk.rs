//! The expert's desk for a slot: the accepted questions (with who asked: the expert always
//! knows), a draft answer for each that can be written before the slot, and publishing during
//! it. Publishing goes through the content pipeline (`content::Draft::Answer`); the live slot
//! page and the askers hear of it after the commit.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::rules::{self, MAX_ANSWER};
use super::service;
use super::slot::SlotText;
use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{CurrentUser, RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::content::{self, Draft, Outcome};
use crate::db;
use crate::db::users::SessionUser;
use crate::error::{AppError, AppResult};
use crate::web::layout::Layout;

pub struct DeskItem {
    pub id: i64,
    pub asker: String,
    pub follow_up: bool,
    pub shared: bool,
    pub body: String,
    pub redaction_note: String,
    /// The answer as written so far.
    pub answer: String,
    /// Draft, published, held or hidden, in words; empty when nothing is written.
    pub answer_state: String,
    pub published: bool,
    pub errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/desk.html")]
pub struct DeskView {
    layout: Layout,
    slot: SlotText,
    started: bool,
    items: Vec<DeskItem>,
    max_answer: usize,
}

/// The slot's expert only: the desk is theirs (staff screen on their own pages).
async fn render(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    slot_id: i64,
    failed: Option<(i64, String, Vec<String>)>,
) -> AppResult<DeskView> {
    let now = db::now();
    let (slot, questions, answers) = {
        let mut conn = app.db.conn().await?;
        let mut exec = conn.exec();
        let slot = db::qa::slot(exec.again(), slot_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if slot.expert_id != user.id {
            return Err(AppError::Forbidden);
        }
        let questions = db::qa::staff_questions(exec.again(), slot_id).await?;
        let answers: std::collections::HashMap<i64, db::qa::AnswerRef> =
            db::qa::slot_answers(exec.again(), slot_id)
                .await?
                .into_iter()
                .map(|a| (a.question_id, a))
                .collect();
        (slot, questions, answers)
    };
    let t = ctx.tr();
    let mut items = Vec::new();
    // Each question, then its follow-ups.
    let accepted: Vec<_> = questions
        .iter()
        .filter(|q| q.status == "accepted")
        .collect();
    let mut ordered = Vec::new();
    for q in accepted.iter().filter(|q| q.parent_id.is_none()) {
        ordered.push(*q);
        ordered.extend(accepted.iter().filter(|f| f.parent_id == Some(q.id)));
    }
    for q in ordered {
        let answer = answers.get(&q.id);
        let (text, errors) = match &failed {
            Some((id, text, errors)) if *id == q.id => (text.clone(), errors.clone()),
            _ => (
                answer.map(|a| a.body_markdown.clone()).unwrap_or_default(),
                Vec::new(),
            ),
        };
        items.push(DeskItem {
            id: q.id,
            asker: if q.anonymous {
                t.f("qa.anonymous_to_others", &[("name", &q.asker_name)])
            } else {
                q.asker_name.clone()
            },
            follow_up: q.parent_id.is_some(),
            shared: q.shared,
            body: q.body.clone(),
            redaction_note: q.redaction_note.clone(),
            answer: text,
            answer_state: answer
                .map(|a| t.s(&format!("qa.desk.state.{}", a.status)).into_owned())
                .unwrap_or_default(),
            published: answer.is_some_and(|a| a.status != "draft"),
            errors,
        });
    }
    Ok(DeskView {
        layout: Layout::titled(app, ctx, "qa.desk.title"),
        started: now >= slot.starts_at,
        slot: SlotText::new(app, t, &slot, now),
        items,
        max_answer: MAX_ANSWER,
    })
}

/// `GET /qa/slots/{id}/desk`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(slot_id): Path<i64>,
) -> AppResult<DeskView> {
    render(&app, &ctx, &user, slot_id, None).await
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    body: String,
    /// `draft` or `publish`.
    #[serde(default)]
    action: String,
}

/// `POST /qa/questions/{id}/answer`: save the draft, or publish.
pub async fn answer(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(question_id): Path<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let slot_id = {
        let mut conn = app.db.conn().await?;
        let question = db::qa::question(conn.exec(), question_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let slot = db::qa::slot(conn.exec(), question.slot_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if slot.expert_id != user.id {
            return Err(AppError::Forbidden);
        }
        slot.id
    };
    let t = ctx.tr();
    let failed = |errors: Vec<String>| (question_id, form.body.clone(), errors);
    let back = format!("/qa/slots/{slot_id}/desk#d{question_id}");
    let key = match form.action.as_str() {
        "draft" => {
            app.writes.check(&user, WriteKind::Draft)?;
            let body = match rules::answer(&form.body) {
                Ok(body) => body,
                Err(problem) => {
                    let errors = vec![t.s(problem.key()).into_owned()];
                    return failure(&app, &ctx, &user, slot_id, failed(errors)).await;
                }
            };
            if !service::save_draft(&app, &user, question_id, &body).await? {
                let errors = vec![t.s("qa.desk.already_published").into_owned()];
                return failure(&app, &ctx, &user, slot_id, failed(errors)).await;
            }
            "qa.desk.draft_saved"
        }
        "publish" => {
            app.writes.check(&user, WriteKind::Answer)?;
            let draft = Draft::Answer {
                question_id,
                body: &form.body,
            };
            match content::submit(&app, &user, draft).await? {
                Ok(accepted) if matches!(accepted.outcome, Outcome::Held(_)) => "qa.desk.held",
                Ok(_) => "qa.desk.published",
                Err(refusal) => {
                    let errors = refusal.messages(t, &app.site);
                    return failure(&app, &ctx, &user, slot_id, failed(errors)).await;
                }
            }
        }
        _ => return Err(AppError::BadRequest("unknown action")),
    };
    SessionData(&ctx.session)
        .set_flash(t.s(key).into_owned())
        .await?;
    Ok(Redirect::to(&back).into_response())
}

async fn failure(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    slot_id: i64,
    failed: (i64, String, Vec<String>),
) -> AppResult<Response> {
    let view = render(app, ctx, user, slot_id, Some(failed)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
}
