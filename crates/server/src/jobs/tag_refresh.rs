//! Renews cached tag templates before they expire, so link creation rarely waits for
//! Amazon.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(60);

pub async fn run(state: AppState, stop: CancellationToken) {
    let cache = state.amazon.tags.cache();
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = stop.cancelled() => return,
        }
        // One key at a time, each within the cache's refresh budget; a refresh under way
        // is finished rather than left running on its own.
        for key in cache.due_for_refresh() {
            if stop.is_cancelled() {
                return;
            }
            if let Err(e) = cache.refresh(&key).await {
                tracing::info!(region = %key.region, advertiser = %key.advertiser_id, error = %e, "tag refresh failed");
            }
        }
    }
}
