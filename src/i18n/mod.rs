//! Locales: Japanese by default, complete English. Strings live in `locales/app.yml` (each key with
//! both languages side by side) and are compiled into the binary by rust-i18n.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ja,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Ja, Locale::En];

    /// Its place in [`Locale::ALL`], for tables kept per language.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ja => "ja",
            Locale::En => "en",
        }
    }

    /// The locale key of the language's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Locale::Ja => "prefs.locale.ja",
            Locale::En => "prefs.locale.en",
        }
    }

    /// A stored or submitted locale code; anything unknown falls back to Japanese.
    pub fn from_code(code: &str) -> Locale {
        match code {
            "en" => Locale::En,
            _ => Locale::Ja,
        }
    }

    pub fn parse(code: &str) -> Option<Locale> {
        match code {
            "ja" => Some(Locale::Ja),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(locale) = Locale::parse(primary)
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn tr(self) -> Tr {
        Tr(self)
    }
}

thread_local! {
    /// Strings already looked up, per locale, by key. rust-i18n hashes the locale and the key
    /// with SipHash on every lookup, and a page makes some fifty. Only keys that exist are kept,
    /// so the memo is bounded by the locale files.
    static LOOKED_UP: RefCell<[foldhash::HashMap<Box<str>, &'static str>; 2]> =
        RefCell::new(Default::default());
}

/// Something made of a language's strings, made once for each language on first use (what
/// every page shows, so that page views do not look it up again).
pub struct PerLocale<T> {
    make: fn(Tr) -> T,
    made: std::sync::OnceLock<[T; 2]>,
}

impl<T> PerLocale<T> {
    pub const fn new(make: fn(Tr) -> T) -> PerLocale<T> {
        PerLocale {
            make,
            made: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self, locale: Locale) -> &T {
        let made = self
            .made
            .get_or_init(|| Locale::ALL.map(|locale| (self.make)(locale.tr())));
        &made[locale.index()]
    }
}

/// The translator handed to templates: `{{ t.s("login.title") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    pub fn s(&self, key: &str) -> Cow<'static, str> {
        self.get(key).unwrap_or_else(|| Cow::Owned(key.to_owned()))
    }

    /// The string for `key`, if there is one (for keys made from names, such as a form field's).
    pub fn get(&self, key: &str) -> Option<Cow<'static, str>> {
        let locale = self.0;
        if let Some(found) = LOOKED_UP.with_borrow(|memo| memo[locale.index()].get(key).copied()) {
            return Some(Cow::Borrowed(found));
        }
        let found = crate::_rust_i18n_try_translate(locale.as_str(), key)?;
        if let Cow::Borrowed(text) = found {
            LOOKED_UP.with_borrow_mut(|memo| memo[locale.index()].insert(key.into(), text));
        }
        Some(found)
    }

    /// A string with `%{name}` placeholders filled in, in one pass: a value that itself holds
    /// a placeholder (a member's name, say) stays as it was written.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let template = self.s(key);
        let mut text = String::with_capacity(
            template.len() + args.iter().map(|(_, value)| value.len()).sum::<usize>(),
        );
        let mut rest = &*template;
        while let Some(start) = rest.find("%{") {
            text.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let filled = after.find('}').and_then(|end| {
                let name = &after[..end];
                let (_, value) = args.iter().find(|(n, _)| *n == name)?;
                Some((end, *value))
            });
            match filled {
                Some((end, value)) => {
                    text.push_str(value);
                    rest = &after[end + 1..];
                }
                None => {
                    text.push_str("%{");
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        text
    }

    /// `key` with `%{count}` filled in, in the form the locale's plural rule picks: English has
    /// a singular (`KEY.one`, for exactly one) and Japanese no plural forms at all (CLDR's rules
    /// for the two; rust-i18n has none of its own).
    pub fn count(&self, key: &str, count: i64, args: &[(&str, &str)]) -> String {
        let shown = count.to_string();
        let mut all = vec![("count", shown.as_str())];
        all.extend_from_slice(args);
        match (self.0, count) {
            (Locale::En, 1) => self.f(&format!("{key}.one"), &all),
            _ => self.f(key, &all),
        }
    }

    pub fn locale(&self) -> &'static str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(
            Locale::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("fr;q=1, ja;q=0.5"),
            Some(Locale::Ja)
        );
        assert_eq!(Locale::from_accept_language("fr, de"), None);
    }

    #[test]
    fn each_locale_knows_its_place() {
        for (i, locale) in Locale::ALL.into_iter().enumerate() {
            assert_eq!(locale.index(), i);
        }
    }

    #[test]
    fn placeholders_are_filled_once() {
        let t = Locale::Ja.tr();
        let key = "silence.banner";
        let text = t.f(key, &[("until", "%{reason}"), ("reason", "x")]);
        assert!(text.contains("%{reason}"), "{text}");
        assert!(!text.contains("%{until}"), "{text}");
        assert_eq!(
            t.f("no.such.key %{a} %{b}", &[("a", "1")]),
            "no.such.key 1 %{b}"
        );
    }

    /// Every key in every locale file has both languages, so English is complete.
    #[test]
    fn every_key_has_both_languages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the locales folder") {
            let text =
                std::fs::read_to_string(entry.expect("a locale file").path()).expect("readable");
            keys.extend(
                text.lines()
                    .filter(|l| {
                        !l.starts_with(' ')
                            && !l.starts_with('#')
                            && !l.starts_with('_')
                            && l.ends_with(':')
                    })
                    .map(|l| l.trim_end_matches(':').to_owned()),
            );
        }
        assert!(
            keys.len() > 50,
            "the locale files were not read: {} keys",
            keys.len()
        );
        for key in keys {
            for locale in Locale::ALL {
                assert!(
                    crate::_rust_i18n_try_translate(locale.as_str(), &key).is_some(),
                    "{key} has no {} text",
                    locale.as_str()
                );
            }
        }
    }

    #[test]
    fn counts_take_the_singular_in_english_only() {
        let en = Locale::En.tr();
        assert_eq!(en.count("forums.replies", 1, &[]), "1 reply");
        assert_eq!(en.count("forums.replies", 2, &[]), "2 replies");
        assert_eq!(en.count("forums.replies", 0, &[]), "0 replies");
        assert_eq!(Locale::Ja.tr().count("forums.replies", 1, &[]), "返信 1件");
        assert_eq!(
            en.count("forums.category_activity", 1, &[("time", "today")]),
            "1 topic · latest today"
        );
    }

    /// One Japanese word for each thing: 話題 (never トピック) and カテゴリー (never カテゴリ).
    #[test]
    fn japanese_uses_one_term_for_each_thing() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = 0;
        for folder in [
            "locales",
            "templates",
            "templates/forums",
            "templates/account",
            "templates/admin",
            "templates/mail",
            "templates/home",
            "templates/moderation",
        ] {
            let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
                continue;
            };
            for entry in entries.flatten().filter(|e| e.path().is_file()) {
                let text = std::fs::read_to_string(entry.path()).expect("readable");
                read += 1;
                let mixed = text.contains("トピック")
                    || text
                        .match_indices("カテゴリ")
                        .any(|(at, word)| !text[at + word.len()..].starts_with('ー'));
                assert!(!mixed, "{} mixes the words", entry.path().display());
            }
        }
        assert!(read > 10, "only {read} files read");
    }
}
