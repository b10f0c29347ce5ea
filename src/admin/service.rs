//! The coordinator tools' rules and transactions: invitations, announcements, categories and
//! equivalent search terms. Each change is one unit of work with its log row, its mail and its
//! event; the handlers only parse, call one of these and render.

use crate::App;
use crate::auth::token;
use crate::config::Config;
use crate::db::forums::{CategoryTexts, ManagedCategory};
use crate::db::invitations::{Invitation, NewInvitation};
use crate::db::users::SessionUser;
use crate::db::{self, Db};
use crate::domain::account::Email;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::{Relation, Role};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::i18n::Locale;
use crate::jobs;
use crate::mail::Mail;
use crate::markdown;
use crate::notify::{self, Notice};
use crate::web::layout::{local_time, pages_for};
use crate::work::Work;

// Invitations.

/// What a coordinator chose for a batch.
#[derive(Debug, Clone, Copy)]
pub struct InviteAs {
    pub role: Role,
    pub relation: Relation,
    pub locale: Locale,
}

/// What happened to one address of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Invited,
    AlreadyMember,
    AlreadyInvited,
}

fn invitation_expiry(days: u32, now: i64) -> i64 {
    now + i64::from(days) * 86_400
}

/// The invitation numbered `id`, or 404.
async fn invitation_by_id(work: &mut Work<'_>, id: i64) -> AppResult<Invitation> {
    db::invitations::by_id(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A row of the typed log about invitation `id`.
async fn log_invitation(
    work: &mut Work<'_>,
    actor: i64,
    action: Action,
    id: i64,
) -> Result<(), sqlx::Error> {
    work.log(LogRecord::new(actor, action, TargetKind::Invitation, id))
        .await
}

/// One page of the invitations (`page` clamped to those there are), with the page and the
/// number of pages. Real addresses are shown to coordinators alone, and each showing is
/// written down.
pub async fn invitations_page(
    app: &App,
    viewer: i64,
    page: i64,
    page_size: i64,
) -> AppResult<(Vec<Invitation>, i64, i64)> {
    let mut work = app.work().await?;
    let total = db::invitations::count(work.exec()).await?;
    let pages = pages_for(total, page_size);
    let page = page.clamp(1, pages);
    let list = db::invitations::list(work.exec(), page_size, (page - 1) * page_size).await?;
    work.log(LogRecord::new(
        viewer,
        Action::InvitationsViewed,
        TargetKind::InvitationList,
        page,
    ))
    .await?;
    work.commit().await?;
    Ok((list, page, pages))
}

/// An open (pending or expired) invitation, shown to be revoked: the showing of its address is
/// written down. Accepted or revoked since the list was shown: a stale form.
pub async fn invitation_to_revoke(app: &App, viewer: i64, id: i64) -> AppResult<Invitation> {
    let mut work = app.work().await?;
    let invitation = invitation_by_id(&mut work, id).await?;
    if invitation.accepted_at.is_some() || invitation.revoked_at.is_some() {
        return Err(AppError::StaleForm);
    }
    log_invitation(&mut work, viewer, Action::InvitationViewed, id).await?;
    work.commit().await?;
    Ok(invitation)
}

/// Invites a checked batch in one unit of work: addresses that are members or invited already
/// are reported and left as they are; the others are invited and their mails queued.
pub async fn invite_batch(
    app: &App,
    inviter: &SessionUser,
    batch: &[(Email, InviteAs)],
) -> AppResult<Vec<(String, Outcome)>> {
    let mut work = app.work().await?;
    let now = work.now();
    let expires_at = invitation_expiry(app.site.get().invitation_days, now);
    let expires_text = local_time(&app.site, expires_at);
    let mut outcomes = Vec::with_capacity(batch.len());
    for (email, choice) in batch {
        let address = email.as_str();
        if db::users::email_exists(work.exec(), address).await? {
            outcomes.push((address.to_owned(), Outcome::AlreadyMember));
            continue;
        }
        if db::invitations::open_for_email(work.exec(), address)
            .await?
            .is_some()
        {
            outcomes.push((address.to_owned(), Outcome::AlreadyInvited));
            continue;
        }
        let secret = token::generate();
        let new = NewInvitation {
            email: address,
            role: choice.role,
            relation: choice.relation,
            locale: choice.locale.as_str(),
            token_hash: &secret.hash,
            invited_by: Some(inviter.id),
            now,
            expires_at,
        };
        let id = db::invitations::insert(work.exec(), &new).await?;
        let link = app.config.link(&format!("/invite/{}", secret.secret));
        let invitation = Mail::Invitation {
            link: &link,
            inviter: &inviter.display_name,
            expires: &expires_text,
        };
        work.mail(choice.locale, address, &invitation).await?;
        log_invitation(&mut work, inviter.id, Action::InvitationCreated, id).await?;
        outcomes.push((address.to_owned(), Outcome::Invited));
    }
    work.commit().await?;
    Ok(outcomes)
}

/// A new link for an open invitation (the old link stops working) and a new validity period;
/// returns the address it was mailed to.
pub async fn resend_invitation(app: &App, sender: &SessionUser, id: i64) -> AppResult<String> {
    let mut work = app.work().await?;
    let now = work.now();
    let expires_at = invitation_expiry(app.site.get().invitation_days, now);
    let invitation = invitation_by_id(&mut work, id).await?;
    let secret = token::generate();
    if !db::invitations::renew(work.exec(), id, &secret.hash, now, expires_at).await? {
        return Err(AppError::StaleForm);
    }
    let link = app.config.link(&format!("/invite/{}", secret.secret));
    let expires = local_time(&app.site, expires_at);
    let mail = Mail::Invitation {
        link: &link,
        inviter: &sender.display_name,
        expires: &expires,
    };
    let locale = Locale::from_code(&invitation.locale);
    work.mail(locale, &invitation.email, &mail).await?;
    log_invitation(&mut work, sender.id, Action::InvitationResent, id).await?;
    work.commit().await?;
    Ok(invitation.email)
}

/// Revokes an open invitation; returns its address.
pub async fn revoke_invitation(app: &App, actor: i64, id: i64) -> AppResult<String> {
    let mut work = app.work().await?;
    let now = work.now();
    let invitation = invitation_by_id(&mut work, id).await?;
    if !db::invitations::revoke(work.exec(), id, now).await? {
        return Err(AppError::StaleForm);
    }
    log_invitation(&mut work, actor, Action::InvitationRevoked, id).await?;
    work.commit().await?;
    Ok(invitation.email)
}

#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error("{0} is not a valid e-mail address")]
    BadAddress(String),
    #[error("{0} is already a member; they can log in or reset their password")]
    AlreadyMember(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// From the command line: an invitation as coordinator, whose link is printed instead of mailed.
/// An open invitation for the same address is renewed, so running the command twice works.
/// No server runs here (no event bus, no mail), so this is a plain transaction on the database.
pub async fn invite_coordinator(
    db: &Db,
    config: &Config,
    raw_email: &str,
) -> Result<String, CoordinatorError> {
    let email = Email::parse(raw_email)
        .ok_or_else(|| CoordinatorError::BadAddress(raw_email.to_owned()))?;
    let now = db::now();
    let secret = token::generate();
    let mut tx = db.begin().await?;
    let site = crate::admin::site::SiteValues::load(tx.exec(), config).await?;
    let expires_at = invitation_expiry(site.invitation_days, now);
    if db::users::email_exists(tx.exec(), email.as_str()).await? {
        return Err(CoordinatorError::AlreadyMember(email.as_str().to_owned()));
    }
    // A second run replaces the first link rather than failing on the open invitation.
    if let Some(open) = db::invitations::open_for_email(tx.exec(), email.as_str()).await? {
        db::invitations::revoke(tx.exec(), open.id, now).await?;
    }
    let new = NewInvitation {
        email: email.as_str(),
        role: Role::Coordinator,
        relation: Relation::Supporter,
        locale: Locale::Ja.as_str(),
        token_hash: &secret.hash,
        invited_by: None,
        now,
        expires_at,
    };
    let id = db::invitations::insert(tx.exec(), &new).await?;
    // The command line acts without an account.
    let record = LogRecord {
        actor_id: None,
        ..LogRecord::new(0, Action::InvitationCreated, TargetKind::Invitation, id)
            .because("command line, coordinator")
    };
    db::audit::record(tx.exec(), &record, now).await?;
    tx.commit().await?;
    Ok(config.link(&format!("/invite/{}", secret.secret)))
}

// Announcements.

/// Pins an announcement on every member's home page, and with `email` mails it to every active
/// member in the same unit of work.
pub async fn post_announcement(
    app: &App,
    author: i64,
    title: &str,
    body: &str,
    email: bool,
) -> AppResult<()> {
    let html = markdown::render(body);
    let mut work = app.work().await?;
    let now = work.now();
    let id =
        db::notifications::insert_announcement(work.exec(), author, title, body, &html, email, now)
            .await?;
    // Every member sees it in their notifications; e-mailed, each gets it as they chose (at
    // once, in the digest, or not at all), the e-mail written by the notice.
    if email {
        for member in db::notify::active_members(work.exec()).await? {
            notify::member(&mut work, member, Notice::announcement(id, title)).await?;
        }
    } else {
        for member in db::notify::active_members(work.exec()).await? {
            notify::listed_only(&mut work, member, Notice::announcement(id, title)).await?;
        }
    }
    work.log(
        LogRecord::new(
            author,
            Action::AnnouncementPosted,
            TargetKind::Announcement,
            id,
        )
        .because(format!("e-mailed: {email}")),
    )
    .await?;
    work.announce(Event::AnnouncementsChanged);
    work.commit().await?;
    Ok(())
}

/// Takes an announcement off the home pages.
pub async fn archive_announcement(app: &App, actor: i64, id: i64) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    if !db::notifications::archive_announcement(work.exec(), id, now).await? {
        return Err(AppError::NotFound);
    }
    work.log(LogRecord::new(
        actor,
        Action::AnnouncementArchived,
        TargetKind::Announcement,
        id,
    ))
    .await?;
    work.announce(Event::AnnouncementsChanged);
    work.commit().await?;
    Ok(())
}

// Categories.

/// A category as it may be stored.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub description: String,
    /// `None` when left empty: English readers then see the Japanese text.
    pub name_en: Option<String>,
    pub description_en: Option<String>,
    pub min_role_rank: i64,
    pub only_relation: Option<Relation>,
}

impl Checked {
    pub fn relation(&self) -> Option<&'static str> {
        self.only_relation.map(Relation::as_str)
    }

    pub fn texts(&self) -> CategoryTexts<'_> {
        CategoryTexts {
            name: &self.name,
            description: &self.description,
            name_en: self.name_en.as_deref(),
            description_en: self.description_en.as_deref(),
        }
    }

    /// Whether it says what `c` already says.
    fn same_as(&self, c: &ManagedCategory) -> bool {
        self.name == c.name
            && self.description == c.description
            && self.name_en == c.name_en
            && self.description_en == c.description_en
            && self.min_role_rank == c.min_role_rank
            && self.relation() == c.only_relation.as_deref()
    }
}

pub async fn create_category(app: &App, actor: i64, checked: &Checked) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::forums::lock_categories(work.exec()).await?;
    let id = db::forums::insert_category(
        work.exec(),
        checked.texts(),
        checked.min_role_rank,
        checked.relation(),
        now,
    )
    .await?;
    let what = format!(
        "{:?}: min rank {}, relation {}",
        checked.name,
        checked.min_role_rank,
        checked.relation().unwrap_or("any")
    );
    work.log(
        LogRecord::new(actor, Action::CategoryCreated, TargetKind::Category, id).because(what),
    )
    .await?;
    work.announce(Event::CategoriesChanged);
    work.commit().await?;
    Ok(())
}

/// What became of an edit.
pub enum Edited {
    /// Stored (or nothing to store: the same as before).
    Saved(Checked),
    /// The form's reasons, and whether the category is archived, for the form shown again.
    Refused { errors: Vec<String>, archived: bool },
}

/// Edits a category. `check` is the form's check against the category as stored (who may see it
/// decides what may be chosen), run in the same unit of work; an unchanged category writes
/// nothing.
pub async fn update_category(
    app: &App,
    actor: i64,
    id: i64,
    check: impl FnOnce(&ManagedCategory) -> Result<Checked, Vec<String>>,
) -> AppResult<Edited> {
    let mut work = app.work().await?;
    let before = db::forums::managed_category(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let checked = match check(&before) {
        Ok(checked) => checked,
        Err(errors) => {
            let archived = before.archived_at.is_some();
            return Ok(Edited::Refused { errors, archived });
        }
    };
    if checked.same_as(&before) {
        return Ok(Edited::Saved(checked));
    }
    db::forums::update_category(
        work.exec(),
        id,
        checked.texts(),
        checked.min_role_rank,
        checked.relation(),
    )
    .await?;
    let what = format!(
        "{:?} -> {:?}, English {:?} -> {:?}, min rank {} -> {}, relation {} -> {}, description {}",
        before.name,
        checked.name,
        before.name_en.as_deref().unwrap_or(""),
        checked.name_en.as_deref().unwrap_or(""),
        before.min_role_rank,
        checked.min_role_rank,
        before.only_relation.as_deref().unwrap_or("any"),
        checked.relation().unwrap_or("any"),
        if checked.description == before.description
            && checked.description_en == before.description_en
        {
            "kept"
        } else {
            "changed"
        }
    );
    work.log(LogRecord::new(actor, Action::CategoryEdited, TargetKind::Category, id).because(what))
        .await?;
    work.announce(Event::CategoriesChanged);
    work.commit().await?;
    Ok(Edited::Saved(checked))
}

#[derive(Clone, Copy)]
pub enum Direction {
    Up,
    Down,
}

/// The index of the item at `at`'s neighbour in `direction` among the active items of an
/// ordered list (categories, café rooms), skipping archived ones, which keep their place; `None`
/// when the item is archived or already at that end.
fn neighbour(active: &[bool], at: usize, direction: Direction) -> Option<usize> {
    if !active.get(at).copied().unwrap_or(false) {
        return None;
    }
    match direction {
        Direction::Up => active[..at].iter().rposition(|a| *a),
        Direction::Down => active[at + 1..]
            .iter()
            .position(|a| *a)
            .map(|offset| at + 1 + offset),
    }
}

/// The stored position (1, 2, …) of the item at `index` of an ordered list.
fn position_of(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX - 1) + 1
}

/// An item of a list coordinators order (categories, café rooms).
pub trait Ordered {
    fn id(&self) -> i64;
    fn position(&self) -> i64;
    fn archived(&self) -> bool;
}

impl Ordered for ManagedCategory {
    fn id(&self) -> i64 {
        self.id
    }
    fn position(&self) -> i64 {
        self.position
    }
    fn archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// What moving an item one place did to its list.
pub struct Moved {
    /// Where the moved item is now.
    pub to: usize,
    /// The item it swapped places with.
    pub swapped_with: i64,
    /// The positions to store, (id, position), for the items whose position changes when the
    /// list is numbered 1, 2, … in its new order.
    pub positions: Vec<(i64, i64)>,
}

/// Swaps item `id` of `all` (in stored order) with its neighbour among the items not archived,
/// which keep their place; `None` when there is nothing to move (first or last, or archived).
pub fn move_in<T: Ordered>(
    all: &mut [T],
    id: i64,
    direction: Direction,
) -> AppResult<Option<Moved>> {
    let at = all
        .iter()
        .position(|item| item.id() == id)
        .ok_or(AppError::NotFound)?;
    let active: Vec<bool> = all.iter().map(|item| !item.archived()).collect();
    let Some(to) = neighbour(&active, at, direction) else {
        return Ok(None);
    };
    all.swap(at, to);
    let positions = all
        .iter()
        .enumerate()
        .map(|(index, item)| (item.id(), item.position(), position_of(index)))
        .filter(|(_, before, after)| before != after)
        .map(|(id, _, after)| (id, after))
        .collect();
    Ok(Some(Moved {
        to,
        swapped_with: all[at].id(),
        positions,
    }))
}

/// Swaps a category with its neighbour among the categories members see (archived ones keep
/// their place), then numbers every category 1, 2, … in the new order: all in one unit of work.
/// Returns the moved category's name, or `None` when there was nothing to move (first or
/// last, or archived).
pub async fn move_category(
    app: &App,
    actor: i64,
    id: i64,
    direction: Direction,
) -> AppResult<Option<String>> {
    let mut work = app.work().await?;
    db::forums::lock_categories(work.exec()).await?;
    let mut all = db::forums::managed_categories(work.exec()).await?;
    let Some(moved) = move_in(&mut all, id, direction)? else {
        return Ok(None);
    };
    for (category, position) in &moved.positions {
        db::forums::set_category_position(work.exec(), *category, *position).await?;
    }
    let action = match direction {
        Direction::Up => Action::CategoryMovedUp,
        Direction::Down => Action::CategoryMovedDown,
    };
    let what = format!("swapped with category {}", moved.swapped_with);
    work.log(LogRecord::new(actor, action, TargetKind::Category, id).because(what))
        .await?;
    work.announce(Event::CategoriesChanged);
    work.commit().await?;
    Ok(Some(all.swap_remove(moved.to).name))
}

/// Archives or restores a category and returns its name; doing it twice (a repeated click)
/// changes nothing more.
pub async fn set_category_archived(
    app: &App,
    actor: i64,
    id: i64,
    archive: bool,
) -> AppResult<String> {
    let mut work = app.work().await?;
    let now = work.now();
    let category = db::forums::managed_category(work.exec(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if category.archived_at.is_some() == archive {
        return Ok(category.name);
    }
    db::forums::set_category_archived(work.exec(), id, archive.then_some(now)).await?;
    let action = if archive {
        Action::CategoryArchived
    } else {
        Action::CategoryRestored
    };
    let what = format!("{:?}, {} topics", category.name, category.topic_count);
    work.log(LogRecord::new(actor, action, TargetKind::Category, id).because(what))
        .await?;
    work.announce(Event::CategoriesChanged);
    work.commit().await?;
    Ok(category.name)
}

// Equivalent search terms.

/// Adds a group of equivalent terms and queues the re-normalizing of every post's search text
/// (a background job, `jobs::reindex`) in the same unit of work; search reads queries under the
/// terms both as they were and as they are until the job is done. `check` is the form's check
/// against the folded terms of the groups there are; returns why the terms cannot be a group.
pub async fn add_term_group(
    app: &App,
    actor: i64,
    check: impl FnOnce(&[String]) -> Result<Vec<String>, String>,
) -> AppResult<Result<(), String>> {
    let mut work = app.work().await?;
    let groups = db::search::term_groups(work.exec()).await?;
    let taken: Vec<String> = groups
        .iter()
        .flat_map(|g| crate::text::group_terms(&g.terms))
        .collect();
    let terms = match check(&taken) {
        Ok(terms) => terms.join(" "),
        Err(error) => return Ok(Err(error)),
    };
    let now = work.now();
    let id = db::search::add_term_group(work.exec(), &terms, now).await?;
    jobs::reindex::queue(
        &mut work,
        actor,
        groups.into_iter().map(|g| g.terms).collect(),
    )
    .await?;
    work.log(
        LogRecord::new(actor, Action::SearchTermsAdded, TargetKind::SearchTerms, id).because(terms),
    )
    .await?;
    work.commit().await?;
    tracing::info!(group = id, "equivalent search terms added");
    Ok(Ok(()))
}

/// Removes a group and queues the re-normalizing, like [`add_term_group`].
pub async fn remove_term_group(app: &App, actor: i64, id: i64) -> AppResult<()> {
    let mut work = app.work().await?;
    let groups = db::search::term_groups(work.exec()).await?;
    if !db::search::remove_term_group(work.exec(), id).await? {
        return Err(AppError::NotFound);
    }
    jobs::reindex::queue(
        &mut work,
        actor,
        groups.into_iter().map(|g| g.terms).collect(),
    )
    .await?;
    work.log(LogRecord::new(
        actor,
        Action::SearchTermsRemoved,
        TargetKind::SearchTerms,
        id,
    ))
    .await?;
    work.commit().await?;
    tracing::info!(group = id, "equivalent search terms removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_skip_archived_items_and_stop_at_the_ends() {
        let active = [true, false, true, true];
        assert_eq!(neighbour(&active, 2, Direction::Up), Some(0));
        assert_eq!(neighbour(&active, 0, Direction::Down), Some(2));
        assert_eq!(neighbour(&active, 0, Direction::Up), None);
        assert_eq!(neighbour(&active, 3, Direction::Down), None);
        assert_eq!(neighbour(&active, 1, Direction::Up), None, "archived");
        assert_eq!(neighbour(&active, 9, Direction::Up), None);
        assert_eq!(position_of(0), 1);
    }

    struct Item(i64, i64, bool);

    impl Ordered for Item {
        fn id(&self) -> i64 {
            self.0
        }
        fn position(&self) -> i64 {
            self.1
        }
        fn archived(&self) -> bool {
            self.2
        }
    }

    #[test]
    fn a_move_swaps_past_archived_items_and_renumbers_what_changed() {
        // Stored positions with a gap; item 20 is archived.
        let mut all = vec![Item(10, 1, false), Item(20, 2, true), Item(30, 5, false)];
        let moved = move_in(&mut all, 30, Direction::Up)
            .expect("known")
            .expect("moved");
        assert_eq!(moved.to, 0);
        assert_eq!(moved.swapped_with, 10);
        assert_eq!(moved.positions, vec![(30, 1), (10, 3)]);
        let order: Vec<i64> = all.iter().map(|i| i.0).collect();
        assert_eq!(order, vec![30, 20, 10]);
        assert!(
            move_in(&mut all, 30, Direction::Up)
                .expect("known")
                .is_none()
        );
        assert!(
            move_in(&mut all, 20, Direction::Down)
                .expect("known")
                .is_none()
        );
        assert!(matches!(
            move_in(&mut all, 99, Direction::Up),
            Err(AppError::NotFound)
        ));
    }
}
