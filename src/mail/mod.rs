//! E-mail: every mail is rendered and written to the outbox in the same transaction as the
//! action that causes it; a background worker ([`worker`]) sends it with retries.

pub mod worker;

use std::sync::Arc;

use askama::Template;
use tokio::sync::Notify;

use crate::db::{self, Tx};
use crate::domain::safety::AlertCause;
use crate::error::AppError;
use crate::i18n::{Locale, Tr};

/// Wakes the worker after a transaction with mail committed (through the event bus), so mail
/// leaves at once rather than at the next poll.
#[derive(Clone, Default)]
pub struct MailSignal(Arc<Notify>);

impl MailSignal {
    /// Wakes the worker whenever mail was queued.
    pub fn listen_to(&self, bus: &crate::events::EventBus) {
        let signal = self.0.clone();
        bus.listen(move |event| {
            if *event == crate::events::Event::MailQueued {
                signal.notify_one();
            }
        });
    }

    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// The mails hidamari sends, with what each needs to say.
pub enum Mail<'a> {
    Invitation {
        link: &'a str,
        inviter: &'a str,
        expires: &'a str,
    },
    PasswordReset {
        link: &'a str,
    },
    EmailChange {
        link: &'a str,
        display_name: &'a str,
    },
    EmailChanged {
        display_name: &'a str,
        new_email: &'a str,
    },
    PasswordChanged {
        display_name: &'a str,
    },
    /// A Q&A slot the member asked a question in was cancelled.
    QaSlotCancelled {
        display_name: &'a str,
        theme: &'a str,
        when: &'a str,
        link: &'a str,
    },
    /// The member's export of their own data is ready; the link works once, until `expires`.
    DataExport {
        display_name: &'a str,
        link: &'a str,
        expires: &'a str,
    },
    /// New posts for a member, batched, one section per topic saying why it is mailed.
    Replies {
        display_name: &'a str,
        /// Every post the mail counts, in its topic's section.
        sections: &'a [MailSection],
        /// Every post is one that mentions the member (the subject says so).
        only_mentions: bool,
        settings_link: &'a str,
        /// The signed link that stops what this mail is about, for `List-Unsubscribe`.
        one_click: &'a str,
    },
    Announcement {
        title: &'a str,
        body: &'a str,
        link: &'a str,
        /// The signed link that turns announcement mail off, for `List-Unsubscribe`.
        one_click: &'a str,
    },
    /// To every moderator and coordinator at once: crisis words in content, or a member worried
    /// about someone. It names the cause and links to the item, and never quotes the content,
    /// which may hold someone's health details.
    UrgentAlert {
        cause: AlertCause,
        link: &'a str,
    },
    /// To a member who reported something: moderators handled it. Never says how (hidden,
    /// dismissed, the member acted on), which is between the moderators and the author.
    ReportHandled {
        display_name: &'a str,
    },
    /// To a member who asked for it: a café session they may enter starts soon.
    CafeReminder {
        display_name: &'a str,
        room: &'a str,
        /// Empty when the session has no theme.
        theme: &'a str,
        /// When, in the site's time zone and the member's language.
        when: &'a str,
        link: &'a str,
        /// The signed link that turns café reminder mail off, for `List-Unsubscribe`.
        one_click: &'a str,
    },
    /// To a member who asked an expert: their question was answered.
    Answer {
        display_name: &'a str,
        /// What the question was about.
        title: &'a str,
        link: &'a str,
        one_click: &'a str,
    },
    /// A member's daily digest: every notice that waited for it, once, in sections.
    Digest {
        display_name: &'a str,
        sections: &'a [MailSection],
        settings_link: &'a str,
        /// Turns off the kinds of mail the digest carries.
        one_click: &'a str,
    },
}

/// A part of a mail about one topic: its heading, why it is mailed, its posts, and the links that
/// stop mails like it.
#[derive(Debug, Clone)]
pub struct MailSection {
    pub heading: String,
    pub reasons: Vec<String>,
    pub posts: Vec<MailPost>,
    /// (label, signed link), each stopping one follow.
    pub stops: Vec<(String, String)>,
}

/// One post as a mail lists it: who wrote it and when, the start of its text, its address.
#[derive(Debug, Clone)]
pub struct MailPost {
    pub byline: String,
    pub excerpt: String,
    pub link: String,
}

/// Every mail has the same shape: a greeting, paragraphs, sections of posts, at most one
/// button, a closing note.
#[derive(Template)]
#[template(path = "mail/mail.txt", escape = "none")]
struct MailText<'a> {
    content: &'a MailContent,
}

#[derive(Template)]
#[template(path = "mail/mail.html")]
struct MailHtml<'a> {
    content: &'a MailContent,
    lang: &'a str,
}

struct MailContent {
    subject: String,
    greeting: String,
    paragraphs: Vec<String>,
    sections: Vec<MailSection>,
    action: Option<(String, String)>,
    closing: String,
}

pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// For the `List-Unsubscribe` header.
    pub list_unsubscribe: Option<String>,
}

/// How many posts (or items) the sections list, as a mail's opening line counts them.
fn posts_in(sections: &[MailSection]) -> String {
    sections
        .iter()
        .map(|s| s.posts.len())
        .sum::<usize>()
        .to_string()
}

impl Mail<'_> {
    fn content(&self, t: Tr, site_name: &str) -> MailContent {
        let site = [("site", site_name)];
        let mut sections = Vec::new();
        let (key, greeting, paragraphs, action) = match self {
            Mail::Invitation {
                link,
                inviter,
                expires,
            } => (
                "mail.invitation",
                t.s("mail.greeting_plain").into_owned(),
                vec![
                    t.f(
                        "mail.invitation.body",
                        &[("site", site_name), ("inviter", inviter)],
                    ),
                    t.f("mail.invitation.expires", &[("expires", expires)]),
                ],
                Some((t.s("mail.invitation.action").into_owned(), link.to_string())),
            ),
            Mail::PasswordReset { link } => (
                "mail.reset",
                t.s("mail.greeting_plain").into_owned(),
                vec![
                    t.f("mail.reset.body", &site),
                    t.s("mail.reset.ignore").into_owned(),
                ],
                Some((t.s("mail.reset.action").into_owned(), link.to_string())),
            ),
            Mail::EmailChange { link, display_name } => (
                "mail.email_change",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![
                    t.f("mail.email_change.body", &site),
                    t.s("mail.email_change.ignore").into_owned(),
                ],
                Some((
                    t.s("mail.email_change.action").into_owned(),
                    link.to_string(),
                )),
            ),
            Mail::EmailChanged {
                display_name,
                new_email,
            } => (
                "mail.email_changed",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![t.f(
                    "mail.email_changed.body",
                    &[("site", site_name), ("email", new_email)],
                )],
                None,
            ),
            Mail::QaSlotCancelled {
                display_name,
                theme,
                when,
                link,
            } => (
                "mail.qa_slot_cancelled",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![
                    t.f(
                        "mail.qa_slot_cancelled.body",
                        &[("theme", theme), ("when", when)],
                    ),
                    t.s("mail.qa_slot_cancelled.others").into_owned(),
                    t.s("mail.qa_slot_cancelled.why").into_owned(),
                ],
                Some((
                    t.s("mail.qa_slot_cancelled.action").into_owned(),
                    link.to_string(),
                )),
            ),
            Mail::DataExport {
                display_name,
                link,
                expires,
            } => (
                "mail.data_export",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![
                    t.f("mail.data_export.body", &site),
                    t.f("mail.data_export.once", &[("expires", expires)]),
                    t.s("mail.data_export.ignore").into_owned(),
                ],
                Some((
                    t.s("mail.data_export.action").into_owned(),
                    link.to_string(),
                )),
            ),
            Mail::PasswordChanged { display_name } => (
                "mail.password_changed",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![t.f("mail.password_changed.body", &site)],
                None,
            ),
            Mail::Replies {
                display_name,
                sections: parts,
                only_mentions,
                settings_link,
                ..
            } => {
                sections = parts.to_vec();
                let count = posts_in(parts);
                (
                    if *only_mentions {
                        "mail.mentions"
                    } else {
                        "mail.replies"
                    },
                    t.f("mail.greeting", &[("name", display_name)]),
                    vec![t.f(
                        "mail.replies.body",
                        &[("site", site_name), ("count", &count)],
                    )],
                    Some((
                        t.s("mail.replies.settings").into_owned(),
                        settings_link.to_string(),
                    )),
                )
            }
            Mail::Announcement {
                title, body, link, ..
            } => (
                "mail.announcement",
                t.s("mail.greeting_plain").into_owned(),
                vec![
                    t.f(
                        "mail.announcement.lead",
                        &[("site", site_name), ("title", title)],
                    ),
                    body.to_string(),
                ],
                Some((
                    t.s("mail.announcement.action").into_owned(),
                    link.to_string(),
                )),
            ),
            Mail::UrgentAlert { cause, link } => (
                "mail.urgent",
                t.s("mail.greeting_plain").into_owned(),
                vec![
                    t.f(&format!("mail.urgent.cause.{}", cause.as_str()), &site),
                    t.s("mail.urgent.private").into_owned(),
                ],
                Some((t.s("mail.urgent.action").into_owned(), link.to_string())),
            ),
            Mail::ReportHandled { display_name } => (
                "mail.report_handled",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![
                    t.f("mail.report_handled.body", &site),
                    t.s("mail.report_handled.private").into_owned(),
                ],
                None,
            ),
            Mail::Answer {
                display_name,
                title,
                link,
                ..
            } => (
                "mail.answer",
                t.f("mail.greeting", &[("name", display_name)]),
                vec![
                    t.f("mail.answer.body", &[("site", site_name), ("title", title)]),
                    t.s("mail.qa_answered.disclaimer").into_owned(),
                ],
                Some((t.s("mail.answer.action").into_owned(), link.to_string())),
            ),
            Mail::Digest {
                display_name,
                sections: parts,
                settings_link,
                ..
            } => {
                sections = parts.to_vec();
                let count = posts_in(parts);
                (
                    "mail.digest",
                    t.f("mail.greeting", &[("name", display_name)]),
                    vec![t.f(
                        "mail.digest.body",
                        &[("site", site_name), ("count", &count)],
                    )],
                    Some((
                        t.s("mail.replies.settings").into_owned(),
                        settings_link.to_string(),
                    )),
                )
            }
            Mail::CafeReminder {
                display_name,
                room,
                theme,
                when,
                link,
                ..
            } => {
                let mut paragraphs =
                    vec![t.f("mail.cafe_reminder.body", &[("room", room), ("when", when)])];
                if !theme.is_empty() {
                    paragraphs.push(t.f("mail.cafe_reminder.theme", &[("theme", theme)]));
                }
                paragraphs.push(t.s("mail.cafe_reminder.why").into_owned());
                (
                    "mail.cafe_reminder",
                    t.f("mail.greeting", &[("name", display_name)]),
                    paragraphs,
                    Some((
                        t.s("mail.cafe_reminder.action").into_owned(),
                        link.to_string(),
                    )),
                )
            }
        };
        MailContent {
            subject: t.f(&format!("{key}.subject"), &site),
            greeting,
            paragraphs,
            sections,
            action,
            closing: t.f("mail.closing", &site),
        }
    }

    pub fn render(&self, locale: Locale, site_name: &str) -> Result<RenderedMail, AppError> {
        let content = self.content(locale.tr(), site_name);
        let text = MailText { content: &content }.render()?;
        let html = MailHtml {
            content: &content,
            lang: locale.as_str(),
        }
        .render()?;
        let list_unsubscribe = match self {
            Mail::Replies { one_click, .. }
            | Mail::Announcement { one_click, .. }
            | Mail::CafeReminder { one_click, .. }
            | Mail::Answer { one_click, .. }
            | Mail::Digest { one_click, .. } => Some(one_click.to_string()),
            _ => None,
        };
        Ok(RenderedMail {
            subject: content.subject,
            text,
            html,
            list_unsubscribe,
        })
    }
}

/// Writes a mail to the outbox inside the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    site_name: &str,
    locale: Locale,
    to: &str,
    mail: &Mail<'_>,
) -> Result<(), AppError> {
    let rendered = mail.render(locale, site_name)?;
    db::outbox::enqueue(
        tx.exec(),
        to,
        &rendered.subject,
        &rendered.text,
        &rendered.html,
        rendered.list_unsubscribe.as_deref(),
        db::now(),
    )
    .await?;
    Ok(())
}
