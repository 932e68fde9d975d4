//! Application state: what every handler, service and background task shares.
//!
//! A leaf below the HTTP layer: it imports storage, credentials and settings, and nothing
//! that imports it.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use quiver_domain::CursorKey;

use crate::amazon::Amazon;
use crate::auth::{KeyUsage, TokenCache};
use crate::clicks::Clicks;
use crate::config::{JoinSettings, LoginThrottle};
use crate::outbox::Outbox;
use crate::ratelimit::Limiter;
use crate::secret_key::SecretKey;
use crate::store::Db;
use crate::webhooks::Webhooks;

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
    /// Sign-up, e-mailed links and API-key use.
    pub joining: Joining,
    /// Short codes and the click counts not yet written (issue #19).
    pub clicks: Arc<Clicks>,
    /// Seals and opens brands' Amazon refresh tokens; `None` when no key is configured
    /// (PostgreSQL without `QUIVER_SECRET_KEY`): brands cannot connect then.
    pub secret_key: Option<SecretKey>,
    /// Webhook settings, the delivery client and the schedule's clock (issue #21).
    pub webhooks: Arc<Webhooks>,
}

/// Settings handlers read, resolved from the configuration at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a Login with Amazon consent may take (the `state`'s life), 10 minutes.
    pub connect_state_ttl: Duration,
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

/// What `AppState::new` is built from: the parts `serve` opens or configures at start.
pub struct Parts {
    pub db: Db,
    pub amazon: Arc<Amazon>,
    pub settings: Settings,
    pub cursor_key: CursorKey,
    pub joining: Joining,
    pub clicks: Clicks,
    pub secret_key: Option<SecretKey>,
    pub webhooks: Webhooks,
}

impl AppState {
    pub fn new(p: Parts) -> Self {
        Self(Arc::new(Inner {
            db: p.db,
            tokens: TokenCache::new(Duration::from_secs(5)),
            amazon: p.amazon,
            limiter: Limiter::per_minute(p.settings.rate_limit),
            settings: p.settings,
            login_throttle: LoginThrottle::default(),
            cursor_key: p.cursor_key,
            joining: p.joining,
            clicks: Arc::new(p.clicks),
            secret_key: p.secret_key,
            webhooks: Arc::new(p.webhooks),
        }))
    }
}

/// What joining Quiver needs at run time: its settings, where links point, the account
/// e-mails' queue and API keys' last use.
pub struct Joining {
    pub settings: JoinSettings,
    bound: OnceLock<String>,
    pub outbox: Outbox,
    pub key_usage: KeyUsage,
}

impl Joining {
    pub fn new(settings: JoinSettings, outbox: Outbox) -> Self {
        Self {
            settings,
            bound: OnceLock::new(),
            outbox,
            key_usage: KeyUsage::default(),
        }
    }

    /// The listen address, once bound: the public URL's default.
    pub fn set_bound(&self, addr: SocketAddr) {
        let _ = self.bound.set(format!("http://{addr}"));
    }

    pub fn public_url(&self) -> &str {
        self.settings
            .public_url
            .as_deref()
            .or(self.bound.get().map(String::as_str))
            .unwrap_or("http://127.0.0.1:8080")
    }

    /// A link into the web app's `screen` carrying `token`. The token is in the fragment,
    /// which browsers never send, so it stays out of every access log on the way.
    pub fn app_link(&self, screen: &str, token: &str) -> String {
        format!("{}/app/#/{screen}?token={token}", self.public_url())
    }
}
