//! The support resources page: hotlines and the non-profit's own contacts, in Markdown that
//! coordinators edit. Every member can read it at `/support`; a writer whose post carried crisis
//! words is shown it.
//!
//! Until a coordinator first saves it, the page shows [`DEFAULT`] (public Japanese hotlines and
//! places for the non-profit's contacts, with a note asking the coordinator to check them): a
//! page view never writes, so it never waits for the write lock.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{Coordinators, CurrentUser, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::users::SessionUser;
use crate::db::{self, Exec};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::markdown;
use crate::web::layout::Layout;

/// The `site_settings` row that holds the page's Markdown.
pub const SETTING: &str = "support_page";
/// Characters the page may hold.
pub const MAX_CHARS: usize = 20_000;

/// The page as first shown, until a coordinator saves their own.
pub const DEFAULT: &str = include_str!("support_default.md");

/// The page's Markdown: the coordinators' version, or the default.
pub async fn markdown_text(exec: Exec<'_>) -> Result<String, sqlx::Error> {
    Ok(db::settings::get(exec, SETTING)
        .await?
        .unwrap_or_else(|| DEFAULT.to_owned()))
}

async fn stored_text(app: &AppState) -> AppResult<String> {
    let mut conn = app.db.conn().await?;
    Ok(markdown_text(conn.exec()).await?)
}

#[derive(Template, WebTemplate)]
#[template(path = "safety/support.html")]
pub struct SupportView {
    layout: Layout,
    body_html: String,
    can_edit: bool,
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<SupportView> {
    let text = stored_text(&app).await?;
    Ok(SupportView {
        layout: Layout::titled(&app, &ctx, "support.title"),
        body_html: markdown::render(&text),
        can_edit: user.role == Role::Coordinator,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "safety/support_edit.html")]
pub struct SupportEditView {
    layout: Layout,
    body: String,
    errors: Vec<String>,
    hint: String,
    max: usize,
}

fn edit_view(
    app: &AppState,
    ctx: &RequestContext,
    body: String,
    errors: Vec<String>,
) -> SupportEditView {
    SupportEditView {
        layout: Layout::titled(app, ctx, "support.edit_title"),
        body,
        errors,
        hint: ctx
            .tr()
            .f("support.hint", &[("max", &MAX_CHARS.to_string())]),
        max: MAX_CHARS,
    }
}

pub async fn edit_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<SupportEditView> {
    let text = stored_text(&app).await?;
    Ok(edit_view(&app, &ctx, text, Vec::new()))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    body: String,
}

/// The page's new text, or why it cannot be saved.
pub fn check_text(t: Tr, body: &str) -> Result<String, String> {
    let body = body.trim();
    if body.is_empty() {
        return Err(t.s("support.empty").into_owned());
    }
    if body.chars().count() > MAX_CHARS {
        return Err(t.f("support.too_long", &[("max", &MAX_CHARS.to_string())]));
    }
    Ok(body.to_owned())
}

/// Stores the page's new text, logged in the same transaction.
pub async fn save_text(app: &AppState, user: &SessionUser, body: &str) -> AppResult<()> {
    let mut work = app.work().await?;
    db::settings::set(work.exec(), SETTING, body).await?;
    work.log(LogRecord {
        actor_id: Some(user.id),
        action: Action::SupportPageEdited,
        target_kind: TargetKind::Setting,
        target_id: None,
        subject_user_id: None,
        reason: SETTING.to_owned(),
    })
    .await?;
    work.commit().await?;
    tracing::info!(chars = body.chars().count(), "support page saved");
    Ok(())
}

pub async fn save(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    match check_text(t, &form.body) {
        Ok(body) => {
            save_text(&app, &user, &body).await?;
            SessionData(&ctx.session)
                .set_flash(t.s("support.saved").into_owned())
                .await?;
            Ok(Redirect::to("/support").into_response())
        }
        Err(refused) => {
            let page = edit_view(&app, &ctx, form.body, vec![refused]);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn the_default_names_the_hotlines_and_asks_to_be_checked() {
        let html = markdown::render(DEFAULT);
        for needed in [
            "いのちの電話",
            "よりそいホットライン",
            "0120-279-226",
            "コーディネーター",
        ] {
            assert!(html.contains(needed), "{needed}");
        }
        assert!(DEFAULT.chars().count() <= MAX_CHARS);
    }

    #[test]
    fn the_text_is_needed_and_bounded() {
        let t = Locale::Ja.tr();
        assert!(check_text(t, " \n ").is_err());
        assert!(check_text(t, &"あ".repeat(MAX_CHARS + 1)).is_err());
        assert_eq!(check_text(t, " 窓口 \n"), Ok("窓口".into()));
    }
}
