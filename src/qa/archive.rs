//! The archive (`/qa/archive`): answers published to members (shared questions of slots that
//! publish their answers), newest first, narrowed by theme and expert and searched with the
//! forums' Japanese search terms (the same normalization and equivalent terms), with every
//! visibility rule of `db::qa::ANSWER_SHOWN`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

use super::slot::{AnswerCard, Audience};
use crate::AppState;
use crate::auth::session::{CurrentUser, RequestContext};
use crate::db;
use crate::db::qa::ArchiveFilter;
use crate::error::AppResult;
use crate::forums::search::{Checked, check_query};
use crate::web::input::Query;
use crate::web::layout::{Layout, Pager, pages_for};

const PER_PAGE: i64 = 20;
/// Longest theme a filter takes (themes are short).
const MAX_THEME: usize = 200;

#[derive(Deserialize, Default)]
pub struct ArchiveQuery {
    q: Option<String>,
    theme: Option<String>,
    expert: Option<i64>,
    page: Option<i64>,
}

pub struct Choice<T> {
    pub value: T,
    pub label: String,
    pub chosen: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/archive.html")]
pub struct ArchiveView {
    layout: Layout,
    query: String,
    themes: Vec<Choice<String>>,
    experts: Vec<Choice<i64>>,
    problem: Option<String>,
    summary: String,
    cards: Vec<String>,
    pager: Pager,
}

fn page_base(query: &str, theme: Option<&str>, expert: Option<i64>) -> String {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    link.append_pair("q", query);
    if let Some(theme) = theme {
        link.append_pair("theme", theme);
    }
    if let Some(expert) = expert {
        link.append_pair("expert", &expert.to_string());
    }
    format!("/qa/archive?{}", link.finish())
}

/// `GET /qa/archive`.
pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ArchiveQuery>,
) -> AppResult<ArchiveView> {
    let t = ctx.tr();
    let now = db::now();
    let theme = query
        .theme
        .as_deref()
        .filter(|theme| !theme.is_empty() && theme.chars().count() <= MAX_THEME);
    let raw = query.q.as_deref().filter(|q| !q.trim().is_empty());
    let shown_query: String = raw.unwrap_or("").trim().chars().take(200).collect();
    let mut conn = app.db.conn().await?;
    let mut exec = conn.exec();
    let synonyms = db::search::synonyms(exec.again()).await?;
    let (terms, problem) = match check_query(raw, &synonyms) {
        Checked::Absent => (Vec::new(), None),
        Checked::Empty => (Vec::new(), Some(t.s("search.empty").into_owned())),
        Checked::TooLong => (
            Vec::new(),
            Some(t.f(
                "search.too_long",
                &[("max", &crate::forums::search::MAX_QUERY.to_string())],
            )),
        ),
        Checked::TooBroad => (Vec::new(), Some(t.s("search.too_broad").into_owned())),
        Checked::Terms(terms) => (terms, None),
    };
    let (themes, experts) = db::qa::archive_choices(exec.again()).await?;
    // While the search text is being re-normalized, answers not yet reached still hold text
    // normalized with the terms as they were: the query is read under those too.
    let earlier = crate::jobs::reindex::earlier_synonyms(exec.again()).await?;
    let forms = crate::forums::search::query_forms(raw.unwrap_or(""), &synonyms, &earlier, &terms);
    let filter = ArchiveFilter {
        expert_id: query.expert,
        theme,
        terms: &forms,
    };
    let page = query.page.unwrap_or(1).clamp(1, 10_000);
    let (rows, total) = if problem.is_some() {
        (Vec::new(), 0)
    } else {
        let offset = (page - 1) * PER_PAGE;
        db::qa::archive(exec, user.id, now, &filter, PER_PAGE, offset).await?
    };
    drop(conn);
    let cards = rows
        .iter()
        .map(|row| AnswerCard::new(&app, t, row, Audience::Member).html())
        .collect();
    let base = page_base(&shown_query, theme, query.expert);
    Ok(ArchiveView {
        layout: Layout::titled(&app, &ctx, "qa.archive.title"),
        query: shown_query,
        themes: themes
            .into_iter()
            .map(|value| Choice {
                chosen: Some(value.as_str()) == theme,
                label: value.clone(),
                value,
            })
            .collect(),
        experts: experts
            .into_iter()
            .map(|(id, name)| Choice {
                value: id,
                label: name,
                chosen: Some(id) == query.expert,
            })
            .collect(),
        problem,
        summary: t.count("qa.archive.found", total, &[]),
        cards,
        pager: Pager::new(t, &base, page, pages_for(total, PER_PAGE)),
    })
}
