//! A slot's page: the expert and the slot, the form to ask (until the deadline), the member's
//! own questions and where each stands, and the answers the reader may see, each with the
//! disclaimer. Without JavaScript it is complete (reload to see new answers); `static/qa.js`
//! makes the answers arrive live (`live`). One card template renders an answer for the page and
//! for the live frames alike.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::rules::{self, MAX_QUESTION};
use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{CurrentUser, RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::content::{self, Draft, Outcome};
use crate::db;
use crate::db::qa::{AnswerRow, OwnQuestion, SlotRow};
use crate::db::users::SessionUser;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::layout::{Layout, local_clock, local_time};

/// Whom a card is rendered for: keepers (staff, the slot's expert) see who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Member,
    Keeper,
}

/// One answer with its question, as a card.
#[derive(Template)]
#[template(path = "qa/answer_card.html")]
pub struct AnswerCard<'a> {
    t: Tr,
    row: &'a AnswerRow,
    /// "匿名の相談者" or the asker's name; for keepers, the name and that others do not see it.
    asker: String,
    time: String,
    follow_up: bool,
}

impl<'a> AnswerCard<'a> {
    pub fn new(app: &AppState, t: Tr, row: &'a AnswerRow, audience: Audience) -> AnswerCard<'a> {
        let anonymous = t.s("qa.anonymous").into_owned();
        let asker = match (audience, &row.asker_shown) {
            (Audience::Keeper, Some(name)) if row.anonymous => {
                t.f("qa.anonymous_to_others", &[("name", name)])
            }
            (_, Some(name)) if !row.anonymous || audience == Audience::Keeper => name.clone(),
            _ => anonymous,
        };
        AnswerCard {
            t,
            row,
            asker,
            time: row
                .published_at
                .map(|at| local_time(&app.site, at))
                .unwrap_or_default(),
            follow_up: row.parent_id.is_some(),
        }
    }

    /// The card's HTML (escaped by the template; the answer's HTML was sanitized when written).
    pub fn html(&self) -> String {
        self.render().unwrap_or_default()
    }
}

/// A question of the member's own, and where it stands, in words.
pub struct OwnItem {
    pub id: i64,
    pub body: String,
    pub redaction_note: String,
    pub standing: String,
    pub settings: String,
    pub follow_up: bool,
    /// The asker may add a follow-up to it now.
    pub can_follow_up: bool,
}

fn standing(t: Tr, q: &OwnQuestion, slot: &SlotRow, answered: bool) -> String {
    match q.status.as_str() {
        "pending" => t.f(
            "qa.standing.pending",
            &[
                ("place", &q.waiting_place.to_string()),
                ("left", &slot.places_left().to_string()),
            ],
        ),
        "accepted" if answered => t.s("qa.standing.answered").into_owned(),
        "accepted" => t.s("qa.standing.accepted").into_owned(),
        "declined" => t.f("qa.standing.declined", &[("reason", &q.status_reason)]),
        "merged" => t.s("qa.standing.merged").into_owned(),
        "hidden" => t.f("qa.standing.hidden", &[("reason", &q.status_reason)]),
        _ => t.s("qa.standing.withdrawn").into_owned(),
    }
}

/// The slot as every page about it shows it.
pub struct SlotText {
    pub id: i64,
    pub theme: String,
    pub expert: String,
    pub qualification: String,
    pub introduction: String,
    pub when: String,
    pub deadline: String,
    /// Taking questions, places left, on now, over, cancelled: in words.
    pub status: String,
}

impl SlotText {
    pub fn new(app: &AppState, t: Tr, slot: &SlotRow, now: i64) -> SlotText {
        let status = if slot.cancelled_at.is_some() {
            t.s("qa.status.cancelled").into_owned()
        } else if slot.live(now) {
            t.s("qa.status.live").into_owned()
        } else if now >= slot.ends_at {
            t.s("qa.status.over").into_owned()
        } else if slot.taking_questions(now) {
            t.count("qa.status.places_left", slot.places_left(), &[])
        } else {
            t.s("qa.status.closed").into_owned()
        };
        SlotText {
            id: slot.id,
            theme: slot.theme.clone(),
            expert: slot.expert_name.clone(),
            qualification: slot.qualification.clone(),
            introduction: slot.introduction.clone(),
            when: format!(
                "{} – {}",
                local_time(&app.site, slot.starts_at),
                local_clock(&app.site, slot.ends_at)
            ),
            deadline: local_time(&app.site, slot.deadline_at),
            status,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/slot.html")]
pub struct SlotView {
    layout: Layout,
    slot: SlotText,
    seq: i64,
    is_expert: bool,
    is_staff: bool,
    can_ask: bool,
    own: Vec<OwnItem>,
    cards: Vec<String>,
    form: AskForm,
    errors: Vec<String>,
    max_question: usize,
}

#[derive(Deserialize, Default)]
pub struct AskForm {
    #[serde(default)]
    pub body: String,
    /// Checkboxes: present when ticked.
    #[serde(default)]
    pub shared: Option<String>,
    #[serde(default)]
    pub anonymous: Option<String>,
}

impl AskForm {
    /// A fresh form: shared (answers help others) and anonymous (nobody else learns who asked)
    /// until the member chooses otherwise.
    fn fresh() -> AskForm {
        AskForm {
            body: String::new(),
            shared: Some("1".into()),
            anonymous: Some("1".into()),
        }
    }
}

async fn render(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    slot_id: i64,
    form: AskForm,
    errors: Vec<String>,
) -> AppResult<SlotView> {
    let now = db::now();
    let (slot, keeps, own, answers) = {
        let mut conn = app.db.conn().await?;
        let mut exec = conn.exec();
        let slot = db::qa::slot(exec.again(), slot_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let keeps = rules::keeps(user, &slot);
        let own = db::qa::own_questions(exec.again(), slot_id, user.id).await?;
        let answers = db::qa::answers(exec, slot_id, user.id, keeps, now).await?;
        (slot, keeps, own, answers)
    };
    let t = ctx.tr();
    let audience = if keeps {
        Audience::Keeper
    } else {
        Audience::Member
    };
    let answered: std::collections::HashSet<i64> = answers.iter().map(|a| a.question_id).collect();
    let own = own
        .iter()
        .map(|q| OwnItem {
            id: q.id,
            body: q.body.clone(),
            redaction_note: q.redaction_note.clone(),
            standing: standing(t, q, &slot, answered.contains(&q.id)),
            settings: [
                t.s(if q.shared {
                    "qa.own.shared"
                } else {
                    "qa.own.private"
                }),
                t.s(if q.anonymous {
                    "qa.own.anonymous"
                } else {
                    "qa.own.named"
                }),
            ]
            .join(" · "),
            follow_up: q.parent_id.is_some(),
            can_follow_up: q.status == "accepted"
                && q.parent_id.is_none()
                && slot.follow_ups
                && slot.live(now),
        })
        .collect();
    let cards = answers
        .iter()
        .map(|row| AnswerCard::new(app, t, row, audience).html())
        .collect();
    Ok(SlotView {
        layout: Layout::new(app, ctx, slot.theme.clone()),
        seq: slot.last_seq,
        is_expert: user.id == slot.expert_id,
        is_staff: user.role.is_staff(),
        can_ask: slot.taking_questions(now) && user.id != slot.expert_id,
        slot: SlotText::new(app, t, &slot, now),
        own,
        cards,
        form,
        errors,
        max_question: MAX_QUESTION,
    })
}

/// `GET /qa/slots/{id}`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(slot_id): Path<i64>,
) -> AppResult<SlotView> {
    render(&app, &ctx, &user, slot_id, AskForm::fresh(), Vec::new()).await
}

/// After a question was taken: where to find help when it carried crisis words, else back to
/// the slot with where it stands.
async fn asked(
    ctx: &RequestContext,
    slot_id: i64,
    accepted: content::Accepted,
    key: &str,
) -> AppResult<Response> {
    let t = ctx.tr();
    let flash = SessionData(&ctx.session);
    if accepted.crisis {
        flash
            .set_flash(t.s("moderation.crisis_flash").into_owned())
            .await?;
        return Ok(Redirect::to("/support").into_response());
    }
    let key = match accepted.outcome {
        Outcome::Held(_) => "qa.asked_held",
        _ => key,
    };
    flash.set_flash(t.s(key).into_owned()).await?;
    Ok(Redirect::to(&format!("/qa/slots/{slot_id}#mine")).into_response())
}

/// `POST /qa/slots/{id}/questions`.
pub async fn ask(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(slot_id): Path<i64>,
    CsrfForm(form): CsrfForm<AskForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Question)?;
    let draft = Draft::Question {
        slot_id,
        body: &form.body,
        shared: form.shared.is_some(),
        anonymous: form.anonymous.is_some(),
        follows: None,
    };
    match content::submit(&app, &user, draft).await? {
        Ok(accepted) => asked(&ctx, slot_id, accepted, "qa.asked").await,
        Err(refusal) => {
            let errors = refusal.messages(ctx.tr(), &app.site);
            let view = render(&app, &ctx, &user, slot_id, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    body: String,
}

/// `POST /qa/questions/{id}/follow-up`: the asker's follow-up during the slot.
pub async fn follow_up(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(question_id): Path<i64>,
    CsrfForm(form): CsrfForm<FollowUpForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Question)?;
    let slot_id = {
        let mut conn = app.db.conn().await?;
        let question = db::qa::question(conn.exec(), question_id)
            .await?
            .filter(|q| q.asker_id == user.id)
            .ok_or(AppError::NotFound)?;
        question.slot_id
    };
    let draft = Draft::Question {
        slot_id,
        body: &form.body,
        shared: false,
        anonymous: false,
        follows: Some(question_id),
    };
    match content::submit(&app, &user, draft).await? {
        Ok(accepted) => asked(&ctx, slot_id, accepted, "qa.followed_up").await,
        Err(refusal) => {
            let errors = refusal.messages(ctx.tr(), &app.site);
            let form = AskForm {
                body: form.body,
                ..AskForm::fresh()
            };
            let view = render(&app, &ctx, &user, slot_id, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}
