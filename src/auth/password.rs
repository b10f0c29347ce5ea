//! Password hashing with argon2id (m=19 MiB, t=2, p=1, argon2's defaults, which are OWASP's) on
//! the blocking pool behind a semaphore, so a burst of logins cannot starve page views.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::AppError;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

/// How long a login waits for a free hashing slot before it is told to try again.
const WAIT_FOR_SLOT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Passwords {
    slots: Arc<Semaphore>,
    /// Verified against when the address is unknown, so both answers take the same time.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Passwords {
    /// `slots` hashes may run at once; one per core leaves the async threads room for pages.
    pub fn new(slots: usize) -> Result<Passwords, AppError> {
        Ok(Passwords {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            dummy_hash: hash_now("hidamari-timing-equaliser")?.into(),
        })
    }

    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(WAIT_FOR_SLOT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Busy)?
            .map_err(|_| AppError::Busy)?;
        let result = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?;
        Ok(result)
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        self.on_blocking_pool(move || hash_now(&password)).await?
    }

    /// Checks `password` against `hash`, or against a dummy hash when there is no account, so
    /// that the time taken does not tell whether an address is a member.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let known = hash.is_some();
        let password = password.to_owned();
        let hash = hash
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.to_string());
        let matched = self
            .on_blocking_pool(move || verify_now(&password, &hash))
            .await?;
        Ok(known && matched)
    }
}

/// Why a new password was refused; each maps to a message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    TooShort,
    TooLong,
    TooCommon,
}

impl WeakPassword {
    pub fn key(self) -> &'static str {
        match self {
            WeakPassword::TooShort => "password.too_short",
            WeakPassword::TooLong => "password.too_long",
            WeakPassword::TooCommon => "password.too_common",
        }
    }
}

/// At least ten characters, and not a common or easily guessed password (zxcvbn's dictionaries of
/// common passwords, names and keyboard patterns; the member's own address and name count too).
pub fn check_new_password(password: &str, personal: &[&str]) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(WeakPassword::TooLong);
    }
    let estimate = zxcvbn::zxcvbn(password, personal);
    if (estimate.score() as u8) < 2 {
        return Err(WeakPassword::TooCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_short_passwords_are_refused() {
        assert_eq!(
            check_new_password("short", &[]),
            Err(WeakPassword::TooShort)
        );
        assert_eq!(
            check_new_password("password123", &[]),
            Err(WeakPassword::TooCommon)
        );
        assert_eq!(
            check_new_password("1234567890", &[]),
            Err(WeakPassword::TooCommon)
        );
        assert_eq!(
            check_new_password("himawari@example.org", &["himawari@example.org"]),
            Err(WeakPassword::TooCommon)
        );
        assert_eq!(check_new_password("ひだまりの午後に紅茶を", &[]), Ok(()));
        assert_eq!(check_new_password("correct horse battery", &[]), Ok(()));
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let passwords = Passwords::new(1).expect("hasher");
        let hash = passwords
            .hash("ひだまりの午後に紅茶を")
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            passwords
                .verify("ひだまりの午後に紅茶を", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !passwords
                .verify("ひだまりの午後に紅茶", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !passwords
                .verify("hidamari-timing-equaliser", None)
                .await
                .expect("verify")
        );
    }
}
