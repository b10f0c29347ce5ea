//! Words that moderators watch for, crisis words, and urgent alerts.

pub use super::UnknownValue;

/// What a watched word does to a post that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchAction {
    /// Refused with a clear message; nothing is stored.
    Block,
    /// Waits in the review queue.
    Hold,
    /// Published, and marked in the queue for a moderator to look at.
    Flag,
}

text_enum!(WatchAction {
    Block => "block",
    Hold => "hold",
    Flag => "flag",
});

/// Why an urgent alert was raised. Stored in `alerts.cause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertCause {
    /// The content carried crisis words.
    CrisisWords,
    /// A member reported it as "worried about this person".
    WorriedReport,
}

text_enum!(AlertCause {
    CrisisWords => "crisis_words",
    WorriedReport => "worried_report",
});

/// The two lists of words content is screened against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordList {
    /// Moderators' watched words, each with a [`WatchAction`].
    Watched,
    /// Crisis expressions, kept by coordinators: never block, always alert.
    Crisis,
}
