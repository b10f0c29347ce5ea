//! The log page (`/mod/log`): every moderator's and coordinator's action, newest first, filtered
//! by action, kind of target, actor and member, all on the log's typed columns. Read only: the
//! database refuses any change to a row.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

use crate::AppState;
use crate::auth::session::{RequestContext, Require, Staff};
use crate::db;
use crate::db::audit::{LogFilter, LogRow};
use crate::domain::log::{Action, TargetKind};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::input::Query;
use crate::web::layout::{Layout, Pager, local_time, pages_for};

const PER_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    page: String,
}

/// An empty field is no filter; anything else must be a value the log knows.
fn optional<T: std::str::FromStr>(value: &str) -> AppResult<Option<T>> {
    match value.trim() {
        "" => Ok(None),
        text => text
            .parse()
            .map(Some)
            .map_err(|_| AppError::BadRequest("unknown log filter")),
    }
}

impl LogQuery {
    fn filter(&self) -> AppResult<LogFilter> {
        Ok(LogFilter {
            action: optional::<Action>(&self.action)?,
            target_kind: optional::<TargetKind>(&self.kind)?,
            actor_id: optional::<i64>(&self.actor)?,
            member_id: optional::<i64>(&self.member)?,
        })
    }
}

/// The page's address with `filter`, for the pager and the links that keep it.
fn address(filter: &LogFilter) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(action) = filter.action {
        query.append_pair("action", action.as_str());
    }
    if let Some(kind) = filter.target_kind {
        query.append_pair("kind", kind.as_str());
    }
    if let Some(actor) = filter.actor_id {
        query.append_pair("actor", &actor.to_string());
    }
    if let Some(member) = filter.member_id {
        query.append_pair("member", &member.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/mod/log".to_owned()
    } else {
        format!("/mod/log?{query}")
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Line {
    pub time: String,
    pub actor: String,
    /// The actor's staff page, when the actor was a member (not the command line).
    pub actor_href: Option<String>,
    pub action: String,
    pub target: String,
    pub target_href: Option<String>,
    /// The member the action concerns, with their staff page.
    pub subject: Option<(String, String)>,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/log.html")]
pub struct LogView {
    layout: Layout,
    actions: Vec<Choice>,
    kinds: Vec<Choice>,
    actors: Vec<Choice>,
    /// The member the log is narrowed to (said so, their id, and the address without that
    /// filter).
    member: Option<(String, i64, String)>,
    lines: Vec<Line>,
    pager: Pager,
}

fn action_label(t: Tr, action: Action) -> String {
    t.s(&format!("log.action.{}", action.as_str())).into_owned()
}

fn kind_label(t: Tr, kind: &str) -> String {
    t.get(&format!("log.kind.{kind}"))
        .map(|s| s.into_owned())
        .unwrap_or_else(|| kind.to_owned())
}

/// Where a target can be looked at, for the kinds that have a page.
fn target_href(kind: &str, id: i64) -> Option<String> {
    match kind.parse::<TargetKind>().ok()? {
        TargetKind::Member => Some(format!("/mod/members/{id}")),
        TargetKind::Post => Some(format!("/p/{id}")),
        TargetKind::Topic => Some(format!("/t/{id}")),
        TargetKind::Category => Some(format!("/c/{id}")),
        TargetKind::CafeMessage => Some(format!("/mod/cafe-messages/{id}")),
        TargetKind::QaQuestion => Some(format!("/mod/qa-questions/{id}")),
        _ => None,
    }
}

fn line(app: &AppState, t: Tr, row: LogRow) -> Line {
    let target = match row.target_id {
        Some(id) => format!("{} #{id}", kind_label(t, &row.target_kind)),
        None => kind_label(t, &row.target_kind),
    };
    Line {
        time: local_time(&app.site, row.created_at),
        actor: row
            .actor_name
            .unwrap_or_else(|| t.s("log.command_line").into_owned()),
        actor_href: row.actor_id.map(|id| format!("/mod/members/{id}")),
        action: action_label(t, row.action),
        target_href: row
            .target_id
            .and_then(|id| target_href(&row.target_kind, id)),
        target,
        subject: row
            .subject_user_id
            .zip(row.subject_name)
            .map(|(id, name)| (name, format!("/mod/members/{id}"))),
        reason: row.reason,
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
    Query(query): Query<LogQuery>,
) -> AppResult<LogView> {
    let t = ctx.tr();
    let filter = query.filter()?;
    let asked_page = optional::<i64>(&query.page)?.unwrap_or(1);
    let mut conn = app.db.conn().await?;
    let pages = pages_for(db::audit::count(conn.exec(), &filter).await?, PER_PAGE);
    let page = asked_page.clamp(1, pages);
    let rows = db::audit::page(conn.exec(), &filter, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let actors = db::audit::actors(conn.exec()).await?;
    let member = match filter.member_id {
        Some(id) => db::members::for_staff(conn.exec(), id).await?.map(|m| {
            let without = address(&LogFilter {
                member_id: None,
                ..filter
            });
            let about = t.f("log.about_member", &[("name", &m.display_name)]);
            (about, m.id, without)
        }),
        None => None,
    };
    drop(conn);
    let choice = |value: &str, label: String, selected: bool| Choice {
        value: value.to_owned(),
        label,
        selected,
    };
    let mut actions: Vec<Choice> = Action::ALL
        .iter()
        .map(|a| choice(a.as_str(), action_label(t, *a), filter.action == Some(*a)))
        .collect();
    actions.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(LogView {
        layout: Layout::titled(&app, &ctx, "log.title"),
        actions,
        kinds: TargetKind::ALL
            .iter()
            .map(|k| {
                choice(
                    k.as_str(),
                    kind_label(t, k.as_str()),
                    filter.target_kind == Some(*k),
                )
            })
            .collect(),
        actors: actors
            .into_iter()
            .map(|(id, name)| choice(&id.to_string(), name, filter.actor_id == Some(id)))
            .collect(),
        member,
        lines: rows.into_iter().map(|row| line(&app, t, row)).collect(),
        pager: Pager::new(t, &address(&filter), page, pages),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn every_action_and_kind_has_a_name_in_both_languages() {
        for locale in Locale::ALL {
            let t = locale.tr();
            for action in Action::ALL {
                let key = format!("log.action.{}", action.as_str());
                assert!(t.get(&key).is_some(), "{key} in {locale:?}");
            }
            for kind in TargetKind::ALL {
                let key = format!("log.kind.{}", kind.as_str());
                assert!(t.get(&key).is_some(), "{key} in {locale:?}");
            }
        }
    }

    #[test]
    fn filters_ride_in_the_address() {
        let filter = LogFilter {
            action: Some(Action::MemberSilenced),
            member_id: Some(7),
            ..LogFilter::default()
        };
        assert_eq!(address(&filter), "/mod/log?action=member.silenced&member=7");
        assert_eq!(address(&LogFilter::default()), "/mod/log");
    }
}
