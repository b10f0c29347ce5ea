//! Logging in and out. A visitor sent here from a members' page (a link in an e-mail, say)
//! returns to it after logging in: the page rides along as `?next=`, same-site paths only.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::rate_limit::{Attempt, client_address};
use crate::auth::session::{RequestContext, SessionData};
use crate::db;
use crate::domain::account::{Email, MAX_EMAIL};
use crate::error::AppResult;
use crate::web::input::Query;
use crate::web::layout::{Layout, local_time};

#[derive(Template, WebTemplate)]
#[template(path = "account/login.html")]
pub struct LoginView {
    layout: Layout,
    email: String,
    error: Option<String>,
    /// Where to go after logging in, when it is a same-site path.
    next: Option<String>,
}

/// The longest return path kept; a longer one is not a page of this site.
const MAX_NEXT: usize = 2048;

/// `next` when it is a path on this site and nothing else: not `//host` or `/\host` (which
/// browsers read as another site), not an absolute URL, no control or non-ASCII characters
/// (paths arrive percent-encoded), and not the login page itself.
pub fn return_path(next: &str) -> Option<&str> {
    let mut chars = next.chars();
    let same_site = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && next.len() <= MAX_NEXT
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    let own_page = next == "/login" || next.starts_with("/login?") || next.starts_with("/logout");
    (same_site && !own_page).then_some(next)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn form(
    State(app): State<AppState>,
    ctx: RequestContext,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = return_path(&query.next);
    if ctx.user.is_some() {
        return Redirect::to(next.unwrap_or("/")).into_response();
    }
    LoginView {
        layout: Layout::titled(&app, &ctx, "login.title"),
        email: String::new(),
        error: None,
        next: next.map(str::to_owned),
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
            next: return_path(&form.next).map(str::to_owned),
        };
        Ok((status, view).into_response())
    };
    let email = Email::parse(&form.email);
    let key = email
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    let client = client_address(&headers, peer, app.config.trust_forwarded_for);
    if !app.limits.admit(Attempt::Login, &key, client).await {
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
        app.limits.slow_down(Attempt::Login, &key);
        return again(StatusCode::UNPROCESSABLE_ENTITY, "login.failed");
    };
    // Only now, with the password proved, may the page say that the account is suspended.
    if let Some(refusal) = suspension_notice(&app, &user) {
        tracing::info!(user = user.id, "login refused: suspended");
        let view = LoginView {
            layout: Layout::titled(&app, &ctx, "login.title"),
            email: form.email.chars().take(MAX_EMAIL).collect(),
            error: Some(refusal),
            next: None,
        };
        return Ok((StatusCode::FORBIDDEN, view).into_response());
    }
    SessionData(&ctx.session)
        .log_in(user.id, user.auth_version)
        .await?;
    tracing::info!(user = user.id, "logged in");
    Ok(Redirect::to(return_path(&form.next).unwrap_or("/")).into_response())
}

/// For an account suspended now: the reason, as the moderator wrote it, and the end, in the
/// member's own language. Said only to someone who proved the password.
pub fn suspension_notice(app: &AppState, account: &db::users::Credentials) -> Option<String> {
    let until = account.suspended_until.filter(|u| *u > db::now())?;
    let t = crate::i18n::Locale::from_code(&account.locale).tr();
    Some(t.f(
        "suspension.login_refused",
        &[
            ("until", &local_time(&app.site, until)),
            ("reason", &account.suspend_reason),
        ],
    ))
}

pub async fn logout(ctx: RequestContext, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<Redirect> {
    let session = SessionData(&ctx.session);
    session.log_out().await?;
    session
        .set_flash(ctx.tr().s("login.logged_out").into_owned())
        .await?;
    Ok(Redirect::to("/login"))
}

#[cfg(test)]
mod tests {
    use super::return_path;

    #[test]
    fn only_same_site_paths_are_returned_to() {
        assert_eq!(return_path("/p/12"), Some("/p/12"));
        assert_eq!(
            return_path("/t/3?page=2#post-5"),
            Some("/t/3?page=2#post-5")
        );
        assert_eq!(
            return_path("/search?q=%E4%BB%95%E4%BA%8B"),
            Some("/search?q=%E4%BB%95%E4%BA%8B")
        );
        for refused in [
            "",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "https://evil.example/",
            "evil.example",
            "javascript:alert(1)",
            "/p/1\r\nSet-Cookie: x=1",
            "/p/\t1",
            "/p/ 1",
            "/p/仕事",
            "/login",
            "/login?next=/p/1",
            "/logout",
        ] {
            assert_eq!(return_path(refused), None, "{refused:?}");
        }
        assert_eq!(return_path(&format!("/{}", "a".repeat(3000))), None);
    }
}
