//! Background work: the bulk-link job queue (spec §4) and the e-mail of its results.
//!
//! Every `quiver serve` runs one worker. Workers share the queue through the database:
//! items are claimed with a lease (see `store::bulk`), processed with bounded
//! concurrency, and written exactly once. A worker that dies simply lets its leases
//! expire; a worker that stops cleanly hands them back at once.

pub mod bulk;
pub mod csv;
pub mod mail;

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::state::AppState;

pub use bulk::MAX_ITEMS;
pub use mail::Mailer;

/// Tuning of the bulk worker (`quiver serve` flags, each with its `QUIVER_*` variable).
#[derive(Debug, Clone, Args)]
pub struct BulkConfig {
    /// Items one process works on at once (bounded so Amazon's limits hold).
    #[arg(long, env = "QUIVER_BULK_CONCURRENCY", default_value_t = 8)]
    pub bulk_concurrency: usize,

    /// Seconds a claimed item stays leased; a crashed worker's items return after this.
    /// Must exceed the link deadline by a wide margin.
    #[arg(long, env = "QUIVER_BULK_LEASE_SECS", default_value_t = 60)]
    pub bulk_lease_secs: u64,

    /// First retry delay for items that failed because Amazon was unavailable (doubles
    /// each attempt, capped at a minute), also used for e-mail retries.
    #[arg(long, env = "QUIVER_BULK_RETRY_BASE_MS", default_value_t = 2000)]
    pub bulk_retry_base_ms: u64,

    /// Attempts per item before "Amazon unavailable" becomes the item's error.
    #[arg(long, env = "QUIVER_BULK_MAX_ATTEMPTS", default_value_t = 6)]
    pub bulk_max_attempts: u32,

    /// Attempts to e-mail a job's results before giving up (the CSV stays downloadable).
    #[arg(long, env = "QUIVER_SMTP_MAX_ATTEMPTS", default_value_t = 5)]
    pub smtp_max_attempts: u32,

    /// Sender address of bulk-job e-mails.
    #[arg(
        long,
        env = "QUIVER_SMTP_FROM",
        default_value = "Quiver <quiver@localhost>"
    )]
    pub smtp_from: String,

    /// How often an idle worker looks for work other processes queued, in milliseconds.
    #[arg(long, env = "QUIVER_BULK_POLL_MS", default_value_t = 500, hide = true)]
    pub bulk_poll_ms: u64,
}

impl BulkConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.bulk_lease_secs.max(1))
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.bulk_poll_ms.max(10))
    }

    /// Delay before attempt `attempt + 1`: exponential from the base, capped at a minute,
    /// with up to 25% jitter so retries of many items spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.bulk_retry_base_ms.max(1);
        let ms = base.saturating_mul(1u64 << attempt.min(16)).min(60_000);
        let jitter = rand::random_range(0..=ms / 4);
        Duration::from_millis(ms + jitter)
    }
}

/// The running background tasks of one process.
pub struct Workers {
    /// This process's identity in leases and `processed_by`.
    pub id: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    state: AppState,
}

/// Wakes this process's worker at once instead of at its next poll. Process-wide: tests
/// run several servers in one process, and a spurious wake-up only costs one empty claim.
static WAKE: Notify = Notify::const_new();

/// A job was submitted: start on it now.
pub fn wake() {
    WAKE.notify_one();
}

/// Starts the bulk worker and, when SMTP is configured, the mailer.
pub fn start(state: AppState, cfg: &BulkConfig, smtp_url: Option<&str>) -> anyhow::Result<Workers> {
    let mailer = match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => Some(Arc::new(Mailer::from_url(url, &cfg.smtp_from)?)),
        None => None,
    };
    let id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let (stop, stopped) = watch::channel(false);
    let mail_wake = Arc::new(Notify::new());
    let mut tasks = vec![tokio::spawn(bulk::run(
        state.clone(),
        cfg.clone(),
        id.clone(),
        mailer.is_some(),
        mail_wake.clone(),
        stopped.clone(),
    ))];
    if let Some(mailer) = mailer {
        tasks.push(tokio::spawn(mail::run(
            state.clone(),
            cfg.clone(),
            id.clone(),
            mailer,
            mail_wake,
            stopped,
        )));
    }
    Ok(Workers {
        id,
        stop,
        tasks,
        state,
    })
}

impl Workers {
    /// Stops taking work, waits briefly for items in flight, and hands back any leases
    /// still held so another process can continue without waiting for them to expire.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("bulk worker did not stop in time");
                abort.abort();
            }
        }
        match self.state.db.release_bulk_claims(&self.id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(items = n, "released bulk item leases"),
            Err(e) => tracing::warn!(error = %e, "could not release bulk item leases"),
        }
    }
}
