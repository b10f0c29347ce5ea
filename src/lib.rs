//! hidamari: builds the application from configuration: config -> storage -> services -> router.

pub mod account;
pub mod admin;
pub mod auth;
pub mod cafe;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod forums;
pub mod home;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod markdown;
pub mod moderation;
pub mod notify;
pub mod qa;
pub mod safety;
pub mod session_store;
pub mod text;
pub mod web;
pub mod work;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::password::Passwords;
use crate::auth::rate_limit::RateLimits;
use crate::auth::user_cache::UserCache;
use crate::auth::write_limit::WriteLimits;
use crate::config::Config;
use crate::db::Db;
use crate::mail::MailSignal;
use crate::mail::worker::MailWorker;
use crate::session_store::AnySessionStore;

rust_i18n::i18n!("locales");

/// The services every handler can reach.
pub struct App {
    pub config: Config,
    pub db: Db,
    /// `/healthz`'s own connection.
    pub probe: db::Probe,
    pub passwords: Passwords,
    pub limits: RateLimits,
    /// How much each member may write in a short time.
    pub writes: WriteLimits,
    pub mail: MailSignal,
    /// Changes, published after their commit (see `work` and `events`).
    pub events: events::EventBus,
    /// What waits in the review queue, for the staff's header.
    pub queue_count: moderation::count::QueueCount,
    pub users: UserCache,
    /// What is new for each member since their last visit (see `forums::social`).
    pub new_topics: forums::social::NewTopicsCache,
    /// Topic pages: what readers see alike, and each reader's own part (see `forums::page_cache`).
    pub topic_pages: forums::page_cache::TopicPages,
    /// Read markers noted by page views, written in batches (see `forums::reads`).
    pub read_marks: forums::reads::ReadMarks,
    pub announcements: admin::announcements::AnnouncementCache,
    /// Signs the links in mails that work without logging in.
    pub links: forums::notify::LinkSigner,
    /// Visitors' form tokens, in a signed cookie instead of a session.
    pub visitor_tokens: auth::csrf::VisitorTokens,
    /// The café rooms with members connected to this instance.
    pub cafe: Arc<cafe::hub::Cafe>,
    /// The site's settings in force (name, time zone, …), kept fresh from the database.
    pub site: admin::site::SiteSettings,
    /// Every live page's WebSockets on this instance.
    pub sockets: Arc<web::sockets::Sockets>,
    pub qa: Arc<qa::live::QaLive>,
    /// Opens and saves each page request's session.
    pub sessions: auth::session::Sessions,
}

pub type AppState = Arc<App>;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

/// Connects to the database (creating the data folder for SQLite) and brings the schema up to date.
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| StartError::Other(format!("{}: {e}", config.data_dir.display())))?;
    }
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    // Posts written before search existed (or by a path that did not index them) get their
    // search text now.
    let indexed = db::search::backfill(&db).await?;
    if indexed > 0 {
        tracing::info!(posts = indexed, "search text filled in");
    }
    let named = account::fill_name_skeletons(&db).await?;
    if named > 0 {
        tracing::info!(members = named, "display-name skeletons filled in");
    }
    Ok(db)
}

/// A running server: its address, and the means to stop it gracefully.
pub struct Running {
    pub addr: SocketAddr,
    pub app: AppState,
    shutdown: watch::Sender<bool>,
    stop_worker: watch::Sender<bool>,
    server: JoinHandle<()>,
    worker: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests finish, sends what the outbox holds, closes the database.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        // Upgraded connections are not the server's to wait for: café members are told to go
        // (1001) and reconnect, to another instance or to this one once it is back.
        self.app.sockets.close_all(Duration::from_secs(5)).await;
        if let Err(e) = self.server.await {
            tracing::error!(error = %e, "server task");
        }
        // Only after the last request finished: what it read is written, its mail is in the
        // outbox and goes out now.
        if let Err(e) = self
            .app
            .read_marks
            .flush(&self.app.db, &self.app.events)
            .await
        {
            tracing::error!(error = %e, "shutdown: read markers not written");
        }
        let _ = self.stop_worker.send(true);
        if let Err(e) = self.worker.await {
            tracing::error!(error = %e, "mail worker task");
        }
        self.app.probe.close().await;
        self.app.db.close().await;
    }
}

/// Starts the whole application on `listener`: migrations, the mail worker, the HTTP server.
pub async fn start(config: Config, listener: TcpListener) -> Result<Running, StartError> {
    let db = open_database(&config).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Other(e.to_string()))?;
    if db.dialect() == db::Dialect::Sqlite {
        // One process owns a SQLite database: claims left by a killed process are stale.
        let mut tx = db.begin().await?;
        db::outbox::release_claims(tx.exec()).await?;
        db::jobs::release_leases(tx.exec()).await?;
        tx.commit().await?;
    }
    let (link_key, form_key) = {
        let mut tx = db.begin().await?;
        let new = auth::csrf::new_token;
        let keys = (
            db::notifications::site_secret(tx.exec(), "link_key", &new()).await?,
            db::notifications::site_secret(tx.exec(), "form_key", &new()).await?,
        );
        tx.commit().await?;
        keys
    };
    let site = {
        let mut conn = db.conn().await?;
        admin::site::SiteValues::load(conn.exec(), &config).await?
    };
    let store = AnySessionStore::new(&db);
    store.migrate().await?;
    let slots = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let app = Arc::new(App {
        passwords: Passwords::new(slots).map_err(|e| StartError::Other(e.to_string()))?,
        limits: RateLimits::default(),
        writes: WriteLimits::new(config.write_limit_scale),
        users: UserCache::for_db(&db),
        new_topics: forums::social::NewTopicsCache::for_db(&db),
        topic_pages: forums::page_cache::TopicPages::for_db(&db),
        read_marks: forums::reads::ReadMarks::default(),
        probe: db::Probe::new(&config.database_url)?,
        announcements: admin::announcements::AnnouncementCache::for_db(&db),
        links: forums::notify::LinkSigner::new(&link_key),
        visitor_tokens: auth::csrf::VisitorTokens::new(&form_key),
        mail: MailSignal::default(),
        events: events::EventBus::default(),
        queue_count: moderation::count::QueueCount::default(),
        cafe: Arc::default(),
        site: admin::site::SiteSettings::new(site),
        sockets: Arc::default(),
        qa: Arc::default(),
        sessions: auth::session::Sessions::new(store.clone(), &db, config.is_https()),
        db,
        config,
    });
    // The memory caches and the mail worker follow the bus.
    app.users.listen_to(&app.events);
    app.new_topics.listen_to(&app.events);
    app.topic_pages.listen_to(&app.events);
    app.announcements.listen_to(&app.events);
    app.mail.listen_to(&app.events);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (stop_worker, stop_worker_rx) = watch::channel(false);

    let worker = MailWorker::new(app.db.clone(), &app.config, app.mail.clone())
        .map_err(StartError::Other)?;
    let worker = tokio::spawn(worker.run(stop_worker_rx));
    tokio::spawn(notify::mailer::run(app.clone(), shutdown_rx.clone()));
    tokio::spawn(forums::reads::run_writer(app.clone(), shutdown_rx.clone()));
    tokio::spawn(cafe::reminders::run(app.clone(), shutdown_rx.clone()));
    tokio::spawn(moderation::count::QueueCount::run(
        app.clone(),
        shutdown_rx.clone(),
    ));
    tokio::spawn(cafe::hub::run(app.clone(), shutdown_rx.clone()));
    tokio::spawn(admin::site::SiteSettings::run(
        app.clone(),
        shutdown_rx.clone(),
    ));
    tokio::spawn(qa::live::run(app.clone(), shutdown_rx.clone()));
    tokio::spawn(jobs::run(app.clone(), shutdown_rx.clone()));
    tokio::spawn(housekeeping(
        app.clone(),
        store.clone(),
        shutdown_rx.clone(),
    ));

    let router = router(app.clone());
    let mut server_stop = shutdown_rx;
    let server = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let stopping = async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(stopping)
            .await
        {
            tracing::error!(error = %e, "server");
        }
    });
    Ok(Running {
        addr,
        app,
        shutdown,
        stop_worker,
        server,
        worker,
    })
}

/// Expired sessions and idle rate-limit and write-limit keys are cleared now and then.
async fn housekeeping(app: AppState, store: AnySessionStore, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = store.delete_expired_sessions().await {
            tracing::warn!(error = %e, "deleting expired sessions");
        }
        if let Err(e) = account::service::forget_expired_exports(&app).await {
            tracing::warn!(error = %e, "deleting expired exports");
        }
        app.limits.forget_idle();
        app.writes.forget_idle();
    }
}

pub fn router(app: AppState) -> Router {
    let members_only = Router::new()
        .merge(home::routes())
        .merge(forums::routes())
        .merge(cafe::routes())
        .merge(qa::routes())
        .merge(account::member_routes())
        .merge(admin::routes())
        .merge(moderation::routes())
        .merge(safety::routes())
        .merge(notify::routes())
        .route_layer(from_fn(auth::session::require_login));

    let pages = Router::new()
        .merge(account::public_routes())
        .merge(forums::public_routes())
        .merge(notify::public_routes())
        .merge(members_only)
        .fallback(home::fallback)
        .layer(from_fn_with_state(app.clone(), web::page_context));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/static/{*path}", get(web::assets::serve))
        .merge(pages)
        // Layers in one stack, so that each route is boxed once more, not once a layer: axum
        // clones a route's boxed service on every request.
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(30),
                ))
                .layer(CompressionLayer::new())
                .layer(from_fn_with_state(app.clone(), web::guard))
                .layer(DefaultBodyLimit::max(auth::csrf::MAX_FORM_BYTES)),
        )
        .with_state(app)
}

/// 200 when the database answers, 503 when it does not; through its own connection, so a probe
/// never waits behind busy pages.
async fn healthz(
    axum::extract::State(app): axum::extract::State<AppState>,
) -> (StatusCode, &'static str) {
    match app.probe.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
