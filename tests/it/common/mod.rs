//! The integration-test harness: the real application on a real socket and a real database
//! (SQLite or PostgreSQL), an SMTP peer that collects its mail, and a browser-like client.
//!
//! Each story is an `async fn(TestApp)`; [`both_databases!`] runs it once per database.
//! Nothing here sleeps to wait: `spawn_app` returns once the server is bound, mail is awaited on a
//! notification, and the few readiness checks poll a condition with a deadline.

// Each story module uses a different part of the harness.
#![allow(dead_code)]

mod browser;
pub mod live;
mod postgres;
mod process;
mod smtp;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hidamari::config::Config;
use hidamari::db::Db;
use tempfile::TempDir;

// The harness's vocabulary, for stories to import from `crate::common`.
#[allow(unused_imports)]
pub use browser::{Browser, Page};
#[allow(unused_imports)]
pub use process::{ProcessSetup, ServerProcess, process_setup};
#[allow(unused_imports)]
pub use smtp::{MAIL_WAIT, MailBox, Message};

/// The longest a single story may run before it fails instead of hanging the suite.
pub const STORY_LIMIT: Duration = Duration::from_secs(180);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The application, running in this process on 127.0.0.1 and a free port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub backend: Backend,
    /// The SMTP peer the application sends to.
    pub mail: MailBox,
    /// The data folder; removed when the `TestApp` is dropped.
    pub dir: TempDir,
    pub database_url: String,
    running: hidamari::Running,
    /// The PostgreSQL database to drop at shutdown.
    pg_database: Option<String>,
}

/// Starts the application on a fresh database of the given kind.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with a chance to change the configuration first.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    init_logging();
    let dir = tempfile::Builder::new()
        .prefix("hidamari-it-")
        .tempdir()
        .expect("a temporary folder");
    let (database_url, pg_database) = new_database(backend, dir.path()).await;
    let mail = MailBox::start().await;
    let mut config = Config::for_data_dir(dir.path(), Some(database_url.clone()))
        .expect("the test configuration");
    config.smtp_url = Some(mail.url());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("the listener's address");
    config.base_url = url::Url::parse(&format!("http://{addr}")).expect("the base URL");
    // Stories write quickly to set the scene; the stories about the limits set them back.
    config.write_limit_scale = 1000;
    configure(&mut config);
    let running = hidamari::start(config, listener)
        .await
        .unwrap_or_else(|e| panic!("starting hidamari on {backend:?}: {e}"));
    let app = TestApp {
        addr: running.addr,
        backend,
        mail,
        dir,
        database_url,
        running,
        pg_database,
    };
    // New members' first posts would wait for review; the stories about review set it back.
    app.set_review_threshold(0).await;
    app
}

/// A fresh database's URL, and for PostgreSQL its name (to drop it later).
pub(crate) async fn new_database(backend: Backend, dir: &Path) -> (String, Option<String>) {
    match backend {
        Backend::Sqlite => (format!("sqlite://{}/hidamari.db", dir.display()), None),
        Backend::Postgres => {
            let (url, name) = postgres::fresh_database().await;
            (url, Some(name))
        }
    }
}

impl TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An absolute URL on this site, e.g. to match links in mail: `app.url("/invite/")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// A new browser with an empty cookie jar.
    pub fn client(&self) -> Browser {
        Browser::new(&self.base_url())
    }

    /// A new browser whose requests come from `client` as a trusted proxy reports it
    /// (see [`Browser::from_client`]).
    pub fn client_from(&self, client: &str) -> Browser {
        Browser::from_client(&self.base_url(), client)
    }

    pub fn app(&self) -> &Arc<hidamari::App> {
        &self.running.app
    }

    pub fn db(&self) -> &Db {
        &self.running.app.db
    }

    pub fn config(&self) -> &Config {
        &self.running.app.config
    }

    /// The first column of the first row of `sql` as an integer (COUNT, an id, a flag), on
    /// whichever database the app runs. For checks a person could not make through the pages.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use sqlx::Row;
        let value = match self.db() {
            Db::Sqlite { writer: pool, .. } => match sqlx::query(sql).fetch_one(pool).await {
                Ok(row) => row.try_get::<i64, _>(0),
                Err(e) => Err(e),
            },
            Db::Postgres(pool) => match sqlx::query(sql).fetch_one(pool).await {
                Ok(row) => row
                    .try_get::<i64, _>(0)
                    .or_else(|_| row.try_get::<i32, _>(0).map(i64::from))
                    .or_else(|_| row.try_get::<i16, _>(0).map(i64::from))
                    .or_else(|_| row.try_get::<bool, _>(0).map(i64::from)),
                Err(e) => Err(e),
            },
        };
        value.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement directly (e.g. to make something expire); returns the rows affected.
    pub async fn execute(&self, sql: &str) -> u64 {
        let done = match self.db() {
            Db::Sqlite { writer: pool, .. } => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            Db::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        };
        done.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// How many of a new member's first posts wait for review (a site setting).
    pub async fn set_review_threshold(&self, posts: i64) {
        self.execute(&format!(
            "INSERT INTO site_settings (name, value) VALUES ('review_threshold', '{posts}') \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        ))
        .await;
        // Read again at once, as after a change made through the settings page.
        self.app()
            .site
            .reload(self.db(), self.config())
            .await
            .expect("reading the site settings");
    }

    /// A second server on the same database (another instance behind a load balancer), with
    /// the default configuration and the same mail peer; shut it down before this one.
    pub async fn second_instance(&self) -> hidamari::Running {
        let mut config = Config::for_data_dir(self.dir.path(), Some(self.database_url.clone()))
            .expect("the configuration");
        config.smtp_url = Some(self.mail.url());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        hidamari::start(config, listener)
            .await
            .expect("a second server")
    }

    /// Stops the server gracefully (the outbox is flushed), then drops a PostgreSQL database.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
        if let Some(name) = &self.pg_database {
            postgres::drop_database(name).await;
        }
        self.mail.stop().await;
    }
}

/// Runs `story` against a fresh application on `backend`, failing it after [`STORY_LIMIT`].
pub async fn run_story<F, Fut>(backend: Backend, story: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    run_story_with(backend, |_| {}, story).await;
}

/// As [`run_story`], on an application whose configuration `configure` changed first.
pub async fn run_story_with<F, Fut>(backend: Backend, configure: impl FnOnce(&mut Config), story: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let app = spawn_app_with(backend, configure).await;
    if tokio::time::timeout(STORY_LIMIT, story(app)).await.is_err() {
        panic!("the story did not finish within {STORY_LIMIT:?} on {backend:?}");
    }
}

/// Application logs go to the test's captured output (shown when it fails); `RUST_LOG` as usual.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("hidamari=info,tower_http=warn,sqlx=warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// `both_databases!(name, story)` makes the tests `name::sqlite` and `name::postgres`, each
/// running `story(spawn_app(…).await)` (`story` is an `async fn(TestApp)` in the same module).
/// `both_databases!(story)` names the tests after the story; `both_databases!(story, configure =
/// f)` first passes the configuration to `f(&mut Config)`. Run one database only with
/// `cargo test --test it sqlite` (or `postgres`).
macro_rules! both_databases {
    ($story:ident) => {
        both_databases!($story, $story);
    };
    ($story:ident, configure = $configure:ident) => {
        mod $story {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run_story_with(
                    $crate::common::Backend::Sqlite,
                    super::$configure,
                    super::$story,
                )
                .await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run_story_with(
                    $crate::common::Backend::Postgres,
                    super::$configure,
                    super::$story,
                )
                .await;
            }
        }
    };
    ($name:ident, $story:ident) => {
        mod $name {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run_story($crate::common::Backend::Sqlite, super::$story).await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run_story($crate::common::Backend::Postgres, super::$story).await;
            }
        }
    };
}
