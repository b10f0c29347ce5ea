//! Authentication and authorization: password hashing, sessions, the current member and role
//! extractors, CSRF and Origin checks, rate limits for logins and for writing and one-time tokens.

pub mod csrf;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod token;
pub mod user_cache;
pub mod write_limit;

pub use session::{CurrentUser, Require};
