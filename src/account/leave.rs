//! Leaving: a member deletes their own account. The first page asks what becomes of what they
//! wrote, the second ("本当に退会しますか") asks for their password again; only that second form's
//! POST deletes, and only ever the session's own account. Then a goodbye page, logged out.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::account::service::{self, Leaving};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::{self, member_data::ContentChoice};
use crate::error::AppResult;
use crate::web::input::Query;
use crate::web::layout::Layout;

/// The choice as the forms carry it.
fn parse_choice(raw: &str) -> Option<ContentChoice> {
    match raw {
        "delete" => Some(ContentChoice::Delete),
        "keep" => Some(ContentChoice::Keep),
        _ => None,
    }
}

fn choice_str(choice: ContentChoice) -> &'static str {
    match choice {
        ContentChoice::Delete => "delete",
        ContentChoice::Keep => "keep",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account/delete.html")]
pub struct DeleteView {
    layout: Layout,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/delete_confirm.html")]
pub struct ConfirmView {
    layout: Layout,
    content: &'static str,
    /// What becomes of what they wrote, in words.
    choice_text: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/goodbye.html")]
pub struct GoodbyeView {
    layout: Layout,
}

fn first_page(app: &AppState, ctx: &RequestContext, error: Option<&str>) -> DeleteView {
    DeleteView {
        layout: Layout::titled(app, ctx, "leave.title"),
        error: error.map(|key| ctx.tr().s(key).into_owned()),
    }
}

fn confirm_page(
    app: &AppState,
    ctx: &RequestContext,
    choice: ContentChoice,
    error: Option<&str>,
) -> ConfirmView {
    let t = ctx.tr();
    ConfirmView {
        layout: Layout::titled(app, ctx, "leave.confirm_title"),
        content: choice_str(choice),
        choice_text: t
            .s(&format!("leave.choice_is.{}", choice_str(choice)))
            .into_owned(),
        error: error.map(|key| t.s(key).into_owned()),
    }
}

/// `GET /account/delete`: what becomes of what they wrote.
pub async fn form(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(_): CurrentUser,
) -> DeleteView {
    first_page(&app, &ctx, None)
}

#[derive(Deserialize)]
pub struct ChoiceQuery {
    #[serde(default)]
    content: String,
}

/// `GET /account/delete/confirm?content=…`: 本当に退会しますか, with the password asked again.
pub async fn confirm(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(_): CurrentUser,
    Query(query): Query<ChoiceQuery>,
) -> Response {
    match parse_choice(&query.content) {
        Some(choice) => confirm_page(&app, &ctx, choice, None).into_response(),
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            first_page(&app, &ctx, Some("leave.choose")),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    content: String,
    #[serde(default)]
    password: String,
}

/// `POST /account/delete`: deletes the session's own account, once the password matches.
pub async fn submit(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> AppResult<Response> {
    let Some(choice) = parse_choice(&form.content) else {
        let page = first_page(&app, &ctx, Some("leave.choose"));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    app.writes.check(&user, WriteKind::Setting)?;
    let hash = {
        let mut conn = app.db.conn().await?;
        db::users::credentials_by_id(conn.exec(), user.id)
            .await?
            .map(|c| c.password_hash)
    };
    let again = |key: &str| {
        let page = confirm_page(&app, &ctx, choice, Some(key));
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    if !app
        .passwords
        .verify(&form.password, hash.as_deref())
        .await?
    {
        return again("account.wrong_password");
    }
    match service::delete_account(&app, &user, choice).await? {
        Leaving::LastCoordinator => again("leave.last_coordinator"),
        Leaving::Deleted => {
            SessionData(&ctx.session).log_out().await?;
            Ok(Redirect::to("/goodbye").into_response())
        }
    }
}

/// `GET /goodbye`: open to visitors, it names nobody.
pub async fn goodbye(State(app): State<AppState>, ctx: RequestContext) -> GoodbyeView {
    GoodbyeView {
        layout: Layout::titled(&app, &ctx, "leave.goodbye_title"),
    }
}
