//! The table's rows, each beside its own baseline from the same run, and the helpers the
//! scenarios share.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use std::time::Instant;

use hdrhistogram::Histogram;
use serde_json::json;

use crate::{MARKETPLACES, Stats, load};

pub struct Row {
    pub name: String,
    pub stats: Option<Stats>,
    /// The baseline this row is compared with (a key of `Ctx::baselines`).
    pub baseline: &'static str,
    pub note: String,
    /// The server's resident set after the scenario, MiB.
    pub rss: Option<f64>,
}

pub struct Ctx {
    pub client: reqwest::Client,
    pub concurrency: usize,
    pub duration: Duration,
    /// The baseline server's base URL.
    pub baseline: String,
    pub baselines: HashMap<&'static str, Stats>,
}

impl Ctx {
    /// Measures the baseline `key` once per run: for a page, the baseline builds pages
    /// like `sample` (a page Quiver returned), of `n` objects each.
    pub async fn baseline_page(
        &mut self,
        key: &'static str,
        sample: &Value,
        n: usize,
    ) -> anyhow::Result<()> {
        if self.baselines.contains_key(key) {
            return Ok(());
        }
        self.client
            .put(format!("{}/page/{key}", self.baseline))
            .json(sample)
            .send()
            .await?
            .error_for_status()?;
        eprintln!("bench: baseline {key} ({n} objects a page)");
        let (client, url) = (
            self.client.clone(),
            format!("{}/page/{key}?n={n}", self.baseline),
        );
        let s = load(self.concurrency, self.duration, 200, move |_| {
            client.get(&url)
        })
        .await?;
        self.baselines.insert(key, s);
        Ok(())
    }

    /// GET `url` with `token`, as JSON.
    pub async fn get(&self, url: &str, token: &str) -> anyhow::Result<Value> {
        Ok(self
            .client
            .get(url)
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Follows `next_cursor` from `url` to the last page; returns its URL and the number
    /// of pages.
    pub async fn last_page(&self, url: &str, token: &str) -> anyhow::Result<(String, usize)> {
        let mut pages = 1;
        let mut last = url.to_owned();
        let mut page = self.get(url, token).await?;
        while let Some(c) = page["next_cursor"].as_str().filter(|_| pages < 20_000) {
            last = format!("{url}&cursor={c}");
            page = self.get(&last, token).await?;
            pages += 1;
        }
        Ok((last, pages))
    }

    /// A GET scenario against its page baseline: `list` names the baseline, and the
    /// baseline's pages have as many objects as this page.
    pub async fn list(
        &mut self,
        name: String,
        list: &'static str,
        url: String,
        token: &str,
        note: String,
    ) -> anyhow::Result<Row> {
        let sample = self.get(&url, token).await?;
        let n = sample["fetched_count"]
            .as_u64()
            .or_else(|| sample["rows"].as_array().map(|r| r.len() as u64))
            .unwrap_or(0) as usize;
        self.baseline_page(list, &sample, n).await?;
        eprintln!("bench: {name}");
        let (client, t) = (self.client.clone(), token.to_owned());
        let s = load(self.concurrency, self.duration, 200, move |_| {
            client.get(&url).bearer_auth(&t)
        })
        .await?;
        Ok(Row {
            name,
            stats: Some(s),
            baseline: list,
            note: format!("{n} rows; {note}"),
            rss: None,
        })
    }
}

pub fn print_table(rows: &[Row], baselines: &HashMap<&'static str, Stats>) {
    println!(
        "\n{:<52} {:>10} {:>9} {:>9} {:>8} {:>8} {:>7} {:>8}  note",
        "scenario", "req/s", "p50 ms", "p99 ms", "rps ×bl", "p99 ×bl", "errors", "RSS MiB"
    );
    let mut keys: Vec<_> = baselines.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        let s = &baselines[k];
        println!(
            "{:<52} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>8} {:>7} {:>8}  ",
            format!("baseline: {k}"),
            s.rps(),
            s.ms(0.5),
            s.ms(0.99),
            "",
            "",
            s.errors,
            ""
        );
    }
    for r in rows {
        let rss = r.rss.map_or(String::new(), |m| format!("{m:.0}"));
        match (&r.stats, baselines.get(r.baseline)) {
            (Some(s), b) => println!(
                "{:<52} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>8} {:>7} {:>8}  {} [vs {}]",
                r.name,
                s.rps(),
                s.ms(0.5),
                s.ms(0.99),
                b.map_or("-".into(), |b| format!("{:.3}", s.rps() / b.rps())),
                b.map_or("-".into(), |b| format!(
                    "{:.1}",
                    s.ms(0.99) / b.ms(0.99).max(0.001)
                )),
                s.errors,
                rss,
                r.note,
                r.baseline,
            ),
            (None, _) => println!(
                "{:<52} {:>10} {:>9} {:>9} {:>8} {:>8} {:>7} {:>8}  {}",
                r.name, "-", "-", "-", "-", "-", "-", rss, r.note
            ),
        }
    }
    println!(
        "\nrps ×bl = scenario req/s ÷ its baseline's req/s; p99 ×bl = scenario p99 ÷ baseline p99 (same run, same machine)."
    );
}

/// A row with nothing measured (a scenario this build or engine cannot run).
pub fn skipped(name: String, note: String) -> Row {
    Row {
        name,
        stats: None,
        baseline: "",
        note,
        rss: None,
    }
}

pub async fn bulk(
    client: &reqwest::Client,
    base: &str,
    creator: &str,
    prefix: &str,
    n_items: usize,
) -> anyhow::Result<Row> {
    eprintln!("bench: bulk job of {n_items} items");
    let items: Vec<Value> = (0..n_items)
        .map(|i| json!({"asin": "B0D45KS7QM", "marketplace": MARKETPLACES[i % 9], "link_name": format!("bulk {i}")}))
        .collect();
    let started = Instant::now();
    let r = client
        .post(format!("{base}/bulk_generate_attribution_links"))
        .bearer_auth(creator)
        .json(&json!({"links": items}))
        .send()
        .await?;
    if r.status() != reqwest::StatusCode::ACCEPTED {
        return Ok(skipped(
            format!("{prefix}bulk job"),
            format!("not available ({})", r.status()),
        ));
    }
    let job: Value = r.json().await?;
    let id = job["job_id"].as_str().unwrap_or_default().to_owned();
    loop {
        let s: Value = client
            .get(format!("{base}/bulk_jobs/{id}"))
            .bearer_auth(creator)
            .send()
            .await?
            .json()
            .await?;
        if s["status"] == "done" {
            let took = started.elapsed();
            let mut latency = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
            latency.record(took.as_micros() as u64)?;
            let n = s["total"].as_u64().unwrap_or(0);
            return Ok(Row {
                name: format!("{prefix}bulk job ({n} items)"),
                note: format!(
                    "{:.1} s, {:.0} links/s, {} failed; req/s = links/s",
                    took.as_secs_f64(),
                    n as f64 / took.as_secs_f64(),
                    s["failed"]
                ),
                baseline: "",
                rss: None,
                stats: Some(Stats {
                    requests: n,
                    errors: s["failed"].as_u64().unwrap_or(0),
                    elapsed: took,
                    latency,
                }),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
