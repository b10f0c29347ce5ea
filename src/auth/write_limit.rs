//! How much each member may write in a short time, one limit per kind of write: governor's keyed
//! GCRA limiters keyed on the member's id, in each instance's memory like the login limits
//! ([`super::rate_limit`]). The limits sit far above what a person writes, even in a lively topic;
//! they stop a member, or a script holding a member's session, from writing hundreds of posts a
//! minute. Staff get more room, never unlimited.
//!
//! Every write path calls [`WriteLimits::check`] once with its kind, after its form is read; a
//! refusal becomes the "please wait" page (`web::limits`), which says what was limited, when
//! writing works again, and offers back what was written.
//!
//! The same check refuses a silenced member's writes that others would see (see
//! [`WriteKind::stopped_by_silence`]), with the moderator's reason and the end of the silence.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::db::users::SessionUser;
use crate::error::AppError;

/// The kinds of write, each with its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Topic,
    Reply,
    Edit,
    Reaction,
    Preview,
    Draft,
    /// A moderator's action: in the queue (approve, hide, restore, acknowledge) or on a
    /// member (silence, suspend, lift, a staff note).
    Moderate,
    /// Staff changing what the site screens for or shows (watched and crisis words, the
    /// support page), and members' own preferences that others see (presence in the café).
    Setting,
    /// A member reporting content to the moderators (allowed while silenced).
    Report,
    /// A member asking for a café session's e-mail reminder, or stopping it (private: allowed
    /// while silenced).
    Reminder,
    /// A message in a café room.
    CafeMessage,
    /// A member's own notification settings, following and unfollowing, and marking their
    /// notifications read (private: allowed while silenced).
    Notice,
    /// A question to an expert, or a follow-up.
    Question,
    /// An expert publishing or changing an answer.
    Answer,
    /// A coordinator downloading figures (the funders' statistics as CSV), or a member asking
    /// for and downloading their own data (private: allowed while silenced).
    Export,
    /// An expert offering or changing a Q&A slot, or their public profile: what members read.
    Slot,
    /// A member changing their own account: display name, password (each an argon2 hash), e-mail
    /// address (each a confirmation mail), language and text size (private: allowed while
    /// silenced).
    Account,
    /// A member deleting their own post (allowed while silenced: taking back what one wrote).
    Withdraw,
}

/// Staff (moderators and coordinators) may write this many times as much as a member.
const STAFF_FACTOR: u32 = 3;

impl WriteKind {
    pub const ALL: [WriteKind; 18] = [
        WriteKind::Topic,
        WriteKind::Reply,
        WriteKind::Edit,
        WriteKind::Reaction,
        WriteKind::Preview,
        WriteKind::Draft,
        WriteKind::Moderate,
        WriteKind::Setting,
        WriteKind::Report,
        WriteKind::Reminder,
        WriteKind::CafeMessage,
        WriteKind::Notice,
        WriteKind::Question,
        WriteKind::Answer,
        WriteKind::Export,
        WriteKind::Slot,
        WriteKind::Account,
        WriteKind::Withdraw,
    ];

    /// Whether a silenced member is refused this write: what others would read. A preview and a
    /// draft stay private, staff work is not content, and a silenced member must still be able
    /// to report (blocks and the account page take no write limit at all).
    pub fn stopped_by_silence(self) -> bool {
        match self {
            WriteKind::Topic
            | WriteKind::Reply
            | WriteKind::Edit
            | WriteKind::Reaction
            | WriteKind::CafeMessage
            | WriteKind::Question
            | WriteKind::Answer
            | WriteKind::Slot => true,
            WriteKind::Preview
            | WriteKind::Draft
            | WriteKind::Moderate
            | WriteKind::Setting
            | WriteKind::Report
            | WriteKind::Reminder
            | WriteKind::Notice
            | WriteKind::Export
            | WriteKind::Account
            | WriteKind::Withdraw => false,
        }
    }

    /// A composer's form posts with `action=preview` to look before posting: that is a preview,
    /// whatever the form would post otherwise.
    pub fn or_preview(self, action: &str) -> WriteKind {
        if action == "preview" {
            WriteKind::Preview
        } else {
            self
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WriteKind::Topic => "topic",
            WriteKind::Reply => "reply",
            WriteKind::Edit => "edit",
            WriteKind::Reaction => "reaction",
            WriteKind::Preview => "preview",
            WriteKind::Draft => "draft",
            WriteKind::Moderate => "moderate",
            WriteKind::Setting => "setting",
            WriteKind::Report => "report",
            WriteKind::Reminder => "reminder",
            WriteKind::CafeMessage => "cafe_message",
            WriteKind::Notice => "notice",
            WriteKind::Question => "question",
            WriteKind::Answer => "answer",
            WriteKind::Export => "export",
            WriteKind::Slot => "slot",
            WriteKind::Account => "account",
            WriteKind::Withdraw => "withdraw",
        }
    }

    /// A member's limit: `burst` writes at once, then `per_hour` more spread over each hour.
    /// So at most about `burst + per_hour / 60` in a minute and `burst + per_hour` in an hour.
    fn limit(self) -> (u32, u32) {
        match self {
            // Starting topics is rarer than anything else.
            WriteKind::Topic => (5, 12),
            // Nine replies in a minute, about seventy in an hour.
            WriteKind::Reply => (8, 60),
            // Correcting one post again and again.
            WriteKind::Edit => (10, 120),
            // Thanking every post of a long topic in a row.
            WriteKind::Reaction => (30, 600),
            WriteKind::Preview => (20, 180),
            // The composer's script saves a few seconds after typing stops.
            WriteKind::Draft => (30, 720),
            // Working through a long queue; staff get three times this.
            WriteKind::Moderate => (30, 600),
            // Pasting a list of words one by one; only staff can reach these forms.
            WriteKind::Setting => (20, 240),
            // Reporting several posts of one thread; more is a campaign, not a worry.
            WriteKind::Report => (10, 60),
            // Going down the café's list of sessions, one button each.
            WriteKind::Reminder => (20, 120),
            // A lively conversation: a dozen short lines at once, ten a minute after that.
            WriteKind::CafeMessage => (12, 600),
            // Opening one notification after another, or trying settings out.
            WriteKind::Notice => (30, 600),
            // A few questions to a slot, and follow-ups during it.
            WriteKind::Question => (5, 20),
            // An expert answering a slot's questions one after another, and correcting them.
            WriteKind::Answer => (20, 120),
            // A few ranges for one report, downloaded one after another.
            WriteKind::Export => (20, 120),
            // Setting up a term's slots one after another, and correcting them.
            WriteKind::Slot => (20, 120),
            // Trying text sizes and languages out, and a few corrections of name or address.
            WriteKind::Account => (20, 60),
            // Clearing up a few old posts one after another.
            WriteKind::Withdraw => (10, 60),
        }
    }

    fn quota(self, factor: u32) -> Quota {
        let (burst, per_hour) = self.limit();
        let nonzero = |n: u32| NonZeroU32::new(n.saturating_mul(factor)).unwrap_or(NonZeroU32::MIN);
        Quota::per_hour(nonzero(per_hour)).allow_burst(nonzero(burst))
    }
}

/// One kind's limiters: members and staff counted apart, with their own quotas.
struct KindLimiters {
    member: DefaultKeyedRateLimiter<i64>,
    staff: DefaultKeyedRateLimiter<i64>,
}

#[derive(Clone)]
pub struct WriteLimits(Arc<[KindLimiters; WriteKind::ALL.len()]>);

impl WriteLimits {
    /// The limits above, each multiplied by `scale` (the `write_limit_scale` setting).
    pub fn new(scale: u32) -> WriteLimits {
        WriteLimits(Arc::new(WriteKind::ALL.map(|kind| KindLimiters {
            member: DefaultKeyedRateLimiter::keyed(kind.quota(scale)),
            staff: DefaultKeyedRateLimiter::keyed(kind.quota(scale.saturating_mul(STAFF_FACTOR))),
        })))
    }

    /// One write of `kind` by `user`; refused while they are silenced (for what others read),
    /// or with how long to wait when over the limit.
    pub fn check(&self, user: &SessionUser, kind: WriteKind) -> Result<(), AppError> {
        if kind.stopped_by_silence()
            && let Some(until) = user.silenced_at(crate::db::now())
        {
            tracing::info!(
                user = user.id,
                kind = kind.as_str(),
                "silenced: write refused"
            );
            return Err(AppError::Silenced {
                until,
                reason: user.silence_reason.clone(),
            });
        }
        let limiters = &self.0[kind as usize];
        let limiter = if user.role.is_staff() {
            &limiters.staff
        } else {
            &limiters.member
        };
        limiter.check_key(&user.id).map_err(|not_until| {
            tracing::info!(user = user.id, kind = kind.as_str(), "write limit reached");
            AppError::TooManyWrites {
                kind,
                wait: not_until.wait_time_from(limiter.clock().now()),
            }
        })
    }

    /// Drops members whose limits have recovered fully, so memory stays bounded.
    pub fn forget_idle(&self) {
        for limiters in self.0.iter() {
            limiters.member.retain_recent();
            limiters.staff.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::role::Role;

    fn someone(id: i64, role: Role) -> SessionUser {
        SessionUser::for_test(id, role)
    }

    fn allowed_in_a_row(limits: &WriteLimits, user: &SessionUser, kind: WriteKind) -> usize {
        (0..1000)
            .take_while(|_| limits.check(user, kind).is_ok())
            .count()
    }

    #[test]
    fn kinds_index_their_own_limiters() {
        for (index, kind) in WriteKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index);
        }
    }

    #[test]
    fn a_burst_of_replies_is_cut_off_above_what_a_person_writes() {
        let limits = WriteLimits::new(1);
        let member = someone(1, Role::Member);
        assert_eq!(allowed_in_a_row(&limits, &member, WriteKind::Reply), 8);
        match limits.check(&member, WriteKind::Reply) {
            Err(AppError::TooManyWrites { kind, wait }) => {
                assert_eq!(kind, WriteKind::Reply);
                assert!(
                    wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
                    "{wait:?}"
                );
            }
            other => panic!("expected a refusal: {other:?}"),
        }
        // Other kinds and other members are counted apart.
        assert!(limits.check(&member, WriteKind::Reaction).is_ok());
        assert!(
            limits
                .check(&someone(2, Role::Member), WriteKind::Reply)
                .is_ok()
        );
        // Staff get more room, but a limit all the same.
        let moderator = someone(3, Role::Moderator);
        assert_eq!(allowed_in_a_row(&limits, &moderator, WriteKind::Reply), 24);
    }

    #[test]
    fn a_silenced_member_may_preview_and_keep_drafts_but_not_publish() {
        let limits = WriteLimits::new(1);
        let mut member = someone(1, Role::Member);
        member.silenced_until = Some(crate::db::now() + 3600);
        member.silence_reason = "言葉づかいについて".into();
        for kind in WriteKind::ALL {
            let refused = matches!(
                limits.check(&member, kind),
                Err(AppError::Silenced { ref reason, .. }) if reason == "言葉づかいについて"
            );
            assert_eq!(refused, kind.stopped_by_silence(), "{kind:?}");
        }
        // A silence that has ended stops nothing.
        member.silenced_until = Some(crate::db::now() - 1);
        assert!(limits.check(&member, WriteKind::Reply).is_ok());
    }
}
