//! The one normalization that stored text and queries both go through, so that they meet:
//! NFKC (full-width letters and half-width katakana become ordinary ones), lower case, katakana
//! folded to hiragana (「ガン」 finds 「がん」), then the equivalent terms that coordinators
//! keep (「癌」 → 「がん」, 「抗癌剤」 → 「抗がん剤」).
//!
//! The text is normalized piece by piece (a character with the marks that combine with it), and
//! every character of the result remembers which bytes of the original it came from. That map is
//! what lets a result show the original text with the matches marked.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Equivalent terms, folded: each variant is replaced by its group's first term.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    /// (variant, canonical), longest variant first, so that 「抗癌剤」 wins over 「癌」.
    variants: Vec<(Vec<char>, Vec<char>)>,
}

impl Synonyms {
    /// From stored groups: each a list of terms separated by whitespace (or commas); the first
    /// is the form the others fold to. Terms that fold to nothing or to the first are dropped.
    pub fn from_groups<'a>(groups: impl IntoIterator<Item = &'a str>) -> Synonyms {
        let mut variants = Vec::new();
        for group in groups {
            let terms = group_terms(group);
            let Some((canonical, rest)) = terms.split_first() else {
                continue;
            };
            let canonical: Vec<char> = canonical.chars().collect();
            for term in rest {
                let term: Vec<char> = term.chars().collect();
                if term != canonical && !variants.iter().any(|(v, _)| *v == term) {
                    variants.push((term, canonical.clone()));
                }
            }
        }
        variants.sort_by_key(|(variant, _)| std::cmp::Reverse(variant.len()));
        Synonyms { variants }
    }

    pub fn is_empty(&self) -> bool {
        self.variants.is_empty()
    }
}

/// The distinct terms of a group as typed by a coordinator (separated by whitespace, commas or
/// 「、」), each folded (NFKC, lower case, hiragana); the first one first.
pub fn group_terms(group: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for raw in group.split(|c: char| c.is_whitespace() || matches!(c, ',' | '、' | '，')) {
        let term: String = fold(raw).split_whitespace().collect();
        if !term.is_empty() && !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

/// Text normalized, with the byte range of the original that each character came from.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub chars: Vec<char>,
    pub origin: Vec<(usize, usize)>,
}

impl Mapped {
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }
}

/// Marks that belong to the character before them: combining marks (the voiced sound marks
/// U+3099 and U+309A among them) and the half-width voiced sound marks, which NFKC joins to the
/// half-width katakana before them (「ｶﾞ」 → 「ガ」).
fn joins_previous(c: char) -> bool {
    is_combining_mark(c) || matches!(c, '\u{FF9E}' | '\u{FF9F}')
}

fn hiragana(c: char) -> char {
    match c {
        // ァ..ヶ → ぁ..ゖ
        '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        // ヽ ヾ (iteration marks) → ゝ ゞ
        '\u{30FD}' | '\u{30FE}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// NFKC, lower case and hiragana, piece by piece, with the map back to the original.
fn fold_mapped(original: &str) -> Mapped {
    let mut chars = Vec::with_capacity(original.len() / 2);
    let mut origin = Vec::with_capacity(original.len() / 2);
    let mut piece = String::new();
    let mut piece_start = 0;
    let mut flush = |piece: &mut String, start: usize, end: usize| {
        for c in piece.nfkc() {
            for lower in c.to_lowercase() {
                // Every kind of white space is one plain space (the gram index relies on it).
                chars.push(if lower.is_whitespace() {
                    ' '
                } else {
                    hiragana(lower)
                });
                origin.push((start, end));
            }
        }
        piece.clear();
    };
    for (at, c) in original.char_indices() {
        if !piece.is_empty() && !joins_previous(c) {
            flush(&mut piece, piece_start, at);
            piece_start = at;
        }
        piece.push(c);
    }
    if !piece.is_empty() {
        flush(&mut piece, piece_start, original.len());
    }
    Mapped { chars, origin }
}

/// NFKC, lower case and hiragana, without equivalent terms (for the terms themselves).
pub fn fold(text: &str) -> String {
    fold_mapped(text).text()
}

/// The form watched and crisis words are compared in: [`fold`], with every run of white space
/// one space and none at the ends, so that 「want  to\ndie」 meets "want to die".
pub fn fold_words(text: &str) -> String {
    fold(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The full normalization with its map back to the original.
pub fn normalize_mapped(original: &str, synonyms: &Synonyms) -> Mapped {
    let folded = fold_mapped(original);
    if synonyms.is_empty() {
        return folded;
    }
    let mut chars = Vec::with_capacity(folded.chars.len());
    let mut origin = Vec::with_capacity(folded.chars.len());
    let mut i = 0;
    while i < folded.chars.len() {
        let rest = &folded.chars[i..];
        match synonyms.variants.iter().find(|(v, _)| rest.starts_with(v)) {
            Some((variant, canonical)) => {
                let span = (folded.origin[i].0, folded.origin[i + variant.len() - 1].1);
                for &c in canonical {
                    chars.push(c);
                    origin.push(span);
                }
                i += variant.len();
            }
            None => {
                chars.push(folded.chars[i]);
                origin.push(folded.origin[i]);
                i += 1;
            }
        }
    }
    Mapped { chars, origin }
}

/// The text as the search stores and compares it.
pub fn normalize(original: &str, synonyms: &Synonyms) -> String {
    normalize_mapped(original, synonyms).text()
}

/// Every distinct piece of one or two characters of normalized text that holds no space: what a
/// term shorter than a trigram is looked up by.
pub fn grams(normalized: &str) -> Vec<String> {
    let chars: Vec<char> = normalized.chars().collect();
    let mut grams: Vec<String> = Vec::with_capacity(chars.len() * 2);
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            continue;
        }
        grams.push(c.to_string());
        if let Some(&next) = chars.get(i + 1)
            && next != ' '
        {
            grams.push([c, next].iter().collect());
        }
    }
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// The distinct 3-character pieces of a term, in the order they first appear.
pub fn trigrams(term: &str) -> Vec<String> {
    let chars: Vec<char> = term.chars().collect();
    let mut trigrams: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        let trigram: String = window.iter().collect();
        if !trigrams.contains(&trigram) {
            trigrams.push(trigram);
        }
    }
    trigrams
}

/// A query as terms: normalized, split on whitespace, each term once, at most `max` of them.
pub fn query_terms(query: &str, synonyms: &Synonyms, max: usize) -> Vec<String> {
    let normalized = normalize(query, synonyms);
    let mut terms: Vec<String> = Vec::new();
    for term in normalized.split_whitespace() {
        if !terms.iter().any(|t| t == term) && terms.len() < max {
            terms.push(term.to_owned());
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Synonyms {
        Synonyms::from_groups(["がん 癌 ガン", "抗がん剤 抗癌剤 抗ガン剤"])
    }

    #[test]
    fn width_case_and_katakana_fold() {
        let none = Synonyms::default();
        assert_eq!(normalize("ＡＢＣ Work", &none), "abc work");
        assert_eq!(normalize("ガン", &none), "がん");
        assert_eq!(
            normalize("ｶﾞﾝ", &none),
            "がん",
            "half-width katakana and its mark"
        );
        assert_eq!(
            normalize("カ\u{3099}ン", &none),
            "がん",
            "a combining voiced mark"
        );
        assert_eq!(normalize("ヴァイオリン", &none), "ゔぁいおりん");
        assert_eq!(normalize("コーヒー", &none), "こーひー");
        assert_eq!(normalize("①２", &none), "12");
        assert_eq!(normalize("仕事と治療", &none), "仕事と治療");
        assert_eq!(normalize("a\tb\nc\u{3000}d\u{a0}e", &none), "a b c d e");
    }

    #[test]
    fn equivalent_terms_fold_longest_first() {
        let s = seeded();
        assert_eq!(normalize("癌", &s), "がん");
        assert_eq!(normalize("ガン", &s), "がん");
        assert_eq!(normalize("抗癌剤の副作用", &s), "抗がん剤の副作用");
        assert_eq!(normalize("抗ガン剤", &s), "抗がん剤");
        assert_eq!(normalize("胃癌と肺ガン", &s), "胃がんと肺がん");
        assert_eq!(
            query_terms("  抗癌剤　ＧＡＮ 癌  がん ", &s, 10),
            ["抗がん剤", "gan", "がん"]
        );
        assert_eq!(query_terms("a b c", &s, 2), ["a", "b"]);
    }

    #[test]
    fn words_fold_with_single_spaces() {
        assert_eq!(fold_words("  Want\u{3000}TO\n\n die "), "want to die");
        assert_eq!(fold_words("ｼﾆﾀｲ"), "しにたい");
        assert_eq!(fold_words(" \t "), "");
    }

    #[test]
    fn grams_are_the_pieces_of_one_and_two_characters() {
        assert_eq!(grams("仕事 仕事の"), ["の", "事", "事の", "仕", "仕事"]);
        assert!(grams(" ").is_empty());
    }

    #[test]
    fn trigrams_are_distinct() {
        assert_eq!(trigrams("仕事の両立"), ["仕事の", "事の両", "の両立"]);
        assert_eq!(trigrams(&"あ".repeat(99)), ["あああ"]);
        assert_eq!(trigrams("abab"), ["aba", "bab"]);
        assert!(trigrams("ab").is_empty());
    }

    #[test]
    fn groups_are_folded_and_deduplicated() {
        assert_eq!(group_terms("がん、癌，ガン がん"), ["がん", "癌"]);
        assert_eq!(group_terms(" , "), Vec::<String>::new());
        let s = Synonyms::from_groups(["がん"]);
        assert!(s.is_empty(), "a group of one folds nothing");
    }

    #[test]
    fn every_character_maps_back_to_the_original() {
        let s = seeded();
        let original = "胃ｶﾞﾝと抗癌剤";
        let mapped = normalize_mapped(original, &s);
        assert_eq!(mapped.text(), "胃がんと抗がん剤");
        assert_eq!(mapped.chars.len(), mapped.origin.len());
        let text: String = mapped.chars.iter().collect();
        let at = text.chars().position(|c| c == 'が').expect("found");
        let (start, _) = mapped.origin[at];
        let (_, end) = mapped.origin[at + 1];
        assert_eq!(&original[start..end], "ｶﾞﾝ");
        let last = mapped.origin.last().expect("not empty");
        assert_eq!(&original[last.0..last.1], "抗癌剤");
    }
}
