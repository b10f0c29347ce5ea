//! Validated account values: raw form strings become these before a service sees them.

use unicode_normalization::UnicodeNormalization;

pub const MAX_EMAIL: usize = 254;
pub const MIN_DISPLAY_NAME: usize = 2;
pub const MAX_DISPLAY_NAME: usize = 20;

/// An e-mail address, trimmed and lower-cased, syntactically valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Option<Email> {
        let email = raw.trim().nfkc().collect::<String>().to_lowercase();
        if email.is_empty() || email.len() > MAX_EMAIL {
            return None;
        }
        // lettre's parser accepts what SMTP can deliver; a dot in the domain rules out typos like
        // "name@gmail".
        let address: lettre::Address = email.parse().ok()?;
        if !address.domain().contains('.') && address.domain() != "localhost" {
            return None;
        }
        Some(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name (a pseudonym is encouraged): NFKC-normalised, 2 to 20 characters, no control
/// characters; unique by its key, which also folds case and width, so 「ひまわり」 and
/// 「ﾋﾏﾜﾘ」-like variants or "Sun" and "sun" cannot pose as each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDisplayName {
    TooShort,
    TooLong,
    Characters,
}

impl BadDisplayName {
    pub fn key(self) -> &'static str {
        match self {
            BadDisplayName::TooShort => "name.too_short",
            BadDisplayName::TooLong => "name.too_long",
            BadDisplayName::Characters => "name.characters",
        }
    }
}

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, BadDisplayName> {
        let name: String = raw
            .nfkc()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let length = name.chars().count();
        if length < MIN_DISPLAY_NAME {
            return Err(BadDisplayName::TooShort);
        }
        if length > MAX_DISPLAY_NAME {
            return Err(BadDisplayName::TooLong);
        }
        let forbidden = |c: char| {
            c.is_control()
                || matches!(c, '@' | '<' | '>' | '"' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
        };
        if name.chars().any(forbidden) {
            return Err(BadDisplayName::Characters);
        }
        let key = name_key(&name);
        Ok(DisplayName { name, key })
    }
}

/// How display names compare (NFKC, case folded, spaces left out); also for the start of a name
/// typed to find members.
pub fn name_key(text: &str) -> String {
    text.nfkc()
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Hana@Example.ORG ").map(|e| e.0),
            Some("hana@example.org".into())
        );
        assert_eq!(
            Email::parse("ｈａｎａ＠example.org").map(|e| e.0),
            Some("hana@example.org".into())
        );
        assert!(Email::parse("not an address").is_none());
        assert!(Email::parse("name@gmail").is_none());
        assert!(Email::parse("").is_none());
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(250))).is_none());
    }

    #[test]
    fn display_names_fold_width_and_case() {
        let a = DisplayName::parse("ひまわり").expect("valid");
        let b = DisplayName::parse(" Ｓｕｎ  Flower ").expect("valid");
        assert_eq!(a.name, "ひまわり");
        assert_eq!(b.name, "Sun Flower");
        assert_eq!(b.key, DisplayName::parse("sun flower").expect("valid").key);
        assert_eq!(DisplayName::parse("あ"), Err(BadDisplayName::TooShort));
        assert_eq!(
            DisplayName::parse(&"あ".repeat(21)),
            Err(BadDisplayName::TooLong)
        );
        assert_eq!(
            DisplayName::parse("ひま\u{202E}わり"),
            Err(BadDisplayName::Characters)
        );
        assert_eq!(DisplayName::parse("a@b"), Err(BadDisplayName::Characters));
    }
}
