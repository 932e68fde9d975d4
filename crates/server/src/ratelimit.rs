//! Per-token (and, before login, per-address) request rate limiting with the
//! `RateLimit-*` headers.
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

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::{TokenCache, token_hash};
use crate::error::{ApiError, retry_after_secs};
use crate::store::now_ms;

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
        let inner = Arc::new(limiter);
        // Forget idle keys now and then so the map does not grow with every token ever seen.
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                match weak.upgrade() {
                    Some(l) => l.retain_recent(),
                    None => break,
                }
            }
        });
        Some(Self {
            inner,
            per_minute: n.get(),
        })
    }
}

/// Requests that are never limited: health checks, metrics and documentation.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/openapi.json")
        || path.starts_with("/docs")
}

fn rate_key(req: &Request, tokens: &TokenCache) -> String {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if let Some(t) = bearer.filter(|t| !t.is_empty()) {
        let hash = token_hash(t);
        if tokens.validated(&hash, now_ms()) {
            return format!("t:{hash}");
        }
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    format!("ip:{ip}")
}

pub async fn limit(
    State((limiter, tokens)): State<(Option<Limiter>, TokenCache)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limiter) = limiter else {
        return next.run(req).await;
    };
    if exempt(req.uri().path()) {
        return next.run(req).await;
    }
    let key = rate_key(&req, &tokens);
    let window = Duration::from_secs(60);
    match limiter.inner.check_key(&key) {
        Ok(snapshot) => {
            let mut response = next.run(req).await;
            let h = response.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(limiter.per_minute));
            h.insert(
                "ratelimit-remaining",
                HeaderValue::from(snapshot.remaining_burst_capacity()),
            );
            h.insert("ratelimit-reset", HeaderValue::from(window.as_secs()));
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut response = ApiError::RateLimited { retry_after: wait }.into_response();
            let h = response.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(limiter.per_minute));
            h.insert("ratelimit-remaining", HeaderValue::from(0u32));
            h.insert("ratelimit-reset", HeaderValue::from(retry_after_secs(wait)));
            response
        }
    }
}
