//! Rate limits for login and password reset, per e-mail address and per client address
//! (governor's keyed GCRA limiters). They live in each instance's memory: behind a load balancer
//! each instance counts on its own, which still bounds guessing to a small multiple.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota};

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

#[derive(Clone)]
pub struct RateLimits {
    per_address: Arc<DefaultKeyedRateLimiter<String>>,
    per_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            // Five tries a minute for one account, after a first burst of ten.
            per_address: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(5, 10))),
            // A household or a care facility may share one address: more room per client.
            per_client: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(20, 30))),
        }
    }
}

impl RateLimits {
    /// One attempt (a login or a reset request) for `email` from `client`; false when over a limit.
    pub fn allow(&self, email: &str, client: IpAddr) -> bool {
        let client_ok = self.per_client.check_key(&client).is_ok();
        let address_ok = self.per_address.check_key(&email.to_owned()).is_ok();
        client_ok && address_ok
    }

    /// Drops keys that have recovered fully, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_address.retain_recent();
        self.per_client.retain_recent();
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
}
