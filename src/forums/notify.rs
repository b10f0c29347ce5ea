//! Following topics and categories, and the e-mails about new posts in them.
//!
//! A new post queues a notice for each follower and each member it mentions in the post's own
//! unit of work; [`crate::notify::mailer`] mails them as each member's preferences say (by
//! default one mail once the oldest has waited `notify_delay_seconds`, so a busy thread sends
//! one mail, not dozens). When the mail is written, each post is checked again (still visible
//! to the reader, not deleted, no block either way, still followed or a mention); a mail with
//! nothing left is not sent. The mail says why each topic is in it, and carries signed links
//! that stop one follow, and (for a mail program's one-click unsubscribe) one that turns off
//! the kinds of mail it carries, without logging in, changing nothing else.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, SignedLinkForm};
use crate::auth::rate_limit::ClientAddress;
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::notifications::{self as queries, Followed, NotifiedPost};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::{service, viewer};
use crate::i18n::Tr;
use crate::mail::{MailPost, MailSection};
use crate::markdown;
use crate::notify::Kind;
use crate::notify::Prefs;
use crate::notify::prefs::PrefsView;
use crate::web::layout::{Layout, local_time};
use crate::work::Work;

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

/// The most follows one link stops (links in mails sent before kinds of mail could be stopped
/// named every follow of a mail of at most 50 posts).
const MAX_STOPS: usize = 100;

/// What a signed link stops: some follows, some kinds of mail (a mail's one-click unsubscribe
/// turns off the kinds it carries), or (in links from before kinds) replies and mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stops {
    Follows(Vec<Followed>),
    Kinds(Vec<Kind>),
    All,
}

impl Stops {
    /// The link's path segment: `all`, follows such as `t12-c3` (topic 12, category 3), or
    /// kinds such as `kreply-kmention`.
    fn segment(&self) -> String {
        match self {
            Stops::All => "all".to_owned(),
            Stops::Kinds(kinds) => kinds
                .iter()
                .map(|k| format!("k{}", k.as_str()))
                .collect::<Vec<_>>()
                .join("-"),
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
        if segment.starts_with('k') {
            let mut kinds = Vec::new();
            for part in segment.split('-').take(Kind::ALL.len() + 1) {
                let kind = Kind::parse(part.strip_prefix('k')?)?;
                if kinds.contains(&kind) {
                    return None;
                }
                kinds.push(kind);
            }
            return Some(Stops::Kinds(kinds));
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
pub(crate) fn stop_link(app: &crate::App, user_id: i64, stops: &Stops) -> String {
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

/// In a new post's unit of work: the author follows the topic; followers and the members it
/// mentions get a notice (mailed as their preferences say, see [`crate::notify`]).
pub async fn after_post(
    work: &mut Work<'_>,
    post: &NewPost<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    queries::follow(
        work.exec(),
        post.author_id,
        Followed::Topic(post.topic_id),
        now,
    )
    .await?;
    let mut told = queries::queue_for_post(
        work.exec(),
        post.post_id,
        post.topic_id,
        post.category_id,
        post.author_id,
        now,
    )
    .await?;
    told.extend(
        queries::queue_mentions(
            work.exec(),
            post.post_id,
            post.author_id,
            post.mentioned,
            now,
        )
        .await?,
    );
    for user_id in told {
        work.announce(Event::NoticesChanged { user_id });
    }
    Ok(())
}

/// The sections of a mail about new posts (ordered by topic), one per topic saying why it is
/// mailed, leaving out any post the reader no longer follows and was not mentioned in; and
/// whether every post left is a mention.
pub(crate) fn post_sections(
    app: &crate::App,
    t: Tr,
    user_id: i64,
    posts: Vec<NotifiedPost>,
) -> (Vec<MailSection>, bool) {
    let posts: Vec<NotifiedPost> = posts
        .into_iter()
        .filter(|p| p.mentioned == 1 || p.follows_topic || p.follows_category)
        .collect();
    let mut sections = Vec::new();
    for topic in posts.chunk_by(|a, b| a.topic_id == b.topic_id) {
        let first = &topic[0];
        let mut reasons = Vec::new();
        let mut stops = Vec::new();
        if topic.iter().any(|p| p.mentioned == 1) {
            reasons.push(t.s("mail.replies.reason_mention").into_owned());
        }
        let category = [("category", first.category_name.as_str())];
        let mut stop = |what: Followed, label: String| {
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
    (sections, posts.iter().all(|p| p.mentioned == 1))
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
    app.writes.check(&user, WriteKind::Notice)?;
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
    app.writes.check(&user, WriteKind::Notice)?;
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
    /// The topics and categories, or the kinds of mail, the link stops, by name.
    names: Vec<String>,
    done: bool,
    /// Every kind's setting, changed from this page with the link's authority.
    prefs: PrefsView,
    settings_action: String,
}

impl UnsubscribeView {
    /// The page of a checked link (`link` as in its path), before or after its button.
    pub(crate) async fn new(
        app: &AppState,
        ctx: &RequestContext,
        link: &(i64, String, String),
        stops: &Stops,
        done: bool,
    ) -> AppResult<UnsubscribeView> {
        let (user_id, what, signature) = link;
        let names = names_of(app, ctx, stops).await?;
        let prefs = {
            let mut conn = app.db.conn().await?;
            Prefs::load(conn.exec(), *user_id).await?
        };
        Ok(UnsubscribeView {
            layout: Layout::titled(app, ctx, "notify.stop_title"),
            message: stop_message(ctx.tr(), stops, done),
            names,
            done,
            prefs: PrefsView::of(ctx.tr(), &prefs),
            settings_action: format!("/unsubscribe/{user_id}/{what}/{signature}/settings"),
        })
    }

    pub(crate) fn set_message(&mut self, message: String) {
        self.message = message;
    }

    pub(crate) fn set_prefs(&mut self, prefs: PrefsView) {
        self.prefs = prefs;
    }
}

/// Whether a request is for a signed link from a mail: authorised by its signature alone, so
/// a mail provider's one-click POST (RFC 8058, no Origin, no session) is let through.
pub fn is_signed_link(path: &str) -> bool {
    path.starts_with("/unsubscribe/")
}

/// A checked signed link: for whom, and what it stops.
pub(crate) async fn signed(
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
        (Stops::Kinds(_), false) => "notices.stop_kinds_question",
    };
    t.s(key).into_owned()
}

/// A write by a signed link counts against its member's limit, as their own writes do.
pub(crate) async fn check_member_write(app: &AppState, user_id: i64) -> AppResult<()> {
    let member = {
        let mut conn = app.db.conn().await?;
        db::users::session_user(conn.exec(), user_id).await?
    };
    let member = member.ok_or(AppError::NotFound)?;
    app.writes.check(&member, WriteKind::Notice)
}

/// The names of what a link stops, read for its page.
async fn names_of(app: &AppState, ctx: &RequestContext, stops: &Stops) -> AppResult<Vec<String>> {
    let follows = match stops {
        Stops::Follows(follows) => follows,
        Stops::Kinds(kinds) => {
            let t = ctx.tr();
            return Ok(kinds
                .iter()
                .map(|k| t.s(&format!("notices.kind.{}", k.as_str())).into_owned())
                .collect());
        }
        Stops::All => return Ok(Vec::new()),
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
    let (_, stops) = signed(&app, client, link.clone()).await?;
    UnsubscribeView::new(&app, &ctx, &link, &stops, false).await
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
    let (user_id, stops) = signed(&app, client, link.clone()).await?;
    check_member_write(&app, user_id).await?;
    service::stop_mail(&app, user_id, &stops).await?;
    tracing::info!(user = user_id, what = %stops.segment(), "mail stopped by a signed link");
    UnsubscribeView::new(&app, &ctx, &link, &stops, true).await
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
        let kinds = Stops::Kinds(vec![Kind::Reply, Kind::Mention]);
        assert_eq!(kinds.segment(), "kreply-kmention");
        assert_eq!(Stops::parse("kreply-kmention"), Some(kinds));
        for bad in ["k", "kx", "kreply-kreply", "kreply-t1", "kreply-"] {
            assert_eq!(Stops::parse(bad), None, "{bad:?}");
        }
        for bad in ["", "t", "x1", "t0", "t-1", "t1-", "c1.5", "t１"] {
            assert_eq!(Stops::parse(bad), None, "{bad:?}");
        }
        let many = vec!["t1"; MAX_STOPS + 1].join("-");
        assert_eq!(Stops::parse(&many), None, "bounded");
    }
}
