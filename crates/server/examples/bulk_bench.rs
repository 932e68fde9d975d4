//! Measures one 5,000-item bulk job against 5,000 sequential single-link requests, both
//! through HTTP to an in-process Quiver with the simulator adding 20 ms to every Amazon call.
//!
//! `cargo run --release -p quiver --example bulk_bench` (SQLite in a temporary directory;
//! set `QUIVER_BENCH_DATABASE_URL=postgres://...` for PostgreSQL, on an empty database).
//! `QUIVER_BENCH_ITEMS` changes the count (default 5000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use clap::Parser;
use quiver::cli::{Cli, Command, serve};
use serde_json::{Value, json};

const MARKETS: [&str; 3] = ["amazon.com", "amazon.de", "amazon.co.uk"];

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("QUIVER_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("QUIVER_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let cli = Cli::try_parse_from([
        "quiver",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--amazon",
        "sim",
        "--demo",
        "1",
        "--demo-links",
        "0",
        "--rate-limit",
        "0",
        "--bulk-poll-ms",
        "20",
    ])
    .unwrap();
    let Command::Serve(cfg) = cli.command else {
        unreachable!()
    };
    let running = serve::start(&url, &cfg).await.unwrap();
    let sim = running.amazon.sim.as_ref().unwrap();
    sim.set_faults(amazon_sim::Faults {
        latency_ms: 20,
        ..sim.faults()
    });
    let base = running.base_url();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let login: Value = http
        .post(format!("{base}/token"))
        .form(&[
            ("username", "creator@example.com"),
            ("password", "quiver-demo"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let item = |i: usize, kind: &str| json!({"asin": "B0D45KS7QM", "link_name": format!("{kind}-{i}"), "marketplace": MARKETS[i % 3]});
    println!(
        "engine: {}; {n} links each way; simulator latency 20 ms",
        url.split(':').next().unwrap_or("")
    );

    let started = Instant::now();
    for i in 0..n {
        let r = http
            .post(format!("{base}/generate_attribution_link"))
            .bearer_auth(&token)
            .json(&item(i, "single"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let single = started.elapsed();
    report("sequential single requests", n, single);

    let links: Vec<Value> = (0..n).map(|i| item(i, "bulk")).collect();
    let started = Instant::now();
    let r: Value = http
        .post(format!("{base}/bulk_generate_attribution_links"))
        .bearer_auth(&token)
        .json(&json!({ "links": links }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let accepted = started.elapsed();
    let job = r["job_id"].as_str().expect("job id").to_owned();
    let status = loop {
        let s: Value = http
            .get(format!("{base}/bulk_jobs/{job}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["status"] == "done" {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let bulk = started.elapsed();
    assert_eq!(status["succeeded"].as_u64(), Some(n as u64), "{status}");
    println!("bulk submission answered (202) in {accepted:.2?}");
    report("one bulk job", n, bulk);
    println!(
        "bulk is {:.1}x the sequential throughput",
        single.as_secs_f64() / bulk.as_secs_f64()
    );
    running.stop().await.unwrap();
}

fn report(what: &str, n: usize, took: Duration) {
    println!(
        "{what:>28}: {n} links in {:.2} s = {:.0} links/s",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
}
