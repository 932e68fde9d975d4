//! The operator's webhook settings (`quiver serve` flags, each with its `QUIVER_*`
//! variable) and what they resolve to.

use std::time::Duration;

use clap::Args;

/// Retry delays after each failed attempt: about 24 h in all (5 s + 5 min + 30 min + 2 h
/// + 5 h + 10 h + 6.5 h), each with up to ±10 % jitter; after the last, the delivery gives up.
pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,390m";

#[derive(Debug, Clone, Args)]
pub struct WebhookConfig {
    /// Allow `http://` endpoint URLs (default: only `https://`): 1 or 0.
    #[arg(long, env = "QUIVER_WEBHOOK_ALLOW_HTTP", default_value = "0")]
    pub webhook_allow_http: String,

    /// Allow endpoints on loopback, private, link-local and metadata addresses: 1 or 0.
    /// For tests and local setups only: it lets endpoint owners reach the server's network.
    #[arg(long, env = "QUIVER_WEBHOOK_ALLOW_PRIVATE", default_value = "0")]
    pub webhook_allow_private: String,

    /// Retry delays after each failed attempt, comma-separated (`500ms`, `5s`, `5m`, `2h`).
    #[arg(long, env = "QUIVER_WEBHOOK_RETRY_SCHEDULE", default_value = DEFAULT_SCHEDULE)]
    pub webhook_retry_schedule: String,

    /// Milliseconds an endpoint has to answer an attempt (at most 10000).
    #[arg(long, env = "QUIVER_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,

    /// Milliseconds between looks for deliveries other processes enqueued.
    #[arg(long, env = "QUIVER_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub webhook_poll_ms: u64,

    /// Endpoints one account may register.
    #[arg(long, env = "QUIVER_WEBHOOK_MAX_ENDPOINTS", default_value_t = 20)]
    pub webhook_max_endpoints: usize,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub allow_http: bool,
    pub allow_private: bool,
    pub schedule: Vec<Duration>,
    pub timeout: Duration,
    pub poll_every: Duration,
    pub max_endpoints: usize,
    /// An endpoint failing this long (with no success) is disabled and its owner e-mailed.
    pub disable_after: Duration,
    /// How long the secret before a rotation keeps signing.
    pub rotation_overlap: Duration,
    /// How long a claimed delivery stays leased: well past the timeout.
    pub lease: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            schedule: parse_schedule(DEFAULT_SCHEDULE).unwrap_or_default(),
            timeout: Duration::from_secs(10),
            poll_every: Duration::from_secs(1),
            max_endpoints: 20,
            disable_after: Duration::from_secs(5 * 24 * 3600),
            rotation_overlap: Duration::from_secs(24 * 3600),
            lease: Duration::from_secs(42),
        }
    }
}

fn flag(v: &str, var: &str) -> Result<bool, String> {
    match v.trim() {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        other => Err(format!("{var} must be 1 or 0, not '{other}'")),
    }
}

/// `5s,5m,30m` → durations; units `ms`, `s`, `m`, `h`.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let bad = |p: &str| {
        format!("QUIVER_WEBHOOK_RETRY_SCHEDULE: '{p}' is not a delay like 500ms, 5s, 5m or 2h")
    };
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let split = p
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(|| bad(p))?;
            let (n, unit) = p.split_at(split);
            let n: u64 = n.parse().map_err(|_| bad(p))?;
            let ms = match unit {
                "ms" => n,
                "s" => n * 1000,
                "m" => n * 60_000,
                "h" => n * 3_600_000,
                _ => return Err(bad(p)),
            };
            Ok(Duration::from_millis(ms))
        })
        .collect()
}

impl WebhookConfig {
    pub fn settings(&self) -> Result<WebhookSettings, String> {
        let timeout = Duration::from_millis(self.webhook_timeout_ms.clamp(100, 10_000));
        Ok(WebhookSettings {
            allow_http: flag(&self.webhook_allow_http, "QUIVER_WEBHOOK_ALLOW_HTTP")?,
            allow_private: flag(&self.webhook_allow_private, "QUIVER_WEBHOOK_ALLOW_PRIVATE")?,
            schedule: parse_schedule(&self.webhook_retry_schedule)?,
            timeout,
            poll_every: Duration::from_millis(self.webhook_poll_ms.clamp(20, 60_000)),
            max_endpoints: self.webhook_max_endpoints.max(1),
            // Leaves room for a few attempts per claim; a killed process's leases return after it.
            lease: timeout * 4 + Duration::from_secs(2),
            ..WebhookSettings::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_about_a_day() {
        let s = parse_schedule(DEFAULT_SCHEDULE).unwrap();
        let total: Duration = s.iter().sum();
        assert_eq!(s.len(), 7);
        assert_eq!(
            total.as_secs(),
            5 + 300 + 1800 + 7200 + 18000 + 36000 + 23400
        );
        assert!(total.as_secs() >= 23 * 3600 && total.as_secs() <= 25 * 3600);
        assert!(parse_schedule("5x").is_err());
        assert_eq!(
            parse_schedule("200ms, 1s").unwrap(),
            vec![Duration::from_millis(200), Duration::from_secs(1)]
        );
    }
}
