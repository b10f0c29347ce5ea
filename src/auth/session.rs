//! Sessions (stored in the database through tower-sessions' stores) and the extractors that
//! carry who is asking.
//!
//! A session holds the member's id and the account's auth version. Changing the password,
//! deactivating or suspending an account moves the version on, which ends every session that
//! still carries the old one: no session table scan is needed to log someone out everywhere.
//!
//! The page layer opens the request's session once ([`Sessions::open`]), handlers read and
//! change it in memory through [`SessionData`], and the page layer saves it after the handler,
//! only when it changed ([`Sessions::close`]). On SQLite, one process owns the database, so
//! sessions are also kept in memory, decoded: a page view then reads no session row. Several
//! PostgreSQL instances share sessions, so there every page view reads it.
//!
//! This replaces tower-sessions' own layer, whose cookie jar, per-key locking and decoding and
//! tracing span cost about a tenth of a topic page view; the records are stored as it stored
//! them, so sessions outlive the change.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::{Id, Record};

use crate::db::users::SessionUser;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::i18n::Locale;
use crate::session_store::{AnySessionStore, SESSION_LIFETIME};

/// The session cookie's name.
const COOKIE: &str = "hidamari_session";

/// What a session holds, each under the key tower-sessions stored it under.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Keys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    csrf: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locale: Option<Locale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text_size: Option<TextSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flash: Option<String>,
}

impl Keys {
    fn is_empty(&self) -> bool {
        *self == Keys::default()
    }

    /// A stored record's data; a record this version cannot read is an empty session.
    fn of_record(record: Record) -> Keys {
        let data = serde_json::Value::Object(record.data.into_iter().collect());
        serde_json::from_value(data).unwrap_or_default()
    }

    fn into_record_data(self) -> std::collections::HashMap<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => Default::default(),
        }
    }
}

/// The request's session, as changed so far.
#[derive(Debug)]
struct Live {
    /// Where it is stored; `None` for a session not stored yet (or given a new id).
    id: Option<Id>,
    /// A stored session this one replaces (a new id at login, or a logout), deleted on closing.
    replaced: Option<Id>,
    keys: Keys,
    changed: bool,
    /// The request brought a session cookie, which an empty session takes back.
    had_cookie: bool,
}

/// The request's session: read once when the request came in, changed in memory, saved after
/// the handler ran. Clones share it.
#[derive(Debug, Clone)]
pub struct Session(Arc<Mutex<Live>>);

impl Session {
    fn live(&self) -> MutexGuard<'_, Live> {
        // Nothing panics while holding the lock, which is never held across an await.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read<T>(&self, f: impl FnOnce(&Keys) -> T) -> T {
        f(&self.live().keys)
    }

    fn change(&self, f: impl FnOnce(&mut Keys)) {
        let mut live = self.live();
        f(&mut live.keys);
        live.changed = true;
    }

    /// A new id for the same session (against fixation): the old record goes on closing.
    fn renew_id(&self) {
        let mut live = self.live();
        if let Some(old) = live.id.take() {
            live.replaced = Some(old);
        }
        live.changed = true;
    }

    /// Empties the session; its record and cookie go on closing.
    fn flush(&self) {
        let mut live = self.live();
        live.keys = Keys::default();
        if let Some(old) = live.id.take() {
            live.replaced = Some(old);
        }
        live.changed = true;
    }
}

/// Sessions kept in memory at most (a few hundred bytes each).
const KEPT_SESSIONS: u64 = 50_000;

/// A session as stored.
#[derive(Debug)]
struct Stored {
    keys: Keys,
    expiry: time::OffsetDateTime,
}

/// Opens and closes the sessions of requests, on the configured store.
pub struct Sessions {
    store: AnySessionStore,
    /// On SQLite: sessions as this process last read or wrote them.
    kept: Option<moka::sync::Cache<Id, Arc<Stored>>>,
    secure: bool,
}

impl Sessions {
    pub fn new(store: AnySessionStore, db: &crate::db::Db, secure: bool) -> Sessions {
        let kept = match db.dialect() {
            crate::db::Dialect::Sqlite => Some(
                moka::sync::Cache::builder()
                    .max_capacity(KEPT_SESSIONS)
                    .build(),
            ),
            crate::db::Dialect::Postgres => None,
        };
        Sessions {
            store,
            kept,
            secure,
        }
    }

    /// The session stored under `id`, unless it expired.
    async fn load(&self, id: Id) -> Result<Option<Arc<Stored>>, AppError> {
        let kept = self.kept.as_ref().and_then(|kept| kept.get(&id));
        if let Some(stored) = kept.filter(|s| s.expiry > time::OffsetDateTime::now_utc()) {
            return Ok(Some(stored));
        }
        let Some(record) = self.store.load(&id).await? else {
            return Ok(None);
        };
        let stored = Arc::new(Stored {
            expiry: record.expiry_date,
            keys: Keys::of_record(record),
        });
        self.keep(id, &stored);
        Ok(Some(stored))
    }

    fn keep(&self, id: Id, stored: &Arc<Stored>) {
        if let Some(kept) = &self.kept {
            kept.insert(id, stored.clone());
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), AppError> {
        if let Some(kept) = &self.kept {
            kept.invalidate(id);
        }
        self.store.delete(id).await?;
        Ok(())
    }

    /// The session the request's cookie names, or a new empty one. A session with less than
    /// half its lifetime left is saved again on closing, so members who come back stay logged
    /// in without a write on every page view.
    pub async fn open(&self, headers: &HeaderMap) -> Result<Session, AppError> {
        let cookie = cookies_named(headers, COOKIE).next();
        let had_cookie = cookie.is_some();
        let id = cookie.and_then(|c| c.value().parse::<Id>().ok());
        let stored = match id {
            Some(id) => self.load(id).await?.map(|stored| (id, stored)),
            None => None,
        };
        let live = match stored {
            Some((id, stored)) => {
                let left = stored.expiry - time::OffsetDateTime::now_utc();
                Live {
                    id: Some(id),
                    replaced: None,
                    changed: left < SESSION_LIFETIME / 2,
                    keys: stored.keys.clone(),
                    had_cookie,
                }
            }
            None => Live {
                id: None,
                replaced: None,
                keys: Keys::default(),
                changed: false,
                had_cookie,
            },
        };
        Ok(Session(Arc::new(Mutex::new(live))))
    }

    /// Stores what the request changed and sets or takes back the cookie. After a server error
    /// nothing is stored, as the change may be half made.
    pub async fn close(&self, session: &Session, response: &mut Response) -> Result<(), AppError> {
        let (id, replaced, keys, changed, had_cookie) = {
            let mut live = session.live();
            (
                live.id,
                live.replaced.take(),
                std::mem::take(&mut live.keys),
                live.changed,
                live.had_cookie,
            )
        };
        if let Some(old) = replaced {
            self.delete(&old).await?;
        }
        if keys.is_empty() {
            if let Some(id) = id.filter(|_| changed) {
                self.delete(&id).await?;
            }
            if had_cookie {
                let gone = self.cookie(String::new(), time::Duration::ZERO);
                response.headers_mut().append(header::SET_COOKIE, gone);
            }
            return Ok(());
        }
        if !changed || response.status().is_server_error() {
            return Ok(());
        }
        let expiry = time::OffsetDateTime::now_utc() + SESSION_LIFETIME;
        let mut record = Record {
            id: id.unwrap_or_default(),
            data: keys.clone().into_record_data(),
            expiry_date: expiry,
        };
        match id {
            Some(_) => self.store.save(&record).await?,
            // The store picks another id if this one is taken.
            None => self.store.create(&mut record).await?,
        }
        self.keep(record.id, &Arc::new(Stored { keys, expiry }));
        let cookie = self.cookie(record.id.to_string(), SESSION_LIFETIME);
        response.headers_mut().append(header::SET_COOKIE, cookie);
        Ok(())
    }

    fn cookie(&self, value: String, max_age: time::Duration) -> HeaderValue {
        site_cookie(COOKIE, value, max_age, self.secure)
    }
}

/// A `Set-Cookie` value for one of the site's own cookies: the whole site, not for scripts,
/// sent on top-level navigation from elsewhere but not on cross-site requests. `value` holds
/// only cookie-safe characters (base64 or hex digits).
pub fn site_cookie(
    name: &'static str,
    value: String,
    max_age: time::Duration,
    secure: bool,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string())
        .expect("a cookie of base64 or hex digits is a valid header value")
}

/// The request's cookies of that name, in the order sent.
pub fn cookies_named<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = Cookie<'a>> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(move |c| c.name() == name)
}

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
        Ok(self.0.read(|k| k.uid.zip(k.auth_version)))
    }

    /// Logs in: a new session id (against fixation), the member, a fresh CSRF token.
    pub async fn log_in(&self, user_id: i64, auth_version: i64) -> Result<(), AppError> {
        self.0.renew_id();
        self.0.change(|k| {
            k.uid = Some(user_id);
            k.auth_version = Some(auth_version);
            k.csrf = Some(crate::auth::csrf::new_token());
        });
        Ok(())
    }

    /// Keeps this session valid after the account's auth version moved on (password change),
    /// under a new id.
    pub async fn set_auth_version(&self, auth_version: i64) -> Result<(), AppError> {
        self.0.renew_id();
        self.0.change(|k| k.auth_version = Some(auth_version));
        Ok(())
    }

    pub async fn log_out(&self) -> Result<(), AppError> {
        self.0.flush();
        Ok(())
    }

    /// The session's CSRF token, if it has one (every logged-in session does).
    pub async fn csrf(&self) -> Result<Option<String>, AppError> {
        Ok(self.0.read(|k| k.csrf.clone()))
    }

    /// A logged-in session's CSRF token, made if it has none yet.
    pub async fn member_csrf(&self) -> Result<String, AppError> {
        if let Some(token) = self.csrf().await? {
            return Ok(token);
        }
        let token = crate::auth::csrf::new_token();
        self.0.change(|k| k.csrf = Some(token.clone()));
        Ok(token)
    }

    pub async fn visitor_preferences(
        &self,
    ) -> Result<(Option<Locale>, Option<TextSize>), AppError> {
        Ok(self.0.read(|k| (k.locale, k.text_size)))
    }

    pub async fn set_visitor_preferences(
        &self,
        locale: Locale,
        size: TextSize,
    ) -> Result<(), AppError> {
        self.0.change(|k| {
            k.locale = Some(locale);
            k.text_size = Some(size);
        });
        Ok(())
    }

    /// A one-time message shown on the next page (after a redirect).
    pub async fn set_flash(&self, message: String) -> Result<(), AppError> {
        self.0.change(|k| k.flash = Some(message));
        Ok(())
    }

    /// The message, taken: a visitor's session that held nothing else (the message after
    /// logging out, say) then goes with it, so that it is not kept for a month.
    pub async fn take_flash(&self) -> Result<Option<String>, AppError> {
        // Only a session that holds a message changes, or every page view would write one.
        if self.0.read(|k| k.flash.is_none()) {
            return Ok(None);
        }
        let mut flash = None;
        self.0.change(|k| flash = k.flash.take());
        if self.0.read(Keys::is_empty) {
            self.0.flush();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data: serde_json::Value) -> Record {
        let serde_json::Value::Object(map) = data else {
            panic!("an object")
        };
        Record {
            id: Id::default(),
            data: map.into_iter().collect(),
            expiry_date: time::OffsetDateTime::now_utc(),
        }
    }

    /// Sessions stored by tower-sessions' layer, key by key, read the same, and are stored back
    /// in that form, without the keys that are unset.
    #[test]
    fn keys_are_stored_as_tower_sessions_stored_them() {
        let stored = serde_json::json!({
            "uid": 7, "auth_version": 2, "csrf": "abc", "locale": "en", "text_size": "large",
            "renew_due": true,
        });
        let keys = Keys::of_record(record(stored));
        assert_eq!(keys.uid.zip(keys.auth_version), Some((7, 2)));
        assert_eq!(keys.csrf.as_deref(), Some("abc"));
        assert_eq!(keys.locale, Some(Locale::En));
        assert_eq!(keys.text_size, Some(TextSize::Large));
        assert_eq!(keys.flash, None);
        let data = keys.clone().into_record_data();
        let mut names: Vec<&str> = data.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["auth_version", "csrf", "locale", "text_size", "uid"]
        );
        let again = Keys::of_record(record(serde_json::Value::Object(
            data.into_iter().collect(),
        )));
        assert_eq!(again, keys);
        assert!(Keys::of_record(record(serde_json::json!({"uid": "not a number"}))).is_empty());
    }
}
