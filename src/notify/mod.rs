//! Notifications: what a member hears of, by e-mail and in the site.
//!
//! Every notice is a row of `notifications` for one member: a reply in a followed topic, a
//! mention, a Q&A answer, a café reminder, an announcement. Each member chooses, per kind, to
//! get its e-mails not at all, at once, or in a daily digest ([`rules::DIGEST_HOUR`]), and may
//! set quiet hours in the site's time zone: mail due in them waits until they end. Account mail
//! (password reset, e-mail confirmation, invitations) never passes through here and is never
//! held. Preferences, visibility and blocks are read again when a mail is written, by
//! [`mailer`], whatever they were when the notice was made. The list at `/notifications`
//! ([`list`]) shows each notice that may still be seen, with an unread count in the header.
//!
//! Other capabilities notify a member with [`member`], inside their own unit of work:
//!
//! ```ignore
//! // In the Q&A service, in the unit of work that publishes an answer to `question_id`:
//! notify::member(&mut work, asker_id, Notice::answer(question_id, &theme, &path)).await?;
//! // If the answer is taken back, its notices go with it:
//! notify::withdraw(&mut work, Kind::Answer, question_id).await?;
//! ```
//!
//! `member` writes the notice (listed in the site), then honours the member's preference: off
//! writes no mail; at once, outside quiet hours, writes the mail into the same unit of work (so it
//! stands or falls with it); otherwise the mail waits for the mailer (quiet hours, digest).

pub mod list;
pub mod mailer;
pub mod prefs;
pub mod rules;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::db::{self, Exec};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::work::Work;

/// The kinds of notice, each with its own e-mail preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new post in a followed topic or category.
    Reply,
    Mention,
    /// An expert answered the member's question (the Q&A calls [`member`]).
    Answer,
    /// A café session the member asked to be reminded of starts soon (mail only).
    Cafe,
    Announcement,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Reply,
        Kind::Mention,
        Kind::Answer,
        Kind::Cafe,
        Kind::Announcement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::Mention => "mention",
            Kind::Answer => "answer",
            Kind::Cafe => "cafe",
            Kind::Announcement => "announcement",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Replies and mentions: about a post, queued with it and gathered into one mail.
    pub fn is_post(self) -> bool {
        matches!(self, Kind::Reply | Kind::Mention)
    }

    /// How long notices of this kind gather before an "at once" mail: replies and mentions
    /// wait `delay` (`notify_delay_seconds`) so a busy thread sends one mail; others go at once.
    pub fn gathers(self, delay: i64) -> i64 {
        if self.is_post() { delay } else { 0 }
    }
}

/// How a member gets the e-mails of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Off,
    Now,
    Digest,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Off, Mode::Now, Mode::Digest];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Now => "now",
            Mode::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A member's preferences: a mode per kind (at once unless chosen otherwise) and quiet hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefs {
    modes: [Mode; 5],
    /// Minutes after local midnight (from, until).
    pub quiet: Option<(i64, i64)>,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs {
            modes: [Mode::Now; 5],
            quiet: None,
        }
    }
}

impl Prefs {
    pub async fn load(exec: Exec<'_>, user_id: i64) -> Result<Prefs, sqlx::Error> {
        let (rows, quiet) = on_one(exec, user_id).await?;
        let mut prefs = Prefs {
            quiet,
            ..Prefs::default()
        };
        for (kind, mode) in rows {
            if let (Some(kind), Some(mode)) = (Kind::parse(&kind), Mode::parse(&mode)) {
                prefs.set(kind, mode);
            }
        }
        Ok(prefs)
    }

    pub fn mode(&self, kind: Kind) -> Mode {
        self.modes[kind as usize]
    }

    pub fn set(&mut self, kind: Kind, mode: Mode) {
        self.modes[kind as usize] = mode;
    }
}

async fn on_one(
    exec: Exec<'_>,
    user_id: i64,
) -> Result<(Vec<(String, String)>, Option<(i64, i64)>), sqlx::Error> {
    // Two statements on the one connection in hand.
    let mut exec = exec;
    let rows = db::notify::prefs(exec.again(), user_id).await?;
    let quiet = db::notify::quiet_hours(exec, user_id).await?;
    Ok((rows, quiet))
}

/// What a notice of a kind other than a reply or a mention is about.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    kind: Kind,
    ref_id: i64,
    title: &'a str,
    path: &'a str,
}

impl<'a> Notice<'a> {
    /// An answer to the member's question `question_id`: `title` is what the list and the mail
    /// name (the question's theme), `path` the site path that shows the answer (`/qa/...`).
    pub fn answer(question_id: i64, title: &'a str, path: &'a str) -> Notice<'a> {
        Notice {
            kind: Kind::Answer,
            ref_id: question_id,
            title,
            path,
        }
    }

    pub fn announcement(id: i64, title: &'a str) -> Notice<'a> {
        Notice {
            kind: Kind::Announcement,
            ref_id: id,
            title,
            path: "/",
        }
    }

    /// A reminder of café session `session_id` (mail only: not listed in the site).
    pub fn cafe(session_id: i64, room: &'a str) -> Notice<'a> {
        Notice {
            kind: Kind::Cafe,
            ref_id: session_id,
            title: room,
            path: "",
        }
    }
}

/// Notifies member `user_id` of `notice` in the caller's unit of work, honouring their
/// preferences (see the module's documentation). The notice's mail, when it goes at once, is in
/// the same transaction; an inactive member gets neither mail nor notice.
pub async fn member(work: &mut Work<'_>, user_id: i64, notice: Notice<'_>) -> AppResult<()> {
    notice_for(work, user_id, notice, true).await
}

/// A notice in the member's list with no e-mail at all (an announcement not e-mailed).
pub(crate) async fn listed_only(
    work: &mut Work<'_>,
    user_id: i64,
    notice: Notice<'_>,
) -> AppResult<()> {
    notice_for(work, user_id, notice, false).await
}

async fn notice_for(
    work: &mut Work<'_>,
    user_id: i64,
    notice: Notice<'_>,
    mailed: bool,
) -> AppResult<()> {
    let listed = notice.kind != Kind::Cafe;
    if listed && (!notice.path.starts_with('/') || notice.path.starts_with("//")) {
        return Err(AppError::Internal(format!(
            "a notice's path must be a site path: {:?}",
            notice.path
        )));
    }
    let now = work.now();
    let Some((user, email)) = mailer::recipient(work, user_id).await? else {
        return Ok(());
    };
    let id = db::notify::insert(
        work.exec(),
        &db::notify::NewNotice {
            user_id,
            kind: notice.kind.as_str(),
            ref_id: notice.ref_id,
            title: notice.title,
            path: notice.path,
            listed,
        },
        now,
    )
    .await?;
    if listed {
        work.announce(Event::NoticesChanged { user_id });
    }
    let prefs = Prefs::load(work.exec(), user_id).await?;
    let mode = if mailed {
        prefs.mode(notice.kind)
    } else {
        Mode::Off
    };
    let tz = &work.app().site.time_zone();
    let at_once = mode == Mode::Now && !rules::is_quiet(tz, prefs.quiet, now);
    if mode == Mode::Off || at_once {
        db::notify::mark_mailed(work.exec(), &[id], now).await?;
    }
    if at_once {
        let pending = db::notify::Pending {
            id,
            kind: notice.kind.as_str().to_owned(),
            post_id: None,
            ref_id: Some(notice.ref_id),
            title: notice.title.to_owned(),
            path: notice.path.to_owned(),
            created_at: now,
        };
        mailer::write_mails(work, &user, &email, &[pending], false).await?;
    }
    Ok(())
}

/// Takes back every notice of `kind` about `ref_id` (an answer withdrawn, say), mailed or not.
pub async fn withdraw(work: &mut Work<'_>, kind: Kind, ref_id: i64) -> AppResult<()> {
    for user_id in db::notify::withdraw(work.exec(), kind.as_str(), ref_id).await? {
        work.announce(Event::NoticesChanged { user_id });
    }
    Ok(())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list::page))
        .route("/notifications/read", post(list::read_all))
        .route("/notifications/{id}", get(list::open))
        .route("/account/notifications", post(prefs::save))
}

pub fn public_routes() -> Router<AppState> {
    Router::new().route(
        "/unsubscribe/{user}/{what}/{signature}/settings",
        post(prefs::save_signed),
    )
}
