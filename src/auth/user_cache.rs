//! The members behind sessions, kept in memory on SQLite (one process owns the database, so
//! it sees every change). The cache listens to the event bus: a member's entry goes when an
//! [`Event::MemberChanged`] (or [`Event::NoticesChanged`], for the header's unread count) for
//! them is published, right after the commit (and every entry goes when a post changes or a
//! block is made, which the unread count depends on), so the very next
//! request reads the row (a member suspended or silenced is seen so at once); entries also
//! expire after a minute as a safety net. On PostgreSQL several instances may
//! change the same row, so there is no cache and every request reads the row.

use std::sync::Arc;
use std::time::Duration;

use crate::db::users::SessionUser;
use crate::db::{self, Db, Reader};
use crate::events::{Event, EventBus};

#[derive(Clone)]
pub struct UserCache(Option<moka::sync::Cache<i64, Arc<SessionUser>>>);

impl UserCache {
    pub fn for_db(db: &Db) -> UserCache {
        match db.dialect() {
            db::Dialect::Sqlite => UserCache(Some(
                moka::sync::Cache::builder()
                    .max_capacity(20_000)
                    .time_to_live(Duration::from_secs(60))
                    .build(),
            )),
            db::Dialect::Postgres => UserCache(None),
        }
    }

    pub async fn get(
        &self,
        reader: &mut Reader<'_>,
        id: i64,
    ) -> Result<Option<Arc<SessionUser>>, sqlx::Error> {
        if let Some(user) = self.0.as_ref().and_then(|cache| cache.get(&id)) {
            return Ok(Some(user));
        }
        let user = db::users::session_user(reader.exec().await?, id)
            .await?
            .map(Arc::new);
        if let (Some(cache), Some(user)) = (&self.0, &user) {
            cache.insert(id, user.clone());
        }
        Ok(user)
    }

    /// Forgets a member when their account or their notices change.
    pub fn listen_to(&self, bus: &EventBus) {
        if let Some(cache) = self.0.clone() {
            bus.listen(move |event| {
                match event {
                    Event::MemberChanged { user_id } | Event::NoticesChanged { user_id } => {
                        cache.invalidate(user_id)
                    }
                    // The unread count leaves out posts hidden or deleted and blocked writers.
                    Event::PostChanged { .. } | Event::BlocksChanged => cache.invalidate_all(),
                    _ => {}
                }
            });
        }
    }
}
