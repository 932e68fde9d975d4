//! `bench`: measures Quiver on this machine and prints a table of throughput and latency,
//! each row next to a baseline measured in the same run (a minimal axum handler returning
//! a fixed JSON body), so the numbers travel between machines as ratios.
//!
//! Quiver (release build, SQLite, in-process Amazon simulator) and the baseline each run
//! in their own process; the load comes from this one.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

mod soak;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Benchmark Quiver against a baseline on this machine"
)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,

    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 8)]
    seconds: u64,

    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,

    /// Links created before the listing scenarios (the deep page is near their end).
    #[arg(long, default_value_t = 20_000)]
    links: usize,

    /// Items in the bulk-job scenario.
    #[arg(long, default_value_t = 5_000)]
    bulk_items: usize,

    /// The quiver binary (default: next to this one; build with `cargo build --release`).
    #[arg(long)]
    quiver: Option<PathBuf>,

    /// Also run every scenario with Quiver on PostgreSQL: an admin URL (the bench creates and
    /// drops its own database there), e.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long)]
    postgres: Option<String>,

    /// Only these scenarios (comma-separated names from the table), default all.
    #[arg(long)]
    only: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Internal: serve the baseline handler and print its address.
    #[command(hide = true)]
    Baseline,
    /// Mixed traffic while the Amazon simulator injects latency, 5xx, 429 and a 10 s
    /// outage; fails if any response is one the spec does not allow.
    Soak {
        /// Length of the run (at least 30).
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
}

/// The quiver binary: as given, or next to this one.
fn quiver_binary(given: Option<&std::path::Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_owned(),
        None => std::env::current_exe()?.with_file_name("quiver"),
    };
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it first (cargo build [--release] -p quiver)",
        path.display()
    );
    Ok(path)
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `cmd` and waits for a line containing `marker` followed by the base URL.
async fn start(mut cmd: Command, marker: &str) -> anyhow::Result<Server> {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = cmd.spawn().context("starting a server")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(line) = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await??
        else {
            break;
        };
        if let Some(rest) = line.split(marker).nth(1) {
            let base = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(Server { child, base });
        }
    }
    bail!("the server did not print '{marker}'")
}

async fn baseline_server() -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::Json(json!({"status": "ok", "service": "baseline"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

struct Stats {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Runs `concurrency` clients for `duration`, each sending `request(i)` in a loop, and
/// counts as errors the responses whose status is not `expect`.
async fn load<F>(
    concurrency: usize,
    duration: Duration,
    expect: u16,
    request: F,
) -> anyhow::Result<Stats>
where
    F: Fn(u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let request = Arc::clone(&request);
        let counter = Arc::clone(&counter);
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let (mut n, mut errors) = (0u64, 0u64);
            while Instant::now() < end {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let ok = match request(i).send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        status == expect
                    }
                    Err(_) => false,
                };
                hist.record(t.elapsed().as_micros().max(1) as u64)?;
                n += 1;
                errors += u64::from(!ok);
            }
            anyhow::Ok((n, errors, hist))
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut requests, mut errors) = (0, 0);
    for t in tasks {
        let (n, e, h) = t.await??;
        requests += n;
        errors += e;
        latency.add(h)?;
    }
    Ok(Stats {
        requests,
        errors,
        elapsed: started.elapsed(),
        latency,
    })
}

async fn token(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/token"))
        .form(&[("username", email), ("password", "quiver-demo")])
        .send()
        .await?
        .json()
        .await?;
    r["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

const MARKETPLACES: [&str; 9] = [
    "amazon.com",
    "amazon.ca",
    "amazon.com.mx",
    "amazon.co.uk",
    "amazon.de",
    "amazon.fr",
    "amazon.it",
    "amazon.es",
    "amazon.nl",
];

struct Row {
    name: String,
    stats: Option<Stats>,
    note: String,
}

fn print_table(rows: &[Row], baseline: &Stats) {
    println!(
        "\n{:<48} {:>10} {:>9} {:>9} {:>10} {:>10} {:>7}  note",
        "scenario", "req/s", "p50 ms", "p99 ms", "rps ratio", "p99 ratio", "errors"
    );
    for r in rows {
        match &r.stats {
            Some(s) => println!(
                "{:<48} {:>10.0} {:>9.2} {:>9.2} {:>10.3} {:>10.1} {:>7}  {}",
                r.name,
                s.rps(),
                s.ms(0.5),
                s.ms(0.99),
                s.rps() / baseline.rps(),
                s.ms(0.99) / baseline.ms(0.99).max(0.001),
                s.errors,
                r.note
            ),
            None => println!(
                "{:<48} {:>10} {:>9} {:>9} {:>10} {:>10} {:>7}  {}",
                r.name, "-", "-", "-", "-", "-", "-", r.note
            ),
        }
    }
    println!(
        "\nrps ratio = scenario req/s ÷ baseline req/s; p99 ratio = scenario p99 ÷ baseline p99 (same run, same machine)."
    );
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let wanted = |name: &str| {
        cli.only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|w| w.trim() == name))
    };
    let quiver = quiver_binary(cli.quiver.as_deref())?;
    let dir = tempfile::tempdir()?;
    let duration = Duration::from_secs(cli.seconds);
    let c = cli.concurrency;
    eprintln!(
        "bench: {} s per scenario, {c} clients, {} cores",
        cli.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let mut b_cmd = Command::new(std::env::current_exe()?);
    b_cmd.arg("baseline");
    let baseline = start(b_cmd, "listening on ").await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(c * 2)
        .build()?;
    eprintln!("bench: baseline");
    let b = {
        let (client, url) = (client.clone(), format!("{}/", baseline.base));
        load(c, duration, 200, move |_| client.get(&url)).await?
    };
    let mut rows = vec![Row {
        name: "baseline: fixed JSON (axum)".into(),
        note: String::new(),
        stats: None,
    }];

    let mut engines = vec![(
        String::new(),
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    let mut pg_admin = None;
    if let Some(admin) = &cli.postgres {
        let name = "quiver_bench";
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let mut url = url::Url::parse(admin)?;
        url.set_path(name);
        engines[0].0 = "[SQLite] ".into();
        engines.push(("[PostgreSQL] ".into(), url.to_string()));
        pg_admin = Some(conn);
    }
    for (prefix, db_url) in &engines {
        let mut q = Command::new(&quiver);
        q.arg("serve")
            .env("QUIVER_DATABASE_URL", db_url)
            .env("QUIVER_AMAZON", "sim")
            .env("QUIVER_DEMO", "1")
            .env("QUIVER_RATE_LIMIT", "0")
            // Load from one account measures throughput, not the per-account quotas.
            .env("QUIVER_QUOTA_BULK_JOBS", "0")
            .env("QUIVER_QUOTA_BULK_ITEMS", "0")
            .env("QUIVER_QUOTA_LINKS_PER_DAY", "0")
            .env("QUIVER_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn");
        let server = start(q, "Quiver is running at ").await?;
        let base = server.base.clone();
        let creator = token(&client, &base, "creator@example.com").await?;

        if wanted("token") {
            eprintln!("bench: POST /token");
            let (client, url) = (client.clone(), format!("{base}/token"));
            let s = load(c, duration, 200, move |_| {
                client.post(&url).form(&[
                    ("username", "creator2@example.com"),
                    ("password", "quiver-demo"),
                ])
            })
            .await?;
            rows.push(Row {
                name: format!("{prefix}POST /token"),
                stats: Some(s),
                note: "argon2id verify per request".into(),
            });
        }

        if wanted("create") {
            eprintln!("bench: POST /generate_attribution_link");
            let (client, url, t) = (
                client.clone(),
                format!("{base}/generate_attribution_link"),
                creator.clone(),
            );
            let s = load(c, duration, 201, move |i| {
                let m = MARKETPLACES[(i % 9) as usize];
                client.post(&url).bearer_auth(&t).json(
                    &json!({"asin": "B0D45KS7QM", "marketplace": m, "link_name": format!("bench {i}")}),
                )
            })
            .await?;
            rows.push(Row {
                name: format!("{prefix}POST /generate_attribution_link"),
                stats: Some(s),
                note: "warm tag cache".into(),
            });
        }

        // Enough links for a deep page.
        let listed: Value = client
            .get(format!("{base}/get_all_links?marketplace=all&limit=1"))
            .bearer_auth(&creator)
            .send()
            .await?
            .json()
            .await?;
        let mut have = listed["total_count"].as_u64().unwrap_or(0) as usize;
        if (wanted("links-first") || wanted("links-deep")) && have < cli.links {
            eprintln!(
                "bench: creating {} more links for the listing scenarios",
                cli.links - have
            );
            let url = format!("{base}/generate_attribution_link");
            let todo = cli.links - have;
            futures::future::try_join_all((0..c).map(|w| {
                let (client, url, t) = (client.clone(), url.clone(), creator.clone());
                async move {
                    for i in (w..todo).step_by(c) {
                        client
                            .post(&url)
                            .bearer_auth(&t)
                            .json(
                                &json!({"asin": "B0NWBOTL03", "marketplace": MARKETPLACES[i % 9]}),
                            )
                            .send()
                            .await?;
                    }
                    anyhow::Ok(())
                }
            }))
            .await?;
            have = cli.links;
        }
        if wanted("links-first") {
            eprintln!("bench: GET /get_all_links first page");
            let (client, url, t) = (
                client.clone(),
                format!("{base}/get_all_links?marketplace=all&limit=100"),
                creator.clone(),
            );
            let s = load(c, duration, 200, move |_| client.get(&url).bearer_auth(&t)).await?;
            rows.push(Row {
                name: format!("{prefix}GET /get_all_links (first page)"),
                stats: Some(s),
                note: format!("{have} links"),
            });
        }
        if wanted("links-deep") {
            let deep_page = (have / 100).max(1);
            eprintln!("bench: GET /get_all_links page {deep_page}");
            let (client, url, t) = (
                client.clone(),
                format!("{base}/get_all_links?marketplace=all&limit=100&page={deep_page}"),
                creator.clone(),
            );
            let s = load(c, duration, 200, move |_| client.get(&url).bearer_auth(&t)).await?;
            rows.push(Row {
                name: format!("{prefix}GET /get_all_links (deep page)"),
                stats: Some(s),
                note: format!("page {deep_page} of {have} links"),
            });
        }

        for (name, deep) in [("reports-first", false), ("reports-deep", true)] {
            if !wanted(name) {
                continue;
            }
            let probe = client
                .get(format!("{base}/reports?start=2000-01-01&end=2000-01-02"))
                .bearer_auth(&creator)
                .send()
                .await?;
            if probe.status() == reqwest::StatusCode::NOT_FOUND {
                rows.push(Row {
                    name: format!(
                        "{prefix}GET /reports ({})",
                        if deep { "deep page" } else { "first page" }
                    ),
                    stats: None,
                    note: "not available in this build".into(),
                });
                continue;
            }
            let (start, end) = report_range();
            let mut url = format!("{base}/reports?start={start}&end={end}&limit=100");
            let mut note = "demo history".to_owned();
            if deep {
                // Walk to the last page once; its cursor is the deep page.
                let mut pages = 0;
                let mut cursor = None;
                loop {
                    let page_url = match &cursor {
                        Some(c) => format!("{url}&cursor={c}"),
                        None => url.clone(),
                    };
                    let r: Value = client
                        .get(&page_url)
                        .bearer_auth(&creator)
                        .send()
                        .await?
                        .json()
                        .await?;
                    pages += 1;
                    match r["next_cursor"].as_str() {
                        Some(c) if pages < 10_000 => cursor = Some(c.to_owned()),
                        _ => break,
                    }
                }
                if let Some(c) = cursor {
                    url = format!("{url}&cursor={c}");
                }
                note = format!("page {pages} of the demo history");
            }
            eprintln!("bench: {name}");
            let (client2, t) = (client.clone(), creator.clone());
            let s = load(c, duration, 200, move |_| client2.get(&url).bearer_auth(&t)).await?;
            rows.push(Row {
                name: format!(
                    "{prefix}GET /reports ({})",
                    if deep { "deep page" } else { "first page" }
                ),
                stats: Some(s),
                note,
            });
        }

        if wanted("bulk") {
            eprintln!("bench: bulk job of {} items", cli.bulk_items);
            let items: Vec<Value> = (0..cli.bulk_items)
                .map(|i| json!({"asin": "B0D45KS7QM", "marketplace": MARKETPLACES[i % 9], "link_name": format!("bulk {i}")}))
                .collect();
            let started = Instant::now();
            let r = client
                .post(format!("{base}/bulk_generate_attribution_links"))
                .bearer_auth(&creator)
                .json(&json!({"links": items}))
                .send()
                .await?;
            if r.status() == reqwest::StatusCode::ACCEPTED {
                let job: Value = r.json().await?;
                let id = job["job_id"].as_str().unwrap_or_default().to_owned();
                loop {
                    let s: Value = client
                        .get(format!("{base}/bulk_jobs/{id}"))
                        .bearer_auth(&creator)
                        .send()
                        .await?
                        .json()
                        .await?;
                    if s["status"] == "done" {
                        let took = started.elapsed();
                        let mut latency = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
                        latency.record(took.as_micros() as u64)?;
                        let n = s["total"].as_u64().unwrap_or(0);
                        rows.push(Row {
                            name: format!("{prefix}bulk job ({n} items)"),
                            note: format!(
                                "{:.1} s, {:.0} links/s, {} failed; req/s = links/s",
                                took.as_secs_f64(),
                                n as f64 / took.as_secs_f64(),
                                s["failed"]
                            ),
                            stats: Some(Stats {
                                requests: n,
                                errors: s["failed"].as_u64().unwrap_or(0),
                                elapsed: took,
                                latency,
                            }),
                        });
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            } else {
                rows.push(Row {
                    name: format!("{prefix}bulk job"),
                    stats: None,
                    note: format!("not available ({})", r.status()),
                });
            }
        }

        drop(server);
    }
    if let Some(mut conn) = pg_admin {
        sqlx::query("DROP DATABASE IF EXISTS quiver_bench WITH (FORCE)")
            .execute(&mut conn)
            .await?;
    }
    rows[0].stats = Some(Stats {
        latency: b.latency.clone(),
        ..b
    });
    print_table(&rows, &b);
    drop(baseline);
    Ok(())
}

/// The last 90 days, as the demo history spans.
fn report_range() -> (String, String) {
    let today = time::OffsetDateTime::now_utc().date();
    let start = today - time::Duration::days(90);
    (start.to_string(), today.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.mode {
        Some(Mode::Baseline) => baseline_server().await,
        Some(Mode::Soak { seconds }) => {
            soak::run(&quiver_binary(cli.quiver.as_deref())?, seconds).await
        }
        None => run(cli).await,
    }
}
