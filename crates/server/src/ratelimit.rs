//! Per-key request rate limits: a token bucket per bearer token (or, before login, per
//! client address). The middleware that applies them lives in `http::ratelimit`; forgetting
//! idle keys is the `jobs::limiter_sweep` job.
//!
//! A request has its token's own budget only when that token has validated in this process
//! (it is in the token cache); any other bearer, made up or not yet seen, spends the client
//! address's budget. Otherwise a fresh random token per request would be a fresh budget. A
//! valid token's first request after a start is therefore counted against its address.
//!
//! The limiter is in-process: with several processes behind a load balancer each enforces
//! the limit on the requests it sees. That bounds abuse at N × the limit, which is what a
//! rate limit is for (protecting capacity); login throttling, which protects accounts and
//! must be exact, is counted in the database instead.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Keyed>,
    per_minute: u32,
}

impl Limiter {
    /// `None` when the limit is 0 (off).
    pub fn per_minute(n: u32) -> Option<Self> {
        let n = NonZeroU32::new(n)?;
        let limiter = RateLimiter::keyed(Quota::per_minute(n))
            .with_middleware::<StateInformationMiddleware>();
        Some(Self {
            inner: Arc::new(limiter),
            per_minute: n.get(),
        })
    }

    /// Requests allowed per minute.
    pub fn limit(&self) -> u32 {
        self.per_minute
    }

    /// Counts one request for `key`: the requests it has left, or how long it must wait.
    pub fn check(&self, key: String) -> Result<u32, Duration> {
        match self.inner.check_key(&key) {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            Err(not_until) => Err(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }

    /// Forgets keys that have not been seen for a while, so the map does not grow with
    /// every token ever presented.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
    }
}
