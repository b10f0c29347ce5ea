//! One-time tokens: 256 random bits, shown once (in a link), stored only as a SHA-256 hash.

use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct OneTimeToken {
    /// Goes into the link and nowhere else.
    pub secret: String,
    /// Goes into the database.
    pub hash: String,
}

pub fn generate() -> OneTimeToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let hash = hash(&secret);
    OneTimeToken { secret, hash }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether a string from a URL can be a token at all (64 hex digits); anything else is unknown.
pub fn looks_valid(secret: &str) -> bool {
    secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}
