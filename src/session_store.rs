//! The session store on whichever database is in use: tower-sessions' SQLite or PostgreSQL store.
//! On SQLite, one process owns the database, so sessions are also kept in memory (a bounded moka
//! cache, written through): a page view then reads no session row. Several PostgreSQL instances
//! share sessions, so there every load reads the database.
//!
//! A session is written only when it changes, and it expires [`SESSION_LIFETIME`] after it was
//! written; the page layer saves one again when less than half of that is left (see
//! `auth::session::Sessions::open`).

/// Sessions kept in memory at most (a few hundred bytes each).
const CACHED_SESSIONS: u64 = 50_000;

/// How long a session lasts after it was last written.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(30);

use async_trait::async_trait;
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{CachingSessionStore, ExpiredDeletion, Result};
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
        match self {
            AnySessionStore::Sqlite(s, _) => s.load(id).await,
            AnySessionStore::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s, _) => s.delete(id).await,
            AnySessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}
