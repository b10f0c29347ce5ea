//! The slot forms: a new slot (`/qa/slots/new`), a slot edited (`/qa/slots/{id}/edit`) and
//! cancelled after a confirmation page (`/qa/slots/{id}/cancel`). An expert's forms are for
//! their own slots; a coordinator's choose the expert from the accounts with the expert role.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{CurrentUser, RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::cafe::schedule::when;
use crate::db;
use crate::db::qa::SlotRow;
use crate::db::users::SessionUser;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::qa::slots::{self, MAX_CAPACITY, MAX_THEME, SlotForm, may_hold_slots, may_manage};
use crate::web::datetime::zone_note;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

/// An expert a coordinator may choose.
pub struct ExpertChoice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/slot_form.html")]
pub struct SlotFormView {
    layout: Layout,
    action: String,
    /// The slot as it is, for an edit.
    when: Option<String>,
    /// For a coordinator: the experts to choose from (empty for an expert's own form).
    experts: Vec<ExpertChoice>,
    /// A coordinator with no expert account to choose.
    no_experts: bool,
    form: SlotForm,
    errors: FieldErrors,
    submit: String,
    zone_note: String,
    theme_max: usize,
    theme_hint: String,
    capacity_max: i64,
    capacity_hint: String,
}

async fn form_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    slot: Option<&SlotRow>,
    form: SlotForm,
    errors: FieldErrors,
) -> AppResult<SlotFormView> {
    let t = ctx.tr();
    let experts = if user.role == Role::Coordinator {
        let mut conn = app.db.conn().await?;
        let all = db::qa_slots::experts(conn.exec()).await?;
        drop(conn);
        all.into_iter()
            .filter(|e| e.active() || slot.is_some_and(|s| s.expert_id == e.id))
            .map(|e| {
                let id = e.id.to_string();
                ExpertChoice {
                    selected: form.expert == id,
                    label: match &e.qualification {
                        Some(q) => format!("{}（{q}）", e.display_name),
                        None => e.display_name.clone(),
                    },
                    id,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let (title, action, submit) = match slot {
        Some(s) => (
            "qa_slots.edit_title",
            format!("/qa/slots/{}/edit", s.id),
            "form.save",
        ),
        None => (
            "qa_slots.new_title",
            "/qa/slots/new".to_owned(),
            "qa_slots.create",
        ),
    };
    Ok(SlotFormView {
        layout: Layout::titled(app, ctx, title),
        action,
        when: slot.map(|s| when(&app.site, t, s.starts_at, s.ends_at)),
        no_experts: user.role == Role::Coordinator && experts.is_empty(),
        experts,
        form,
        errors,
        submit: t.s(submit).into_owned(),
        zone_note: zone_note(&app.site, t),
        theme_max: MAX_THEME,
        theme_hint: t.f("qa_slots.theme_hint", &[("max", &MAX_THEME.to_string())]),
        capacity_max: MAX_CAPACITY,
        capacity_hint: t.f(
            "qa_slots.capacity_hint",
            &[("max", &MAX_CAPACITY.to_string())],
        ),
    })
}

/// Back to the list, at the slot, with a message.
async fn to_list(ctx: &RequestContext, id: i64, key: &str) -> AppResult<Response> {
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to(&format!("/qa#slot-{id}")).into_response())
}

pub async fn new_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<SlotFormView> {
    may_hold_slots(&user)?;
    form_view(
        &app,
        &ctx,
        &user,
        None,
        SlotForm::blank(),
        FieldErrors::default(),
    )
    .await
}

pub async fn create(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<SlotForm>,
) -> AppResult<Response> {
    may_hold_slots(&user)?;
    app.writes.check(&user, WriteKind::Slot)?;
    let t = ctx.tr();
    let outcome = match slots::read_slot(t, &form) {
        Ok(typed) => slots::create(&app, t, &user, &typed).await?,
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(id) => to_list(&ctx, id, "qa_slots.created").await,
        Err(errors) => {
            let view = form_view(&app, &ctx, &user, None, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

/// A slot the reader may change, not cancelled (404 when cancelled: there is nothing to edit).
async fn editable(app: &AppState, user: &SessionUser, id: i64) -> AppResult<SlotRow> {
    may_hold_slots(user)?;
    let mut conn = app.db.conn().await?;
    let slot = db::qa::slot(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    may_manage(user, slot.expert_id)?;
    if slot.cancelled_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(slot)
}

pub async fn edit_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<SlotFormView> {
    let slot = editable(&app, &user, id).await?;
    let form = SlotForm::of(&app.site, &slot);
    form_view(&app, &ctx, &user, Some(&slot), form, FieldErrors::default()).await
}

pub async fn update(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SlotForm>,
) -> AppResult<Response> {
    may_hold_slots(&user)?;
    app.writes.check(&user, WriteKind::Slot)?;
    let t = ctx.tr();
    let outcome = match slots::read_slot(t, &form) {
        Ok(typed) => slots::edit(&app, t, &user, id, &typed).await?,
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(()) => to_list(&ctx, id, "qa_slots.saved").await,
        Err(errors) => {
            // Shown again only when the slot is still the reader's to change.
            let slot = editable(&app, &user, id).await?;
            let view = form_view(&app, &ctx, &user, Some(&slot), form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/cancel.html")]
pub struct CancelView {
    layout: Layout,
    action: String,
    when: String,
    theme: String,
    expert: String,
    accepted: String,
}

pub async fn cancel_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<CancelView> {
    let t = ctx.tr();
    let slot = slots::slot_to_cancel(&app, &user, id).await?;
    Ok(CancelView {
        layout: Layout::titled(&app, &ctx, "qa_slots.cancel_title"),
        action: format!("/qa/slots/{id}/cancel"),
        when: when(&app.site, t, slot.starts_at, slot.ends_at),
        accepted: t.count("qa_slots.cancel_accepted", slot.accepted, &[]),
        theme: slot.theme,
        expert: slot.expert_name,
    })
}

pub async fn cancel(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    may_hold_slots(&user)?;
    app.writes.check(&user, WriteKind::Setting)?;
    let key = if slots::cancel(&app, &user, id).await? {
        "qa_slots.cancelled"
    } else {
        "qa_slots.already_cancelled"
    };
    to_list(&ctx, id, key).await
}
