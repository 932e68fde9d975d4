//! Login with Amazon: the access-token cache.
//!
//! Tokens are refreshed ahead of expiry; concurrent callers that find no usable token share
//! one refresh (the first takes the lock and fetches, the others wait and reuse its result,
//! even when it failed, so an outage of the token endpoint is not multiplied by the number
//! of waiting callers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::HeaderValue;
use tokio::time::Instant;

use crate::config::Credentials;
use crate::error::AmazonError;
use crate::wire::{LwaError, LwaTokenResponse};

/// A usable access token, with the `Authorization` header value prebuilt because it is sent
/// on every call.
#[derive(Debug)]
pub(crate) struct AccessToken {
    pub bearer: HeaderValue,
    refresh_at: Instant,
    expires_at: Instant,
}

/// After a failed refresh, how long a still-valid old token is used without asking again.
const REFRESH_COOL_DOWN: Duration = Duration::from_secs(1);

struct Failure {
    at: Instant,
    error: AmazonError,
}

pub(crate) struct TokenCache {
    http: reqwest::Client,
    url: url::Url,
    credentials: Credentials,
    margin: Duration,
    current: RwLock<Option<Arc<AccessToken>>>,
    refresh: tokio::sync::Mutex<Option<Failure>>,
    refreshes: AtomicU64,
}

impl TokenCache {
    pub fn new(
        http: reqwest::Client,
        url: url::Url,
        credentials: Credentials,
        margin: Duration,
    ) -> Self {
        Self {
            http,
            url,
            credentials,
            margin,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
        }
    }

    pub fn refresh_token(&self) -> &str {
        &self.credentials.refresh_token
    }

    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    fn current(&self) -> Option<Arc<AccessToken>> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, t: Option<Arc<AccessToken>>) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = t;
    }

    fn fresh(&self, now: Instant) -> Option<Arc<AccessToken>> {
        self.current().filter(|t| now < t.refresh_at)
    }

    /// A token that should be valid for a while.
    pub async fn token(&self) -> Result<Arc<AccessToken>, AmazonError> {
        let asked = Instant::now();
        if let Some(t) = self.fresh(asked) {
            return Ok(t);
        }
        let mut last_failure = self.refresh.lock().await;
        if let Some(t) = self.fresh(Instant::now()) {
            return Ok(t);
        }
        if let Some(f) = last_failure.as_ref() {
            if f.at >= asked {
                return self.fallback(f.error.clone());
            }
            // While the old token still works, ask the token endpoint at most once per
            // cool-down instead of once per API call.
            if f.at.elapsed() < REFRESH_COOL_DOWN
                && let Ok(t) = self.fallback(f.error.clone())
            {
                return Ok(t);
            }
        }
        match self.fetch().await {
            Ok(t) => {
                *last_failure = None;
                self.set(Some(t.clone()));
                Ok(t)
            }
            Err(error) => {
                *last_failure = Some(Failure {
                    at: Instant::now(),
                    error: error.clone(),
                });
                self.fallback(error)
            }
        }
    }

    /// After a failed refresh: we refresh early, so a token not yet expired is still worth
    /// trying while the token endpoint is having trouble.
    fn fallback(&self, error: AmazonError) -> Result<Arc<AccessToken>, AmazonError> {
        match self.current().filter(|t| Instant::now() < t.expires_at) {
            Some(t) if error.is_transient() => Ok(t),
            _ => Err(error),
        }
    }

    /// Drops `used` after Amazon rejected it, unless someone already replaced it.
    pub fn invalidate(&self, used: &Arc<AccessToken>) {
        let mut cur = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, used)) {
            *cur = None;
        }
    }

    /// Replaces the token with one Amazon will reject (for tests of the 401 path).
    pub fn poison(&self) {
        let far = Instant::now() + Duration::from_secs(86_400);
        self.set(Some(Arc::new(AccessToken {
            bearer: HeaderValue::from_static("Bearer poisoned"),
            refresh_at: far,
            expires_at: far,
        })));
    }

    async fn fetch(&self) -> Result<Arc<AccessToken>, AmazonError> {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.credentials.refresh_token.as_str()),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.as_str()),
        ];
        let sent = Instant::now();
        let tok = post_token_form(&self.http, self.url.clone(), &form).await?;
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", tok.access_token)).map_err(|_| {
                AmazonError::Decode("LwA access token is not a valid header value".into())
            })?;
        bearer.set_sensitive(true);
        let lifetime = Duration::from_secs(tok.expires_in);
        let early = self.margin.min(lifetime / 2);
        // Measured from when the request was sent, so the token never outlives Amazon's view.
        Ok(Arc::new(AccessToken {
            bearer,
            refresh_at: sent + (lifetime - early),
            expires_at: sent + lifetime,
        }))
    }
}

/// A refresh token from the authorisation-code grant. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    refresh_token: String,
}

impl Grant {
    pub(crate) fn new(refresh_token: String) -> Self {
        Self { refresh_token }
    }

    /// The refresh token itself: store it encrypted, never log it.
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Grant(<redacted>)")
    }
}

/// POSTs a form to a Login with Amazon token endpoint; maps OAuth2 errors to
/// [`AmazonError::Auth`] with the `error` code first (`invalid_grant: ...`).
pub(crate) async fn post_token_form(
    http: &reqwest::Client,
    url: url::Url,
    form: &[(&str, &str)],
) -> Result<LwaTokenResponse, AmazonError> {
    let resp = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|e| AmazonError::from_reqwest(&e))?;
    let status = resp.status().as_u16();
    let retry_after = crate::client::retry_after_header(resp.headers());
    let body = resp
        .bytes()
        .await
        .map_err(|e| AmazonError::from_reqwest(&e))?;
    if !(200..300).contains(&status) {
        let details = match serde_json::from_slice::<LwaError>(&body) {
            Ok(e) if e.error_description.is_empty() => e.error,
            Ok(e) => format!("{}: {}", e.error, e.error_description),
            Err(_) => crate::client::body_excerpt(&body),
        };
        return Err(match status {
            // OAuth2 reports bad grants and clients with 400/401 (and some servers 403):
            // the credentials are wrong, no retry can fix that.
            400 | 401 | 403 => AmazonError::Auth(details),
            _ => AmazonError::from_status(status, details, retry_after),
        });
    }
    serde_json::from_slice(&body).map_err(|e| AmazonError::Decode(format!("LwA token: {e}")))
}
