//! Application state: what every handler, service and background task shares.
//!
//! A leaf below the HTTP layer: it imports storage, credentials and settings, and nothing
//! that imports it.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use quiver_domain::CursorKey;

use crate::amazon::Amazon;
use crate::auth::TokenCache;
use crate::config::LoginThrottle;
use crate::ratelimit::Limiter;
use crate::store::Db;

/// What handlers need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub tokens: TokenCache,
    /// The Amazon client and its tag-template cache.
    pub amazon: Arc<Amazon>,
    pub settings: Settings,
    pub login_throttle: LoginThrottle,
    pub limiter: Option<Limiter>,
    /// Signs page cursors; the same on every server sharing the database.
    pub cursor_key: CursorKey,
}

/// Settings handlers read, resolved from the configuration at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub token_ttl: Duration,
    pub refresh_ttl: Duration,
    pub link_deadline: Duration,
    pub publisher_id: String,
    /// Requests per minute per token or client address; 0 is off.
    pub rate_limit: u32,
    /// Origins allowed to call the API from a browser; `*` for any, empty for none.
    pub cors_origins: Vec<String>,
    pub quotas: crate::config::Quotas,
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, amazon: Arc<Amazon>, settings: Settings, cursor_key: CursorKey) -> Self {
        Self(Arc::new(Inner {
            db,
            tokens: TokenCache::new(Duration::from_secs(5)),
            amazon,
            limiter: Limiter::per_minute(settings.rate_limit),
            settings,
            login_throttle: LoginThrottle::default(),
            cursor_key,
        }))
    }
}
