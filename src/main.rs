//! The command line: serve, migrate, create-coordinator, backup. Nothing else lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Pages allocate many small strings; mimalloc serves them faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use hidamari::config::Config;

#[derive(Parser)]
#[command(
    name = "hidamari",
    version,
    about = "An invitation-only community server"
)]
struct Cli {
    /// A TOML configuration file (also HIDAMARI_CONFIG); the environment overrides it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates and migrates the database on first start).
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print a one-time link with which the first coordinator sets a display name and password.
    CreateCoordinator {
        #[arg(long)]
        email: String,
        /// Make the database if it does not exist yet (otherwise a command run in the wrong
        /// folder would quietly start an empty one that no server uses).
        #[arg(long)]
        create_database: bool,
    },
    /// Write a consistent copy of the database to PATH while the server runs.
    Backup { path: PathBuf },
}

/// Starting (migrations, the first queries, building caches) leaves freed memory that mimalloc
/// gives back to the system only during later allocations, so an idle server kept it resident
/// until its first request (44 MB against 30 MB after one). Collecting once the server is up
/// gives it back at once.
fn release_startup_memory() {
    // SAFETY: mi_collect takes no pointers; it only walks mimalloc's own heaps.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "hidamari=info,tower_http=warn,sqlx=warn".into()),
        )
        .init();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("hidamari: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hidamari: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve => hidamari::cli::serve(config, release_startup_memory).await,
            Command::Migrate => hidamari::cli::migrate(config).await,
            Command::CreateCoordinator {
                email,
                create_database,
            } => hidamari::cli::create_coordinator(config, &email, create_database).await,
            Command::Backup { path } => hidamari::cli::backup(config, &path).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hidamari: {message}");
            ExitCode::FAILURE
        }
    }
}
