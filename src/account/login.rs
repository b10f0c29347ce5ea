//! Logging in and out.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::account::rules::{Email, MAX_EMAIL};
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, SessionData};
use crate::db;
use crate::error::AppResult;
use crate::web::layout::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "account/login.html")]
pub struct LoginView {
    layout: Layout,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn form(State(app): State<AppState>, ctx: RequestContext) -> Response {
    if ctx.user.is_some() {
        return Redirect::to("/").into_response();
    }
    LoginView {
        layout: Layout::titled(&app, &ctx, "login.title"),
        email: String::new(),
        error: None,
    }
    .into_response()
}

pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    ctx: RequestContext,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let again = |status: StatusCode, key: &str| {
        let view = LoginView {
            layout: Layout::titled(&app, &ctx, "login.title"),
            email: form.email.chars().take(MAX_EMAIL).collect(),
            error: Some(t.s(key).into_owned()),
        };
        Ok((status, view).into_response())
    };
    let email = Email::parse(&form.email);
    let key = email
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    if !app.limits.allow(
        &key,
        crate::auth::rate_limit::client_address(&headers, peer, app.config.trust_forwarded_for),
    ) {
        return again(StatusCode::TOO_MANY_REQUESTS, "login.too_many");
    }
    let credentials = match &email {
        Some(email) => {
            let mut conn = app.db.conn().await?;
            db::users::credentials_by_email(conn.exec(), email.as_str()).await?
        }
        None => None,
    };
    let active = credentials.filter(|c| c.status == "active");
    let matched = app
        .passwords
        .verify(
            &form.password,
            active.as_ref().map(|c| c.password_hash.as_str()),
        )
        .await?;
    let Some(user) = active.filter(|_| matched) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "login.failed");
    };
    SessionData(&ctx.session)
        .log_in(user.id, user.auth_version)
        .await?;
    tracing::info!(user = user.id, "logged in");
    Ok(Redirect::to("/").into_response())
}

pub async fn logout(ctx: RequestContext, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<Redirect> {
    SessionData(&ctx.session).log_out().await?;
    Ok(Redirect::to("/login"))
}
