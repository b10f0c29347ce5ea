//! Following topics and categories, and the e-mails about new posts in them.
//!
//! A new post queues a notification row for each follower in the post's own transaction. A
//! worker mails each member's waiting notifications as one message once the oldest has waited
//! `notify_delay_seconds`, so a busy thread sends one mail, not dozens. Each mail carries signed
//! links that stop the mails without logging in and change nothing else.

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
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{RequestContext, SessionData};
use crate::db::notifications::{self as queries, Followed};
use crate::db::{self, Tx};
use crate::error::{AppError, AppResult};
use crate::forums::viewer;
use crate::i18n::Locale;
use crate::mail::{self, Mail};
use crate::markdown;
use crate::web::layout::Layout;

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

    pub fn sign(&self, kind: &str, id: i64, user_id: i64) -> String {
        self.mac(&format!("unsubscribe:{kind}:{id}:{user_id}"))
    }

    pub fn verify(&self, kind: &str, id: i64, user_id: i64, signature: &str) -> bool {
        crate::auth::csrf::tokens_match(&self.sign(kind, id, user_id), signature)
    }
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
        let mut tx = app.db.begin().await?;
        let post_ids = queries::take_waiting(tx.exec(), user_id, now).await?;
        let Some(user) = db::users::session_user(tx.exec(), user_id).await? else {
            continue;
        };
        let Some(email) = db::users::email_of(tx.exec(), user_id).await? else {
            continue;
        };
        // Visibility is checked again now: a category may have closed to them meanwhile.
        let posts = queries::notified_posts(tx.exec(), viewer(&user), &post_ids).await?;
        if user.status == "active" && !posts.is_empty() {
            let locale = Locale::from_code(&user.locale);
            let t = locale.tr();
            let mut lines: Vec<(String, String)> = posts
                .iter()
                .map(|p| {
                    let label = t.f(
                        "mail.replies.item",
                        &[
                            ("title", &p.topic_title),
                            ("name", &p.author_name),
                            ("excerpt", &markdown::excerpt(&p.body_markdown, 60)),
                        ],
                    );
                    (label, app.config.link(&format!("/p/{}", p.post_id)))
                })
                .collect();
            let mut topics: Vec<(i64, &str)> = posts
                .iter()
                .map(|p| (p.topic_id, p.topic_title.as_str()))
                .collect();
            topics.dedup_by_key(|(id, _)| *id);
            for (topic_id, title) in topics {
                let signature = app.links.sign("topic", topic_id, user_id);
                lines.push((
                    t.f("mail.replies.stop_topic", &[("title", title)]),
                    app.config.link(&format!(
                        "/unsubscribe/topic/{topic_id}/{user_id}/{signature}"
                    )),
                ));
            }
            let signature = app.links.sign("all", 0, user_id);
            let stop_all = app
                .config
                .link(&format!("/unsubscribe/all/0/{user_id}/{signature}"));
            let mail = Mail::Replies {
                display_name: &user.display_name,
                posts: &lines,
                settings_link: &stop_all,
            };
            mail::enqueue(&mut tx, &app.config, locale, &email, &mail).await?;
        }
        tx.commit().await?;
        app.mail.wake();
    }
    Ok(())
}

async fn set_following(
    app: &AppState,
    ctx: &RequestContext,
    user_id: i64,
    what: Followed,
    follow: bool,
    back: String,
) -> AppResult<Response> {
    let mut tx = app.db.begin().await?;
    if follow {
        queries::follow(tx.exec(), user_id, what, db::now()).await?;
    } else {
        queries::unfollow(tx.exec(), user_id, what).await?;
    }
    tx.commit().await?;
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

/// The follow button: `follow=no` stops following, anything else follows.
#[derive(Deserialize)]
pub struct FollowForm {
    follow: Option<String>,
}

impl FollowForm {
    fn follows(&self) -> bool {
        self.follow.as_deref() != Some("no")
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
        format!("/t/{id}"),
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
        format!("/c/{id}"),
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
    done: bool,
}

/// What a signed link stops: one topic's mails, or all reply mails.
fn stopped(kind: &str, id: i64) -> Option<Stop> {
    match kind {
        "topic" => Some(Stop::Topic(id)),
        "all" => Some(Stop::All),
        _ => None,
    }
}

enum Stop {
    Topic(i64),
    All,
}

/// The link from a mail shows one button; only the button (a POST) stops anything, so a mail
/// scanner that follows links changes nothing.
pub async fn unsubscribe_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((kind, id, user_id, signature)): Path<(String, i64, i64, String)>,
) -> AppResult<UnsubscribeView> {
    if stopped(&kind, id).is_none() || !app.links.verify(&kind, id, user_id, &signature) {
        return Err(AppError::NotFound);
    }
    let key = if kind == "all" {
        "notify.stop_all_question"
    } else {
        "notify.stop_topic_question"
    };
    Ok(UnsubscribeView {
        layout: Layout::titled(&app, &ctx, "notify.stop_title"),
        message: ctx.tr().s(key).into_owned(),
        done: false,
    })
}

pub async fn unsubscribe(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((kind, id, user_id, signature)): Path<(String, i64, i64, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<UnsubscribeView> {
    let Some(stop) =
        stopped(&kind, id).filter(|_| app.links.verify(&kind, id, user_id, &signature))
    else {
        return Err(AppError::NotFound);
    };
    let mut tx = app.db.begin().await?;
    match stop {
        Stop::Topic(topic_id) => {
            queries::unfollow(tx.exec(), user_id, Followed::Topic(topic_id)).await?
        }
        Stop::All => queries::set_email_replies(tx.exec(), user_id, false).await?,
    }
    tx.commit().await?;
    Ok(UnsubscribeView {
        layout: Layout::titled(&app, &ctx, "notify.stop_title"),
        message: ctx.tr().s("notify.stopped").into_owned(),
        done: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_cover_kind_id_and_member() {
        let signer = LinkSigner::new("secret");
        let signature = signer.sign("topic", 7, 3);
        assert!(signer.verify("topic", 7, 3, &signature));
        assert!(!signer.verify("topic", 8, 3, &signature));
        assert!(!signer.verify("topic", 7, 4, &signature));
        assert!(!signer.verify("all", 7, 3, &signature));
        assert!(!LinkSigner::new("other").verify("topic", 7, 3, &signature));
    }
}
