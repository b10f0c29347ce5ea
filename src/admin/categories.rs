//! Categories: coordinators create, edit, order, archive and restore the forum's categories.
//!
//! Who may see a category is the forums' visibility rule (`db::forums::VISIBLE`): a minimum role
//! and an optional relation. An archived category disappears for everyone but this page; its
//! topics are kept and come back when it is restored. Every change writes an audit line in the
//! same transaction.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::admin::service::{self, Checked, Direction, Edited};
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::forums::ManagedCategory;
use crate::domain::role::Relation;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::layout::Layout;

/// Characters in a name.
pub const MAX_NAME: usize = 40;
/// Characters in a description.
pub const MAX_DESCRIPTION: usize = 300;
/// Characters in the English name and description: English says the same in more characters.
pub const MAX_NAME_EN: usize = 60;
pub const MAX_DESCRIPTION_EN: usize = 500;

/// The minimum roles the form offers, as (form value, rank). A coordinators-only category (rank
/// 3) cannot be made here, but one that exists keeps its value when edited.
const AUDIENCES: [(&str, i64); 4] = [
    ("member", 0),
    ("expert", 1),
    ("moderator", 2),
    ("coordinator", 3),
];

pub fn audience_value(rank: i64) -> &'static str {
    AUDIENCES
        .iter()
        .find(|(_, r)| *r == rank)
        .map_or("member", |(value, _)| value)
}

/// Who may see a category, in words: "Everyone", "Staff only · Family members only", ….
pub fn audience_label(t: Tr, rank: i64, relation: Option<&str>) -> String {
    let mut parts = Vec::new();
    if rank > 0 {
        parts.push(t.s(&format!("categories.audience.{}", audience_value(rank))));
    }
    if let Some(relation) = relation {
        parts.push(t.s(&format!("categories.only.{relation}")));
    }
    if parts.is_empty() {
        return t.s("categories.audience.member").into_owned();
    }
    parts.join(&t.s("categories.separator"))
}

/// The form's fields as typed, so a refused form shows them again. The café's rooms have the
/// same texts and audience (`cafe::admin_rooms`).
#[derive(Deserialize, Default, Clone)]
pub struct CategoryForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub min_role: String,
    #[serde(default)]
    pub only_relation: String,
}

impl CategoryForm {
    pub fn blank() -> CategoryForm {
        CategoryForm {
            min_role: "member".to_owned(),
            ..CategoryForm::default()
        }
    }

    fn of(c: &ManagedCategory) -> CategoryForm {
        CategoryForm {
            name: c.name.clone(),
            description: c.description.clone(),
            name_en: c.name_en.clone().unwrap_or_default(),
            description_en: c.description_en.clone().unwrap_or_default(),
            min_role: audience_value(c.min_role_rank).to_owned(),
            only_relation: c.only_relation.clone().unwrap_or_default(),
        }
    }
}

/// A name as stored: one space between words.
fn name_of(typed: &str) -> String {
    typed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A description as stored: `\n` line ends, no space around it.
fn description_of(typed: &str) -> String {
    typed.replace("\r\n", "\n").trim().to_owned()
}

/// The fields as they will be stored, or every reason they cannot be, in the reader's language.
/// `current_rank` is the category's rank when editing: the only way to keep rank 3.
pub fn check(
    t: Tr,
    form: &CategoryForm,
    current_rank: Option<i64>,
) -> Result<Checked, Vec<String>> {
    let mut errors = Vec::new();
    let name = name_of(&form.name);
    if name.is_empty() {
        errors.push(t.s("categories.name_missing").into_owned());
    }
    let description = description_of(&form.description);
    let name_en = name_of(&form.name_en);
    let description_en = description_of(&form.description_en);
    for (text, max, key) in [
        (&name, MAX_NAME, "categories.name_too_long"),
        (
            &description,
            MAX_DESCRIPTION,
            "categories.description_too_long",
        ),
        (&name_en, MAX_NAME_EN, "categories.name_en_too_long"),
        (
            &description_en,
            MAX_DESCRIPTION_EN,
            "categories.description_en_too_long",
        ),
    ] {
        if text.chars().count() > max {
            errors.push(t.f(key, &[("max", &max.to_string())]));
        }
    }
    let rank = AUDIENCES
        .iter()
        .find(|(value, _)| *value == form.min_role)
        .map(|(_, rank)| *rank)
        .filter(|rank| *rank < 3 || current_rank == Some(3));
    if rank.is_none() {
        errors.push(t.s("categories.bad_audience").into_owned());
    }
    let only_relation = match form.only_relation.as_str() {
        "" => Ok(None),
        other => other.parse::<Relation>().map(Some),
    };
    if only_relation.is_err() {
        errors.push(t.s("categories.bad_relation").into_owned());
    }
    match (rank, only_relation) {
        (Some(min_role_rank), Ok(only_relation)) if errors.is_empty() => Ok(Checked {
            name,
            description,
            name_en: Some(name_en).filter(|n| !n.is_empty()),
            description_en: Some(description_en).filter(|d| !d.is_empty()),
            min_role_rank,
            only_relation,
        }),
        _ => Err(errors),
    }
}

/// One option of a select.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// What the category form (templates/admin/categories_form.html) shows.
pub struct FormView {
    pub fields: CategoryForm,
    pub errors: Vec<String>,
    pub audiences: Vec<Choice>,
    pub relations: Vec<Choice>,
    pub name_hint: String,
    pub description_hint: String,
    pub name_en_hint: String,
    pub description_en_hint: String,
    pub name_max: usize,
    pub description_max: usize,
    pub name_en_max: usize,
    pub description_en_max: usize,
}

impl FormView {
    pub fn new(t: Tr, fields: CategoryForm, errors: Vec<String>) -> FormView {
        let audiences = AUDIENCES
            .iter()
            .filter(|(value, rank)| *rank < 3 || fields.min_role == *value)
            .map(|(value, _)| Choice {
                value,
                label: t.s(&format!("categories.audience.{value}")).into_owned(),
                selected: fields.min_role == *value,
            })
            .collect();
        let relations = std::iter::once("")
            .chain(Relation::ALL.iter().map(|r| r.as_str()))
            .map(|value| Choice {
                value,
                label: if value.is_empty() {
                    t.s("categories.only.any").into_owned()
                } else {
                    t.s(&format!("categories.only.{value}")).into_owned()
                },
                selected: fields.only_relation == value,
            })
            .collect();
        FormView {
            audiences,
            relations,
            name_hint: t.f("categories.name_hint", &[("max", &MAX_NAME.to_string())]),
            description_hint: t.f(
                "categories.description_hint",
                &[("max", &MAX_DESCRIPTION.to_string())],
            ),
            name_en_hint: t.f(
                "categories.name_en_hint",
                &[("max", &MAX_NAME_EN.to_string())],
            ),
            description_en_hint: t.f(
                "categories.description_en_hint",
                &[("max", &MAX_DESCRIPTION_EN.to_string())],
            ),
            name_max: MAX_NAME,
            description_max: MAX_DESCRIPTION,
            name_en_max: MAX_NAME_EN,
            description_en_max: MAX_DESCRIPTION_EN,
            fields,
            errors,
        }
    }
}

/// A category in the coordinators' list.
pub struct Row {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// "English: Treatment", when an English name is set.
    pub english: Option<String>,
    pub audience: String,
    pub topics: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/categories.html")]
pub struct CategoriesView {
    layout: Layout,
    active: Vec<Row>,
    archived: Vec<Row>,
    form: FormView,
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    fields: CategoryForm,
    errors: Vec<String>,
) -> AppResult<CategoriesView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let all = db::forums::managed_categories(conn.exec()).await?;
    let row = |c: &ManagedCategory| Row {
        id: c.id,
        name: c.name.clone(),
        description: c.description.clone(),
        english: c
            .name_en
            .as_ref()
            .map(|name| t.f("categories.english_name", &[("name", name)])),
        audience: audience_label(t, c.min_role_rank, c.only_relation.as_deref()),
        topics: t.f(
            "categories.topic_count",
            &[("count", &c.topic_count.to_string())],
        ),
        first: false,
        last: false,
    };
    let mut active: Vec<Row> = all
        .iter()
        .filter(|c| c.archived_at.is_none())
        .map(row)
        .collect();
    if let Some(first) = active.first_mut() {
        first.first = true;
    }
    if let Some(last) = active.last_mut() {
        last.last = true;
    }
    let archived = all
        .iter()
        .filter(|c| c.archived_at.is_some())
        .map(row)
        .collect();
    Ok(CategoriesView {
        layout: Layout::titled(app, ctx, "categories.title"),
        active,
        archived,
        form: FormView::new(t, fields, errors),
    })
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<CategoriesView> {
    list_view(&app, &ctx, CategoryForm::blank(), Vec::new()).await
}

pub async fn create(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let checked = match check(t, &form, None) {
        Ok(checked) => checked,
        Err(errors) => {
            let view = list_view(&app, &ctx, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    service::create_category(&app, user.id, &checked).await?;
    SessionData(&ctx.session)
        .set_flash(t.f("categories.created", &[("name", &checked.name)]))
        .await?;
    Ok(Redirect::to("/admin/categories").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/categories_edit.html")]
pub struct EditView {
    layout: Layout,
    id: i64,
    archived: bool,
    form: FormView,
}

pub async fn edit_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<EditView> {
    let mut conn = app.db.conn().await?;
    let category = db::forums::managed_category(conn.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(EditView {
        layout: Layout::titled(&app, &ctx, "categories.edit_title"),
        id,
        archived: category.archived_at.is_some(),
        form: FormView::new(ctx.tr(), CategoryForm::of(&category), Vec::new()),
    })
}

pub async fn update(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let edited = service::update_category(&app, user.id, id, |before| {
        check(t, &form, Some(before.min_role_rank))
    })
    .await?;
    let checked = match edited {
        Edited::Saved(checked) => checked,
        Edited::Refused { errors, archived } => {
            let view = EditView {
                layout: Layout::titled(&app, &ctx, "categories.edit_title"),
                id,
                archived,
                form: FormView::new(t, form, errors),
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
        }
    };
    SessionData(&ctx.session)
        .set_flash(t.f("categories.saved", &[("name", &checked.name)]))
        .await?;
    Ok(Redirect::to("/admin/categories").into_response())
}

pub async fn move_up(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    reorder(&app, &ctx, user.id, id, Direction::Up).await
}

pub async fn move_down(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    reorder(&app, &ctx, user.id, id, Direction::Down).await
}

/// Moves a category one place among those members see.
async fn reorder(
    app: &AppState,
    ctx: &RequestContext,
    actor: i64,
    id: i64,
    direction: Direction,
) -> AppResult<Response> {
    if let Some(name) = service::move_category(app, actor, id, direction).await? {
        let key = match direction {
            Direction::Up => "categories.moved_up",
            Direction::Down => "categories.moved_down",
        };
        SessionData(&ctx.session)
            .set_flash(ctx.tr().f(key, &[("name", &name)]))
            .await?;
    }
    Ok(Redirect::to("/admin/categories").into_response())
}

pub async fn archive(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    set_archived(&app, &ctx, user.id, id, true).await
}

pub async fn restore(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    set_archived(&app, &ctx, user.id, id, false).await
}

async fn set_archived(
    app: &AppState,
    ctx: &RequestContext,
    actor: i64,
    id: i64,
    archive: bool,
) -> AppResult<Response> {
    let name = service::set_category_archived(app, actor, id, archive).await?;
    let key = if archive {
        "categories.archived"
    } else {
        "categories.restored"
    };
    SessionData(&ctx.session)
        .set_flash(ctx.tr().f(key, &[("name", &name)]))
        .await?;
    Ok(Redirect::to("/admin/categories").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    fn form(name: &str, description: &str, min_role: &str, relation: &str) -> CategoryForm {
        CategoryForm {
            name: name.to_owned(),
            description: description.to_owned(),
            name_en: String::new(),
            description_en: String::new(),
            min_role: min_role.to_owned(),
            only_relation: relation.to_owned(),
        }
    }

    #[test]
    fn names_descriptions_and_choices_are_checked() {
        let t = Locale::En.tr();
        assert_eq!(
            check(
                t,
                &form("  家族の  部屋 ", " 説明\r\n二行目 ", "expert", "family"),
                None
            ),
            Ok(Checked {
                name: "家族の 部屋".into(),
                description: "説明\n二行目".into(),
                name_en: None,
                description_en: None,
                min_role_rank: 1,
                only_relation: Some(Relation::Family),
            })
        );
        assert!(
            check(
                t,
                &form(&"あ".repeat(40), &"い".repeat(300), "member", ""),
                None
            )
            .is_ok()
        );
        let errors = check(t, &form(" ", &"い".repeat(301), "admin", "friend"), None)
            .expect_err("four problems");
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(check(t, &form(&"あ".repeat(41), "", "member", ""), None).is_err());
        // English texts are optional, kept with one space between the name's words.
        let english = CategoryForm {
            name_en: "  Family   room ".into(),
            description_en: " For families.\r\n ".into(),
            ..form("家族の部屋", "", "member", "")
        };
        let checked = check(t, &english, None).expect("valid");
        assert_eq!(checked.name_en.as_deref(), Some("Family room"));
        assert_eq!(checked.description_en.as_deref(), Some("For families."));
        let too_long = CategoryForm {
            name_en: "a".repeat(MAX_NAME_EN + 1),
            description_en: "b".repeat(MAX_DESCRIPTION_EN + 1),
            ..form("家族の部屋", "", "member", "")
        };
        let errors = check(t, &too_long, None).expect_err("two problems");
        assert_eq!(errors.len(), 2, "{errors:?}");
        // Coordinators-only is kept on an existing category, never made here.
        assert!(check(t, &form("a", "", "coordinator", ""), None).is_err());
        assert!(check(t, &form("a", "", "coordinator", ""), Some(3)).is_ok());
    }

    #[test]
    fn audiences_are_described_in_words() {
        let t = Locale::En.tr();
        assert_eq!(
            audience_label(t, 0, None),
            t.s("categories.audience.member")
        );
        let both = audience_label(t, 2, Some("family"));
        assert!(
            both.contains(&*t.s("categories.audience.moderator")),
            "{both}"
        );
        assert!(both.contains(&*t.s("categories.only.family")), "{both}");
    }
}
