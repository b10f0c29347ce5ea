//! The forum index, a category's topics, starting a topic (from a category, or from the index
//! choosing one), reading and replying to one.

use std::borrow::Cow;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::content::{self, Draft};
use crate::db::notifications::Followed;
use crate::db::users::SessionUser;
use crate::db::{self, forums::Category};
use crate::domain::content::{HoldReason, PostStatus};
use crate::error::{AppError, AppResult};
use crate::forums::drafts::{self, Place};
use crate::forums::notify;
use crate::forums::page_cache::{Fragment, SharedPost};
use crate::forums::posts;
use crate::forums::rules::{self, MAX_BODY, MAX_TITLE};
use crate::forums::social::{self, PostSocial};
use crate::forums::{TOPICS_PER_PAGE, viewer};
use crate::i18n::{PerLocale, Tr};
use crate::markdown;
use crate::web::badge::Badge;
use crate::web::input::Query;
use crate::web::layout::local_time;
use crate::web::layout::pages_for;
use crate::web::layout::{Escaped, Layout, Pager};

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
                    &[("time", &local_time(&app.site, at))],
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
        db::forums::count_topics(conn.exec(), viewer(&user), id).await?,
        TOPICS_PER_PAGE,
    );
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let rows = db::forums::topics_in(
        conn.exec(),
        viewer(&user),
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
            activity: local_time(&app.site, r.last_posted_at),
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
    pub limits: &'static str,
}

impl Composer {
    pub fn empty(t: Tr) -> Composer {
        Composer {
            title: String::new(),
            body: String::new(),
            errors: Vec::new(),
            preview: None,
            limits: &LimitHints::of(t.0).topic,
        }
    }

    /// A reply has no title, so only the body's limit is stated.
    pub fn for_reply(t: Tr) -> Composer {
        Composer {
            limits: &LimitHints::of(t.0).reply,
            ..Composer::empty(t)
        }
    }
}

/// What the composers say of their limits, in each language (every topic page shows one).
struct LimitHints {
    topic: String,
    reply: String,
}

impl LimitHints {
    fn of(locale: crate::i18n::Locale) -> &'static LimitHints {
        static HINTS: PerLocale<LimitHints> = PerLocale::new(|t| {
            let (title, body) = (MAX_TITLE.to_string(), MAX_BODY.to_string());
            LimitHints {
                topic: t.f("forums.limits", &[("title", &title), ("body", &body)]),
                reply: t.f("forums.body_limit", &[("body", &body)]),
            }
        });
        HINTS.get(locale)
    }
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

/// Shows the new-topic form again (with a preview, the problem with the chosen category, or why
/// the topic was refused), or publishes the topic through the content pipeline.
async fn start_topic(
    app: &AppState,
    ctx: &RequestContext,
    user: &crate::db::users::SessionUser,
    category: Result<i64, &'static str>,
    destination: Destination,
    form: DraftForm,
) -> AppResult<Response> {
    let t = ctx.tr();
    let mut refusal = None;
    if let Ok(category_id) = category
        && form.action != "preview"
    {
        let draft = Draft::Topic {
            category_id,
            title: &form.title,
            body: &form.body,
        };
        match content::submit(app, user, draft).await? {
            Ok(accepted) => return after_submit(app, ctx, user, accepted, true).await,
            Err(refused) => refusal = Some(refused),
        }
    }
    if let Ok(category_id) = category {
        // Text too long to post is not kept as a draft either; the errors say so.
        let place = Place::NewTopic(category_id);
        drafts::save(app, user, place, &form.title, &form.body).await?;
    }
    let body = rules::body(&form.body);
    let errors: Vec<String> = match &refusal {
        Some(refusal) => refusal.messages(t, &app.site),
        None => [
            category.err(),
            rules::title(&form.title).err().map(|p| p.key()),
            body.as_ref().err().map(|p| p.key()),
        ]
        .into_iter()
        .flatten()
        .map(|key| t.s(key).into_owned())
        .collect(),
    };
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
        limits: &LimitHints::of(t.0).topic,
    };
    let view = NewTopicView {
        layout: Layout::titled(app, ctx, "forums.new_topic"),
        destination,
        composer,
    };
    Ok((status, view).into_response())
}

/// Where a writer goes once the pipeline stored their text: to the support resources page when
/// it carried crisis words (it is published, and the page says so), otherwise to the post, with
/// a word when it waits for review. `topic_page` sends a new topic's writer to its first page.
pub async fn after_submit(
    app: &AppState,
    ctx: &RequestContext,
    user: &crate::db::users::SessionUser,
    accepted: content::Accepted,
    topic_page: bool,
) -> AppResult<Response> {
    let t = ctx.tr();
    let flash = SessionData(&ctx.session);
    if accepted.crisis {
        flash
            .set_flash(t.s("moderation.crisis_flash").into_owned())
            .await?;
        return Ok(Redirect::to("/support").into_response());
    }
    if let content::Outcome::Held(_) = accepted.outcome {
        flash
            .set_flash(t.s("moderation.held_flash").into_owned())
            .await?;
    }
    let content::Placed::Post { post_id, topic_id } = accepted.placed else {
        return Err(AppError::Internal(
            "a forum draft placed outside the forums".into(),
        ));
    };
    if topic_page {
        return Ok(Redirect::to(&format!("/t/{topic_id}")).into_response());
    }
    let post = {
        let mut conn = app.db.conn().await?;
        db::forums::post(conn.exec(), viewer(user), post_id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    Ok(Redirect::to(&posts::address(&post)).into_response())
}

pub struct PostItem {
    pub id: i64,
    pub author_id: i64,
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
    pub status: PostStatus,
    /// For its author and staff: why it waits for review or was hidden.
    pub status_note: Option<String>,
    /// Hidden by a moderator, and the reader is neither its author nor staff: only its place shows.
    pub withheld: bool,
    pub moderator_edited: bool,
}

#[derive(Template)]
#[template(path = "forums/topic.html")]
pub struct TopicView {
    layout: Layout,
    words: &'static TopicWords,
    topic: db::forums::Topic,
    /// The page's posts, rendered one by one (see [`PostHtml`]).
    posts_html: PostsHtml,
    pager: Pager,
    composer: Composer,
    is_staff: bool,
    following: bool,
}

/// A page of a topic: what every reader of the kind sees alike, and what is the reader's own
/// (see `forums::page_cache`), from memory when nothing changed since. `composer` is the reply
/// form as it was sent; `None` shows the reader's draft reply, if any.
async fn topic_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &crate::db::users::SessionUser,
    id: i64,
    page: Option<i64>,
    composer: Option<Composer>,
) -> AppResult<TopicView> {
    let t = ctx.tr();
    let mut reader = app.db.reader();
    let found = app
        .topic_pages
        .page(&mut reader, &app.site, user, id, page)
        .await?
        .ok_or(AppError::NotFound)?;
    // Noted before the written marker is read: one written meanwhile is then seen there.
    let noted = app.read_marks.noted_in(user.id, id);
    let own = app.topic_pages.reader_part(&mut reader, user, id).await?;
    drop(reader);
    let composer = composer.unwrap_or_else(|| {
        let mut composer = Composer::for_reply(t);
        if let Some(draft) = &own.draft {
            composer.body = draft.body.clone();
        }
        composer
    });
    let social = social::decorate(app, user, id, &found.posts, noted, &own);
    let is_staff = user.role.is_staff();
    let labels = PostLabels::of(ctx.locale);
    let mut posts = Vec::with_capacity(found.posts.len());
    for (index, (p, social)) in found.posts.iter().zip(social).enumerate() {
        let row = &p.row;
        // What every reader but its author sees alike, when they do not block its author, is
        // rendered once for each variant of what is theirs (new to them, their reactions),
        // with a stand-in for their form token.
        let shared =
            row.author_id != user.id && row.status == PostStatus::Published && !social.blocked;
        let key = fragment_key(&social);
        if shared && let Some(fragment) = p.fragment(key) {
            posts.push(RenderedPost::Shared(fragment));
            continue;
        }
        let item = post_item(p, social, user, found.page == 1 && index == 0);
        if shared {
            let html = PostHtml {
                post: &item,
                is_staff,
                csrf: CSRF_STAND_IN,
                labels,
            }
            .render()?;
            let fragment: Fragment = html.split(CSRF_STAND_IN).map(str::to_owned).collect();
            // Each of its reaction forms holds the token once, and nothing else does: a text
            // that held the stand-in itself is rendered for each reader instead.
            let forms = if item.deleted {
                0
            } else {
                item.social.reactions.len()
            };
            if fragment.len() == forms + 1 {
                p.keep_fragment(key, fragment.clone());
                posts.push(RenderedPost::Shared(fragment));
                continue;
            }
        }
        let html = PostHtml {
            post: &item,
            is_staff,
            csrf: &ctx.csrf,
            labels,
        }
        .render()?;
        posts.push(RenderedPost::Own(html));
    }
    let topic = found.head.topic.clone().ok_or(AppError::NotFound)?;
    Ok(TopicView {
        layout: Layout::new(app, ctx, topic.title.clone()),
        words: TopicWords::of(ctx.locale),
        pager: Pager::new(t, &format!("/t/{id}"), found.page, found.pages),
        topic,
        posts_html: PostsHtml {
            posts,
            csrf: ctx.csrf.clone(),
        },
        composer,
        is_staff,
        following: own.following,
    })
}

/// The topic page's own words, escaped once for each language.
struct TopicWords {
    forums: Escaped,
    closed: Escaped,
    reply_heading: Escaped,
    field_reply: Escaped,
    markdown_hint: Escaped,
    preview: Escaped,
    post_reply: Escaped,
    draft_saved: Escaped,
}

impl TopicWords {
    fn of(locale: crate::i18n::Locale) -> &'static TopicWords {
        static WORDS: PerLocale<TopicWords> = PerLocale::new(|t| {
            let word = |key: &str| Escaped::word(t, key);
            TopicWords {
                forums: word("forums.title"),
                closed: word("forums.closed"),
                reply_heading: word("forums.reply_heading"),
                field_reply: word("forums.field_reply"),
                markdown_hint: word("forums.markdown_hint"),
                preview: word("forums.preview"),
                post_reply: word("forums.post_reply"),
                draft_saved: word("drafts.saved"),
            }
        });
        WORDS.get(locale)
    }
}

/// What a post shows for `user`: what every reader of the kind sees, and what is theirs.
fn post_item(
    p: &SharedPost,
    social: PostSocial,
    user: &SessionUser,
    opens_topic: bool,
) -> PostItem {
    let row = &p.row;
    let is_staff = user.role.is_staff();
    let mine = row.author_id == user.id;
    let withheld = row.status == PostStatus::Hidden && !mine && !is_staff;
    PostItem {
        opens_topic,
        status_note: if withheld {
            None
        } else {
            p.status_note.clone()
        },
        withheld,
        status: row.status,
        moderator_edited: row.moderator_edited_at.is_some(),
        id: row.id,
        author_id: row.author_id,
        author: row.author_name.clone(),
        author_badge: p.badge.clone(),
        can_block: row.author_id != user.id && !row.author_role.is_staff(),
        time: p.time.clone(),
        edited: row.edited_at.is_some(),
        deleted: row.deleted_at.is_some(),
        body_html: if withheld {
            String::new()
        } else {
            row.body_html.clone()
        },
        mine,
        social,
    }
}

/// The words every post of a page repeats, looked up once for each language.
pub struct PostLabels {
    forums_delete: Cow<'static, str>,
    forums_deleted_placeholder: Cow<'static, str>,
    forums_edit: Cow<'static, str>,
    forums_edited: Cow<'static, str>,
    forums_history: Cow<'static, str>,
    moderation_edit_as_moderator: Cow<'static, str>,
    moderation_edited_by_moderator: Cow<'static, str>,
    moderation_hidden_placeholder: Cow<'static, str>,
    moderation_moderate_link: Cow<'static, str>,
    reports_link: Cow<'static, str>,
    social_block_link: Cow<'static, str>,
    social_blocked_post: Cow<'static, str>,
    social_new_tag: Cow<'static, str>,
    social_reaction_own_hint: Cow<'static, str>,
    social_reactions_label: Cow<'static, str>,
    social_who_summary: Cow<'static, str>,
}

impl PostLabels {
    fn of(locale: crate::i18n::Locale) -> &'static PostLabels {
        static LABELS: PerLocale<PostLabels> = PerLocale::new(PostLabels::new);
        LABELS.get(locale)
    }

    fn new(t: Tr) -> PostLabels {
        PostLabels {
            forums_delete: t.s("forums.delete"),
            forums_deleted_placeholder: t.s("forums.deleted_placeholder"),
            forums_edit: t.s("forums.edit"),
            forums_edited: t.s("forums.edited"),
            forums_history: t.s("forums.history"),
            moderation_edit_as_moderator: t.s("moderation.edit_as_moderator"),
            moderation_edited_by_moderator: t.s("moderation.edited_by_moderator"),
            moderation_hidden_placeholder: t.s("moderation.hidden_placeholder"),
            moderation_moderate_link: t.s("moderation.moderate_link"),
            reports_link: t.s("reports.link"),
            social_block_link: t.s("social.block_link"),
            social_blocked_post: t.s("social.blocked_post"),
            social_new_tag: t.s("social.new_tag"),
            social_reaction_own_hint: t.s("social.reaction_own_hint"),
            social_reactions_label: t.s("social.reactions_label"),
            social_who_summary: t.s("social.who_summary"),
        }
    }
}

/// One post of a topic page.
#[derive(Template)]
#[template(path = "forums/post.html")]
struct PostHtml<'a> {
    post: &'a PostItem,
    is_staff: bool,
    csrf: &'a str,
    labels: &'a PostLabels,
}

/// What a shared fragment holds where the reader's form token goes. Rendered through the
/// template's escaping unchanged, and no text a member can send holds a control character.
const CSRF_STAND_IN: &str = "\u{1}csrf\u{1}";

/// Which variant of a post's fragment a reader sees: whether it is new to them (bit 0), and
/// which reactions are theirs (a bit each).
fn fragment_key(social: &PostSocial) -> u32 {
    social
        .reactions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.mine)
        .fold(u32::from(social.unread), |key, (i, _)| key | (2 << i))
}

/// A post as rendered for this page: shared with readers of the kind, or the reader's own.
enum RenderedPost {
    Shared(Fragment),
    Own(String),
}

/// A page's posts, written straight into the page as it renders (a page of twenty is some
/// 40 KB, not worth copying twice), with the reader's form token between a fragment's pieces.
struct PostsHtml {
    posts: Vec<RenderedPost>,
    csrf: std::sync::Arc<str>,
}

impl std::fmt::Display for PostsHtml {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for post in &self.posts {
            match post {
                RenderedPost::Shared(fragment) => {
                    for (i, piece) in fragment.iter().enumerate() {
                        if i > 0 {
                            out.write_str(&self.csrf)?;
                        }
                        out.write_str(piece)?;
                    }
                }
                RenderedPost::Own(html) => out.write_str(html)?,
            }
        }
        Ok(())
    }
}

/// A page of twenty posts is some 40 KB: rendered into one allocation of about that size rather
/// than into a string grown by doubling (askama's size hint counts the template's text once).
const TOPIC_PAGE_BYTES: usize = 48 * 1024;

impl IntoResponse for TopicView {
    fn into_response(self) -> Response {
        let mut html = String::with_capacity(TOPIC_PAGE_BYTES);
        match self.render_into(&mut html) {
            Ok(()) => axum::response::Html(html).into_response(),
            Err(e) => AppError::from(e).into_response(),
        }
    }
}

/// What a post's author (and staff) read about its status: why it waits, or why it was hidden
/// (in the moderator's words, never naming them).
pub fn status_note(t: Tr, status: PostStatus, reason: &str) -> Option<String> {
    match status {
        PostStatus::Published => None,
        PostStatus::Held => Some(match reason.parse::<HoldReason>() {
            Ok(HoldReason::WatchedWord) => t.s("moderation.held_watched").into_owned(),
            _ => t.s("moderation.held_first_posts").into_owned(),
        }),
        PostStatus::Hidden => Some(t.f("moderation.hidden_note", &[("reason", reason)])),
    }
}

pub async fn show(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> AppResult<TopicView> {
    topic_view(&app, &ctx, &user, id, query.page, None).await
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
    let refusal = if form.action == "preview" {
        // Only a topic the reader may see has a composer to preview in.
        let mut conn = app.db.conn().await?;
        db::forums::topic(conn.exec(), viewer(&user), id)
            .await?
            .ok_or(AppError::NotFound)?;
        None
    } else {
        let draft = Draft::Reply {
            topic_id: id,
            body: &form.body,
        };
        match content::submit(&app, &user, draft).await? {
            Ok(accepted) => return after_submit(&app, &ctx, &user, accepted, false).await,
            Err(refusal) => Some(refusal),
        }
    };
    drafts::save(&app, &user, Place::Reply(id), "", &form.body).await?;
    let body = rules::body(&form.body);
    let errors = match &refusal {
        Some(refusal) => refusal.messages(t, &app.site),
        None => body
            .as_ref()
            .err()
            .map(|p| t.s(p.key()).into_owned())
            .into_iter()
            .collect(),
    };
    let composer = Composer {
        preview: preview(&form.action, &body),
        title: String::new(),
        body: form.body,
        errors,
        limits: &LimitHints::of(t.0).reply,
    };
    let status = if composer.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // The composer sits under the last page, where a reply lands.
    let view = topic_view(&app, &ctx, &user, id, Some(i64::MAX), Some(composer)).await?;
    Ok((status, view).into_response())
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
