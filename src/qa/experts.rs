//! Experts' profiles: the qualification (社会保険労務士, …) and a short introduction shown with the
//! expert's display name on their slots. An expert edits their own (`/qa/profile`); a
//! coordinator lists every account with the expert role (`/admin/experts`) and creates or edits
//! any of their profiles, which is logged.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::session::{Coordinators, CurrentUser, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::qa_slots::Expert;
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::{App, AppState, db};

/// Characters in a qualification ("社会保険労務士", "弁護士・社会福祉士").
pub const MAX_QUALIFICATION: usize = 40;
/// Characters in an introduction.
pub const MAX_INTRODUCTION: usize = 400;

/// A profile as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ProfileForm {
    #[serde(default)]
    qualification: String,
    #[serde(default)]
    introduction: String,
}

/// A profile as it may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub qualification: String,
    pub introduction: String,
}

/// The form read into a profile, or its problems: the qualification is required and short (its
/// spaces collapsed); the introduction is plain text of bounded length (its lines kept).
pub fn read_profile(t: Tr, form: &ProfileForm) -> Result<Profile, FieldErrors> {
    let mut errors = FieldErrors::default();
    let qualification = form
        .qualification
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if qualification.is_empty() {
        errors.add(
            "qualification",
            t.s("qa_slots.error.qualification_missing").into(),
        );
    } else if qualification.chars().count() > MAX_QUALIFICATION {
        let max = MAX_QUALIFICATION.to_string();
        errors.add(
            "qualification",
            t.f("qa_slots.error.qualification_too_long", &[("max", &max)]),
        );
    }
    let introduction = form.introduction.trim().to_owned();
    if introduction.chars().count() > MAX_INTRODUCTION {
        let max = MAX_INTRODUCTION.to_string();
        errors.add(
            "introduction",
            t.f("qa_slots.error.introduction_too_long", &[("max", &max)]),
        );
    }
    if errors.is_empty() {
        Ok(Profile {
            qualification,
            introduction,
        })
    } else {
        Err(errors)
    }
}

/// Saves the profile of the expert numbered `expert_id` (404 for any other account). A
/// coordinator's change to someone else's profile is logged; an unchanged profile writes nothing.
pub async fn save_profile(
    app: &App,
    actor: &SessionUser,
    expert_id: i64,
    profile: &Profile,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    let expert = db::qa_slots::expert(work.exec(), expert_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let unchanged = expert.qualification.as_deref() == Some(profile.qualification.as_str())
        && expert.introduction.as_deref() == Some(profile.introduction.as_str());
    if unchanged {
        return Ok(());
    }
    db::qa_slots::save_profile(
        work.exec(),
        expert_id,
        &profile.qualification,
        &profile.introduction,
        now,
    )
    .await?;
    if actor.id != expert_id {
        let what = format!(
            "qualification {:?} -> {:?}, introduction {}",
            expert.qualification.as_deref().unwrap_or(""),
            profile.qualification,
            if expert.introduction.as_deref() == Some(profile.introduction.as_str()) {
                "kept"
            } else {
                "changed"
            }
        );
        work.log(
            LogRecord::new(
                actor.id,
                Action::ExpertProfileEdited,
                TargetKind::Member,
                expert_id,
            )
            .about(expert_id)
            .because(what),
        )
        .await?;
    }
    work.commit().await?;
    Ok(())
}

/// An expert in the coordinators' list.
pub struct ExpertItem {
    pub id: i64,
    pub name: String,
    pub qualification: Option<String>,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/admin_experts.html")]
pub struct ExpertsView {
    layout: Layout,
    experts: Vec<ExpertItem>,
}

pub async fn admin_list(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<ExpertsView> {
    let mut conn = app.db.conn().await?;
    let experts = db::qa_slots::experts(conn.exec()).await?;
    drop(conn);
    Ok(ExpertsView {
        layout: Layout::titled(&app, &ctx, "qa_slots.experts_title"),
        experts: experts
            .into_iter()
            .map(|e| ExpertItem {
                id: e.id,
                active: e.active(),
                name: e.display_name,
                qualification: e.qualification,
            })
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/profile_form.html")]
pub struct ProfileView {
    layout: Layout,
    /// Where the form posts, and where "back" leads.
    action: String,
    back: String,
    back_label: String,
    expert_name: String,
    /// Whether the reader edits their own profile.
    own: bool,
    form: ProfileForm,
    errors: FieldErrors,
    qualification_max: usize,
    introduction_max: usize,
    qualification_hint: String,
    introduction_hint: String,
}

/// Whose profile a page is about, and who edits it there.
enum Editing {
    Own,
    ByCoordinator,
}

fn profile_view(
    app: &AppState,
    ctx: &RequestContext,
    expert: &Expert,
    editing: &Editing,
    form: ProfileForm,
    errors: FieldErrors,
) -> ProfileView {
    let t = ctx.tr();
    let (action, back, back_label, own) = match editing {
        Editing::Own => (
            "/qa/profile".to_owned(),
            "/qa",
            "qa_slots.back_to_list",
            true,
        ),
        Editing::ByCoordinator => (
            format!("/admin/experts/{}", expert.id),
            "/admin/experts",
            "qa_slots.back_to_experts",
            false,
        ),
    };
    ProfileView {
        layout: Layout::titled(app, ctx, "qa_slots.profile_title"),
        action,
        back: back.to_owned(),
        back_label: t.s(back_label).into_owned(),
        expert_name: expert.display_name.clone(),
        own,
        form,
        errors,
        qualification_max: MAX_QUALIFICATION,
        introduction_max: MAX_INTRODUCTION,
        qualification_hint: t.f(
            "qa_slots.qualification_hint",
            &[("max", &MAX_QUALIFICATION.to_string())],
        ),
        introduction_hint: t.f(
            "qa_slots.introduction_hint",
            &[("max", &MAX_INTRODUCTION.to_string())],
        ),
    }
}

fn form_of(expert: &Expert) -> ProfileForm {
    ProfileForm {
        qualification: expert.qualification.clone().unwrap_or_default(),
        introduction: expert.introduction.clone().unwrap_or_default(),
    }
}

async fn expert_by_id(app: &AppState, id: i64) -> AppResult<Expert> {
    let mut conn = app.db.conn().await?;
    db::qa_slots::expert(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The reader, when they are an expert (anyone else: 404, as for any page not theirs to know).
fn own_expert(user: &SessionUser) -> AppResult<i64> {
    if user.role == Role::Expert {
        Ok(user.id)
    } else {
        Err(AppError::NotFound)
    }
}

async fn edit_page(
    app: &AppState,
    ctx: &RequestContext,
    id: i64,
    editing: Editing,
) -> AppResult<ProfileView> {
    let expert = expert_by_id(app, id).await?;
    let form = form_of(&expert);
    Ok(profile_view(
        app,
        ctx,
        &expert,
        &editing,
        form,
        FieldErrors::default(),
    ))
}

async fn update(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    id: i64,
    editing: Editing,
    form: ProfileForm,
) -> AppResult<Response> {
    app.writes.check(user, WriteKind::Slot)?;
    let t = ctx.tr();
    match read_profile(t, &form) {
        Ok(profile) => {
            save_profile(app, user, id, &profile).await?;
            SessionData(&ctx.session)
                .set_flash(t.s("qa_slots.profile_saved").into_owned())
                .await?;
            let to = match editing {
                Editing::Own => "/qa/profile",
                Editing::ByCoordinator => "/admin/experts",
            };
            Ok(Redirect::to(to).into_response())
        }
        Err(errors) => {
            let expert = expert_by_id(app, id).await?;
            let view = profile_view(app, ctx, &expert, &editing, form, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

pub async fn own_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<ProfileView> {
    let id = own_expert(&user)?;
    edit_page(&app, &ctx, id, Editing::Own).await
}

pub async fn own_update(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    let id = own_expert(&user)?;
    update(&app, &ctx, &user, id, Editing::Own, form).await
}

pub async fn admin_edit_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<ProfileView> {
    edit_page(&app, &ctx, id, Editing::ByCoordinator).await
}

pub async fn admin_update(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    update(&app, &ctx, &user, id, Editing::ByCoordinator, form).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn a_profile_needs_a_short_qualification_and_a_bounded_introduction() {
        let t = Locale::En.tr();
        let form = ProfileForm {
            qualification: "  社会保険労務士 　".into(),
            introduction: " 仙台で開業しています。\n傷病手当金のご相談が多いです。 ".into(),
        };
        let profile = read_profile(t, &form).expect("a profile");
        assert_eq!(profile.qualification, "社会保険労務士");
        assert_eq!(
            profile.introduction,
            "仙台で開業しています。\n傷病手当金のご相談が多いです。"
        );
        let errors = read_profile(t, &ProfileForm::default()).expect_err("no qualification");
        assert!(errors.has("qualification") && !errors.has("introduction"));
        let long = ProfileForm {
            qualification: "士".repeat(MAX_QUALIFICATION + 1),
            introduction: "あ".repeat(MAX_INTRODUCTION + 1),
        };
        let errors = read_profile(t, &long).expect_err("too long");
        assert!(errors.has("qualification") && errors.has("introduction"));
    }
}
