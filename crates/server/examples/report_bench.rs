//! Report latency at scale: builds a SQLite database with one creator owning 100,000
//! links and a year of daily facts (≥ 20 million rows), serves it, and measures p50/p99 of
//! `/reports` (first and a deep page) and `/sellers/reports`.
//!
//! cargo run --release -p quiver --example report_bench -- [DB_PATH] [LINKS] [DAYS] [REQUESTS]
//!
//! An existing DB_PATH is reused (generation takes minutes), so rerunning only measures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use base64::Engine;
use clap::Parser;
use quiver::cli::{Cli, Command};
use quiver::clock::day_number;
use quiver::store::Db;
use quiver_domain::{AccountKind, format_iso};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Executor};

const CREATOR: &str = "bench-creator@example.com";
const SELLER: &str = "bench-seller@example.com";
const PASSWORD: &str = "bench-password";
const BRANDS: usize = 3;
const ASINS_PER_BRAND: usize = 40;
/// Share (per mille) of link-days with activity, and of those with a brand-halo sale.
const ACTIVE_PER_MILLE: u64 = 560;
const HALO_PER_MILLE: u64 = 60;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
    x ^ (x >> 33)
}

fn link_id(i: usize) -> String {
    format!("{i:08x}-0000-7000-8000-{i:012x}")
}

fn asin(brand: usize, n: usize) -> String {
    format!("B0BENCH{brand}{n:02}")
}

async fn generate(path: &str, links: usize, days: i64) -> anyhow::Result<()> {
    let url = format!("sqlite://{path}");
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let creator = quiver::accounts::create_account(
        &db,
        CREATOR,
        PASSWORD,
        AccountKind::Publisher,
        "Bench Creator",
        Some("aff_bench"),
    )
    .await?;
    let seller = quiver::accounts::create_account(
        &db,
        SELLER,
        PASSWORD,
        AccountKind::Seller,
        "Bench Seller",
        Some("seller_bench"),
    )
    .await?;
    db.close().await;

    let options = SqliteConnectOptions::from_str(&url)?
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-1000000")
        .pragma("temp_store", "MEMORY");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let now = quiver::store::now_ms();
    let mut tx = pool.begin().await?;
    for b in 0..BRANDS {
        sqlx::query("INSERT INTO brands (id, owner_account_id, name, company_name, logo_url, program_mode, default_commission_bps, created_at) VALUES ($1, $2, $3, $3, '', 'open', 1000, $4)")
            .bind(format!("bench-brand-{b}")).bind(&seller).bind(format!("Bench Brand {b}")).bind(now)
            .execute(&mut *tx).await?;
        for n in 0..ASINS_PER_BRAND {
            sqlx::query("INSERT INTO products (asin, marketplace, brand_id, title, price_minor, available, image_url, rating_centi, ratings_total, category, sub_categories, updated_at) \
                 VALUES ($1, 'amazon.com', $2, $3, 2999, TRUE, '', 450, 10, 'Bench', '[]', $4)")
                .bind(asin(b, n)).bind(format!("bench-brand-{b}")).bind(format!("Bench product {b}/{n}")).bind(now)
                .execute(&mut *tx).await?;
        }
    }
    for i in 0..links {
        let b = i % BRANDS;
        sqlx::query("INSERT INTO links (id, account_id, asin, marketplace, brand_id, link_name, url, ad_group_id, campaign_id, product_name, active, paused_at, created_at) \
             VALUES ($1, $2, $3, 'amazon.com', $4, $5, $6, $7, 'aff_bench', $8, TRUE, NULL, $9)")
            .bind(link_id(i)).bind(&creator).bind(asin(b, i % ASINS_PER_BRAND)).bind(format!("bench-brand-{b}"))
            .bind(format!("link-{i}")).bind(format!("https://www.amazon.com/dp/{}?aa_adgroupid={i}", asin(b, i % ASINS_PER_BRAND)))
            .bind(format!("adg{i:010}")).bind(format!("Bench product {b}/{}", i % ASINS_PER_BRAND)).bind(now)
            .execute(&mut *tx).await?;
    }
    tx.commit().await?;
    // Secondary indexes are built once after the load: far faster than maintaining them.
    pool.execute("DROP INDEX report_facts_link_idx").await?;

    const COLS: usize = 16;
    const ROWS_PER_STATEMENT: usize = 1000;
    let mut values = String::new();
    for r in 0..ROWS_PER_STATEMENT {
        if r > 0 {
            values.push_str(", ");
        }
        values.push('(');
        for c in 0..COLS {
            if c > 0 {
                values.push_str(", ");
            }
            values.push('?');
        }
        values.push(')');
    }
    let full_sql = format!(
        "INSERT INTO report_facts (account_id, day, link_id, asin, marketplace, brand_id, seller_id, clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at) VALUES {values}"
    );

    struct Row {
        day: i32,
        link: usize,
        asin: String,
        clicks: i64,
        sales: i64,
    }
    let today = time::OffsetDateTime::now_utc().date();
    let started = Instant::now();
    let mut total: u64 = 0;
    let mut pending: Vec<Row> = Vec::with_capacity(ROWS_PER_STATEMENT);
    let mut tx = pool.begin().await?;
    let mut in_tx = 0usize;
    let flush = |rows: &mut Vec<Row>, sql: String| {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in rows.drain(..) {
            let b = r.link % BRANDS;
            q = q
                .bind(creator.clone())
                .bind(r.day)
                .bind(link_id(r.link))
                .bind(r.asin)
                .bind("amazon.com")
                .bind(format!("bench-brand-{b}"))
                .bind(seller.clone())
                .bind(r.clicks)
                .bind(r.clicks * 7 / 10)
                .bind(r.clicks / 5)
                .bind(r.clicks / 10)
                .bind(r.clicks / 9)
                .bind(r.sales)
                .bind(r.sales / 10)
                .bind((r.sales * 1000 + 5000) / 10000)
                .bind(now);
        }
        q
    };
    for age in (0..days).rev() {
        let day = day_number(today - time::Duration::days(age));
        for link in 0..links {
            let h = mix((link as u64) << 20 | age as u64);
            if h % 1000 >= ACTIVE_PER_MILLE {
                continue;
            }
            let b = link % BRANDS;
            let own = asin(b, link % ASINS_PER_BRAND);
            let clicks = (h >> 12) as i64 % 40 + 1;
            let mut rows = vec![Row {
                day,
                link,
                asin: own,
                clicks,
                sales: clicks / 10 * 2999,
            }];
            if (h >> 24) % 1000 < HALO_PER_MILLE {
                let other = asin(
                    b,
                    (link + 1 + (h >> 40) as usize % (ASINS_PER_BRAND - 1)) % ASINS_PER_BRAND,
                );
                rows.push(Row {
                    day,
                    link,
                    asin: other,
                    clicks: 0,
                    sales: 2999,
                });
            }
            rows.sort_by(|a, b| a.asin.cmp(&b.asin));
            for r in rows {
                pending.push(r);
                if pending.len() == ROWS_PER_STATEMENT {
                    flush(&mut pending, full_sql.clone())
                        .execute(&mut *tx)
                        .await?;
                    total += ROWS_PER_STATEMENT as u64;
                    in_tx += ROWS_PER_STATEMENT;
                    if in_tx >= 500_000 {
                        tx.commit().await?;
                        tx = pool.begin().await?;
                        in_tx = 0;
                        eprintln!(
                            "  {total} rows ({:.0} rows/s)",
                            total as f64 / started.elapsed().as_secs_f64()
                        );
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        let n = pending.len();
        let mut tail = String::new();
        for r in 0..n {
            if r > 0 {
                tail.push_str(", ");
            }
            tail.push('(');
            tail.push_str(&vec!["?"; COLS].join(", "));
            tail.push(')');
        }
        let sql = format!(
            "INSERT INTO report_facts (account_id, day, link_id, asin, marketplace, brand_id, seller_id, clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at) VALUES {tail}"
        );
        flush(&mut pending, sql).execute(&mut *tx).await?;
        total += n as u64;
    }
    tx.commit().await?;
    eprintln!(
        "{total} fact rows in {:.0}s; building indexes and rollups",
        started.elapsed().as_secs_f64()
    );
    pool.execute("CREATE INDEX report_facts_link_idx ON report_facts (link_id, day)")
        .await?;
    pool.execute("INSERT INTO report_day_counts (account_id, day, marketplace, row_count) SELECT account_id, day, marketplace, COUNT(*) FROM report_facts GROUP BY account_id, day, marketplace").await?;
    pool.execute("INSERT INTO seller_report_facts (seller_id, day, asin, marketplace, account_id, brand_id, clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at) \
         SELECT seller_id, day, asin, marketplace, account_id, MIN(brand_id), SUM(clicks), SUM(dpv), SUM(atc), SUM(purchases), SUM(units), SUM(sales), SUM(brb), SUM(commission), MAX(updated_at) \
         FROM report_facts GROUP BY seller_id, day, asin, marketplace, account_id").await?;
    pool.execute("INSERT INTO seller_day_counts (seller_id, day, marketplace, row_count) SELECT seller_id, day, marketplace, COUNT(*) FROM seller_report_facts GROUP BY seller_id, day, marketplace").await?;
    pool.execute("ANALYZE").await?;
    pool.close().await;
    eprintln!("generated in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn measure(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    label: &str,
    path: &str,
    n: usize,
) {
    let mut times = Vec::with_capacity(n);
    let mut rows = 0;
    let mut total = 0;
    for _ in 0..n {
        let t = Instant::now();
        let resp = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{label}: {}", resp.status());
        let body: serde_json::Value = resp.json().await.unwrap();
        times.push(t.elapsed());
        rows = body["rows"].as_array().map_or(0, Vec::len);
        total = body["total_count"].as_i64().unwrap_or(0);
    }
    times.sort();
    println!(
        "{label:<34} p50 {:>7.1} ms   p99 {:>7.1} ms   ({rows} rows/page, total_count {total}, {n} requests)",
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "report_bench.db".into());
    let links: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let days: i64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(365);
    let n: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(200);
    if !std::path::Path::new(&path).exists() {
        eprintln!("generating {path}: {links} links x {days} days");
        generate(&path, links, days).await?;
    }
    let cli = Cli::try_parse_from([
        "quiver",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--amazon",
        "sim",
        "--demo",
        "0",
        "--rate-limit",
        "0",
        "--ingest-interval-secs",
        "0",
    ])?;
    let Command::Serve(cfg) = cli.command else {
        unreachable!()
    };
    let running = quiver::cli::serve::start(&format!("sqlite://{path}"), &cfg).await?;
    let base = running.base_url();
    let client = reqwest::Client::new();
    let login = |user: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let r: serde_json::Value = client
                .post(format!("{base}/token"))
                .form(&[("username", user), ("password", PASSWORD)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["access_token"].as_str().unwrap().to_owned()
        }
    };
    let creator = login(CREATOR).await;
    let seller = login(SELLER).await;
    let today = time::OffsetDateTime::now_utc().date();
    let range = format!(
        "start={}&end={}",
        format_iso(today - time::Duration::days(days - 1)),
        format_iso(today)
    );
    let cursor = |json: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let mid_day = day_number(today - time::Duration::days(days / 2));
    let deep = cursor(format!(
        r#"{{"rd":{mid_day},"rl":"{}","ra":""}}"#,
        link_id(links / 2)
    ));
    let seller_deep = cursor(format!(
        r#"{{"sd":{mid_day},"sa":"{}","sm":"amazon.com","sc":""}}"#,
        asin(1, 20)
    ));
    // Warm the page cache the way a running server would be.
    measure(
        &client,
        &base,
        &creator,
        "warm-up",
        &format!("/reports?{range}&limit=100"),
        5,
    )
    .await;
    measure(
        &client,
        &base,
        &creator,
        "/reports first page (100)",
        &format!("/reports?{range}&limit=100"),
        n,
    )
    .await;
    measure(
        &client,
        &base,
        &creator,
        "/reports deep page (100)",
        &format!("/reports?{range}&limit=100&cursor={deep}"),
        n,
    )
    .await;
    measure(
        &client,
        &base,
        &creator,
        "/reports first page (500)",
        &format!("/reports?{range}&limit=500"),
        n,
    )
    .await;
    measure(
        &client,
        &base,
        &creator,
        "/reports filtered link_ids (100)",
        &format!("/reports?{range}&limit=100&link_ids={}", link_id(4242)),
        n,
    )
    .await;
    measure(
        &client,
        &base,
        &seller,
        "/sellers/reports first page (100)",
        &format!("/sellers/reports?{range}&limit=100"),
        n,
    )
    .await;
    measure(
        &client,
        &base,
        &seller,
        "/sellers/reports deep page (100)",
        &format!("/sellers/reports?{range}&limit=100&cursor={seller_deep}"),
        n,
    )
    .await;
    running.stop().await?;
    Ok(())
}
