//! What any text sent to the server may contain, checked once for every form field and query
//! parameter before a handler sees it: valid UTF-8 (a real U+FFFD typed by someone is text), no
//! control characters other than tab and newline, and line endings as `\n`.

use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Why submitted text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProblem {
    NotUtf8,
    /// A control character in the named field.
    Control(String),
}

impl From<InputProblem> for AppError {
    fn from(problem: InputProblem) -> Self {
        match problem {
            InputProblem::NotUtf8 => AppError::BadRequest("form is not valid UTF-8"),
            InputProblem::Control(field) => AppError::ControlCharacter(field),
        }
    }
}

/// Whether a character has no place in text a member writes: C0 controls other than tab and
/// newline, DEL, and the C1 controls.
fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// One field's value as it is kept: `\r\n` and a lone `\r` become `\n`; any other control
/// character refuses the whole submission.
pub fn clean_text(field: &str, value: &str) -> Result<String, InputProblem> {
    let text = if value.contains('\r') {
        value.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        value.to_owned()
    };
    if text.chars().any(is_refused_control) {
        return Err(InputProblem::Control(field.to_owned()));
    }
    Ok(text)
}

/// `+` is a space, then percent-decoding, then strict UTF-8.
fn decode(part: &[u8]) -> Result<String, InputProblem> {
    let spaced: Vec<u8> = part
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| InputProblem::NotUtf8)
}

/// The fields of a urlencoded body or query string, each checked by [`clean_text`].
pub fn clean_pairs(encoded: &[u8]) -> Result<Vec<(String, String)>, InputProblem> {
    encoded
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut halves = pair.splitn(2, |&b| b == b'=');
            let name = decode(halves.next().unwrap_or_default())?;
            let value = decode(halves.next().unwrap_or_default())?;
            // A control character in a field's name leaves nothing to name it by.
            if name.chars().any(is_refused_control) {
                return Err(InputProblem::Control(String::new()));
            }
            let value = clean_text(&name, &value)?;
            Ok((name, value))
        })
        .collect()
}

/// Cleaned fields read into the handler's type.
pub fn deserialize<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, AppError> {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    serde_urlencoded::from_str(&encoded).map_err(|_| AppError::BadRequest("unexpected fields"))
}

/// A query string, checked like every form (use this, not axum's `Query`).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let pairs = clean_pairs(parts.uri.query().unwrap_or_default().as_bytes())?;
        Ok(Query(deserialize(&pairs)?))
    }
}

/// What a member wrote in the form of this request, kept so that a page refusing it for a while
/// (a write limit) can offer it back. Passwords and the CSRF token are never kept.
#[derive(Clone, Default)]
pub struct Submitted(Arc<OnceLock<Vec<(String, String)>>>);

impl Submitted {
    pub fn keep(&self, pairs: &[(String, String)]) {
        let kept = pairs
            .iter()
            .filter(|(name, _)| name != "csrf" && !name.contains("password"))
            .cloned()
            .collect();
        let _ = self.0.set(kept);
    }

    pub fn fields(&self) -> &[(String, String)] {
        self.0.get().map(Vec::as_slice).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Result<Vec<(String, String)>, InputProblem> {
        clean_pairs(s.as_bytes())
    }

    #[test]
    fn text_is_utf8_without_controls_and_with_plain_newlines() {
        assert_eq!(
            pairs("title=%E4%BB%95%E4%BA%8B+a&body=x%0D%0Ay%0Dz%09t"),
            Ok(vec![
                ("title".into(), "仕事 a".into()),
                ("body".into(), "x\ny\nz\tt".into())
            ])
        );
        // A replacement character someone typed is text.
        assert_eq!(
            pairs("body=%EF%BF%BD"),
            Ok(vec![("body".into(), "\u{FFFD}".into())])
        );
        assert_eq!(pairs("body=%FF%FE"), Err(InputProblem::NotUtf8));
        for control in ["%00", "%07", "%1B", "%7F", "%C2%85", "%C2%9F"] {
            assert_eq!(
                pairs(&format!("csrf=1&title=a{control}b")),
                Err(InputProblem::Control("title".into())),
                "{control}"
            );
        }
        assert_eq!(pairs("a%00b=1"), Err(InputProblem::Control(String::new())));
        assert_eq!(pairs("&&flag&"), Ok(vec![("flag".into(), String::new())]));
    }

    #[test]
    fn kept_fields_leave_out_secrets() {
        let submitted = Submitted::default();
        submitted.keep(&[
            ("csrf".into(), "t".into()),
            ("current_password".into(), "p".into()),
            ("body".into(), "b".into()),
        ]);
        assert_eq!(submitted.fields(), [("body".into(), "b".into())]);
    }
}
