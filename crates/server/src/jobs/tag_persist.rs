//! Keeps the database's copy of the tag-template cache current, so a restart serves links
//! through an Amazon outage; one last write when stopped keeps templates fetched since the
//! previous one.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(10);

pub async fn run(state: AppState, stop: CancellationToken) {
    let tags = &state.amazon.tags;
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => tags.persist(&state.db).await,
            () = stop.cancelled() => break,
        }
    }
    tags.persist(&state.db).await;
}
