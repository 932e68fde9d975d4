//! Application state: what every handler, service and background task shares.
//!
//! A leaf below the HTTP layer: it imports storage, credentials and settings, and nothing
//! that imports it.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::amazon::Amazon;
use crate::auth::TokenCache;
use crate::login;
use crate::ratelimit::Limiter;
use crate::store::Db;
use crate::tags::TagSource;

/// What handlers need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub tokens: TokenCache,
    pub tags: Arc<dyn TagSource>,
    /// The Amazon client and caches, for metrics and background work.
    pub amazon: Option<Arc<Amazon>>,
    pub settings: Settings,
    pub login_throttle: login::Throttle,
    pub limiter: Option<Limiter>,
    /// Sign-up, e-mailed links and API-key use.
    pub joining: crate::joining::Joining,
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
    pub fn new(
        db: Db,
        tags: Arc<dyn TagSource>,
        amazon: Option<Arc<Amazon>>,
        settings: Settings,
        joining: crate::joining::Joining,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            tokens: TokenCache::new(Duration::from_secs(5)),
            tags,
            amazon,
            limiter: Limiter::per_minute(settings.rate_limit),
            settings,
            login_throttle: login::Throttle::default(),
            joining,
        }))
    }
}
