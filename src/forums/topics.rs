//! The forum index, a category's topics, starting a topic (from a category, or from the index
//! choosing one), reading and replying to one.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::RequestContext;
use crate::auth::write_limit::WriteKind;
use crate::db::notifications::Followed;
use crate::db::{self, forums::Category};
use crate::error::{AppError, AppResult};
use crate::forums::drafts::{self, Place};
use crate::forums::mentions;
use crate::forums::notify::{self, NewPost};
use crate::forums::rules::{self, MAX_BODY, MAX_TITLE};
use crate::forums::social::{self, PostFacts, PostSocial};
use crate::forums::{POSTS_PER_PAGE, TOPICS_PER_PAGE, page_of, viewer};
use crate::i18n::Tr;
use crate::markdown;
use crate::web::badge::Badge;
use crate::web::input::Query;
use crate::web::layout::local_time;
use crate::web::layout::pages_for;
use crate::web::layout::{Layout, Pager};

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub struct CategoryItem {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub activity: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/index.html")]
pub struct IndexView {
    layout: Layout,
    categories: Vec<CategoryItem>,
}

pub async fn index(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<IndexView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let categories = db::forums::visible_categories(conn.exec(), viewer(&user)).await?;
    let categories = categories
        .into_iter()
        .map(|c| CategoryItem {
            activity: match c.last_posted_at {
                Some(at) => t.count(
                    "forums.category_activity",
                    c.topic_count,
                    &[("time", &local_time(&app.config, at))],
                ),
                None => t.s("forums.category_empty").into_owned(),
            },
            id: c.id,
            name: c.name,
            description: c.description,
        })
        .collect();
    Ok(IndexView {
        layout: Layout::titled(&app, &ctx, "forums.title"),
        categories,
    })
}

pub struct TopicItem {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub replies: String,
    pub activity: String,
    pub pinned: bool,
    pub closed: bool,
    /// "新着 3件" when the reader has not read every post.
    pub unread: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/category.html")]
pub struct CategoryView {
    layout: Layout,
    category: Category,
    topics: Vec<TopicItem>,
    pager: Pager,
    following: bool,
}

async fn visible_category(
    exec: db::Exec<'_>,
    user: &crate::db::users::SessionUser,
    id: i64,
) -> AppResult<Category> {
    db::forums::category(exec, viewer(user), id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn category(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> AppResult<CategoryView> {
    let t = ctx.tr();
    let mut conn = app.db.conn().await?;
    let category = visible_category(conn.exec(), &user, id).await?;
    let pages = pages_for(
        db::forums::count_topics(conn.exec(), id).await?,
        TOPICS_PER_PAGE,
    );
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let rows = db::forums::topics_in(
        conn.exec(),
        id,
        TOPICS_PER_PAGE,
        (page - 1) * TOPICS_PER_PAGE,
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let unread = social::unread_counts(conn.exec(), &app.read_marks, &user, &ids).await?;
    let following = notify::following(conn.exec(), user.id, Followed::Category(id)).await?;
    let topics = rows
        .into_iter()
        .map(|r| TopicItem {
            unread: unread
                .get(&r.id)
                .map(|n| t.f("social.unread_count", &[("count", &n.to_string())])),
            id: r.id,
            title: r.title,
            author: r.author_name,
            replies: t.count("forums.replies", r.reply_count, &[]),
            activity: local_time(&app.config, r.last_posted_at),
            pinned: r.pinned_at.is_some(),
            closed: r.closed_at.is_some(),
        })
        .collect();
    Ok(CategoryView {
        layout: Layout::new(&app, &ctx, category.name.clone()),
        pager: Pager::new(t, &format!("/c/{id}"), page, pages),
        following,
        category,
        topics,
    })
}

/// What the composer shows: what was typed, problems, and a preview when asked for.
pub struct Composer {
    pub title: String,
    pub body: String,
    pub errors: Vec<String>,
    pub preview: Option<String>,
    pub limits: String,
}

impl Composer {
    pub fn empty(t: Tr) -> Composer {
        Composer {
            title: String::new(),
            body: String::new(),
            errors: Vec::new(),
            preview: None,
            limits: limits_hint(t),
        }
    }

    /// A reply has no title, so only the body's limit is stated.
    pub fn for_reply(t: Tr) -> Composer {
        Composer {
            limits: reply_limits_hint(t),
            ..Composer::empty(t)
        }
    }
}

fn reply_limits_hint(t: Tr) -> String {
    t.f("forums.body_limit", &[("body", &MAX_BODY.to_string())])
}

fn limits_hint(t: Tr) -> String {
    t.f(
        "forums.limits",
        &[
            ("title", &MAX_TITLE.to_string()),
            ("body", &MAX_BODY.to_string()),
        ],
    )
}

/// The rendered body when the composer asked for a preview of a body that could be posted.
pub fn preview(action: &str, body: &Result<String, rules::DraftProblem>) -> Option<String> {
    match body {
        Ok(body) if action == "preview" => Some(markdown::render(body)),
        _ => None,
    }
}

/// A category the new-topic form of the forum index offers.
pub struct CategoryChoice {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

/// Where a new topic goes: fixed by the category's own form, or chosen in the forum index's
/// form among the categories the member may see (and so post in).
pub enum Destination {
    Category(Category),
    Chosen(Vec<CategoryChoice>),
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/new_topic.html")]
pub struct NewTopicView {
    layout: Layout,
    destination: Destination,
    composer: Composer,
}

impl NewTopicView {
    fn action(&self) -> String {
        match &self.destination {
            Destination::Category(c) => format!("/c/{}/new", c.id),
            Destination::Chosen(_) => "/forums/new".to_owned(),
        }
    }

    /// Where the draft script saves: the category's, or none until one is chosen.
    fn draft_place(&self) -> String {
        match &self.destination {
            Destination::Category(c) => Place::NewTopic(c.id).key(),
            Destination::Chosen(_) => String::new(),
        }
    }
}

pub async fn new_topic_form(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<NewTopicView> {
    let mut conn = app.db.conn().await?;
    let category = visible_category(conn.exec(), &user, id).await?;
    let mut composer = Composer::empty(ctx.tr());
    if let Some(draft) = drafts::load(conn.exec(), &user, Place::NewTopic(id)).await? {
        composer.title = draft.title;
        composer.body = draft.body;
    }
    Ok(NewTopicView {
        layout: Layout::titled(&app, &ctx, "forums.new_topic"),
        destination: Destination::Category(category),
        composer,
    })
}

/// The categories `user` may post in, `chosen` selected.
async fn category_choices(
    exec: db::Exec<'_>,
    user: &crate::db::users::SessionUser,
    chosen: Option<i64>,
) -> AppResult<Vec<CategoryChoice>> {
    Ok(db::forums::visible_categories(exec, viewer(user))
        .await?
        .into_iter()
        .map(|c| CategoryChoice {
            selected: Some(c.id) == chosen,
            id: c.id,
            name: c.name,
        })
        .collect())
}

/// `GET /forums/new`: a new topic from the forum index, its category chosen in the form.
pub async fn new_topic_anywhere_form(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
) -> AppResult<NewTopicView> {
    let mut conn = app.db.conn().await?;
    let choices = category_choices(conn.exec(), &user, None).await?;
    Ok(NewTopicView {
        layout: Layout::titled(&app, &ctx, "forums.new_topic"),
        destination: Destination::Chosen(choices),
        composer: Composer::empty(ctx.tr()),
    })
}

#[derive(Deserialize)]
pub struct DraftForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// "preview" shows the rendered text without posting.
    #[serde(default)]
    action: String,
}

pub async fn create_topic(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> AppResult<Response> {
    app.writes
        .check(&user, WriteKind::Topic.or_preview(&form.action))?;
    let category = visible_category(app.db.conn().await?.exec(), &user, id).await?;
    let category_id = category.id;
    let destination = Destination::Category(category);
    start_topic(&app, &ctx, &user, Ok(category_id), destination, form).await
}

#[derive(Deserialize)]
pub struct ChosenDraftForm {
    #[serde(default)]
    category: String,
    #[serde(flatten)]
    draft: DraftForm,
}

/// `POST /forums/new`: the category comes with the form. One the member may not post in (not
/// theirs to see, archived, unknown or unreadable) is refused like an empty choice, with the
/// form shown again, so nothing tells whether such a category exists.
pub async fn create_topic_anywhere(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<ChosenDraftForm>,
) -> AppResult<Response> {
    app.writes
        .check(&user, WriteKind::Topic.or_preview(&form.draft.action))?;
    let asked = form.category.trim();
    let asked_id = asked.parse::<i64>().ok();
    let choices = category_choices(app.db.conn().await?.exec(), &user, asked_id).await?;
    let category = match choices.iter().find(|c| c.selected) {
        Some(choice) => Ok(choice.id),
        None if asked.is_empty() => Err("ux.category_missing"),
        None => Err("ux.category_refused"),
    };
    let destination = Destination::Chosen(choices);
    start_topic(&app, &ctx, &user, category, destination, form.draft).await
}

/// Checks a new topic for `category` (or the problem with the chosen one, a locale key); shows
/// the form again, with a preview or what to fix, or publishes the topic.
async fn start_topic(
    app: &AppState,
    ctx: &RequestContext,
    user: &crate::db::users::SessionUser,
    category: Result<i64, &'static str>,
    destination: Destination,
    form: DraftForm,
) -> AppResult<Response> {
    let t = ctx.tr();
    let title = rules::title(&form.title);
    let body = rules::body(&form.body);
    let errors: Vec<String> = [
        category.err(),
        title.as_ref().err().map(|p| p.key()),
        body.as_ref().err().map(|p| p.key()),
    ]
    .into_iter()
    .flatten()
    .map(|key| t.s(key).into_owned())
    .collect();
    let (category_id, title, body) = match (category, title, body) {
        (Ok(category), Ok(title), Ok(body)) if form.action != "preview" => (category, title, body),
        (category, _, body) => {
            // Text too long to post is not kept as a draft either; the errors say so.
            if let Ok(category) = category {
                let place = Place::NewTopic(category);
                drafts::save(app, user, place, &form.title, &form.body).await?;
            }
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let composer = Composer {
                preview: preview(&form.action, &body),
                title: form.title,
                body: form.body,
                errors,
                limits: limits_hint(t),
            };
            let view = NewTopicView {
                layout: Layout::titled(app, ctx, "forums.new_topic"),
                destination,
                composer,
            };
            return Ok((status, view).into_response());
        }
    };
    let now = db::now();
    let mut tx = app.db.begin().await?;
    let (linked, mentioned) = mentions::resolve(
        &mut tx,
        app.config.base_url.as_str().trim_end_matches('/'),
        &body,
    )
    .await?;
    let html = markdown::render(&linked);
    let topic_id = db::forums::insert_topic(tx.exec(), category_id, user.id, &title, now).await?;
    let post_id = db::forums::insert_post(tx.exec(), topic_id, user.id, &body, &html, now).await?;
    db::search::index_post(tx.exec(), post_id).await?;
    let post = NewPost {
        author_id: user.id,
        topic_id,
        category_id,
        post_id,
        mentioned: &mentioned,
    };
    notify::after_post(&mut tx, &post, now).await?;
    db::drafts::discard(tx.exec(), user.id, &Place::NewTopic(category_id).key()).await?;
    tx.commit().await?;
    app.events.publish(&[crate::events::Event::PostChanged {
        post_id: 0,
        topic_id: 0,
    }]);
    tracing::info!(topic = topic_id, user = user.id, "topic started");
    Ok(Redirect::to(&format!("/t/{topic_id}")).into_response())
}

pub struct PostItem {
    pub id: i64,
    pub author: String,
    pub author_badge: Option<Badge>,
    /// The reader may block the author: someone else, not staff.
    pub can_block: bool,
    pub time: String,
    pub edited: bool,
    pub deleted: bool,
    pub body_html: String,
    pub mine: bool,
    /// The topic's first post, whose edit form holds the title.
    pub opens_topic: bool,
    pub social: PostSocial,
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/topic.html")]
pub struct TopicView {
    layout: Layout,
    topic: db::forums::Topic,
    posts: Vec<PostItem>,
    pager: Pager,
    composer: Composer,
    is_staff: bool,
    following: bool,
}

/// A page of a topic, read through `conn`, the request's one connection.
async fn topic_view(
    app: &AppState,
    conn: &mut db::Conn,
    ctx: &RequestContext,
    user: &crate::db::users::SessionUser,
    id: i64,
    page: Option<i64>,
    composer: Composer,
) -> AppResult<TopicView> {
    let t = ctx.tr();
    let topic = db::forums::topic(conn.exec(), viewer(user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pages = pages_for(
        db::forums::count_posts(conn.exec(), id).await?,
        POSTS_PER_PAGE,
    );
    let page = page.unwrap_or(1).clamp(1, pages);
    let rows =
        db::forums::posts_in(conn.exec(), id, POSTS_PER_PAGE, (page - 1) * POSTS_PER_PAGE).await?;
    let facts: Vec<PostFacts> = rows
        .iter()
        .map(|p| PostFacts {
            id: p.id,
            author_id: p.author_id,
            deleted: p.deleted_at.is_some(),
        })
        .collect();
    let social = social::decorate(app, conn, t, user, id, &facts).await?;
    let following = notify::following(conn.exec(), user.id, Followed::Topic(id)).await?;
    let posts = rows
        .into_iter()
        .zip(social)
        .enumerate()
        .map(|(index, (p, social))| PostItem {
            opens_topic: page == 1 && index == 0,
            id: p.id,
            author: p.author_name,
            author_badge: Badge::for_role(t, p.author_role),
            can_block: p.author_id != user.id && !p.author_role.is_staff(),
            time: local_time(&app.config, p.created_at),
            edited: p.edited_at.is_some(),
            deleted: p.deleted_at.is_some(),
            body_html: p.body_html,
            mine: p.author_id == user.id,
            social,
        })
        .collect();
    Ok(TopicView {
        layout: Layout::new(app, ctx, topic.title.clone()),
        pager: Pager::new(t, &format!("/t/{id}"), page, pages),
        topic,
        posts,
        composer,
        is_staff: user.role.is_staff(),
        following,
    })
}

pub async fn show(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> AppResult<TopicView> {
    let mut conn = app.db.conn().await?;
    let mut composer = Composer::for_reply(ctx.tr());
    if let Some(draft) = drafts::load(conn.exec(), &user, Place::Reply(id)).await? {
        composer.body = draft.body;
    }
    topic_view(&app, &mut conn, &ctx, &user, id, query.page, composer).await
}

pub async fn reply(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> AppResult<Response> {
    app.writes
        .check(&user, WriteKind::Reply.or_preview(&form.action))?;
    let t = ctx.tr();
    let topic = {
        let mut conn = app.db.conn().await?;
        db::forums::topic(conn.exec(), viewer(&user), id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let body = rules::body(&form.body);
    let closed = topic.closed_at.is_some();
    if form.action == "preview" || body.is_err() || closed {
        drafts::save(&app, &user, Place::Reply(id), "", &form.body).await?;
        let mut errors: Vec<String> = body
            .as_ref()
            .err()
            .map(|p| t.s(p.key()).into_owned())
            .into_iter()
            .collect();
        if closed {
            errors.push(t.s("forums.closed").into_owned());
        }
        let composer = Composer {
            preview: preview(&form.action, &body),
            title: String::new(),
            body: form.body,
            errors,
            limits: reply_limits_hint(t),
        };
        let status = if composer.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        // The composer sits under the last page, where a reply lands.
        let mut conn = app.db.conn().await?;
        let view = topic_view(&app, &mut conn, &ctx, &user, id, Some(i64::MAX), composer).await?;
        return Ok((status, view).into_response());
    }
    let Ok(body) = body else {
        return Err(AppError::Internal("reply checked above".into()));
    };
    let now = db::now();
    let mut tx = app.db.begin().await?;
    let (linked, mentioned) = mentions::resolve(
        &mut tx,
        app.config.base_url.as_str().trim_end_matches('/'),
        &body,
    )
    .await?;
    let html = markdown::render(&linked);
    let post_id = db::forums::insert_post(tx.exec(), topic.id, user.id, &body, &html, now).await?;
    db::search::index_post(tx.exec(), post_id).await?;
    db::forums::note_reply(tx.exec(), topic.id, now).await?;
    let post = NewPost {
        author_id: user.id,
        topic_id: topic.id,
        category_id: topic.category_id,
        post_id,
        mentioned: &mentioned,
    };
    notify::after_post(&mut tx, &post, now).await?;
    db::drafts::discard(tx.exec(), user.id, &Place::Reply(topic.id).key()).await?;
    let position = db::forums::count_posts(tx.exec(), topic.id).await?;
    tx.commit().await?;
    app.events.publish(&[crate::events::Event::PostChanged {
        post_id: 0,
        topic_id: 0,
    }]);
    Ok(Redirect::to(&format!(
        "/t/{}?page={}#post-{post_id}",
        topic.id,
        page_of(position)
    ))
    .into_response())
}

impl TopicView {
    fn follow_base(&self) -> String {
        format!("/t/{}", self.topic.id)
    }

    fn follow_label(&self, t: &Tr) -> std::borrow::Cow<'static, str> {
        t.s("notify.follow")
    }
}

impl CategoryView {
    fn follow_base(&self) -> String {
        format!("/c/{}", self.category.id)
    }

    fn follow_label(&self, t: &Tr) -> std::borrow::Cow<'static, str> {
        t.s("notify.follow_category")
    }
}
