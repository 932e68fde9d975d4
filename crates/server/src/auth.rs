//! Accounts' credentials: argon2id password hashes, opaque bearer tokens stored as
//! SHA-256 hashes, the principal every authenticated request carries, and the cache of
//! resolved tokens. The extractors that resolve a request live in `http::extract`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quiver_domain::AccountKind;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Who is calling: resolved from a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub public_id: String,
    pub email: String,
    pub kind: AccountKind,
    pub token_hash: String,
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

/// Verifies in constant work whether or not the account exists: an unknown user is checked
/// against a fixed hash, so timing does not reveal which usernames are registered.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("quiver-dummy-password").unwrap_or_default());
    let (hash, exists) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && exists
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
        let h = hash_password("s3cret").unwrap();
        assert!(verify_password("s3cret", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("quiver-dummy-password", None));
        assert!(!verify_password("s3cret", Some("not a phc string")));
    }

    #[test]
    fn tokens_are_256_bit_and_hashes_stable() {
        let t = new_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_eq!(token_hash("abc").len(), 64);
    }
}
