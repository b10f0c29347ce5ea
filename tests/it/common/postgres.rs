//! A throwaway PostgreSQL cluster, started once per test process, and a fresh database per test.
//!
//! `HIDAMARI_TEST_DATABASE_URL=postgres://…` uses an existing server instead. Otherwise the
//! cluster is made with `initdb` from `/usr/lib/postgresql/*/bin` (or `PATH`) in a temporary
//! folder, run as the `postgres` user when the tests run as root (initdb refuses root), and
//! started behind a watchdog shell that holds a pipe from this process: when the test process
//! ends, however it ends, the pipe closes, the watchdog stops PostgreSQL and removes the folder.
//! PostgreSQL tests never skip: if no server can be had, they panic and say why.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;

/// The server every PostgreSQL test in this process creates its database on.
struct Cluster {
    /// A URL with the rights to create databases, pointing at the `postgres` database.
    admin_url: String,
    /// Held, never written: its closing (at process exit) tells the watchdog to stop PostgreSQL.
    _lifeline: Option<Mutex<(Child, ChildStdin)>>,
}

static CLUSTER: OnceCell<Result<Cluster, String>> = OnceCell::const_new();

async fn cluster() -> &'static Cluster {
    let cluster = CLUSTER
        .get_or_init(|| async {
            match std::env::var("HIDAMARI_TEST_DATABASE_URL") {
                Ok(url) if !url.is_empty() => Ok(Cluster {
                    admin_url: url,
                    _lifeline: None,
                }),
                _ => start_cluster().await,
            }
        })
        .await;
    match cluster {
        Ok(cluster) => cluster,
        Err(message) => panic!(
            "PostgreSQL tests need a PostgreSQL server and none could be started:\n{message}\n\
             Install PostgreSQL (scripts/test.sh does: apt-get install postgresql) or set \
             HIDAMARI_TEST_DATABASE_URL=postgres://USER@HOST:PORT/postgres"
        ),
    }
}

/// A new, empty database: its URL and its name.
pub async fn fresh_database() -> (String, String) {
    let cluster = cluster().await;
    let name = format!("test_{:016x}", rand::random::<u64>());
    let mut admin = connect(&cluster.admin_url).await;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = admin.close().await;
    let mut url = url::Url::parse(&cluster.admin_url).expect("the PostgreSQL URL parses");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

/// Drops a database made by [`fresh_database`]; errors are reported, not fatal.
pub async fn drop_database(name: &str) {
    let cluster = cluster().await;
    match PgConnection::connect(&cluster.admin_url).await {
        Ok(mut admin) => {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(e) = admin.execute(sql.as_str()).await {
                eprintln!("test harness: {sql}: {e}");
            }
            let _ = admin.close().await;
        }
        Err(e) => eprintln!("test harness: cannot drop database {name}: {e}"),
    }
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL server: {e}"))
}

async fn start_cluster() -> Result<Cluster, String> {
    let cluster = tokio::task::spawn_blocking(spawn_watchdog)
        .await
        .map_err(|e| format!("starting PostgreSQL: {e}"))??;
    let conn = PgConnection::connect(&cluster.admin_url)
        .await
        .map_err(|e| format!("PostgreSQL started but does not answer: {e}"))?;
    let _ = conn.close().await;
    Ok(cluster)
}

/// The watchdog, run by `sh` (as `postgres` when we are root). It makes the cluster, starts it
/// with `pg_ctl start -w` (which returns once connections are accepted), says `ready`, then
/// waits for its stdin to close: at the end of the test process, however it ends. Then it stops
/// PostgreSQL and removes the folder. It ignores signals, SIGPIPE included: not even a `ready`
/// that no one reads any more (the test process died meanwhile) may stop it before it has
/// cleaned up. `$1` initdb, `$2` pg_ctl, `$3` the folder, `$4` the port.
const WATCHDOG: &str = r#"
    trap '' INT TERM HUP PIPE
    if ! "$1" -D "$3/data" -U postgres --locale=C.UTF-8 --encoding=UTF8 --auth=trust --no-sync \
        </dev/null >"$3/initdb.log" 2>&1; then
        echo "initdb failed:"; cat "$3/initdb.log"; rm -rf "$3"; exit 1
    fi
    options="-k '$3' -p $4 -c listen_addresses=127.0.0.1 -c max_connections=300 \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if ! "$2" start -w -t 60 -D "$3/data" -l "$3/postgres.log" -o "$options" \
        </dev/null >"$3/pg_ctl.log" 2>&1; then
        echo "pg_ctl start failed:"; cat "$3/pg_ctl.log" "$3/postgres.log"
        "$2" stop -D "$3/data" -m immediate >/dev/null 2>&1
        rm -rf "$3"; exit 1
    fi
    echo ready
    cat >/dev/null
    "$2" stop -D "$3/data" -m fast >/dev/null 2>&1 ||
        "$2" stop -D "$3/data" -m immediate >/dev/null 2>&1
    rm -rf "$3"
"#;

/// Makes the cluster's folder, starts the watchdog and waits for it to say `ready` (blocking).
/// Everything in the folder is made by the watchdog, which always removes it, so a test run
/// killed at any moment leaves nothing behind.
fn spawn_watchdog() -> Result<Cluster, String> {
    let bin = postgres_bin_dir();
    let tool = |name: &str| {
        bin.as_ref()
            .map_or_else(|| PathBuf::from(name), |dir| dir.join(name))
    };
    let as_root = running_as_root();

    let base = tempfile::Builder::new()
        .prefix("hidamari-pg-")
        .tempdir()
        .map_err(|e| format!("creating a temporary folder: {e}"))?;
    if as_root {
        run(Command::new("chown")
            .arg("-R")
            .arg("postgres:postgres")
            .arg(base.path()))
        .map_err(|e| {
            format!("{e}\n(running as root, the cluster belongs to the `postgres` user)")
        })?;
    }
    let port = free_port()?;
    let mut watchdog = as_postgres(as_root, Path::new("sh"));
    watchdog
        .arg("-c")
        .arg(WATCHDOG)
        .arg("sh")
        .arg(tool("initdb"))
        .arg(tool("pg_ctl"))
        .arg(base.path())
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Its own process group: a Ctrl-C on the test run does not stop the watchdog before it has
    // stopped PostgreSQL and removed the folder.
    std::os::unix::process::CommandExt::process_group(&mut watchdog, 0);
    let mut child = watchdog
        .spawn()
        .map_err(|e| format!("starting the PostgreSQL watchdog: {e}"))?;
    // From here on the watchdog removes the folder.
    let _ = base.keep();
    let stdin = child.stdin.take().expect("the watchdog's stdin is piped");
    let mut said = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("the watchdog's stdout is piped"));
    let _ = stdout.read_line(&mut said);
    if said.trim() != "ready" {
        let _ = stdout.read_to_string(&mut said);
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(format!(
            "the PostgreSQL watchdog stopped ({status}):\n{said}"
        ));
    }
    Ok(Cluster {
        admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        _lifeline: Some(Mutex::new((child, stdin))),
    })
}

/// `/usr/lib/postgresql/<newest>/bin` when it has `initdb`; `None` means: look in `PATH`.
fn postgres_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    match status.lines().find_map(|l| l.strip_prefix("Uid:")) {
        Some(uids) => uids.split_whitespace().nth(1) == Some("0"),
        None => Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0"),
    }
}

/// `program` as the `postgres` user when we are root, as ourselves otherwise.
fn as_postgres(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{shown}: cannot run: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(format!("{shown}: {}\n{text}", output.status))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("finding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}
