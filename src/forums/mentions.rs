//! Mentions: `@表示名` in a post links to the member and tells them (by the notification mail),
//! unless either blocks the other or they may not see the post.
//!
//! A mention is `@` or `＠` (not after an ASCII letter or digit, so e-mail addresses are not
//! mentions; Japanese text has no spaces, so any other character may precede it) followed by
//! the LONGEST existing display name there (names may contain spaces; full-width and half-width
//! forms compare alike, as display names do), which must end the text, or be followed by white
//! space, punctuation or an honorific (`@すずきさん`). Code (fenced blocks and `inline code`) is
//! left alone. The cost is bounded whatever the body: at most [`MAX_MENTIONS`] `@` signs are
//! looked at, each with at most [`MAX_DISPLAY_NAME`] candidate names, all looked up in one query.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::session::RequestContext;
use crate::db::{self, Tx};
use crate::domain::account::{DisplayName, MAX_DISPLAY_NAME, MIN_DISPLAY_NAME, name_key};
use crate::error::{AppError, AppResult};
use crate::web::input::Query;

/// The most `@` signs in one post that may mention someone; later ones stay plain text.
pub const MAX_MENTIONS: usize = 20;

/// The most names suggested for what someone has typed after `@`.
const SUGGESTIONS: i64 = 8;

/// Words of address that may follow a name: 「@すずきさん」 mentions すずき.
const HONORIFICS: [&str; 6] = ["さん", "様", "さま", "くん", "ちゃん", "先生"];

/// Characters that end a mentioned name (besides white space).
fn ends_name(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '、' | '。'
                | '，'
                | '．'
                | '！'
                | '？'
                | '「'
                | '」'
                | '『'
                | '』'
                | '（'
                | '）'
                | '：'
                | '；'
                | '…'
                | '〜'
                | '～'
        )
}

fn is_at_sign(c: char) -> bool {
    c == '@' || c == '＠'
}

/// Whether a name may end just before `rest`: at the end, before a space or punctuation, or
/// before an honorific (in any width).
fn name_may_end_before(rest: &str) -> bool {
    let Some(next) = rest.chars().next() else {
        return true;
    };
    if ends_name(next) || is_at_sign(next) {
        return true;
    }
    let start: String = rest.chars().take(3).nfkc().collect();
    HONORIFICS.iter().any(|h| start.starts_with(h))
}

/// An `@` that may mention someone: the byte offset of the sign, and each name that could
/// follow it as (byte offset of its end, lookup key), shortest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub start: usize,
    pub candidates: Vec<(usize, String)>,
}

/// Every `@` outside code that could start a mention, in order, at most [`MAX_MENTIONS`].
pub fn find(markdown: &str) -> Vec<Mention> {
    let mut mentions = Vec::new();
    let mut in_fence = false;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        if mentions.len() >= MAX_MENTIONS {
            break;
        }
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

/// Whether `@` may start a mention after `previous`: not inside an address or a word.
fn may_follow(previous: Option<char>) -> bool {
    previous.is_none_or(|p| {
        let p = std::iter::once(p).nfkc().next().unwrap_or(p);
        !(p.is_ascii_alphanumeric() || "@._-+/".contains(p))
    })
}

fn find_in_line(line: &str, offset: usize, mentions: &mut Vec<Mention>) {
    let mut in_code = false;
    let mut previous: Option<char> = None;
    for (i, c) in line.char_indices() {
        if mentions.len() >= MAX_MENTIONS {
            return;
        }
        if c == '`' {
            in_code = !in_code;
        } else if is_at_sign(c) && !in_code && may_follow(previous) {
            let candidates = candidates(line, i + c.len_utf8());
            if !candidates.is_empty() {
                mentions.push(Mention {
                    start: offset + i,
                    candidates: candidates
                        .into_iter()
                        .map(|(end, key)| (offset + end, key))
                        .collect(),
                });
            }
        }
        previous = Some(c);
    }
}

/// The names that could follow an `@` whose name starts at byte `from` of `line`: each prefix
/// of up to [`MAX_DISPLAY_NAME`] characters that is a valid name and may end where it does.
fn candidates(line: &str, from: usize) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut length = 0;
    for (j, c) in line[from..].char_indices() {
        if c == '\n' || c == '`' || is_at_sign(c) || length == MAX_DISPLAY_NAME {
            break;
        }
        length += 1;
        let end = from + j + c.len_utf8();
        let name = &line[from..end];
        if length >= MIN_DISPLAY_NAME
            && !c.is_whitespace()
            && !name.starts_with(char::is_whitespace)
            && name_may_end_before(&line[end..])
            && let Some(key) = key(name)
        {
            found.push((end, key));
        }
    }
    found
}

/// The lookup key of a mentioned name (as display names are compared), if it can be a name.
pub fn key(name: &str) -> Option<String> {
    DisplayName::parse(name).ok().map(|n| n.key)
}

/// The text with each mention of a known member made a link to their page (the longest known
/// name at each `@`); `known` maps a name's key to the member's id and display name. Returns the
/// text and the ids mentioned, each once.
pub fn link(
    markdown: &str,
    mentions: &[Mention],
    known: &[(String, i64, String)],
    base: &str,
) -> (String, Vec<i64>) {
    let mut out = String::with_capacity(markdown.len() + mentions.len() * 40);
    let mut ids = Vec::new();
    let mut last = 0;
    for mention in mentions {
        let longest = mention.candidates.iter().rev().find_map(|(end, key)| {
            known
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, id, name)| (*end, *id, name))
        });
        let Some((end, id, display_name)) = longest else {
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
        last = end;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    out.push_str(&markdown[last..]);
    (out, ids)
}

/// A post's text with its mentions linked, and the ids of the members it mentions.
pub async fn resolve(
    tx: &mut Tx,
    base: &str,
    markdown: &str,
) -> Result<(String, Vec<i64>), sqlx::Error> {
    let mentions = find(markdown);
    let mut keys: Vec<String> = mentions
        .iter()
        .flat_map(|m| m.candidates.iter().map(|(_, key)| key.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    let known = db::users::by_name_keys(tx.exec(), &keys).await?;
    Ok(link(markdown, &mentions, &known, base))
}

#[derive(Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    q: String,
}

/// Names suggested while typing a mention, and how to label the list (in the reader's language).
#[derive(Serialize)]
pub struct Suggestions {
    label: String,
    names: Vec<String>,
}

/// `GET /members/suggest?q=すず`: display names of members the writer could mention, starting
/// with what was typed after `@`, for the composer's script.
pub async fn suggest(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SuggestQuery>,
) -> AppResult<Json<Suggestions>> {
    if !app.limits.allow_suggestion(user.id) {
        return Err(AppError::TooManyRequests);
    }
    let typed: String = query.q.chars().take(MAX_DISPLAY_NAME).collect();
    let prefix = name_key(&typed);
    let names = if prefix.is_empty() {
        Vec::new()
    } else {
        let mut conn = app.db.conn().await?;
        db::users::names_starting(conn.exec(), user.id, &prefix, SUGGESTIONS).await?
    };
    Ok(Json(Suggestions {
        label: ctx.tr().s("mentions.suggestions").into_owned(),
        names,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> Vec<(String, i64, String)> {
        names
            .iter()
            .zip(1..)
            .map(|(name, id)| (key(name).expect("a name"), id, (*name).to_owned()))
            .collect()
    }

    fn linked(text: &str, names: &[&str]) -> String {
        link(text, &find(text), &known(names), "http://h").0
    }

    #[test]
    fn mentions_are_found_outside_code_and_addresses() {
        let names = ["ひまわり", "はな", "たろう", "code", "fenced", "after"];
        assert_eq!(
            linked("@ひまわり さん、ありがとう", &names),
            "[@ひまわり](http://h/u/1) さん、ありがとう"
        );
        assert_eq!(
            linked("ありがとう、@はな。また@たろう！", &names),
            "ありがとう、[@はな](http://h/u/2)。また[@たろう](http://h/u/3)！"
        );
        assert_eq!(
            linked("mail me at hana@example.org", &names),
            "mail me at hana@example.org"
        );
        assert_eq!(
            linked("`@code` and\n```\n@fenced\n```\n@after", &names),
            "`@code` and\n```\n@fenced\n```\n[@after](http://h/u/6)"
        );
        assert_eq!(
            linked("    @はな indented code", &names),
            "    @はな indented code"
        );
        assert_eq!(linked("@@はな @", &names), "@@はな @");
        assert_eq!(
            linked("@はなこ", &names),
            "@はなこ",
            "a longer word is not はな"
        );
    }

    #[test]
    fn honorifics_widths_and_spaces() {
        let names = ["すずき", "Sun Flower", "すずきさん一家"];
        for (text, want) in [
            (
                "@すずきさん、こんにちは",
                "[@すずき](http://h/u/1)さん、こんにちは",
            ),
            ("＠すずき様", "[@すずき](http://h/u/1)様"),
            ("@すずき先生！", "[@すずき](http://h/u/1)先生！"),
            (
                "＠ｓｕｎ　ｆｌｏｗｅｒさま",
                "[@Sun Flower](http://h/u/2)さま",
            ),
            ("@Sun Flower, hello", "[@Sun Flower](http://h/u/2), hello"),
            ("@すずきさん一家へ。", "[@すずき](http://h/u/1)さん一家へ。"),
            ("@すずきさん一家。", "[@すずきさん一家](http://h/u/3)。"),
        ] {
            assert_eq!(linked(text, &names), want, "{text}");
        }
    }

    #[test]
    fn markdown_characters_in_names_are_escaped() {
        assert_eq!(linked("@a_b さん", &["a_b"]), "[@a\\_b](http://h/u/1) さん");
    }

    #[test]
    fn the_cost_is_bounded_whatever_the_body() {
        assert!(find(&"@".repeat(10_000)).is_empty());
        assert!(find(&"＠".repeat(10_000)).is_empty());
        let many = "@ながいなまえのひと ".repeat(2_000);
        let found = find(&many);
        assert_eq!(found.len(), MAX_MENTIONS);
        assert!(found.iter().all(|m| m.candidates.len() <= MAX_DISPLAY_NAME));
        let long = format!("@{}", "あ".repeat(10_000));
        assert!(
            find(&long)
                .iter()
                .all(|m| m.candidates.len() <= MAX_DISPLAY_NAME)
        );
    }
}
