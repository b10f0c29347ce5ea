//! Equivalent search terms: coordinators list, add and remove groups of terms that mean the same
//! (「がん」「癌」「ガン」). A change queues the re-normalizing of every post's search text as a
//! background job (`jobs::reindex`); this page shows its progress and refreshes by itself while
//! it runs.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::admin::service;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::jobs;
use crate::text::group_terms;
use crate::web::layout::Layout;
use crate::web::progress::JobView;

/// Characters in one term.
pub const MAX_TERM: usize = 20;
/// Terms in one group.
pub const MAX_GROUP: usize = 10;

pub struct GroupRow {
    pub id: i64,
    pub terms: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/search_terms.html")]
pub struct SearchTermsView {
    layout: Layout,
    groups: Vec<GroupRow>,
    terms: String,
    errors: Vec<String>,
    terms_hint: String,
    job: Option<JobView>,
}

async fn view(
    app: &AppState,
    ctx: &RequestContext,
    terms: String,
    errors: Vec<String>,
) -> AppResult<SearchTermsView> {
    let mut conn = app.db.conn().await?;
    let groups = db::search::term_groups(conn.exec())
        .await?
        .into_iter()
        .map(|g| GroupRow {
            id: g.id,
            terms: g.terms.split_whitespace().map(str::to_owned).collect(),
        })
        .collect();
    let job = jobs::reindex::latest(conn.exec())
        .await?
        .map(|status| JobView::of(app, ctx.tr(), &status));
    Ok(SearchTermsView {
        layout: Layout::titled(app, ctx, "search_terms.title"),
        groups,
        terms,
        errors,
        terms_hint: ctx
            .tr()
            .f("search_terms.terms_hint", &[("max", &MAX_TERM.to_string())]),
        job,
    })
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<SearchTermsView> {
    view(&app, &ctx, String::new(), Vec::new()).await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    terms: String,
}

/// The terms as typed (one of each folded form, in order), or why they cannot be a group.
/// `taken` are the folded terms of the existing groups.
pub fn check_group(t: Tr, raw: &str, taken: &[String]) -> Result<Vec<String>, String> {
    let mut typed: Vec<String> = Vec::new();
    let mut folded: Vec<String> = Vec::new();
    for term in raw.split(|c: char| c.is_whitespace() || matches!(c, ',' | '、' | '，')) {
        let Some(key) = group_terms(term).into_iter().next() else {
            continue;
        };
        if term.chars().count() > MAX_TERM {
            return Err(t.f("search_terms.too_long", &[("max", &MAX_TERM.to_string())]));
        }
        if folded.contains(&key) {
            continue;
        }
        if taken.contains(&key) {
            return Err(t.f("search_terms.taken", &[("term", term)]));
        }
        folded.push(key);
        typed.push(term.to_owned());
    }
    if folded.len() < 2 {
        return Err(t.s("search_terms.too_few").into_owned());
    }
    if folded.len() > MAX_GROUP {
        return Err(t.f("search_terms.too_many", &[("max", &MAX_GROUP.to_string())]));
    }
    Ok(typed)
}

pub async fn add(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    app.writes.check(&user, WriteKind::Setting)?;
    let added =
        service::add_term_group(&app, user.id, |taken| check_group(t, &form.terms, taken)).await?;
    match added {
        Ok(()) => {}
        Err(error) => {
            let page = view(&app, &ctx, form.terms, vec![error]).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    SessionData(&ctx.session)
        .set_flash(t.s("search_terms.added").into_owned())
        .await?;
    Ok(Redirect::to("/admin/search-terms").into_response())
}

pub async fn remove(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let t = ctx.tr();
    app.writes.check(&user, WriteKind::Setting)?;
    service::remove_term_group(&app, user.id, id).await?;
    SessionData(&ctx.session)
        .set_flash(t.s("search_terms.removed").into_owned())
        .await?;
    Ok(Redirect::to("/admin/search-terms").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;
    use crate::text::fold;

    #[test]
    fn groups_need_two_new_terms() {
        let t = Locale::En.tr();
        let taken = vec!["がん".to_owned()];
        assert_eq!(
            check_group(t, "腫瘍、しゅよう シュヨウ", &taken),
            Ok(vec!["腫瘍".to_owned(), "しゅよう".to_owned()])
        );
        assert!(check_group(t, "ガン 悪性腫瘍", &taken).is_err());
        assert!(
            check_group(t, "しごと シゴト", &taken).is_err(),
            "one term after folding"
        );
        assert!(check_group(t, &format!("a {}", "b".repeat(21)), &taken).is_err());
    }

    #[test]
    fn the_first_term_is_kept_as_typed() {
        let t = Locale::En.tr();
        let terms = check_group(t, "ＱＯＬ 生活の質", &[]).expect("a group");
        assert_eq!(terms[0], "ＱＯＬ");
        assert_eq!(fold(&terms[0]), "qol");
    }
}
