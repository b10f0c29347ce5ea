//! Validated account values: raw form strings become these before a service sees them.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

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

/// A display name (a pseudonym is encouraged): read without invisible characters,
/// NFKC-normalised, 2 to 20 characters, no control characters. Unique two ways: by its `key`
/// (case and spaces folded: "Sun Flower" and "ｓｕｎｆｌｏｗｅｒ"), and by its `skeleton`, so
/// that a name cannot pose as another with look-alike letters (Cyrillic "о" for Latin "o",
/// カタカナ「カ」 for 漢字「力」) or with characters that show nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName {
    pub name: String,
    pub key: String,
    pub skeleton: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDisplayName {
    TooShort,
    TooLong,
    Characters,
    /// Only characters that show nothing.
    Invisible,
}

impl BadDisplayName {
    pub fn key(self) -> &'static str {
        match self {
            BadDisplayName::TooShort => "name.too_short",
            BadDisplayName::TooLong => "name.too_long",
            BadDisplayName::Characters => "name.characters",
            BadDisplayName::Invisible => "name.invisible",
        }
    }
}

/// A character that shows nothing: a default-ignorable code point (soft hyphen, combining
/// grapheme joiner, zero-width and bidi controls, variation selectors, Hangul fillers, tag
/// characters — exactly what the UTS #39 skeleton drops, from its maintained table), any other
/// format character, or a blank that Unicode does not call ignorable (U+2800 BRAILLE PATTERN
/// BLANK, U+1D159 MUSICAL SYMBOL NULL NOTEHEAD).
fn is_invisible(c: char) -> bool {
    let mut buf = [0; 4];
    unicode_security::skeleton(c.encode_utf8(&mut buf))
        .next()
        .is_none()
        || c.general_category() == GeneralCategory::Format
        || matches!(c, '\u{2800}' | '\u{1D159}')
}

/// The text as it shows: invisible characters removed, NFKC-normalised (full-width and
/// half-width forms become one), runs of spaces made one.
fn visible_text(raw: &str) -> String {
    raw.chars()
        .filter(|c| !is_invisible(*c))
        .nfkc()
        .filter(|c| !is_invisible(*c))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a name looks like, for telling look-alikes apart: the UTS #39 confusable skeleton of the
/// visible name without spaces, case folded and taken again (so "ΗΑΝΑ" in Greek capitals and
/// "hana" meet). Defined for any stored name, valid under today's rules or not.
pub fn look_alike_key(name: &str) -> String {
    let spaceless: String = visible_text(name)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let folded = unicode_security::skeleton(&spaceless)
        .collect::<String>()
        .to_lowercase();
    unicode_security::skeleton(&folded).collect()
}

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, BadDisplayName> {
        let name = visible_text(raw);
        if name.is_empty() && raw.chars().any(|c| !c.is_whitespace()) {
            return Err(BadDisplayName::Invisible);
        }
        let length = name.chars().count();
        if length < MIN_DISPLAY_NAME {
            return Err(BadDisplayName::TooShort);
        }
        if length > MAX_DISPLAY_NAME {
            return Err(BadDisplayName::TooLong);
        }
        if name
            .chars()
            .any(|c| c.is_control() || matches!(c, '@' | '<' | '>' | '"'))
        {
            return Err(BadDisplayName::Characters);
        }
        let key = name_key(&name);
        let skeleton = look_alike_key(&name);
        Ok(DisplayName {
            name,
            key,
            skeleton,
        })
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
        assert_eq!(DisplayName::parse("a@b"), Err(BadDisplayName::Characters));
    }

    /// Characters that show nothing, as used to make a second "ひまわり" (each one placed inside
    /// and at the end of the name).
    const INVISIBLE: &[char] = &[
        '\u{00AD}',
        '\u{034F}',
        '\u{061C}',
        '\u{115F}',
        '\u{1160}',
        '\u{17B4}',
        '\u{180E}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{200E}',
        '\u{200F}',
        '\u{202A}',
        '\u{202E}',
        '\u{2060}',
        '\u{2061}',
        '\u{2066}',
        '\u{2069}',
        '\u{206F}',
        '\u{2800}',
        '\u{3164}',
        '\u{FE0F}',
        '\u{FEFF}',
        '\u{FFA0}',
        '\u{FFF9}',
        '\u{1D159}',
        '\u{1D173}',
        '\u{E0001}',
        '\u{E0041}',
        '\u{E007F}',
        '\u{E0100}',
    ];

    #[test]
    fn invisible_characters_are_read_away_and_a_blank_name_is_refused() {
        let plain = DisplayName::parse("ひまわり").expect("valid");
        for &c in INVISIBLE {
            for raw in [format!("ひま{c}わり"), format!("ひまわり{c}{c}")] {
                let name = DisplayName::parse(&raw).expect("valid once read");
                assert_eq!(name, plain, "U+{:04X}", c as u32);
            }
            assert_eq!(
                DisplayName::parse(&format!("{c}{c}{c}")),
                Err(BadDisplayName::Invisible),
                "U+{:04X}",
                c as u32
            );
        }
        assert_eq!(DisplayName::parse("   "), Err(BadDisplayName::TooShort));
        assert_eq!(
            DisplayName::parse("ひ\u{3164}"),
            Err(BadDisplayName::TooShort)
        );
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let skeleton = |raw: &str| DisplayName::parse(raw).expect("valid").skeleton;
        let latin = skeleton("Coordinator");
        // Cyrillic С and о, Greek ο, full-width letters.
        for alike in [
            "Сoordinator",
            "Coоrdinatоr",
            "Cοοrdinatοr",
            "Ｃｏｏｒｄｉｎａｔｏｒ",
        ] {
            assert_eq!(skeleton(alike), latin, "{alike}");
        }
        // Capitals meet by the key ("I" alone looks like "l", so its skeleton differs).
        assert_eq!(
            DisplayName::parse("COORDINATOR").expect("valid").key,
            DisplayName::parse("Coordinator").expect("valid").key
        );
        assert_eq!(skeleton("ΗΑΝΑ"), skeleton("hana"), "Greek capitals");
        assert_eq!(
            skeleton("力エデ"),
            skeleton("カエデ"),
            "kanji 力 for katakana カ"
        );
        assert_eq!(
            skeleton("ﾋﾏﾜﾘ"),
            skeleton("ヒマワリ"),
            "half-width katakana"
        );
        // Different Japanese names stay different.
        for (a, b) in [
            ("ひまわり", "ヒマワリ"),
            ("さくら", "さくらこ"),
            ("はな", "ばな"),
            ("ゆき", "ユキ"),
            ("たろう", "たろー"),
        ] {
            assert_ne!(skeleton(a), skeleton(b), "{a} / {b}");
        }
    }
}
