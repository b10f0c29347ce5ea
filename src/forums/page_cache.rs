//! A topic page from memory. What a page shows splits in two:
//!
//! - what every reader of one kind sees alike (same rank, relation, staff or not, language): the
//!   topic, how many posts it shows, and each page's posts with their authors, badges, times and
//!   reactions. It is read through the visibility rules of `db::forums` as read by no one in
//!   particular; when the topic holds content shown to its author alone (a held topic or post),
//!   that reader's page is read and kept as theirs instead (see
//!   [`db::forums::holds_authors_own`]);
//! - what is one reader's own: their draft reply, whether they follow the topic, how far they
//!   have read it (written; what is noted is in `ReadMarks`), whom they block.
//!
//! Both are kept on SQLite (one process owns the database, so it sees every change) in bounded
//! caches, and follow the event bus: a post written, changed or reacted to, a topic changed,
//! retire that topic's pages; a member changed (a name, a role) or the categories retire every
//! page; a member's draft, follows or reading retire what is theirs; a block retires every
//! reader's part. The generation of what an entry depends on is read before its queries, so a
//! change committed meanwhile retires the entry it stores. Entries also expire after a minute
//! as a safety net. On PostgreSQL several instances write, so nothing is kept and every view
//! reads the same queries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::admin::site::SiteSettings;
use crate::db::drafts::Draft;
use crate::db::forums::{PostRow, Topic, Viewer};
use crate::db::notifications::Followed;
use crate::db::reactions::ReactionRow;
use crate::db::users::SessionUser;
use crate::db::{self, Db, Reader};
use crate::error::AppResult;
use crate::events::{Event, EventBus};
use crate::forums::drafts::{self, Place};
use crate::forums::social::REACTIONS;
use crate::forums::topics::status_note;
use crate::forums::{POSTS_PER_PAGE, notify, viewer};
use crate::i18n::{Locale, Tr};
use crate::web::badge::Badge;
use crate::web::layout::local_time;

/// The member id of no one: ids start at 1, so no content is theirs.
const NO_ONE: i64 = 0;
/// Pages' posts kept, in bytes of text, at most.
const PAGE_BYTES: u64 = 32 * 1024 * 1024;
/// Topic heads kept at most (a few hundred bytes each).
const ENTRIES: u64 = 20_000;
/// Readers' parts kept, in bytes, at most: a draft reply can be a post's length.
const PART_BYTES: u64 = 16 * 1024 * 1024;
/// Topics and members whose generation is tracked at most; past that, every entry is retired
/// and tracking starts again.
const TRACKED: usize = 100_000;
const SAFETY_NET: Duration = Duration::from_secs(60);

/// Who a page is read for: the visibility rules' inputs, and the language its words are in.
/// `reader` is `None` for the page every reader of this kind sees alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Kind {
    rank: i64,
    relation: &'static str,
    staff: bool,
    locale: Locale,
    reader: Option<i64>,
}

impl Kind {
    fn of(viewer: Viewer, reader: Option<i64>) -> Kind {
        Kind {
            rank: viewer.rank,
            relation: viewer.relation,
            staff: viewer.staff,
            locale: viewer.locale,
            reader,
        }
    }

    fn viewer(self) -> Viewer {
        Viewer {
            id: self.reader.unwrap_or(NO_ONE),
            rank: self.rank,
            relation: self.relation,
            staff: self.staff,
            locale: self.locale,
        }
    }
}

/// A topic as a kind of reader sees it.
pub struct Head {
    /// `None` when they may not see it.
    pub topic: Option<Topic>,
    /// Posts shown on its pages.
    pub posts: i64,
    /// It holds content shown to its author alone: read it for the reader instead.
    authors_own: bool,
}

/// One reaction kind under a post: its label and who gave it.
pub struct SharedReaction {
    pub kind: &'static str,
    pub label: Arc<str>,
    pub by: Vec<i64>,
}

/// A post as every reader of a kind sees it, before what is the reader's own.
pub struct SharedPost {
    pub row: PostRow,
    pub time: String,
    pub badge: Option<Badge>,
    /// Why it waits or was hidden, for those who may read why (see `forums::topics`).
    pub status_note: Option<String>,
    pub reactions: Vec<SharedReaction>,
    /// "ありがとう: はな、たろう", one line per kind given.
    pub who: Arc<[String]>,
    /// The post rendered as readers who are not its author see it, split where the reader's form
    /// token goes: one for each variant of what differs between them (see `forums::topics`).
    fragments: Mutex<Vec<(u32, Fragment)>>,
}

/// A rendered post in pieces, the reader's form token to go between each two.
pub type Fragment = Arc<[String]>;

/// Variants of a post's fragment kept at most (whether it is new to the reader, which
/// reactions are theirs); readers in other variants render it themselves.
const VARIANTS: usize = 4;

impl SharedPost {
    /// The fragment rendered for variant `key`, if one is kept.
    pub fn fragment(&self, key: u32) -> Option<Fragment> {
        let kept = self.fragments.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone())
    }

    /// Keeps the fragment rendered for variant `key`, while there is room.
    pub fn keep_fragment(&self, key: u32, fragment: Fragment) {
        let mut kept = self.fragments.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < VARIANTS && kept.iter().all(|(k, _)| *k != key) {
            kept.push((key, fragment));
        }
    }

    fn weight(&self) -> usize {
        let row = &self.row;
        row.body_html.len()
            + row.author_name.len()
            + row.status_reason.len()
            + self.time.len()
            + self.who.iter().map(String::len).sum::<usize>()
            + self.reactions.iter().map(|r| r.by.len() * 8).sum::<usize>()
            // Room for a rendered fragment: the text again, and the markup around it.
            + row.body_html.len()
            + 2048
            + 256
    }
}

/// What a topic page shows that is one reader's own.
pub struct ReaderPart {
    pub draft: Option<Draft>,
    pub following: bool,
    /// The last post read, as written (what is noted and not yet written is in `ReadMarks`).
    pub last_read: Option<i64>,
    pub blocked: Vec<i64>,
}

impl ReaderPart {
    fn weight(&self) -> usize {
        let draft = self
            .draft
            .as_ref()
            .map_or(0, |d| d.title.len() + d.body.len());
        draft + self.blocked.len() * 8 + 128
    }
}

/// Generations of what entries depend on: one for everything, one per id. An entry stores the
/// stamp read before its queries and is used only while the stamp is unchanged.
#[derive(Default)]
struct Generations(Mutex<Stamps>);

#[derive(Default)]
struct Stamps {
    all: u64,
    next: u64,
    by_id: HashMap<i64, u64>,
}

type Stamp = (u64, u64);

impl Generations {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stamps> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stamp(&self, id: i64) -> Stamp {
        let stamps = self.lock();
        (stamps.all, stamps.by_id.get(&id).copied().unwrap_or(0))
    }

    fn retire(&self, id: i64) {
        let mut stamps = self.lock();
        stamps.next += 1;
        let next = stamps.next;
        stamps.by_id.insert(id, next);
        if stamps.by_id.len() > TRACKED {
            stamps.by_id.clear();
            stamps.all += 1;
        }
    }

    fn retire_all(&self) {
        self.lock().all += 1;
    }
}

/// A page's posts, with the stamp they were read under.
type KeptPosts = (Stamp, Arc<Vec<SharedPost>>);

struct Inner {
    topics: Generations,
    readers: Generations,
    heads: moka::sync::Cache<(i64, Kind), (Stamp, Arc<Head>)>,
    pages: moka::sync::Cache<(i64, Kind, i64), KeptPosts>,
    parts: moka::sync::Cache<(i64, i64), (Stamp, Arc<ReaderPart>)>,
}

/// What a page view of a topic reads: see the module's documentation.
#[derive(Clone)]
pub struct TopicPages(Option<Arc<Inner>>);

/// One page of a topic for one reader: the topic, which page of how many, its posts.
pub struct TopicPage {
    pub head: Arc<Head>,
    pub page: i64,
    pub pages: i64,
    pub posts: Arc<Vec<SharedPost>>,
}

impl TopicPages {
    pub fn for_db(db: &Db) -> TopicPages {
        match db.dialect() {
            db::Dialect::Sqlite => TopicPages(Some(Arc::new(Inner {
                topics: Generations::default(),
                readers: Generations::default(),
                heads: moka::sync::Cache::builder()
                    .max_capacity(ENTRIES)
                    .time_to_live(SAFETY_NET)
                    .build(),
                pages: moka::sync::Cache::builder()
                    .max_capacity(PAGE_BYTES)
                    .weigher(|_, (_, posts): &KeptPosts| {
                        let bytes: usize = posts.iter().map(SharedPost::weight).sum();
                        u32::try_from(bytes).unwrap_or(u32::MAX)
                    })
                    .time_to_live(SAFETY_NET)
                    .build(),
                parts: moka::sync::Cache::builder()
                    .max_capacity(PART_BYTES)
                    .weigher(|_, (_, part): &(Stamp, Arc<ReaderPart>)| {
                        u32::try_from(part.weight()).unwrap_or(u32::MAX)
                    })
                    .time_to_live(SAFETY_NET)
                    .build(),
            }))),
            db::Dialect::Postgres => TopicPages(None),
        }
    }

    /// Page `page` (clamped to the pages there are) of topic `id` as `user` may see it; `None`
    /// when they may not see the topic.
    pub async fn page(
        &self,
        reader: &mut Reader<'_>,
        site: &SiteSettings,
        user: &SessionUser,
        id: i64,
        page: Option<i64>,
    ) -> AppResult<Option<TopicPage>> {
        let viewer = viewer(user);
        let own = Kind::of(viewer, Some(user.id));
        let (kind, head) = match &self.0 {
            // Without a cache, the reader's own page is read as it is.
            None => (own, self.head(reader, id, own).await?),
            Some(_) => {
                let shared = Kind::of(viewer, None);
                let head = self.head(reader, id, shared).await?;
                if head.authors_own {
                    (own, self.head(reader, id, own).await?)
                } else {
                    (shared, head)
                }
            }
        };
        let Some(topic) = &head.topic else {
            return Ok(None);
        };
        let pages = crate::web::layout::pages_for(head.posts, POSTS_PER_PAGE);
        let page = page.unwrap_or(1).clamp(1, pages);
        let posts = self.posts(reader, site, topic.id, kind, page).await?;
        Ok(Some(TopicPage {
            head,
            page,
            pages,
            posts,
        }))
    }

    async fn head(&self, reader: &mut Reader<'_>, id: i64, kind: Kind) -> AppResult<Arc<Head>> {
        let stamp = self.0.as_ref().map(|inner| inner.topics.stamp(id));
        if let (Some(inner), Some(stamp)) = (&self.0, stamp)
            && let Some((at, head)) = inner.heads.get(&(id, kind))
            && at == stamp
        {
            return Ok(head);
        }
        let viewer = kind.viewer();
        let topic = db::forums::topic(reader.exec().await?, viewer, id).await?;
        let posts = match topic {
            Some(_) => db::forums::count_posts(reader.exec().await?, viewer, id).await?,
            None => 0,
        };
        // Staff see every held post whoever reads, so their pages are always shared.
        let authors_own = kind.reader.is_none()
            && !kind.staff
            && db::forums::holds_authors_own(reader.exec().await?, id).await?;
        let head = Arc::new(Head {
            topic,
            posts,
            authors_own,
        });
        // Unknown ids are not kept: asking for them cannot crowd the topics out.
        if let (Some(inner), Some(stamp)) = (&self.0, stamp)
            && (head.topic.is_some() || head.authors_own)
        {
            inner.heads.insert((id, kind), (stamp, head.clone()));
        }
        Ok(head)
    }

    async fn posts(
        &self,
        reader: &mut Reader<'_>,
        site: &SiteSettings,
        id: i64,
        kind: Kind,
        page: i64,
    ) -> AppResult<Arc<Vec<SharedPost>>> {
        let stamp = self.0.as_ref().map(|inner| inner.topics.stamp(id));
        if let (Some(inner), Some(stamp)) = (&self.0, stamp)
            && let Some((at, posts)) = inner.pages.get(&(id, kind, page))
            && at == stamp
        {
            return Ok(posts);
        }
        let viewer = kind.viewer();
        let offset = (page - 1) * POSTS_PER_PAGE;
        let rows =
            db::forums::posts_in(reader.exec().await?, viewer, id, POSTS_PER_PAGE, offset).await?;
        let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
        let reactions = db::reactions::on_posts(reader.exec().await?, &ids).await?;
        let t = kind.locale.tr();
        let posts = Arc::new(
            rows.into_iter()
                .map(|row| shared_post(t, site, row, &reactions))
                .collect::<Vec<_>>(),
        );
        if let (Some(inner), Some(stamp)) = (&self.0, stamp) {
            inner.pages.insert((id, kind, page), (stamp, posts.clone()));
        }
        Ok(posts)
    }

    /// What topic `id`'s page shows that is `user`'s own.
    pub async fn reader_part(
        &self,
        reader: &mut Reader<'_>,
        user: &SessionUser,
        id: i64,
    ) -> AppResult<Arc<ReaderPart>> {
        let stamp = self.0.as_ref().map(|inner| inner.readers.stamp(user.id));
        if let (Some(inner), Some(stamp)) = (&self.0, stamp)
            && let Some((at, part)) = inner.parts.get(&(user.id, id))
            && at == stamp
        {
            return Ok(part);
        }
        let part = Arc::new(ReaderPart {
            draft: drafts::load(reader.exec().await?, user, Place::Reply(id)).await?,
            following: notify::following(reader.exec().await?, user.id, Followed::Topic(id))
                .await?,
            last_read: db::reads::last_read(reader.exec().await?, user.id, id).await?,
            blocked: db::blocks::blocked_ids(reader.exec().await?, user.id).await?,
        });
        if let (Some(inner), Some(stamp)) = (&self.0, stamp) {
            inner.parts.insert((user.id, id), (stamp, part.clone()));
        }
        Ok(part)
    }

    /// Retires entries when the bus says what they show changed.
    pub fn listen_to(&self, bus: &EventBus) {
        let Some(inner) = self.0.clone() else {
            return;
        };
        bus.listen(move |event| match event {
            Event::PostPublished { topic_id, .. }
            | Event::PostChanged { topic_id, .. }
            | Event::TopicChanged { topic_id }
            | Event::ReactionsChanged { topic_id } => inner.topics.retire(*topic_id),
            // Names and badges of authors and of those who reacted; who may see which category.
            // ... and the times of posts, in the site's time zone.
            Event::MemberChanged { .. } | Event::CategoriesChanged | Event::SettingsChanged => {
                inner.topics.retire_all()
            }
            Event::TopicRead { user_id }
            | Event::DraftsChanged { user_id }
            | Event::FollowsChanged { user_id } => inner.readers.retire(*user_id),
            Event::BlocksChanged => inner.readers.retire_all(),
            Event::AnnouncementsChanged
            | Event::NoticesChanged { .. }
            | Event::QueueChanged
            | Event::MailQueued
            | Event::CafeMessages { .. }
            | Event::CafeSession { .. }
            | Event::CafeRoomsChanged
            | Event::QaSlot { .. } => {}
        });
    }
}

/// A post with what every reader of `t`'s language sees around it.
fn shared_post(t: Tr, site: &SiteSettings, row: PostRow, reactions: &[ReactionRow]) -> SharedPost {
    let separator = t.s("social.name_separator");
    let mut shared = Vec::new();
    let mut who = Vec::new();
    if row.deleted_at.is_none() {
        for (kind, key) in REACTIONS {
            let given: Vec<&ReactionRow> = reactions
                .iter()
                .filter(|r| r.post_id == row.id && r.kind == kind)
                .collect();
            let label = t.s(key).into_owned();
            if !given.is_empty() {
                let names: Vec<&str> = given.iter().map(|r| r.display_name.as_str()).collect();
                who.push(t.f(
                    "social.who_line",
                    &[("kind", &label), ("names", &names.join(&separator))],
                ));
            }
            shared.push(SharedReaction {
                kind,
                label: label.into(),
                by: given.iter().map(|r| r.user_id).collect(),
            });
        }
    }
    SharedPost {
        time: local_time(site, row.created_at),
        badge: Badge::for_role(t, row.author_role),
        status_note: status_note(t, row.status, &row.status_reason),
        reactions: shared,
        who: who.into(),
        row,
        fragments: Mutex::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retired_id_or_everything_changes_the_stamp_and_overflow_retires_all() {
        let generations = Generations::default();
        let (one, two) = (generations.stamp(1), generations.stamp(2));
        generations.retire(1);
        assert_ne!(generations.stamp(1), one, "topic 1 changed");
        assert_eq!(generations.stamp(2), two, "topic 2 did not");
        let (one, two) = (generations.stamp(1), generations.stamp(2));
        generations.retire_all();
        assert_ne!(generations.stamp(1), one);
        assert_ne!(generations.stamp(2), two);
        // Past the ids tracked, forgetting them must not bring an old stamp back.
        let kept = generations.stamp(1);
        for id in 0..=i64::try_from(TRACKED).unwrap_or(i64::MAX) {
            generations.retire(id + 10);
        }
        assert_ne!(generations.stamp(1), kept);
        assert!(generations.lock().by_id.len() <= TRACKED);
    }
}
