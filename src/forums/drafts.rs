//! Drafts kept on the server while a topic or reply is written: saved on every preview and, by
//! the page's small script, a few seconds after typing stops; restored when the member comes
//! back; removed when the post is made. A locked phone or a lost connection loses nothing.
//! A draft holds at most what a post may: longer text is refused, never stored.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::RequestContext;
use crate::auth::write_limit::WriteKind;
use crate::db::drafts::Draft;
use crate::db::users::SessionUser;
use crate::db::{self, forums::Viewer};
use crate::error::{AppError, AppResult};
use crate::forums::rules::{self, DraftProblem};
use crate::forums::{service, viewer};

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

/// What became of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Kept,
    /// Longer than a post may be: nothing was stored (an earlier draft stays as it was).
    TooLong(DraftProblem),
}

/// Saves what is written at `place`, unless a post could not hold it: every way a draft is
/// saved (a preview, the composer refusing a post, the composer's script) comes here, so a draft
/// never holds more than a post's limits, which are [`rules::too_long`]'s.
pub async fn save(
    app: &AppState,
    user: &SessionUser,
    place: Place,
    title: &str,
    body: &str,
) -> AppResult<Saved> {
    if let Some(problem) = rules::too_long(title, body) {
        return Ok(Saved::TooLong(problem));
    }
    service::save_draft(app, user.id, place, title, body).await?;
    Ok(Saved::Kept)
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

/// `POST /drafts`, from the composer's script: 204 when saved; 422 with the reason, in the
/// reader's language, when too long to keep.
pub async fn autosave(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Draft)?;
    let place = Place::parse(&form.place).ok_or(AppError::BadRequest("unknown draft place"))?;
    if !place.visible(&app, viewer(&user)).await? {
        return Err(AppError::NotFound);
    }
    Ok(
        match save(&app, &user, place, &form.title, &form.body).await? {
            Saved::Kept => StatusCode::NO_CONTENT.into_response(),
            // HTML, so the error pages leave it as it is: a sentence from the locale, no user text.
            Saved::TooLong(problem) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(ctx.tr().s(problem.key()).into_owned()),
            )
                .into_response(),
        },
    )
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
