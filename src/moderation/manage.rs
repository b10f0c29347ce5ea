//! What coordinators alone do on a member's staff page (`/mod/members/{id}`): change the role
//! or the relation, deactivate and reactivate the account, and look at the real e-mail address.
//!
//! Each change is one unit of work with its typed-log row and a `MemberChanged` event (the
//! caches and the café follow it); deactivation also moves the auth version on, which ends every
//! session at once, like a suspension. The last active coordinator is never demoted or
//! deactivated. The address is shown only when asked for (a form sent), and each showing is
//! written to the log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::members::StaffMember;
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::{Relation, Role};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::i18n::Tr;
use crate::moderation::log::Choice;
use crate::moderation::members::member_view;
use crate::web::form::FieldErrors;

/// A change a coordinator makes to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Role(Role),
    Relation(Relation),
    Deactivate,
    Reactivate,
}

impl Change {
    fn action(self) -> Action {
        match self {
            Change::Role(_) => Action::MemberRoleChanged,
            Change::Relation(_) => Action::MemberRelationChanged,
            Change::Deactivate => Action::MemberDeactivated,
            Change::Reactivate => Action::MemberReactivated,
        }
    }

    /// The flash message's locale key.
    fn done_key(self) -> &'static str {
        match self {
            Change::Role(_) => "manage.done.role",
            Change::Relation(_) => "manage.done.relation",
            Change::Deactivate => "manage.done.deactivate",
            Change::Reactivate => "manage.done.reactivate",
        }
    }
}

/// Why a change was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It would leave the site without an active coordinator.
    LastCoordinator,
    /// The account is already so.
    Unchanged,
}

impl Refusal {
    fn key(self) -> &'static str {
        match self {
            Refusal::LastCoordinator => "manage.refused.last_coordinator",
            Refusal::Unchanged => "manage.refused.unchanged",
        }
    }
}

/// Whether `change` may be made to `target` while `coordinators` are active: nothing that is
/// already so, and nothing that leaves no active coordinator.
pub fn may_change(target: &StaffMember, change: Change, coordinators: i64) -> Result<(), Refusal> {
    let active = target.status == "active";
    let unchanged = match change {
        Change::Role(role) => role == target.role,
        Change::Relation(relation) => relation == target.relation,
        Change::Deactivate => !active,
        Change::Reactivate => active,
    };
    if unchanged {
        return Err(Refusal::Unchanged);
    }
    let loses_a_coordinator = active
        && target.role == Role::Coordinator
        && matches!(change, Change::Role(_) | Change::Deactivate);
    if loses_a_coordinator && coordinators <= 1 {
        return Err(Refusal::LastCoordinator);
    }
    Ok(())
}

/// Makes `change` to member `id` as `actor`: one unit of work with its log row and event;
/// refused (and nothing written) when the rules do not allow it.
pub async fn change(
    app: &AppState,
    actor: &SessionUser,
    id: i64,
    change: Change,
) -> AppResult<Result<(), Refusal>> {
    let mut work = app.work().await?;
    let coordinators = db::members::lock_active_coordinators(work.exec()).await?;
    let target = db::members::for_staff(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(refusal) = may_change(&target, change, coordinators) {
        return Ok(Err(refusal));
    }
    let now = work.now();
    let detail = match change {
        Change::Role(role) => {
            db::members::set_role(work.exec(), id, role, now).await?;
            format!("{} -> {}", target.role, role)
        }
        Change::Relation(relation) => {
            db::members::set_relation(work.exec(), id, relation, now).await?;
            format!("{} -> {}", target.relation, relation)
        }
        Change::Deactivate => {
            db::members::set_active(work.exec(), id, false, now).await?;
            String::new()
        }
        Change::Reactivate => {
            db::members::set_active(work.exec(), id, true, now).await?;
            String::new()
        }
    };
    let record = LogRecord::new(actor.id, change.action(), TargetKind::Member, id)
        .about(id)
        .because(detail);
    tracing::info!(actor = actor.id, member = id, action = %record.action, "member changed");
    work.log(record).await?;
    work.announce(Event::MemberChanged { user_id: id });
    work.commit().await?;
    Ok(Ok(()))
}

/// Member `id`'s real address, read in a unit of work that logs the reading.
pub async fn reveal_email(app: &AppState, actor: &SessionUser, id: i64) -> AppResult<String> {
    let mut work = app.work().await?;
    let email = db::users::email_of(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    work.log(LogRecord::new(actor.id, Action::EmailViewed, TargetKind::Member, id).about(id))
        .await?;
    work.commit().await?;
    tracing::info!(actor = actor.id, member = id, "e-mail address shown");
    Ok(email)
}

/// The coordinators' part of the member page.
pub struct ManageView {
    pub roles: Vec<Choice>,
    pub relations: Vec<Choice>,
    pub active: bool,
    /// The real address, once asked for in this response.
    pub email: Option<String>,
    pub errors: FieldErrors,
}

impl ManageView {
    pub fn new(t: Tr, member: &StaffMember) -> ManageView {
        ManageView {
            roles: Role::ALL
                .iter()
                .map(|r| Choice {
                    value: r.as_str().to_owned(),
                    label: t.s(&format!("role.{r}")).into_owned(),
                    selected: *r == member.role,
                })
                .collect(),
            relations: Relation::ALL
                .iter()
                .map(|r| Choice {
                    value: r.as_str().to_owned(),
                    label: t.s(&format!("relation.{r}")).into_owned(),
                    selected: *r == member.relation,
                })
                .collect(),
            active: member.status == "active",
            email: None,
            errors: FieldErrors::default(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ChangeForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    relation: String,
}

/// `POST /mod/members/{id}/account/{change}`: `role` or `relation` with the form's choice,
/// `deactivate` or `reactivate`.
pub async fn account(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path((id, what)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> AppResult<Response> {
    let wanted = match what.as_str() {
        "role" => form
            .role
            .parse()
            .map(Change::Role)
            .map_err(|_| ("manage_role", "manage.bad_role")),
        "relation" => form
            .relation
            .parse()
            .map(Change::Relation)
            .map_err(|_| ("manage_relation", "manage.bad_relation")),
        "deactivate" => Ok(Change::Deactivate),
        "reactivate" => Ok(Change::Reactivate),
        _ => return Err(AppError::NotFound),
    };
    app.writes.check(&user, WriteKind::Moderate)?;
    let t = ctx.tr();
    let outcome = match wanted {
        Ok(wanted) => change(&app, &user, id, wanted)
            .await?
            .map(|()| wanted)
            .map_err(|refusal| (None, t.s(refusal.key()).into_owned())),
        Err((field, key)) => Err((Some(field), t.s(key).into_owned())),
    };
    match outcome {
        Ok(done) => {
            SessionData(&ctx.session)
                .set_flash(t.s(done.done_key()).into_owned())
                .await?;
            Ok(Redirect::to(&format!("/mod/members/{id}")).into_response())
        }
        Err((field, message)) => {
            let mut view = member_view(&app, &ctx, &user, id).await?;
            let status = match field {
                Some(field) => {
                    if let Some(manage) = view.manage.as_mut() {
                        manage.errors = FieldErrors::one(field, message);
                    }
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                None => {
                    view.refused = Some(message);
                    StatusCode::CONFLICT
                }
            };
            Ok((status, view).into_response())
        }
    }
}

/// `POST /mod/members/{id}/email`: the member page with the address shown, and a log row.
pub async fn show_email(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<ChangeForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Moderate)?;
    let email = reveal_email(&app, &user, id).await?;
    let mut view = member_view(&app, &ctx, &user, id).await?;
    if let Some(manage) = view.manage.as_mut() {
        manage.email = Some(email);
    }
    Ok(view.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(role: Role, status: &str) -> StaffMember {
        StaffMember {
            status: status.into(),
            ..StaffMember::for_test(9, role)
        }
    }

    #[test]
    fn the_last_active_coordinator_stays() {
        let last = target(Role::Coordinator, "active");
        for change in [Change::Role(Role::Moderator), Change::Deactivate] {
            assert_eq!(may_change(&last, change, 1), Err(Refusal::LastCoordinator));
            assert_eq!(may_change(&last, change, 2), Ok(()));
        }
        assert_eq!(
            may_change(&last, Change::Relation(Relation::Family), 1),
            Ok(())
        );
        let member = target(Role::Member, "active");
        assert_eq!(may_change(&member, Change::Deactivate, 1), Ok(()));
        assert_eq!(
            may_change(&member, Change::Role(Role::Coordinator), 1),
            Ok(())
        );
    }

    #[test]
    fn nothing_is_changed_to_what_it_is() {
        let member = target(Role::Member, "active");
        assert_eq!(
            may_change(&member, Change::Role(Role::Member), 5),
            Err(Refusal::Unchanged)
        );
        assert_eq!(
            may_change(&member, Change::Relation(Relation::Patient), 5),
            Err(Refusal::Unchanged)
        );
        assert_eq!(
            may_change(&member, Change::Reactivate, 5),
            Err(Refusal::Unchanged)
        );
        let gone = target(Role::Member, "deactivated");
        assert_eq!(
            may_change(&gone, Change::Deactivate, 5),
            Err(Refusal::Unchanged)
        );
        assert_eq!(may_change(&gone, Change::Reactivate, 5), Ok(()));
    }
}
