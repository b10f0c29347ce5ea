//! Drafts kept on the server while a topic or reply is written: saved on every preview and, by
//! the page's small script, a few seconds after typing stops; restored when the member comes
//! back; removed when the post is made. A locked phone or a lost connection loses nothing.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::db::drafts::Draft;
use crate::db::users::SessionUser;
use crate::db::{self, forums::Viewer};
use crate::error::{AppError, AppResult};
use crate::forums::rules::{MAX_BODY, MAX_TITLE};
use crate::forums::viewer;

/// Where a draft belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    NewTopic(i64),
    Reply(i64),
}

impl Place {
    pub fn key(self) -> String {
        match self {
            Place::NewTopic(category) => format!("topic:{category}"),
            Place::Reply(topic) => format!("reply:{topic}"),
        }
    }

    pub fn parse(key: &str) -> Option<Place> {
        let (kind, id) = key.split_once(':')?;
        let id = id.parse().ok().filter(|id: &i64| *id > 0)?;
        match kind {
            "topic" => Some(Place::NewTopic(id)),
            "reply" => Some(Place::Reply(id)),
            _ => None,
        }
    }

    /// Whether the member may write there at all (the category or topic is visible to them).
    async fn visible(self, app: &AppState, viewer: Viewer) -> AppResult<bool> {
        let mut conn = app.db.conn().await?;
        Ok(match self {
            Place::NewTopic(id) => db::forums::category(conn.exec(), viewer, id)
                .await?
                .is_some(),
            Place::Reply(id) => db::forums::topic(conn.exec(), viewer, id).await?.is_some(),
        })
    }
}

pub async fn load(
    exec: db::Exec<'_>,
    user: &SessionUser,
    place: Place,
) -> AppResult<Option<Draft>> {
    Ok(db::drafts::load(exec, user.id, &place.key()).await?)
}

pub async fn save(
    app: &AppState,
    user: &SessionUser,
    place: Place,
    title: &str,
    body: &str,
) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    db::drafts::save(tx.exec(), user.id, &place.key(), title, body, db::now()).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct DraftForm {
    #[serde(default)]
    place: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// `POST /drafts`, from the composer's script: 204 when saved.
pub async fn autosave(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> AppResult<StatusCode> {
    let place = Place::parse(&form.place).ok_or(AppError::BadRequest("unknown draft place"))?;
    if form.title.chars().count() > MAX_TITLE * 2 || form.body.chars().count() > MAX_BODY * 2 {
        return Err(AppError::BadRequest("draft too long"));
    }
    if !place.visible(&app, viewer(&user)).await? {
        return Err(AppError::NotFound);
    }
    save(&app, &user, place, &form.title, &form.body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_round_trip_and_reject_nonsense() {
        assert_eq!(
            Place::parse(&Place::NewTopic(3).key()),
            Some(Place::NewTopic(3))
        );
        assert_eq!(Place::parse(&Place::Reply(9).key()), Some(Place::Reply(9)));
        assert_eq!(Place::parse("reply:-1"), None);
        assert_eq!(Place::parse("edit:1"), None);
        assert_eq!(Place::parse("reply"), None);
    }
}
