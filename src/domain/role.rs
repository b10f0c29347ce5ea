//! Roles and relations, stored as short text in the database.

use serde::{Deserialize, Serialize};

pub use super::UnknownValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Expert,
    Moderator,
    Coordinator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    Patient,
    Family,
    Supporter,
}

text_enum!(Role { Member => "member", Expert => "expert", Moderator => "moderator", Coordinator => "coordinator" });
text_enum!(Relation { Patient => "patient", Family => "family", Supporter => "supporter" });

impl Role {
    /// Moderators and coordinators are staff: they see the review queue and the moderation log.
    pub fn is_staff(self) -> bool {
        self >= Role::Moderator
    }
}
