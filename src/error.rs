//! One application error type. A handler returns `AppError`; its response carries an [`ErrorPage`]
//! marker that the page middleware renders in the reader's language (see `web::context`).
//! Database and internal errors are logged once, here, and shown as a plain apology.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::write_limit::WriteKind;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such page, or one the reader may not know exists (the same answer for both).
    #[error("not found")]
    NotFound,
    /// The reader is known but may not do this.
    #[error("forbidden")]
    Forbidden,
    /// No session: the login page.
    #[error("login required")]
    LoginRequired,
    /// The form's CSRF token or the request's Origin did not match: a stale or forged form.
    #[error("stale form")]
    StaleForm,
    /// Input that cannot be read at all (not form validation, which re-renders the form).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A rate limit was reached.
    #[error("too many requests")]
    TooManyRequests,
    /// A member wrote more of one kind than the write limits allow for now; they may write it
    /// again after `wait`.
    #[error("write limit reached: {kind:?}")]
    TooManyWrites {
        kind: WriteKind,
        wait: std::time::Duration,
    },
    /// A silenced member tried to write what others would read: until when, and the
    /// moderator's reason as it was written.
    #[error("silenced until {until}")]
    Silenced { until: i64, reason: String },
    /// A form field or query parameter (its name given) holds a control character.
    #[error("control character in {0:?}")]
    ControlCharacter(String),
    /// Password hashing is saturated; the reader may try again in a moment.
    #[error("busy")]
    Busy,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
}

/// The kind of error page to render; put in the response's extensions by [`AppError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    Forbidden,
    StaleForm,
    BadRequest,
    TooManyRequests,
    /// Writing `kind` again is possible after `wait`; the page offers back what was written.
    TooManyWrites {
        kind: WriteKind,
        wait: std::time::Duration,
    },
    /// The writer is silenced until then, for this reason; the page offers back what was written.
    Silenced {
        until: i64,
        reason: String,
    },
    /// The form field (its name) that held a control character.
    ControlCharacter(String),
    Busy,
    Internal,
}

impl ErrorPage {
    pub fn status(&self) -> StatusCode {
        match self {
            ErrorPage::NotFound => StatusCode::NOT_FOUND,
            ErrorPage::Forbidden | ErrorPage::StaleForm | ErrorPage::Silenced { .. } => {
                StatusCode::FORBIDDEN
            }
            ErrorPage::BadRequest | ErrorPage::ControlCharacter(_) => StatusCode::BAD_REQUEST,
            ErrorPage::TooManyRequests | ErrorPage::TooManyWrites { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ErrorPage::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorPage::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The locale key prefix for the page's title and text.
    pub fn key(&self) -> &'static str {
        match self {
            ErrorPage::NotFound => "error.not_found",
            ErrorPage::Forbidden => "error.forbidden",
            ErrorPage::StaleForm => "error.stale_form",
            ErrorPage::BadRequest => "error.bad_request",
            ErrorPage::TooManyRequests => "error.too_many",
            ErrorPage::TooManyWrites { .. } => "write_limit",
            ErrorPage::Silenced { .. } => "silence.refused",
            ErrorPage::ControlCharacter(_) => "input.control",
            ErrorPage::Busy => "error.busy",
            ErrorPage::Internal => "error.internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let page = match self {
            AppError::LoginRequired => return Redirect::to("/login").into_response(),
            AppError::NotFound => ErrorPage::NotFound,
            AppError::Forbidden => ErrorPage::Forbidden,
            AppError::StaleForm => ErrorPage::StaleForm,
            AppError::BadRequest(why) => {
                tracing::debug!(why, "bad request");
                ErrorPage::BadRequest
            }
            AppError::TooManyRequests => ErrorPage::TooManyRequests,
            AppError::TooManyWrites { kind, wait } => ErrorPage::TooManyWrites { kind, wait },
            AppError::Silenced { until, reason } => ErrorPage::Silenced { until, reason },
            AppError::ControlCharacter(field) => ErrorPage::ControlCharacter(field),
            AppError::Busy => ErrorPage::Busy,
            AppError::Database(err) => {
                tracing::error!(error = %err, "database error");
                ErrorPage::Internal
            }
            AppError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                ErrorPage::Internal
            }
        };
        let mut response = page.status().into_response();
        response.extensions_mut().insert(page);
        response
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        AppError::Internal(format!("template: {err}"))
    }
}

impl From<tower_sessions_core::session_store::Error> for AppError {
    fn from(err: tower_sessions_core::session_store::Error) -> Self {
        AppError::Internal(format!("session: {err}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
