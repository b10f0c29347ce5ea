//! Writes the notices' e-mails: at once from [`super::member`], or from the background task for
//! what waited (replies gathering, quiet hours, the daily digest). Each mail is written in the
//! member's language with everything checked again at that moment: the member is active and not
//! suspended, their preference for the kind (off now means no mail), each post still visible
//! with no block either way, an announcement still up, a café session still on and open to them.
//! Each mail's `List-Unsubscribe` turns off exactly the kinds it carries.

use std::time::Duration;

use tokio::sync::watch;

use crate::cafe::schedule::when;
use crate::db::notify::Pending;
use crate::db::users::SessionUser;
use crate::db::{self, notifications as posts_queries};
use crate::error::AppError;
use crate::forums::notify::{Stops, post_sections, stop_link};
use crate::forums::viewer;
use crate::i18n::{Locale, Tr};
use crate::mail::{Mail, MailPost, MailSection};
use crate::markdown;
use crate::notify::{Kind, Mode, Prefs, rules};
use crate::web::layout::local_time;
use crate::work::Work;
use crate::{App, AppState};

/// The most posts one mail lists; more wait for the next mail.
const POSTS_PER_MAIL: usize = 50;
/// The most notices one member's turn handles.
const PER_TURN: i64 = 500;

/// Runs until shutdown, mailing what comes due.
pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
    let delay = i64::from(app.config.notify_delay_seconds);
    let tick = Duration::from_secs((delay as u64 / 2).clamp(1, 60));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = mail_due(&app, delay).await {
            tracing::error!(error = %e, "notification mail");
        }
    }
}

/// Mails what is due now, replies and mentions once they have gathered for `delay` seconds.
pub async fn mail_due(app: &App, delay: i64) -> Result<(), AppError> {
    mail_due_at(app, delay, db::now()).await
}

/// Mails what is due at `now` (the tests name the moment: an hour of the night, the digest's).
pub async fn mail_due_at(app: &App, delay: i64, now: i64) -> Result<(), AppError> {
    let tz = &app.site.time_zone();
    let waiting = {
        let mut conn = app.db.conn().await?;
        db::notify::waiting(conn.exec()).await?
    };
    let mut users: Vec<i64> = waiting
        .iter()
        .filter(|w| {
            let kind = Kind::parse(&w.kind);
            let mode = Mode::parse(&w.mode).unwrap_or(Mode::Now);
            let quiet = w.quiet_from.zip(w.quiet_until);
            // A kind unknown to this version is handled (dropped) rather than left forever.
            kind.is_none_or(|kind| rules::due(tz, kind, mode, quiet, w.oldest, now, delay))
        })
        .map(|w| w.user_id)
        .collect();
    users.dedup();
    for user_id in users {
        let mut work = app.work().await?;
        mail_member(&mut work, user_id, delay, now).await?;
        work.commit().await?;
    }
    Ok(())
}

/// One member's turn: what is due is marked handled and mailed, what is off is dropped.
async fn mail_member(
    work: &mut Work<'_>,
    user_id: i64,
    delay: i64,
    now: i64,
) -> Result<(), AppError> {
    let tz = work.app().site.time_zone();
    let prefs = Prefs::load(work.exec(), user_id).await?;
    let pending = db::notify::pending_of(work.exec(), user_id, PER_TURN).await?;
    let due = |p: &Pending, kind: Kind| {
        rules::due(
            &tz,
            kind,
            prefs.mode(kind),
            prefs.quiet,
            p.created_at,
            now,
            delay,
        )
    };
    // Replies and mentions at once go together once the oldest of them has gathered long enough.
    let posts_due = pending.iter().any(|p| {
        Kind::parse(&p.kind).is_some_and(|k| k.is_post() && prefs.mode(k) == Mode::Now && due(p, k))
    });
    let mut posts = 0;
    let mut chosen: Vec<(Pending, Mode)> = Vec::new();
    for p in pending {
        let Some(kind) = Kind::parse(&p.kind) else {
            chosen.push((p, Mode::Off));
            continue;
        };
        let mode = prefs.mode(kind);
        // (`posts_due` is false in quiet hours, as `due` is.)
        let take = if kind.is_post() && mode == Mode::Now {
            posts_due
        } else {
            due(&p, kind)
        };
        if take && kind.is_post() && mode != Mode::Off {
            posts += 1;
            if posts > POSTS_PER_MAIL {
                continue;
            }
        }
        if take {
            chosen.push((p, mode));
        }
    }
    let ids: Vec<i64> = chosen.iter().map(|(p, _)| p.id).collect();
    let handled_at = work.now();
    let got = db::notify::mark_mailed(work.exec(), &ids, handled_at).await?;
    let (at_once, digest): (Vec<_>, Vec<_>) = chosen
        .into_iter()
        .filter(|(p, mode)| *mode != Mode::Off && got.contains(&p.id))
        .partition(|(_, mode)| *mode == Mode::Now);
    let strip = |list: Vec<(Pending, Mode)>| list.into_iter().map(|(p, _)| p).collect::<Vec<_>>();
    let (at_once, digest) = (strip(at_once), strip(digest));
    if at_once.is_empty() && digest.is_empty() {
        return Ok(());
    }
    let Some((user, email)) = recipient(work, user_id).await? else {
        return Ok(());
    };
    write_mails(work, &user, &email, &at_once, false).await?;
    write_mails(work, &user, &email, &digest, true).await
}

/// The member and their address, while they are active and not suspended.
pub(crate) async fn recipient(
    work: &mut Work<'_>,
    user_id: i64,
) -> Result<Option<(SessionUser, String)>, sqlx::Error> {
    let now = work.now();
    if !db::cafe_schedule::may_be_mailed(work.exec(), user_id, now).await? {
        return Ok(None);
    }
    let Some(user) = db::users::session_user(work.exec(), user_id).await? else {
        return Ok(None);
    };
    Ok(db::users::email_of(work.exec(), user_id)
        .await?
        .map(|email| (user, email)))
}

/// The parts of mails about notices that are not posts, each checked again now.
struct Part {
    kind: Kind,
    section: MailSection,
    /// The mail this part is when sent on its own.
    alone: AloneMail,
}

enum AloneMail {
    Announcement {
        title: String,
        body: String,
    },
    Cafe {
        room: String,
        theme: String,
        when: String,
        link: String,
    },
    Answer {
        title: String,
        link: String,
    },
}

async fn part_of(
    work: &mut Work<'_>,
    user: &SessionUser,
    t: Tr,
    notice: &Pending,
) -> Result<Option<Part>, AppError> {
    let app = work.app();
    let Some(kind) = Kind::parse(&notice.kind) else {
        return Ok(None);
    };
    let ref_id = notice.ref_id.unwrap_or(0);
    Ok(match kind {
        Kind::Reply | Kind::Mention => None,
        Kind::Announcement => {
            db::notify::announcement(work.exec(), ref_id)
                .await?
                .map(|(title, body, created_at)| Part {
                    kind,
                    section: MailSection {
                        heading: t.f("notices.mail.announcement", &[("title", &title)]),
                        reasons: vec![t.s("notices.mail.reason_announcement").into_owned()],
                        posts: vec![MailPost {
                            byline: local_time(&app.site, created_at),
                            excerpt: markdown::excerpt(&body, 200),
                            link: app.config.link("/"),
                        }],
                        stops: Vec::new(),
                    },
                    alone: AloneMail::Announcement { title, body },
                })
        }
        Kind::Cafe => {
            let session =
                db::cafe_schedule::open_session(work.exec(), viewer(user), ref_id).await?;
            // A session cancelled, closed to them or over by now is not mailed.
            session.filter(|s| s.ends_at > work.now()).map(|s| {
                let when = when(&app.site, t, s.starts_at, s.ends_at);
                let link = app.config.link(&format!("/cafe/{}", s.room_id));
                Part {
                    kind,
                    section: MailSection {
                        heading: t.f("notices.mail.cafe", &[("room", &s.room_name)]),
                        reasons: vec![t.s("mail.cafe_reminder.why").into_owned()],
                        posts: vec![MailPost {
                            byline: when.clone(),
                            excerpt: s.theme.clone(),
                            link: link.clone(),
                        }],
                        stops: Vec::new(),
                    },
                    alone: AloneMail::Cafe {
                        room: s.room_name,
                        theme: s.theme,
                        when,
                        link,
                    },
                }
            })
        }
        // An answer hidden since, or by an expert blocked either way, is not mailed.
        Kind::Answer if !db::notify::answer_seen_by(work.exec(), ref_id, user.id).await? => None,
        Kind::Answer => {
            let link = app.config.link(&notice.path);
            Some(Part {
                kind,
                section: MailSection {
                    heading: t.f("notices.mail.answer", &[("title", &notice.title)]),
                    reasons: vec![t.s("notices.mail.reason_answer").into_owned()],
                    posts: vec![MailPost {
                        byline: local_time(&app.site, notice.created_at),
                        excerpt: String::new(),
                        link: link.clone(),
                    }],
                    stops: Vec::new(),
                },
                alone: AloneMail::Answer {
                    title: notice.title.clone(),
                    link,
                },
            })
        }
    })
}

/// Writes the mails about `notices` to the outbox: at once, one mail for the posts and one for
/// each other notice; as a digest, one mail for them all. Notices no longer to be seen are left
/// out, and a mail left with nothing is not written.
pub(crate) async fn write_mails(
    work: &mut Work<'_>,
    user: &SessionUser,
    email: &str,
    notices: &[Pending],
    digest: bool,
) -> Result<(), AppError> {
    if notices.is_empty() {
        return Ok(());
    }
    let app = work.app();
    let locale = Locale::from_code(&user.locale);
    let t = locale.tr();
    let post_ids: Vec<i64> = notices.iter().filter_map(|n| n.post_id).collect();
    let posts =
        posts_queries::notified_posts(work.exec(), viewer(user), user.id, &post_ids).await?;
    let (post_sections, only_mentions) = post_sections(app, t, user.id, posts);
    let mut post_kinds = Vec::new();
    if !post_sections.is_empty() {
        post_kinds.push(if only_mentions {
            Kind::Mention
        } else {
            Kind::Reply
        });
        let mentions = notices.iter().any(|n| n.kind == Kind::Mention.as_str());
        if !only_mentions && mentions {
            post_kinds.push(Kind::Mention);
        }
    }
    let mut parts = Vec::new();
    for notice in notices {
        if let Some(part) = part_of(work, user, t, notice).await? {
            parts.push(part);
        }
    }
    let settings_link = app.config.link("/account#notify-heading");
    let one_click = |kinds: Vec<Kind>| stop_link(app, user.id, &Stops::Kinds(kinds));
    if digest {
        let mut kinds = post_kinds;
        let mut sections = post_sections;
        for part in parts {
            if !kinds.contains(&part.kind) {
                kinds.push(part.kind);
            }
            sections.push(part.section);
        }
        if sections.is_empty() {
            return Ok(());
        }
        let one_click = one_click(kinds);
        let mail = Mail::Digest {
            display_name: &user.display_name,
            sections: &sections,
            settings_link: &settings_link,
            one_click: &one_click,
        };
        return work.mail(locale, email, &mail).await;
    }
    if !post_sections.is_empty() {
        let one_click = one_click(post_kinds);
        let mail = Mail::Replies {
            display_name: &user.display_name,
            sections: &post_sections,
            only_mentions,
            settings_link: &settings_link,
            one_click: &one_click,
        };
        work.mail(locale, email, &mail).await?;
    }
    // An announcement's button leads to the home page, where it is pinned.
    let home = app.config.link("/");
    for part in parts {
        let one_click = one_click(vec![part.kind]);
        let mail = match &part.alone {
            AloneMail::Announcement { title, body } => Mail::Announcement {
                title,
                body,
                link: &home,
                one_click: &one_click,
            },
            AloneMail::Cafe {
                room,
                theme,
                when,
                link,
            } => Mail::CafeReminder {
                display_name: &user.display_name,
                room,
                theme,
                when,
                link,
                one_click: &one_click,
            },
            AloneMail::Answer { title, link } => Mail::Answer {
                display_name: &user.display_name,
                title,
                link,
                one_click: &one_click,
            },
        };
        work.mail(locale, email, &mail).await?;
    }
    Ok(())
}
