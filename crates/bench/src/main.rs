//! `bench`: measures Quiver on this machine and prints a table of throughput and latency,
//! each row next to a baseline measured in the same run (a minimal axum handler returning
//! a fixed JSON body), so the numbers travel between machines as ratios.
//!
//! Quiver (release build, SQLite, in-process Amazon simulator) and the baseline each run
//! in their own process; the load comes from this one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::process::Command;

use scenarios::{Ctx, Row, print_table, skipped};

mod baseline;
mod redirect;
mod scenarios;
mod seed;
mod servers;
mod soak;
mod webhooks;

use servers::{quiver_binary, quiver_cmd, start};

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

    /// Links seeded for the redirect scenario.
    #[arg(long, default_value_t = 1_000_000)]
    redirect_links: u64,

    /// PostgreSQL only, for measuring the link counters (issue #16): `off` disables the
    /// counting triggers (counts then go stale: a measurement, not a setting).
    #[arg(long, value_parser = ["off"])]
    pg_counts: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Internal: serve the baseline handler and print its address.
    #[command(hide = true)]
    Baseline,
    /// Only the redirect scenario (`--only redirect`): `GET /r/{code}` over a million
    /// links against a bare 302, then the count check.
    Redirect,
    /// Mixed traffic while the Amazon simulator injects latency, 5xx, 429 and a 10 s
    /// outage; fails if any response is one the spec does not allow.
    Soak {
        /// Length of the run (at least 30).
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Webhook delivery: `events` link.created events to a local receiver (both engines
    /// with `--postgres`), beside the same POSTs sent straight to a receiver.
    Webhooks {
        #[arg(long, default_value_t = 10_000)]
        events: usize,
    },
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
    let mut ctx = Ctx {
        client: client.clone(),
        concurrency: c,
        duration,
        baseline: baseline.base.clone(),
        baselines: Default::default(),
    };
    eprintln!("bench: baseline fixed JSON");
    let fixed = {
        let (client, url) = (client.clone(), format!("{}/", baseline.base));
        load(c, duration, 200, move |_| client.get(&url)).await?
    };
    ctx.baselines.insert("fixed GET", fixed);
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = false;

    let mut engines = vec![(
        String::new(),
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    let mut pg_admin = None;
    if let Some(admin) = &cli.postgres {
        // Its own name: two benches on one server (other work trees) never drop each other's.
        let name = format!("quiver_bench_{}", std::process::id());
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
        url.set_path(&name);
        engines[0].0 = "[SQLite] ".into();
        engines.push(("[PostgreSQL] ".into(), url.to_string()));
        pg_admin = Some((conn, name));
    }
    for (prefix, db_url) in &engines {
        let server = start(quiver_cmd(&quiver, db_url), "Quiver is running at ").await?;
        let pid = server.child.id();
        let rss_idle = seed::rss_mib(pid);
        let base = server.base.clone();
        let creator = token(&client, &base, "creator@example.com").await?;
        let creator2 = token(&client, &base, "creator2@example.com").await?;
        // The bench's own handle on the database, for seeding (the server stays the
        // only writer while it is under load).
        let db = quiver::store::Db::connect(db_url).await?;
        let first_rows = rows.len();
        if let (Some(variant), true) = (&cli.pg_counts, db_url.starts_with("postgres")) {
            let sql = "ALTER TABLE links DISABLE TRIGGER USER";
            let mut conn = sqlx::PgConnection::connect(db_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await?;
            eprintln!("bench: PostgreSQL link counters: {variant}");
        }

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
                baseline: "fixed GET",
                note: "argon2id verify per request".into(),
                rss: seed::rss_mib(pid),
            });
        }

        if wanted("create") {
            if !ctx.baselines.contains_key("fixed POST") {
                eprintln!("bench: baseline fixed POST");
                let (client, url) = (client.clone(), format!("{}/link", baseline.base));
                let s = load(c, duration, 201, move |i| {
                    let m = MARKETPLACES[(i % 9) as usize];
                    client.post(&url).json(
                        &json!({"asin": "B0D45KS7QM", "marketplace": m, "link_name": format!("bench {i}")}),
                    )
                })
                .await?;
                ctx.baselines.insert("fixed POST", s);
            }
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
                baseline: "fixed POST",
                note: "warm tag cache".into(),
                rss: seed::rss_mib(pid),
            });
        }

        // Links of creator2: first 1,000, then 100,000 (seeded with SQL).
        let links_url = format!("{base}/get_all_links?marketplace=all&limit=100");
        let count_url = format!("{base}/get_all_links?marketplace=all&limit=1");
        for (size, tag) in [(1_000_i64, "a"), (100_000, "b")] {
            let (first, deep) = (
                format!("links-{}k-first", size / 1000),
                format!("links-{}k-deep", size / 1000),
            );
            let needed =
                wanted(&first) || wanted(&deep) || (size == 100_000 && wanted("reports-1m"));
            if !needed {
                continue;
            }
            let have = ctx.get(&count_url, &creator2).await?["total_count"]
                .as_i64()
                .unwrap_or(0);
            if have < size {
                eprintln!("bench: seeding {} links", size - have);
                seed::links(&db, "creator2@example.com", size - have, tag).await?;
            }
            if wanted(&first) {
                let mut r = ctx
                    .list(
                        format!("{prefix}GET /get_all_links (first page, {size} links)"),
                        "links",
                        links_url.clone(),
                        &creator2,
                        String::new(),
                    )
                    .await?;
                r.rss = seed::rss_mib(pid);
                rows.push(r);
            }
            if wanted(&deep) {
                let (last, pages) = ctx.last_page(&links_url, &creator2).await?;
                let mut r = ctx
                    .list(
                        format!("{prefix}GET /get_all_links (last page by cursor, {size})"),
                        "links",
                        last,
                        &creator2,
                        format!("page {pages}"),
                    )
                    .await?;
                r.rss = seed::rss_mib(pid);
                rows.push(r);
                let page_no = (size / 100).max(1);
                let mut r = ctx
                    .list(
                        format!("{prefix}GET /get_all_links (page={page_no}, {size})"),
                        "links",
                        format!("{links_url}&page={page_no}"),
                        &creator2,
                        "page number: OFFSET on the index".into(),
                    )
                    .await?;
                r.rss = seed::rss_mib(pid);
                rows.push(r);
            }
        }

        if wanted("products") {
            let mut r = ctx
                .list(
                    format!("{prefix}GET /getproducts (first page)"),
                    "products",
                    format!("{base}/getproducts?limit=100"),
                    &creator,
                    "the demo catalog".into(),
                )
                .await?;
            r.rss = seed::rss_mib(pid);
            rows.push(r);
        }

        let (start_day, end_day) = report_range();
        let reports_url = format!("{base}/reports?start={start_day}&end={end_day}&limit=100");
        if wanted("reports-first") {
            let mut r = ctx
                .list(
                    format!("{prefix}GET /reports (first page)"),
                    "reports",
                    reports_url.clone(),
                    &creator,
                    "demo history".into(),
                )
                .await?;
            r.rss = seed::rss_mib(pid);
            rows.push(r);
        }
        if wanted("reports-deep") {
            let (last, pages) = ctx.last_page(&reports_url, &creator).await?;
            let mut r = ctx
                .list(
                    format!("{prefix}GET /reports (last page by cursor)"),
                    "reports",
                    last,
                    &creator,
                    format!("page {pages} of the demo history"),
                )
                .await?;
            r.rss = seed::rss_mib(pid);
            rows.push(r);
        }
        if wanted("reports-1m") {
            eprintln!("bench: seeding 10 days of facts for 100,000 links");
            let t = Instant::now();
            let n = seed::facts(&db, "creator2@example.com", 10).await?;
            eprintln!("bench: {n} facts in {:.1} s", t.elapsed().as_secs_f64());
            let mut r = ctx
                .list(
                    format!("{prefix}GET /reports (first page, 1M facts)"),
                    "reports",
                    reports_url.clone(),
                    &creator2,
                    format!("{n} fact rows"),
                )
                .await?;
            r.rss = seed::rss_mib(pid);
            rows.push(r);
        }

        if wanted("ingest") {
            eprintln!("bench: ingestion");
            let (ins, upd) = seed::ingest(&db, 100_000).await?;
            rows.push(skipped(
                format!("{prefix}ingestion, 100,000 facts in pages of 1,000"),
                format!("{ins:.0} rows/s inserted, {upd:.0} rows/s updated (store batch upsert)"),
            ));
        }

        if wanted("bulk") {
            rows.push(scenarios::bulk(&client, &base, &creator, prefix, cli.bulk_items).await?);
        }

        // Last: it adds a million links to creator2 and counts in its own process.
        if wanted("redirect") {
            let (row, pass) = redirect::scenario(
                &mut ctx,
                &db,
                quiver_cmd(&quiver, db_url),
                prefix,
                cli.redirect_links,
                rss_idle,
            )
            .await?;
            rows.push(row);
            failed |= !pass;
        }
        db.close().await;
        if let Some(rss) = seed::rss_mib(pid) {
            eprintln!("bench: {prefix}server RSS {rss:.0} MiB");
            // A row that measured its own server (the redirect's) keeps that figure.
            if let Some(last) = rows[first_rows..].last_mut().filter(|r| r.rss.is_none()) {
                last.rss = Some(rss);
            }
        }
        drop(server);
    }
    if let Some((mut conn, name)) = pg_admin {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
    }
    print_table(&rows, &ctx.baselines);
    drop(baseline);
    if failed {
        bail!("the redirect count check failed: stored counts differ from what was sent");
    }
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
        Some(Mode::Baseline) => baseline::serve().await,
        Some(Mode::Soak { seconds }) => {
            soak::run(&quiver_binary(cli.quiver.as_deref())?, seconds).await
        }
        Some(Mode::Redirect) => {
            run(Cli {
                only: Some("redirect".into()),
                ..cli
            })
            .await
        }
        Some(Mode::Webhooks { events }) => {
            webhooks::run(
                &quiver_binary(cli.quiver.as_deref())?,
                events,
                cli.concurrency,
                cli.postgres.as_deref(),
            )
            .await
        }
        None => run(cli).await,
    }
}
