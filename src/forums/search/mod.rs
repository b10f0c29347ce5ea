//! Search over topic titles and post bodies, for Japanese (no spaces between words) and other
//! text alike. Stored text and queries go through the same normalization ([`normalize`]); the
//! database finds the posts (see `db::search`), and each result shows the original text with the
//! matches marked ([`highlight`]). Results obey the same category visibility as every other read.

pub mod highlight;
pub mod normalize;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::role::Role;
use crate::auth::session::RequestContext;
use crate::db::{self, search::Hit};
use crate::error::AppResult;
use crate::forums::viewer;
use crate::web::layout::local_time;
use crate::web::layout::pages_for;
use crate::web::layout::{Layout, Pager};

/// Longer queries are refused with a message.
pub const MAX_QUERY: usize = 100;
/// Terms of a query that count; further ones are ignored.
pub const MAX_TERMS: usize = 10;
pub const RESULTS_PER_PAGE: i64 = 20;
/// Characters of a post shown around its first match.
const EXCERPT: usize = 120;

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    page: Option<i64>,
}

pub struct ResultItem {
    pub link: String,
    /// Escaped, with `<mark>`: safe to show as HTML.
    pub title_html: String,
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
    Terms(Vec<String>),
}

/// Checks a raw query and turns it into normalized terms.
pub fn check_query(raw: Option<&str>, synonyms: &normalize::Synonyms) -> Checked {
    let Some(raw) = raw else {
        return Checked::Absent;
    };
    if raw.trim().chars().count() > MAX_QUERY {
        return Checked::TooLong;
    }
    let terms = normalize::query_terms(raw, synonyms, MAX_TERMS);
    if terms.is_empty() {
        Checked::Empty
    } else {
        Checked::Terms(terms)
    }
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
        Checked::Terms(terms) => terms,
    };
    let who = viewer(&user);
    // Posts by members the reader blocks stay out of the results, as they are folded away in
    // topics.
    let blocked = db::blocks::blocked_ids(conn.exec(), user.id).await?;
    let mut page = query.page.unwrap_or(1).max(1);
    let mut hits = db::search::search(
        conn.exec(),
        who,
        &blocked,
        &terms,
        RESULTS_PER_PAGE,
        (page - 1).saturating_mul(RESULTS_PER_PAGE),
    )
    .await?;
    if hits.is_empty() && page > 1 {
        // Past the last page (the results changed, or a hand-made address): the first page.
        page = 1;
        hits = db::search::search(conn.exec(), who, &blocked, &terms, RESULTS_PER_PAGE, 0).await?;
    }
    drop(conn);
    let total = hits.first().map_or(0, |h| h.total);
    view.summary = Some(if total == 0 {
        t.f("search.nothing", &[("query", &shown_query)])
    } else {
        t.f("search.found", &[("count", &total.to_string())])
    });
    view.pager = pager(t, &shown_query, page, pages_for(total, RESULTS_PER_PAGE));
    view.results = hits
        .iter()
        .map(|hit| result_item(&app, t, hit, &terms, &synonyms))
        .collect();
    Ok(view)
}

fn result_item(
    app: &AppState,
    t: crate::i18n::Tr,
    hit: &Hit,
    terms: &[String],
    synonyms: &normalize::Synonyms,
) -> ResultItem {
    ResultItem {
        // The post's stable address, which finds its page in the topic.
        link: format!("/p/{}", hit.post_id),
        title_html: highlight::highlight_all(&hit.topic_title, terms, synonyms),
        excerpt_html: highlight::excerpt(&hit.body_markdown, terms, synonyms, EXCERPT),
        meta: t.f(
            "search.meta",
            &[
                ("category", &hit.category_name),
                ("name", &hit.author_name),
                ("time", &local_time(&app.config, hit.created_at)),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked() {
        let s = normalize::Synonyms::from_groups(["がん 癌"]);
        assert_eq!(check_query(None, &s), Checked::Absent);
        assert_eq!(check_query(Some("  　 "), &s), Checked::Empty);
        assert_eq!(check_query(Some(&"あ".repeat(101)), &s), Checked::TooLong);
        assert_eq!(
            check_query(Some(&"あ".repeat(100)), &s),
            Checked::Terms(vec!["あ".repeat(100)])
        );
        assert_eq!(
            check_query(Some("癌 Work"), &s),
            Checked::Terms(vec!["がん".into(), "work".into()])
        );
    }

    #[test]
    fn page_links_keep_the_query() {
        assert_eq!(
            page_link("抗がん剤 & x", 2),
            "/search?q=%E6%8A%97%E3%81%8C%E3%82%93%E5%89%A4+%26+x&page=2"
        );
    }
}
