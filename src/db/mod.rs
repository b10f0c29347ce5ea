//! Storage: one `Db` that holds either a SQLite or a PostgreSQL pool.
//!
//! Queries are written once in portable SQL (`$1` placeholders, `RETURNING`, timestamps bound from
//! Rust as Unix seconds) and run against whichever driver is in hand through the [`on!`] macro, so
//! each arm is type-checked against its own driver. Only what really differs between the dialects
//! (row locking, backup) has per-dialect arms.

pub mod audit;
pub mod blocks;
pub mod cafe;
pub mod cafe_schedule;
pub mod drafts;
pub mod forums;
pub mod invitations;
pub mod jobs;
pub mod member_data;
pub mod member_export;
pub mod members;
pub mod moderation;
pub mod notifications;
pub mod notify;
pub mod outbox;
pub mod profiles;
pub mod qa;
pub mod qa_slots;
pub mod reactions;
pub mod reads;
pub mod reports;
pub mod safety;
pub mod search;
pub mod settings;
pub mod staff_notes;
pub mod stats;
pub mod tokens;
pub mod users;

use std::cell::Cell;
use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

/// Runs the same query body against either driver: `on!(exec, |c| sqlx::query(...).execute(c).await.map(|r| r.rows_affected()))`.
#[macro_export]
macro_rules! on {
    ($exec:expr, |$c:ident| $body:expr) => {
        match $exec {
            $crate::db::Exec::Sqlite($c) => $body,
            $crate::db::Exec::Postgres($c) => $body,
        }
    };
}

/// A borrowed connection of either kind, handed to the query functions in this module.
pub enum Exec<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Exec<'_> {
    /// The same connection again, for the next query of a function that runs several.
    pub fn again(&mut self) -> Exec<'_> {
        match self {
            Exec::Sqlite(c) => Exec::Sqlite(c),
            Exec::Postgres(c) => Exec::Postgres(c),
        }
    }
}

/// The pools. SQLite in WAL mode has many readers and one writer at a time: writers queue for
/// the single writer connection (so a burst of writes never takes the readers' connections
/// while it waits for the lock), and readers cannot write (`query_only`), so a page view never
/// waits for the write lock by accident.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres(PgPool),
}

/// A write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, so a second writer waits on
/// the busy timeout instead of failing with SQLITE_BUSY halfway through.
pub struct Tx {
    inner: TxInner,
    _lease: Lease,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A pooled connection for reads outside a transaction.
pub struct Conn {
    inner: ConnInner,
    _lease: Lease,
}

enum ConnInner {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    /// Within one request (see [`one_at_a_time`]): whether it holds a pooled connection now.
    static HOLDING: Cell<bool>;
}

/// Runs one request under the rule that it holds at most one pooled connection at a time: a
/// request that asks for a second while it holds one gets an error at once, on every path and
/// under any load, instead of a deadlock once the pool's size of requests do it together.
pub async fn one_at_a_time<F: Future>(request: F) -> F::Output {
    HOLDING.scope(Cell::new(false), request).await
}

/// The mark that a request holds a connection; dropping the connection drops it.
#[derive(Debug)]
struct Lease {
    in_request: bool,
}

impl Lease {
    fn take() -> Result<Lease, sqlx::Error> {
        match HOLDING.try_with(|held| held.replace(true)) {
            Ok(true) => Err(sqlx::Error::Protocol(
                "a second pooled connection was asked for while this request holds one: \
                 pass the connection (or the transaction) down"
                    .into(),
            )),
            Ok(false) => Ok(Lease { in_request: true }),
            // Start-up, the command line and background workers are not requests.
            Err(_) => Ok(Lease { in_request: false }),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.in_request {
            let _ = HOLDING.try_with(|held| held.set(false));
        }
    }
}

/// How many connections each pool keeps at most, for a machine with `cores` cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSizes {
    /// SQLite readers: the work is CPU-bound, so a few per core keep the cores busy while some
    /// wait on the disk; more only cost memory (a page cache and a thread each).
    pub sqlite_readers: u32,
    /// PostgreSQL: readers and writers share one pool; the server runs the queries.
    pub postgres: u32,
}

impl PoolSizes {
    pub fn for_cores(cores: usize) -> PoolSizes {
        let cores = u32::try_from(cores.max(1)).unwrap_or(u32::MAX);
        PoolSizes {
            sqlite_readers: cores.saturating_mul(2).clamp(2, 16),
            postgres: cores.saturating_mul(4).clamp(4, 32),
        }
    }

    pub fn for_this_machine() -> PoolSizes {
        PoolSizes::for_cores(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// How long a request waits for a pooled connection before it gets an error page. With one
/// connection a request, this is a queue, not a deadlock: it only runs out under overload.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating a SQLite file if missing.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        let sizes = PoolSizes::for_this_machine();
        if is_postgres(url) {
            let pool = PgPoolOptions::new()
                .max_connections(sizes.postgres)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(PgConnectOptions::from_str(url)?)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            // The writer connects first: it creates the file and turns WAL on for everyone.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(writer_options(url)?)
                .await?;
            // A local file's connection does not drop: no ping (a round trip to the
            // connection's thread) before each use.
            let readers = SqlitePoolOptions::new()
                .max_connections(sizes.sqlite_readers)
                .test_before_acquire(false)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(reader_options(url)?);
            Ok(Db::Sqlite { writer, readers })
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("migrations/sqlite").run(writer).await,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let lease = Lease::take()?;
        let inner = match self {
            Db::Sqlite { writer, .. } => {
                TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            Db::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            _lease: lease,
        })
    }

    /// A connection for reading; on SQLite it cannot write (writes go through [`Db::begin`]).
    pub async fn conn(&self) -> Result<Conn, sqlx::Error> {
        let lease = Lease::take()?;
        let inner = match self {
            Db::Sqlite { readers, .. } => ConnInner::Sqlite(readers.acquire().await?),
            Db::Postgres(pool) => ConnInner::Postgres(pool.acquire().await?),
        };
        Ok(Conn {
            inner,
            _lease: lease,
        })
    }

    /// A request's connection for reading, taken when first needed.
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            db: self,
            conn: None,
        }
    }

    /// A consistent copy made while the server runs. SQLite writes it with `VACUUM INTO`, which
    /// reads one snapshot; PostgreSQL has its own tool for this, so the caller runs `pg_dump`.
    pub async fn backup_sqlite(&self, target: &Path) -> Result<(), sqlx::Error> {
        let Db::Sqlite { writer, .. } = self else {
            return Err(sqlx::Error::Configuration(
                "backup through VACUUM INTO is for SQLite".into(),
            ));
        };
        let path = target.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(writer)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// What every SQLite connection shares; the writer adds the journal mode (WAL stays on the file
/// for everyone), readers refuse to write.
fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

fn writer_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(sqlite_options(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal))
}

fn reader_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(sqlite_options(url)?.pragma("query_only", "ON"))
}

/// `/healthz`'s own connection, so that a probe never queues behind the pages (a balancer that
/// saw a busy instance as dead would take it out just when it is needed).
#[derive(Clone, Debug)]
pub enum Probe {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How long a probe waits for its connection before it reports the database as not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Probe {
    /// A pool of one connection to `url`, opened on the first probe.
    pub fn new(url: &str) -> Result<Probe, sqlx::Error> {
        Ok(if is_postgres(url) {
            Probe::Postgres(
                PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(PROBE_TIMEOUT)
                    .connect_lazy_with(PgConnectOptions::from_str(url)?),
            )
        } else {
            Probe::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(PROBE_TIMEOUT)
                    .connect_lazy_with(reader_options(url)?),
            )
        })
    }

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let sql = "SELECT 1";
        match self {
            Probe::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            Probe::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        }
    }

    pub async fn close(&self) {
        match self {
            Probe::Sqlite(pool) => pool.close().await,
            Probe::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            TxInner::Sqlite(tx) => Exec::Sqlite(&mut *tx),
            TxInner::Postgres(tx) => Exec::Postgres(&mut *tx),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await,
            TxInner::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Conn {
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            ConnInner::Sqlite(c) => Exec::Sqlite(&mut *c),
            ConnInner::Postgres(c) => Exec::Postgres(&mut *c),
        }
    }
}

/// The one connection a request reads with, taken from the pool when first needed (a page the
/// memory caches answer takes none) and kept until the reader is dropped. Handed down to the
/// caches, so they never take a second one.
pub struct Reader<'a> {
    db: &'a Db,
    conn: Option<Conn>,
}

impl Reader<'_> {
    pub async fn exec(&mut self) -> Result<Exec<'_>, sqlx::Error> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.db.conn().await?,
        };
        Ok(self.conn.insert(conn).exec())
    }
}

/// Whether an error is a unique-constraint violation (a duplicate e-mail or display name).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The current time as Unix seconds, the one unit every timestamp column uses (UTC by definition).
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// `$first, $first+1, …` for `count` values bound in a row, as in `IN (…)`.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_holds_one_connection_at_a_time_and_readers_cannot_write() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}/one.db", dir.path().display());
        let db = Db::connect(&url).await.expect("connecting");

        one_at_a_time(async {
            let mut held = db.conn().await.expect("the first connection");
            assert!(db.conn().await.is_err(), "a second while one is held");
            assert!(db.begin().await.is_err(), "a transaction while one is held");
            let refused = on!(held.exec(), |c| sqlx::query("CREATE TABLE t (x INTEGER)")
                .execute(c)
                .await
                .map(|_| ()));
            assert!(refused.is_err(), "a reader does not write");
            drop(held);
            let mut tx = db
                .begin()
                .await
                .expect("one again once the first is let go");
            on!(tx.exec(), |c| sqlx::query("CREATE TABLE t (x INTEGER)")
                .execute(c)
                .await
                .map(|_| ()))
            .expect("the writer writes");
            tx.commit().await.expect("committing");
            let mut reader = db.reader();
            reader.exec().await.expect("a reader");
            reader.exec().await.expect("the same reader again");
        })
        .await;

        // Outside a request (start-up, background work) nothing is counted.
        let first = db.conn().await.expect("a connection");
        let second = db.conn().await.expect("another");
        // Closing waits for every connection to come back.
        drop((first, second));
        db.close().await;
    }

    #[test]
    fn pools_grow_with_the_cores_within_bounds() {
        assert_eq!(
            PoolSizes::for_cores(1),
            PoolSizes {
                sqlite_readers: 2,
                postgres: 4
            }
        );
        assert_eq!(PoolSizes::for_cores(2).sqlite_readers, 4);
        assert_eq!(PoolSizes::for_cores(64).sqlite_readers, 16);
        assert_eq!(PoolSizes::for_cores(64).postgres, 32);
    }
}
