//! Following topics and categories, and the e-mails about new posts in them.
//!
//! A new post queues a notification row for each follower in the post's own transaction. A
//! worker mails each member's waiting notifications as one message once the oldest has waited
//! `notify_delay_seconds`, so a busy thread sends one mail, not dozens. When the mail is written,
//! each post is checked again (still visible to the reader, not deleted, no block either way,
//! still followed or a mention); a mail with nothing left is not sent. The mail says why each
//! topic is in it, and carries signed links that stop one follow (or, for a mail program's
//! one-click unsubscribe, what the mail is about) without logging in, changing nothing else.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::watch;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, SignedLinkForm};
use crate::auth::rate_limit::ClientAddress;
use crate::auth::session::{RequestContext, SessionData};
use crate::db::notifications::{self as queries, Followed, NotifiedPost};
use crate::db::{self, Tx};
use crate::error::{AppError, AppResult};
use crate::forums::{service, viewer};
use crate::i18n::{Locale, Tr};
use crate::mail::{Mail, MailPost, MailSection};
use crate::markdown;
use crate::web::layout::{Layout, local_time};

/// Signs and checks the links in mails, with a key the site keeps in its database.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl LinkSigner {
    pub fn new(key: &str) -> LinkSigner {
        LinkSigner {
            key: key.as_bytes().to_vec(),
        }
    }

    fn mac(&self, message: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(message.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The signature of a link stopping `what` (see [`Stops`]) for member `user_id`.
    pub fn sign(&self, user_id: i64, what: &str) -> String {
        self.mac(&format!("unsubscribe:{user_id}:{what}"))
    }

    pub fn verify(&self, user_id: i64, what: &str, signature: &str) -> bool {
        crate::auth::csrf::tokens_match(&self.sign(user_id, what), signature)
    }
}

/// The most notifications one mail lists; more wait for the next mail.
const POSTS_PER_MAIL: i64 = 50;
/// The most follows one link stops (a mail of [`POSTS_PER_MAIL`] posts names at most twice as
/// many topics and categories).
const MAX_STOPS: usize = 2 * POSTS_PER_MAIL as usize;

/// What a signed link stops: some follows, or every mail about new posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stops {
    Follows(Vec<Followed>),
    All,
}

impl Stops {
    /// The link's path segment: `all`, or follows such as `t12-c3` (topic 12, category 3).
    fn segment(&self) -> String {
        match self {
            Stops::All => "all".to_owned(),
            Stops::Follows(follows) => follows
                .iter()
                .map(|f| match f {
                    Followed::Topic(id) => format!("t{id}"),
                    Followed::Category(id) => format!("c{id}"),
                })
                .collect::<Vec<_>>()
                .join("-"),
        }
    }

    fn parse(segment: &str) -> Option<Stops> {
        if segment == "all" {
            return Some(Stops::All);
        }
        let follows = segment
            .split('-')
            .take(MAX_STOPS + 1)
            .map(|part| {
                let (kind, id) = part.split_at_checked(1)?;
                let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
                match kind {
                    "t" => Some(Followed::Topic(id)),
                    "c" => Some(Followed::Category(id)),
                    _ => None,
                }
            })
            .collect::<Option<Vec<_>>>()?;
        (follows.len() <= MAX_STOPS).then_some(Stops::Follows(follows))
    }
}

/// The signed address that stops `stops` for member `user_id`.
fn stop_link(app: &AppState, user_id: i64, stops: &Stops) -> String {
    let what = stops.segment();
    let signature = app.links.sign(user_id, &what);
    app.config
        .link(&format!("/unsubscribe/{user_id}/{what}/{signature}"))
}

/// A new post, as notifications need it.
pub struct NewPost<'a> {
    pub author_id: i64,
    pub topic_id: i64,
    pub category_id: i64,
    pub post_id: i64,
    pub mentioned: &'a [i64],
}

/// In a new post's transaction: the author follows the topic; followers and the members it
/// mentions are queued.
pub async fn after_post(tx: &mut Tx, post: &NewPost<'_>, now: i64) -> Result<(), sqlx::Error> {
    queries::follow(
        tx.exec(),
        post.author_id,
        Followed::Topic(post.topic_id),
        now,
    )
    .await?;
    queries::queue_for_post(
        tx.exec(),
        post.post_id,
        post.topic_id,
        post.category_id,
        post.author_id,
        now,
    )
    .await?;
    queries::queue_mentions(tx.exec(), post.post_id, post.author_id, post.mentioned, now).await
}

/// Runs until shutdown, mailing batches as they come due.
pub async fn run_mailer(app: AppState, mut shutdown: watch::Receiver<bool>) {
    let delay = i64::from(app.config.notify_delay_seconds);
    let tick = Duration::from_secs((delay as u64 / 2).clamp(1, 60));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = mail_due(&app, delay).await {
            tracing::error!(error = %e, "notification mail");
        }
    }
}

/// One mail per member whose oldest waiting notification is at least `delay` seconds old.
pub async fn mail_due(app: &AppState, delay: i64) -> Result<(), AppError> {
    let now = db::now();
    let users = {
        let mut conn = app.db.conn().await?;
        queries::due_users(conn.exec(), now - delay).await?
    };
    for user_id in users {
        let mut work = app.work().await?;
        let post_ids = queries::take_waiting(work.exec(), user_id, now, POSTS_PER_MAIL).await?;
        if let Some((user, email)) = mail_recipient(work.tx(), user_id).await? {
            // Checked again now: a post deleted, a category closed or a block made meanwhile
            // keeps the post out of the mail.
            let posts =
                queries::notified_posts(work.exec(), viewer(&user), user_id, &post_ids).await?;
            let locale = Locale::from_code(&user.locale);
            let digest = Digest::of(app, locale.tr(), user_id, posts);
            if !digest.sections.is_empty() {
                let settings_link = app.config.link("/account#notify-heading");
                let one_click = stop_link(app, user_id, &digest.stops);
                let mail = Mail::Replies {
                    display_name: &user.display_name,
                    sections: &digest.sections,
                    only_mentions: digest.only_mentions,
                    settings_link: &settings_link,
                    one_click: &one_click,
                };
                work.mail(locale, &email, &mail).await?;
            }
        }
        work.commit().await?;
    }
    Ok(())
}

/// The member and their address, while they are active and want mail about new posts.
async fn mail_recipient(
    tx: &mut Tx,
    user_id: i64,
) -> Result<Option<(db::users::SessionUser, String)>, sqlx::Error> {
    let Some(user) = db::users::session_user(tx.exec(), user_id).await? else {
        return Ok(None);
    };
    if user.status != "active" || !queries::email_replies(tx.exec(), user_id).await? {
        return Ok(None);
    }
    Ok(db::users::email_of(tx.exec(), user_id)
        .await?
        .map(|email| (user, email)))
}

/// A notification mail's content: one section per topic, and what its one-click link stops.
struct Digest {
    sections: Vec<MailSection>,
    only_mentions: bool,
    stops: Stops,
}

impl Digest {
    /// Groups the posts (ordered by topic) into sections, leaving out any the reader no longer
    /// follows and was not mentioned in.
    fn of(app: &AppState, t: Tr, user_id: i64, posts: Vec<NotifiedPost>) -> Digest {
        let posts: Vec<NotifiedPost> = posts
            .into_iter()
            .filter(|p| p.mentioned == 1 || p.follows_topic || p.follows_category)
            .collect();
        let mut sections = Vec::new();
        let mut follows = Vec::new();
        for topic in posts.chunk_by(|a, b| a.topic_id == b.topic_id) {
            let first = &topic[0];
            let mut reasons = Vec::new();
            let mut stops = Vec::new();
            if topic.iter().any(|p| p.mentioned == 1) {
                reasons.push(t.s("mail.replies.reason_mention").into_owned());
            }
            let category = [("category", first.category_name.as_str())];
            let mut stop = |what: Followed, label: String| {
                if !follows.contains(&what) {
                    follows.push(what);
                }
                let link = stop_link(app, user_id, &Stops::Follows(vec![what]));
                stops.push((label, link));
            };
            if first.follows_topic {
                reasons.push(t.s("mail.replies.reason_topic").into_owned());
                stop(
                    Followed::Topic(first.topic_id),
                    t.s("mail.replies.stop_topic").into_owned(),
                );
            }
            if first.follows_category {
                reasons.push(t.f("mail.replies.reason_category", &category));
                stop(
                    Followed::Category(first.category_id),
                    t.f("mail.replies.stop_category", &category),
                );
            }
            let posts = topic
                .iter()
                .map(|p| MailPost {
                    byline: t.f(
                        "mail.replies.byline",
                        &[
                            ("name", &p.author_name),
                            ("time", &local_time(&app.site, p.created_at)),
                        ],
                    ),
                    excerpt: markdown::excerpt(&p.body_markdown, 80),
                    link: app.config.link(&format!("/p/{}", p.post_id)),
                })
                .collect();
            sections.push(MailSection {
                heading: t.f("mail.replies.topic", &[("title", &first.topic_title)]),
                reasons,
                posts,
                stops,
            });
        }
        Digest {
            only_mentions: posts.iter().all(|p| p.mentioned == 1),
            sections,
            // A mail only of mentions follows nothing: its one-click link stops every mail
            // about new posts, the one setting that governs mentions.
            stops: if follows.is_empty() {
                Stops::All
            } else {
                Stops::Follows(follows)
            },
        }
    }
}

async fn set_following(
    app: &AppState,
    ctx: &RequestContext,
    user_id: i64,
    what: Followed,
    follow: bool,
    back: String,
) -> AppResult<Response> {
    service::set_following(app, user_id, what, follow).await?;
    let key = if follow {
        "notify.following"
    } else {
        "notify.not_following"
    };
    SessionData(&ctx.session)
        .set_flash(ctx.tr().s(key).into_owned())
        .await?;
    Ok(Redirect::to(&back).into_response())
}

/// The follow button: `follow=no` stops following, anything else follows; `back=settings` when
/// pressed in the account settings' list of follows, to return there.
#[derive(Deserialize)]
pub struct FollowForm {
    follow: Option<String>,
    back: Option<String>,
}

impl FollowForm {
    fn follows(&self) -> bool {
        self.follow.as_deref() != Some("no")
    }

    fn back(&self, page: String) -> String {
        match self.back.as_deref() {
            Some("settings") => "/account#notify-heading".to_owned(),
            _ => page,
        }
    }
}

pub async fn follow_topic(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FollowForm>,
) -> AppResult<Response> {
    topic_visible(&app, &user, id).await?;
    set_following(
        &app,
        &ctx,
        user.id,
        Followed::Topic(id),
        form.follows(),
        form.back(format!("/t/{id}")),
    )
    .await
}

pub async fn follow_category(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FollowForm>,
) -> AppResult<Response> {
    category_visible(&app, &user, id).await?;
    set_following(
        &app,
        &ctx,
        user.id,
        Followed::Category(id),
        form.follows(),
        form.back(format!("/c/{id}")),
    )
    .await
}

async fn topic_visible(app: &AppState, user: &db::users::SessionUser, id: i64) -> AppResult<()> {
    let mut conn = app.db.conn().await?;
    db::forums::topic(conn.exec(), viewer(user), id)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}

async fn category_visible(app: &AppState, user: &db::users::SessionUser, id: i64) -> AppResult<()> {
    let mut conn = app.db.conn().await?;
    db::forums::category(conn.exec(), viewer(user), id)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}

/// Whether the member follows a topic, and the same for its category, for the pages' buttons.
pub async fn following(exec: db::Exec<'_>, user_id: i64, what: Followed) -> AppResult<bool> {
    Ok(queries::follows(exec, user_id, what).await?)
}

#[derive(Template, WebTemplate)]
#[template(path = "forums/unsubscribe.html")]
pub struct UnsubscribeView {
    layout: Layout,
    message: String,
    /// The topics and categories the link stops, by name.
    names: Vec<String>,
    done: bool,
}

/// Whether a request is for a signed link from a mail: authorised by its signature alone, so
/// a mail provider's one-click POST (RFC 8058, no Origin, no session) is let through.
pub fn is_signed_link(path: &str) -> bool {
    path.starts_with("/unsubscribe/")
}

/// A checked signed link: for whom, and what it stops.
async fn signed(
    app: &AppState,
    client: ClientAddress,
    (user_id, what, signature): (i64, String, String),
) -> AppResult<(i64, Stops)> {
    if !app.limits.allow_stop_link(client.0) {
        return Err(AppError::TooManyRequests);
    }
    if !app.links.verify(user_id, &what, &signature) {
        return Err(AppError::NotFound);
    }
    let stops = Stops::parse(&what).ok_or(AppError::NotFound)?;
    Ok((user_id, stops))
}

fn stop_message(t: Tr, stops: &Stops, done: bool) -> String {
    let key = match (stops, done) {
        (_, true) => "notify.stopped",
        (Stops::All, false) => "notify.stop_all_question",
        (Stops::Follows(_), false) => "notify.stop_follows_question",
    };
    t.s(key).into_owned()
}

/// The names of what a link stops, read for its page.
async fn names_of(app: &AppState, ctx: &RequestContext, stops: &Stops) -> AppResult<Vec<String>> {
    let Stops::Follows(follows) = stops else {
        return Ok(Vec::new());
    };
    let ids = |topics: bool| -> Vec<i64> {
        follows
            .iter()
            .filter_map(|f| match (f, topics) {
                (Followed::Topic(id), true) | (Followed::Category(id), false) => Some(*id),
                _ => None,
            })
            .collect()
    };
    let named = {
        let mut conn = app.db.conn().await?;
        queries::followed_names(conn.exec(), ctx.locale, &ids(true), &ids(false)).await?
    };
    let t = ctx.tr();
    Ok(named
        .into_iter()
        .map(|(topic, name)| {
            let key = if topic {
                "notify.stop_topic_item"
            } else {
                "notify.stop_category_item"
            };
            t.f(key, &[("name", &name)])
        })
        .collect())
}

/// The link from a mail shows one button; only a POST stops anything, so a mail scanner that
/// follows links changes nothing.
pub async fn unsubscribe_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    client: ClientAddress,
    Path(link): Path<(i64, String, String)>,
) -> AppResult<UnsubscribeView> {
    let (_, stops) = signed(&app, client, link).await?;
    Ok(UnsubscribeView {
        layout: Layout::titled(&app, &ctx, "notify.stop_title"),
        message: stop_message(ctx.tr(), &stops, false),
        names: names_of(&app, &ctx, &stops).await?,
        done: false,
    })
}

/// The body of a one-click unsubscribe (RFC 8058), which the page's button sends too.
#[derive(Deserialize)]
pub struct OneClick {
    #[serde(rename = "List-Unsubscribe")]
    list_unsubscribe: String,
}

/// Stops what the signed link names, and nothing else. No login and no CSRF token: the
/// signature is the authority, and a mail program posts it on the member's behalf.
pub async fn unsubscribe(
    State(app): State<AppState>,
    ctx: RequestContext,
    client: ClientAddress,
    Path(link): Path<(i64, String, String)>,
    SignedLinkForm(form): SignedLinkForm<OneClick>,
) -> AppResult<UnsubscribeView> {
    if form.list_unsubscribe != "One-Click" {
        return Err(AppError::BadRequest("expected List-Unsubscribe=One-Click"));
    }
    let (user_id, stops) = signed(&app, client, link).await?;
    service::stop_mail(&app, user_id, &stops).await?;
    tracing::info!(user = user_id, what = %stops.segment(), "mail stopped by a signed link");
    Ok(UnsubscribeView {
        layout: Layout::titled(&app, &ctx, "notify.stop_title"),
        message: stop_message(ctx.tr(), &stops, true),
        names: names_of(&app, &ctx, &stops).await?,
        done: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_cover_member_and_what_they_stop() {
        let signer = LinkSigner::new("secret");
        let signature = signer.sign(3, "t7");
        assert!(signer.verify(3, "t7", &signature));
        assert!(!signer.verify(3, "t8", &signature));
        assert!(!signer.verify(4, "t7", &signature));
        assert!(!signer.verify(3, "all", &signature));
        assert!(!LinkSigner::new("other").verify(3, "t7", &signature));
    }

    #[test]
    fn what_a_link_stops_reads_back() {
        let follows = Stops::Follows(vec![Followed::Topic(12), Followed::Category(3)]);
        assert_eq!(follows.segment(), "t12-c3");
        assert_eq!(Stops::parse("t12-c3"), Some(follows));
        assert_eq!(Stops::parse("all"), Some(Stops::All));
        for bad in ["", "t", "x1", "t0", "t-1", "t1-", "c1.5", "t１"] {
            assert_eq!(Stops::parse(bad), None, "{bad:?}");
        }
        let many = vec!["t1"; MAX_STOPS + 1].join("-");
        assert_eq!(Stops::parse(&many), None, "bounded");
    }
}
