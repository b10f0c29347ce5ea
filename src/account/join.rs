//! Joining by invitation: the link's token leads to a form for a display name and a password.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::account::service::{self, Joined};
use crate::auth::csrf::CsrfForm;
use crate::auth::password::check_new_password;
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::token;
use crate::db;
use crate::db::invitations::Invitation;
use crate::domain::account::DisplayName;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "account/join.html")]
pub struct JoinView {
    layout: Layout,
    email: String,
    display_name: String,
    /// The password as typed, given back only when it was acceptable and the form came back for
    /// another reason (a name already in use), so it need not be typed twice more.
    password: String,
    errors: FieldErrors,
}

impl JoinView {
    fn new(app: &AppState, ctx: &RequestContext, email: String) -> JoinView {
        JoinView {
            layout: Layout::titled(app, ctx, "join.title"),
            email,
            display_name: String::new(),
            password: String::new(),
            errors: FieldErrors::default(),
        }
    }
}

/// A link that cannot be used (unknown, used, revoked or expired): one page for all, which says
/// what to do next without saying which.
#[derive(Template, WebTemplate)]
#[template(path = "account/link_invalid.html")]
pub struct LinkInvalidView {
    pub layout: Layout,
    pub message: String,
}

pub fn link_invalid(app: &AppState, ctx: &RequestContext, message_key: &str) -> Response {
    let view = LinkInvalidView {
        layout: Layout::titled(app, ctx, "link.invalid.title"),
        message: ctx.tr().s(message_key).into_owned(),
    };
    (StatusCode::GONE, view).into_response()
}

#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// The invitation behind a link if it can still be accepted; otherwise the message to show. A
/// link already used to join says that the account exists (an invitee who opens their mail
/// again should log in, not ask for a new invitation).
async fn usable_invitation(
    app: &AppState,
    secret: &str,
) -> AppResult<Result<Invitation, &'static str>> {
    const UNUSABLE: &str = "link.invalid.invitation";
    if !token::looks_valid(secret) {
        return Ok(Err(UNUSABLE));
    }
    let mut conn = app.db.conn().await?;
    let invitation = db::invitations::by_token_hash(conn.exec(), &token::hash(secret)).await?;
    Ok(match invitation {
        Some(i) if i.accepted_at.is_some() => Err("link.invalid.joined"),
        Some(i) if i.revoked_at.is_none() && i.expires_at > db::now() => Ok(i),
        _ => Err(UNUSABLE),
    })
}

pub async fn form(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
) -> AppResult<Response> {
    let invitation = match usable_invitation(&app, &secret).await? {
        Ok(invitation) => invitation,
        Err(message_key) => return Ok(link_invalid(&app, &ctx, message_key)),
    };
    Ok(JoinView::new(&app, &ctx, invitation.email).into_response())
}

fn validate(t: Tr, form: &JoinForm, email: &str) -> Result<DisplayName, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = DisplayName::parse(&form.display_name)
        .map_err(|e| errors.add("display_name", t.s(e.key()).into_owned()));
    if let Err(weak) = check_new_password(&form.password, &[email, form.display_name.as_str()]) {
        errors.add("password", t.s(weak.key()).into_owned());
    } else if form.password != form.password_confirm {
        errors.add("password_confirm", t.s("password.mismatch").into_owned());
    }
    match name {
        Ok(name) if errors.is_empty() => Ok(name),
        _ => Err(errors),
    }
}

pub async fn submit(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
    CsrfForm(form): CsrfForm<JoinForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let invitation = match usable_invitation(&app, &secret).await? {
        Ok(invitation) => invitation,
        Err(message_key) => return Ok(link_invalid(&app, &ctx, message_key)),
    };
    let again = |errors: FieldErrors| {
        let password_refused = errors.has("password") || errors.has("password_confirm");
        let view = JoinView {
            display_name: form.display_name.chars().take(100).collect(),
            password: if password_refused {
                String::new()
            } else {
                form.password.clone()
            },
            errors,
            ..JoinView::new(&app, &ctx, invitation.email.clone())
        };
        // The page may hold the password: no copy of it is kept anywhere.
        let no_store = [(header::CACHE_CONTROL, "no-store")];
        Ok((StatusCode::UNPROCESSABLE_ENTITY, no_store, view).into_response())
    };
    let taken = || FieldErrors::one("display_name", t.s("name.taken").into_owned());
    let name = match validate(t, &form, &invitation.email) {
        Ok(name) => name,
        Err(errors) => return again(errors),
    };
    let hash = app.passwords.hash(&form.password).await?;

    let joined = service::accept_invitation(&app, &invitation, &name, &hash, ctx.locale).await?;
    let user_id = match joined {
        Joined::Member(id) => id,
        Joined::NameTaken => return again(taken()),
        Joined::Unusable => return Ok(link_invalid(&app, &ctx, "link.invalid.invitation")),
    };

    let session = SessionData(&ctx.session);
    session.log_in(user_id, 1).await?;
    session
        .set_flash(t.f("join.welcome", &[("name", &name.name)]))
        .await?;
    Ok(Redirect::to("/").into_response())
}
