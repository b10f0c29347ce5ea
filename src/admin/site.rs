//! The site's settings as pages, mails and rules read them: the site's name, how long an
//! invitation stays valid, the time zone, the review threshold and the default language.
//!
//! Coordinators change them at `/admin/settings` (stored in `site_settings`); the configured
//! values (`Config`) are the defaults for what was never set. Everything that uses one of them
//! reads it here, from memory: [`SiteSettings::get`] never touches the database, so it is free to
//! call while a request holds its connection. A task keeps the values fresh: it re-reads them
//! when the bus says they changed (`Event::SettingsChanged`) and every few seconds, so another
//! instance sees a change made elsewhere within [`REFRESH`].

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::tz::TimeZone;
use tokio::sync::watch;

use crate::AppState;
use crate::config::Config;
use crate::db::{self, Db, Exec};
use crate::events::{Event, Received};
use crate::i18n::Locale;

/// The longest a change made on another instance goes unseen here.
pub const REFRESH: Duration = Duration::from_secs(3);

/// The names the settings are stored under in `site_settings`.
pub const SITE_NAME: &str = "site_name";
pub const INVITATION_DAYS: &str = "invitation_days";
pub const TIME_ZONE: &str = "time_zone";
pub const DEFAULT_LOCALE: &str = "default_locale";
pub use crate::db::settings::REVIEW_THRESHOLD;

/// The settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteValues {
    pub site_name: String,
    pub invitation_days: u32,
    pub time_zone: TimeZone,
    pub review_threshold: i64,
    pub default_locale: Locale,
}

impl SiteValues {
    /// What the configuration says, for everything a coordinator has not set.
    pub fn defaults(config: &Config) -> SiteValues {
        SiteValues {
            site_name: config.site_name.clone(),
            invitation_days: config.invitation_days,
            time_zone: config.time_zone.clone(),
            review_threshold: crate::content::DEFAULT_REVIEW_THRESHOLD,
            default_locale: Locale::default(),
        }
    }

    /// The stored settings over the configured defaults. A stored value that no longer reads
    /// (written by hand, say) is left out with a warning: the default stands for it.
    pub async fn load(exec: Exec<'_>, config: &Config) -> Result<SiteValues, sqlx::Error> {
        SiteValues::read(exec, config, true).await
    }

    /// As [`SiteValues::load`]; `warn` says whether to warn of what is left out (once at
    /// start-up, not on every refresh).
    async fn read(exec: Exec<'_>, config: &Config, warn: bool) -> Result<SiteValues, sqlx::Error> {
        let stored = db::settings::all(exec).await?;
        let mut values = SiteValues::defaults(config);
        for (name, value) in &stored {
            if !values.apply(name, value) && warn {
                tracing::warn!(setting = %name, value = %value, "stored setting ignored");
            }
        }
        Ok(values)
    }

    /// Takes one stored value; false when it does not read (or is not a setting of this kind).
    fn apply(&mut self, name: &str, value: &str) -> bool {
        match name {
            SITE_NAME if !value.trim().is_empty() => self.site_name = value.to_owned(),
            INVITATION_DAYS => match value.parse() {
                Ok(days) if valid_days(days) => self.invitation_days = days,
                _ => return false,
            },
            TIME_ZONE => match TimeZone::get(value) {
                Ok(zone) => self.time_zone = zone,
                Err(_) => return false,
            },
            REVIEW_THRESHOLD => match value.parse() {
                Ok(n) if valid_threshold(n) => self.review_threshold = n,
                _ => return false,
            },
            DEFAULT_LOCALE => match Locale::parse(value) {
                Some(locale) => self.default_locale = locale,
                None => return false,
            },
            // A name this version does not know (written by a later one) is left alone.
            _ => return name != SITE_NAME,
        }
        true
    }

    /// The time zone's IANA name, as the settings page and the café's calendar name it.
    pub fn time_zone_name(&self) -> &str {
        self.time_zone.iana_name().unwrap_or("UTC")
    }
}

/// An invitation is valid for 1 to 90 days (as the configuration allows).
pub fn valid_days(days: u32) -> bool {
    (1..=90).contains(&days)
}

/// From 0 (nobody's posts wait) to 20.
pub fn valid_threshold(n: i64) -> bool {
    (0..=20).contains(&n)
}

/// The settings in force on this instance, shared by every request.
#[derive(Clone)]
pub struct SiteSettings(Arc<RwLock<Arc<SiteValues>>>);

impl SiteSettings {
    pub fn new(values: SiteValues) -> SiteSettings {
        SiteSettings(Arc::new(RwLock::new(Arc::new(values))))
    }

    /// The settings in force now.
    pub fn get(&self) -> Arc<SiteValues> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn site_name(&self) -> String {
        self.get().site_name.clone()
    }

    pub fn time_zone(&self) -> TimeZone {
        self.get().time_zone.clone()
    }

    /// Reads the stored settings again (with a connection of its own: never call it while
    /// holding one).
    pub async fn reload(&self, db: &Db, config: &Config) -> Result<(), sqlx::Error> {
        let mut conn = db.conn().await?;
        let values = SiteValues::read(conn.exec(), config, false).await?;
        drop(conn);
        let mut current = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if **current != values {
            tracing::info!(site_name = %values.site_name, "site settings in force");
            *current = Arc::new(values);
        }
        Ok(())
    }

    /// Keeps the settings fresh until shutdown: on every settings event, and every [`REFRESH`].
    pub async fn run(app: AppState, mut shutdown: watch::Receiver<bool>) {
        let mut events = app.events.subscribe();
        loop {
            tokio::select! {
                received = events.next() => match received {
                    Received::Event(Event::SettingsChanged) | Received::Lagged(_) => {}
                    Received::Event(_) => continue,
                    Received::Closed => return,
                },
                _ = tokio::time::sleep(REFRESH) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = app.site.reload(&app.db, &app.config).await {
                tracing::warn!(error = %e, "reading the site settings");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_override_defaults_and_unreadable_ones_are_ignored() {
        let config =
            Config::for_data_dir(std::path::Path::new("/nonexistent"), None).expect("defaults");
        let mut values = SiteValues::defaults(&config);
        assert!(values.apply(SITE_NAME, "ひなた"));
        assert!(values.apply(INVITATION_DAYS, "14"));
        assert!(values.apply(TIME_ZONE, "Europe/Berlin"));
        assert!(values.apply(REVIEW_THRESHOLD, "0"));
        assert!(values.apply(DEFAULT_LOCALE, "en"));
        assert_eq!(values.site_name, "ひなた");
        assert_eq!(values.invitation_days, 14);
        assert_eq!(values.time_zone_name(), "Europe/Berlin");
        assert_eq!(values.review_threshold, 0);
        assert_eq!(values.default_locale, Locale::En);
        let before = values.clone();
        for (name, value) in [
            (INVITATION_DAYS, "0"),
            (INVITATION_DAYS, "many"),
            (TIME_ZONE, "Mars/Olympus"),
            (REVIEW_THRESHOLD, "-1"),
            (DEFAULT_LOCALE, "fr"),
            (SITE_NAME, "  "),
        ] {
            assert!(!values.apply(name, value), "{name} = {value}");
        }
        assert_eq!(values, before);
        // A name this version does not know is left alone.
        assert!(values.apply("some_later_setting", "x"));
        assert_eq!(values, before);
    }
}
