//! The pages for writing refused by a limit: a write limit reached (what was limited, when to
//! try again, and what was written offered back to send again), a silenced member's write (why
//! and until when, with what was written kept to copy), and a control character in a field.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::session::RequestContext;
use crate::auth::write_limit::WriteKind;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::web::input::Submitted;
use crate::web::layout::{Layout, local_time};

/// The fields people write into at length: shown again to edit; other fields go back hidden.
const WRITTEN: [&str; 2] = ["title", "body"];

/// A field's name as the reader knows it, or a general word for a field without a label.
pub fn field_label(t: Tr, field: &str) -> String {
    t.get(&format!("input.field.{field}"))
        .unwrap_or_else(|| t.s("input.field_unknown"))
        .into_owned()
}

pub fn control_character_message(t: Tr, field: &str) -> String {
    t.f("input.control.text", &[("field", &field_label(t, field))])
}

pub struct KeptField {
    pub name: String,
    pub value: String,
    /// The reader's label, for fields shown to edit; `None` for a hidden field.
    pub label: Option<String>,
    pub multiline: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "write_limited.html")]
pub struct WriteLimitedView {
    layout: Layout,
    message: String,
    /// Where the form was sent, to send it again; `None` when it cannot be sent again yet.
    action: Option<String>,
    /// What the page says of the text kept.
    kept_hint: &'static str,
    kept: Vec<KeptField>,
}

impl WriteLimitedView {
    fn has_text(&self) -> bool {
        self.kept.iter().any(|f| f.label.is_some())
    }

    fn shows_form(&self) -> bool {
        self.has_text() || (self.action.is_some() && !self.kept.is_empty())
    }

    /// The page for `message`, keeping what `submitted` held: the written fields to edit (or
    /// copy), the others hidden, to send again to `action`.
    fn new(
        layout: Layout,
        message: String,
        action: Option<String>,
        kept_hint: &'static str,
        submitted: &Submitted,
    ) -> WriteLimitedView {
        let t = layout.t;
        let kept = submitted
            .fields()
            .iter()
            .map(|(name, value)| {
                let written = WRITTEN.contains(&name.as_str()) && !value.is_empty();
                KeptField {
                    label: written.then(|| field_label(t, name)),
                    multiline: name == "body",
                    name: name.clone(),
                    value: value.clone(),
                }
            })
            .collect();
        WriteLimitedView {
            layout,
            message,
            action,
            kept_hint,
            kept,
        }
    }
}

/// Whole seconds to wait, rounded up.
fn wait_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// "about 40 seconds" or "about 3 minutes", rounded up; counted in seconds under two minutes
/// (and never fewer than two), so that no language needs a singular.
fn wait_words(t: Tr, wait: Duration) -> String {
    let seconds = wait_seconds(wait).max(2);
    if seconds < 120 {
        t.f("write_limit.seconds", &[("n", &seconds.to_string())])
    } else {
        t.f(
            "write_limit.minutes",
            &[("n", &seconds.div_ceil(60).to_string())],
        )
    }
}

/// What was limited, how long to wait and when writing works again.
fn write_limited_text(app: &AppState, t: Tr, kind: WriteKind, wait: Duration) -> String {
    let again_at = local_time(
        &app.site,
        jiff::Timestamp::now()
            .as_second()
            .saturating_add_unsigned(wait_seconds(wait)),
    );
    t.f(
        "write_limit.text",
        &[
            ("what", &t.s(&format!("write_limit.kind.{}", kind.as_str()))),
            ("wait", &wait_words(t, wait)),
            ("time", &again_at),
        ],
    )
}

fn silenced_text(app: &AppState, t: Tr, until: i64, reason: &str) -> String {
    t.f(
        "silence.refused.text",
        &[("until", &local_time(&app.site, until)), ("reason", reason)],
    )
}

/// A write refusal ([`WriteLimits::check`](crate::auth::write_limit::WriteLimits::check)) in
/// words, for a live page that shows it in place rather than as a page of its own.
pub fn refusal_message(app: &AppState, t: Tr, refusal: &AppError) -> String {
    match refusal {
        AppError::TooManyWrites { kind, wait } => write_limited_text(app, t, *kind, *wait),
        AppError::Silenced { until, reason } => silenced_text(app, t, *until, reason),
        _ => t.s("cafe.not_sent").into_owned(),
    }
}

/// The 429 page for a write over the limit, with `Retry-After`.
pub fn write_limited(
    app: &AppState,
    ctx: &RequestContext,
    uri: &Uri,
    submitted: &Submitted,
    kind: WriteKind,
    wait: Duration,
) -> Response {
    let view = WriteLimitedView::new(
        Layout::titled(app, ctx, "write_limit.title"),
        write_limited_text(app, ctx.tr(), kind, wait),
        Some(uri.to_string()),
        "write_limit.kept",
        submitted,
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait_seconds(wait).to_string())],
        view,
    )
        .into_response()
}

/// The 403 page for a silenced member's write: until when and why, in the moderator's words
/// (never which moderator), with what was written kept to copy.
pub fn silenced(
    app: &AppState,
    ctx: &RequestContext,
    submitted: &Submitted,
    until: i64,
    reason: &str,
) -> Response {
    let mut layout = Layout::titled(app, ctx, "silence.refused.title");
    // The page itself says what the banner would.
    layout.silenced = None;
    let view = WriteLimitedView::new(
        layout,
        silenced_text(app, ctx.tr(), until, reason),
        None,
        "silence.kept",
        submitted,
    );
    (StatusCode::FORBIDDEN, view).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn waits_and_fields_are_worded_for_the_reader() {
        let ja = Locale::Ja.tr();
        let en = Locale::En.tr();
        assert_eq!(wait_words(ja, Duration::from_millis(9_200)), "約10秒");
        assert_eq!(wait_words(en, Duration::from_secs(61)), "about 61 seconds");
        assert_eq!(wait_words(en, Duration::from_secs(121)), "about 3 minutes");
        assert_eq!(wait_words(en, Duration::from_millis(10)), "about 2 seconds");
        assert_eq!(field_label(ja, "title"), "タイトル");
        assert_eq!(field_label(en, "no_such_field"), "one of the fields");
    }

    #[test]
    fn every_kind_of_write_has_a_name_in_both_languages() {
        for locale in Locale::ALL {
            for kind in WriteKind::ALL {
                let key = format!("write_limit.kind.{}", kind.as_str());
                assert!(locale.tr().get(&key).is_some(), "{key} in {locale:?}");
            }
        }
    }
}
