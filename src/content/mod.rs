//! The content pipeline. Everything members write (a forum topic, a reply, an edit; café messages
//! and questions to experts join as kinds of [`Draft`], not as copies) goes through [`submit`]:
//! silence, length and validity, watched words (block, hold, flag), crisis words (never blocked:
//! published, and moderators alerted), the first-posts review threshold, mentions, Markdown,
//! search indexing and notifications, all in one unit of work. It returns a [`Verdict`] that the
//! capability turns into its page.
//!
//! Held content is published later by [`approve`], through the same steps a post published at
//! once takes ([`publish`]), so followers and mentioned members hear of it only once others can
//! read it.

use crate::App;
use crate::cafe;
use crate::db;
use crate::db::forums::{NewPostRow, PostRef};
use crate::db::users::SessionUser;
use crate::domain::content::{HoldReason, PostStatus};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::forums::drafts::Place;
use crate::forums::notify::{self, NewPost};
use crate::forums::rules::{self, DraftProblem};
use crate::forums::{mentions, viewer};
use crate::markdown;
use crate::qa;
use crate::safety::{self, AlertCause, Screening};
use crate::work::Work;

/// What a member asks to publish.
pub enum Draft<'a> {
    Topic {
        category_id: i64,
        title: &'a str,
        body: &'a str,
    },
    Reply {
        topic_id: i64,
        body: &'a str,
    },
    /// A change to a post: only the fields the editor may change are given.
    Edit {
        post: &'a PostRef,
        title: Option<&'a str>,
        body: Option<&'a str>,
    },
    /// A message in a café room.
    CafeMessage {
        room_id: i64,
        body: &'a str,
    },
    /// A question to an expert's slot; a follow-up names the asker's question it follows (and
    /// takes its sharing and anonymity).
    Question {
        slot_id: i64,
        body: &'a str,
        shared: bool,
        anonymous: bool,
        follows: Option<i64>,
    },
    /// The slot's expert publishing the answer to an accepted question.
    Answer {
        question_id: i64,
        body: &'a str,
    },
}

/// Why a draft was not published; nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Invalid(Vec<DraftProblem>),
    /// A moderator silenced the writer until then (Unix seconds).
    Silenced {
        until: i64,
        reason: String,
    },
    /// It carries a watched word that blocks.
    WatchedWord {
        word: String,
    },
    /// The topic is closed to replies.
    Closed,
    /// The café room is open for writing only during its sessions.
    RoomClosed,
    /// The facilitator or a moderator paused the room.
    Paused,
    /// The writer was muted for the rest of the session.
    Muted,
    /// Slow mode: the writer may write again in this many seconds.
    SlowMode {
        wait: i64,
    },
    /// The slot takes no more questions: past its deadline, full, or cancelled.
    QuestionsClosed,
    /// The member already has this many questions waiting or accepted in the slot.
    TooManyQuestions {
        max: i64,
    },
    /// Follow-ups are for the asker's own accepted question, while a slot that allows them is on.
    FollowUpsClosed,
    /// Only the slot's expert answers, and only accepted questions.
    NotAnswerable,
    /// Answers are published from the slot's start; until then they are drafts.
    SlotNotStarted,
}

impl Refusal {
    /// What to tell the writer, in their language.
    pub fn messages(
        &self,
        t: crate::i18n::Tr,
        site: &crate::admin::site::SiteSettings,
    ) -> Vec<String> {
        match self {
            Refusal::Invalid(problems) => {
                problems.iter().map(|p| t.s(p.key()).into_owned()).collect()
            }
            Refusal::Silenced { until, reason } => vec![t.f(
                "moderation.silenced_refusal",
                &[
                    ("until", &crate::web::layout::local_time(site, *until)),
                    ("reason", reason),
                ],
            )],
            Refusal::WatchedWord { word } => {
                vec![t.f("moderation.watched_word_refusal", &[("word", word)])]
            }
            Refusal::Closed => vec![t.s("forums.closed").into_owned()],
            Refusal::RoomClosed => vec![t.s("cafe.refused.closed").into_owned()],
            Refusal::Paused => vec![t.s("cafe.refused.paused").into_owned()],
            Refusal::Muted => vec![t.s("cafe.refused.muted").into_owned()],
            Refusal::SlowMode { wait } => {
                vec![t.f("cafe.refused.slow_mode", &[("seconds", &wait.to_string())])]
            }
            Refusal::QuestionsClosed => vec![t.s("qa.refused.closed").into_owned()],
            Refusal::TooManyQuestions { max } => {
                vec![t.f("qa.refused.too_many", &[("max", &max.to_string())])]
            }
            Refusal::FollowUpsClosed => vec![t.s("qa.refused.follow_ups").into_owned()],
            Refusal::NotAnswerable => vec![t.s("qa.refused.not_answerable").into_owned()],
            Refusal::SlotNotStarted => vec![t.s("qa.refused.not_started").into_owned()],
        }
    }
}

/// Where a draft went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    Post {
        post_id: i64,
        topic_id: i64,
    },
    /// A café message, as change `seq` of its room.
    CafeMessage {
        message_id: i64,
        room_id: i64,
        seq: i64,
    },
    Question {
        question_id: i64,
        slot_id: i64,
    },
    /// An answer, as change `seq` of its slot.
    Answer {
        answer_id: i64,
        question_id: i64,
        slot_id: i64,
        seq: i64,
    },
}

impl Placed {
    /// Where staff and the writer find it.
    fn link(self) -> String {
        match self {
            Placed::Post { post_id, .. } => format!("/p/{post_id}"),
            Placed::CafeMessage {
                message_id,
                room_id,
                ..
            } => format!("/cafe/{room_id}#m{message_id}"),
            Placed::Question { question_id, .. } => format!("/mod/qa-questions/{question_id}"),
            Placed::Answer {
                question_id,
                slot_id,
                ..
            } => format!("/qa/slots/{slot_id}#q{question_id}"),
        }
    }

    fn target(self) -> (TargetKind, i64) {
        match self {
            Placed::Post { post_id, .. } => (TargetKind::Post, post_id),
            Placed::CafeMessage { message_id, .. } => (TargetKind::CafeMessage, message_id),
            Placed::Question { question_id, .. } => (TargetKind::QaQuestion, question_id),
            Placed::Answer { question_id, .. } => (TargetKind::QaQuestion, question_id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Published,
    /// Stored, and waiting for a moderator before others see it.
    Held(HoldReason),
    /// An edit that changed nothing.
    Unchanged,
}

/// A draft that was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub placed: Placed,
    pub outcome: Outcome,
    /// It carried crisis words: the writer is shown where to find help, moderators were alerted.
    pub crisis: bool,
}

/// Stored (published, held or unchanged), or refused with the reason.
pub type Verdict = Result<Accepted, Refusal>;

/// How many of a member's first posts wait for review unless a coordinator set another number.
pub const DEFAULT_REVIEW_THRESHOLD: i64 = 3;

/// A draft's text checked for length and form.
struct Checked {
    title: Option<String>,
    body: Option<String>,
}

impl Checked {
    /// Everything screening reads.
    fn text(&self) -> String {
        [self.title.as_deref(), self.body.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn check(draft: &Draft<'_>) -> Result<Checked, Vec<DraftProblem>> {
    let (title, body) = match draft {
        Draft::Topic { title, body, .. } => (Some(rules::title(title)), Some(rules::body(body))),
        Draft::Reply { body, .. } => (None, Some(rules::body(body))),
        Draft::Edit { title, body, .. } => (title.map(rules::title), body.map(rules::body)),
        Draft::CafeMessage { body, .. } => (None, Some(cafe::rules::message(body))),
        Draft::Question { body, .. } => (None, Some(qa::rules::question(body))),
        Draft::Answer { body, .. } => (None, Some(qa::rules::answer(body))),
    };
    let problems: Vec<DraftProblem> = [&title, &body]
        .into_iter()
        .flatten()
        .filter_map(|checked| checked.as_ref().err().copied())
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Checked {
        title: title.and_then(Result::ok),
        body: body.and_then(Result::ok),
    })
}

/// Checks a draft and publishes, holds or refuses it (see the module's documentation).
pub async fn submit(app: &App, writer: &SessionUser, draft: Draft<'_>) -> AppResult<Verdict> {
    if let Some(until) = writer.silenced_at(db::now()) {
        return Ok(Err(Refusal::Silenced {
            until,
            reason: writer.silence_reason.clone(),
        }));
    }
    let checked = match check(&draft) {
        Ok(checked) => checked,
        Err(problems) => return Ok(Err(Refusal::Invalid(problems))),
    };
    let mut work = app.work().await?;
    let screening = safety::screen(work.exec(), &checked.text()).await?;
    if let Some(word) = screening.block.clone() {
        // Dropping the unit of work rolls back: nothing is stored.
        return Ok(Err(Refusal::WatchedWord { word }));
    }
    let (placed, outcome) = match draft {
        Draft::Topic { category_id, .. } => {
            new_post(
                &mut work,
                writer,
                &checked,
                &screening,
                Target::NewTopic(category_id),
            )
            .await?
        }
        Draft::Reply { topic_id, .. } => {
            let topic = db::forums::topic(work.exec(), viewer(writer), topic_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if topic.closed_at.is_some() {
                return Ok(Err(Refusal::Closed));
            }
            let target = Target::Reply {
                topic_id,
                category_id: topic.category_id,
            };
            new_post(&mut work, writer, &checked, &screening, target).await?
        }
        Draft::Edit { post, .. } => edit(&mut work, writer, &checked, &screening, post).await?,
        Draft::CafeMessage { room_id, .. } => {
            let now = work.now();
            let room = cafe::rules::RoomState::load(work.exec(), viewer(writer), room_id, now)
                .await?
                .ok_or(AppError::NotFound)?;
            if let Err(refusal) = cafe::rules::may_write(work.exec(), &room, writer, now).await? {
                return Ok(Err(refusal));
            }
            cafe_message(&mut work, writer, &checked, &screening, &room).await?
        }
        Draft::Question {
            slot_id,
            shared,
            anonymous,
            follows,
            ..
        } => {
            let now = work.now();
            let slot = db::qa::slot(work.exec(), slot_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let asked = match follows {
                Some(parent_id) => {
                    let parent = db::qa::question(work.exec(), parent_id)
                        .await?
                        .ok_or(AppError::NotFound)?;
                    if let Err(refusal) = qa::rules::may_follow_up(&slot, &parent, writer, now) {
                        return Ok(Err(refusal));
                    }
                    Asked::FollowUp(Box::new(parent))
                }
                None => {
                    let open = db::qa::open_questions_by(work.exec(), slot_id, writer.id).await?;
                    if let Err(refusal) = qa::rules::may_ask(&slot, open, now) {
                        return Ok(Err(refusal));
                    }
                    Asked::New { shared, anonymous }
                }
            };
            question(&mut work, writer, &checked, &screening, &slot, asked).await?
        }
        Draft::Answer { question_id, .. } => {
            let question = db::qa::question(work.exec(), question_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let slot = db::qa::slot(work.exec(), question.slot_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if let Err(refusal) = qa::rules::may_answer(&slot, &question, writer, work.now()) {
                return Ok(Err(refusal));
            }
            answer(&mut work, writer, &checked, &screening, &slot, &question).await?
        }
    };
    let crisis = screening.crisis && outcome != Outcome::Unchanged;
    if crisis {
        let (kind, id) = placed.target();
        safety::alert(
            &mut work,
            AlertCause::CrisisWords,
            kind,
            id,
            writer.id,
            &placed.link(),
        )
        .await?;
    }
    work.commit().await?;
    Ok(Ok(Accepted {
        placed,
        outcome,
        crisis,
    }))
}

enum Target {
    NewTopic(i64),
    Reply { topic_id: i64, category_id: i64 },
}

/// Whether a new post by `writer` waits for review, and why.
async fn hold_reason(
    work: &mut Work<'_>,
    writer: &SessionUser,
    screening: &Screening,
) -> AppResult<Option<HoldReason>> {
    if let Some(reason) = watched_hold(writer, screening) {
        return Ok(Some(reason));
    }
    if writer.role != Role::Member {
        return Ok(None);
    }
    let threshold = review_threshold(work);
    let published = db::forums::published_posts_by(work.exec(), writer.id).await?;
    Ok((published < threshold).then_some(HoldReason::FirstPosts))
}

/// Held for a watched word, unless the writer is staff: staff are trusted.
fn watched_hold(writer: &SessionUser, screening: &Screening) -> Option<HoldReason> {
    (screening.hold && !writer.role.is_staff()).then_some(HoldReason::WatchedWord)
}

/// The site's setting in force (see `admin::site`).
pub fn review_threshold(work: &Work<'_>) -> i64 {
    work.app().site.get().review_threshold
}

async fn new_post(
    work: &mut Work<'_>,
    writer: &SessionUser,
    checked: &Checked,
    screening: &Screening,
    target: Target,
) -> AppResult<(Placed, Outcome)> {
    let body = checked.body.as_deref().unwrap_or_default();
    let hold = hold_reason(work, writer, screening).await?;
    let status = if hold.is_some() {
        PostStatus::Held
    } else {
        PostStatus::Published
    };
    let app = work.app();
    let (linked, mentioned) = mentions::resolve(work.tx(), base(app), body).await?;
    let html = markdown::render(&linked);
    let now = work.now();
    let (topic_id, category_id, draft_place) = match target {
        Target::NewTopic(category_id) => {
            let title = checked.title.as_deref().unwrap_or_default();
            let topic_id =
                db::forums::insert_topic(work.exec(), category_id, writer.id, title, status, now)
                    .await?;
            (topic_id, category_id, Place::NewTopic(category_id))
        }
        Target::Reply {
            topic_id,
            category_id,
        } => (topic_id, category_id, Place::Reply(topic_id)),
    };
    let row = NewPostRow {
        topic_id,
        author_id: writer.id,
        markdown: body,
        html: &html,
        status,
        status_reason: hold.map_or("", HoldReason::as_str),
        flagged: screening.flag && !writer.role.is_staff(),
    };
    let post_id = db::forums::insert_post(work.exec(), &row, now).await?;
    db::search::index_post(work.exec(), post_id).await?;
    db::drafts::discard(work.exec(), writer.id, &draft_place.key()).await?;
    work.announce(Event::DraftsChanged { user_id: writer.id });
    let placed = Placed::Post { post_id, topic_id };
    let post = NewPost {
        author_id: writer.id,
        topic_id,
        category_id,
        post_id,
        mentioned: &mentioned,
    };
    if row.flagged {
        work.announce(Event::QueueChanged);
    }
    match hold {
        None => {
            publish(work, &post, matches!(target, Target::Reply { .. })).await?;
            tracing::info!(post = post_id, topic = topic_id, user = writer.id, "posted");
            Ok((placed, Outcome::Published))
        }
        Some(reason) => {
            // Its author and staff see it in the topic.
            work.announce(Event::PostChanged { post_id, topic_id });
            work.announce(Event::QueueChanged);
            tracing::info!(
                post = post_id,
                user = writer.id,
                reason = reason.as_str(),
                "held for review"
            );
            Ok((placed, Outcome::Held(reason)))
        }
    }
}

/// What publishing a post sets off, now or when it is approved: the topic moves up (for a
/// reply), the author follows the topic, followers and mentioned members are notified.
async fn publish(work: &mut Work<'_>, post: &NewPost<'_>, reply: bool) -> AppResult<()> {
    let now = work.now();
    if reply {
        db::forums::note_reply(work.exec(), post.topic_id, now).await?;
    }
    notify::after_post(work, post, now).await?;
    work.announce(Event::FollowsChanged {
        user_id: post.author_id,
    });
    work.announce(Event::PostPublished {
        post_id: post.post_id,
        topic_id: post.topic_id,
        author_id: post.author_id,
    });
    Ok(())
}

async fn edit(
    work: &mut Work<'_>,
    editor: &SessionUser,
    checked: &Checked,
    screening: &Screening,
    post: &PostRef,
) -> AppResult<(Placed, Outcome)> {
    let placed = Placed::Post {
        post_id: post.id,
        topic_id: post.topic_id,
    };
    let new_title = checked
        .title
        .as_deref()
        .filter(|title| *title != post.topic_title);
    let new_body = checked
        .body
        .as_deref()
        .filter(|body| *body != post.body_markdown);
    if new_title.is_none() && new_body.is_none() {
        return Ok((placed, Outcome::Unchanged));
    }
    let now = work.now();
    let by_staff = post.author_id != editor.id;
    let html = match new_body {
        // Mentions in an edited post link as in a new one; only new posts notify.
        Some(body) => {
            let app = work.app();
            let (linked, _) = mentions::resolve(work.tx(), base(app), body).await?;
            Some(markdown::render(&linked))
        }
        None => None,
    };
    db::forums::edit_post(
        work.exec(),
        post.id,
        editor.id,
        new_body.zip(html.as_deref()),
        now,
    )
    .await?;
    if let Some(title) = new_title {
        db::forums::rename_topic(work.exec(), post.topic_id, title).await?;
        work.announce(Event::TopicChanged {
            topic_id: post.topic_id,
        });
    }
    if by_staff {
        // Staff acting on a member's words: the member sees a note, the log says who.
        if new_body.is_some() {
            db::forums::note_moderator_edit(work.exec(), post.id, now).await?;
            work.log(
                LogRecord::new(
                    editor.id,
                    Action::PostEditedByModerator,
                    TargetKind::Post,
                    post.id,
                )
                .about(post.author_id),
            )
            .await?;
        }
        if new_title.is_some() {
            work.log(
                LogRecord::new(
                    editor.id,
                    Action::TopicRenamed,
                    TargetKind::Topic,
                    post.topic_id,
                )
                .about(post.author_id),
            )
            .await?;
        }
    }
    let mut outcome = Outcome::Published;
    if !editor.role.is_staff() {
        if screening.hold && post.status == PostStatus::Published {
            let reason = HoldReason::WatchedWord;
            db::forums::set_post_status(
                work.exec(),
                post.id,
                PostStatus::Held,
                reason.as_str(),
                now,
            )
            .await?;
            work.announce(Event::QueueChanged);
            outcome = Outcome::Held(reason);
        }
        if screening.flag {
            db::forums::set_flagged(work.exec(), post.id, Some(now)).await?;
            work.announce(Event::QueueChanged);
        }
    }
    db::search::index_post(work.exec(), post.id).await?;
    work.announce(Event::PostChanged {
        post_id: post.id,
        topic_id: post.topic_id,
    });
    if post.status == PostStatus::Held {
        outcome = Outcome::Held(HoldReason::WatchedWord);
    }
    Ok((placed, outcome))
}

/// A café message, written as the room's next change. A live conversation has no first-posts
/// review (the facilitator is there); a watched word holds it as it holds a post, and it reaches
/// the room once approved. Fan-out happens after the commit, from the bus.
async fn cafe_message(
    work: &mut Work<'_>,
    writer: &SessionUser,
    checked: &Checked,
    screening: &Screening,
    room: &cafe::rules::RoomState,
) -> AppResult<(Placed, Outcome)> {
    let hold = watched_hold(writer, screening);
    let room_id = room.room.id;
    let seq = db::cafe::next_seq(work.exec(), room_id).await?;
    let row = db::cafe::NewMessage {
        room_id,
        session_id: room.session.as_ref().map(|s| s.id),
        author_id: writer.id,
        body: checked.body.as_deref().unwrap_or_default(),
        status: if hold.is_some() { "held" } else { "published" },
        status_reason: hold.map_or("", HoldReason::as_str),
        flagged: screening.flag && !writer.role.is_staff(),
        seq,
    };
    let now = work.now();
    let message_id = db::cafe::insert_message(work.exec(), &row, now).await?;
    work.announce(Event::CafeMessages { room_id });
    if hold.is_some() || row.flagged {
        work.announce(Event::QueueChanged);
    }
    let placed = Placed::CafeMessage {
        message_id,
        room_id,
        seq,
    };
    let outcome = hold.map_or(Outcome::Published, Outcome::Held);
    Ok((placed, outcome))
}

/// A question to a slot, new or following up on the asker's accepted one.
enum Asked {
    New { shared: bool, anonymous: bool },
    FollowUp(Box<db::qa::QuestionRef>),
}

/// A question waits for moderators' screening (a watched word marks it held: staff look at it
/// before anything else); a follow-up during the slot goes to the expert at once unless held.
/// Either way it never reaches the expert before it is accepted.
async fn question(
    work: &mut Work<'_>,
    writer: &SessionUser,
    checked: &Checked,
    screening: &Screening,
    slot: &db::qa::SlotRow,
    asked: Asked,
) -> AppResult<(Placed, Outcome)> {
    let hold = watched_hold(writer, screening);
    let (parent_id, shared, anonymous) = match &asked {
        Asked::New { shared, anonymous } => (None, *shared, *anonymous),
        Asked::FollowUp(parent) => (Some(parent.id), parent.shared, parent.anonymous),
    };
    let status = if parent_id.is_some() && hold.is_none() {
        "accepted"
    } else {
        "pending"
    };
    let row = db::qa::NewQuestion {
        slot_id: slot.id,
        asker_id: writer.id,
        parent_id,
        body: checked.body.as_deref().unwrap_or_default(),
        shared,
        anonymous,
        status,
        held: hold.is_some(),
        flagged: screening.flag && !writer.role.is_staff(),
    };
    let now = work.now();
    let question_id = db::qa::insert_question(work.exec(), &row, now).await?;
    work.announce(Event::QueueChanged);
    tracing::info!(question = question_id, slot = slot.id, "question asked");
    let placed = Placed::Question {
        question_id,
        slot_id: slot.id,
    };
    Ok((placed, hold.map_or(Outcome::Published, Outcome::Held)))
}

/// The expert's answer, published as the slot's next change (held instead when it carries a
/// watched word: a moderator approves it). The askers hear of it when others can read it.
async fn answer(
    work: &mut Work<'_>,
    expert: &SessionUser,
    checked: &Checked,
    screening: &Screening,
    slot: &db::qa::SlotRow,
    question: &db::qa::QuestionRef,
) -> AppResult<(Placed, Outcome)> {
    let body = checked.body.as_deref().unwrap_or_default();
    let hold = watched_hold(expert, screening);
    let before = db::qa::answer_to(work.exec(), question.id).await?;
    let was_published = before.is_some_and(|a| a.status == "published");
    let seq = db::qa::next_seq(work.exec(), slot.id).await?;
    let synonyms = db::search::synonyms(work.exec()).await?;
    let search_text = db::qa::search_text(&question.body, body, &synonyms);
    let html = markdown::render(body);
    let row = db::qa::AnswerWrite {
        question_id: question.id,
        slot_id: slot.id,
        expert_id: expert.id,
        markdown: body,
        html: &html,
        status: if hold.is_some() { "held" } else { "published" },
        status_reason: hold.map_or("", HoldReason::as_str),
        flagged: screening.flag,
        search_text: &search_text,
        seq: Some(seq),
    };
    let now = work.now();
    let answer_id = db::qa::write_answer(work.exec(), &row, now).await?;
    work.announce(Event::QaSlot { slot_id: slot.id });
    if hold.is_some() || screening.flag {
        work.announce(Event::QueueChanged);
    }
    if hold.is_none() && !was_published {
        qa::service::tell_askers(work, slot, question.id).await?;
    }
    let placed = Placed::Answer {
        answer_id,
        question_id: question.id,
        slot_id: slot.id,
        seq,
    };
    Ok((placed, hold.map_or(Outcome::Published, Outcome::Held)))
}

/// Publishes a held post (a moderator's approval, in the moderator's unit of work): it takes the
/// steps a post published at once takes, with the mentions its text holds now.
pub async fn approve(work: &mut Work<'_>, post_id: i64) -> AppResult<()> {
    let held = db::forums::held_post(work.exec(), post_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = work.now();
    db::forums::set_post_status(work.exec(), post_id, PostStatus::Published, "", now).await?;
    let app = work.app();
    let (_, mentioned) = mentions::resolve(work.tx(), base(app), &held.body_markdown).await?;
    let post = NewPost {
        author_id: held.author_id,
        topic_id: held.topic_id,
        category_id: held.category_id,
        post_id,
        mentioned: &mentioned,
    };
    publish(work, &post, !held.opens_topic).await?;
    db::search::index_post(work.exec(), post_id).await?;
    work.announce(Event::QueueChanged);
    Ok(())
}

fn base(app: &App) -> &str {
    app.config.base_url.as_str().trim_end_matches('/')
}
