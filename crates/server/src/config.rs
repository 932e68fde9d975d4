//! Runtime configuration: flags, each with its `QUIVER_*` environment variable (spec §8),
//! and the settings types the services and background jobs are built from.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use quiver_amazon::TagCacheConfig;

use crate::auth::PasswordChecks;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://quiver.db";

/// Where Quiver gets Amazon Attribution from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmazonMode {
    /// The simulator, started in-process and spoken to over loopback HTTP.
    Sim,
    /// One host for every region and Login with Amazon (a standalone `amazon-sim`).
    BaseUrl(url::Url),
    /// Amazon's production hosts.
    Amazon,
}

impl AmazonMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "sim" => Ok(Self::Sim),
            "amazon" => Ok(Self::Amazon),
            other => url::Url::parse(other)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .map(Self::BaseUrl)
                .ok_or_else(|| format!("QUIVER_AMAZON must be 'sim', 'amazon' or an http(s) base URL, not '{other}'")),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "QUIVER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Amazon Attribution source: `sim` (in-process simulator; the default only with the
    /// default SQLite database), a base URL such as http://127.0.0.1:9090 (a standalone
    /// amazon-sim), or `amazon` (Amazon's real hosts; needs the three credentials below).
    #[arg(long, env = "QUIVER_AMAZON")]
    pub amazon: Option<String>,

    /// Login with Amazon client id (with `QUIVER_AMAZON=amazon`).
    #[arg(long, env = "QUIVER_AMAZON_CLIENT_ID", hide_env_values = true)]
    pub amazon_client_id: Option<String>,

    /// Login with Amazon client secret.
    #[arg(long, env = "QUIVER_AMAZON_CLIENT_SECRET", hide_env_values = true)]
    pub amazon_client_secret: Option<String>,

    /// Login with Amazon refresh token.
    #[arg(long, env = "QUIVER_AMAZON_REFRESH_TOKEN", hide_env_values = true)]
    pub amazon_refresh_token: Option<String>,

    /// Quiver's own publisher id in Amazon Attribution.
    #[arg(long, env = "QUIVER_AMAZON_PUBLISHER_ID", default_value = "quiver")]
    pub amazon_publisher_id: String,

    /// Seed the demo data into an empty database: 1 or 0. Default: 1 only with the
    /// default SQLite database.
    #[arg(long, env = "QUIVER_DEMO")]
    pub demo: Option<String>,

    /// With the demo enabled, also create the demo creator's sample links and their report
    /// history in the background: 1 or 0.
    #[arg(long, env = "QUIVER_DEMO_LINKS", default_value = "1")]
    pub demo_links: String,

    /// Total time link creation may spend on Amazon, retries included, in milliseconds.
    #[arg(long, env = "QUIVER_LINK_DEADLINE_MS", default_value_t = 3000)]
    pub link_deadline_ms: u64,

    /// Access-token lifetime in seconds.
    #[arg(long, env = "QUIVER_TOKEN_TTL", default_value_t = 3600)]
    pub token_ttl: u64,

    /// Requests per minute per token (and per client address on unauthenticated
    /// routes); 0 turns rate limiting off. Login throttling stays on regardless.
    #[arg(long, env = "QUIVER_RATE_LIMIT", default_value_t = 1200)]
    pub rate_limit: u32,

    /// Origins allowed to call the API from a browser (comma-separated), or `*`.
    /// Unset: no cross-origin access (the web app is served from the same origin).
    #[arg(long, env = "QUIVER_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,

    /// SMTP server for bulk-job emails, e.g. smtp://127.0.0.1:2525. Unset: no email.
    #[arg(long, env = "QUIVER_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The key that encrypts stored secrets (brands' Amazon refresh tokens, queued account
    /// e-mails): 32 bytes in base64. Unset with SQLite: a key file `<database>.key` beside
    /// the database.
    #[arg(long, env = "QUIVER_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Base of every link Quiver puts in an e-mail, e.g. https://quiver.example.com.
    /// Default: http:// and the listen address.
    #[arg(long, env = "QUIVER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Who may sign up: `open` (anyone), `invite` (only by accepting a brand's
    /// invitation) or `closed`. Default: `open` with the demo, `invite` otherwise.
    #[arg(long, env = "QUIVER_SIGNUP")]
    pub signup: Option<String>,

    /// Whether seller accounts may sign up too: 1 or 0.
    #[arg(long, env = "QUIVER_SIGNUP_SELLERS", default_value = "0")]
    pub signup_sellers: String,

    #[command(flatten)]
    pub bulk: BulkConfig,

    #[command(flatten)]
    pub quotas: Quotas,

    #[command(flatten)]
    pub connections: ConnectionLimits,

    #[command(flatten)]
    pub clicks: ClickConfig,

    #[command(flatten)]
    pub webhooks: crate::webhooks::WebhookConfig,

    /// Seconds a cached Amazon tag template is served without asking Amazon again.
    #[arg(long, env = "QUIVER_TAG_TTL_SECS", default_value_t = 24 * 3600)]
    pub tag_ttl_secs: u64,

    /// When Amazon fails, cached tag templates up to this many seconds old are still used.
    #[arg(long, env = "QUIVER_TAG_MAX_STALE_SECS", default_value_t = 7 * 24 * 3600)]
    pub tag_max_stale_secs: u64,

    /// Seconds between report ingestions inside `serve` (one also runs at start); 0 disables.
    #[arg(long, env = "QUIVER_INGEST_INTERVAL_SECS", default_value_t = 3600)]
    pub ingest_interval_secs: u64,

    /// Log format: `text` or `json`.
    #[arg(long, env = "QUIVER_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

/// Per-account limits, so one account cannot take the whole queue or Amazon's budget.
/// Each has its `QUIVER_*` variable; 0 turns that limit off. Beyond one: 429 `quota_exceeded`.
#[derive(Debug, Clone, Copy, Args)]
pub struct Quotas {
    /// Bulk jobs one account may have queued or running at once.
    #[arg(long, env = "QUIVER_QUOTA_BULK_JOBS", default_value_t = 3)]
    pub quota_bulk_jobs: u32,

    /// Bulk items one account may have waiting, over all its unfinished jobs (the new
    /// job's included).
    #[arg(long, env = "QUIVER_QUOTA_BULK_ITEMS", default_value_t = 10_000)]
    pub quota_bulk_items: u32,

    /// Links one account may create in any 24 hours, counting bulk items still waiting.
    #[arg(long, env = "QUIVER_QUOTA_LINKS_PER_DAY", default_value_t = 50_000)]
    pub quota_links_per_day: u32,
}

impl ServeConfig {
    pub fn link_deadline(&self) -> Duration {
        Duration::from_millis(self.link_deadline_ms)
    }

    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl)
    }

    /// The Amazon source, refusing to guess outside the zero-configuration setup so a
    /// production deployment never hands out simulated tags.
    pub fn amazon_mode(&self, database_url: &str) -> Result<AmazonMode, String> {
        match &self.amazon {
            Some(s) => AmazonMode::parse(s),
            None if database_url == DEFAULT_DATABASE_URL => Ok(AmazonMode::Sim),
            None => Err(
                "QUIVER_AMAZON must be set explicitly with a non-default database \
                 (sim, amazon, or the base URL of an amazon-sim)"
                    .into(),
            ),
        }
    }

    pub fn demo_enabled(&self, database_url: &str) -> Result<bool, String> {
        match self.demo.as_deref() {
            Some(v) => switch("QUIVER_DEMO", v),
            None => Ok(database_url == DEFAULT_DATABASE_URL),
        }
    }

    /// Whether `serve` creates the demo creator's sample links (only with the demo).
    pub fn demo_links_enabled(&self, database_url: &str) -> Result<bool, String> {
        Ok(self.demo_enabled(database_url)? && switch("QUIVER_DEMO_LINKS", &self.demo_links)?)
    }

    /// Freshness of cached tag templates; they are renewed ahead of expiry by a
    /// twenty-fourth of their lifetime, at most an hour.
    pub fn tag_cache(&self) -> TagCacheConfig {
        TagCacheConfig {
            ttl: Duration::from_secs(self.tag_ttl_secs),
            max_stale: Duration::from_secs(self.tag_max_stale_secs),
            refresh_ahead: Duration::from_secs(self.tag_ttl_secs / 24)
                .min(Duration::from_secs(3600)),
        }
    }

    pub fn ingest_interval(&self) -> Option<Duration> {
        (self.ingest_interval_secs > 0).then(|| Duration::from_secs(self.ingest_interval_secs))
    }
}

/// A 1/0 setting (`true`/`false` too, which is what a TOML boolean becomes).
fn switch(name: &str, value: &str) -> Result<bool, String> {
    match value.trim() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        other => Err(format!("{name} must be 0 or 1, not '{other}'")),
    }
}

/// Tuning of the bulk worker (`quiver serve` flags, each with its `QUIVER_*` variable).
#[derive(Debug, Clone, Args)]
pub struct BulkConfig {
    /// Items one process works on at once (bounded so Amazon's limits hold).
    #[arg(long, env = "QUIVER_BULK_CONCURRENCY", default_value_t = 8)]
    pub bulk_concurrency: usize,

    /// Seconds a claimed item stays leased; a crashed worker's items return after this.
    /// Must exceed the link deadline by a wide margin.
    #[arg(long, env = "QUIVER_BULK_LEASE_SECS", default_value_t = 60)]
    pub bulk_lease_secs: u64,

    /// First retry delay for items that failed because Amazon was unavailable (doubles
    /// each attempt, capped at a minute), also used for e-mail retries.
    #[arg(long, env = "QUIVER_BULK_RETRY_BASE_MS", default_value_t = 2000)]
    pub bulk_retry_base_ms: u64,

    /// Attempts per item before "Amazon unavailable" becomes the item's error.
    #[arg(long, env = "QUIVER_BULK_MAX_ATTEMPTS", default_value_t = 6)]
    pub bulk_max_attempts: u32,

    /// Attempts to e-mail a job's results before giving up (the CSV stays downloadable).
    #[arg(long, env = "QUIVER_SMTP_MAX_ATTEMPTS", default_value_t = 5)]
    pub smtp_max_attempts: u32,

    /// Sender address of bulk-job e-mails.
    #[arg(
        long,
        env = "QUIVER_SMTP_FROM",
        default_value = "Quiver <quiver@localhost>"
    )]
    pub smtp_from: String,

    /// How often an idle worker looks for work other processes queued, in milliseconds.
    #[arg(long, env = "QUIVER_BULK_POLL_MS", default_value_t = 500)]
    pub bulk_poll_ms: u64,
}

impl BulkConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.bulk_lease_secs.max(1))
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.bulk_poll_ms.max(10))
    }

    /// Delay before attempt `attempt + 1`: exponential from the base, capped at a minute,
    /// with up to 25% jitter so retries of many items spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.bulk_retry_base_ms.max(1);
        let ms = base.saturating_mul(1u64 << attempt.min(16)).min(60_000);
        let jitter = rand::random_range(0..=ms / 4);
        Duration::from_millis(ms + jitter)
    }
}

/// How long clients may take, and how many connections one address may hold.
#[derive(Debug, Clone, Args)]
pub struct ConnectionLimits {
    /// Seconds a client has to send a request's headers, counted from when the connection
    /// is ready for the request (so also how long an idle keep-alive connection is kept);
    /// 0 disables.
    #[arg(long, env = "QUIVER_HEADER_READ_TIMEOUT_SECS", default_value_t = 30)]
    pub header_read_timeout_secs: u64,

    /// Seconds to wait for the next part of a request body before answering 408
    /// `request_timeout` (a wait between reads, not a limit on the whole upload); 0 disables.
    #[arg(long, env = "QUIVER_BODY_READ_TIMEOUT_SECS", default_value_t = 30)]
    pub body_read_timeout_secs: u64,

    /// Seconds a connection may read and write nothing, while no request on it is being
    /// handled, before it is closed (a client that stops reading its response); 0 disables.
    #[arg(long, env = "QUIVER_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,

    /// Open connections allowed from one client address; more are closed at once. 0 for
    /// no cap. Behind a reverse proxy every connection comes from the proxy: raise it.
    #[arg(long, env = "QUIVER_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64)]
    pub max_connections_per_client: usize,
}

fn secs(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

impl ConnectionLimits {
    pub fn header_read_timeout(&self) -> Option<Duration> {
        secs(self.header_read_timeout_secs)
    }

    pub fn body_read_timeout(&self) -> Option<Duration> {
        secs(self.body_read_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Option<Duration> {
        secs(self.idle_timeout_secs)
    }
}

/// Failed-login limits. Counted in the database, so they hold across processes.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    pub per_username: i64,
    pub per_client: i64,
    pub window: Duration,
    /// Concurrent password checks: past it, logins get 503 `server_busy`.
    pub checks: PasswordChecks,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            per_username: 10,
            per_client: 50,
            window: Duration::from_secs(15 * 60),
            checks: PasswordChecks::for_this_machine(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let cfg = BulkConfig {
            bulk_concurrency: 8,
            bulk_lease_secs: 60,
            bulk_retry_base_ms: 1000,
            bulk_max_attempts: 6,
            smtp_max_attempts: 5,
            smtp_from: String::new(),
            bulk_poll_ms: 500,
        };
        for (attempt, base) in [(0u32, 1000u64), (1, 2000), (3, 8000), (10, 60_000)] {
            let d = cfg.backoff(attempt).as_millis() as u64;
            assert!(d >= base && d <= base + base / 4, "{attempt}: {d}");
        }
    }
}

/// `QUIVER_SIGNUP`: who may create an account without an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupMode {
    /// Anyone (the demo default).
    Open,
    /// Only by accepting a brand's invitation (the default outside the demo).
    Invite,
    /// Nobody: accounts come from the CLI; invitations are accepted by existing accounts.
    Closed,
}

impl SignupMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            other => Err(format!(
                "QUIVER_SIGNUP must be open, invite or closed, not '{other}'"
            )),
        }
    }
}

/// The settings of joining, resolved from `quiver serve`'s configuration.
#[derive(Debug, Clone)]
pub struct JoinSettings {
    pub mode: SignupMode,
    pub sellers: bool,
    pub public_url: Option<String>,
}

impl JoinSettings {
    pub fn from_config(cfg: &ServeConfig, demo: bool) -> Result<Self, String> {
        let mode = match cfg.signup.as_deref() {
            Some(s) => SignupMode::parse(s)?,
            None if demo => SignupMode::Open,
            None => SignupMode::Invite,
        };
        let sellers = match cfg.signup_sellers.trim() {
            "1" | "true" => true,
            "0" | "false" | "" => false,
            other => {
                return Err(format!(
                    "QUIVER_SIGNUP_SELLERS must be 0 or 1, not '{other}'"
                ));
            }
        };
        let public_url = match cfg.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => {
                let parsed = url::Url::parse(u)
                    .ok()
                    .filter(|p| matches!(p.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        format!("QUIVER_PUBLIC_URL must be an http(s) URL, not '{u}'")
                    })?;
                Some(parsed.as_str().trim_end_matches('/').to_owned())
            }
        };
        Ok(Self {
            mode,
            sellers,
            public_url,
        })
    }
}

/// Short links and click counting (issue #19); each has its `QUIVER_*` variable.
#[derive(Debug, Clone, Args)]
pub struct ClickConfig {
    /// Base of short URLs when they live on their own host, e.g. https://qvr.example;
    /// default `QUIVER_PUBLIC_URL`.
    #[arg(long, env = "QUIVER_SHORT_URL")]
    pub short_url: Option<String>,

    /// A header a trusted proxy sets to the client's country, e.g. `CF-IPCountry`. Unset:
    /// every click's country is `unknown`. Set it only behind a proxy that overwrites it.
    #[arg(long, env = "QUIVER_COUNTRY_HEADER")]
    pub country_header: Option<String>,

    /// A header a trusted proxy sets to the client's address (first value used), e.g.
    /// `CF-Connecting-IP`, for telling repeat clicks apart. Unset: the peer address.
    #[arg(long, env = "QUIVER_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,

    /// Seconds within which a second request from the same client to the same link is a
    /// repeat, not counted; 0 counts every one.
    #[arg(long, env = "QUIVER_CLICK_REPEAT_SECS", default_value_t = 30)]
    pub click_repeat_secs: u64,

    /// Milliseconds between writes of the click counts (at least 1000: at most once a
    /// second); a kill -9 loses at most this much.
    #[arg(long, env = "QUIVER_CLICK_FLUSH_MS", default_value_t = 1000)]
    pub click_flush_ms: u64,

    /// Milliseconds between looks for links other processes created (at most 5000).
    #[arg(long, env = "QUIVER_SHORT_POLL_MS", default_value_t = 1000)]
    pub short_poll_ms: u64,
}

impl ClickConfig {
    /// The settings, or why they are wrong.
    pub fn settings(&self) -> Result<crate::clicks::ClickSettings, String> {
        let header = |v: &Option<String>, var: &str| -> Result<Option<String>, String> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(h) if axum::http::HeaderName::from_bytes(h.as_bytes()).is_ok() => {
                    Ok(Some(h.to_ascii_lowercase()))
                }
                Some(h) => Err(format!("{var} must be a header name, not '{h}'")),
            }
        };
        let short_base = match self.short_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") => {
                    Some(u.trim_end_matches('/').to_owned())
                }
                _ => {
                    return Err(format!(
                        "QUIVER_SHORT_URL must be an http(s) URL, not '{u}'"
                    ));
                }
            },
        };
        Ok(crate::clicks::ClickSettings {
            short_base,
            country_header: header(&self.country_header, "QUIVER_COUNTRY_HEADER")?,
            client_ip_header: header(&self.client_ip_header, "QUIVER_CLIENT_IP_HEADER")?,
            repeat_window: Duration::from_secs(self.click_repeat_secs),
            flush_every: Duration::from_millis(self.click_flush_ms.max(1000)),
            poll_every: Duration::from_millis(self.short_poll_ms.clamp(100, 5000)),
        })
    }
}
