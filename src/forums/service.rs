//! The forums' rules and transactions outside writing posts (which is the content pipeline's):
//! reactions, blocks, pinning and closing topics, follows and signed-link unsubscribes, drafts,
//! deleting one's own post. Each is one unit of work with its log row and its event; the
//! handlers only parse, call one of these and render.

use crate::App;
use crate::db::notifications::{self as queries, Followed};
use crate::db::users::SessionUser;
use crate::db::{self, forums::PostRef};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::drafts::Place;
use crate::forums::notify::Stops;
use crate::forums::viewer;

/// Gives a reaction of `kind` to a post, or takes it back.
pub async fn toggle_reaction(app: &App, user_id: i64, post: &PostRef, kind: &str) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::reactions::toggle(work.exec(), post.id, user_id, kind, now).await?;
    work.announce(Event::ReactionsChanged {
        topic_id: post.topic_id,
    });
    work.commit().await?;
    Ok(())
}

/// `blocker` no longer sees what `blocked` writes.
pub async fn block(app: &App, blocker: i64, blocked: i64) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::blocks::block(work.exec(), blocker, blocked, now).await?;
    work.announce(Event::BlocksChanged);
    work.commit().await?;
    Ok(())
}

/// Lifts a block; `false` when there was none.
pub async fn unblock(app: &App, blocker: i64, blocked: i64) -> AppResult<bool> {
    let mut work = app.work().await?;
    let removed = db::blocks::unblock(work.exec(), blocker, blocked).await?;
    if removed {
        work.announce(Event::BlocksChanged);
    }
    work.commit().await?;
    Ok(removed)
}

/// What a staff action on a topic changes.
#[derive(Clone, Copy)]
pub enum TopicAction {
    Pin,
    Unpin,
    Close,
    Reopen,
}

impl TopicAction {
    fn logged_as(self) -> Action {
        match self {
            TopicAction::Pin => Action::TopicPinned,
            TopicAction::Unpin => Action::TopicUnpinned,
            TopicAction::Close => Action::TopicClosed,
            TopicAction::Reopen => Action::TopicReopened,
        }
    }
}

/// Pins, unpins, closes or reopens a topic: moderators and coordinators only (404 for others),
/// logged in the same unit of work. Asking for the state a topic is in changes nothing.
pub async fn act_on_topic(
    app: &App,
    user: &SessionUser,
    id: i64,
    action: TopicAction,
) -> AppResult<()> {
    if !user.role.is_staff() {
        return Err(AppError::NotFound);
    }
    let mut work = app.work().await?;
    let now = work.now();
    let topic = db::forums::topic(work.exec(), viewer(user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let changes = match action {
        TopicAction::Pin => topic.pinned_at.is_none(),
        TopicAction::Unpin => topic.pinned_at.is_some(),
        TopicAction::Close => topic.closed_at.is_none(),
        TopicAction::Reopen => topic.closed_at.is_some(),
    };
    if !changes {
        return Ok(());
    }
    match action {
        TopicAction::Pin => db::forums::set_pinned(work.exec(), id, Some(now)).await?,
        TopicAction::Unpin => db::forums::set_pinned(work.exec(), id, None).await?,
        TopicAction::Close => db::forums::set_closed(work.exec(), id, Some(now)).await?,
        TopicAction::Reopen => db::forums::set_closed(work.exec(), id, None).await?,
    }
    work.log(LogRecord::new(
        user.id,
        action.logged_as(),
        TargetKind::Topic,
        id,
    ))
    .await?;
    work.announce(Event::TopicChanged { topic_id: id });
    work.commit().await?;
    Ok(())
}

/// Follows a topic or category, or stops following it.
pub async fn set_following(app: &App, user_id: i64, what: Followed, follow: bool) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    if follow {
        queries::follow(work.exec(), user_id, what, now).await?;
    } else {
        queries::unfollow(work.exec(), user_id, what).await?;
    }
    work.announce(Event::FollowsChanged { user_id });
    work.commit().await?;
    Ok(())
}

/// Stops what a signed link from a mail names, and nothing else.
pub async fn stop_mail(app: &App, user_id: i64, stops: &Stops) -> AppResult<()> {
    let mut work = app.work().await?;
    match stops {
        Stops::Follows(follows) => {
            for what in follows {
                queries::unfollow(work.exec(), user_id, *what).await?;
            }
        }
        Stops::Kinds(kinds) => {
            for kind in kinds {
                db::notify::set_pref(work.exec(), user_id, kind.as_str(), "off").await?;
            }
        }
        // Links from before kinds of mail: every mail about new posts.
        Stops::All => {
            for kind in ["reply", "mention"] {
                db::notify::set_pref(work.exec(), user_id, kind, "off").await?;
            }
        }
    }
    work.announce(Event::FollowsChanged { user_id });
    work.commit().await?;
    Ok(())
}

/// Keeps what the member has written at `place` (within a post's limits: see
/// [`crate::forums::drafts::save`]).
pub async fn save_draft(
    app: &App,
    user_id: i64,
    place: Place,
    title: &str,
    body: &str,
) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::drafts::save(work.exec(), user_id, &place.key(), title, body, now).await?;
    work.announce(Event::DraftsChanged { user_id });
    work.commit().await?;
    Ok(())
}

/// Deletes the member's own post (the caller checked that it is theirs and not deleted) and
/// takes it out of search.
pub async fn delete_post(app: &App, user_id: i64, post: &PostRef) -> AppResult<()> {
    let mut work = app.work().await?;
    let now = work.now();
    db::forums::delete_post(work.exec(), post.id, user_id, now).await?;
    db::search::index_post(work.exec(), post.id).await?;
    work.announce(Event::PostChanged {
        post_id: post.id,
        topic_id: post.topic_id,
    });
    work.commit().await?;
    Ok(())
}
