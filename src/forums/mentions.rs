//! Mentions: `@表示名` in a post links to the member and tells them (by the notification mail),
//! unless either blocks the other or they may not see the post.
//!
//! A mention is `@` (not after an ASCII letter or digit, so e-mail addresses are not mentions;
//! Japanese text has no spaces, so any other character may precede it) followed by a display name up to the next space or
//! punctuation, so names with a space can be mentioned by their first word only when that is
//! a whole name. Code (fenced blocks and `inline code`) is left alone.

use crate::account::rules::{DisplayName, MAX_DISPLAY_NAME};
use crate::db::{self, Tx};

/// Characters that end a mentioned name (besides white space).
fn ends_name(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '、' | '。'
                | '，'
                | '．'
                | ','
                | '.'
                | '!'
                | '?'
                | '！'
                | '？'
                | '「'
                | '」'
                | '『'
                | '』'
                | '('
                | ')'
                | '（'
                | '）'
                | ':'
                | '：'
                | ';'
                | '；'
                | '`'
                | '['
                | ']'
                | '*'
                | '_'
                | '~'
                | '<'
                | '>'
                | '"'
                | '\''
        )
}

/// A span of the text that names someone: byte range of `@name` and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub name: String,
}

/// Every `@name` outside code, in order.
pub fn find(markdown: &str) -> Vec<Mention> {
    let mut mentions = Vec::new();
    let mut in_fence = false;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        } else if !in_fence && !line.starts_with("    ") && !line.starts_with('\t') {
            find_in_line(line, offset, &mut mentions);
        }
        offset += line.len();
    }
    mentions
}

fn find_in_line(line: &str, offset: usize, mentions: &mut Vec<Mention>) {
    let mut in_code = false;
    let mut previous: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            in_code = !in_code;
        } else if c == '@'
            && !in_code
            && previous.is_none_or(|p| !(p.is_ascii_alphanumeric() || "@._-+".contains(p)))
        {
            let start = i + c.len_utf8();
            let mut end = start;
            while let Some(&(j, next)) = chars.peek() {
                if ends_name(next) || next == '@' {
                    break;
                }
                end = j + next.len_utf8();
                chars.next();
            }
            let name = &line[start..end];
            let length = name.chars().count();
            if (1..=MAX_DISPLAY_NAME).contains(&length) {
                mentions.push(Mention {
                    start: offset + i,
                    end: offset + end,
                    name: name.to_owned(),
                });
            }
            previous = line[..end].chars().next_back();
            continue;
        }
        previous = Some(c);
    }
}

/// The lookup key of a mentioned name (as display names are compared), if it can be a name.
pub fn key(name: &str) -> Option<String> {
    DisplayName::parse(name).ok().map(|n| n.key)
}

/// The text with each mention of a known member made a link to their page; `known` maps a
/// name's key to the member's id and display name.
pub fn link(
    markdown: &str,
    mentions: &[Mention],
    known: &[(String, i64, String)],
    base: &str,
) -> String {
    let mut out = String::with_capacity(markdown.len() + mentions.len() * 40);
    let mut last = 0;
    for mention in mentions {
        let Some(key) = key(&mention.name) else {
            continue;
        };
        let Some((_, id, display_name)) = known.iter().find(|(k, _, _)| *k == key) else {
            continue;
        };
        out.push_str(&markdown[last..mention.start]);
        // The name as the member wrote it, with Markdown's own characters escaped.
        let shown: String = display_name
            .chars()
            .flat_map(|c| {
                if "\\[]()*_`~<>".contains(c) {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
        out.push_str(&format!("[@{shown}]({base}/u/{id})"));
        last = mention.end;
    }
    out.push_str(&markdown[last..]);
    out
}

/// A post's text with its mentions linked, and the ids of the members it mentions.
pub async fn resolve(
    tx: &mut Tx,
    base: &str,
    markdown: &str,
) -> Result<(String, Vec<i64>), sqlx::Error> {
    let mentions = find(markdown);
    let mut keys: Vec<String> = mentions.iter().filter_map(|m| key(&m.name)).collect();
    keys.sort();
    keys.dedup();
    let known = db::users::by_name_keys(tx.exec(), &keys).await?;
    let ids = known.iter().map(|(_, id, _)| *id).collect();
    Ok((link(markdown, &mentions, &known, base), ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        find(text).into_iter().map(|m| m.name).collect()
    }

    #[test]
    fn mentions_are_found_outside_code_and_addresses() {
        assert_eq!(names("@ひまわり さん、ありがとう"), vec!["ひまわり"]);
        assert_eq!(
            names("ありがとう、@はな。また@たろう！"),
            vec!["はな", "たろう"]
        );
        assert_eq!(names("mail me at hana@example.org"), Vec::<String>::new());
        assert_eq!(
            names("`@code` and\n```\n@fenced\n```\n@after"),
            vec!["after"]
        );
        assert_eq!(names("    @indented code"), Vec::<String>::new());
        assert_eq!(names("@@double @"), Vec::<String>::new());
    }

    #[test]
    fn known_mentions_become_links() {
        let text = "@ひまわり さんと @だれか さん";
        let mentions = find(text);
        let known = vec![(key("ひまわり").expect("a name"), 3, "ひまわり".to_owned())];
        assert_eq!(
            link(text, &mentions, &known, "http://h"),
            "[@ひまわり](http://h/u/3) さんと @だれか さん"
        );
        let tricky = vec![(key("a_b").expect("a name"), 4, "a_b".to_owned())];
        assert_eq!(
            link("@a_b", &find("@a_b"), &tricky, "http://h"),
            "@a_b",
            "underscore ends a name"
        );
    }
}
