//! Webhooks (issue #21): Standard Webhooks signed events, sent by the `webhook_delivery`
//! job from the outbox that `store::webhooks` writes in the same transaction as each
//! change.
//!
//! `events` names the event types (one place); `signing` makes and seals secrets and
//! signs; `ssrf` decides where a webhook may go; `send` makes one attempt; `settings` is
//! the operator's configuration.

pub mod events;
pub mod send;
pub mod settings;
pub mod signing;
pub mod ssrf;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::Notify;

use crate::secret_key::SecretKey;
pub use settings::{WebhookConfig, WebhookSettings};

/// What the webhook API and the delivery job share.
pub struct Webhooks {
    pub settings: WebhookSettings,
    /// Seals endpoint secrets; `None` when the server has no secret key (PostgreSQL
    /// without QUIVER_SECRET_KEY), and then endpoints cannot be created.
    pub key: Option<Arc<SecretKey>>,
    pub clock: Clock,
    /// Wakes this process's delivery job when an event was enqueued here.
    pub wake: Notify,
    /// The client deliveries go through (redirects off, guarded resolver, timeout).
    pub client: reqwest::Client,
}

impl Webhooks {
    pub fn new(settings: WebhookSettings, key: Option<Arc<SecretKey>>) -> anyhow::Result<Self> {
        let client = send::client(&settings)?;
        Ok(Self {
            settings,
            key,
            clock: Clock::default(),
            wake: Notify::new(),
            client,
        })
    }
}

/// The time the delivery schedule runs on: the wall clock, plus an offset a test can
/// move forward to see days of retries in seconds. Signatures' timestamps always use
/// the wall clock, since receivers check them against theirs.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        crate::clock::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this process's schedule `ms` into the future (tests).
    pub fn advance(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
