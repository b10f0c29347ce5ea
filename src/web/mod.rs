//! What every page shares: the request context middleware, the layout, error pages, security
//! headers and the static files built into the binary.

pub mod assets;
pub mod badge;
pub mod datetime;
pub mod form;
pub mod input;
pub mod layout;
pub mod limits;
pub mod progress;
pub mod sockets;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::session::{RequestContext, Session, SessionData, TextSize};
use crate::error::{AppError, ErrorPage};
use crate::i18n::Locale;
use input::Submitted;
use layout::{ErrorView, Layout};

/// Resolves who is asking, in which language and text size, and the CSRF token, once per request;
/// then renders any [`ErrorPage`] the handler returned in that language. Pages are never kept by
/// the browser or a proxy: they carry a member's data or a form token, and after logging out,
/// Back must not show them again.
pub async fn page_context(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let session = match app.sessions.open(request.headers()).await {
        Ok(session) => session,
        Err(err) => return err.into_response(),
    };
    let resolved = resolve_context(&app, session.clone(), request.headers()).await;
    let (ctx, set_cookie) = match resolved {
        Ok(resolved) => resolved,
        Err(err) => return err.into_response(),
    };
    request.extensions_mut().insert(ctx.clone());
    let submitted = Submitted::default();
    request.extensions_mut().insert(submitted.clone());
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let mut response = match error_page_for(&response) {
        Some(ErrorPage::TooManyWrites { kind, wait }) => {
            limits::write_limited(&app, &ctx, &uri, &submitted, kind, wait)
        }
        Some(ErrorPage::Silenced { until, reason }) => {
            limits::silenced(&app, &ctx, &submitted, until, &reason)
        }
        Some(page) => render_error(&app, &ctx, page),
        None => response,
    };
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    if let Some(cookie) = set_cookie {
        headers.append(header::SET_COOKIE, cookie);
    }
    if let Err(err) = app.sessions.close(&session, &mut response).await {
        tracing::error!(error = %err, "saving the session");
        return render_error(&app, &ctx, ErrorPage::Internal);
    }
    response
}

/// The error page a response should become: the one a handler chose, or, for axum's own
/// rejections (a path segment of the wrong type, an unreadable body), the page for its status.
fn error_page_for(response: &Response) -> Option<ErrorPage> {
    if let Some(page) = response.extensions().get::<ErrorPage>() {
        return Some(page.clone());
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let status = response.status();
    if is_html || !status.is_client_error() {
        return None;
    }
    Some(match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorPage::NotFound,
        StatusCode::TOO_MANY_REQUESTS => ErrorPage::TooManyRequests,
        _ => ErrorPage::BadRequest,
    })
}

/// The request's context, and the cookie to set when a visitor needs a new form token. The
/// language asked for and the visitor's signed token are read only for visitors.
async fn resolve_context(
    app: &AppState,
    session: Session,
    headers: &header::HeaderMap,
) -> Result<(RequestContext, Option<header::HeaderValue>), AppError> {
    let data = SessionData(&session);
    let mut user = None;
    if let Some((id, version)) = data.user().await? {
        let found = app.users.get(&mut app.db.reader(), id).await?;
        // A changed password, a deactivation or a suspension moved the version on: log out here.
        match found.filter(|u| u.auth_version == version && u.status == "active") {
            Some(u) => user = Some(u),
            None => data.log_out().await?,
        }
    }
    let (locale, text_size) = match &user {
        Some(u) => (
            Locale::from_code(&u.locale),
            TextSize::parse(&u.text_size).unwrap_or_default(),
        ),
        None => {
            let (locale, size) = data.visitor_preferences().await?;
            let accepted = headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language);
            (
                locale.or(accepted).unwrap_or(app.site.get().default_locale),
                size.unwrap_or_default(),
            )
        }
    };
    // A visitor's token lives in a signed cookie, so that page views store no session.
    let mut set_cookie = None;
    let csrf = match (&user, data.csrf().await?) {
        (_, Some(token)) => token,
        (Some(_), None) => data.member_csrf().await?,
        (None, None) => app.visitor_tokens.from_request(headers).unwrap_or_else(|| {
            let (token, cookie) = app.visitor_tokens.issue(app.config.is_https());
            set_cookie = Some(cookie);
            token
        }),
    };
    let flash = data.take_flash().await?;
    let ctx = RequestContext {
        user,
        locale,
        text_size,
        csrf: csrf.into(),
        flash,
        session,
    };
    Ok((ctx, set_cookie))
}

fn render_error(app: &AppState, ctx: &RequestContext, page: ErrorPage) -> Response {
    let t = ctx.tr();
    let message = match &page {
        ErrorPage::ControlCharacter(field) => limits::control_character_message(t, field),
        _ => t.s(&format!("{}.text", page.key())).into_owned(),
    };
    let view = ErrorView {
        layout: Layout::new(app, ctx, t.s(&format!("{}.title", page.key())).into_owned()),
        message,
    };
    (page.status(), view).into_response()
}

/// Headers on every response: no inline script and nothing from a third party, no framing, no
/// sniffing, no referrer beyond this site.
const SECURITY_HEADERS: [(header::HeaderName, header::HeaderValue); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    ),
    (
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    ),
    (
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    ),
    (
        header::HeaderName::from_static("permissions-policy"),
        header::HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
    ),
];

/// The outermost check, for every request: an unsafe request from another site (or with no
/// Origin or Referer) changes nothing, unless a signed link from a mail authorises it, every
/// response gets [`SECURITY_HEADERS`], and the request holds at most one pooled connection at a
/// time ([`crate::db::one_at_a_time`]).
pub async fn guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = if crate::auth::csrf::is_cross_site_write(&request, &app.config.base_url)
        && !crate::forums::notify::is_signed_link(request.uri().path())
    {
        tracing::info!(path = %request.uri().path(), "cross-site or origin-less unsafe request refused");
        AppError::StaleForm.into_response()
    } else {
        crate::db::one_at_a_time(next.run(request)).await
    };
    let headers = response.headers_mut();
    // Room for them at once, rather than growing the map as they come.
    headers.reserve(SECURITY_HEADERS.len());
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, value);
    }
    response
}
