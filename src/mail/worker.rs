//! The outbox worker: claims due mails, sends them, and records the outcome. A mail whose send
//! failed is retried with growing back-off; a permanent refusal (5xx) is kept and not retried.
//! A claim is a lease: if this process dies mid-send, another claim picks the mail up later.

use std::time::Duration;

use futures_util::StreamExt;
use lettre::message::header::{Header, HeaderName, HeaderValue, MessageId};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;

use crate::config::Config;
use crate::db::outbox::{self, OutgoingMail};
use crate::db::{self, Db};
use crate::mail::MailSignal;

/// How often the outbox is looked at without a wake-up (mails from other instances, retries).
const POLL_EVERY: Duration = Duration::from_secs(2);
/// How long a claimed mail is held before another sender may take it.
const LEASE_SECONDS: i64 = 120;
const BATCH: i64 = 100;
const PARALLEL_SENDS: usize = 8;
/// On shutdown, how long pending mail may still be sent.
const FLUSH_LIMIT: Duration = Duration::from_secs(10);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP configured: `.eml` files under `data/mail/`, so a first run needs nothing external.
    Files(AsyncFileTransport<Tokio1Executor>),
}

enum Outcome {
    Sent,
    Retry(String),
    Refused(String),
}

impl Transport {
    pub fn from_config(config: &Config) -> Result<Transport, String> {
        match &config.smtp_url {
            Some(url) => {
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("HIDAMARI_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Transport::Smtp(smtp))
            }
            None => {
                let dir = config.mail_dir();
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                Ok(Transport::Files(AsyncFileTransport::new(dir)))
            }
        }
    }

    async fn send(&self, message: Message) -> Outcome {
        match self {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::Refused(e.to_string()),
                Err(e) => Outcome::Retry(e.to_string()),
            },
            Transport::Files(files) => match files.send(message).await {
                Ok(id) => {
                    tracing::info!(file = %format!("{id}.eml"), "mail written to the mail folder");
                    Outcome::Sent
                }
                Err(e) => Outcome::Retry(e.to_string()),
            },
        }
    }
}

/// `List-Unsubscribe: <URL>` (RFC 2369): where a mail program's "unsubscribe" goes.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
        ))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the link stops the mail with
/// one POST, no page to read.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

pub struct MailWorker {
    db: Db,
    transport: Transport,
    from: Mailbox,
    domain: String,
    log_links: bool,
    signal: MailSignal,
}

/// Seconds until the next try after `attempts` failures: 10 s, 20 s, 40 s … at most an hour.
fn backoff(attempts: i64) -> i64 {
    let exponent = attempts.clamp(0, 12) as u32;
    (10i64 << exponent).min(3600)
}

/// The first link in a mail's text, for the log when mail goes to files.
fn first_link(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
}

impl MailWorker {
    pub fn new(db: Db, config: &Config, signal: MailSignal) -> Result<MailWorker, String> {
        let transport = Transport::from_config(config)?;
        Ok(MailWorker {
            db,
            log_links: matches!(transport, Transport::Files(_)),
            transport,
            from: config.mail_from.clone(),
            domain: config.base_url.host_str().unwrap_or("localhost").to_owned(),
            signal,
        })
    }

    /// Runs until `shutdown` turns true, then sends what is pending for a little while and stops.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.drain().await;
            tokio::select! {
                _ = self.signal.woken() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        if tokio::time::timeout(FLUSH_LIMIT, self.drain())
            .await
            .is_err()
        {
            tracing::warn!("shutdown: mail still pending stays in the outbox for the next start");
        }
    }

    /// Sends everything that is due now.
    pub async fn drain(&self) {
        loop {
            match self.send_batch().await {
                Ok(0) => return,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: database error");
                    return;
                }
            }
        }
    }

    async fn send_batch(&self) -> Result<usize, sqlx::Error> {
        let now = db::now();
        let batch = {
            let mut tx = self.db.begin().await?;
            let batch = outbox::claim_due(tx.exec(), now, now + LEASE_SECONDS, BATCH).await?;
            tx.commit().await?;
            batch
        };
        let count = batch.len();
        let results: Vec<(OutgoingMail, Outcome)> = futures_util::stream::iter(batch)
            .map(|mail| async move {
                let outcome = self.deliver(&mail).await;
                (mail, outcome)
            })
            .buffer_unordered(PARALLEL_SENDS)
            .collect()
            .await;
        let now = db::now();
        // One transaction for the batch's outcomes: one sync of the database file, not one each.
        let mut tx = self.db.begin().await?;
        for (mail, outcome) in results {
            match outcome {
                Outcome::Sent => outbox::mark_sent(tx.exec(), mail.id, now).await?,
                Outcome::Retry(error) => {
                    tracing::warn!(id = mail.id, attempts = mail.attempts + 1, error = %error, "mail not sent; will retry");
                    outbox::mark_retry(tx.exec(), mail.id, now + backoff(mail.attempts), &error)
                        .await?;
                }
                Outcome::Refused(error) => {
                    tracing::error!(id = mail.id, error = %error, "mail refused permanently; kept in the outbox");
                    outbox::mark_failed(tx.exec(), mail.id, now, &error).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn deliver(&self, mail: &OutgoingMail) -> Outcome {
        let to: Mailbox = match mail.recipient.parse() {
            Ok(to) => to,
            Err(e) => return Outcome::Refused(format!("recipient: {e}")),
        };
        let mut message = Message::builder();
        if let Some(link) = &mail.list_unsubscribe {
            message = message
                .header(ListUnsubscribe(link.clone()))
                .header(ListUnsubscribePost);
        }
        let message = message
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            // A stable id: a receiver that sees the same mail twice after a crash can tell.
            .header(MessageId::from(format!(
                "<outbox-{}@{}>",
                mail.id, self.domain
            )))
            .multipart(MultiPart::alternative_plain_html(
                mail.body_text.clone(),
                mail.body_html.clone(),
            ));
        let message = match message {
            Ok(m) => m,
            Err(e) => return Outcome::Refused(format!("message: {e}")),
        };
        let outcome = self.transport.send(message).await;
        if self.log_links
            && matches!(outcome, Outcome::Sent)
            && let Some(link) = first_link(&mail.body_text)
        {
            tracing::info!(to = %mail.recipient, subject = %mail.subject, link, "mail (no SMTP configured)");
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), 10);
        assert_eq!(backoff(1), 20);
        assert_eq!(backoff(3), 80);
        assert_eq!(backoff(50), 3600);
    }

    #[test]
    fn finds_the_link_in_a_mail() {
        assert_eq!(
            first_link("こんにちは\n\nhttp://127.0.0.1:8080/invite/ab\n"),
            Some("http://127.0.0.1:8080/invite/ab")
        );
        assert_eq!(first_link("no link"), None);
    }
}
