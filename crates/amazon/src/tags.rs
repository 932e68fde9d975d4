//! The tag-template cache that link creation reads on every request.
//!
//! Fresh entries are served from memory. A stale or missing entry is fetched from Amazon
//! (one fetch per key however many callers miss at once); when Amazon cannot be reached an
//! entry up to `max_stale` old is still served, flagged `stale`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::time::Instant;

use crate::Region;
use crate::breaker::BreakerState;
use crate::client::AmazonClient;
use crate::error::AmazonError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagKey {
    pub region: Region,
    pub profile_id: String,
    pub advertiser_id: String,
    pub publisher_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCacheConfig {
    /// Younger entries are served without asking Amazon.
    pub ttl: Duration,
    /// When Amazon fails, entries up to this old are still served.
    pub max_stale: Duration,
    /// Entries this close to `ttl` are due for `refresh_due`.
    pub refresh_ahead: Duration,
}

impl Default for TagCacheConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(24 * 3600),
            max_stale: Duration::from_secs(7 * 24 * 3600),
            refresh_ahead: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedTag {
    pub template: String,
    pub fetched_at: SystemTime,
    /// Older than `ttl`, served because Amazon could not be reached.
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// Amazon could not be reached (or answered with a failure that is not the caller's
    /// fault) and no usable cached tag exists. `retry_after` is at least 1 s.
    #[error("Amazon is unavailable (retry after {retry_after:?}): {cause}")]
    Unavailable {
        retry_after: Duration,
        cause: AmazonError,
    },
    /// Amazon rejected the advertiser, publisher or profile (400/403/404): not retryable.
    #[error("Amazon rejected the tag request: {0}")]
    Rejected(AmazonError),
    /// Amazon answered but had no tag for that (advertiser, publisher).
    #[error("Amazon has no tag for this advertiser and publisher")]
    Missing,
    /// A brand's own authorisation (see [`TagCache::template_via`]) was refused: revoked
    /// or unknown. Not served from a stale copy, since only a new consent can fix it.
    #[error("Amazon refused the brand's authorisation: {0}")]
    Unauthorized(AmazonError),
}

/// Used when neither Amazon nor the breaker says when to come back.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(2);
/// Budget of one background refresh.
const REFRESH_BUDGET: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct Entry {
    template: Arc<str>,
    fetched_at: SystemTime,
    /// The brand authorisation it was fetched with, so a refresh uses it again; `None`
    /// for the platform's.
    via: Option<AmazonClient>,
}

type Fetch = Shared<BoxFuture<'static, Result<Entry, TagError>>>;

struct Inner {
    client: AmazonClient,
    cfg: TagCacheConfig,
    entries: RwLock<HashMap<TagKey, Entry>>,
    inflight: Mutex<HashMap<TagKey, Fetch>>,
    hits: AtomicU64,
    misses: AtomicU64,
    stale_served: AtomicU64,
}

/// Cheap to clone; clones share the entries.
#[derive(Clone)]
pub struct TagCache {
    inner: Arc<Inner>,
}

fn age(fetched_at: SystemTime, now: SystemTime) -> Duration {
    // A timestamp in the future (clock step, another machine) counts as brand new.
    now.duration_since(fetched_at).unwrap_or(Duration::ZERO)
}

impl TagCache {
    pub fn new(client: AmazonClient, cfg: TagCacheConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                cfg,
                entries: RwLock::new(HashMap::new()),
                inflight: Mutex::new(HashMap::new()),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                stale_served: AtomicU64::new(0),
            }),
        }
    }

    /// The template for `key`: from memory when fresh, else from Amazon within `deadline`,
    /// else a stale copy up to `max_stale` old.
    pub async fn template(&self, key: &TagKey, deadline: Instant) -> Result<CachedTag, TagError> {
        self.template_with(None, key, deadline).await
    }

    /// Like [`template`](Self::template), fetching with a brand's own authorisation
    /// (`AmazonClient::authorized`) on a miss. Entries are shared: the template depends on
    /// the key only, not on who asked.
    pub async fn template_via(
        &self,
        client: &AmazonClient,
        key: &TagKey,
        deadline: Instant,
    ) -> Result<CachedTag, TagError> {
        self.template_with(Some(client.clone()), key, deadline)
            .await
    }

    async fn template_with(
        &self,
        via: Option<AmazonClient>,
        key: &TagKey,
        deadline: Instant,
    ) -> Result<CachedTag, TagError> {
        let inner = &self.inner;
        let cached = inner.get(key);
        if let Some(e) = &cached
            && age(e.fetched_at, SystemTime::now()) < inner.cfg.ttl
        {
            inner.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(tag(e, false));
        }
        inner.misses.fetch_add(1, Ordering::Relaxed);
        let fetched = match tokio::time::timeout_at(deadline, self.fetch(key, deadline, via)).await
        {
            Ok(r) => r,
            // Another caller's fetch with a later deadline is still running; this caller's
            // time is up.
            Err(_) => Err(inner.unavailable(
                key.region,
                AmazonError::DeadlineExceeded {
                    last: Box::new(AmazonError::Timeout),
                },
            )),
        };
        match fetched {
            Ok(e) => Ok(tag(&e, false)),
            Err(err @ TagError::Unavailable { .. }) => match cached {
                Some(e) if age(e.fetched_at, SystemTime::now()) < inner.cfg.max_stale => {
                    inner.stale_served.fetch_add(1, Ordering::Relaxed);
                    // debug, not warn: during an outage this happens on every request; the
                    // `stale_served` counter is what operators watch.
                    tracing::debug!(region = %key.region, advertiser = %key.advertiser_id, error = %err, "serving a stale tag template");
                    Ok(tag(&e, true))
                }
                _ => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    /// Warms the cache (e.g. from storage at start). An older copy never replaces a newer one.
    pub fn insert(&self, key: TagKey, template: String, fetched_at: SystemTime) {
        self.inner.put(
            key,
            Entry {
                template: template.into(),
                fetched_at,
                via: None,
            },
        );
    }

    /// Every entry, to persist.
    pub fn snapshot(&self) -> Vec<(TagKey, String, SystemTime)> {
        self.inner
            .read()
            .iter()
            .map(|(k, e)| (k.clone(), e.template.to_string(), e.fetched_at))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.inner.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn hits(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    pub fn misses(&self) -> u64 {
        self.inner.misses.load(Ordering::Relaxed)
    }

    /// Misses answered with a stale entry because Amazon failed.
    pub fn stale_served(&self) -> u64 {
        self.inner.stale_served.load(Ordering::Relaxed)
    }

    /// The entries due for renewal: within `refresh_ahead` of reaching `ttl`.
    pub fn due_for_refresh(&self) -> Vec<TagKey> {
        let cfg = &self.inner.cfg;
        let due_age = cfg.ttl.saturating_sub(cfg.refresh_ahead);
        let now = SystemTime::now();
        self.inner
            .read()
            .iter()
            .filter(|(_, e)| age(e.fetched_at, now) >= due_age)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Renews one entry from Amazon within the refresh budget. On failure the cached copy
    /// stays as it was. Not counted as a caller's miss.
    pub async fn refresh(&self, key: &TagKey) -> Result<(), TagError> {
        let via = self.inner.get(key).and_then(|e| e.via);
        self.fetch(key, Instant::now() + REFRESH_BUDGET, via)
            .await
            .map(|_| ())
    }

    /// Refreshes, one after the other, the entries due within `refresh_ahead`; returns how
    /// many were renewed. Whoever owns the cache decides how often (and until when).
    pub async fn refresh_due(&self) -> usize {
        let mut renewed = 0;
        for key in self.due_for_refresh() {
            match self.refresh(&key).await {
                Ok(()) => renewed += 1,
                Err(e) => {
                    tracing::info!(region = %key.region, advertiser = %key.advertiser_id, error = %e, "tag refresh failed")
                }
            }
        }
        renewed
    }

    /// Joins the fetch already running for `key`, or starts one. It runs on its own task so
    /// it completes (and fills the cache) even if every caller gives up.
    fn fetch(&self, key: &TagKey, deadline: Instant, via: Option<AmazonClient>) -> Fetch {
        let mut inflight = self
            .inner
            .inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(f) = inflight.get(key) {
            return f.clone();
        }
        let inner = self.inner.clone();
        let k = key.clone();
        // The task's removal of the in-flight entry waits for this lock, so it cannot run
        // before the entry is inserted below.
        let task = tokio::spawn(async move {
            let result = inner.fetch_from_amazon(&k, deadline, via).await;
            if let Ok(e) = &result {
                inner.put(k.clone(), e.clone());
            }
            inner
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&k);
            result
        });
        let region = key.region;
        let fut = async move {
            task.await.unwrap_or_else(|e| {
                Err(TagError::Unavailable {
                    retry_after: DEFAULT_RETRY_AFTER,
                    cause: AmazonError::Connect(format!(
                        "tag fetch task failed: {e}; region {region}"
                    )),
                })
            })
        }
        .boxed()
        .shared();
        inflight.insert(key.clone(), fut.clone());
        fut
    }
}

fn tag(e: &Entry, stale: bool) -> CachedTag {
    CachedTag {
        template: e.template.to_string(),
        fetched_at: e.fetched_at,
        stale,
    }
}

impl Inner {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<TagKey, Entry>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &TagKey) -> Option<Entry> {
        self.read().get(key).cloned()
    }

    fn put(&self, key: TagKey, entry: Entry) {
        let mut map = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&key) {
            Some(old) if old.fetched_at > entry.fetched_at => {}
            _ => {
                map.insert(key, entry);
            }
        }
    }

    async fn fetch_from_amazon(
        &self,
        key: &TagKey,
        deadline: Instant,
        via: Option<AmazonClient>,
    ) -> Result<Entry, TagError> {
        let publishers = [key.publisher_id.clone()];
        let advertisers = [key.advertiser_id.clone()];
        let client = via.as_ref().unwrap_or(&self.client);
        let resp = client
            .non_macro_template_tags(
                key.region,
                &key.profile_id,
                &publishers,
                &advertisers,
                deadline,
            )
            .await;
        match resp {
            Ok(r) => r
                .advertiser_attribution_tag_map
                .get(&key.advertiser_id)
                .and_then(|m| m.get(&key.publisher_id))
                .map(|t| Entry {
                    template: t.as_str().into(),
                    fetched_at: SystemTime::now(),
                    via: via.clone(),
                })
                .ok_or(TagError::Missing),
            Err(e)
                if via.is_some()
                    && (e.is_invalid_grant()
                        || matches!(e.root(), AmazonError::Unauthorized(_))) =>
            {
                Err(TagError::Unauthorized(e))
            }
            // The advertiser, publisher or profile is wrong: a stale copy would hide that.
            Err(e @ (AmazonError::BadRequest { .. } | AmazonError::Forbidden(_))) => {
                Err(TagError::Rejected(e))
            }
            // Transient failures, and also our own credentials or a broken response: neither
            // is the caller's fault, so they get "try again later" and the stale fallback.
            Err(e) => Err(self.unavailable(key.region, e)),
        }
    }

    fn unavailable(&self, region: Region, cause: AmazonError) -> TagError {
        let hint = cause
            .retry_after()
            .or(match self.client.breaker_state(region) {
                BreakerState::Open { retry_in } => Some(retry_in),
                _ => None,
            });
        let retry_after = hint.unwrap_or(DEFAULT_RETRY_AFTER);
        // Retry-After is sent in whole seconds: round up, and never tell a caller "now".
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        TagError::Unavailable {
            retry_after: Duration::from_secs(secs.max(1)),
            cause,
        }
    }
}
