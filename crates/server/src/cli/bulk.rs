//! `quiver bulk FILE.csv --as EMAIL`: submits a CSV of links to a running Quiver over HTTP,
//! shows progress until the job is done, and writes the result CSV.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct BulkArgs {
    /// CSV with a header row: asin, and optionally link_name and marketplace.
    pub file: PathBuf,

    /// The publisher account to submit as (its e-mail).
    #[arg(long = "as", value_name = "EMAIL")]
    pub user: String,

    /// The account's password.
    #[arg(long, env = "QUIVER_PASSWORD", hide_env_values = true)]
    pub password: String,

    /// Base URL of the Quiver server.
    #[arg(long, env = "QUIVER_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,

    /// Where to write the results (default: FILE with `.results.csv`).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Where the server e-mails the results: only the account's own address is accepted
    /// (the default).
    #[arg(long)]
    pub email: Option<String>,
}

/// Reads the input CSV into the request's `links`. Columns are matched by name, in any
/// order and case; values are sent as written (the server validates them).
pub fn read_links(path: &Path) -> anyhow::Result<Vec<Value>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .flexible(true)
        .from_path(path)?;
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let asin = col("asin").context("the CSV needs an 'asin' column")?;
    let (name, marketplace) = (col("link_name"), col("marketplace"));
    let mut links = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("line {}", i + 2))?;
        let cell = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        };
        links.push(json!({
            "asin": record.get(asin).unwrap_or_default(),
            "link_name": cell(name),
            "marketplace": cell(marketplace),
        }));
    }
    Ok(links)
}

async fn fail(resp: reqwest::Response, what: &str) -> anyhow::Error {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let detail = match &body["detail"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    anyhow::anyhow!("{what}: {status} {detail}")
}

pub async fn run(args: BulkArgs) -> anyhow::Result<()> {
    let links =
        read_links(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    if links.is_empty() {
        bail!("{} has no rows", args.file.display());
    }
    let base = args.server.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;

    let resp = http
        .post(format!("{base}/token"))
        .form(&[
            ("username", args.user.as_str()),
            ("password", args.password.as_str()),
        ])
        .send()
        .await
        .with_context(|| format!("connecting to {base}"))?;
    if !resp.status().is_success() {
        return Err(fail(resp, "login").await);
    }
    let token: Value = resp.json().await?;
    let token = token["access_token"]
        .as_str()
        .context("the server returned no access token")?
        .to_owned();

    let mut body = json!({ "links": links });
    if let Some(email) = &args.email {
        body["email"] = json!(email);
    }
    let resp = http
        .post(format!("{base}/bulk_generate_attribution_links"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(fail(resp, "submitting the job").await);
    }
    let accepted: Value = resp.json().await?;
    let job = accepted["job_id"]
        .as_str()
        .context("the server returned no job id")?
        .to_owned();
    let total = accepted["queued_count"].as_u64().unwrap_or(0);
    eprintln!("job {job}: {total} links queued");

    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} links ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let status = loop {
        let resp = http
            .get(format!("{base}/bulk_jobs/{job}"))
            .bearer_auth(&token)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(fail(resp, "reading the job's progress").await);
        }
        let status: Value = resp.json().await?;
        bar.set_position(status["processed"].as_u64().unwrap_or(0));
        bar.set_message(format!("{} failed", status["failed"].as_u64().unwrap_or(0)));
        if status["status"] == "done" {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bar.finish();

    let resp = http
        .get(format!("{base}/bulk_jobs/{job}/results.csv"))
        .bearer_auth(&token)
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(fail(resp, "downloading the results").await);
    }
    let csv = resp.bytes().await?;
    let out = args
        .out
        .unwrap_or_else(|| args.file.with_extension("results.csv"));
    std::fs::write(&out, &csv).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{} links created, {} errors; results in {}",
        status["succeeded"],
        status["failed"],
        out.display()
    );
    Ok(())
}
