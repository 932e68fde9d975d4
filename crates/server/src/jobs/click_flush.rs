//! Writes the click counts kept in memory (`clicks::counter`) at most once per interval
//! (`QUIVER_CLICK_FLUSH_MS`, at least 1 s), all in one transaction, and once more when
//! stopped (SIGTERM). A batch that fails to write is kept for the next attempt. A kill -9
//! loses what was counted since the last write: at most one interval.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::state::AppState;

/// Writes what was counted so far; returns how many clicks were written.
pub async fn flush(state: &AppState) -> i64 {
    let clicks = &state.clicks;
    clicks.counter.sweep(now_ms());
    let batch = clicks.counter.take();
    if batch.is_empty() {
        return 0;
    }
    match state.db.add_clicks(&batch).await {
        Ok(()) => batch.counted(),
        Err(e) => {
            tracing::warn!(error = %e, "could not write click counts; keeping them for the next try");
            clicks.counter.restore(batch);
            0
        }
    }
}

pub async fn run(state: AppState, every: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {
                flush(&state).await;
            }
            () = stop.cancelled() => {
                flush(&state).await;
                return;
            }
        }
    }
}
