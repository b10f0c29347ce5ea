//! The account rules and their transactions: joining by invitation, password reset, and the
//! member's own settings. Each change is one unit of work with its log row, its mail and the
//! `MemberChanged` that tells the caches; the handlers only parse, call one of these and render.

use crate::App;
use crate::auth::session::TextSize;
use crate::auth::token;
use crate::db::invitations::Invitation;
use crate::db::tokens::{Purpose, UserToken};
use crate::db::{self, users::NewUser, users::SessionUser};
use crate::domain::account::{DisplayName, Email};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::i18n::Locale;
use crate::jobs;
use crate::mail::Mail;
use crate::work::Work;

/// How long a password-reset link stays valid.
const RESET_SECONDS: i64 = 3600;
/// How long the link that confirms a new address stays valid.
const EMAIL_CHANGE_SECONDS: i64 = 24 * 3600;

/// A member's change to their own account, written down with them as its subject.
async fn log_own(work: &mut Work<'_>, user_id: i64, action: Action) -> Result<(), sqlx::Error> {
    work.log(LogRecord::new(user_id, action, TargetKind::Member, user_id).about(user_id))
        .await
}

/// A new single-use link's secret for `purpose` (carrying `new_email` for an address change),
/// valid for `seconds`; the member's earlier links for it stop working.
async fn issue_token(
    work: &mut Work<'_>,
    user_id: i64,
    purpose: Purpose,
    new_email: Option<&str>,
    seconds: i64,
) -> Result<String, sqlx::Error> {
    let now = work.now();
    let secret = token::generate();
    db::tokens::retire_all(work.exec(), user_id, purpose, now).await?;
    db::tokens::insert(
        work.exec(),
        user_id,
        purpose,
        &secret.hash,
        new_email,
        now,
        now + seconds,
    )
    .await?;
    Ok(secret.secret)
}

/// What became of an invitation's acceptance.
pub enum Joined {
    Member(i64),
    /// Another member has this name, or one that looks like it.
    NameTaken,
    /// The address became a member's meanwhile: the link cannot be used.
    Unusable,
}

/// Makes the invitee a member with the name and password (hash) they chose, in `locale`.
pub async fn accept_invitation(
    app: &App,
    invitation: &Invitation,
    name: &DisplayName,
    password_hash: &str,
    locale: Locale,
) -> AppResult<Joined> {
    let mut work = app.work().await?;
    if db::users::display_name_taken(work.exec(), &name.key, &name.skeleton, None).await? {
        return Ok(Joined::NameTaken);
    }
    if db::users::email_exists(work.exec(), &invitation.email).await? {
        return Ok(Joined::Unusable);
    }
    let new_user = NewUser {
        email: &invitation.email,
        display_name: name,
        password_hash,
        role: invitation.role,
        relation: invitation.relation,
        locale: locale.as_str(),
        invited_by: invitation.invited_by,
        now: work.now(),
    };
    let user_id = match db::users::insert(work.exec(), &new_user).await {
        Ok(id) => id,
        // Someone took the name between the check and the insert.
        Err(e) if db::is_unique_violation(&e) => return Ok(Joined::NameTaken),
        Err(e) => return Err(e.into()),
    };
    let now = work.now();
    if !db::invitations::mark_accepted(work.exec(), invitation.id, user_id, now).await? {
        return Err(AppError::StaleForm);
    }
    log_own(&mut work, user_id, Action::InvitationAccepted).await?;
    work.commit().await?;
    tracing::info!(
        user = user_id,
        invitation = invitation.id,
        "invitation accepted"
    );
    Ok(Joined::Member(user_id))
}

/// Mails a reset link to `email` if it is an active member's; otherwise does nothing, and the
/// caller answers the same either way.
pub async fn request_reset(app: &App, email: &Email) -> AppResult<()> {
    let mut work = app.work().await?;
    let account = db::users::credentials_by_email(work.exec(), email.as_str()).await?;
    let Some(account) = account.filter(|a| a.status == "active") else {
        return Ok(());
    };
    let secret = issue_token(
        &mut work,
        account.id,
        Purpose::PasswordReset,
        None,
        RESET_SECONDS,
    )
    .await?;
    let link = app.config.link(&format!("/reset/{secret}"));
    let locale = Locale::from_code(&account.locale);
    work.mail(locale, email.as_str(), &Mail::PasswordReset { link: &link })
        .await?;
    work.commit().await?;
    tracing::info!(user = account.id, "password reset requested");
    Ok(())
}

/// Sets the new password (hash) through a reset link's token; the new auth version, or `None`
/// when the link was used meanwhile. Every other session of the account ends.
pub async fn reset_password(
    app: &App,
    found: &UserToken,
    password_hash: &str,
) -> AppResult<Option<i64>> {
    let mut work = app.work().await?;
    let now = work.now();
    if !db::tokens::mark_used(work.exec(), found.id, now).await? {
        return Ok(None);
    }
    let version = db::users::set_password(work.exec(), found.user_id, password_hash, now).await?;
    log_own(&mut work, found.user_id, Action::PasswordReset).await?;
    work.announce(Event::MemberChanged {
        user_id: found.user_id,
    });
    work.commit().await?;
    tracing::info!(user = found.user_id, "password reset");
    Ok(Some(version))
}

/// Renames the member; `false` when another member has the name or one that looks like it.
pub async fn change_name(app: &App, user_id: i64, name: &DisplayName) -> AppResult<bool> {
    let mut work = app.work().await?;
    let now = work.now();
    if db::users::display_name_taken(work.exec(), &name.key, &name.skeleton, Some(user_id)).await? {
        return Ok(false);
    }
    match db::users::set_display_name(work.exec(), user_id, name, now).await {
        Ok(()) => {}
        // Someone took the name between the check and the update.
        Err(e) if db::is_unique_violation(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    log_own(&mut work, user_id, Action::NameChanged).await?;
    work.announce(Event::MemberChanged { user_id });
    work.commit().await?;
    Ok(true)
}

/// Sets a new password (hash) and tells the member's address, in `locale`; returns the new auth
/// version, which every other session lacks.
pub async fn change_password(
    app: &App,
    user: &SessionUser,
    email: &str,
    locale: Locale,
    password_hash: &str,
) -> AppResult<i64> {
    let mut work = app.work().await?;
    let now = work.now();
    let version = db::users::set_password(work.exec(), user.id, password_hash, now).await?;
    log_own(&mut work, user.id, Action::PasswordChanged).await?;
    let notice = Mail::PasswordChanged {
        display_name: &user.display_name,
    };
    work.mail(locale, email, &notice).await?;
    work.announce(Event::MemberChanged { user_id: user.id });
    work.commit().await?;
    Ok(version)
}

/// Mails a confirmation link to the new address, unless it already belongs to someone (then
/// nothing happens, and the caller answers the same, so the form finds out nobody's address).
pub async fn request_email_change(
    app: &App,
    user: &SessionUser,
    locale: Locale,
    email: &Email,
) -> AppResult<()> {
    let mut work = app.work().await?;
    if db::users::email_exists(work.exec(), email.as_str()).await? {
        return Ok(());
    }
    let secret = issue_token(
        &mut work,
        user.id,
        Purpose::EmailChange,
        Some(email.as_str()),
        EMAIL_CHANGE_SECONDS,
    )
    .await?;
    let link = app.config.link(&format!("/account/email/confirm/{secret}"));
    let change = Mail::EmailChange {
        link: &link,
        display_name: &user.display_name,
    };
    work.mail(locale, email.as_str(), &change).await?;
    work.commit().await?;
    Ok(())
}

/// Moves the account to the address a confirmation token carries; `false` when the link cannot
/// be used (used meanwhile, the account gone, the address taken). The old address is told.
pub async fn confirm_email(app: &App, found: &UserToken) -> AppResult<bool> {
    let Some(new_email) = found.new_email.as_deref() else {
        return Ok(false);
    };
    let mut work = app.work().await?;
    let now = work.now();
    let user = db::users::session_user(work.exec(), found.user_id).await?;
    let old_email = db::users::email_of(work.exec(), found.user_id).await?;
    let (Some(user), Some(old_email)) = (user, old_email) else {
        return Ok(false);
    };
    if !db::tokens::mark_used(work.exec(), found.id, now).await?
        || db::users::email_exists(work.exec(), new_email).await?
    {
        return Ok(false);
    }
    match db::users::set_email(work.exec(), user.id, new_email, now).await {
        Err(e) if db::is_unique_violation(&e) => return Ok(false),
        other => other?,
    }
    log_own(&mut work, user.id, Action::EmailChanged).await?;
    // The old address hears of the change, in case it was not the member who made it.
    let notice = Mail::EmailChanged {
        display_name: &user.display_name,
        new_email,
    };
    work.mail(Locale::from_code(&user.locale), &old_email, &notice)
        .await?;
    work.announce(Event::MemberChanged { user_id: user.id });
    work.commit().await?;
    Ok(true)
}

/// The member's language and text size.
pub async fn set_preferences(
    app: &App,
    user_id: i64,
    locale: Locale,
    size: TextSize,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::users::set_preferences(work.exec(), user_id, locale.as_str(), size.as_str(), now).await?;
    work.announce(Event::MemberChanged { user_id });
    work.commit().await?;
    Ok(())
}

/// Stores what the member tells about themselves and which of it others see; their member page
/// reads it on the next request.
pub async fn save_profile(
    app: &App,
    user_id: i64,
    profile: &crate::db::profiles::MemberProfile,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::profiles::save_member_profile(work.exec(), user_id, profile, now).await?;
    work.commit().await?;
    Ok(())
}

/// What became of a request to delete one's own account.
pub enum Leaving {
    Deleted,
    /// The member is the last active coordinator: someone must still run the site.
    LastCoordinator,
}

/// Deletes the member's own account in one unit of work, as the registry of member data says
/// (see [`db::member_data`]): personal data erased, what they wrote deleted or kept under
/// "退会したメンバー" as they chose, the users row left as a tombstone, every session ended (the
/// auth version moves on), and a log row that holds their id and nothing else.
pub async fn delete_account(
    app: &App,
    user: &SessionUser,
    choice: db::member_data::ContentChoice,
) -> AppResult<Leaving> {
    let mut work = app.work().await?;
    let now = work.now();
    if user.role == crate::domain::role::Role::Coordinator {
        let coordinators = db::members::lock_active_coordinators(work.exec()).await?;
        if coordinators <= 1 {
            return Ok(Leaving::LastCoordinator);
        }
    }
    let Some(email) = db::users::email_of(work.exec(), user.id).await? else {
        return Err(AppError::StaleForm);
    };
    let name = db::users::session_user(work.exec(), user.id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_else(|| user.display_name.clone());
    let deleted =
        db::member_data::delete_member(work.exec(), user.id, &email, &name, choice, now).await?;
    jobs::export::cancel(&mut work, user.id).await?;
    work.log(LogRecord::new(
        user.id,
        Action::AccountDeleted,
        TargetKind::Member,
        user.id,
    ))
    .await?;
    for (post_id, topic_id) in deleted.posts {
        work.announce(Event::PostChanged { post_id, topic_id });
        work.announce(Event::TopicChanged { topic_id });
    }
    for room_id in deleted.rooms {
        work.announce(Event::CafeMessages { room_id });
    }
    work.announce(Event::MemberChanged { user_id: user.id });
    work.announce(Event::BlocksChanged);
    work.announce(Event::FollowsChanged { user_id: user.id });
    work.announce(Event::DraftsChanged { user_id: user.id });
    work.commit().await?;
    tracing::info!(user = user.id, "account deleted");
    Ok(Leaving::Deleted)
}

/// Asks for an export of the member's own data, prepared in the background; `false` when one
/// is being prepared already (the request joins it).
pub async fn request_export(app: &App, user: &SessionUser) -> AppResult<bool> {
    let mut work = app.work().await?;
    let queued = jobs::export::queue(&mut work, user.id).await?;
    work.commit().await?;
    if queued {
        tracing::info!(user = user.id, "data export requested");
    }
    Ok(queued)
}

/// The member's newest export and how its preparation went.
pub async fn latest_export(
    app: &App,
    user: &SessionUser,
) -> AppResult<Option<(db::member_export::ExportRow, jobs::Status)>> {
    let mut conn = app.db.conn().await?;
    Ok(jobs::export::latest(conn.exec(), user.id).await?)
}

/// What a mailed export link leads to.
pub enum ExportLink {
    /// It works, until then.
    Ready {
        expires_at: i64,
    },
    /// Downloaded then.
    Used {
        at: i64,
    },
    Expired,
    /// Not a link of this member's (or not one at all), or one not mailed yet.
    Unknown,
}

impl ExportLink {
    /// Where the link of `export` stands at `now`.
    pub fn of(export: Option<&db::member_export::ExportRow>, now: i64) -> ExportLink {
        match export {
            None => ExportLink::Unknown,
            Some(e) => match (e.downloaded_at, e.expires_at) {
                (Some(at), _) => ExportLink::Used { at },
                (None, Some(at)) if at > now => ExportLink::Ready { expires_at: at },
                (None, Some(_)) => ExportLink::Expired,
                (None, None) => ExportLink::Unknown,
            },
        }
    }
}

/// Where the member's link stands, without using it.
pub async fn check_export_link(
    app: &App,
    user: &SessionUser,
    secret: &str,
) -> AppResult<ExportLink> {
    if !token::looks_valid(secret) {
        return Ok(ExportLink::Unknown);
    }
    let mut conn = app.db.conn().await?;
    let export = db::member_export::by_link(conn.exec(), user.id, &token::hash(secret)).await?;
    Ok(ExportLink::of(export.as_ref(), db::now()))
}

/// An export whose link was just used: what its file is read from.
pub struct TakenExport {
    pub id: i64,
    pub member: i64,
    pub prepared_at: i64,
}

/// Uses the member's link: it works no more, and the download is logged, in one transaction;
/// the file is then read from the export (`jobs::export::file`). Or why the link does not work.
pub async fn take_export(
    app: &App,
    user: &SessionUser,
    secret: &str,
) -> AppResult<Result<TakenExport, ExportLink>> {
    if !token::looks_valid(secret) {
        return Ok(Err(ExportLink::Unknown));
    }
    let mut work = app.work().await?;
    let now = work.now();
    let export = db::member_export::by_link(work.exec(), user.id, &token::hash(secret)).await?;
    let state = ExportLink::of(export.as_ref(), now);
    let (Some(export), ExportLink::Ready { .. }) = (export, &state) else {
        return Ok(Err(state));
    };
    db::member_export::mark_downloaded(work.exec(), export.id, now).await?;
    work.log(LogRecord::new(
        user.id,
        Action::DataExported,
        TargetKind::Member,
        user.id,
    ))
    .await?;
    work.commit().await?;
    tracing::info!(user = user.id, "data export downloaded");
    Ok(Ok(TakenExport {
        id: export.id,
        member: export.user_id,
        prepared_at: export.ready_at.unwrap_or(now),
    }))
}

/// Deletes the prepared files of exports whose link expired unused.
pub async fn forget_expired_exports(app: &App) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    let forgotten = db::member_export::forget_expired(work.exec(), now).await?;
    work.commit().await?;
    if forgotten > 0 {
        tracing::info!(parts = forgotten, "expired exports deleted");
    }
    Ok(())
}
