//! The session store on whichever database is in use: tower-sessions' SQLite or PostgreSQL store.
//! On SQLite, the page layer also keeps sessions in memory (see `auth::session::Sessions`).
//!
//! A session is written only when it changes, and it expires [`SESSION_LIFETIME`] after it was
//! written; the page layer saves one again when less than half of that is left (see
//! `auth::session::Sessions::open`).

/// How long a session lasts after it was last written.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(30);

use async_trait::async_trait;
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{ExpiredDeletion, Result};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::Db;

#[derive(Clone, Debug)]
pub enum AnySessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnySessionStore {
    pub fn new(db: &Db) -> AnySessionStore {
        match db {
            Db::Sqlite { writer, .. } => AnySessionStore::Sqlite(SqliteStore::new(writer.clone())),
            Db::Postgres(pool) => AnySessionStore::Postgres(PostgresStore::new(pool.clone())),
        }
    }

    pub async fn migrate(&self) -> std::result::Result<(), sqlx::Error> {
        match self {
            AnySessionStore::Sqlite(s) => s.migrate().await,
            AnySessionStore::Postgres(s) => s.migrate().await,
        }
    }

    pub async fn delete_expired_sessions(&self) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.delete_expired().await,
            AnySessionStore::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait]
impl SessionStore for AnySessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.create(record).await,
            AnySessionStore::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.save(record).await,
            AnySessionStore::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match self {
            AnySessionStore::Sqlite(s) => s.load(id).await,
            AnySessionStore::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.delete(id).await,
            AnySessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}
