//! Invitations: coordinators invite by e-mail (one address, many pasted, or a CSV file), choosing
//! role and relation; they see every invitation's state and can resend or revoke open ones.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::admin::service::{self, InviteAs, Outcome};
use crate::auth::csrf::{CsrfForm, NoFields, check_token};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::{self, invitations::Invitation};
use crate::domain::account::Email;
use crate::domain::role::{Relation, Role};
use crate::error::{AppError, AppResult};
use crate::i18n::{Locale, Tr};
use crate::web::input::{self, Query};
use crate::web::layout::{Layout, Pager, local_time};
use crate::web::limits;

/// More than this in one go is more likely a mistake than a plan.
pub const MAX_BATCH: usize = 200;
const PAGE_SIZE: i64 = 50;

pub struct OutcomeRow {
    pub email: String,
    pub message: String,
    pub ok: bool,
}

pub struct InvitationRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub relation: String,
    pub state: &'static str,
    pub state_label: String,
    pub inviter: String,
    pub accepted_name: String,
    pub sent: String,
    /// "valid until …", for pending ones.
    pub until: String,
    pub open: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/invitations.html")]
pub struct InvitationsView {
    layout: Layout,
    rows: Vec<InvitationRow>,
    emails: String,
    role: Role,
    relation: Relation,
    locale: Locale,
    errors: Vec<String>,
    outcomes: Vec<OutcomeRow>,
    pager: Pager,
    emails_hint: String,
    roles: &'static [Role],
    relations: &'static [Relation],
    locales: [Locale; 2],
}

fn invitation_state(inv: &Invitation, now: i64) -> &'static str {
    if inv.accepted_at.is_some() {
        "accepted"
    } else if inv.revoked_at.is_some() {
        "revoked"
    } else if inv.expires_at <= now {
        "expired"
    } else {
        "pending"
    }
}

fn row(site: &crate::admin::site::SiteSettings, t: Tr, inv: Invitation, now: i64) -> InvitationRow {
    let state = invitation_state(&inv, now);
    InvitationRow {
        id: inv.id,
        role: t.s(&format!("role.{}", inv.role)).into_owned(),
        relation: t.s(&format!("relation.{}", inv.relation)).into_owned(),
        state,
        state_label: t.s(&format!("invitations.state.{state}")).into_owned(),
        inviter: inv
            .inviter_name
            .unwrap_or_else(|| t.s("invitations.command_line").into_owned()),
        accepted_name: inv.accepted_name.unwrap_or_default(),
        sent: local_time(site, inv.sent_at),
        until: t.f(
            "invitations.until",
            &[("time", &local_time(site, inv.expires_at))],
        ),
        open: matches!(state, "pending" | "expired"),
        email: inv.email,
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

struct Draft {
    emails: String,
    choice: InviteAs,
    errors: Vec<String>,
    outcomes: Vec<OutcomeRow>,
}

async fn view(
    app: &AppState,
    ctx: &RequestContext,
    viewer: i64,
    page: i64,
    draft: Draft,
) -> AppResult<InvitationsView> {
    let t = ctx.tr();
    let now = db::now();
    let (list, page, pages) = service::invitations_page(app, viewer, page, PAGE_SIZE).await?;
    Ok(InvitationsView {
        layout: Layout::titled(app, ctx, "invitations.title"),
        rows: list
            .into_iter()
            .map(|inv| row(&app.site, t, inv, now))
            .collect(),
        emails: draft.emails,
        role: draft.choice.role,
        relation: draft.choice.relation,
        locale: draft.choice.locale,
        errors: draft.errors,
        outcomes: draft.outcomes,
        pager: Pager::new(t, "/admin/invitations", page, pages),
        emails_hint: t.f(
            "invitations.emails_hint",
            &[("max", &MAX_BATCH.to_string())],
        ),
        roles: Role::ALL,
        relations: Relation::ALL,
        locales: Locale::ALL,
    })
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let choice = InviteAs {
        role: Role::Member,
        relation: Relation::Patient,
        locale: app.site.get().default_locale,
    };
    let draft = Draft {
        emails: String::new(),
        choice,
        errors: Vec::new(),
        outcomes: Vec::new(),
    };
    Ok(view(&app, &ctx, user.id, query.page.unwrap_or(1), draft)
        .await?
        .into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    emails: String,
    role: Option<String>,
    relation: Option<String>,
    locale: Option<String>,
}

fn parse_choice(
    role: Option<&str>,
    relation: Option<&str>,
    locale: Option<&str>,
) -> Option<InviteAs> {
    Some(InviteAs {
        role: role.unwrap_or("member").parse().ok()?,
        relation: relation.unwrap_or("patient").parse().ok()?,
        locale: Locale::parse(locale.unwrap_or("ja"))?,
    })
}

/// Addresses separated by new lines, commas, semicolons or spaces.
fn split_addresses(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks a batch: every address must be readable, and not too many. Errors are already worded.
fn check_batch(t: Tr, raw: &[(String, InviteAs)]) -> Result<Vec<(Email, InviteAs)>, Vec<String>> {
    if raw.is_empty() {
        return Err(vec![t.s("invitations.none").into_owned()]);
    }
    if raw.len() > MAX_BATCH {
        return Err(vec![
            t.f("invitations.too_many", &[("max", &MAX_BATCH.to_string())]),
        ]);
    }
    let mut errors = Vec::new();
    let mut batch: Vec<(Email, InviteAs)> = Vec::new();
    for (address, choice) in raw {
        match Email::parse(address) {
            Some(email) if batch.iter().any(|(e, _)| *e == email) => {}
            Some(email) => batch.push((email, *choice)),
            None => errors.push(t.f(
                "invitations.bad_address",
                &[("address", &address.chars().take(80).collect::<String>())],
            )),
        }
    }
    if errors.is_empty() {
        Ok(batch)
    } else {
        Err(errors)
    }
}

async fn answer(
    app: &AppState,
    ctx: &RequestContext,
    user: &crate::db::users::SessionUser,
    emails: String,
    choice: InviteAs,
    raw: Vec<(String, InviteAs)>,
) -> AppResult<Response> {
    // One batch, whatever its size (at most `MAX_BATCH` addresses), is one write.
    app.writes.check(user, WriteKind::Setting)?;
    let t = ctx.tr();
    let batch = match check_batch(t, &raw) {
        Ok(batch) => batch,
        Err(errors) => {
            let draft = Draft {
                emails,
                choice,
                errors,
                outcomes: Vec::new(),
            };
            let page = view(app, ctx, user.id, 1, draft).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let outcomes = service::invite_batch(app, user, &batch).await?;
    let rows = outcomes
        .into_iter()
        .map(|(email, outcome)| {
            let key = match outcome {
                Outcome::Invited => "invitations.outcome.invited",
                Outcome::AlreadyMember => "invitations.outcome.member",
                Outcome::AlreadyInvited => "invitations.outcome.invited_already",
            };
            OutcomeRow {
                email,
                message: t.s(key).into_owned(),
                ok: outcome == Outcome::Invited,
            }
        })
        .collect();
    let draft = Draft {
        emails: String::new(),
        choice,
        errors: Vec::new(),
        outcomes: rows,
    };
    Ok(view(app, ctx, user.id, 1, draft).await?.into_response())
}

pub async fn invite_pasted(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    let choice = parse_choice(
        form.role.as_deref(),
        form.relation.as_deref(),
        form.locale.as_deref(),
    )
    .ok_or(AppError::BadRequest("unknown role, relation or language"))?;
    let raw = split_addresses(&form.emails)
        .into_iter()
        .map(|a| (a.to_owned(), choice))
        .collect();
    answer(&app, &ctx, &user, form.emails.clone(), choice, raw).await
}

/// A CSV file: one address a row, optionally followed by role, relation and language columns
/// (in that order); a header row is recognised and skipped. Empty cells take the form's choice.
fn parse_csv(
    t: Tr,
    bytes: &[u8],
    default: InviteAs,
) -> Result<Vec<(String, InviteAs)>, Vec<String>> {
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return Err(vec![t.s("invitations.csv_encoding").into_owned()]);
    };
    // An upload is text sent like any form's, and held to the same rule.
    let Ok(text) = input::clean_text("file", text) else {
        return Err(vec![limits::control_character_message(t, "file")]);
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = (index + 1).to_string();
        let Ok(record) = record else {
            errors.push(t.f("invitations.csv_row", &[("line", &line)]));
            continue;
        };
        let cell = |i: usize| record.get(i).filter(|s| !s.is_empty());
        let Some(address) = cell(0) else { continue };
        if index == 0 && !address.contains('@') {
            continue; // a header row
        }
        let choice = parse_choice(
            Some(cell(1).unwrap_or(default.role.as_str())),
            Some(cell(2).unwrap_or(default.relation.as_str())),
            Some(cell(3).unwrap_or(default.locale.as_str())),
        );
        match choice {
            Some(choice) => rows.push((address.to_owned(), choice)),
            None => errors.push(t.f("invitations.csv_row", &[("line", &line)])),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

pub async fn invite_csv(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let t = ctx.tr();
    let mut csrf = String::new();
    let mut fields: [Option<String>; 3] = [None, None, None];
    let mut file = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("unreadable upload"))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| AppError::BadRequest("unreadable upload"))?;
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => csrf = text(),
            "role" => fields[0] = Some(text()),
            "relation" => fields[1] = Some(text()),
            "locale" => fields[2] = Some(text()),
            "file" => file = bytes.to_vec(),
            _ => {}
        }
    }
    check_token(&ctx, &csrf)?;
    let [role, relation, locale] = fields;
    let choice = parse_choice(role.as_deref(), relation.as_deref(), locale.as_deref())
        .ok_or(AppError::BadRequest("unknown role, relation or language"))?;
    match parse_csv(t, &file, choice) {
        Ok(raw) => answer(&app, &ctx, &user, String::new(), choice, raw).await,
        Err(errors) => {
            let draft = Draft {
                emails: String::new(),
                choice,
                errors,
                outcomes: Vec::new(),
            };
            let page = view(&app, &ctx, user.id, 1, draft).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// A new link for an open invitation (the old link stops working) and a new validity period.
pub async fn resend(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let email = service::resend_invitation(&app, &user, id).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().f("invitations.resent", &[("email", &email)]))
        .await?;
    Ok(Redirect::to("/admin/invitations").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/revoke_confirm.html")]
pub struct RevokeView {
    layout: Layout,
    invitation: InvitationRow,
}

/// `GET /admin/invitations/{id}/revoke`: the invitation and a button that revokes it; nothing
/// changes yet. The address is shown, so the showing is written to the audit log.
pub async fn revoke_confirm(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
) -> AppResult<RevokeView> {
    let invitation = service::invitation_to_revoke(&app, user.id, id).await?;
    let invitation = row(&app.site, ctx.tr(), invitation, db::now());
    Ok(RevokeView {
        layout: Layout::titled(&app, &ctx, "ux.revoke_title"),
        invitation,
    })
}

pub async fn revoke(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let email = service::revoke_invitation(&app, user.id, id).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().f("invitations.revoked", &[("email", &email)]))
        .await?;
    Ok(Redirect::to("/admin/invitations").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_addresses_split_on_any_separator() {
        assert_eq!(
            split_addresses("a@x.org, b@x.org\nc@x.org;d@x.org  e@x.org"),
            vec!["a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"]
        );
    }

    #[test]
    fn csv_rows_take_defaults_and_skip_a_header() {
        let t = Locale::En.tr();
        let default = InviteAs {
            role: Role::Member,
            relation: Relation::Patient,
            locale: Locale::Ja,
        };
        let csv = "\u{FEFF}email,role,relation,locale\nA@x.org,expert,,en\nb@x.org\n";
        let rows = parse_csv(t, csv.as_bytes(), default).expect("valid csv");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, "A@x.org");
        assert_eq!(rows[0].1.role, Role::Expert);
        assert_eq!(rows[0].1.relation, Relation::Patient);
        assert_eq!(rows[0].1.locale, Locale::En);
        assert_eq!(rows[1].1.role, Role::Member);
        assert!(parse_csv(t, b"a@x.org,king\n", default).is_err());
        assert!(parse_csv(t, &[0xff, 0xfe, 0x00], default).is_err());
    }
}
