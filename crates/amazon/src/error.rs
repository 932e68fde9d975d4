//! One error type for every Amazon call, classified so callers (and the retry loop) can
//! decide what to do without looking at status codes.

use std::time::Duration;

/// Everything that can go wrong talking to Amazon.
///
/// `Clone` because a single-flight fetch hands the same failure to every waiter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmazonError {
    /// 429. `retry_after` is Amazon's `Retry-After` hint when it sent one.
    #[error("Amazon throttled the request (retry after {retry_after:?})")]
    Throttled { retry_after: Option<Duration> },
    /// 5xx (or an unexpected non-error status such as a redirect, which we never follow).
    #[error("Amazon server error {status}: {details}")]
    Server { status: u16, details: String },
    /// No complete answer within the per-attempt timeout.
    #[error("Amazon did not answer in time")]
    Timeout,
    /// The connection could not be made or broke before the answer was complete.
    #[error("connection to Amazon failed: {0}")]
    Connect(String),
    /// 401 from an API call even after refreshing the access token once.
    #[error("Amazon rejected the access token: {0}")]
    Unauthorized(String),
    /// 403: the profile or client has no access to that resource.
    #[error("Amazon refused access: {0}")]
    Forbidden(String),
    /// 400, 404 and other 4xx: the request itself is wrong, retrying cannot help.
    #[error("Amazon rejected the request ({status}): {details}")]
    BadRequest { status: u16, details: String },
    /// The region's circuit breaker is open; nothing was sent.
    #[error("Amazon circuit open, next probe in {retry_after:?}")]
    CircuitOpen { retry_after: Duration },
    /// The caller's deadline ran out; `last` is what the final attempt saw.
    #[error("deadline exceeded; last error: {last}")]
    DeadlineExceeded { last: Box<AmazonError> },
    /// A 2xx body that does not match the published schema.
    #[error("unexpected response from Amazon: {0}")]
    Decode(String),
    /// Login with Amazon refused the refresh token or client credentials.
    #[error("Login with Amazon refused the credentials: {0}")]
    Auth(String),
}

impl AmazonError {
    /// Whether trying again later may succeed (a 503 to Quiver's caller rather than a 4xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Throttled { .. }
            | Self::Timeout
            | Self::Connect(_)
            | Self::CircuitOpen { .. }
            | Self::DeadlineExceeded { .. } => true,
            Self::Server { status, .. } => *status >= 500,
            Self::Unauthorized(_)
            | Self::Forbidden(_)
            | Self::BadRequest { .. }
            | Self::Decode(_)
            | Self::Auth(_) => false,
        }
    }

    /// Login with Amazon said the grant is gone (`invalid_grant`: the user revoked access,
    /// or the refresh token is unknown): only a new consent can fix it.
    pub fn is_invalid_grant(&self) -> bool {
        match self {
            Self::Auth(d) => d.starts_with("invalid_grant"),
            Self::DeadlineExceeded { last } => last.is_invalid_grant(),
            _ => false,
        }
    }

    /// When to try again, if Amazon or the breaker said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after } => *retry_after,
            Self::CircuitOpen { retry_after } => Some(*retry_after),
            Self::DeadlineExceeded { last } => last.retry_after(),
            _ => None,
        }
    }

    /// A stable, low-cardinality label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Throttled { .. } => "throttled",
            Self::Server { .. } => "server",
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::BadRequest { .. } => "bad_request",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
            Self::Decode(_) => "decode",
            Self::Auth(_) => "auth",
        }
    }

    /// The error behind a `DeadlineExceeded`, or `self`.
    pub fn root(&self) -> &AmazonError {
        match self {
            Self::DeadlineExceeded { last } => last.root(),
            other => other,
        }
    }

    /// Every `kind()` value, in a fixed order (index of the stats counters).
    pub const KINDS: [&'static str; 11] = [
        "throttled",
        "server",
        "timeout",
        "connect",
        "unauthorized",
        "forbidden",
        "bad_request",
        "circuit_open",
        "deadline_exceeded",
        "decode",
        "auth",
    ];

    pub(crate) fn kind_index(&self) -> usize {
        match self {
            Self::Throttled { .. } => 0,
            Self::Server { .. } => 1,
            Self::Timeout => 2,
            Self::Connect(_) => 3,
            Self::Unauthorized(_) => 4,
            Self::Forbidden(_) => 5,
            Self::BadRequest { .. } => 6,
            Self::CircuitOpen { .. } => 7,
            Self::DeadlineExceeded { .. } => 8,
            Self::Decode(_) => 9,
            Self::Auth(_) => 10,
        }
    }

    /// Classifies a non-2xx status of an Ads API call. `details` comes from the MaaSError
    /// body when there is one.
    pub(crate) fn from_status(status: u16, details: String, retry_after: Option<Duration>) -> Self {
        match status {
            429 => Self::Throttled { retry_after },
            401 => Self::Unauthorized(details),
            403 => Self::Forbidden(details),
            408 => Self::Timeout,
            400..=499 => Self::BadRequest { status, details },
            _ => Self::Server { status, details },
        }
    }

    /// Classifies a transport failure from reqwest.
    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            return Self::Timeout;
        }
        if e.is_builder() {
            // The request could not even be built (e.g. a malformed URL): retrying cannot help.
            return Self::BadRequest {
                status: 0,
                details: error_chain(e),
            };
        }
        Self::Connect(error_chain(e))
    }
}

/// reqwest's own message is terse ("error sending request"); the cause is in the chain.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let c = |s| AmazonError::from_status(s, "d".into(), Some(Duration::from_secs(2)));
        assert_eq!(
            c(429),
            AmazonError::Throttled {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(c(401).kind(), "unauthorized");
        assert_eq!(c(403).kind(), "forbidden");
        assert_eq!(c(400).kind(), "bad_request");
        assert_eq!(c(404).kind(), "bad_request");
        assert_eq!(c(408).kind(), "timeout");
        assert_eq!(c(500).kind(), "server");
        assert_eq!(c(503).kind(), "server");
        assert!(c(500).is_transient());
        assert!(c(429).is_transient());
        assert!(!c(400).is_transient());
        assert!(!c(401).is_transient());
        assert!(!c(403).is_transient());
        // A redirect is never followed and retrying will not change it.
        assert!(!c(302).is_transient());
    }

    #[test]
    fn retry_after_looks_through_deadline() {
        let e = AmazonError::DeadlineExceeded {
            last: Box::new(AmazonError::CircuitOpen {
                retry_after: Duration::from_secs(3),
            }),
        };
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(e.is_transient());
        assert_eq!(e.root().kind(), "circuit_open");
        assert_eq!(AmazonError::Timeout.retry_after(), None);
    }

    #[test]
    fn kinds_match_indices() {
        let all = [
            AmazonError::Throttled { retry_after: None },
            AmazonError::Server {
                status: 500,
                details: String::new(),
            },
            AmazonError::Timeout,
            AmazonError::Connect(String::new()),
            AmazonError::Unauthorized(String::new()),
            AmazonError::Forbidden(String::new()),
            AmazonError::BadRequest {
                status: 400,
                details: String::new(),
            },
            AmazonError::CircuitOpen {
                retry_after: Duration::ZERO,
            },
            AmazonError::DeadlineExceeded {
                last: Box::new(AmazonError::Timeout),
            },
            AmazonError::Decode(String::new()),
            AmazonError::Auth(String::new()),
        ];
        for e in all {
            assert_eq!(AmazonError::KINDS[e.kind_index()], e.kind());
        }
    }
}
