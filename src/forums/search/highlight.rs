//! Excerpts with the matches marked, built safely: the original text is escaped piece by piece and
//! only the `<mark>` tags added here are HTML. A post's stored HTML is never used.

use crate::text::{Synonyms, normalize_mapped};

/// Escapes text for an HTML element or attribute.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Byte ranges of `original` where any of `terms` (normalized) occurs, sorted and merged.
pub fn match_ranges(original: &str, terms: &[String], synonyms: &Synonyms) -> Vec<(usize, usize)> {
    let mapped = normalize_mapped(original, synonyms);
    let mut ranges = Vec::new();
    for term in terms {
        let term: Vec<char> = term.chars().collect();
        if term.is_empty() || term.len() > mapped.chars.len() {
            continue;
        }
        for start in 0..=mapped.chars.len() - term.len() {
            if mapped.chars[start..start + term.len()] == term[..] {
                ranges.push((
                    mapped.origin[start].0,
                    mapped.origin[start + term.len() - 1].1,
                ));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `original[from..to]` escaped, with the parts inside `ranges` wrapped in `<mark>`.
fn marked(original: &str, from: usize, to: usize, ranges: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = from;
    for &(start, end) in ranges {
        let (start, end) = (start.max(from), end.min(to));
        if start >= end || start < at {
            continue;
        }
        escape(&original[at..start], &mut out);
        out.push_str("<mark>");
        escape(&original[start..end], &mut out);
        out.push_str("</mark>");
        at = end;
    }
    escape(&original[at..to], &mut out);
    out
}

/// The whole text, escaped, with the matches marked (for titles).
pub fn highlight_all(original: &str, terms: &[String], synonyms: &Synonyms) -> String {
    let ranges = match_ranges(original, terms, synonyms);
    marked(original, 0, original.len(), &ranges)
}

/// Characters of context shown before the first match.
const LEAD: usize = 30;

/// About `width` characters of the text around its first match (or its start), line breaks as
/// spaces, escaped, matches marked, with 「…」 where it was cut.
pub fn excerpt(original: &str, terms: &[String], synonyms: &Synonyms, width: usize) -> String {
    let flat: String = original
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let ranges = match_ranges(&flat, terms, synonyms);
    let first = ranges.first().map_or(0, |r| r.0);
    let boundaries: Vec<usize> = flat.char_indices().map(|(i, _)| i).collect();
    let first_char = boundaries.partition_point(|&b| b < first);
    let start_char = first_char.saturating_sub(LEAD);
    let end_char = (start_char + width).min(boundaries.len());
    let from = boundaries.get(start_char).copied().unwrap_or(flat.len());
    let to = boundaries.get(end_char).copied().unwrap_or(flat.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&marked(&flat, from, to, &ranges));
    if to < flat.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_in_the_original_and_html_is_escaped() {
        let s = Synonyms::from_groups(["がん 癌"]);
        let terms = vec!["がん".to_owned()];
        assert_eq!(
            highlight_all("<b>胃癌</b> & ガン", &terms, &s),
            "&lt;b&gt;胃<mark>癌</mark>&lt;/b&gt; &amp; <mark>ガン</mark>"
        );
    }

    #[test]
    fn an_excerpt_is_cut_around_the_first_match() {
        let s = Synonyms::default();
        let text = format!("{}仕事の話\n{}", "あ".repeat(100), "い".repeat(100));
        let terms = vec!["仕事".to_owned()];
        let out = excerpt(&text, &terms, &s, 60);
        assert!(out.starts_with('…') && out.ends_with('…'), "{out}");
        assert!(out.contains("<mark>仕事</mark>の話 い"), "{out}");
        assert_eq!(out.chars().filter(|&c| c == 'あ').count(), LEAD);
        let none = excerpt("短い文", &terms, &s, 60);
        assert_eq!(none, "短い文");
    }

    #[test]
    fn overlapping_terms_merge() {
        let s = Synonyms::default();
        let terms = vec!["仕事".to_owned(), "事と".to_owned()];
        assert_eq!(
            highlight_all("仕事と治療", &terms, &s),
            "<mark>仕事と</mark>治療"
        );
    }
}
