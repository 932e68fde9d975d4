//! Client configuration: where Amazon is, who we are, and how patient to be.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::Region;

/// Login with Amazon credentials. `Debug` never shows the secrets, so a config can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client id is sent in a plain header on every call, so it is not a secret.
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// The token endpoint and the three regional Ads API hosts, plus Login with Amazon's
/// per-region authorisation pages and token endpoints for brands' own authorisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Where the platform refresh token is refreshed.
    pub lwa_token_url: Url,
    pub na: Url,
    pub eu: Url,
    pub fe: Url,
    /// The consent pages (`/ap/oa`), NA, EU, FE.
    pub authorize: [Url; 3],
    /// The token endpoints of the authorisation-code grant and of brands' refreshes.
    pub token: [Url; 3],
}

fn region_slot(r: Region) -> usize {
    match r {
        Region::Na => 0,
        Region::Eu => 1,
        Region::Fe => 2,
    }
}

impl Endpoints {
    /// Amazon's production hosts.
    pub fn amazon() -> Self {
        let parse = constant_url;
        Self {
            lwa_token_url: parse("https://api.amazon.com/auth/o2/token"),
            na: parse(Region::Na.amazon_api_host()),
            eu: parse(Region::Eu.amazon_api_host()),
            fe: parse(Region::Fe.amazon_api_host()),
            // Amazon Ads API "Authorization URLs" and "token URLs" per region.
            authorize: [
                parse("https://www.amazon.com/ap/oa"),
                parse("https://eu.account.amazon.com/ap/oa"),
                parse("https://apac.account.amazon.com/ap/oa"),
            ],
            token: [
                parse("https://api.amazon.com/auth/o2/token"),
                parse("https://api.amazon.co.uk/auth/o2/token"),
                parse("https://api.amazon.co.jp/auth/o2/token"),
            ],
        }
    }

    /// Everything (all regions and the token endpoint) on one host: the simulator.
    pub fn single_host(base: &Url) -> Self {
        let mut lwa = base.clone();
        lwa.set_path(&format!(
            "{}/auth/o2/token",
            base.path().trim_end_matches('/')
        ));
        let mut authorize = base.clone();
        authorize.set_path(&format!("{}/ap/oa", base.path().trim_end_matches('/')));
        Self {
            authorize: [authorize.clone(), authorize.clone(), authorize],
            token: [lwa.clone(), lwa.clone(), lwa.clone()],
            lwa_token_url: lwa,
            na: base.clone(),
            eu: base.clone(),
            fe: base.clone(),
        }
    }

    pub fn authorize_url(&self, r: Region) -> &Url {
        &self.authorize[region_slot(r)]
    }

    pub fn token_url(&self, r: Region) -> &Url {
        &self.token[region_slot(r)]
    }

    pub fn for_region(&self, r: Region) -> &Url {
        match r {
            Region::Na => &self.na,
            Region::Eu => &self.eu,
            Region::Fe => &self.fe,
        }
    }
}

/// Only for literals in this file; `endpoints()` below proves they parse.
fn constant_url(s: &str) -> Url {
    #[allow(clippy::expect_used)]
    Url::parse(s).expect("constant URL literal")
}

/// Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
/// `[0, min(max_delay, base_delay * 2^(n-1))]`, so synchronized clients spread out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call including the first; the deadline usually ends the loop first.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

/// Per-region circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive transient failures (5xx, timeouts, connection errors) that open it.
    pub failure_threshold: u32,
    /// How long it stays open before letting one probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoints: Endpoints,
    pub credentials: Credentials,
    /// Upper bound of one attempt (token refresh included); never beyond the caller's deadline.
    pub call_timeout: Duration,
    pub retry: RetryPolicy,
    pub breaker: BreakerConfig,
    /// Refresh the access token when less than this is left of its lifetime (capped at half
    /// the lifetime, so short-lived tokens are not refreshed on every call).
    pub token_refresh_margin: Duration,
}

impl ClientConfig {
    /// Defaults: 1 s per attempt, 8 attempts, breaker 5 failures / 5 s, refresh 60 s early.
    pub fn new(endpoints: Endpoints, credentials: Credentials) -> Self {
        Self {
            endpoints,
            credentials,
            call_timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            token_refresh_margin: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let c = Credentials {
            client_id: "cid".into(),
            client_secret: "s3cret".into(),
            refresh_token: "Atzr|tok".into(),
        };
        let d = format!("{c:?}");
        assert!(d.contains("cid"));
        assert!(!d.contains("s3cret"));
        assert!(!d.contains("Atzr"));
    }

    #[test]
    fn endpoints() {
        let a = Endpoints::amazon();
        assert_eq!(
            a.lwa_token_url.as_str(),
            "https://api.amazon.com/auth/o2/token"
        );
        assert_eq!(
            a.for_region(Region::Eu).as_str(),
            "https://advertising-api-eu.amazon.com/"
        );
        assert_eq!(
            a.for_region(Region::Fe).host_str(),
            Some("advertising-api-fe.amazon.com")
        );
        assert_eq!(
            a.authorize_url(Region::Eu).as_str(),
            "https://eu.account.amazon.com/ap/oa"
        );
        assert_eq!(
            a.token_url(Region::Fe).as_str(),
            "https://api.amazon.co.jp/auth/o2/token"
        );
        let base = Url::parse("http://127.0.0.1:9090").expect("url");
        let s = Endpoints::single_host(&base);
        assert_eq!(
            s.lwa_token_url.as_str(),
            "http://127.0.0.1:9090/auth/o2/token"
        );
        assert_eq!(s.na, base);
        assert_eq!(
            s.authorize_url(Region::Fe).as_str(),
            "http://127.0.0.1:9090/ap/oa"
        );
        let prefixed = Url::parse("http://h/sim/").expect("url");
        assert_eq!(
            Endpoints::single_host(&prefixed).lwa_token_url.as_str(),
            "http://h/sim/auth/o2/token"
        );
    }
}
