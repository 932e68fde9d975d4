//! Shared helpers: a simulator per test and a client pointed at it.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use amazon_sim::{Faults, SimConfig, SimHandle};
use quiver_amazon::{
    AmazonClient, BreakerConfig, ClientConfig, Credentials, Endpoints, RetryPolicy,
};
use tokio::time::Instant;

pub async fn sim(cfg: SimConfig) -> SimHandle {
    amazon_sim::spawn(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub async fn default_sim() -> SimHandle {
    sim(SimConfig::default()).await
}

pub fn sim_credentials() -> Credentials {
    let d = SimConfig::default();
    Credentials {
        client_id: d.client_id,
        client_secret: d.client_secret,
        refresh_token: d.refresh_token,
    }
}

/// Fast retries so tests finish quickly; a breaker that stays out of the way unless a test
/// is about it.
pub fn config_for(base: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(
        Endpoints::single_host(&url::Url::parse(base).unwrap()),
        sim_credentials(),
    );
    cfg.call_timeout = Duration::from_secs(1);
    cfg.retry = RetryPolicy {
        max_attempts: 100,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    cfg.breaker = BreakerConfig {
        failure_threshold: 10_000,
        open_for: Duration::from_secs(5),
    };
    cfg
}

pub fn client(sim: &SimHandle) -> AmazonClient {
    AmazonClient::new(config_for(&sim.base_url())).unwrap()
}

pub fn client_with(sim: &SimHandle, tweak: impl FnOnce(&mut ClientConfig)) -> AmazonClient {
    let mut cfg = config_for(&sim.base_url());
    tweak(&mut cfg);
    AmazonClient::new(cfg).unwrap()
}

pub fn within(d: Duration) -> Instant {
    Instant::now() + d
}

pub fn secs(s: u64) -> Instant {
    within(Duration::from_secs(s))
}

pub fn faults(f: impl FnOnce(&mut Faults)) -> Faults {
    let mut faults = Faults::default();
    f(&mut faults);
    faults
}

/// Any numeric id works with the simulator.
pub const PROFILE: &str = "1234567890";
pub const ADVERTISER: &str = "1234567890";
pub const PUBLISHER: &str = "quiver";

/// Slack for timing assertions on a shared 2-core machine.
pub const MARGIN: Duration = Duration::from_millis(500);

/// A minimal HTTP server answering each request with `handler(request head)`.
pub async fn fake_server(
    handler: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = std::sync::Arc::new(handler);
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let (code, body) = handler(&String::from_utf8_lossy(&buf[..n]));
                let resp = format!(
                    "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

pub const FAKE_TOKEN: &str =
    r#"{"access_token":"Atza|fake","token_type":"bearer","expires_in":3600}"#;
