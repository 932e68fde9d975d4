//! The middleware that makes the simulated Amazon slow, flaky, throttled or down.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::error::ApiError;
use crate::state::SimState;

/// How long a "timed out" request hangs: far beyond any sane client timeout.
pub const HANG: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Hang,
    Fail,
    Throttle,
}

fn decide(state: &SimState, error_rate: f64, throttle_rate: f64, timeout_rate: f64) -> Verdict {
    if error_rate <= 0.0 && throttle_rate <= 0.0 && timeout_rate <= 0.0 {
        return Verdict::Pass;
    }
    let mut rng = state.fault_rng();
    // Independent draws so each rate means what it says on its own.
    let (hang, fail, throttle): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
    if hang < timeout_rate {
        Verdict::Hang
    } else if fail < error_rate {
        Verdict::Fail
    } else if throttle < throttle_rate {
        Verdict::Throttle
    } else {
        Verdict::Pass
    }
}

pub async fn inject(State(state): State<SimState>, request: Request, next: Next) -> Response {
    state.count_request();
    let faults = state.faults();
    if faults.outage {
        return ApiError::Unavailable {
            retry_after_secs: faults.retry_after_secs,
        }
        .into_response();
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    match decide(
        &state,
        faults.error_rate,
        faults.throttle_rate,
        faults.timeout_rate,
    ) {
        Verdict::Pass => next.run(request).await,
        Verdict::Hang => {
            tokio::select! {
                () = tokio::time::sleep(HANG) => {}
                () = state.shutting_down() => {}
            }
            ApiError::Timeout.into_response()
        }
        Verdict::Fail => ApiError::Internal.into_response(),
        Verdict::Throttle => ApiError::Throttled {
            retry_after_secs: faults.retry_after_secs,
        }
        .into_response(),
    }
}
