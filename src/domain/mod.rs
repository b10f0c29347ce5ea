//! Domain types below every layer: `auth`, `db` and the capabilities all import them from here,
//! so that storage never reaches up into a capability.

#[derive(Debug, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

/// Enums stored as short text: `as_str`, `FromStr`, `TryFrom<String>` (for sqlx rows), `Display`.
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

pub mod account;
pub mod content;
pub mod log;
pub mod member;
pub mod report;
pub mod role;
pub mod safety;
