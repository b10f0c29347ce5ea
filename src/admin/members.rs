//! The members list for staff (`/admin/members`): paginated, searched by display name and
//! filtered by role, relation, where the account stands and the month joined. Each row leads to
//! the member's staff page (`/mod/members/{id}`), where coordinators change it. No e-mail
//! address is shown here.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::session::{RequestContext, Require, Staff};
use crate::db;
use crate::db::members::{ListFilter, StaffMember};
use crate::domain::member::MemberState;
use crate::domain::role::{Relation, Role};
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::moderation::log::Choice;
use crate::web::input::Query;
use crate::web::layout::{Layout, Pager, local_time, pages_for};

/// Members on one page of the list.
pub const PAGE_SIZE: i64 = 50;
/// The longest name search, in characters: a display name is no longer.
pub const MAX_SEARCH: usize = 40;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    state: String,
    /// `YYYY-MM`.
    #[serde(default)]
    joined: String,
    page: Option<i64>,
}

/// `text` as a `LIKE` pattern that matches it anywhere, with `%`, `_` and `\` taken literally.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `text` read with `parse` when it is not empty: `Ok(None)` for "any", `Err(())` when it does
/// not read.
fn optional<T>(text: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse(text).map(Some).ok_or(())
}

impl ListQuery {
    /// The filter this query asks for at the site's time zone, or what is wrong with it.
    pub fn filter(&self, t: Tr, zone: &jiff::tz::TimeZone) -> Result<ListFilter, Vec<String>> {
        let mut errors = Vec::new();
        let name = self.q.trim();
        let name_pattern = if name.chars().count() > MAX_SEARCH {
            errors.push(t.f(
                "admin_members.search_long",
                &[("max", &MAX_SEARCH.to_string())],
            ));
            None
        } else {
            (!name.is_empty()).then(|| like_pattern(name))
        };
        let mut wrong = |key: &str| errors.push(t.s(key).into_owned());
        let role = optional(&self.role, |s| s.parse::<Role>().ok()).unwrap_or_else(|()| {
            wrong("admin_members.bad_role");
            None
        });
        let relation =
            optional(&self.relation, |s| s.parse::<Relation>().ok()).unwrap_or_else(|()| {
                wrong("admin_members.bad_relation");
                None
            });
        let state = optional(&self.state, |s| s.parse::<MemberState>().ok()).unwrap_or_else(|()| {
            wrong("admin_members.bad_state");
            None
        });
        let joined = optional(&self.joined, |s| month_range(s, zone)).unwrap_or_else(|()| {
            wrong("admin_members.bad_month");
            None
        });
        if errors.is_empty() {
            Ok(ListFilter {
                name_pattern,
                role,
                relation,
                state,
                joined,
            })
        } else {
            Err(errors)
        }
    }

    /// The list's address with this query's filters (no page), for the pager.
    fn address(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", self.q.trim()),
            ("role", self.role.as_str()),
            ("relation", self.relation.as_str()),
            ("state", self.state.as_str()),
            ("joined", self.joined.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        if pairs.is_empty() {
            "/admin/members".to_owned()
        } else {
            let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
            format!("/admin/members?{query}")
        }
    }
}

/// The start of month `YYYY-MM` and of the next, in `zone`, as Unix seconds.
pub fn month_range(text: &str, zone: &jiff::tz::TimeZone) -> Option<(i64, i64)> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let first = jiff::civil::Date::new(year.parse().ok()?, month.parse().ok()?, 1).ok()?;
    let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
    let at = |date: jiff::civil::Date| {
        date.to_zoned(zone.clone())
            .ok()
            .map(|z| z.timestamp().as_second())
    };
    Some((at(first)?, at(next)?))
}

pub struct MemberRow {
    pub href: String,
    pub name: String,
    pub role: String,
    pub relation: String,
    pub joined: String,
    /// Silenced, suspended or deactivated, in words; empty when active.
    pub state: String,
}

fn row(app: &AppState, t: Tr, m: StaffMember, now: i64) -> MemberRow {
    let state = if m.status != "active" {
        t.s("admin_members.state.deactivated").into_owned()
    } else if m.suspended_until.is_some_and(|u| u > now) {
        t.s("admin_members.state.suspended").into_owned()
    } else if m.silenced_until.is_some_and(|u| u > now) {
        t.s("admin_members.state.silenced").into_owned()
    } else {
        String::new()
    };
    MemberRow {
        href: format!("/mod/members/{}", m.id),
        name: m.display_name,
        role: t.s(&format!("role.{}", m.role)).into_owned(),
        relation: t.s(&format!("relation.{}", m.relation)).into_owned(),
        joined: local_time(&app.site, m.created_at),
        state,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/members.html")]
pub struct MembersView {
    layout: Layout,
    q: String,
    joined: String,
    max_search: usize,
    roles: Vec<Choice>,
    relations: Vec<Choice>,
    states: Vec<Choice>,
    errors: Vec<String>,
    total: String,
    rows: Vec<MemberRow>,
    pager: Pager,
}

fn choices<T: Copy>(
    all: &[T],
    chosen: &str,
    value: impl Fn(T) -> &'static str,
    label: impl Fn(&str) -> String,
) -> Vec<Choice> {
    all.iter()
        .map(|item| {
            let v = value(*item);
            Choice {
                value: v.to_owned(),
                label: label(v),
                selected: v == chosen,
            }
        })
        .collect()
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let now = db::now();
    let filter = query.filter(t, &app.site.time_zone());
    let (errors, rows, total, page, pages) = match &filter {
        Ok(filter) => {
            let mut conn = app.db.conn().await?;
            let total = db::members::count(conn.exec(), filter, now).await?;
            let pages = pages_for(total, PAGE_SIZE);
            let page = query.page.unwrap_or(1).clamp(1, pages);
            let list =
                db::members::list(conn.exec(), filter, now, PAGE_SIZE, (page - 1) * PAGE_SIZE)
                    .await?;
            drop(conn);
            let rows = list.into_iter().map(|m| row(&app, t, m, now)).collect();
            (Vec::new(), rows, total, page, pages)
        }
        Err(errors) => (errors.clone(), Vec::new(), 0, 1, 1),
    };
    let view = MembersView {
        layout: Layout::titled(&app, &ctx, "admin_members.title"),
        roles: choices(Role::ALL, &query.role, Role::as_str, |v| {
            t.s(&format!("role.{v}")).into_owned()
        }),
        relations: choices(Relation::ALL, &query.relation, Relation::as_str, |v| {
            t.s(&format!("relation.{v}")).into_owned()
        }),
        states: choices(MemberState::ALL, &query.state, MemberState::as_str, |v| {
            t.s(&format!("admin_members.state.{v}")).into_owned()
        }),
        total: t.count("admin_members.total", total, &[]),
        pager: Pager::new(t, &query.address(), page, pages),
        q: query.q,
        joined: query.joined,
        max_search: MAX_SEARCH,
        rows,
        errors,
    };
    let status = if filter.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, view).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_taken_literally() {
        assert_eq!(like_pattern("はな"), "%はな%");
        assert_eq!(like_pattern("100%_a\\"), "%100\\%\\_a\\\\%");
        assert_eq!(like_pattern("Hana"), "%hana%");
    }

    #[test]
    fn a_month_is_its_first_and_the_next_months_first_in_the_zone() {
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").expect("zone");
        // 2026-12-01 00:00 +09:00 and 2027-01-01 00:00 +09:00.
        assert_eq!(
            month_range("2026-12", &tokyo),
            Some((1_796_050_800, 1_798_729_200))
        );
        for bad in [
            "2026-13",
            "2026-1",
            "26-01",
            "2026",
            "二〇二六-01",
            "2026-00",
        ] {
            assert_eq!(month_range(bad, &tokyo), None, "{bad}");
        }
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let t = crate::i18n::Locale::En.tr();
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").expect("zone");
        let query = ListQuery {
            role: "king".into(),
            state: "asleep".into(),
            joined: "2026-13".into(),
            q: "x".repeat(MAX_SEARCH + 1),
            ..ListQuery::default()
        };
        assert_eq!(query.filter(t, &tokyo).map(|_| ()).unwrap_err().len(), 4);
        let good = ListQuery {
            role: "moderator".into(),
            state: "suspended".into(),
            q: " はな ".into(),
            ..ListQuery::default()
        };
        let filter = good.filter(t, &tokyo).expect("a filter");
        assert_eq!(filter.role, Some(Role::Moderator));
        assert_eq!(filter.state, Some(MemberState::Suspended));
        assert_eq!(filter.name_pattern.as_deref(), Some("%はな%"));
        assert_eq!(filter.relation, None);
    }
}
