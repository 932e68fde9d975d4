//! The size of a request's head.
//!
//! hyper refuses a head itself, before any Quiver code runs and with an empty body, when it
//! has more than 100 headers or does not fit its ~400 KiB read buffer (431), or when the
//! request target exceeds 65,534 bytes (414, a constant in hyper). Below those limits,
//! Quiver refuses oversized headers itself, so a client that sends them gets a body that
//! says what was wrong.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Headers a request may carry, in bytes (names, values and line framing): what common
/// proxies allow (nginx: 4 buffers of 8 KiB).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn limit_headers(req: Request, next: Next) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        }
        .into_response();
    }
    next.run(req).await
}
