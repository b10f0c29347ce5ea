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
use crate::auth::csrf::CsrfForm;
use crate::auth::password::check_new_password;
use crate::auth::rate_limit::{Attempt, client_address};
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::token;
use crate::db::tokens::{Purpose, UserToken};
use crate::db::{self};
use crate::domain::account::{Email, MAX_EMAIL};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::AppResult;
use crate::i18n::Locale;
use crate::mail::{self, Mail};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

const VALID_SECONDS: i64 = 3600;

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
    let now = db::now();
    let mut tx = app.db.begin().await?;
    let account = db::users::credentials_by_email(tx.exec(), email.as_str()).await?;
    if let Some(account) = account.filter(|a| a.status == "active") {
        let secret = token::generate();
        db::tokens::retire_all(tx.exec(), account.id, Purpose::PasswordReset, now).await?;
        db::tokens::insert(
            tx.exec(),
            account.id,
            Purpose::PasswordReset,
            &secret.hash,
            None,
            now,
            now + VALID_SECONDS,
        )
        .await?;
        let link = app.config.link(&format!("/reset/{}", secret.secret));
        mail::enqueue(
            &mut tx,
            &app.config,
            Locale::from_code(&account.locale),
            email.as_str(),
            &Mail::PasswordReset { link: &link },
        )
        .await?;
        tx.commit().await?;
        app.events.publish(&[crate::events::Event::MailQueued]);
        tracing::info!(user = account.id, "password reset requested");
    }
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
    let now = db::now();
    let mut tx = app.db.begin().await?;
    if !db::tokens::mark_used(tx.exec(), found.id, now).await? {
        return Ok(link_invalid(&app, &ctx, "link.invalid.reset"));
    }
    // Every other session of the account ends with the new auth version.
    let version = db::users::set_password(tx.exec(), found.user_id, &hash, now).await?;
    db::audit::record(
        tx.exec(),
        &LogRecord {
            actor_id: Some(found.user_id),
            action: Action::PasswordReset,
            target_kind: TargetKind::Member,
            target_id: Some(found.user_id),
            subject_user_id: Some(found.user_id),
            reason: String::new(),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    app.events.publish(&[crate::events::Event::MemberChanged {
        user_id: found.user_id,
    }]);
    tracing::info!(user = found.user_id, "password reset");

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
