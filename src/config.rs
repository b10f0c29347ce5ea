//! Typed configuration: defaults, then an optional TOML file (`HIDAMARI_CONFIG` or `--config`), then
//! the environment (`HIDAMARI_…`, and `DATABASE_URL`). A bad value stops start-up with a message
//! that names the setting.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

/// The settings as written by the operator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: SocketAddr,
    data_dir: PathBuf,
    base_url: Option<String>,
    database_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: String,
    time_zone: String,
    site_name: String,
    invitation_days: u32,
    notify_delay_seconds: u32,
    trust_forwarded_for: bool,
    write_limit_scale: u32,
    cafe_connections_per_member: usize,
    job_batch_size: u32,
    job_batch_pause_ms: u64,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            base_url: None,
            database_url: None,
            smtp_url: None,
            mail_from: "hidamari <noreply@localhost>".into(),
            time_zone: "Asia/Tokyo".into(),
            site_name: "陽だまり".into(),
            invitation_days: 7,
            notify_delay_seconds: 300,
            trust_forwarded_for: false,
            write_limit_scale: 1,
            cafe_connections_per_member: crate::web::sockets::PER_MEMBER,
            job_batch_size: 200,
            job_batch_pause_ms: 20,
        }
    }
}

/// The resolved, validated configuration the application runs with.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Where members reach the site; links in e-mails start with it.
    pub base_url: Url,
    pub database_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: lettre::message::Mailbox,
    pub time_zone: jiff::tz::TimeZone,
    pub site_name: String,
    pub invitation_days: u32,
    /// How long a new-post notification waits, so that several go out as one mail.
    pub notify_delay_seconds: u32,
    /// Behind a reverse proxy every request comes from the proxy's address; with this set, the
    /// client is the address the proxy appended to `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Every write limit (see `auth::write_limit`) multiplied by this: more room for a busy
    /// site or an import, without a setting for each kind of write.
    pub write_limit_scale: u32,
    /// Live café connections one member may have open on an instance (tabs and devices).
    pub cafe_connections_per_member: usize,
    /// Rows a background job's batch handles in its one short transaction (see `jobs`).
    pub job_batch_size: u32,
    /// The pause between two batches of a background job, leaving the writer to others.
    pub job_batch_pause_ms: u64,
}

/// Secrets (the SMTP URL may carry a password, the database URL too) never reach logs.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("base_url", &self.base_url.as_str())
            .field("database", &redact(&self.database_url))
            .field("smtp", &self.smtp_url.as_deref().map(redact))
            .field("mail_from", &self.mail_from.to_string())
            .field("time_zone", &self.time_zone.iana_name())
            .field("site_name", &self.site_name)
            .field("invitation_days", &self.invitation_days)
            .field("notify_delay_seconds", &self.notify_delay_seconds)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("write_limit_scale", &self.write_limit_scale)
            .field(
                "cafe_connections_per_member",
                &self.cafe_connections_per_member,
            )
            .field("job_batch_size", &self.job_batch_size)
            .field("job_batch_pause_ms", &self.job_batch_pause_ms)
            .finish()
    }
}

/// Keeps a URL's scheme and host, drops user and password.
fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(unparsable)".into(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Source(#[from] Box<figment::Error>),
    #[error("configuration: setting `{setting}`: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
}

fn invalid(setting: &'static str, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        setting,
        message: message.to_string(),
    }
}

impl Config {
    /// Loads defaults, then `file` (or `HIDAMARI_CONFIG`) when given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        let env_file = std::env::var_os("HIDAMARI_CONFIG").map(PathBuf::from);
        if let Some(path) = file.map(Path::to_path_buf).or(env_file) {
            if !path.exists() {
                return Err(invalid(
                    "HIDAMARI_CONFIG",
                    format!("no file at {}", path.display()),
                ));
            }
            figment = figment.merge(Toml::file(path));
        }
        let figment = figment
            .merge(Env::prefixed("HIDAMARI_").ignore(&["CONFIG"]))
            .merge(Env::raw().only(&["DATABASE_URL"]));
        let raw: RawConfig = figment.extract().map_err(Box::new)?;
        Config::resolve(raw)
    }

    fn resolve(raw: RawConfig) -> Result<Config, ConfigError> {
        let base_url = match raw.base_url.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Url::parse(s).map_err(|e| invalid("HIDAMARI_BASE_URL", e))?,
            None => Url::parse(&format!("http://{}", raw.listen))
                .map_err(|e| invalid("HIDAMARI_LISTEN", e))?,
        };
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(invalid(
                "HIDAMARI_BASE_URL",
                "must start with http:// or https://",
            ));
        }
        let database_url = match raw.database_url.filter(|s| !s.is_empty()) {
            Some(url) => {
                let known = ["sqlite:", "postgres://", "postgresql://"];
                if !known.iter().any(|p| url.starts_with(p)) {
                    return Err(invalid(
                        "DATABASE_URL",
                        "must start with sqlite:// or postgres://",
                    ));
                }
                url
            }
            None => format!("sqlite://{}", raw.data_dir.join("hidamari.db").display()),
        };
        let smtp_url = raw.smtp_url.filter(|s| !s.is_empty());
        if let Some(url) = &smtp_url {
            let parsed = Url::parse(url).map_err(|e| invalid("HIDAMARI_SMTP_URL", e))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err(invalid(
                    "HIDAMARI_SMTP_URL",
                    "must start with smtp:// or smtps://",
                ));
            }
        }
        let mail_from = raw
            .mail_from
            .parse()
            .map_err(|e| invalid("HIDAMARI_MAIL_FROM", e))?;
        let time_zone = jiff::tz::TimeZone::get(&raw.time_zone)
            .map_err(|e| invalid("HIDAMARI_TIME_ZONE", e))?;
        if raw.invitation_days == 0 || raw.invitation_days > 90 {
            return Err(invalid(
                "HIDAMARI_INVITATION_DAYS",
                "must be between 1 and 90",
            ));
        }
        if raw.write_limit_scale == 0 || raw.write_limit_scale > 1000 {
            return Err(invalid(
                "HIDAMARI_WRITE_LIMIT_SCALE",
                "must be between 1 and 1000",
            ));
        }
        if raw.cafe_connections_per_member == 0 || raw.cafe_connections_per_member > 10_000 {
            return Err(invalid(
                "HIDAMARI_CAFE_CONNECTIONS_PER_MEMBER",
                "must be between 1 and 10000",
            ));
        }
        if raw.job_batch_size == 0 || raw.job_batch_size > 10_000 {
            return Err(invalid(
                "HIDAMARI_JOB_BATCH_SIZE",
                "must be between 1 and 10000",
            ));
        }
        if raw.job_batch_pause_ms > 60_000 {
            return Err(invalid(
                "HIDAMARI_JOB_BATCH_PAUSE_MS",
                "must be at most 60000",
            ));
        }
        Ok(Config {
            listen: raw.listen,
            data_dir: raw.data_dir,
            base_url,
            database_url,
            smtp_url,
            mail_from,
            time_zone,
            site_name: raw.site_name,
            invitation_days: raw.invitation_days,
            notify_delay_seconds: raw.notify_delay_seconds,
            trust_forwarded_for: raw.trust_forwarded_for,
            write_limit_scale: raw.write_limit_scale,
            cafe_connections_per_member: raw.cafe_connections_per_member,
            job_batch_size: raw.job_batch_size,
            job_batch_pause_ms: raw.job_batch_pause_ms,
        })
    }

    /// A configuration for tests and benchmarks: everything under `data_dir`, the given database.
    pub fn for_data_dir(
        data_dir: &Path,
        database_url: Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::resolve(RawConfig {
            data_dir: data_dir.to_path_buf(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            ..RawConfig::default()
        })
    }

    /// The database as an operator recognizes it in messages: a SQLite file's full path, or the
    /// PostgreSQL URL without its password.
    pub fn database_shown(&self) -> String {
        match self.sqlite_file() {
            Some(file) => std::path::absolute(&file)
                .unwrap_or(file)
                .display()
                .to_string(),
            None => redact(&self.database_url),
        }
    }

    /// The file a SQLite database lives in; `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let path = self.database_url.strip_prefix("sqlite:")?;
        let path = path.strip_prefix("//").unwrap_or(path);
        let path = path.split_once('?').map_or(path, |(file, _)| file);
        Some(PathBuf::from(path))
    }

    /// Whether cookies must carry `Secure`.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute link for e-mails: `base_url` joined with `path`.
    pub fn link(&self, path: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_limit_scale_is_bounded_and_named_when_wrong() {
        for (scale, accepted) in [(0, false), (1, true), (1000, true), (1001, false)] {
            let raw = RawConfig {
                write_limit_scale: scale,
                ..RawConfig::default()
            };
            match Config::resolve(raw) {
                Ok(config) => {
                    assert!(accepted, "{scale}");
                    assert_eq!(config.write_limit_scale, scale);
                }
                Err(err) => {
                    assert!(!accepted, "{scale}: {err}");
                    assert!(err.to_string().contains("HIDAMARI_WRITE_LIMIT_SCALE"));
                }
            }
        }
    }
}
