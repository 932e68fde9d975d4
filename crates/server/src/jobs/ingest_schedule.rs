//! Report ingestion inside `quiver serve`: one run at start, then one every interval,
//! each followed by the e-mails about brands' broken Amazon connections (#18) and the
//! statements' refresh (create, finalise; issue #20).
//! Stopping ends a run between pages; it resumes from its checkpoint next time.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::ingest::{Options, Outcome, run_once};
use crate::state::AppState;

pub async fn run(state: AppState, every: Duration, stop: CancellationToken) {
    let opts = Options {
        stop: stop.clone(),
        secret_key: state.secret_key.clone(),
        ..Options::default()
    };
    while !stop.is_cancelled() {
        match run_once(&state.db, &state.amazon.client, &opts).await {
            Ok(Outcome::Ran(s)) => tracing::info!(
                advertisers = s.advertisers,
                pages = s.pages,
                inserted = s.inserted,
                updated = s.updated,
                failures = s.failures.len(),
                skipped = s.skipped.len(),
                "report ingestion finished"
            ),
            Ok(Outcome::Busy) => tracing::debug!("report ingestion running elsewhere"),
            Err(e) => tracing::warn!(error = %e, "report ingestion failed"),
        }
        // A connection found broken during the run: its owner is told once.
        crate::brand_amazon::notify_broken(&state).await;
        // Statements follow the facts: safe to run in every process (guarded updates).
        if let Err(e) = crate::statements::schedule::run_once(&state, crate::clock::today()).await {
            tracing::warn!(error = %e, "statement refresh failed");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => {}
        }
    }
}
