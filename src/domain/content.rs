//! What content is, whatever its kind: its status as moderation sees it.

use serde::{Deserialize, Serialize};

pub use super::UnknownValue;

/// Published for everyone who may read it; held for review (seen by its author and staff); or
/// hidden by a moderator (its place kept, its text gone for everyone but its author and staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PostStatus {
    Published,
    Held,
    Hidden,
}

text_enum!(PostStatus { Published => "published", Held => "held", Hidden => "hidden" });

/// Why a post waits for review: the reason code stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// One of a new member's first posts.
    FirstPosts,
    /// It carries a watched word whose action is "hold".
    WatchedWord,
}

text_enum!(HoldReason { FirstPosts => "first_posts", WatchedWord => "watched_word" });
