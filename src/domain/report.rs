//! Members' reports on content: why they report, and how moderators resolved them.

pub use super::UnknownValue;

/// Why a member reports something. Stored in `reports.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportReason {
    Harassment,
    Misinformation,
    Advertising,
    PrivateInformation,
    /// The member is worried about the writer: urgent, like crisis words.
    Worried,
    /// Anything else; the member must say what.
    Other,
}

text_enum!(ReportReason {
    Harassment => "harassment",
    Misinformation => "misinformation",
    Advertising => "advertising",
    PrivateInformation => "private_information",
    Worried => "worried",
    Other => "other",
});

/// What a moderator did with the reports on an item. Stored in `reports.resolution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The content was hidden, with a reason its author sees.
    Hidden,
    /// Looked at and left as it is.
    Dismissed,
    /// The moderator goes on to act on the member (silence, suspend) on the member's page.
    MemberAction,
}

text_enum!(Resolution {
    Hidden => "hidden",
    Dismissed => "dismissed",
    MemberAction => "member_action",
});
