//! `bench soak`: mixed traffic while the Amazon simulator misbehaves on a timeline —
//! latency, then 5xx and 429, then a full outage, then recovery. Every response must be one
//! the spec allows (the only 5xx: link creation's documented 503 with Retry-After), and
//! links must flow again after the outage.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amazon_sim::{Faults, SimConfig};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::{MARKETPLACES, start, token};

#[derive(Default)]
struct Tally {
    by_outcome: BTreeMap<String, u64>,
    violations: Vec<String>,
    created_after_recovery: u64,
    slowest_create: Duration,
}

/// The phase at `t` seconds into a run of `total` seconds, and its faults.
fn phase(t: f64, total: f64) -> (&'static str, Faults) {
    let f = t / total;
    if f < 0.25 {
        (
            "latency 150 ms",
            Faults {
                latency_ms: 150,
                ..Faults::default()
            },
        )
    } else if f < 0.5 {
        (
            "30% 5xx + 20% 429",
            Faults {
                error_rate: 0.3,
                throttle_rate: 0.2,
                retry_after_secs: 1,
                ..Faults::default()
            },
        )
    } else if f < 0.5 + 10.0 / total {
        (
            "outage",
            Faults {
                outage: true,
                ..Faults::default()
            },
        )
    } else {
        ("recovered", Faults::default())
    }
}

pub async fn run(quiver: &std::path::Path, seconds: u64) -> anyhow::Result<()> {
    let total = seconds.max(30) as f64;
    let dir = tempfile::tempdir()?;
    let sim = amazon_sim::spawn(SimConfig::default(), "127.0.0.1:0".parse()?).await?;
    let mut q = Command::new(quiver);
    q.arg("serve")
        .env(
            "QUIVER_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("soak.db").display()),
        )
        .env("QUIVER_AMAZON", sim.base_url())
        .env("QUIVER_DEMO", "1")
        .env("QUIVER_RATE_LIMIT", "0")
        .env("QUIVER_QUOTA_BULK_JOBS", "0")
        .env("QUIVER_QUOTA_BULK_ITEMS", "0")
        .env("QUIVER_QUOTA_LINKS_PER_DAY", "0")
        // Short tag lifetimes so link creation keeps asking Amazon during the faults.
        .env("QUIVER_TAG_TTL_SECS", "2")
        .env("QUIVER_TAG_MAX_STALE_SECS", "4")
        .env("QUIVER_INGEST_INTERVAL_SECS", "10")
        .env("QUIVER_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "error");
    let server = start(q, "Quiver is running at ").await?;
    let pid = server.child.id();
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let t = token(&client, &base, "creator@example.com").await?;

    let started = Instant::now();
    let end = started + Duration::from_secs_f64(total);
    let tally = Arc::new(Mutex::new(Tally::default()));
    // The server's resident set every 5 s, to tell a leak (a steady climb) from warm-up.
    let rss = Arc::new(Mutex::new(Vec::<(f64, f64)>::new()));
    let controller = {
        let (sim, rss) = (sim.clone(), rss.clone());
        tokio::spawn(async move {
            let mut current = "";
            let mut next_sample = 0.0;
            while Instant::now() < end {
                let at = started.elapsed().as_secs_f64();
                if at >= next_sample {
                    if let (Some(mib), Ok(mut v)) = (crate::seed::rss_mib(pid), rss.lock()) {
                        v.push((at, mib));
                    }
                    next_sample += 5.0;
                }
                let (name, faults) = phase(started.elapsed().as_secs_f64(), total);
                if name != current {
                    eprintln!("soak: {:>5.1} s  {name}", started.elapsed().as_secs_f64());
                    sim.set_faults(faults);
                    current = name;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            sim.set_faults(Faults::default());
        })
    };
    let mut workers = Vec::new();
    for w in 0..8usize {
        let (client, base, t, tally) = (client.clone(), base.clone(), t.clone(), tally.clone());
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while Instant::now() < end {
                i += 8;
                let kind = i % 5;
                let at = started.elapsed().as_secs_f64();
                let sent = Instant::now();
                let asin = ["B0D45KS7QM", "B0NWBOTL03", "B0PKBUDS01"][i % 3];
                let marketplace = if i % 3 == 2 {
                    "amazon.com"
                } else {
                    MARKETPLACES[i % 9]
                };
                let request = match kind {
                    0 => client.get(format!("{base}/getproducts?marketplace=all&limit=20")),
                    1 | 2 => client
                        .post(format!("{base}/generate_attribution_link"))
                        .json(&json!({"asin": asin, "marketplace": marketplace})),
                    3 => client.get(format!("{base}/get_all_links?marketplace=all&limit=50")),
                    _ => client.get(format!(
                        "{base}/reports?start=2026-01-01&end=2026-12-31&limit=50"
                    )),
                };
                let response = request.bearer_auth(&t).send().await;
                let took = sent.elapsed();
                let creating = kind == 1 || kind == 2;
                let (outcome, violation, created) = match response {
                    Err(e) => (
                        "transport error".to_owned(),
                        Some(format!("{at:.1}s kind {kind}: transport error {e}")),
                        false,
                    ),
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let retry_after = r.headers().contains_key("retry-after");
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        let allowed = match (creating, status) {
                            (true, 201) => true,
                            (true, 503) => retry_after && body["code"] == "amazon_unavailable",
                            (false, 200) => true,
                            _ => false,
                        };
                        let outcome = format!(
                            "{} {status}",
                            ["catalog", "create", "create", "links", "reports"][kind]
                        );
                        (
                            outcome,
                            (!allowed).then(|| format!("{at:.1}s kind {kind}: {status} {body}")),
                            status == 201,
                        )
                    }
                };
                let mut tally = tally.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                if let Some(v) = violation {
                    tally.violations.push(v);
                }
                if creating {
                    tally.slowest_create = tally.slowest_create.max(took);
                    if created && at > total * 0.5 + 10.0 + 3.0 {
                        tally.created_after_recovery += 1;
                    }
                }
                *tally.by_outcome.entry(outcome).or_default() += 1;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    controller.await?;
    drop(server);

    let tally = tally.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    println!("\nsoak: {total:.0} s of mixed traffic against a misbehaving Amazon");
    for (outcome, n) in &tally.by_outcome {
        println!("  {outcome:<20} {n:>7}");
    }
    println!(
        "  slowest link creation: {:.2} s (deadline 3 s)",
        tally.slowest_create.as_secs_f64()
    );
    println!(
        "  links created after the outage ended: {}",
        tally.created_after_recovery
    );
    let rss = rss.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let series: Vec<String> = rss.iter().map(|(t, m)| format!("{t:.0}s {m:.0}")).collect();
    println!("  server RSS MiB: {}", series.join(", "));
    if let Some(trend) = rss_trend(&rss) {
        println!(
            "  RSS trend over the second half: {trend:+.2} MiB/min (least squares; near 0 is flat)"
        );
    }
    for v in tally.violations.iter().take(20) {
        println!("  VIOLATION {v}");
    }
    anyhow::ensure!(
        tally.violations.is_empty(),
        "{} responses the spec does not allow",
        tally.violations.len()
    );
    anyhow::ensure!(
        tally.created_after_recovery > 0,
        "links did not flow again after the outage"
    );
    anyhow::ensure!(
        tally.slowest_create < Duration::from_secs(5),
        "link creation overran its 3 s deadline"
    );
    println!("soak: passed");
    Ok(())
}

/// The least-squares slope of RSS over the second half of the samples, in MiB per minute:
/// the first half holds warm-up (caches, pools, the allocator's arenas).
fn rss_trend(samples: &[(f64, f64)]) -> Option<f64> {
    let tail = &samples[samples.len() / 2..];
    if tail.len() < 3 {
        return None;
    }
    let n = tail.len() as f64;
    let (mt, mm) = (
        tail.iter().map(|s| s.0).sum::<f64>() / n,
        tail.iter().map(|s| s.1).sum::<f64>() / n,
    );
    let cov: f64 = tail.iter().map(|(t, m)| (t - mt) * (m - mm)).sum();
    let var: f64 = tail.iter().map(|(t, _)| (t - mt) * (t - mt)).sum();
    (var > 0.0).then(|| cov / var * 60.0)
}
