//! Problems with a submitted form, each tied to the inputs it is about, so that a page can sum
//! them up on top (each a link to its input), say each one by its input, and tell assistive
//! technology which input is wrong (`aria-invalid`) and why (`aria-describedby`). The markup is
//! in `templates/form.html`, shared by every form that uses these.

/// One problem, already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The ids of the inputs it is about; none when it is about the whole form ("too many
    /// attempts"). The message is shown by the first of them.
    pub fields: Vec<&'static str>,
    pub message: String,
}

impl FieldError {
    /// Where the summary's link leads, and where the message is shown.
    pub fn first_field(&self) -> Option<&'static str> {
        self.fields.first().copied()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// A problem with one input.
    pub fn add(&mut self, field: &'static str, message: String) {
        self.add_for(&[field], message);
    }

    /// A problem with several inputs together (an address and a password that do not match).
    pub fn add_for(&mut self, fields: &[&'static str], message: String) {
        self.0.push(FieldError {
            fields: fields.to_vec(),
            message,
        });
    }

    /// A problem with the form as a whole.
    pub fn add_for_form(&mut self, message: String) {
        self.add_for(&[], message);
    }

    /// A list of one problem with one input.
    pub fn one(field: &'static str, message: String) -> FieldErrors {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    /// Whether some problem is about this input.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.fields.contains(&field))
    }

    /// The messages to show by this input: those whose first input it is.
    pub fn shown_at(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| e.first_field() == Some(field))
            .map(|e| e.message.as_str())
            .collect()
    }

    /// The value of the input's `aria-describedby`: its hint (when it has one: `""` for none),
    /// then the messages about it.
    pub fn described_by(&self, field: &str, hint: &str) -> String {
        let mut ids: Vec<String> = Vec::new();
        if !hint.is_empty() {
            ids.push(hint.to_owned());
        }
        for error in self.0.iter().filter(|e| e.fields.contains(&field)) {
            if let Some(first) = error.first_field() {
                let id = message_id(first);
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids.join(" ")
    }
}

/// The id of the element that holds the messages shown by an input.
pub fn message_id(field: &str) -> String {
    format!("{field}-error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_described_by_their_hint_and_their_messages() {
        let mut errors = FieldErrors::default();
        errors.add("display_name", "taken".into());
        errors.add_for(&["email", "password"], "no match".into());
        errors.add_for_form("slow down".into());
        assert!(errors.has("password") && !errors.has("password_confirm"));
        assert_eq!(
            errors.described_by("display_name", "display_name_hint"),
            "display_name_hint display_name-error"
        );
        assert_eq!(errors.described_by("password", ""), "email-error");
        assert_eq!(errors.described_by("password_confirm", "x_hint"), "x_hint");
        assert_eq!(errors.shown_at("email"), vec!["no match"]);
        assert!(errors.shown_at("password").is_empty());
        let anchors: Vec<_> = errors.iter().map(FieldError::first_field).collect();
        assert_eq!(anchors, vec![Some("display_name"), Some("email"), None]);
    }
}
