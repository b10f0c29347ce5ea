//! What the command line runs. Errors come back as one sentence for the operator.

use std::path::Path;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::{self, Db};
use crate::{admin, open_database, start};

/// Runs the server until a shutdown signal; `started` runs once it is listening and its start-up
/// work is done (the binary gives its allocator's freed memory back then).
pub async fn serve(config: Config, started: impl FnOnce()) -> Result<(), String> {
    let stop = shutdown_signal()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {} (HIDAMARI_LISTEN): {e}", config.listen))?;
    let base_url = config.base_url.clone();
    let database = config.database_shown();
    let running = start(config, listener).await.map_err(|e| e.to_string())?;
    tracing::info!(address = %running.addr, database = ?running.app.db.dialect(), "hidamari is listening on {base_url}");
    let mut conn = running.app.db.conn().await.map_err(|e| e.to_string())?;
    if db::users::count_coordinators(conn.exec())
        .await
        .map_err(|e| e.to_string())?
        == 0
    {
        println!();
        println!("  hidamari is running at {base_url}");
        println!("  with the database {database}.");
        println!("  No coordinator exists yet. Create the first one in another terminal, in this");
        println!("  folder (and with the same HIDAMARI_DATA_DIR, DATABASE_URL or --config, if you");
        println!("  set any):");
        println!();
        println!("      cargo run --release -- create-coordinator --email you@example.org");
        println!();
        println!("  and open the link it prints.");
        println!();
    }
    drop(conn);
    started();
    stop.await;
    tracing::info!("shutting down: finishing requests and sending pending mail");
    running.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. Made before the server starts, so that a SIGTERM that comes
/// as soon as `/healthz` answers still shuts down gracefully.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
    Ok(async move {
        #[cfg(unix)]
        let terminate = terminate.recv();
        #[cfg(not(unix))]
        let terminate = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
    })
}

pub async fn migrate(config: Config) -> Result<(), String> {
    let db = open_database(&config).await.map_err(|e| e.to_string())?;
    db.close().await;
    println!("The database is up to date.");
    Ok(())
}

/// Makes the first coordinator in the server's database. Run from another folder than the
/// server's, the default SQLite file would be a new, empty database that no server uses: unless
/// `create_database` says to make it, it refuses and says how to name the right one.
pub async fn create_coordinator(
    config: Config,
    email: &str,
    create_database: bool,
) -> Result<(), String> {
    let database = config.database_shown();
    println!("Database: {database}");
    let missing = config.sqlite_file().is_some_and(|file| !file.exists());
    if missing && !create_database {
        return Err(format!(
            "there is no database at {database}, so no coordinator was made.\n\
             Run create-coordinator in the folder where `serve` runs, or name the server's \
             database as the server was given it: HIDAMARI_DATA_DIR, DATABASE_URL or --config.\n\
             To make a new database here instead, add --create-database."
        ));
    }
    let db = open_database(&config).await.map_err(|e| e.to_string())?;
    let outcome = admin::service::invite_coordinator(&db, &config, email).await;
    let days = match db.conn().await {
        Ok(mut conn) => admin::site::SiteValues::load(conn.exec(), &config)
            .await
            .map(|site| site.invitation_days),
        Err(e) => Err(e),
    };
    db.close().await;
    let link = outcome.map_err(|e| e.to_string())?;
    let days = days.map_err(|e| e.to_string())?;
    println!(
        "Open this link to choose a display name and a password (valid for {days} days, once):"
    );
    println!();
    println!("    {link}");
    println!();
    Ok(())
}

pub async fn backup(config: Config, path: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} exists already; choose a new file name",
            path.display()
        ));
    }
    if config.database_url.starts_with("postgres") {
        let status = std::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--file")
            .arg(path)
            .arg(&config.database_url)
            .status()
            .map_err(|e| {
                format!("on PostgreSQL, backups are made with pg_dump, which could not be run: {e}")
            })?;
        return if status.success() {
            println!(
                "Backup written to {} (restore with pg_restore).",
                path.display()
            );
            Ok(())
        } else {
            Err(format!("pg_dump failed ({status})"))
        };
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let outcome = db.backup_sqlite(path).await;
    db.close().await;
    outcome.map_err(|e| format!("backup failed: {e}"))?;
    println!(
        "Backup written to {}. To restore, stop the server and copy it over the database file.",
        path.display()
    );
    Ok(())
}
