//! `bench webhooks`: Quiver delivers `events` `link.created` webhooks (one per link an
//! account with one endpoint creates) to a local receiver, on SQLite and optionally
//! PostgreSQL. Prints throughput, the lag from each link's 201 to the receiver's 2xx
//! (p50/p99), and how many events were lost or arrived twice per `webhook-id`, next to a
//! baseline from the same run: the same number of POSTs of the same body straight to a
//! receiver, without Quiver.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::process::Command;

use crate::{MARKETPLACES, start, token};

/// What a receiver saw: per `webhook-id` how often, and per link id when it first came.
#[derive(Default)]
struct Seen {
    by_id: HashMap<String, u32>,
    by_link: HashMap<String, Instant>,
    first: Option<Instant>,
    last: Option<Instant>,
}

type Shared = Arc<Mutex<Seen>>;

async fn hook(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = Instant::now();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let link = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["id"].as_str().map(str::to_owned));
    let mut seen = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *seen.by_id.entry(id).or_default() += 1;
    if let Some(link) = link {
        seen.by_link.entry(link).or_insert(now);
    }
    seen.first.get_or_insert(now);
    seen.last = Some(now);
    StatusCode::NO_CONTENT
}

async fn receiver() -> anyhow::Result<(String, Shared)> {
    let shared = Shared::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(shared.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, shared))
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Runs the scenario on SQLite, and on PostgreSQL when `postgres` is an admin URL.
pub async fn run(
    quiver: &Path,
    events: usize,
    concurrency: usize,
    postgres: Option<&str>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()?;
    let dir = tempfile::tempdir()?;
    let mut engines = vec![(
        "SQLite",
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    if let Some(admin) = postgres {
        let name = "quiver_bench_webhooks";
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await?;
        }
        let mut url = url::Url::parse(admin)?;
        url.set_path(name);
        engines.push(("PostgreSQL", url.to_string()));
    }
    let mut sample = json!({});
    for (engine, db_url) in &engines {
        let (hook_url, seen) = receiver().await?;
        let key = quiver::secret_key::SecretKey::generate().to_base64();
        let mut q = Command::new(quiver);
        q.arg("serve")
            .env("QUIVER_DATABASE_URL", db_url)
            .env("QUIVER_AMAZON", "sim")
            .env("QUIVER_DEMO", "1")
            .env("QUIVER_RATE_LIMIT", "0")
            .env("QUIVER_QUOTA_LINKS_PER_DAY", "0")
            .env("QUIVER_LISTEN", "127.0.0.1:0")
            .env("QUIVER_SECRET_KEY", key.as_str())
            .env("QUIVER_WEBHOOK_ALLOW_HTTP", "1")
            .env("QUIVER_WEBHOOK_ALLOW_PRIVATE", "1")
            .env("RUST_LOG", "warn");
        let server = start(q, "Quiver is running at ").await?;
        let base = server.base.clone();
        let t = token(&client, &base, "creator@example.com").await?;
        client
            .post(format!("{base}/webhooks"))
            .bearer_auth(&t)
            .json(&json!({"url": hook_url, "events": ["link.created"]}))
            .send()
            .await?
            .error_for_status()?;
        eprintln!("bench: webhooks [{engine}]: {events} links, {concurrency} clients");
        let next = Arc::new(AtomicUsize::new(0));
        let made: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, base, t, next, made) = (
                client.clone(),
                base.clone(),
                t.clone(),
                next.clone(),
                made.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= events {
                        break;
                    }
                    let body = json!({"asin": "B0D45KS7QM", "marketplace": MARKETPLACES[i % MARKETPLACES.len()], "link_name": format!("hook-{i}")});
                    let r = client
                        .post(format!("{base}/generate_attribution_link"))
                        .bearer_auth(&t)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(r) = r else { continue };
                    let done = Instant::now();
                    if r.status().as_u16() == 201
                        && let Ok(v) = r.json::<Value>().await
                        && let Some(id) = v["id"].as_str()
                    {
                        made.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(id.to_owned(), done);
                    }
                }
            }));
        }
        for task in tasks {
            task.await?;
        }
        let created = made.lock().map(|m| m.len()).unwrap_or(0);
        // Wait for the deliveries, as long as they keep coming.
        let mut last_count = 0;
        let mut idle_since = Instant::now();
        loop {
            let n = seen.lock().map(|s| s.by_link.len()).unwrap_or(0);
            if n >= created {
                break;
            }
            if n != last_count {
                last_count = n;
                idle_since = Instant::now();
            } else if idle_since.elapsed() > Duration::from_secs(30) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seen = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let made = made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut lag = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
        for (link, at) in made.iter() {
            if let Some(got) = seen.by_link.get(link) {
                lag.record(got.saturating_duration_since(*at).as_micros().max(1) as u64)?;
            }
        }
        let delivered = made
            .keys()
            .filter(|l| seen.by_link.contains_key(*l))
            .count();
        let duplicated = seen.by_id.values().filter(|n| **n > 1).count();
        let span = seen
            .last
            .map_or(Duration::ZERO, |l| l.saturating_duration_since(started));
        println!(
            "webhooks [{engine}]: {created} links made, {delivered} delivered ({} lost, {duplicated} webhook-ids twice or more) \
             in {:.1} s = {:.0} events/s; lag from the 201 to the receiver's 2xx p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            created - delivered,
            span.as_secs_f64(),
            delivered as f64 / span.as_secs_f64().max(1e-9),
            ms(&lag, 0.5),
            ms(&lag, 0.99),
            lag.max() as f64 / 1000.0,
        );
        sample = json!({"type": "link.created", "timestamp": "2026-12-03T00:00:00Z", "data": {"id": "x", "link_name": "hook-0"}});
        drop(server);
    }

    // Baseline: the same POSTs straight to a receiver.
    let (hook_url, seen) = receiver().await?;
    let body = sample.to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, body, next) =
            (client.clone(), hook_url.clone(), body.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= events {
                    break;
                }
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", format!("msg_{i}"))
                    .body(body.clone())
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    h.record(t.elapsed().as_micros().max(1) as u64)?;
                }
            }
            anyhow::Ok(h)
        }));
    }
    let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    for task in tasks {
        h.add(task.await??)?;
    }
    let took = started.elapsed();
    let n = seen.lock().map(|s| s.by_id.len()).unwrap_or(0);
    println!(
        "webhooks baseline (the same {events} POSTs straight to a receiver): {n} received in {:.1} s = {:.0} POSTs/s; \
         POST to 2xx p50 {:.2} ms, p99 {:.2} ms",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64().max(1e-9),
        ms(&h, 0.5),
        ms(&h, 0.99),
    );
    Ok(())
}
