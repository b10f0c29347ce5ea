//! Search over topic titles and post bodies, for Japanese (no spaces between words) and other
//! text alike. Stored text and queries go through the same normalization ([`normalize`]); the
//! database finds the posts (see `db::search`), and each result shows the original text with the
//! matches marked ([`highlight`]). Results obey the same category visibility as every other read.
//! Results come one per topic, with the topic's matching posts under it.
//!
//! A search's cost is bounded whatever the text: terms that are mostly repetition are refused
//! here as too broad, and the database looks at a bounded number of posts within a time limit
//! (see `db::search`); past it, the reader is asked to narrow the search.

pub mod highlight;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::session::RequestContext;
use crate::db::{self, search::Outcome, search::PageOf, search::TopicHit};
use crate::domain::role::Role;
use crate::error::AppResult;
use crate::forums::viewer;
use crate::jobs;
use crate::markdown;
use crate::text;
use crate::web::input::Query;
use crate::web::layout::local_time;
use crate::web::layout::pages_for;
use crate::web::layout::{Layout, Pager};

/// Longer queries are refused with a message.
pub const MAX_QUERY: usize = 100;
/// Terms of a query that count; further ones are ignored.
pub const MAX_TERMS: usize = 10;
/// Topics on a page of results.
pub const RESULTS_PER_PAGE: i64 = 20;
/// Matching posts shown under each topic; the others are counted.
pub const POSTS_PER_TOPIC: i64 = 5;
/// Characters of a post shown around its first match.
const EXCERPT: usize = 120;
/// A term this long (in trigrams) or longer that is mostly repetition ("ああああ…", "abab…") is
/// refused as too broad: it says little more than its few distinct trigrams do.
const REPETITION_MIN_TRIGRAMS: usize = 6;

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    page: Option<i64>,
}

/// One topic found, with its matching posts under it.
pub struct ResultItem {
    pub link: String,
    /// Escaped, with `<mark>`: safe to show as HTML.
    pub title_html: String,
    pub meta: String,
    pub posts: Vec<PostItem>,
    /// How many more matching posts the topic has, when not all are shown.
    pub more: Option<String>,
}

/// One matching post under its topic.
pub struct PostItem {
    pub link: String,
    /// Escaped, with `<mark>`: safe to show as HTML.
    pub excerpt_html: String,
    pub meta: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/search.html")]
pub struct SearchView {
    layout: Layout,
    query: String,
    /// A problem with the query, worded for the reader.
    problem: Option<String>,
    /// "N posts found" or "nothing found", once a query ran.
    summary: Option<String>,
    /// That only the newest matching posts were looked at, when so.
    capped: Option<String>,
    results: Vec<ResultItem>,
    pager: Pager,
    is_coordinator: bool,
    hint: String,
}

/// What became of the query the reader typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// No query yet: just the search box.
    Absent,
    Empty,
    TooLong,
    /// A term is mostly one piece repeated: it would match everything that repeats it.
    TooBroad,
    Terms(Vec<String>),
}

/// Whether a normalized term is mostly repetition: long, with few distinct trigrams.
fn repetitive(term: &str) -> bool {
    let trigrams = term.chars().count().saturating_sub(2);
    trigrams >= REPETITION_MIN_TRIGRAMS && text::trigrams(term).len() * 2 < trigrams
}

/// Checks a raw query and turns it into normalized terms.
pub fn check_query(raw: Option<&str>, synonyms: &text::Synonyms) -> Checked {
    let Some(raw) = raw else {
        return Checked::Absent;
    };
    if raw.trim().chars().count() > MAX_QUERY {
        return Checked::TooLong;
    }
    let terms = text::query_terms(raw, synonyms, MAX_TERMS);
    if terms.is_empty() {
        Checked::Empty
    } else if terms.iter().any(|term| repetitive(term)) {
        Checked::TooBroad
    } else {
        Checked::Terms(terms)
    }
}

/// The query's terms, each with its forms: as `terms` (read under the equivalent terms in
/// force), and, when `earlier` sets of terms are given, as read under each of them.
pub fn query_forms(
    raw: &str,
    synonyms: &text::Synonyms,
    earlier: &[text::Synonyms],
    terms: &[String],
) -> Vec<Vec<String>> {
    if earlier.is_empty() {
        return terms.iter().map(|t| vec![t.clone()]).collect();
    }
    // Equivalent terms hold no spaces: reading each piece of the folded query alone gives
    // the same as reading the whole.
    let pieces = text::query_terms(raw, &text::Synonyms::default(), MAX_TERMS);
    let mut forms: Vec<Vec<String>> = Vec::new();
    for piece in pieces {
        let mut these: Vec<String> = Vec::new();
        for set in std::iter::once(synonyms).chain(earlier) {
            let form = text::normalize(&piece, set);
            if !form.is_empty() && !these.contains(&form) {
                these.push(form);
            }
        }
        if !these.is_empty() && !forms.contains(&these) {
            forms.push(these);
        }
    }
    forms
}

/// The address of one page of results for `query`.
fn page_link(query: &str, page: i64) -> String {
    let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    format!("/search?q={q}&page={page}")
}

fn pager(t: crate::i18n::Tr, query: &str, page: i64, pages: i64) -> Pager {
    Pager {
        prev: (page > 1).then(|| page_link(query, page - 1)),
        next: (page < pages).then(|| page_link(query, page + 1)),
        position: t.f(
            "pager.position",
            &[("page", &page.to_string()), ("pages", &pages.to_string())],
        ),
        pages,
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SearchQuery>,
) -> AppResult<SearchView> {
    let t = ctx.tr();
    let raw = query.q.as_deref();
    let shown_query = raw
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_QUERY * 2)
        .collect::<String>();
    let mut conn = app.db.conn().await?;
    let synonyms = db::search::synonyms(conn.exec()).await?;
    let mut view = SearchView {
        layout: Layout::titled(&app, &ctx, "search.title"),
        query: shown_query.clone(),
        problem: None,
        summary: None,
        capped: None,
        results: Vec::new(),
        pager: pager(t, &shown_query, 1, 1),
        is_coordinator: user.role == Role::Coordinator,
        hint: t.f("search.hint", &[("max", &MAX_QUERY.to_string())]),
    };
    let terms = match check_query(raw, &synonyms) {
        Checked::Absent => return Ok(view),
        Checked::Empty => {
            view.problem = Some(t.s("search.empty").into_owned());
            return Ok(view);
        }
        Checked::TooLong => {
            view.problem = Some(t.f("search.too_long", &[("max", &MAX_QUERY.to_string())]));
            return Ok(view);
        }
        Checked::TooBroad => {
            view.problem = Some(t.s("search.too_broad").into_owned());
            return Ok(view);
        }
        Checked::Terms(terms) => terms,
    };
    let who = viewer(&user);
    // Posts by members the reader blocks stay out of the results, as they are folded away in
    // topics.
    let blocked = db::blocks::blocked_ids(conn.exec(), user.id).await?;
    let mut page = query.page.unwrap_or(1).max(1);
    let of = |page: i64| PageOf {
        topics: RESULTS_PER_PAGE,
        offset: (page - 1).saturating_mul(RESULTS_PER_PAGE),
        posts_per_topic: POSTS_PER_TOPIC,
    };
    // While the search text is being re-normalized, posts not yet reached still hold text
    // normalized with the terms as they were: the query is read under those too.
    let earlier = jobs::reindex::earlier_synonyms(conn.exec()).await?;
    let forms = query_forms(raw.unwrap_or(""), &synonyms, &earlier, &terms);
    let mut outcome =
        db::search::search_forms(conn.exec(), who, &blocked, &forms, of(page)).await?;
    if page > 1 && matches!(&outcome, Outcome::Found(found) if found.topics.is_empty()) {
        // Past the last page (the results changed, or a hand-made address): the first page.
        page = 1;
        outcome = db::search::search_forms(conn.exec(), who, &blocked, &forms, of(page)).await?;
    }
    drop(conn);
    let found = match outcome {
        Outcome::Found(found) => found,
        Outcome::TooSlow => {
            view.problem = Some(t.s("search.too_broad").into_owned());
            return Ok(view);
        }
    };
    let count = found.post_total.to_string();
    view.summary = Some(match (found.post_total, found.capped) {
        (0, _) => t.f("search.nothing", &[("query", &shown_query)]),
        (_, false) => t.count("search.found", found.post_total, &[]),
        (_, true) => t.f("search.found_at_least", &[("count", &count)]),
    });
    view.capped = found.capped.then(|| {
        t.f(
            "search.capped",
            &[("count", &db::search::MAX_CANDIDATES.to_string())],
        )
    });
    view.pager = pager(
        t,
        &shown_query,
        page,
        pages_for(found.topic_total, RESULTS_PER_PAGE),
    );
    view.results = found
        .topics
        .iter()
        .map(|topic| result_item(&app, t, topic, &terms, &synonyms))
        .collect();
    Ok(view)
}

fn result_item(
    app: &AppState,
    t: crate::i18n::Tr,
    topic: &TopicHit,
    terms: &[String],
    synonyms: &text::Synonyms,
) -> ResultItem {
    let hidden = topic.matches - topic.posts.len() as i64;
    ResultItem {
        link: format!("/t/{}", topic.topic_id),
        title_html: highlight::highlight_all(&topic.topic_title, terms, synonyms),
        meta: t.count(
            "search.topic_meta",
            topic.matches,
            &[("category", &topic.category_name)],
        ),
        posts: topic
            .posts
            .iter()
            .map(|post| PostItem {
                // The post's stable address, which finds its page in the topic.
                link: format!("/p/{}", post.post_id),
                // The text as a reader sees it, not its Markdown.
                excerpt_html: highlight::excerpt(
                    &markdown::plain_text(&post.body_markdown),
                    terms,
                    synonyms,
                    EXCERPT,
                ),
                meta: t.f(
                    "search.meta",
                    &[
                        ("name", &post.author_name),
                        ("time", &local_time(&app.site, post.created_at)),
                    ],
                ),
            })
            .collect(),
        more: (hidden > 0).then(|| t.count("search.more", hidden, &[])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn during_a_run_a_query_has_the_forms_of_each_set_of_terms() {
        let now = text::Synonyms::from_groups(["腫瘍 しゅよう"]);
        let before = text::Synonyms::default();
        let terms = text::query_terms("シュヨウ マーカー", &now, MAX_TERMS);
        assert_eq!(terms, ["腫瘍", "まーかー"]);
        assert_eq!(
            query_forms("シュヨウ マーカー", &now, &[], &terms),
            [vec!["腫瘍".to_owned()], vec!["まーかー".to_owned()]]
        );
        assert_eq!(
            query_forms("シュヨウ マーカー", &now, &[before], &terms),
            [
                vec!["腫瘍".to_owned(), "しゅよう".to_owned()],
                vec!["まーかー".to_owned()]
            ]
        );
    }

    #[test]
    fn queries_are_checked() {
        let s = text::Synonyms::from_groups(["がん 癌"]);
        assert_eq!(check_query(None, &s), Checked::Absent);
        assert_eq!(check_query(Some("  　 "), &s), Checked::Empty);
        assert_eq!(check_query(Some(&"あ".repeat(101)), &s), Checked::TooLong);
        let longest: String = ('一'..).take(100).collect();
        assert_eq!(
            check_query(Some(&longest), &s),
            Checked::Terms(vec![longest.clone()])
        );
        assert_eq!(
            check_query(Some("癌 Work"), &s),
            Checked::Terms(vec!["がん".into(), "work".into()])
        );
    }

    #[test]
    fn repetitive_terms_are_too_broad() {
        let s = text::Synonyms::default();
        for query in [
            "あ".repeat(99),
            "あい".repeat(20),
            format!("{}い", "あ".repeat(30)),
        ] {
            assert_eq!(check_query(Some(&query), &s), Checked::TooBroad, "{query}");
        }
        for query in [
            "仕事の両立",
            "ありがとうありがとう",
            "わーーーーい",
            "ははは",
            "仕事 仕事",
        ] {
            assert!(
                matches!(check_query(Some(query), &s), Checked::Terms(_)),
                "{query}"
            );
        }
    }

    #[test]
    fn page_links_keep_the_query() {
        assert_eq!(
            page_link("抗がん剤 & x", 2),
            "/search?q=%E6%8A%97%E3%81%8C%E3%82%93%E5%89%A4+%26+x&page=2"
        );
    }
}
