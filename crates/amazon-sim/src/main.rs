//! The standalone simulator: `amazon-sim --listen 127.0.0.1:9090`.

use std::net::SocketAddr;
use std::time::Duration;

use amazon_sim::{Faults, SimConfig};
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "amazon-sim",
    about = "Amazon Attribution simulator for Quiver",
    after_help = "Login with Amazon (authorisation-code grant):\n  \
        GET  /ap/oa            consent page (client_id, scope=advertising::campaign_management,\n                         \
        response_type=code, redirect_uri, state); Approve / Deny\n  \
        POST /auth/o2/token    grant_type=authorization_code (codes single use, 5 min,\n                         \
        redirect_uri must match) or refresh_token\n\
        Simulated users alice, bob and carol each have their own profiles and advertisers.\n\
        Controls (never faulted):\n  \
        GET  /_sim/users                 users, profiles, advertisers\n  \
        POST /_sim/users/{login}/revoke  revoke the user's grants (invalid_grant on refresh)\n  \
        POST /_sim/oauth/expire-codes    expire every code issued so far\n  \
        PUT  /_sim/faults, /_sim/clock; POST /_sim/visits, /_sim/catalog; GET /_sim/truth"
)]
struct Args {
    #[arg(long, env = "AMAZON_SIM_LISTEN", default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    #[arg(long, env = "AMAZON_SIM_SEED", default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    timeout_rate: f64,
    /// Answer every Amazon request with 503.
    #[arg(long)]
    outage: bool,
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    #[arg(long, env = "AMAZON_SIM_PUBLISHER_ID", default_value = "quiver")]
    publisher_id: String,
    #[arg(
        long,
        env = "AMAZON_SIM_CLIENT_ID",
        default_value = "quiver-sim-client"
    )]
    client_id: String,
    #[arg(
        long,
        env = "AMAZON_SIM_CLIENT_SECRET",
        default_value = "quiver-sim-secret",
        hide_env_values = true
    )]
    client_secret: String,
    #[arg(
        long,
        env = "AMAZON_SIM_REFRESH_TOKEN",
        default_value = "quiver-sim-refresh",
        hide_env_values = true
    )]
    refresh_token: String,
    #[arg(long, default_value_t = 3600)]
    access_token_ttl_secs: u64,
    /// Pin "today" (YYYY-MM-DD); default follows the real UTC date.
    #[arg(long, value_parser = parse_date)]
    today: Option<time::Date>,
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    quiver_domain::parse_report_date(s).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let faults = Faults {
        latency_ms: args.latency_ms,
        error_rate: args.error_rate,
        throttle_rate: args.throttle_rate,
        timeout_rate: args.timeout_rate,
        outage: args.outage,
        retry_after_secs: args.retry_after_secs,
    };
    if let Err(e) = faults.validate() {
        eprintln!("amazon-sim: {e}");
        std::process::exit(2);
    }
    let config = SimConfig {
        seed: args.seed,
        faults,
        client_id: args.client_id,
        client_secret: args.client_secret,
        refresh_token: args.refresh_token,
        access_token_ttl: Duration::from_secs(args.access_token_ttl_secs),
        publisher_id: args.publisher_id,
        today: args.today,
    };
    let sim = amazon_sim::spawn(config, args.listen).await?;
    println!("amazon-sim listening on {}", sim.base_url());
    stop_signal().await?;
    sim.shutdown();
    Ok(())
}

/// Ctrl-C for people, SIGTERM for process managers and containers.
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
