//! Runtime configuration: flags, each with its `QUIVER_*` environment variable (spec §8).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

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
    pub bulk: crate::jobs::BulkConfig,

    #[command(flatten)]
    pub quotas: Quotas,

    #[command(flatten)]
    pub connections: crate::connections::ConnectionLimits,

    /// Seconds a cached Amazon tag template is served without asking Amazon again.
    #[arg(long, env = "QUIVER_TAG_TTL_SECS", default_value_t = 24 * 3600)]
    pub tag_ttl_secs: u64,

    /// When Amazon fails, cached tag templates up to this many seconds old are still used.
    #[arg(long, env = "QUIVER_TAG_MAX_STALE_SECS", default_value_t = 7 * 24 * 3600)]
    pub tag_max_stale_secs: u64,

    /// Seconds between report ingestions inside `serve` (one also runs at start); 0 disables.
    #[arg(long, env = "QUIVER_INGEST_INTERVAL_SECS", default_value_t = 3600)]
    pub ingest_interval_secs: u64,

    /// Skip creating the demo creator's links (tests want an empty link list).
    #[arg(long, hide = true)]
    pub no_demo_links: bool,

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
        match self.demo.as_deref().map(str::trim) {
            Some("1") | Some("true") => Ok(true),
            Some("0") | Some("false") => Ok(false),
            Some(other) => Err(format!("QUIVER_DEMO must be 0 or 1, not '{other}'")),
            None => Ok(database_url == DEFAULT_DATABASE_URL),
        }
    }
}
