//! Accounts' credentials: argon2id password hashes, opaque bearer tokens stored as
//! SHA-256 hashes, the principal every authenticated request carries, the cache of
//! resolved tokens, and the bound on concurrent password checks. The extractors that resolve a request live in `http::extract`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, mpsc};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quiver_domain::AccountKind;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Who is calling: resolved from a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub public_id: String,
    pub email: String,
    pub kind: AccountKind,
    pub token_hash: String,
    /// False for a self-service account until its address is verified.
    pub email_verified: bool,
    /// What the credential may do.
    pub scope: Scope,
    /// The API key the request came with, if it did.
    pub api_key_id: Option<String>,
}

/// What a credential may do: a login may do anything its account may; an API key is
/// read-only or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Session,
    Read,
    Write,
}

/// A random 256-bit token, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// [`hash_password`] computing into `memory` (argon2id with the default parameters, a
/// fresh 128-bit salt), so a password thread reuses its 19 MiB as checks do.
fn hash_password_in(password: &str, memory: &mut Vec<Block>) -> Result<String, HashError> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let params = Params::default();
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut memory[..blocks])
        .map_err(|e| HashError(e.to_string()))?;
    // The PHC string format argon2's own hasher writes (B64 without padding).
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

/// Verifies in constant work whether or not the account exists: an unknown user is checked
/// against a fixed hash, so timing does not reveal which usernames are registered.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    verify_password_in(password, stored, &mut Vec::new())
}

/// [`verify_password`] with argon2's working memory (19 MiB) in `memory`, which it grows as
/// needed and keeps: reused, it stays allocated once instead of leaving the allocator to
/// keep freed blocks around (glibc kept about 200 MiB per thread after a few dozen).
fn verify_password_in(password: &str, stored: Option<&str>, memory: &mut Vec<Block>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("quiver-dummy-password").unwrap_or_default());
    let (hash, exists) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = argon2_matches(password.as_bytes(), hash, memory);
    ok && exists
}

/// What argon2's `PasswordVerifier` does, computing into `memory`.
fn argon2_matches(password: &[u8], phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm.as_str()),
        parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .is_ok()
        // Output's equality is constant-time.
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// A bound on concurrent password checks. Each argon2 verification takes a core and
/// 19 MiB for as long as it runs, so unbounded concurrency turns a burst of bad logins into
/// gigabytes. Checks run on a few threads of their own, each reusing its working memory (on
/// the blocking pool, each of its many threads kept hundreds of MiB in its allocator arena
/// afterwards); up to `queued` more wait, each at most `wait` before it starts; beyond that
/// a login is turned away at once.
#[derive(Debug, Clone)]
pub struct PasswordChecks {
    admitted: Arc<Semaphore>,
    jobs: mpsc::Sender<CheckJob>,
    wait: Duration,
}

struct CheckJob {
    work: Work,
    start_by: Instant,
    reply: oneshot::Sender<Result<Done, ChecksBusy>>,
    // Held until the check is done, even if the caller has gone.
    _admitted: OwnedSemaphorePermit,
}

/// What a password thread does: check a login's password, or hash a new one (sign-up,
/// reset, change), which costs the same core and memory.
enum Work {
    Verify {
        password: String,
        stored: Option<String>,
    },
    Hash {
        password: String,
    },
}

enum Done {
    Verified(bool),
    Hashed(Result<String, HashError>),
}

/// A place in the queue of password checks.
pub struct CheckTicket {
    admitted: OwnedSemaphorePermit,
    jobs: mpsc::Sender<CheckJob>,
    wait: Duration,
}

/// The checks are saturated: the caller answers 503.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many password checks in progress")]
pub struct ChecksBusy;

impl PasswordChecks {
    pub fn new(threads: usize, queued: usize, wait: Duration) -> Self {
        let (jobs, rx) = mpsc::channel::<CheckJob>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = threads.max(1);
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("quiver-password-{i}"))
                .spawn(move || check_worker(&rx));
            if let Err(e) = spawned {
                // With no thread at all every login answers 503; say why.
                tracing::error!(error = %e, "cannot start a password-check thread");
            }
        }
        Self {
            admitted: Arc::new(Semaphore::new(threads + queued)),
            jobs,
            wait,
        }
    }

    /// One thread per core, at most 8 (each keeps 19 MiB), and 32 waiting per thread, each
    /// waiting up to two seconds: about what the threads get through in that time.
    pub fn for_this_machine() -> Self {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(8);
        Self::new(threads, 32 * threads, Duration::from_secs(2))
    }

    /// A place in the queue, or `None` when it is full.
    pub fn admit(&self) -> Option<CheckTicket> {
        let admitted = self.admitted.clone().try_acquire_owned().ok()?;
        Some(CheckTicket {
            admitted,
            jobs: self.jobs.clone(),
            wait: self.wait,
        })
    }
}

fn check_worker(rx: &Mutex<mpsc::Receiver<CheckJob>>) {
    let mut memory = Vec::new();
    loop {
        let job = match rx.lock().unwrap_or_else(PoisonError::into_inner).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // Nobody waits for it any more, or it waited too long: the caller answers 503.
        if job.reply.is_closed() || Instant::now() > job.start_by {
            let _ = job.reply.send(Err(ChecksBusy));
            continue;
        }
        let done = match &job.work {
            Work::Verify { password, stored } => {
                Done::Verified(verify_password_in(password, stored.as_deref(), &mut memory))
            }
            Work::Hash { password } => Done::Hashed(hash_password_in(password, &mut memory)),
        };
        let _ = job.reply.send(Ok(done));
    }
}

impl CheckTicket {
    /// Queues the check and waits for its verdict.
    pub async fn verify(
        self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, ChecksBusy> {
        match self.run(Work::Verify { password, stored }).await? {
            Done::Verified(ok) => Ok(ok),
            Done::Hashed(_) => Err(ChecksBusy),
        }
    }

    /// Queues the hashing of a new password and waits for its PHC string.
    pub async fn hash(self, password: String) -> Result<Result<String, HashError>, ChecksBusy> {
        match self.run(Work::Hash { password }).await? {
            Done::Hashed(h) => Ok(h),
            Done::Verified(_) => Err(ChecksBusy),
        }
    }

    async fn run(self, work: Work) -> Result<Done, ChecksBusy> {
        let (reply, verdict) = oneshot::channel();
        let job = CheckJob {
            work,
            start_by: Instant::now() + self.wait,
            reply,
            _admitted: self.admitted,
        };
        self.jobs.send(job).map_err(|_| ChecksBusy)?;
        verdict.await.map_err(|_| ChecksBusy)?
    }
}

/// Resolved tokens, kept briefly so a hot path does not query the database per request.
/// Entries live at most `ttl`, which bounds how long a revocation made by another process
/// takes to be seen here; revocations in this process evict at once.
/// A resolved token: who, when it expires (epoch ms), and when it was cached.
type CachedPrincipal = (Principal, i64, Instant);

#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<RwLock<HashMap<String, CachedPrincipal>>>,
    ttl: Duration,
}

impl TokenCache {
    const MAX_ENTRIES: usize = 100_000;

    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
        }
    }

    pub fn get(&self, hash: &str, now_ms: i64) -> Option<Principal> {
        let map = self.inner.read().ok()?;
        let (p, expires_at, cached) = map.get(hash)?;
        (cached.elapsed() < self.ttl && *expires_at > now_ms).then(|| p.clone())
    }

    /// Whether this token resolved in this process and has not expired, however long ago
    /// it was cached: enough to tell a real token from a made-up one without the database.
    /// A revocation seen here evicts it at once.
    pub fn validated(&self, hash: &str, now_ms: i64) -> bool {
        self.inner
            .read()
            .is_ok_and(|map| map.get(hash).is_some_and(|(_, exp, _)| *exp > now_ms))
    }

    pub fn put(&self, p: Principal, expires_at: i64) {
        if let Ok(mut map) = self.inner.write() {
            if map.len() >= Self::MAX_ENTRIES {
                let ttl = self.ttl;
                map.retain(|_, (_, _, cached)| cached.elapsed() < ttl);
                if map.len() >= Self::MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(p.token_hash.clone(), (p, expires_at, Instant::now()));
        }
    }

    pub fn evict(&self, hashes: &[String]) {
        if let Ok(mut map) = self.inner.write() {
            for h in hashes {
                map.remove(h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_unknown_users_never_do() {
        let mine = hash_password_in("s3cret", &mut Vec::new()).unwrap();
        assert!(verify_password("s3cret", Some(&mine)), "{mine}");
        assert!(!verify_password("s3cret!", Some(&mine)));
        assert!(
            mine.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{mine}"
        );
        let h = hash_password("s3cret").unwrap();
        assert!(verify_password("s3cret", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("quiver-dummy-password", None));
        assert!(!verify_password("s3cret", Some("not a phc string")));
    }

    #[test]
    fn a_reused_working_memory_gives_the_same_verdicts() {
        let h = hash_password("s3cret").unwrap();
        let mut memory = Vec::new();
        for _ in 0..2 {
            assert!(verify_password_in("s3cret", Some(&h), &mut memory));
            assert!(!verify_password_in("wrong", Some(&h), &mut memory));
            assert!(!verify_password_in("s3cret", None, &mut memory));
        }
    }

    #[test]
    fn tokens_are_256_bit_and_hashes_stable() {
        let t = new_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_eq!(token_hash("abc").len(), 64);
    }
}

/// Keys used since the last flush, with the latest use of each.
#[derive(Default)]
pub struct KeyUsage(Mutex<HashMap<String, i64>>);

impl KeyUsage {
    pub fn record(&self, id: &str, at: i64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let e = map.entry(id.to_owned()).or_insert(at);
        *e = (*e).max(at);
    }

    pub fn take(&self) -> Vec<(String, i64)> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.drain().collect()
    }
}
