//! The session store on whichever database is in use: tower-sessions' SQLite or PostgreSQL store.
//! On SQLite, one process owns the database, so sessions are also kept in memory (a bounded moka
//! cache, written through): a page view then reads no session row. Several PostgreSQL instances
//! share sessions, so there every load reads the database.
//!
//! A session is written only when it changes, and it expires [`SESSION_LIFETIME`] after it was
//! written. A loaded session with less than half of that left is marked for renewal, so the
//! page layer saves it again (see `SessionData::renew_if_due`): members who come back stay
//! logged in, without a write on every page view.

/// Sessions kept in memory at most (a few hundred bytes each).
const CACHED_SESSIONS: u64 = 50_000;

/// How long a session lasts after it was last written.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(30);

use async_trait::async_trait;
use tower_sessions::cookie::time;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, Result};
use tower_sessions::{CachingSessionStore, SessionStore};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::Db;

#[derive(Clone, Debug)]
pub enum AnySessionStore {
    Sqlite(CachingSessionStore<MokaStore, SqliteStore>, SqliteStore),
    Postgres(PostgresStore),
}

impl AnySessionStore {
    pub fn new(db: &Db) -> AnySessionStore {
        match db {
            // Loads are mostly answered from memory; saves are writes.
            Db::Sqlite { writer, .. } => {
                let store = SqliteStore::new(writer.clone());
                let cache = MokaStore::new(Some(CACHED_SESSIONS));
                AnySessionStore::Sqlite(CachingSessionStore::new(cache, store.clone()), store)
            }
            Db::Postgres(pool) => AnySessionStore::Postgres(PostgresStore::new(pool.clone())),
        }
    }

    pub async fn migrate(&self) -> std::result::Result<(), sqlx::Error> {
        match self {
            AnySessionStore::Sqlite(_, s) => s.migrate().await,
            AnySessionStore::Postgres(s) => s.migrate().await,
        }
    }

    pub async fn delete_expired_sessions(&self) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(_, s) => s.delete_expired().await,
            AnySessionStore::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait]
impl SessionStore for AnySessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s, _) => s.create(record).await,
            AnySessionStore::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s, _) => s.save(record).await,
            AnySessionStore::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let record = match self {
            AnySessionStore::Sqlite(s, _) => s.load(id).await,
            AnySessionStore::Postgres(s) => s.load(id).await,
        }?;
        Ok(record.map(mark_if_renewal_due))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s, _) => s.delete(id).await,
            AnySessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}

fn mark_if_renewal_due(mut record: Record) -> Record {
    let left = record.expiry_date - time::OffsetDateTime::now_utc();
    if left < SESSION_LIFETIME / 2 {
        record
            .data
            .insert(crate::auth::session::RENEW_DUE.to_owned(), true.into());
    }
    record
}
