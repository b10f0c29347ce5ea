//! Rate limits for login and password reset (OWASP ASVS 2.2), in each instance's memory: behind
//! a load balancer each instance counts on its own, which still bounds guessing to a small
//! multiple.
//!
//! Refusals are keyed on the client, and on the e-mail address and the client together: one
//! place can only guess so fast. An address alone is never refused, or anyone could lock a
//! member out by typing wrong passwords for them; instead its failures slow every next attempt
//! for it down, from anywhere, by a growing delay that stops at [`MAX_DELAY`]. Addresses that
//! belong to nobody are counted the same way, so neither answers nor delays tell who is a member.
//!
//! The signed links in mails and name suggestions have limits of their own here too.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppState;
use crate::error::AppError;

/// The client a request comes from: the connection's peer, or, behind a trusted reverse proxy,
/// the last address in `X-Forwarded-For` (the one the proxy itself appended; earlier entries
/// are whatever the client claimed).
pub fn client_address(
    headers: &axum::http::HeaderMap,
    peer: SocketAddr,
    trust_forwarded_for: bool,
) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(address) = forwarded {
            return address;
        }
    }
    peer.ip()
}

/// What is being tried. Each kind is counted apart, so that a member who mistyped their
/// password many times can still ask for a reset from the same device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attempt {
    Login,
    Reset,
}

/// Failures for one address that cost nothing: typing mistakes.
const FREE_FAILURES: u32 = 5;
/// The delay after the first failure beyond the free ones; it doubles with each further one.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest an attempt for one address waits, however many failures it had.
const MAX_DELAY: Duration = Duration::from_secs(4);
/// Each failure is forgotten after this long without another.
const FORGET_ONE_AFTER: Duration = Duration::from_secs(60);
/// Addresses with failures kept in memory at most.
const TRACKED_ADDRESSES: u64 = 100_000;

/// How long an attempt waits after `failures` recent failures for its address.
fn delay_after(failures: u32) -> Duration {
    let Some(beyond) = failures.checked_sub(FREE_FAILURES) else {
        return Duration::ZERO;
    };
    FIRST_DELAY
        .checked_mul(1u32.checked_shl(beyond).unwrap_or(u32::MAX))
        .map_or(MAX_DELAY, |d| d.min(MAX_DELAY))
}

/// Recent failures for one address, leaking away one per [`FORGET_ONE_AFTER`].
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

impl Failures {
    fn now(self, at: Instant) -> u32 {
        let leaked =
            at.saturating_duration_since(self.since).as_secs() / FORGET_ONE_AFTER.as_secs();
        self.count
            .saturating_sub(u32::try_from(leaked).unwrap_or(u32::MAX))
    }
}

/// The client a request comes from, as [`client_address`] finds it, for handlers to count.
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| AppError::Internal("the server runs without peer addresses".into()))?;
        Ok(ClientAddress(client_address(
            &parts.headers,
            peer,
            app.config.trust_forwarded_for,
        )))
    }
}

#[derive(Clone)]
pub struct RateLimits {
    per_pair: Arc<DefaultKeyedRateLimiter<(Attempt, String, IpAddr)>>,
    per_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    failures: moka::sync::Cache<(Attempt, String), Failures>,
    stop_links: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    suggestions: Arc<DefaultKeyedRateLimiter<i64>>,
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            // Five tries a minute for one account from one place, after a first burst of ten.
            per_pair: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(5, 10))),
            // A household or a care facility may share one address: more room per client.
            per_client: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(20, 30))),
            failures: moka::sync::Cache::builder()
                .max_capacity(TRACKED_ADDRESSES)
                .time_to_idle(FORGET_ONE_AFTER * 60)
                .build(),
            // One-click unsubscribes arrive from a mail provider's few addresses on behalf of
            // many members: generous, yet bounding anyone who hammers the endpoint.
            stop_links: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(60, 120))),
            // Suggestions follow typing (the script waits for a pause), per member.
            suggestions: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(60, 30))),
        }
    }
}

impl RateLimits {
    /// One attempt of `kind` for `email` from `client`: `None` when the client, or the client
    /// for this address, is over its limit; otherwise how long the attempt must wait first.
    pub fn check(&self, kind: Attempt, email: &str, client: IpAddr) -> Option<Duration> {
        let client_ok = self.per_client.check_key(&client).is_ok();
        let pair_ok = self
            .per_pair
            .check_key(&(kind, email.to_owned(), client))
            .is_ok();
        (client_ok && pair_ok).then(|| self.delay_for(kind, email))
    }

    /// [`RateLimits::check`], then the wait: false when refused.
    pub async fn admit(&self, kind: Attempt, email: &str, client: IpAddr) -> bool {
        match self.check(kind, email, client) {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                true
            }
            None => false,
        }
    }

    /// How long the next attempt of `kind` for `email` waits.
    fn delay_for(&self, kind: Attempt, email: &str) -> Duration {
        let failures = self
            .failures
            .get(&(kind, email.to_owned()))
            .map_or(0, |f| f.now(Instant::now()));
        delay_after(failures)
    }

    /// Makes the next attempts of `kind` for `email` wait longer: after a wrong password, or
    /// after any reset request (each one sends a mail).
    pub fn slow_down(&self, kind: Attempt, email: &str) {
        let now = Instant::now();
        self.failures
            .entry((kind, email.to_owned()))
            .and_upsert_with(|found| Failures {
                count: found
                    .map_or(0, |f| f.into_value().now(now))
                    .saturating_add(1),
                since: now,
            });
    }

    /// One use of a signed link from a mail (its page or its one-click POST) from `client`.
    pub fn allow_stop_link(&self, client: IpAddr) -> bool {
        self.stop_links.check_key(&client).is_ok()
    }

    /// One request for name suggestions by member `user_id`.
    pub fn allow_suggestion(&self, user_id: i64) -> bool {
        self.suggestions.check_key(&user_id).is_ok()
    }

    /// Drops keys that have recovered fully, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_pair.retain_recent();
        self.per_client.retain_recent();
        self.failures.run_pending_tasks();
        self.stop_links.retain_recent();
        self.suggestions.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_appended_address_counts_only_when_trusted() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("value"),
        );
        assert_eq!(client_address(&headers, peer, false), peer.ip());
        assert_eq!(
            client_address(&headers, peer, true),
            "198.51.100.7".parse::<IpAddr>().expect("address")
        );
        assert_eq!(
            client_address(&axum::http::HeaderMap::new(), peer, true),
            peer.ip()
        );
    }

    #[test]
    fn the_delay_grows_with_failures_and_stops_at_the_maximum() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES), FIRST_DELAY);
        assert_eq!(delay_after(FREE_FAILURES + 1), FIRST_DELAY * 2);
        assert_eq!(delay_after(FREE_FAILURES + 3), FIRST_DELAY * 8);
        assert_eq!(delay_after(FREE_FAILURES + 40), MAX_DELAY);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn failures_are_forgotten_one_a_minute() {
        let start = Instant::now();
        let failures = Failures {
            count: 3,
            since: start,
        };
        assert_eq!(failures.now(start), 3);
        assert_eq!(failures.now(start + FORGET_ONE_AFTER), 2);
        assert_eq!(failures.now(start + FORGET_ONE_AFTER * 10), 0);
    }

    #[test]
    fn one_client_is_refused_while_others_only_wait() {
        let limits = RateLimits::default();
        let attacker: IpAddr = "203.0.113.9".parse().expect("address");
        let member: IpAddr = "198.51.100.7".parse().expect("address");
        let email = "hana@example.org";
        for _ in 0..10 {
            assert!(limits.check(Attempt::Login, email, attacker).is_some());
            limits.slow_down(Attempt::Login, email);
        }
        // No more from there for this address, but a reset may still be asked for.
        assert_eq!(limits.check(Attempt::Login, email, attacker), None);
        assert_eq!(
            limits.check(Attempt::Reset, email, attacker),
            Some(Duration::ZERO)
        );
        // From elsewhere the address is only slowed down.
        assert_eq!(limits.check(Attempt::Login, email, member), Some(MAX_DELAY));
        assert_eq!(
            limits.check(Attempt::Login, "other@example.org", attacker),
            Some(Duration::ZERO)
        );
    }
}
