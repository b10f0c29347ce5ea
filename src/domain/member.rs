//! Where a member's account stands, as the staff's member list filters it.

pub use super::UnknownValue;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    /// Not deactivated and not suspended now.
    Active,
    Silenced,
    Suspended,
    Deactivated,
}

text_enum!(MemberState {
    Active => "active",
    Silenced => "silenced",
    Suspended => "suspended",
    Deactivated => "deactivated",
});
