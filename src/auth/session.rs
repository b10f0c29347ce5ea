//! Sessions (tower-sessions, stored in the database) and the extractors that carry who is asking.
//!
//! A session holds the member's id and the account's auth version. Changing the password,
//! deactivating or suspending an account moves the version on, which ends every session that
//! still carries the old one: no session table scan is needed to log someone out everywhere.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::db::users::SessionUser;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::i18n::Locale;

const USER_ID: &str = "uid";
const AUTH_VERSION: &str = "auth_version";
const CSRF: &str = "csrf";
const LOCALE: &str = "locale";
const TEXT_SIZE: &str = "text_size";
const FLASH: &str = "flash";
/// Set by the session store on a loaded session that has used more than half its lifetime
/// (see `session_store`); never saved.
pub(crate) const RENEW_DUE: &str = "renew_due";

/// The reader's chosen text size (標準・大・特大).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextSize {
    #[default]
    Normal,
    Large,
    Xlarge,
}

impl TextSize {
    pub const ALL: [TextSize; 3] = [TextSize::Normal, TextSize::Large, TextSize::Xlarge];

    pub fn as_str(self) -> &'static str {
        match self {
            TextSize::Normal => "normal",
            TextSize::Large => "large",
            TextSize::Xlarge => "xlarge",
        }
    }

    /// The locale key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            TextSize::Normal => "prefs.size.normal",
            TextSize::Large => "prefs.size.large",
            TextSize::Xlarge => "prefs.size.xlarge",
        }
    }

    pub fn parse(s: &str) -> Option<TextSize> {
        TextSize::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Everything a page needs about the request, resolved once by the page middleware.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub user: Option<Arc<SessionUser>>,
    pub locale: Locale,
    pub text_size: TextSize,
    pub csrf: Arc<str>,
    pub flash: Option<String>,
    pub session: Session,
}

impl RequestContext {
    pub fn tr(&self) -> crate::i18n::Tr {
        self.locale.tr()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| {
                AppError::Internal("page context missing: route outside the page layer".into())
            })
    }
}

/// A logged-in, active member; anyone else is sent to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Arc<SessionUser>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        ctx.user.map(CurrentUser).ok_or(AppError::LoginRequired)
    }
}

/// The lowest role a route admits.
pub trait RoleGate: Send + Sync {
    const MIN: Role;
}

/// Moderators and coordinators.
pub struct Staff;
impl RoleGate for Staff {
    const MIN: Role = Role::Moderator;
}

pub struct Coordinators;
impl RoleGate for Coordinators {
    const MIN: Role = Role::Coordinator;
}

/// A logged-in member whose role is at least `G::MIN`; others get 404, so restricted pages do
/// not reveal that they exist.
pub struct Require<G: RoleGate>(pub Arc<SessionUser>, pub PhantomData<G>);

impl<S: Send + Sync, G: RoleGate> FromRequestParts<S> for Require<G> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role >= G::MIN {
            Ok(Require(user, PhantomData))
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// Reading and writing the session's own keys; nothing else touches them.
pub struct SessionData<'a>(pub &'a Session);

impl SessionData<'_> {
    pub async fn user(&self) -> Result<Option<(i64, i64)>, AppError> {
        let id: Option<i64> = self.0.get(USER_ID).await?;
        let version: Option<i64> = self.0.get(AUTH_VERSION).await?;
        Ok(id.zip(version))
    }

    /// Logs in: a new session id (against fixation), the member, a fresh CSRF token.
    pub async fn log_in(&self, user_id: i64, auth_version: i64) -> Result<(), AppError> {
        self.0.cycle_id().await?;
        self.0.insert(USER_ID, user_id).await?;
        self.0.insert(AUTH_VERSION, auth_version).await?;
        self.0.insert(CSRF, crate::auth::csrf::new_token()).await?;
        Ok(())
    }

    /// Keeps this session valid after the account's auth version moved on (password change).
    pub async fn set_auth_version(&self, auth_version: i64) -> Result<(), AppError> {
        self.0.insert(AUTH_VERSION, auth_version).await?;
        Ok(())
    }

    pub async fn log_out(&self) -> Result<(), AppError> {
        self.0.flush().await?;
        Ok(())
    }

    /// The session's CSRF token, if it has one (every logged-in session does).
    pub async fn csrf(&self) -> Result<Option<String>, AppError> {
        Ok(self.0.get::<String>(CSRF).await?)
    }

    /// A logged-in session's CSRF token, made if it has none yet.
    pub async fn member_csrf(&self) -> Result<String, AppError> {
        if let Some(token) = self.csrf().await? {
            return Ok(token);
        }
        let token = crate::auth::csrf::new_token();
        self.0.insert(CSRF, &token).await?;
        Ok(token)
    }

    /// A session is written only when it changes, so its expiry would count from the last
    /// change, not the last visit: once more than half its lifetime has gone, it is saved again
    /// (which also gives the browser a fresh cookie).
    pub async fn renew_if_due(&self) -> Result<(), AppError> {
        if self.0.get::<bool>(RENEW_DUE).await?.is_some() {
            self.0.remove::<bool>(RENEW_DUE).await?;
        }
        Ok(())
    }

    pub async fn visitor_preferences(
        &self,
    ) -> Result<(Option<Locale>, Option<TextSize>), AppError> {
        let locale: Option<Locale> = self.0.get(LOCALE).await?;
        let size: Option<TextSize> = self.0.get(TEXT_SIZE).await?;
        Ok((locale, size))
    }

    pub async fn set_visitor_preferences(
        &self,
        locale: Locale,
        size: TextSize,
    ) -> Result<(), AppError> {
        self.0.insert(LOCALE, locale).await?;
        self.0.insert(TEXT_SIZE, size).await?;
        Ok(())
    }

    /// A one-time message shown on the next page (after a redirect).
    pub async fn set_flash(&self, message: String) -> Result<(), AppError> {
        self.0.insert(FLASH, message).await?;
        Ok(())
    }

    pub async fn take_flash(&self) -> Result<Option<String>, AppError> {
        // `remove` marks the session changed even when the key is absent, which would write the
        // session row (and sync the database file) on every page view.
        if self.0.get::<String>(FLASH).await?.is_none() {
            return Ok(None);
        }
        let flash = self.0.remove(FLASH).await?;
        // A visitor's session that held nothing but the message goes with it (the message after
        // logging out, say), so that it is not kept for a month.
        let holds_more = self.user().await?.is_some()
            || self.csrf().await?.is_some()
            || self.visitor_preferences().await? != (None, None);
        if !holds_more {
            self.0.flush().await?;
        }
        Ok(flash)
    }
}

/// Route layer for everything but the public pages: without a session, the login page, which
/// returns to the page asked for (when it was a page view, not a form sent) after logging in.
pub async fn require_login(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let logged_in = request
        .extensions()
        .get::<RequestContext>()
        .is_some_and(|c| c.user.is_some());
    if logged_in {
        return next.run(request).await;
    }
    let page_view = matches!(*request.method(), Method::GET | Method::HEAD);
    match request.uri().path_and_query().filter(|_| page_view) {
        Some(asked) if asked.as_str() != "/" => {
            let back: String =
                url::form_urlencoded::byte_serialize(asked.as_str().as_bytes()).collect();
            Redirect::to(&format!("/login?next={back}")).into_response()
        }
        _ => AppError::LoginRequired.into_response(),
    }
}
