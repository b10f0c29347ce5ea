//! Password reset by e-mail: a single-use link valid for one hour. The answer to a request is the
//! same whether or not the address belongs to a member.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::account::join::link_invalid;
use crate::account::service;
use crate::auth::csrf::CsrfForm;
use crate::auth::password::check_new_password;
use crate::auth::rate_limit::{Attempt, client_address};
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::token;
use crate::db;
use crate::db::tokens::{Purpose, UserToken};
use crate::domain::account::{Email, MAX_EMAIL};
use crate::error::AppResult;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "account/reset_request.html")]
pub struct RequestView {
    layout: Layout,
    email: String,
    errors: FieldErrors,
    sent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/reset.html")]
pub struct ResetView {
    layout: Layout,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn request_form(State(app): State<AppState>, ctx: RequestContext) -> Response {
    RequestView {
        layout: Layout::titled(&app, &ctx, "reset.title"),
        email: String::new(),
        errors: FieldErrors::default(),
        sent: false,
    }
    .into_response()
}

pub async fn request_submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    ctx: RequestContext,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let view = |status: StatusCode, errors: FieldErrors, sent: bool| {
        let view = RequestView {
            layout: Layout::titled(&app, &ctx, "reset.title"),
            email: form.email.chars().take(MAX_EMAIL).collect(),
            errors,
            sent,
        };
        Ok((status, view).into_response())
    };
    let Some(email) = Email::parse(&form.email) else {
        let errors = FieldErrors::one("email", t.s("reset.bad_email").into_owned());
        return view(StatusCode::UNPROCESSABLE_ENTITY, errors, false);
    };
    let client = client_address(&headers, peer, app.config.trust_forwarded_for);
    if !app
        .limits
        .admit(Attempt::Reset, email.as_str(), client)
        .await
    {
        let mut errors = FieldErrors::default();
        errors.add_for_form(t.s("login.too_many").into_owned());
        return view(StatusCode::TOO_MANY_REQUESTS, errors, false);
    }
    app.limits.slow_down(Attempt::Reset, email.as_str());
    service::request_reset(&app, &email).await?;
    view(StatusCode::OK, FieldErrors::default(), true)
}

async fn usable_token(app: &AppState, secret: &str) -> AppResult<Option<UserToken>> {
    if !token::looks_valid(secret) {
        return Ok(None);
    }
    let mut conn = app.db.conn().await?;
    let found = db::tokens::find(conn.exec(), Purpose::PasswordReset, &token::hash(secret)).await?;
    Ok(found.filter(|t| t.used_at.is_none() && t.expires_at > db::now()))
}

pub async fn form(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
) -> AppResult<Response> {
    if usable_token(&app, &secret).await?.is_none() {
        return Ok(link_invalid(&app, &ctx, "link.invalid.reset"));
    }
    Ok(ResetView {
        layout: Layout::titled(&app, &ctx, "reset.new_title"),
        errors: FieldErrors::default(),
    }
    .into_response())
}

pub async fn submit(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let Some(found) = usable_token(&app, &secret).await? else {
        return Ok(link_invalid(&app, &ctx, "link.invalid.reset"));
    };
    let email = {
        let mut conn = app.db.conn().await?;
        db::users::email_of(conn.exec(), found.user_id)
            .await?
            .unwrap_or_default()
    };
    let problem = match check_new_password(&form.password, &[email.as_str()]) {
        Err(weak) => Some(("password", weak.key())),
        Ok(()) if form.password != form.password_confirm => {
            Some(("password_confirm", "password.mismatch"))
        }
        Ok(()) => None,
    };
    if let Some((field, key)) = problem {
        let view = ResetView {
            layout: Layout::titled(&app, &ctx, "reset.new_title"),
            errors: FieldErrors::one(field, t.s(key).into_owned()),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    }
    let hash = app.passwords.hash(&form.password).await?;
    let Some(version) = service::reset_password(&app, &found, &hash).await? else {
        return Ok(link_invalid(&app, &ctx, "link.invalid.reset"));
    };

    let session = SessionData(&ctx.session);
    // A new password does not lift a suspension: the member is told why, and not logged in.
    let account = {
        let mut conn = app.db.conn().await?;
        db::users::credentials_by_id(conn.exec(), found.user_id).await?
    };
    if let Some(refusal) = account.and_then(|a| super::login::suspension_notice(&app, &a)) {
        session.set_flash(refusal).await?;
        return Ok(Redirect::to("/login").into_response());
    }
    session.log_in(found.user_id, version).await?;
    session.set_flash(t.s("reset.done").into_owned()).await?;
    Ok(Redirect::to("/").into_response())
}
