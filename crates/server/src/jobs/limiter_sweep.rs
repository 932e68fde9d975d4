//! Forgets rate-limit keys that have gone quiet, so the limiter's memory does not grow
//! with every token and address ever seen.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::ratelimit::Limiter;

const EVERY: Duration = Duration::from_secs(60);

pub async fn run(limiter: Limiter, stop: CancellationToken) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => limiter.forget_idle(),
            () = stop.cancelled() => return,
        }
    }
}
