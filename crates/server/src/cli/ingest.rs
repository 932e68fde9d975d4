//! `quiver ingest`: one ingestion run now, with progress on stderr.

use std::sync::Arc;

use anyhow::Context;

use crate::amazon::Amazon;
use crate::config::ServeConfig;
use crate::ingest::{Options, Outcome, Progress, run_once};
use crate::store::Db;

pub async fn run(database_url: &str, cfg: &ServeConfig) -> anyhow::Result<()> {
    let mode = cfg.amazon_mode(database_url).map_err(anyhow::Error::msg)?;
    let db = Db::connect(database_url)
        .await
        .with_context(|| format!("opening the database {database_url}"))?;
    db.migrate().await.context("running migrations")?;
    // Brands' own authorisations need the key (the same check as at `serve`).
    let secret_key = match crate::cli::secrets::open_at_start(
        &db,
        database_url,
        cfg.secret_key.as_deref(),
    )
    .await
    {
        Ok(k) => k,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    let amazon = Amazon::start(&mode, cfg).await?;
    let opts = Options {
        secret_key,
        progress: Some(Arc::new(|p: &Progress| {
            eprintln!(
                "  {} {} {}: {} pages, {} rows read so far",
                p.region, p.advertiser_id, p.report, p.pages, p.entries
            );
        })),
        ..Options::default()
    };
    eprintln!("ingesting Amazon Attribution reports...");
    let outcome = run_once(&db, &amazon.client, &opts).await;
    db.close().await;
    match outcome? {
        Outcome::Busy => {
            eprintln!("another process is ingesting right now; nothing done");
            Ok(())
        }
        Outcome::Ran(s) => {
            eprintln!(
                "done: {} advertisers, {} pages, {} rows read; {} facts new, {} changed, {} unchanged; \
                 {} rows for unknown ad groups, {} after a pause; {} resumed",
                s.advertisers,
                s.pages,
                s.entries,
                s.inserted,
                s.updated,
                s.unchanged,
                s.unmatched,
                s.paused,
                s.resumed
            );
            for b in &s.skipped {
                eprintln!("  skipped {b}: its Amazon connection needs reconnecting");
            }
            if s.failures.is_empty() {
                Ok(())
            } else {
                for f in &s.failures {
                    eprintln!("  failed (resumes next run): {f}");
                }
                anyhow::bail!("{} report pulls failed", s.failures.len())
            }
        }
    }
}
