//! The simulator's in-memory state, shared by every handler.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rand::SeedableRng;
use rand::rngs::StdRng;
use time::{Date, OffsetDateTime};
use tokio::sync::watch;

use crate::auth::Tokens;
use crate::catalog::Catalog;
use crate::config::{Faults, SimConfig};
use crate::oauth::OAuth;
use crate::traffic::Traffic;

/// Cheap to clone: every clone shares the same simulator.
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimConfig,
    faults: RwLock<Faults>,
    today: RwLock<Option<Date>>,
    fault_rng: Mutex<StdRng>,
    tokens: RwLock<Tokens>,
    oauth: RwLock<OAuth>,
    traffic: RwLock<Traffic>,
    catalog: RwLock<Catalog>,
    requests: AtomicU64,
    shutdown: watch::Sender<bool>,
}

// A panicking handler must not take the whole simulator down with a poisoned lock: the
// data behind these locks is always left consistent, so the poison is ignored.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}
fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimState {
    pub fn new(config: SimConfig) -> Self {
        // The fault stream is decorrelated from the traffic numbers that share the seed.
        let fault_rng = StdRng::seed_from_u64(config.seed ^ 0x5EED_FA17_0000_0001);
        let (shutdown, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                faults: RwLock::new(config.faults.clone()),
                today: RwLock::new(config.today),
                fault_rng: Mutex::new(fault_rng),
                tokens: RwLock::new(Tokens::default()),
                oauth: RwLock::new(OAuth::default()),
                traffic: RwLock::new(Traffic::default()),
                catalog: RwLock::new(Catalog::default()),
                requests: AtomicU64::new(0),
                shutdown,
                config,
            }),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    pub fn seed(&self) -> u64 {
        self.inner.config.seed
    }

    pub fn faults(&self) -> Faults {
        read(&self.inner.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *write(&self.inner.faults) = faults;
    }

    /// The simulated "today": the pinned date, else the real UTC date.
    pub fn today(&self) -> Date {
        read(&self.inner.today).unwrap_or_else(|| OffsetDateTime::now_utc().date())
    }

    pub fn set_today(&self, today: Date) {
        *write(&self.inner.today) = Some(today);
    }

    /// Follows the real UTC date again.
    pub fn clear_today(&self) {
        *write(&self.inner.today) = None;
    }

    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn count_request(&self) {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fault_rng(&self) -> MutexGuard<'_, StdRng> {
        lock(&self.inner.fault_rng)
    }

    pub(crate) fn tokens(&self) -> RwLockReadGuard<'_, Tokens> {
        read(&self.inner.tokens)
    }

    pub(crate) fn tokens_mut(&self) -> RwLockWriteGuard<'_, Tokens> {
        write(&self.inner.tokens)
    }

    pub(crate) fn oauth(&self) -> RwLockReadGuard<'_, OAuth> {
        read(&self.inner.oauth)
    }

    pub(crate) fn oauth_mut(&self) -> RwLockWriteGuard<'_, OAuth> {
        write(&self.inner.oauth)
    }

    /// Revokes every Login with Amazon grant of simulated user `login`: its refresh tokens
    /// get `invalid_grant` and its access tokens 401 from now on. Returns the grants ended.
    pub fn revoke_user(&self, login: &str) -> usize {
        let n = self.oauth_mut().revoke(login);
        self.tokens_mut().revoke_user(login);
        n
    }

    /// Makes every outstanding authorisation code expired, as 5 minutes passing would.
    pub fn expire_codes(&self) {
        self.oauth_mut().expire_codes();
    }

    pub(crate) fn traffic(&self) -> RwLockReadGuard<'_, Traffic> {
        read(&self.inner.traffic)
    }

    pub(crate) fn traffic_mut(&self) -> RwLockWriteGuard<'_, Traffic> {
        write(&self.inner.traffic)
    }

    pub(crate) fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        read(&self.inner.catalog)
    }

    pub(crate) fn catalog_mut(&self) -> RwLockWriteGuard<'_, Catalog> {
        write(&self.inner.catalog)
    }

    /// Resolves once `shutdown` was called; hanging requests use it to let go early.
    pub(crate) async fn shutting_down(&self) {
        let mut rx = self.inner.shutdown.subscribe();
        // An error means the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    pub(crate) fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}
