//! The member's own account: display name, password, e-mail (re-verified), language, text size.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::account::join::link_invalid;
use crate::account::service;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::password::check_new_password;
use crate::auth::session::{RequestContext, SessionData, TextSize};
use crate::auth::token;
use crate::auth::write_limit::WriteKind;
use crate::db::tokens::{Purpose, UserToken};
use crate::db::{self, users::SessionUser};
use crate::domain::account::{DisplayName, Email};
use crate::error::AppResult;
use crate::forums::viewer;
use crate::i18n::Locale;
use crate::notify::Prefs;
use crate::notify::prefs::PrefsView;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

/// Which of the page's forms a message belongs to.
#[derive(Default)]
pub struct SectionErrors {
    name: FieldErrors,
    password: FieldErrors,
    email: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/settings.html")]
pub struct SettingsView {
    layout: Layout,
    display_name: String,
    email: String,
    new_email: String,
    role_label: String,
    relation_label: String,
    section_errors: SectionErrors,
    /// Which e-mails, when, and quiet hours (see [`crate::notify`]).
    notify: PrefsView,
    /// What the member follows, as (page, label), each with a button to stop.
    follows: Vec<(String, String)>,
}

async fn settings_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    display_name: Option<String>,
    new_email: String,
    errors: SectionErrors,
    notify: Option<PrefsView>,
) -> AppResult<SettingsView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let email = db::users::email_of(conn.exec(), user.id)
        .await?
        .unwrap_or_default();
    Ok(SettingsView {
        layout: Layout::titled(app, ctx, "account.title"),
        display_name: display_name.unwrap_or_else(|| user.display_name.clone()),
        email,
        new_email,
        role_label: t.s(&format!("role.{}", user.role)).into_owned(),
        relation_label: t.s(&format!("relation.{}", user.relation)).into_owned(),
        section_errors: errors,
        notify: match notify {
            Some(view) => view,
            None => PrefsView::of(t, &Prefs::load(conn.exec(), user.id).await?),
        },
        follows: db::notifications::followed_by(conn.exec(), viewer(user), user.id)
            .await?
            .into_iter()
            .map(|item| {
                let key = if item.kind == "t" {
                    "notify.stop_topic_item"
                } else {
                    "notify.stop_category_item"
                };
                (item.path(), t.f(key, &[("name", &item.name)]))
            })
            .collect(),
    })
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<Response> {
    Ok(settings_view(
        &app,
        &ctx,
        &user,
        None,
        String::new(),
        SectionErrors::default(),
        None,
    )
    .await?
    .into_response())
}

async fn form_again(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    name: Option<String>,
    new_email: String,
    errors: SectionErrors,
) -> AppResult<Response> {
    let view = settings_view(app, ctx, user, name, new_email, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
}

/// The page again with the notification form as posted and what is wrong with it.
pub(crate) async fn notify_form_again(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    notify: PrefsView,
) -> AppResult<Response> {
    let errors = SectionErrors::default();
    let view = settings_view(app, ctx, user, None, String::new(), errors, Some(notify)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
}

async fn done(ctx: &RequestContext, key: &str) -> AppResult<Response> {
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
}

pub async fn change_name(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<NameForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Account)?;
    let t = ctx.tr();
    let typed = Some(form.display_name.chars().take(100).collect());
    let refused = |key: &str| SectionErrors {
        name: FieldErrors::one("display_name", t.s(key).into_owned()),
        ..Default::default()
    };
    let name = match DisplayName::parse(&form.display_name) {
        Ok(name) => name,
        Err(e) => {
            return form_again(&app, &ctx, &user, typed, String::new(), refused(e.key())).await;
        }
    };
    if !service::change_name(&app, user.id, &name).await? {
        return form_again(
            &app,
            &ctx,
            &user,
            typed,
            String::new(),
            refused("name.taken"),
        )
        .await;
    }
    done(&ctx, "account.name_saved").await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn change_password(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Account)?;
    let t = ctx.tr();
    let (hash, email) = {
        let mut conn = app.db.conn().await?;
        let credentials = db::users::credentials_by_id(conn.exec(), user.id).await?;
        let email = db::users::email_of(conn.exec(), user.id)
            .await?
            .unwrap_or_default();
        (credentials.map(|c| c.password_hash), email)
    };
    let problem = if !app
        .passwords
        .verify(&form.current_password, hash.as_deref())
        .await?
    {
        Some(("current_password", "account.wrong_password"))
    } else {
        match check_new_password(
            &form.password,
            &[email.as_str(), user.display_name.as_str()],
        ) {
            Err(weak) => Some(("password", weak.key())),
            Ok(()) if form.password != form.password_confirm => {
                Some(("password_confirm", "password.mismatch"))
            }
            Ok(()) => None,
        }
    };
    if let Some((field, key)) = problem {
        let errors = SectionErrors {
            password: FieldErrors::one(field, t.s(key).into_owned()),
            ..Default::default()
        };
        return form_again(&app, &ctx, &user, None, String::new(), errors).await;
    }
    let new_hash = app.passwords.hash(&form.password).await?;
    let version = service::change_password(&app, &user, &email, ctx.locale, &new_hash).await?;
    // This session stays, under a new id; every other one carries the old version and ends.
    SessionData(&ctx.session).set_auth_version(version).await?;
    done(&ctx, "account.password_saved").await
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    current_password: String,
}

pub async fn change_email(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Account)?;
    let t = ctx.tr();
    let typed: String = form.new_email.chars().take(300).collect();
    let hash = {
        let mut conn = app.db.conn().await?;
        db::users::credentials_by_id(conn.exec(), user.id)
            .await?
            .map(|c| c.password_hash)
    };
    let email = Email::parse(&form.new_email);
    let problem = if email.is_none() {
        Some(("new_email", "account.bad_email"))
    } else if !app
        .passwords
        .verify(&form.current_password, hash.as_deref())
        .await?
    {
        Some(("email_current_password", "account.wrong_password"))
    } else {
        None
    };
    let Some(email) = email.filter(|_| problem.is_none()) else {
        let (field, key) = problem.unwrap_or(("new_email", "account.bad_email"));
        let errors = SectionErrors {
            email: FieldErrors::one(field, t.s(key).into_owned()),
            ..Default::default()
        };
        return form_again(&app, &ctx, &user, None, typed, errors).await;
    };
    service::request_email_change(&app, &user, ctx.locale, &email).await?;
    SessionData(&ctx.session)
        .set_flash(t.f("account.email_sent", &[("email", email.as_str())]))
        .await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/confirm_email.html")]
pub struct ConfirmEmailView {
    layout: Layout,
    new_email: String,
}

async fn usable_email_token(app: &AppState, secret: &str) -> AppResult<Option<UserToken>> {
    if !token::looks_valid(secret) {
        return Ok(None);
    }
    let mut conn = app.db.conn().await?;
    let found = db::tokens::find(conn.exec(), Purpose::EmailChange, &token::hash(secret)).await?;
    Ok(found.filter(|t| t.used_at.is_none() && t.expires_at > db::now()))
}

/// A link opened from the mail shows a button; only the button (a POST) changes the address, so
/// a mail scanner that follows links changes nothing.
pub async fn confirm_email_form(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
) -> AppResult<Response> {
    let Some(found) = usable_email_token(&app, &secret).await? else {
        return Ok(link_invalid(&app, &ctx, "link.invalid.email"));
    };
    let view = ConfirmEmailView {
        layout: Layout::titled(&app, &ctx, "email_confirm.title"),
        new_email: found.new_email.unwrap_or_default(),
    };
    Ok(view.into_response())
}

pub async fn confirm_email(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
    CsrfForm(_): CsrfForm<crate::auth::csrf::NoFields>,
) -> AppResult<Response> {
    let Some(found) = usable_email_token(&app, &secret).await? else {
        return Ok(link_invalid(&app, &ctx, "link.invalid.email"));
    };
    if !service::confirm_email(&app, &found).await? {
        return Ok(link_invalid(&app, &ctx, "link.invalid.email"));
    }
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s("account.email_saved").into_owned())
        .await?;
    let next = if ctx.user.is_some() {
        "/account"
    } else {
        "/login"
    };
    Ok(Redirect::to(next).into_response())
}

#[derive(Deserialize)]
pub struct PreferencesForm {
    locale: Option<String>,
    text_size: Option<String>,
}

/// Language and text size: saved on the account, or in the session for a visitor. Goes back to
/// the page the form was on.
pub async fn preferences(
    State(app): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PreferencesForm>,
) -> AppResult<Response> {
    let locale = form
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(ctx.locale);
    let size = form
        .text_size
        .as_deref()
        .and_then(TextSize::parse)
        .unwrap_or(ctx.text_size);
    match &ctx.user {
        Some(user) => {
            app.writes.check(user, WriteKind::Account)?;
            service::set_preferences(&app, user.id, locale, size).await?
        }
        None => {
            SessionData(&ctx.session)
                .set_visitor_preferences(locale, size)
                .await?
        }
    }
    Ok(Redirect::to(&back_to(&headers, &app)).into_response())
}

/// The same-site path the request came from, or the home page.
fn back_to(headers: &HeaderMap, app: &AppState) -> String {
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok());
    match referer {
        Some(url) if crate::auth::csrf::same_origin(headers, &app.config.base_url) => {
            let mut path = url.path().to_owned();
            if let Some(query) = url.query() {
                path.push('?');
                path.push_str(query);
            }
            if path.starts_with('/') && !path.starts_with("//") {
                path
            } else {
                "/".into()
            }
        }
        _ => "/".into(),
    }
}
