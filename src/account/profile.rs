//! What a member tells other members about themselves (`/account/profile`): their relation (set
//! when they were invited), the kind of cancer, the treatment stage, the work situation and a
//! short introduction, each shown on their member page only when they tick it. Nothing is shown
//! until they do; staff see the relation, which the site's restricted rooms and categories
//! depend on, and the rest only as other members do.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{CurrentUser, RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::profiles::MemberProfile;
use crate::db::users::SessionUser;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::web::layout::Layout;

/// A short answer: the kind of cancer, the stage, the work situation.
pub const MAX_SHORT: usize = 60;
pub const MAX_INTRODUCTION: usize = 400;

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    #[serde(default)]
    cancer: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    work: String,
    #[serde(default)]
    introduction: String,
    #[serde(default)]
    show_relation: Option<String>,
    #[serde(default)]
    show_cancer: Option<String>,
    #[serde(default)]
    show_stage: Option<String>,
    #[serde(default)]
    show_work: Option<String>,
    #[serde(default)]
    show_introduction: Option<String>,
}

impl ProfileForm {
    fn of(p: &MemberProfile) -> ProfileForm {
        let tick = |on: bool| on.then(|| "1".to_owned());
        ProfileForm {
            cancer: p.cancer.clone(),
            stage: p.stage.clone(),
            work: p.work.clone(),
            introduction: p.introduction.clone(),
            show_relation: tick(p.show_relation),
            show_cancer: tick(p.show_cancer),
            show_stage: tick(p.show_stage),
            show_work: tick(p.show_work),
            show_introduction: tick(p.show_introduction),
        }
    }

    /// The profile as stored, or the locale keys of what is wrong.
    fn checked(&self) -> Result<MemberProfile, Vec<&'static str>> {
        let line = |raw: &str| raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let (cancer, stage, work) = (line(&self.cancer), line(&self.stage), line(&self.work));
        let introduction = self.introduction.trim().replace("\r\n", "\n");
        let mut problems = Vec::new();
        if [&cancer, &stage, &work]
            .iter()
            .any(|s| s.chars().count() > MAX_SHORT)
        {
            problems.push("profile.error.short_too_long");
        }
        if introduction.chars().count() > MAX_INTRODUCTION {
            problems.push("profile.error.introduction_too_long");
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(MemberProfile {
            cancer,
            stage,
            work,
            introduction,
            show_relation: self.show_relation.is_some(),
            show_cancer: self.show_cancer.is_some(),
            show_stage: self.show_stage.is_some(),
            show_work: self.show_work.is_some(),
            show_introduction: self.show_introduction.is_some(),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account/profile.html")]
pub struct ProfileFormView {
    layout: Layout,
    relation: String,
    form: ProfileForm,
    errors: Vec<String>,
    max_short: usize,
    max_introduction: usize,
}

fn view(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    form: ProfileForm,
    errors: Vec<String>,
) -> ProfileFormView {
    let t = ctx.tr();
    ProfileFormView {
        layout: Layout::titled(app, ctx, "profile.edit_title"),
        relation: relation_label(t, user.relation.as_str()),
        form,
        errors,
        max_short: MAX_SHORT,
        max_introduction: MAX_INTRODUCTION,
    }
}

pub fn relation_label(t: Tr, relation: &str) -> String {
    t.s(&format!("relation.{relation}")).into_owned()
}

/// `GET /account/profile`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<ProfileFormView> {
    let profile = {
        let mut conn = app.db.conn().await?;
        db::profiles::member_profile(conn.exec(), user.id).await?
    };
    Ok(view(
        &app,
        &ctx,
        &user,
        ProfileForm::of(&profile),
        Vec::new(),
    ))
}

/// `POST /account/profile`.
pub async fn save(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let profile = match form.checked() {
        Ok(profile) => profile,
        Err(problems) => {
            let errors = problems.iter().map(|k| t.s(k).into_owned()).collect();
            let page = view(&app, &ctx, &user, form, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    super::service::save_profile(&app, user.id, &profile).await?;
    SessionData(&ctx.session)
        .set_flash(t.s("profile.saved").into_owned())
        .await?;
    Ok(Redirect::to("/account/profile").into_response())
}
