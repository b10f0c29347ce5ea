//! The unit of work: one write transaction and what belongs to it (outbox mail, typed log rows,
//! events). Mail and log rows are written inside the transaction, so they stand or fall with it;
//! events wait, and are published only once [`Work::commit`] has committed, so nothing is
//! announced for a change that rolled back. Services open a `Work`; handlers never do.

use crate::App;
use crate::db::{self, Exec, Tx};
use crate::domain::log::LogRecord;
use crate::error::AppError;
use crate::events::Event;
use crate::i18n::Locale;
use crate::mail::{self, Mail};

pub struct Work<'a> {
    tx: Tx,
    app: &'a App,
    events: Vec<Event>,
    now: i64,
}

impl App {
    /// Begins a unit of work (a write transaction; on SQLite it waits for the one writer).
    pub async fn work(&self) -> Result<Work<'_>, sqlx::Error> {
        Ok(Work {
            tx: self.db.begin().await?,
            app: self,
            events: Vec::new(),
            now: db::now(),
        })
    }
}

impl<'a> Work<'a> {
    pub fn exec(&mut self) -> Exec<'_> {
        self.tx.exec()
    }

    /// The transaction, for helpers that take one.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The time of this unit of work, the same for every row it writes.
    pub fn now(&self) -> i64 {
        self.now
    }

    pub fn app(&self) -> &'a App {
        self.app
    }

    /// `event` is published after the commit (once, however often it is announced).
    pub fn announce(&mut self, event: Event) {
        if !self.events.contains(&event) {
            self.events.push(event);
        }
    }

    /// Writes a row of the typed log, in this transaction.
    pub async fn log(&mut self, record: LogRecord) -> Result<(), sqlx::Error> {
        db::audit::record(self.tx.exec(), &record, self.now).await
    }

    /// Writes a mail to the outbox, in this transaction; the worker is woken after the commit.
    pub async fn mail(
        &mut self,
        locale: Locale,
        to: &str,
        mail: &Mail<'_>,
    ) -> Result<(), AppError> {
        mail::enqueue(&mut self.tx, &self.app.site.site_name(), locale, to, mail).await?;
        self.announce(Event::MailQueued);
        Ok(())
    }

    /// Commits, then publishes what was announced.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Work {
            tx, app, events, ..
        } = self;
        tx.commit().await?;
        app.events.publish(&events);
        Ok(())
    }
}
