//! The bulk worker: claims due items, creates their links with bounded concurrency, and
//! finishes jobs whose items are all processed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use quiver_domain::{Asin, LinkName, Marketplace};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::BulkConfig;
use crate::error::{ApiError, FieldError};
use crate::linking::{NewLink, prepare_link};
use crate::objects::bulk_job::BulkJob;
use crate::objects::link::Link;
use crate::state::AppState;
use crate::store::Db;
use crate::store::bulk::{ClaimedItem, Completion, EmailStatus, JobSummary};
use crate::store::links::LinkRow;
use crate::store::now_ms;

/// Most items one job may have (spec §4).
pub const MAX_ITEMS: usize = 5_000;

/// Why an item failed when Amazon stayed unreachable through every attempt.
pub const AMAZON_GAVE_UP: &str = "Couldn't reach Amazon to create the link (gave up after \
     repeated attempts); submit this item again to retry";

/// The text of an error row: the same words single creation answers with, except where
/// those depend on the moment.
pub fn error_text(e: &ApiError) -> String {
    match e {
        ApiError::Validation(items) => items
            .iter()
            .map(field_error_text)
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::Internal(_) => "Internal error while creating the link".to_owned(),
        // The row is read when the job is done, maybe days later: a "retry in N seconds"
        // would mean nothing by then.
        ApiError::AmazonUnavailable { .. } => AMAZON_GAVE_UP.to_owned(),
        other => other.to_string(),
    }
}

fn field_error_text(f: &FieldError) -> String {
    let field = f
        .loc
        .last()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    if field.is_empty() || field == "__root__" || f.msg.starts_with(&field) {
        f.msg.clone()
    } else {
        format!("{field}: {}", f.msg)
    }
}

/// Rebuilds the creation request from a stored item (validated when it was submitted).
fn new_link(item: &ClaimedItem) -> Result<NewLink, ApiError> {
    let asin = Asin::parse(&item.asin)?;
    let marketplace = Marketplace::parse(&item.marketplace)?;
    let link_name = match &item.link_name {
        Some(n) => Some(LinkName::parse(n).map_err(|e| {
            ApiError::validation("body", "link_name", e.to_string(), "string_length")
        })?),
        None => None,
    };
    Ok(NewLink {
        asin,
        marketplace,
        link_name,
        source: item.source.clone(),
        sub_id: item.sub_id.clone(),
    })
}

/// A finished item waiting to be committed, and who to tell the outcome.
struct Done {
    job_id: String,
    position: i32,
    link: LinkRow,
    reply: oneshot::Sender<Result<bool, String>>,
}

/// Most completions written in one transaction.
const COMMIT_BATCH: usize = 64;

/// Writes finished items in small batches: whatever completed while the previous
/// transaction was committing goes into the next one.
async fn committer(
    db: Db,
    clicks: Arc<crate::clicks::Clicks>,
    worker: Arc<str>,
    link_data: LinkData,
    mut rx: mpsc::Receiver<Done>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < COMMIT_BATCH {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let completions: Vec<Completion<'_>> = batch
            .iter()
            .map(|d| Completion {
                job_id: &d.job_id,
                position: d.position,
                link: &d.link,
            })
            .collect();
        match db
            .complete_bulk_items(&worker, &completions, Some(&*link_data))
            .await
        {
            Ok(applied) => {
                // A bulk link's short URL works at once in this process too.
                crate::jobs::short_codes::add(
                    &clicks,
                    batch
                        .iter()
                        .zip(&applied)
                        .filter(|(_, ok)| **ok)
                        .map(|(d, _)| &d.link),
                );
                for (d, ok) in batch.into_iter().zip(applied) {
                    let _ = d.reply.send(Ok(ok));
                }
            }
            Err(e) => {
                let e = e.to_string();
                for d in batch {
                    let _ = d.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// The bulk worker of one process.
pub struct Worker {
    pub state: AppState,
    pub cfg: BulkConfig,
    /// This process's identity in leases and `processed_by`.
    pub id: String,
    /// Whether finished jobs wait for their e-mail (SMTP is configured).
    pub can_mail: bool,
    /// Tells the mailer a job finished.
    pub mail_wake: Arc<Notify>,
}

impl Worker {
    /// Works until `stop`: then lets items in flight finish (they take at most the link
    /// deadline) and hands back every lease still held, so another process continues at
    /// once instead of when the leases expire.
    pub async fn run(self, stop: CancellationToken) {
        let Self {
            state,
            cfg,
            id,
            can_mail,
            mail_wake,
        } = self;
        let concurrency = cfg.bulk_concurrency.max(1);
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut in_flight: JoinSet<()> = JoinSet::new();
        let email_status = if can_mail {
            EmailStatus::Pending
        } else {
            EmailStatus::None
        };
        let mut last_sweep = Instant::now() - cfg.poll();
        let mut last_lease = 0i64;
        let mut started: HashSet<String> = HashSet::new();
        let id: Arc<str> = id.into();
        let cfg = Arc::new(cfg);
        let (commit, commits) = mpsc::channel::<Done>(COMMIT_BATCH * 2);
        let link_state = state.clone();
        let link_data: LinkData = Arc::new(move |l: &LinkRow| {
            serde_json::to_value(Link::from_row(l, &link_state, (0, 0))).unwrap_or_default()
        });
        let committer = tokio::spawn(committer(
            state.db.clone(),
            state.clicks.clone(),
            id.clone(),
            link_data,
            commits,
        ));
        while !stop.is_cancelled() {
            while in_flight.try_join_next().is_some() {}
            let free = permits.available_permits();
            let mut claimed = 0;
            let mut tried = false;
            // While busy, claim in batches (half the slots at a time): fewer writes per item.
            if free > 0 && (in_flight.is_empty() || free * 2 >= concurrency) {
                tried = true;
                let now = now_ms();
                // Unique per claim, so the claim's rows can be read back by it.
                let lease_until = (now + cfg.lease().as_millis() as i64).max(last_lease + 1);
                last_lease = lease_until;
                match state
                    .db
                    .claim_bulk_items(&id, now, lease_until, free as i64)
                    .await
                {
                    Ok(items) => {
                        claimed = items.len();
                        for item in &items {
                            if !started.contains(&item.job_id) {
                                if let Err(e) = state.db.start_bulk_job(&item.job_id, now).await {
                                    tracing::warn!(error = %e, "could not mark a bulk job running");
                                }
                                if started.len() >= 10_000 {
                                    started.clear();
                                }
                                started.insert(item.job_id.clone());
                            }
                        }
                        for item in items {
                            let Ok(permit) = permits.clone().acquire_owned().await else {
                                break;
                            };
                            let (state, cfg, id) = (state.clone(), cfg.clone(), id.clone());
                            let commit = commit.clone();
                            in_flight.spawn(async move {
                                process(&state, &cfg, &id, &commit, item).await;
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not claim bulk items"),
                }
            }
            // Jobs are finished when idle, and at least once per poll interval while busy.
            if (tried && claimed == 0) || last_sweep.elapsed() >= cfg.poll() {
                last_sweep = Instant::now();
                match state
                    .db
                    .finish_bulk_jobs(now_ms(), email_status, &bulk_job_data)
                    .await
                {
                    Ok(done) => {
                        for job in &done {
                            tracing::info!(job = %job, "bulk job done");
                        }
                        if !done.is_empty() {
                            mail_wake.notify_one();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not finish bulk jobs"),
                }
            }
            if !in_flight.is_empty() && (claimed == free || free * 2 < concurrency) {
                // Slots are taken: come back as soon as one frees up.
                tokio::select! {
                    _ = in_flight.join_next() => {}
                    () = stop.cancelled() => {}
                }
            } else if claimed == 0 {
                tokio::select! {
                    Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                    () = super::WAKE.notified() => {}
                    () = tokio::time::sleep(cfg.poll()) => {}
                    () = stop.cancelled() => {}
                }
            }
        }
        // Items in flight finish within the link deadline; their results are worth keeping.
        let drain = state.settings.link_deadline + Duration::from_secs(1);
        let drained = tokio::time::timeout(drain, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("bulk items still in flight at shutdown were abandoned");
            in_flight.shutdown().await;
        }
        drop(commit);
        let _ = committer.await;
        match state.db.release_bulk_claims(&id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(items = n, "released bulk item leases"),
            Err(e) => tracing::warn!(error = %e, "could not release bulk item leases"),
        }
    }
}

/// The `link.created` event's `data` for a bulk item's link: the link as
/// `POST /generate_attribution_link` returns it.
type LinkData = Arc<dyn Fn(&LinkRow) -> serde_json::Value + Send + Sync>;

/// The `bulk_job.finished` event's `data`: the job as `GET /bulk_jobs/{job_id}` shows it.
fn bulk_job_data(job: &JobSummary) -> serde_json::Value {
    serde_json::to_value(BulkJob::from(job.clone())).unwrap_or_default()
}

/// Processes one claimed item: its link and done mark together, a retry, or an error row.
async fn process(
    state: &AppState,
    cfg: &BulkConfig,
    worker: &str,
    commit: &mpsc::Sender<Done>,
    item: ClaimedItem,
) {
    // The error, and whether another attempt may succeed.
    let outcome = match new_link(&item) {
        Ok(req) => prepare_link(state, &item.account_id, &item.public_id, &req)
            .await
            .map_err(|e| (e.is_transient(), ApiError::from(e))),
        Err(e) => Err((false, e)),
    };
    let result = match outcome {
        Ok(link) => match complete(commit, &item, link).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::info!(job = %item.job_id, position = item.position, "bulk item taken over by another worker; its link was not stored");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, job = %item.job_id, position = item.position, "could not store a bulk link");
                retry(state, cfg, worker, &item).await
            }
        },
        Err((true, _)) if item.attempts.saturating_add(1) < cfg.bulk_max_attempts as i32 => {
            retry(state, cfg, worker, &item).await
        }
        Err((_, e)) => state
            .db
            .fail_bulk_item(
                &item.job_id,
                item.position,
                worker,
                &error_text(&e),
                now_ms(),
            )
            .await
            .map(|_| ()),
    };
    if let Err(e) = result {
        // The lease runs out and the item is claimed again: nothing is lost.
        tracing::warn!(error = %e, job = %item.job_id, position = item.position, "could not record a bulk item's outcome");
    }
}

async fn complete(
    commit: &mpsc::Sender<Done>,
    item: &ClaimedItem,
    link: LinkRow,
) -> Result<bool, String> {
    let (reply, outcome) = oneshot::channel();
    let done = Done {
        job_id: item.job_id.clone(),
        position: item.position,
        link,
        reply,
    };
    commit
        .send(done)
        .await
        .map_err(|_| "the committer stopped".to_owned())?;
    outcome
        .await
        .map_err(|_| "the committer stopped".to_owned())?
}

async fn retry(
    state: &AppState,
    cfg: &BulkConfig,
    worker: &str,
    item: &ClaimedItem,
) -> Result<(), crate::store::StoreError> {
    let delay: Duration = cfg.backoff(item.attempts.max(0) as u32);
    let next = now_ms() + delay.as_millis() as i64;
    state
        .db
        .retry_bulk_item(&item.job_id, item.position, worker, next)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rows_use_single_creation_wording() {
        let e = ApiError::from(Asin::parse("nope").unwrap_err());
        assert_eq!(
            error_text(&e),
            "Invalid ASIN 'nope': expected 10 letters or digits"
        );
        let e = ApiError::Validation(vec![FieldError::missing("body", "asin")]);
        assert_eq!(error_text(&e), "asin: Field required");
        let e = ApiError::validation(
            "body",
            "link_name",
            "link_name must be 1 to 200 characters",
            "string_length",
        );
        assert_eq!(error_text(&e), "link_name must be 1 to 200 characters");
    }

    #[test]
    fn an_amazon_outage_is_worded_without_a_moment() {
        let e = ApiError::AmazonUnavailable {
            retry_after: Duration::from_secs(3),
        };
        let text = error_text(&e);
        assert!(text.starts_with("Couldn't reach Amazon"), "{text}");
        assert!(!text.contains("seconds") && !text.contains('3'), "{text}");
    }
}
