//! Rate limits for login and password reset, per e-mail address and per client address, and
//! for the signed links in mails and name suggestions (governor's keyed GCRA limiters). They
//! live in each instance's memory: behind a load balancer each instance counts on its own, which
//! still bounds guessing to a small multiple.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

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
    per_address: Arc<DefaultKeyedRateLimiter<String>>,
    per_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
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
            // Five tries a minute for one account, after a first burst of ten.
            per_address: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(5, 10))),
            // A household or a care facility may share one address: more room per client.
            per_client: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(20, 30))),
            // One-click unsubscribes arrive from a mail provider's few addresses on behalf of
            // many members: generous, yet bounding anyone who hammers the endpoint.
            stop_links: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(60, 120))),
            // Suggestions follow typing (the script waits for a pause), per member.
            suggestions: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(60, 30))),
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
        self.per_address.retain_recent();
        self.per_client.retain_recent();
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
}
