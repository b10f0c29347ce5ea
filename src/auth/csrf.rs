//! CSRF: every unsafe request must come from our own origin (the `Origin` header, or `Referer`
//! when a browser sends no Origin) and every form carries a token: the session's for a member,
//! and for a visitor one kept in a signed cookie ([`VisitorTokens`]), so that a page view by
//! someone who has not logged in stores nothing.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::auth::session::RequestContext;
use crate::error::AppError;
use crate::web::input::{self, Submitted};

/// Forms are small; a CSV of invitations is the largest thing posted.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares in time independent of where the strings first differ.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Visitors' form tokens: a random token in a cookie, signed with a site secret, echoed by the
/// form (the double-submit pattern). The signature means only this site can have made the
/// cookie; the Origin check still applies to every unsafe request.
pub struct VisitorTokens {
    key: Vec<u8>,
}

impl VisitorTokens {
    pub const COOKIE: &'static str = "hidamari_form";
    /// As long as a session: a form left open for days still goes through.
    const MAX_AGE_DAYS: i64 = 30;

    pub fn new(key: &str) -> VisitorTokens {
        VisitorTokens {
            key: key.as_bytes().to_vec(),
        }
    }

    fn signature(&self, token: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(b"visitor-form-token:");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The token the request's cookie carries, when this site signed it.
    pub fn from_request(&self, headers: &HeaderMap) -> Option<String> {
        crate::auth::session::cookies_named(headers, Self::COOKIE).find_map(|c| {
            let (token, signature) = c.value().split_once('.')?;
            tokens_match(&self.signature(token), signature).then(|| token.to_owned())
        })
    }

    /// A new token, and the `Set-Cookie` value that gives it to the browser.
    pub fn issue(&self, secure: bool) -> (String, HeaderValue) {
        let token = new_token();
        let value = crate::auth::session::site_cookie(
            Self::COOKIE,
            format!("{token}.{}", self.signature(&token)),
            time::Duration::days(Self::MAX_AGE_DAYS),
            secure,
        );
        (token, value)
    }
}

/// The scheme-host-port an `Origin` or `Referer` names.
fn origin_of(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    Some(url.origin().ascii_serialization())
}

/// Whether an unsafe request comes from this site: its Origin (or Referer) is the configured base
/// URL's origin or the origin the browser addressed (`Host`).
pub fn same_origin(headers: &HeaderMap, base_url: &url::Url) -> bool {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    claimed_by_us(claimed, headers, base_url)
}

/// Whether a WebSocket handshake comes from this site's pages: browsers always send Origin on
/// one, so it is required (a Referer does not do instead).
pub fn websocket_origin_ours(headers: &HeaderMap, base_url: &url::Url) -> bool {
    claimed_by_us(headers.get(header::ORIGIN), headers, base_url)
}

fn claimed_by_us(claimed: Option<&HeaderValue>, headers: &HeaderMap, base_url: &url::Url) -> bool {
    let claimed = claimed.and_then(|v| v.to_str().ok()).and_then(origin_of);
    let Some(claimed) = claimed else { return false };
    if claimed == base_url.origin().ascii_serialization() {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|host| {
        claimed == format!("http://{host}") || claimed == format!("https://{host}")
    })
}

/// Whether a request must be refused because it would change something and does not come
/// from this site.
pub fn is_cross_site_write(request: &Request, base_url: &url::Url) -> bool {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    !safe && !same_origin(request.headers(), base_url)
}

/// A form with nothing but its CSRF token (logout, resend, revoke).
#[derive(Deserialize)]
pub struct NoFields {}

/// A urlencoded form whose CSRF token matched the session's, its text checked by
/// [`input::clean_pairs`]. The token field is `csrf`; `T` need not declare it.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request<Body>, state: &S) -> Result<Self, AppError> {
        let (mut parts, body) = request.into_parts();
        let ctx = <RequestContext as axum::extract::FromRequestParts<S>>::from_request_parts(
            &mut parts, state,
        )
        .await?;
        let bytes = form_body(&parts.headers, body).await?;
        // The token first: a forged form is refused as forged, whatever else it holds.
        let token = url::form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "csrf")
            .map(|(_, token)| token);
        if !token.is_some_and(|token| tokens_match(&ctx.csrf, &token)) {
            return Err(AppError::StaleForm);
        }
        let pairs = input::clean_pairs(&bytes)?;
        // Kept for a page that refuses the write for a while, to offer it back.
        if let Some(submitted) = parts.extensions.get::<Submitted>() {
            submitted.keep(&pairs);
        }
        let form = input::deserialize(&pairs)?;
        Ok(CsrfForm(form))
    }
}

/// The raw body of a urlencoded form, at most [`MAX_FORM_BYTES`].
async fn form_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, AppError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::BadRequest("expected a urlencoded form"));
    }
    to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::BadRequest("form too large"))
}

/// A form without a CSRF token, its text checked like every form: only for a request whose
/// authority is a signature in its own address (a mail program's one-click unsubscribe, RFC 8058,
/// which has no session and no token). RFC 8058 says the body SHOULD be `multipart/form-data` and
/// MAY be urlencoded, so both are read.
pub struct SignedLinkForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for SignedLinkForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request<Body>, state: &S) -> Result<Self, AppError> {
        let is_multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let pairs = if is_multipart {
            let multipart = Multipart::from_request(request, state)
                .await
                .map_err(|_| AppError::BadRequest("malformed multipart form"))?;
            multipart_fields(multipart).await?
        } else {
            let (parts, body) = request.into_parts();
            input::clean_pairs(&form_body(&parts.headers, body).await?)?
        };
        Ok(SignedLinkForm(input::deserialize(&pairs)?))
    }
}

/// The text fields of a multipart form, each checked by [`input::clean_text`].
async fn multipart_fields(mut multipart: Multipart) -> Result<Vec<(String, String)>, AppError> {
    let malformed = |_| AppError::BadRequest("malformed multipart form");
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.text().await.map_err(malformed)?;
        let value = input::clean_text(&name, &value)?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// For forms read another way (multipart uploads): the token must match the session's.
pub fn check_token(ctx: &RequestContext, given: &str) -> Result<(), AppError> {
    if tokens_match(&ctx.csrf, given) {
        Ok(())
    } else {
        Err(AppError::StaleForm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_must_be_ours() {
        let base = url::Url::parse("https://hidamari.example.org").expect("url");
        let mut headers = HeaderMap::new();
        assert!(!same_origin(&headers, &base), "no Origin and no Referer");
        headers.insert(
            header::ORIGIN,
            "https://hidamari.example.org".parse().expect("value"),
        );
        assert!(same_origin(&headers, &base));
        headers.insert(
            header::ORIGIN,
            "https://evil.example.com".parse().expect("value"),
        );
        assert!(!same_origin(&headers, &base));
        headers.insert(header::HOST, "127.0.0.1:8080".parse().expect("value"));
        headers.insert(
            header::ORIGIN,
            "http://127.0.0.1:8080".parse().expect("value"),
        );
        assert!(same_origin(&headers, &base));
        headers.insert(header::ORIGIN, "null".parse().expect("value"));
        assert!(!same_origin(&headers, &base));
    }

    #[test]
    fn visitor_tokens_come_only_from_cookies_this_site_signed() {
        let tokens = VisitorTokens::new("site secret");
        let (token, set_cookie) = tokens.issue(true);
        let set_cookie = set_cookie.to_str().expect("text");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        assert!(set_cookie.contains("Secure"), "{set_cookie}");
        let pair = set_cookie.split(';').next().expect("name=value");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("other=1; {pair}").parse().expect("value"),
        );
        assert_eq!(tokens.from_request(&headers), Some(token.clone()));
        assert_eq!(
            VisitorTokens::new("another secret").from_request(&headers),
            None
        );
        let forged = format!(
            "{}={}.{}",
            VisitorTokens::COOKIE,
            new_token(),
            "0".repeat(64)
        );
        headers.insert(header::COOKIE, forged.parse().expect("value"));
        assert_eq!(tokens.from_request(&headers), None);
        assert_eq!(tokens.from_request(&HeaderMap::new()), None);
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("abc", ""));
    }
}
