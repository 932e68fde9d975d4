//! The rate-limit middleware: `RateLimit-*` headers on every limited response, 429
//! `rate_limited` with `Retry-After` beyond the limit.
//!
//! A bearer token gets its own budget only once it has validated in this process (see
//! `crate::ratelimit`); any other bearer spends the client address's budget.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{TokenCache, token_hash};
use crate::error::{ApiError, retry_after_secs};
use crate::ratelimit::Limiter;
use crate::store::now_ms;

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
    match limiter.check(key) {
        Ok(remaining) => {
            let mut response = next.run(req).await;
            let h = response.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(limiter.limit()));
            h.insert("ratelimit-remaining", HeaderValue::from(remaining));
            h.insert("ratelimit-reset", HeaderValue::from(window.as_secs()));
            response
        }
        Err(wait) => {
            let mut response = ApiError::RateLimited { retry_after: wait }.into_response();
            let h = response.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(limiter.limit()));
            h.insert("ratelimit-remaining", HeaderValue::from(0u32));
            h.insert("ratelimit-reset", HeaderValue::from(retry_after_secs(wait)));
            response
        }
    }
}
