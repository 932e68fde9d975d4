//! Sends webhook deliveries (issue #21): claims due ones with a lease, sends each
//! endpoint's in creation order (one endpoint's at a time, endpoints side by side),
//! records every attempt and schedules retries; disables endpoints failing for the
//! configured window and e-mails their owners.
//!
//! At least once: a process killed after a send and before recording it leaves the
//! delivery leased; when the lease runs out, any process sends it again with the same
//! `webhook-id`, which receivers dedupe on. Outcomes are recorded in runs (up to
//! `RECORD_EVERY` attempts or `RECORD_AFTER`, whichever comes first) in one transaction,
//! so a busy endpoint costs one commit per run rather than one per event; the price is
//! that a kill resends at most one run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::store::webhooks::deliveries::{AttemptOutcome, ClaimedDelivery};
use crate::webhooks::send::{self, Signed};
use crate::webhooks::signing;

/// Deliveries claimed at once.
const CLAIM_LIMIT: i64 = 200;
/// Endpoints sent to side by side.
const MAX_GROUPS: usize = 16;
/// Attempts recorded in one transaction at most.
const RECORD_EVERY: usize = 64;
/// How long an attempt may wait to be recorded with the next ones.
const RECORD_AFTER: Duration = Duration::from_millis(50);

pub async fn run(state: AppState, worker_id: String, stop: CancellationToken) {
    let owner: Arc<str> = format!("webhooks-{worker_id}").into();
    let hooks = state.webhooks.clone();
    let poll = hooks.settings.poll_every;
    let mut groups: JoinSet<()> = JoinSet::new();
    let mut last_sweep: Option<Instant> = None;
    while !stop.is_cancelled() {
        while groups.try_join_next().is_some() {}
        if last_sweep.is_none_or(|t| t.elapsed() >= poll) {
            last_sweep = Some(Instant::now());
            disable_failing(&state).await;
        }
        let mut claimed = 0;
        if groups.len() < MAX_GROUPS {
            let now = hooks.clock.now_ms();
            let lease_until = now + hooks.settings.lease.as_millis() as i64;
            match state
                .db
                .claim_webhook_deliveries(&owner, now, lease_until, CLAIM_LIMIT)
                .await
            {
                Ok(batch) => {
                    claimed = batch.len();
                    for (_, group) in by_endpoint(batch) {
                        let (state, owner, stop) = (state.clone(), owner.clone(), stop.clone());
                        groups.spawn(send_group(state, owner, group, lease_until, stop));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
            }
        }
        if claimed > 0 && groups.len() < MAX_GROUPS {
            continue;
        }
        // While endpoints are being sent to and the last claim found nothing else due,
        // claiming again on every enqueue (a wake per link created) would only rescan the
        // same busy endpoints' deliveries and hold SQLite's write lock: the next claim
        // waits for a group to finish or the poll instead.
        let busy = !groups.is_empty();
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = hooks.wake.notified(), if !busy => {}
            Some(_) = groups.join_next(), if !groups.is_empty() => {}
            () = stop.cancelled() => {}
        }
    }
    // Each group stops after its current attempt and gives the rest of its leases back.
    while groups.join_next().await.is_some() {}
}

fn by_endpoint(batch: Vec<ClaimedDelivery>) -> BTreeMap<String, Vec<ClaimedDelivery>> {
    let mut groups: BTreeMap<String, Vec<ClaimedDelivery>> = BTreeMap::new();
    for d in batch {
        groups.entry(d.endpoint_id.clone()).or_default().push(d);
    }
    for g in groups.values_mut() {
        g.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    }
    groups
}

/// Sends one endpoint's deliveries in order while the lease leaves time for an attempt,
/// recording the outcomes in runs.
async fn send_group(
    state: AppState,
    owner: Arc<str>,
    group: Vec<ClaimedDelivery>,
    lease_until: i64,
    stop: CancellationToken,
) {
    let hooks = &state.webhooks;
    let margin = hooks.settings.timeout.as_millis() as i64 + 1_000;
    // One endpoint's deliveries share its secrets: opened once for the group. The
    // overlap follows the schedule's clock, so a test can step past it.
    let secrets = group
        .first()
        .and_then(|d| secrets(&state, d, hooks.clock.now_ms()));
    let mut pending: Vec<(&ClaimedDelivery, AttemptOutcome)> = Vec::new();
    let mut oldest = Instant::now();
    for (i, d) in group.iter().enumerate() {
        if stop.is_cancelled() || hooks.clock.now_ms() + margin > lease_until {
            record(&state, &owner, &mut pending).await;
            release(&state, &owner, &group[i..]).await;
            return;
        }
        let outcome = deliver(&state, d, secrets.as_deref()).await;
        if pending.is_empty() {
            oldest = Instant::now();
        }
        pending.push((d, outcome));
        if pending.len() >= RECORD_EVERY || oldest.elapsed() >= RECORD_AFTER {
            record(&state, &owner, &mut pending).await;
        }
    }
    record(&state, &owner, &mut pending).await;
}

/// Records the attempts made so far and empties `pending`.
async fn record(
    state: &AppState,
    owner: &str,
    pending: &mut Vec<(&ClaimedDelivery, AttemptOutcome)>,
) {
    if pending.is_empty() {
        return;
    }
    match state.db.record_webhook_attempts(owner, pending).await {
        Ok(n) if n == pending.len() => {}
        Ok(n) => {
            tracing::warn!(
                lost = pending.len() - n,
                "webhook deliveries' leases were lost before their attempts were recorded"
            )
        }
        Err(e) => {
            tracing::warn!(attempts = pending.len(), error = %e, "recording webhook attempts failed; they will be sent again")
        }
    }
    pending.clear();
}

async fn release(state: &AppState, owner: &str, ds: &[ClaimedDelivery]) {
    for d in ds {
        if let Err(e) = state.db.release_webhook_delivery(owner, &d.id).await {
            tracing::warn!(error = %e, "releasing a webhook delivery failed; its lease will expire");
        }
    }
}

/// The secrets that sign `d`: the current one, and the rotated-out one while it lasts.
fn secrets(
    state: &AppState,
    d: &ClaimedDelivery,
    now: i64,
) -> Option<Vec<zeroize::Zeroizing<String>>> {
    let key = state.webhooks.key.as_deref()?;
    let mut out = vec![signing::open(key, &d.endpoint_id, &d.secret_sealed)?];
    if let (Some(prev), Some(until)) = (&d.previous_secret_sealed, d.previous_until)
        && until > now
        && let Some(p) = signing::open(key, &d.endpoint_id, prev)
    {
        out.push(p);
    }
    Some(out)
}

/// Makes one attempt of `d` and says what it came to (not yet recorded).
async fn deliver(
    state: &AppState,
    d: &ClaimedDelivery,
    secrets: Option<&[zeroize::Zeroizing<String>]>,
) -> AttemptOutcome {
    let hooks = &state.webhooks;
    let attempt = match secrets {
        Some(secrets) => {
            let req = Signed {
                url: &d.url,
                msg_id: &d.event_id,
                body: &d.payload,
                secrets: secrets.iter().map(|s| s.as_str()).collect(),
            };
            send::attempt(&hooks.client, &hooks.settings, &req).await
        }
        None => send::Attempt {
            status_code: None,
            latency_ms: 0,
            error: Some(
                "the endpoint's secret cannot be opened with the server's secret key".into(),
            ),
        },
    };
    let now = hooks.clock.now_ms();
    let delivered = attempt.delivered();
    let next_attempt_at = (!delivered)
        .then(|| retry_delay(&hooks.settings.schedule, d.attempts))
        .flatten()
        .map(|delay| now + delay.as_millis() as i64);
    let outcome = AttemptOutcome {
        at: now,
        status_code: attempt.status_code.map(i32::from),
        latency_ms: attempt.latency_ms,
        error: attempt.error,
        delivered,
        next_attempt_at,
    };
    let label = match (outcome.delivered, next_attempt_at) {
        (true, _) => "delivered",
        (false, Some(_)) => "failed",
        (false, None) => "gave_up",
    };
    metrics::counter!("quiver_webhook_deliveries_total", "outcome" => label).increment(1);
    outcome
}

/// The delay after the attempt numbered `attempts` (0-based) failed, with ±10 % jitter;
/// `None` when the schedule is used up.
pub fn retry_delay(schedule: &[Duration], attempts: i32) -> Option<Duration> {
    let base = *schedule.get(usize::try_from(attempts).ok()?)?;
    let jitter = rand::rng().random_range(0.9..=1.1);
    Some(base.mul_f64(jitter))
}

async fn disable_failing(state: &AppState) {
    let hooks = &state.webhooks;
    let now = hooks.clock.now_ms();
    let window = hooks.settings.disable_after;
    let cutoff = now - window.as_millis() as i64;
    let disabled = match state.db.disable_failing_webhooks(cutoff, now).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "disabling failing webhook endpoints failed");
            return;
        }
    };
    for ep in disabled {
        tracing::info!(endpoint = %ep.id, "webhook endpoint disabled after failing for the whole window");
        let Ok(Some(account)) = state.db.account_by_id(&ep.account_id).await else {
            continue;
        };
        let link = format!("{}/app/#/webhooks", state.joining.public_url());
        let days = window.as_secs() / 86_400;
        let mail =
            crate::mail::templates::webhook_disabled(&account.display_name, &ep.url, days, &link);
        state
            .joining
            .outbox
            .send(&state.db, &account.email, mail)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_follow_the_schedule_with_jitter() {
        let s = [Duration::from_secs(5), Duration::from_secs(300)];
        for _ in 0..100 {
            let d = retry_delay(&s, 0).unwrap();
            assert!(d >= Duration::from_millis(4500) && d <= Duration::from_millis(5500));
            let d = retry_delay(&s, 1).unwrap();
            assert!(d >= Duration::from_secs(270) && d <= Duration::from_secs(330));
        }
        assert_eq!(retry_delay(&s, 2), None);
    }
}
