//! Writes API keys' last use in batches (kept in memory by [`crate::api_keys`]), so using
//! a key never costs a database write; a last flush when stopped.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often the pending last-used times are written.
pub const EVERY: Duration = Duration::from_secs(10);

pub async fn run(state: AppState, every: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => crate::api_keys::flush(&state).await,
            () = stop.cancelled() => {
                crate::api_keys::flush(&state).await;
                return;
            }
        }
    }
}
