//! The typed log: every moderator and coordinator action, and every view of a real e-mail
//! address, as columns a page can filter. Written in the action's own transaction (see
//! `work::Work::log`); nobody can change or delete a row (triggers refuse it).

use serde::{Deserialize, Serialize};

pub use super::UnknownValue;

/// What was done. Stored as the text after `=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    InvitationCreated,
    InvitationResent,
    InvitationRevoked,
    InvitationViewed,
    InvitationsViewed,
    InvitationAccepted,
    PasswordReset,
    PasswordChanged,
    EmailChanged,
    NameChanged,
    AnnouncementPosted,
    AnnouncementArchived,
    CategoryCreated,
    CategoryEdited,
    CategoryMovedUp,
    CategoryMovedDown,
    CategoryArchived,
    CategoryRestored,
    SearchTermsAdded,
    SearchTermsRemoved,
    TopicRenamed,
    TopicPinned,
    TopicUnpinned,
    TopicClosed,
    TopicReopened,
    PostApproved,
    PostHidden,
    PostRestored,
    PostEditedByModerator,
    MemberSilenced,
    MemberUnsilenced,
    MemberSuspended,
    MemberUnsuspended,
    MemberRoleChanged,
    MemberRelationChanged,
    MemberDeactivated,
    MemberReactivated,
    /// A member deleted their own account (logged with their id only).
    AccountDeleted,
    /// A member downloaded the export of their own data (logged with their id only).
    DataExported,
    ReportResolved,
    AlertAcknowledged,
    WatchedWordAdded,
    WatchedWordRemoved,
    CrisisWordAdded,
    CrisisWordRemoved,
    SupportPageEdited,
    SettingChanged,
    NoteAdded,
    EmailViewed,
    CafeMessageRemoved,
    CafeMessageApproved,
    CafeMemberMuted,
    CafeSlowModeSet,
    CafePaused,
    CafeResumed,
    CafeRoomCreated,
    CafeRoomEdited,
    CafeRoomMovedUp,
    CafeRoomMovedDown,
    CafeRoomArchived,
    CafeRoomRestored,
    CafeSessionScheduled,
    CafeSessionEdited,
    CafeSessionCancelled,
    ExpertProfileEdited,
    QaSlotCreated,
    QaSlotEdited,
    QaSlotCancelled,
    QaQuestionAccepted,
    QaQuestionDeclined,
    QaQuestionRedacted,
    QaQuestionMerged,
    QaQuestionHidden,
    QaFlagCleared,
    QaAnswerApproved,
    QaAnswerHidden,
    /// The funders' statistics downloaded as CSV (the reason holds the range of months).
    StatsExported,
}

text_enum!(Action {
    InvitationCreated => "invitation.created",
    InvitationResent => "invitation.resent",
    InvitationRevoked => "invitation.revoked",
    InvitationViewed => "invitation.viewed",
    InvitationsViewed => "invitations.viewed",
    InvitationAccepted => "invitation.accepted",
    PasswordReset => "password.reset",
    PasswordChanged => "password.changed",
    EmailChanged => "email.changed",
    NameChanged => "account.name_changed",
    AnnouncementPosted => "announcement.posted",
    AnnouncementArchived => "announcement.archived",
    CategoryCreated => "category.created",
    CategoryEdited => "category.edited",
    CategoryMovedUp => "category.moved_up",
    CategoryMovedDown => "category.moved_down",
    CategoryArchived => "category.archived",
    CategoryRestored => "category.restored",
    SearchTermsAdded => "search_terms.added",
    SearchTermsRemoved => "search_terms.removed",
    TopicRenamed => "topic.renamed",
    TopicPinned => "topic.pinned",
    TopicUnpinned => "topic.unpinned",
    TopicClosed => "topic.closed",
    TopicReopened => "topic.reopened",
    PostApproved => "post.approved",
    PostHidden => "post.hidden",
    PostRestored => "post.restored",
    PostEditedByModerator => "post.edited_by_moderator",
    MemberSilenced => "member.silenced",
    MemberUnsilenced => "member.unsilenced",
    MemberSuspended => "member.suspended",
    MemberUnsuspended => "member.unsuspended",
    MemberRoleChanged => "member.role_changed",
    MemberRelationChanged => "member.relation_changed",
    MemberDeactivated => "member.deactivated",
    MemberReactivated => "member.reactivated",
    AccountDeleted => "account.deleted",
    DataExported => "account.exported",
    ReportResolved => "report.resolved",
    AlertAcknowledged => "alert.acknowledged",
    WatchedWordAdded => "watched_word.added",
    WatchedWordRemoved => "watched_word.removed",
    CrisisWordAdded => "crisis_word.added",
    CrisisWordRemoved => "crisis_word.removed",
    SupportPageEdited => "support_page.edited",
    SettingChanged => "setting.changed",
    NoteAdded => "note.added",
    EmailViewed => "email.viewed",
    CafeMessageRemoved => "cafe_message.removed",
    CafeMessageApproved => "cafe_message.approved",
    CafeMemberMuted => "cafe.member_muted",
    CafeSlowModeSet => "cafe.slow_mode_set",
    CafePaused => "cafe.paused",
    CafeResumed => "cafe.resumed",
    CafeRoomCreated => "cafe_room.created",
    CafeRoomEdited => "cafe_room.edited",
    CafeRoomMovedUp => "cafe_room.moved_up",
    CafeRoomMovedDown => "cafe_room.moved_down",
    CafeRoomArchived => "cafe_room.archived",
    CafeRoomRestored => "cafe_room.restored",
    CafeSessionScheduled => "cafe_session.scheduled",
    CafeSessionEdited => "cafe_session.edited",
    CafeSessionCancelled => "cafe_session.cancelled",
    ExpertProfileEdited => "expert_profile.edited",
    QaSlotCreated => "qa_slot.created",
    QaSlotEdited => "qa_slot.edited",
    QaSlotCancelled => "qa_slot.cancelled",
    QaQuestionAccepted => "qa_question.accepted",
    QaQuestionDeclined => "qa_question.declined",
    QaQuestionRedacted => "qa_question.redacted",
    QaQuestionMerged => "qa_question.merged",
    QaQuestionHidden => "qa_question.hidden",
    QaFlagCleared => "qa.flag_cleared",
    QaAnswerApproved => "qa_answer.approved",
    QaAnswerHidden => "qa_answer.hidden",
    StatsExported => "stats.exported",
});

/// The kind of thing acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    Member,
    Invitation,
    /// A page of the invitation list (the id is the page number).
    InvitationList,
    Announcement,
    Category,
    SearchTerms,
    Topic,
    Post,
    Report,
    Alert,
    WatchedWord,
    CrisisWord,
    Setting,
    CafeMessage,
    CafeSession,
    CafeRoom,
    /// Sessions made from one rule, scheduled or cancelled together.
    CafeSeries,
    /// An expert Q&A slot.
    QaSlot,
    /// A question and its answer, together.
    QaQuestion,
    /// The funders' statistics (no id: the reason holds the range).
    Statistics,
}

text_enum!(TargetKind {
    Member => "member",
    Invitation => "invitation",
    InvitationList => "invitation_list",
    Announcement => "announcement",
    Category => "category",
    SearchTerms => "search_terms",
    Topic => "topic",
    Post => "post",
    Report => "report",
    Alert => "alert",
    WatchedWord => "watched_word",
    CrisisWord => "crisis_word",
    Setting => "setting",
    CafeMessage => "cafe_message",
    CafeSession => "cafe_session",
    CafeRoom => "cafe_room",
    CafeSeries => "cafe_series",
    QaSlot => "qa_slot",
    QaQuestion => "qa_question",
    Statistics => "statistics",
});

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Who acted; `None` for the command line.
    pub actor_id: Option<i64>,
    pub action: Action,
    pub target_kind: TargetKind,
    pub target_id: Option<i64>,
    /// The member the action concerns, when there is one (the author of a hidden post, say).
    pub subject_user_id: Option<i64>,
    /// Why, in the actor's words, or what changed; may be empty.
    pub reason: String,
}

impl LogRecord {
    /// `actor` did `action` to `target_kind` number `target_id`.
    pub fn new(actor: i64, action: Action, target_kind: TargetKind, target_id: i64) -> LogRecord {
        LogRecord {
            actor_id: Some(actor),
            action,
            target_kind,
            target_id: Some(target_id),
            subject_user_id: None,
            reason: String::new(),
        }
    }

    pub fn about(mut self, member: i64) -> LogRecord {
        self.subject_user_id = Some(member);
        self
    }

    pub fn because(mut self, reason: impl Into<String>) -> LogRecord {
        self.reason = reason.into();
        self
    }
}
