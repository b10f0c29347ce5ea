//! What members do around posts besides writing them: reactions of support, unread markers,
//! blocking another member, and staff pinning and closing topics.
//!
//! Rules: a reaction is one of three kinds, one of each per member and post, never on a deleted
//! post, one's own post or a post one may not see. Blocking folds the blocked member's posts away
//! for the blocker only; the blocked member is not told. Staff cannot be blocked: members must
//! be able to hear from them (the page says why). Pinning and closing are for moderators
//! and coordinators (others get 404), each change written to the audit log in its transaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db::reads::NewTopic;
use crate::db::users::SessionUser;
use crate::db::{self, Db, Exec, forums::LatestTopic, forums::PostRef};
use crate::error::{AppError, AppResult};
use crate::events::{Event, EventBus};
use crate::forums::page_cache::{ReaderPart, SharedPost};
use crate::forums::reads::ReadMarks;
use crate::forums::service::{self, TopicAction};
use crate::forums::{page_of, viewer};
use crate::web::layout::Layout;
use crate::web::layout::local_time;

/// The kinds of reaction, in the order they are shown: stored key and locale key.
pub const REACTIONS: [(&str, &str); 3] = [
    ("thanks", "social.reaction.thanks"),
    ("empathy", "social.reaction.empathy"),
    ("cheer", "social.reaction.cheer"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p/{id}/react", post(react))
        .route("/p/{id}/block", get(block_form).post(block))
        .route("/account/blocks", get(blocks))
        .route("/account/blocks/{user_id}/unblock", post(unblock))
        .route("/t/{id}/pin", post(pin))
        .route("/t/{id}/unpin", post(unpin))
        .route("/t/{id}/close", post(close))
        .route("/t/{id}/reopen", post(reopen))
}

/// One reaction button under a post.
pub struct ReactionButton {
    pub kind: &'static str,
    pub label: Arc<str>,
    pub count: usize,
    /// The reader has given this one (pressing again takes it back).
    pub mine: bool,
}

/// What a post shows besides its text, for one reader.
#[derive(Default)]
pub struct PostSocial {
    pub reactions: Vec<ReactionButton>,
    /// "ありがとう: はな、たろう", one line per kind given (shared by every reader).
    pub who: Arc<[String]>,
    /// The reader blocks the author: the text is folded away.
    pub blocked: bool,
    /// Posted after the reader last read the topic.
    pub unread: bool,
}

/// The topics the home page lists: those with posts the member has not read, and under them the
/// latest topics (those already listed as new left out), so the page is never blank once
/// everything is read.
#[derive(Debug, Default)]
pub struct HomeTopics {
    pub new: Vec<NewTopic>,
    pub latest: Vec<LatestTopic>,
}

/// What the home page lists for each member ([`HomeTopics`]), kept in memory on SQLite (one process
/// owns the database, so it sees every change), so the home page reads nothing from it. It
/// listens to the event bus: any change that can alter the lists (a post written, hidden or
/// deleted, a topic renamed, a block, a category) retires every entry at once, a topic read
/// further retires its reader's; entries also expire after a minute as a safety net. On PostgreSQL several
/// instances write, so there is no cache.
#[derive(Clone)]
pub struct NewTopicsCache(Option<Arc<NewTopicsInner>>);

struct NewTopicsInner {
    generation: AtomicU64,
    entries: moka::sync::Cache<i64, (u64, Arc<HomeTopics>)>,
}

/// How many topics "new since your last visit" lists, and "latest topics" too.
pub const NEW_TOPICS: i64 = 5;

impl NewTopicsCache {
    pub fn for_db(db: &Db) -> NewTopicsCache {
        match db.dialect() {
            db::Dialect::Sqlite => NewTopicsCache(Some(Arc::new(NewTopicsInner {
                generation: AtomicU64::new(0),
                entries: moka::sync::Cache::builder()
                    .max_capacity(20_000)
                    .time_to_live(Duration::from_secs(60))
                    .build(),
            }))),
            db::Dialect::Postgres => NewTopicsCache(None),
        }
    }

    /// The topics with posts `user` has not read, newest first, and the latest other topics.
    pub async fn get(
        &self,
        reader: &mut db::Reader<'_>,
        marks: &ReadMarks,
        user: &SessionUser,
    ) -> AppResult<Arc<HomeTopics>> {
        // The generation is read before the query: a change committed meanwhile retires the
        // entry this stores.
        let generation = self
            .0
            .as_ref()
            .map(|inner| inner.generation.load(Ordering::Acquire));
        if let (Some(inner), Some(generation)) = (&self.0, generation)
            && let Some((at, topics)) = inner.entries.get(&user.id)
            && at == generation
        {
            return Ok(topics);
        }
        let new = new_topics(reader, marks, user).await?;
        // Enough rows that leaving out the new ones still fills the list.
        let limit = NEW_TOPICS + i64::try_from(new.len()).unwrap_or(NEW_TOPICS);
        let mut latest =
            db::forums::latest_topics(reader.exec().await?, viewer(user), user.id, limit).await?;
        latest.retain(|l| !new.iter().any(|n| n.id == l.id));
        latest.truncate(usize::try_from(NEW_TOPICS).unwrap_or_default());
        let topics = Arc::new(HomeTopics { new, latest });
        if let (Some(inner), Some(generation)) = (&self.0, generation) {
            inner.entries.insert(user.id, (generation, topics.clone()));
        }
        Ok(topics)
    }

    /// Retires entries when the bus says something they list changed: every entry for a change
    /// to posts, topics, categories, members or blocks; one member's when they read further.
    pub fn listen_to(&self, bus: &EventBus) {
        let Some(inner) = self.0.clone() else {
            return;
        };
        bus.listen(move |event| match event {
            Event::TopicRead { user_id } => inner.entries.invalidate(user_id),
            Event::PostPublished { .. }
            | Event::PostChanged { .. }
            | Event::TopicChanged { .. }
            | Event::MemberChanged { .. }
            | Event::BlocksChanged
            | Event::CategoriesChanged => {
                inner.generation.fetch_add(1, Ordering::AcqRel);
            }
            Event::AnnouncementsChanged
            | Event::NoticesChanged { .. }
            | Event::ReactionsChanged { .. }
            | Event::DraftsChanged { .. }
            | Event::FollowsChanged { .. }
            | Event::QueueChanged
            | Event::MailQueued
            | Event::CafeMessages { .. }
            | Event::CafeSession { .. }
            | Event::CafeRoomsChanged
            | Event::SettingsChanged
            | Event::QaSlot { .. } => {}
        });
    }
}

/// How many more topics than [`NEW_TOPICS`] the home page's query looks at, at most, to make
/// room for markers not written yet.
const NOTED_BOUND: usize = 50;

/// The topics with posts `user` has not read, newest first, at most [`NEW_TOPICS`]. A marker
/// not written yet can only take a topic off the list (or lower its count), so the query is
/// limited to the topics unread by the written markers, with room for one more a noted marker
/// (at most [`NOTED_BOUND`] more), and binds the noted markers of those topics only: a bounded
/// query however many markers pile up while writing them fails. With more noted markers than
/// that on those very topics, the list comes out shorter, never wrong.
async fn new_topics(
    reader: &mut db::Reader<'_>,
    marks: &ReadMarks,
    user: &SessionUser,
) -> AppResult<Vec<NewTopic>> {
    let noted = marks.noted(user.id);
    let (among, noted) = if noted.is_empty() {
        (None, noted)
    } else {
        let room = i64::try_from(noted.len().min(NOTED_BOUND)).unwrap_or_default();
        let exec = reader.exec().await?;
        let candidates =
            db::reads::unread_topic_ids(exec, viewer(user), user.id, NEW_TOPICS + room).await?;
        let noted = noted
            .into_iter()
            .filter(|(topic, _)| candidates.contains(topic))
            .collect();
        (Some(candidates), noted)
    };
    let exec = reader.exec().await?;
    let among = among.as_deref();
    Ok(db::reads::new_topics(exec, viewer(user), user.id, NEW_TOPICS, among, &noted).await?)
}

/// Reactions, blocking and unread markers for the posts of one topic page, and the reader's
/// place in the topic moved to the last of them (never back; noted now, written soon after, so
/// the page does not wait for the write lock). `noted` is the reader's marker noted and not yet
/// written, read before `own` (so that a marker written meanwhile is seen there).
pub fn decorate(
    app: &AppState,
    user: &SessionUser,
    topic_id: i64,
    posts: &[SharedPost],
    noted: Option<i64>,
    own: &ReaderPart,
) -> Vec<PostSocial> {
    let last_read = own.last_read.max(noted);
    if let Some(newest) = posts.iter().map(|p| p.row.id).max()
        && last_read.is_none_or(|seen| seen < newest)
    {
        app.read_marks.note(user.id, topic_id, newest, db::now());
        app.events.publish(&[Event::TopicRead { user_id: user.id }]);
    }
    posts
        .iter()
        .map(|p| {
            let post = &p.row;
            PostSocial {
                reactions: p
                    .reactions
                    .iter()
                    .map(|r| ReactionButton {
                        kind: r.kind,
                        label: r.label.clone(),
                        count: r.by.len(),
                        mine: r.by.contains(&user.id),
                    })
                    .collect(),
                who: p.who.clone(),
                blocked: own.blocked.contains(&post.author_id),
                unread: last_read.is_some_and(|seen| post.id > seen)
                    && post.author_id != user.id
                    && post.deleted_at.is_none(),
            }
        })
        .collect()
}

/// How many new posts each topic has for the reader (topics with none are absent).
pub async fn unread_counts(
    exec: Exec<'_>,
    marks: &ReadMarks,
    user: &SessionUser,
    topic_ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    // Only the markers of the listed topics: the query then binds at most two values a topic
    // on the page, however many topics the member has read since the last write.
    let noted: Vec<(i64, i64)> = marks
        .noted(user.id)
        .into_iter()
        .filter(|(topic, _)| topic_ids.contains(topic))
        .collect();
    Ok(db::reads::unread_counts(exec, user.id, topic_ids, &noted)
        .await?
        .into_iter()
        .collect())
}

/// A post the reader may see; otherwise 404.
async fn visible_post(app: &AppState, user: &SessionUser, id: i64) -> AppResult<PostRef> {
    let mut conn = app.db.conn().await?;
    db::forums::post(conn.exec(), viewer(user), id)
        .await?
        .ok_or(AppError::NotFound)
}

fn address(post: &PostRef) -> String {
    format!(
        "/t/{}?page={}#post-{}",
        post.topic_id,
        page_of(post.position),
        post.id
    )
}

#[derive(Deserialize)]
pub struct ReactForm {
    #[serde(default)]
    kind: String,
}

/// Gives a reaction, or takes it back.
pub async fn react(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReactForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Reaction)?;
    let post = visible_post(&app, &user, id).await?;
    if post.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    if post.author_id == user.id {
        return Err(AppError::Forbidden);
    }
    let Some((kind, _)) = REACTIONS.iter().find(|(k, _)| *k == form.kind) else {
        return Err(AppError::BadRequest("unknown reaction"));
    };
    service::toggle_reaction(&app, user.id, &post, kind).await?;
    Ok(Redirect::to(&address(&post)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/block_confirm.html")]
pub struct BlockConfirmView {
    layout: Layout,
    post_id: i64,
    post_link: String,
    /// The question, or why the author cannot be blocked.
    message: String,
    /// The author is staff: members must be able to hear from them, so no block is offered.
    refused: bool,
}

/// The author of a post the reader may ask to block: someone else, still a member.
async fn blockable_author(
    app: &AppState,
    user: &SessionUser,
    id: i64,
) -> AppResult<(PostRef, SessionUser)> {
    let post = visible_post(app, user, id).await?;
    if post.author_id == user.id {
        return Err(AppError::NotFound);
    }
    let mut conn = app.db.conn().await?;
    let author = db::users::session_user(conn.exec(), post.author_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((post, author))
}

/// The confirmation, or for staff the refusal with its reason (403).
fn block_page(
    app: &AppState,
    ctx: &RequestContext,
    post: &PostRef,
    author: &SessionUser,
) -> Response {
    let refused = author.role.is_staff();
    let (title, message) = if refused {
        ("social.block_staff_title", "social.block_staff_refused")
    } else {
        ("social.block_title", "social.block_question")
    };
    let view = BlockConfirmView {
        layout: Layout::titled(app, ctx, title),
        post_id: post.id,
        post_link: address(post),
        message: ctx.tr().f(message, &[("name", &author.display_name)]),
        refused,
    };
    let status = if refused {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    };
    (status, view).into_response()
}

pub async fn block_form(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (post, author) = blockable_author(&app, &user, id).await?;
    Ok(block_page(&app, &ctx, &post, &author))
}

pub async fn block(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let (post, author) = blockable_author(&app, &user, id).await?;
    if author.role.is_staff() {
        return Ok(block_page(&app, &ctx, &post, &author));
    }
    service::block(&app, user.id, author.id).await?;
    SessionData(&ctx.session)
        .set_flash(
            ctx.tr()
                .f("social.blocked_flash", &[("name", &author.display_name)]),
        )
        .await?;
    Ok(Redirect::to(&address(&post)).into_response())
}

pub struct BlockedItem {
    pub user_id: i64,
    pub name: String,
    pub since: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/blocks.html")]
pub struct BlocksView {
    layout: Layout,
    blocked: Vec<BlockedItem>,
}

/// The members the reader blocks, each with a button to unblock.
pub async fn blocks(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<BlocksView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let blocked = db::blocks::list(conn.exec(), user.id)
        .await?
        .into_iter()
        .map(|b| BlockedItem {
            user_id: b.user_id,
            since: t.f(
                "social.blocked_since",
                &[("time", &local_time(&app.site, b.created_at))],
            ),
            name: b.display_name,
        })
        .collect();
    Ok(BlocksView {
        layout: Layout::titled(&app, &ctx, "social.blocks_title"),
        blocked,
    })
}

pub async fn unblock(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(user_id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    if !service::unblock(&app, user.id, user_id).await? {
        return Err(AppError::NotFound);
    }
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s("social.unblocked_flash").into_owned())
        .await?;
    Ok(Redirect::to("/account/blocks").into_response())
}

/// The message after a staff action on a topic.
fn flash(action: TopicAction) -> &'static str {
    match action {
        TopicAction::Pin => "social.pinned_flash",
        TopicAction::Unpin => "social.unpinned_flash",
        TopicAction::Close => "social.closed_flash",
        TopicAction::Reopen => "social.reopened_flash",
    }
}

async fn topic_action(
    app: &AppState,
    ctx: &RequestContext,
    user: &SessionUser,
    id: i64,
    action: TopicAction,
) -> AppResult<Response> {
    app.writes.check(user, WriteKind::Moderate)?;
    service::act_on_topic(app, user, id, action).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(flash(action)).into_owned())
        .await?;
    Ok(Redirect::to(&format!("/t/{id}")).into_response())
}

pub async fn pin(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    topic_action(&app, &ctx, &user, id, TopicAction::Pin).await
}

pub async fn unpin(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    topic_action(&app, &ctx, &user, id, TopicAction::Unpin).await
}

pub async fn close(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    topic_action(&app, &ctx, &user, id, TopicAction::Close).await
}

pub async fn reopen(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    topic_action(&app, &ctx, &user, id, TopicAction::Reopen).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::users::NewUser;
    use crate::domain::account::DisplayName;
    use crate::domain::content::PostStatus;
    use crate::domain::role::{Relation, Role};

    async fn member(db: &Db, email: &str, name: &str) -> SessionUser {
        let name = DisplayName::parse(name).expect("a display name");
        let new = NewUser {
            email,
            display_name: &name,
            password_hash: "not a hash",
            role: Role::Member,
            relation: Relation::Patient,
            locale: "ja",
            invited_by: None,
            now: 1,
        };
        let mut tx = db.begin().await.expect("a transaction");
        let id = db::users::insert(tx.exec(), &new).await.expect("a member");
        let user = db::users::session_user(tx.exec(), id)
            .await
            .expect("reading the member")
            .expect("the member");
        tx.commit().await.expect("committing");
        user
    }

    #[tokio::test]
    async fn the_home_page_binds_a_bounded_number_of_unwritten_markers() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = Db::connect(&format!("sqlite://{}/home.db", dir.path().display()))
            .await
            .expect("connecting");
        db.migrate().await.expect("migrating");
        let reader = member(&db, "reader@example.org", "よみて").await;
        let author = member(&db, "author@example.org", "かきて").await;
        // Eight topics of one post each in a seeded category, the newest last.
        let mut topics = Vec::new();
        let mut tx = db.begin().await.expect("a transaction");
        for i in 0..8 {
            let at = 100 + i;
            let title = format!("話題{i}");
            let published = PostStatus::Published;
            let topic = db::forums::insert_topic(tx.exec(), 1, author.id, &title, published, at)
                .await
                .expect("a topic");
            let row = db::forums::NewPostRow {
                topic_id: topic,
                author_id: author.id,
                markdown: "本文",
                html: "本文",
                status: published,
                status_reason: "",
                flagged: false,
            };
            let post = db::forums::insert_post(tx.exec(), &row, at)
                .await
                .expect("a post");
            topics.push((topic, post));
        }
        tx.commit().await.expect("committing");

        // Thousands of markers not written, as when writing them keeps failing: for topics
        // gone since, and for the three newest topics, read to their end. A query binding every
        // one is refused by SQLite past a thousand or so (each adds a level to its expression
        // tree) and by PostgreSQL past 65,535 values, and costs more with each before that.
        let marks = ReadMarks::default();
        for gone in 1_000_000..1_005_000 {
            marks.note(reader.id, gone, 1, 200);
        }
        for (topic, post) in &topics[5..] {
            marks.note(reader.id, *topic, *post, 200);
        }
        let cache = NewTopicsCache::for_db(&db);
        let listed = cache
            .get(&mut db.reader(), &marks, &reader)
            .await
            .expect("the home page's topics");
        let ids: Vec<i64> = listed.new.iter().map(|n| n.id).collect();
        let unread_before_them: Vec<i64> = topics[..5].iter().rev().map(|(t, _)| *t).collect();
        assert_eq!(ids, unread_before_them, "the five newest not read");
        assert!(listed.new.iter().all(|n| n.unread == 1));
        db.close().await;
    }
}
