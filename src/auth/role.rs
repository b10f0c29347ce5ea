//! Roles and relations, stored as short text in the database.

use serde::{Deserialize, Serialize};

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

#[derive(Debug, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s { $($text => Ok(<$ty>::$variant),)+ other => Err(UnknownValue(other.to_owned())) }
            }
        }

        impl TryFrom<String> for $ty {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, UnknownValue> { s.parse() }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

text_enum!(Role { Member => "member", Expert => "expert", Moderator => "moderator", Coordinator => "coordinator" });
text_enum!(Relation { Patient => "patient", Family => "family", Supporter => "supporter" });

impl Role {
    /// Moderators and coordinators are staff: they see the review queue and the moderation log.
    pub fn is_staff(self) -> bool {
        self >= Role::Moderator
    }
}
