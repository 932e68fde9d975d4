//! Background work: every periodic or long-running task of `quiver serve`.
//!
//! Each job is one file here with a `run(.., stop: CancellationToken)` that returns soon
//! after `stop` is cancelled, and one line in [`start`]. The [`Supervisor`] that `start`
//! returns owns them all; `quiver serve` stops it on SIGTERM/Ctrl-C (through
//! `Running::stop`) and it waits for every job to return.

pub mod account_mail;
pub mod api_key_flush;
pub mod bulk;
pub mod click_flush;
pub mod csv;
pub mod ingest_schedule;
pub mod limiter_sweep;
pub mod mail;
pub mod short_codes;
pub mod tag_persist;
pub mod tag_refresh;
pub mod webhook_delivery;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::ServeConfig;
use crate::state::AppState;

pub use bulk::MAX_ITEMS;
pub use mail::Mailer;

/// Wakes this process's bulk worker at once instead of at its next poll. Process-wide:
/// tests run several servers in one process, and a spurious wake-up only costs one empty
/// claim.
static WAKE: Notify = Notify::const_new();

/// A job was submitted: start on it now.
pub fn wake() {
    WAKE.notify_one();
}

/// A new identity for this process in bulk leases and `processed_by`.
pub fn worker_id() -> String {
    format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// Starts every background job of `quiver serve`, in the order they may depend on each
/// other: the tag-cache jobs first, so they stop last.
pub fn start(
    state: &AppState,
    cfg: &ServeConfig,
    worker_id: &str,
    demo_links: bool,
) -> anyhow::Result<Supervisor> {
    let mailer = match cfg.smtp_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => Some(Arc::new(Mailer::from_url(url, &cfg.bulk.smtp_from)?)),
        _ => None,
    };
    let mail_wake = Arc::new(Notify::new());
    let mut jobs = Supervisor::default();
    // Started first so it stops last: its final flush writes every click counted.
    let click_every = state.clicks.settings.flush_every;
    jobs.spawn("click_flush", |stop| {
        click_flush::run(state.clone(), click_every, stop)
    });
    let poll_every = state.clicks.settings.poll_every;
    jobs.spawn("short_codes", |stop| {
        short_codes::run(state.clone(), poll_every, stop)
    });
    jobs.spawn("tag_persist", |stop| tag_persist::run(state.clone(), stop));
    jobs.spawn("tag_refresh", |stop| tag_refresh::run(state.clone(), stop));
    if let Some(limiter) = state.limiter.clone() {
        jobs.spawn("limiter_sweep", |stop| limiter_sweep::run(limiter, stop));
    }
    if let Some(every) = cfg.ingest_interval() {
        jobs.spawn("ingest_schedule", |stop| {
            ingest_schedule::run(state.clone(), every, stop)
        });
    }
    let worker = bulk::Worker {
        state: state.clone(),
        cfg: cfg.bulk.clone(),
        id: worker_id.to_owned(),
        can_mail: mailer.is_some(),
        mail_wake: mail_wake.clone(),
    };
    jobs.spawn("bulk", |stop| worker.run(stop));
    if let Some(mailer) = mailer {
        let sender = mail::Sender {
            state: state.clone(),
            cfg: cfg.bulk.clone(),
            id: worker_id.to_owned(),
            mailer: mailer.clone(),
            wake: mail_wake,
        };
        jobs.spawn("mail", |stop| sender.run(stop));
        if state.joining.outbox.is_stored() {
            let stored = account_mail::Stored {
                state: state.clone(),
                mailer: mailer.clone(),
                cfg: cfg.bulk.clone(),
                owner: format!("mail-{worker_id}"),
            };
            jobs.spawn("account_mail", |stop| stored.run(stop));
        } else if let Some(queue) = state.joining.outbox.take_queue() {
            let account_mail = account_mail::AccountMail {
                queue,
                mailer,
                attempts: cfg.bulk.smtp_max_attempts,
                retry_base: Duration::from_millis(cfg.bulk.bulk_retry_base_ms),
            };
            jobs.spawn("account_mail", |stop| account_mail.run(stop));
        }
    }
    let worker = worker_id.to_owned();
    jobs.spawn("webhook_delivery", |stop| {
        webhook_delivery::run(state.clone(), worker, stop)
    });
    jobs.spawn("api_key_flush", |stop| {
        api_key_flush::run(state.clone(), api_key_flush::EVERY, stop)
    });
    if demo_links {
        jobs.spawn("demo_links", |stop| {
            crate::demo::seed_links(state.clone(), stop)
        });
    }
    Ok(jobs)
}

/// The running jobs of one process, each with its own stop signal.
#[derive(Default)]
pub struct Supervisor {
    jobs: Vec<Job>,
}

struct Job {
    name: &'static str,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// How a job ended when the supervisor stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Returned by itself (before or after its stop signal).
    Finished,
    Panicked,
    /// Still running when the time to stop was up.
    Aborted,
}

/// What [`Supervisor::stop`] found, job by job in the order they were stopped.
#[derive(Debug, Clone, Default)]
pub struct StopReport {
    pub jobs: Vec<(&'static str, Ended)>,
}

impl StopReport {
    pub fn all_finished(&self) -> bool {
        self.jobs.iter().all(|(_, e)| *e == Ended::Finished)
    }
}

impl Supervisor {
    /// Starts `job` on its own task with a fresh stop signal.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, job: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let task = tokio::spawn(job(stop.clone()));
        self.jobs.push(Job { name, stop, task });
    }

    /// The names of the jobs, in the order they were started.
    pub fn names(&self) -> Vec<&'static str> {
        self.jobs.iter().map(|j| j.name).collect()
    }

    /// Stops every job and waits for it, the last started first, so a job can rely on the
    /// ones started before it until it has returned (tag persistence outlives the work that
    /// fills the cache). Whatever still runs after `grace` in all is aborted.
    pub async fn stop(mut self, grace: Duration) -> StopReport {
        let deadline = Instant::now() + grace;
        let mut report = StopReport::default();
        for mut job in std::mem::take(&mut self.jobs).into_iter().rev() {
            job.stop.cancel();
            // A job stopped after the others took all the time still gets a moment.
            let until = deadline.max(Instant::now() + LAST_MOMENT);
            let ended = match tokio::time::timeout_at(until, &mut job.task).await {
                Ok(Ok(())) => Ended::Finished,
                Ok(Err(e)) => {
                    tracing::error!(job = job.name, error = %e, "background job panicked");
                    Ended::Panicked
                }
                Err(_) => {
                    tracing::warn!(job = job.name, "background job did not stop in time");
                    job.task.abort();
                    Ended::Aborted
                }
            };
            report.jobs.push((job.name, ended));
        }
        report
    }
}

/// What a job stopped after the grace period is over may still take.
const LAST_MOMENT: Duration = Duration::from_millis(500);

impl Drop for Supervisor {
    /// Dropped without [`Supervisor::stop`]: the jobs are still told to stop.
    fn drop(&mut self) {
        for job in &self.jobs {
            job.stop.cancel();
        }
    }
}
