//! Data for the scale scenarios, written straight into Quiver's database with SQL (the
//! API would take minutes for 100,000 links and a million facts), and the ingestion
//! scenario, which drives the store's batch upsert directly.

use std::time::{Duration, Instant};

use quiver::store::Db;
use quiver::store::reports::{FactValues, FactWrite};
use quiver_domain::Marketplace;
use sqlx::AssertSqlSafe;

/// Runs `sql` with its binds on whichever engine `db` is.
macro_rules! exec {
    ($db:expr, $sql:expr $(, $b:expr)*) => {
        match $db {
            Db::Sqlite { write, .. } => sqlx::query(AssertSqlSafe($sql)) $(.bind($b))* .execute(write).await.map(|r| r.rows_affected()),
            Db::Postgres(pool, _) => sqlx::query(AssertSqlSafe($sql)) $(.bind($b))* .execute(pool).await.map(|r| r.rows_affected()),
        }
    };
}

fn series(db: &Db) -> &'static str {
    match db {
        Db::Sqlite { .. } => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)"
        }
        Db::Postgres(..) => "WITH n(i) AS (SELECT generate_series(1, $2::bigint))",
    }
}

fn pad(db: &Db, e: &str) -> String {
    match db {
        Db::Sqlite { .. } => format!("printf('%010d', {e})"),
        Db::Postgres(..) => format!("lpad(({e})::text, 10, '0')"),
    }
}

/// Adds `n` links to the account of `email`, copies of the oldest link with their own
/// ids and ad groups; `tag` keeps the ids of separate calls apart.
pub async fn links(db: &Db, email: &str, n: i64, tag: &str) -> anyhow::Result<()> {
    let sql = format!(
        "{} INSERT INTO links (id, account_id, asin, marketplace, brand_id, link_name, url, ad_group_id, campaign_id, product_name, active, paused_at, created_at) \
         SELECT '00000000-{tag}-' || {p}, (SELECT id FROM accounts WHERE email = $1), l.asin, l.marketplace, l.brand_id, 'seeded ' || n.i, l.url, \
         'seed-{tag}-' || {p}, l.campaign_id, l.product_name, l.active, NULL, l.created_at \
         FROM n, (SELECT * FROM links ORDER BY id LIMIT 1) l",
        series(db),
        p = pad(db, "n.i"),
    );
    exec!(db, sql, email, n)?;
    Ok(())
}

/// The short code of the `i`-th link `short_links` seeds (from 1): `Q` and 7 digits, a
/// well-formed code the bench can name without reading the database.
pub fn short_code(i: u64) -> String {
    format!("Q{i:07}")
}

/// Adds `n` links (at most 9,999,999) with short codes `short_code(1..=n)` to the account
/// of `email`: copies of the first link with their own ids (UUIDs, as the code map needs),
/// ad groups and codes. Returns the seconds it took.
pub async fn short_links(db: &Db, email: &str, n: i64) -> anyhow::Result<f64> {
    anyhow::ensure!(n < 10_000_000, "at most 9,999,999 short links");
    let (p12, p7) = match db {
        Db::Sqlite { .. } => ("printf('%012d', n.i)", "printf('%07d', n.i)"),
        Db::Postgres(..) => ("lpad(n.i::text, 12, '0')", "lpad(n.i::text, 7, '0')"),
    };
    let sql = format!(
        "{} INSERT INTO links (id, account_id, asin, marketplace, brand_id, link_name, url, ad_group_id, campaign_id, product_name, active, paused_at, created_at, short_code) \
         SELECT '00000000-0000-7000-8000-' || {p12}, (SELECT id FROM accounts WHERE email = $1), l.asin, l.marketplace, l.brand_id, 'redirect ' || n.i, l.url, \
         'redirect-' || {p12}, l.campaign_id, l.product_name, l.active, NULL, l.created_at, 'Q' || {p7} \
         FROM n, (SELECT * FROM links ORDER BY id LIMIT 1) l",
        series(db),
    );
    let t = Instant::now();
    // One statement: the count triggers add the million once (statement-level on
    // PostgreSQL since migration 0026).
    let added = exec!(db, sql, email, n)?;
    anyhow::ensure!(added == n as u64, "seeded {added} of {n} short links");
    Ok(t.elapsed().as_secs_f64())
}

/// One fact a day for `days` days ending 10 days ago for each seeded link of `email`
/// (links made by `links`), and the per-day row counts `total_count` sums.
pub async fn facts(db: &Db, email: &str, days: i64) -> anyhow::Result<u64> {
    let today = time::OffsetDateTime::now_utc().date();
    let mut total = 0;
    for d in 0..days {
        let date = today - time::Duration::days(10 + d);
        let day =
            date.year() * 10_000 + i32::from(u8::from(date.month())) * 100 + i32::from(date.day());
        let sql = "INSERT INTO report_facts (account_id, day, link_id, asin, marketplace, brand_id, seller_id, \
             clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at) \
             SELECT l.account_id, $2, l.id, l.asin, l.marketplace, l.brand_id, b.owner_account_id, 7, 5, 2, 1, 1, 2999, 100, 360, 0 \
             FROM links l JOIN brands b ON b.id = l.brand_id \
             WHERE l.account_id = (SELECT id FROM accounts WHERE email = $1) AND l.ad_group_id LIKE 'seed-%' \
             ON CONFLICT DO NOTHING";
        total += exec!(db, sql.to_owned(), email, day)?;
    }
    let counts = "INSERT INTO report_day_counts (account_id, day, marketplace, row_count) \
         SELECT account_id, day, marketplace, COUNT(*) FROM report_facts \
         WHERE account_id = (SELECT id FROM accounts WHERE email = $1) GROUP BY account_id, day, marketplace \
         ON CONFLICT (account_id, day, marketplace) DO UPDATE SET row_count = excluded.row_count";
    exec!(db, counts.to_owned(), email)?;
    Ok(total)
}

/// Ingestion throughput: `rows` new facts through the store's batch upsert in pages of
/// 1,000 (the ingester's page), then the same rows again with new figures (updates).
/// Returns (inserted rows/s, updated rows/s).
pub async fn ingest(db: &Db, rows: usize) -> anyhow::Result<(f64, f64)> {
    let fact = |i: usize, clicks: i64| FactWrite {
        account_id: "bench-ingest".into(),
        day: 20_200_101 + (i / 10_000) as i32,
        link_id: format!("ingest-link-{:06}", i % 10_000),
        asin: "B0INGEST01".into(),
        marketplace: Marketplace::ALL[i % 9],
        brand_id: "bench-brand".into(),
        seller_id: "bench-seller".into(),
        values: FactValues::Traffic { clicks, brb: 10 },
    };
    let mut rates = [0.0; 2];
    for (pass, rate) in rates.iter_mut().enumerate() {
        let mut took = Duration::ZERO;
        for page in (0..rows).collect::<Vec<_>>().chunks(1_000) {
            let batch: Vec<FactWrite> = page.iter().map(|&i| fact(i, 1 + pass as i64)).collect();
            let t = Instant::now();
            db.apply_facts(&batch, 0, &quiver::objects::report_update::data)
                .await?;
            took += t.elapsed();
        }
        *rate = rows as f64 / took.as_secs_f64();
    }
    Ok((rates[0], rates[1]))
}

/// The resident set of process `pid`, in MiB.
pub fn rss_mib(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
