//! The retry loop: per-attempt timeout, exponential backoff with full jitter, `Retry-After`,
//! the circuit breaker, all inside the caller's deadline.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::breaker::{Breaker, Outcome, Permit};
use crate::config::RetryPolicy;
use crate::error::AmazonError;

/// Upper bound of the wait before retry number `retry` (1-based): `base * 2^(retry-1)`,
/// capped at `max_delay`.
pub(crate) fn backoff_ceiling(policy: &RetryPolicy, retry: u32) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay)
}

/// Full jitter: uniform in `[0, ceiling]`.
pub(crate) fn full_jitter(ceiling: Duration, rng: &mut impl Rng) -> Duration {
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.random_range(0..=nanos))
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Retry(Duration),
    GiveUp(AmazonError),
}

/// Pure decision after attempt number `attempts` failed with `err` at `now`.
pub(crate) fn decide(
    policy: &RetryPolicy,
    err: AmazonError,
    attempts: u32,
    now: Instant,
    deadline: Instant,
    rng: &mut impl Rng,
) -> Next {
    if !err.is_transient() || attempts >= policy.max_attempts {
        return Next::GiveUp(err);
    }
    let delay = match &err {
        // Amazon said when; coming back earlier would only be throttled again.
        AmazonError::Throttled {
            retry_after: Some(ra),
        } => {
            if now + *ra >= deadline {
                return Next::GiveUp(err);
            }
            *ra
        }
        _ => full_jitter(backoff_ceiling(policy, attempts), rng),
    };
    if now + delay >= deadline {
        // No attempt could start before the deadline; sleeping would only waste it.
        return Next::GiveUp(AmazonError::DeadlineExceeded {
            last: Box::new(err),
        });
    }
    Next::Retry(delay)
}

/// Breaker bookkeeping for one attempt; an attempt dropped mid-flight (the caller's future
/// was cancelled) still releases a half-open probe.
struct Admitted<'a> {
    breaker: &'a Breaker,
    permit: Permit,
    recorded: bool,
}

impl Admitted<'_> {
    fn record(mut self, outcome: Outcome) {
        self.recorded = true;
        self.breaker.record(self.permit, outcome, Instant::now());
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.breaker
                .record(self.permit, Outcome::Inconclusive, Instant::now());
        }
    }
}

fn outcome_of(err: &AmazonError, cut_by_deadline: bool) -> Outcome {
    match err {
        AmazonError::Timeout if cut_by_deadline => Outcome::Inconclusive,
        AmazonError::Server { status, .. } if *status >= 500 => Outcome::Failure,
        AmazonError::Timeout | AmazonError::Connect(_) => Outcome::Failure,
        AmazonError::Auth(_) => Outcome::Inconclusive,
        _ => Outcome::Reachable,
    }
}

/// How a call ended, for statistics.
pub(crate) struct Report<T> {
    pub result: Result<T, AmazonError>,
    pub attempts: u32,
}

/// Runs `attempt` until it succeeds, fails permanently, or the deadline leaves no room.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    breaker: &Breaker,
    call_timeout: Duration,
    deadline: Instant,
    mut attempt: F,
) -> Report<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AmazonError>>,
{
    let mut attempts = 0u32;
    let mut last: Option<AmazonError> = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            let last = last.unwrap_or(AmazonError::Timeout);
            let result = Err(AmazonError::DeadlineExceeded {
                last: Box::new(last),
            });
            return Report { result, attempts };
        }
        let permit = match breaker.acquire(now) {
            Ok(p) => p,
            Err(retry_after) => {
                let result = Err(AmazonError::CircuitOpen { retry_after });
                return Report { result, attempts };
            }
        };
        let admitted = Admitted {
            breaker,
            permit,
            recorded: false,
        };
        let full = now + call_timeout;
        let attempt_deadline = full.min(deadline);
        attempts += 1;
        let err = match tokio::time::timeout_at(attempt_deadline, attempt()).await {
            Ok(Ok(v)) => {
                admitted.record(Outcome::Reachable);
                return Report {
                    result: Ok(v),
                    attempts,
                };
            }
            Ok(Err(e)) => e,
            Err(_elapsed) => AmazonError::Timeout,
        };
        let cut_by_deadline = attempt_deadline < full && Instant::now() >= attempt_deadline;
        admitted.record(outcome_of(&err, cut_by_deadline));
        if cut_by_deadline && matches!(err, AmazonError::Timeout) {
            let result = Err(AmazonError::DeadlineExceeded {
                last: Box::new(err),
            });
            return Report { result, attempts };
        }
        last = Some(err.clone());
        let next = decide(
            policy,
            err,
            attempts,
            Instant::now(),
            deadline,
            &mut rand::rng(),
        );
        match next {
            Next::GiveUp(e) => {
                return Report {
                    result: Err(e),
                    attempts,
                };
            }
            Next::Retry(delay) => {
                tracing::debug!(?delay, attempts, "retrying Amazon call");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        }
    }

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = policy();
        let c: Vec<u128> = (1..=6)
            .map(|n| backoff_ceiling(&p, n).as_millis())
            .collect();
        assert_eq!(c, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff_ceiling(&p, 200), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_ceiling_and_spreads() {
        let mut rng = StdRng::seed_from_u64(7);
        let ceiling = Duration::from_millis(400);
        let samples: Vec<Duration> = (0..1000).map(|_| full_jitter(ceiling, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= ceiling));
        assert!(samples.iter().any(|d| *d < Duration::from_millis(100)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(300)));
        assert_eq!(full_jitter(Duration::ZERO, &mut rng), Duration::ZERO);
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let mut rng = StdRng::seed_from_u64(1);
        let now = Instant::now();
        let deadline = now + Duration::from_secs(3);
        let bad = AmazonError::BadRequest {
            status: 400,
            details: "x".into(),
        };
        assert_eq!(
            decide(&policy(), bad.clone(), 1, now, deadline, &mut rng),
            Next::GiveUp(bad)
        );
    }

    #[test]
    fn throttle_hint_is_honoured_or_given_up_at_once() {
        let mut rng = StdRng::seed_from_u64(1);
        let now = Instant::now();
        let deadline = now + Duration::from_secs(3);
        let fits = AmazonError::Throttled {
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(
            decide(&policy(), fits, 1, now, deadline, &mut rng),
            Next::Retry(Duration::from_secs(1))
        );
        let too_long = AmazonError::Throttled {
            retry_after: Some(Duration::from_secs(5)),
        };
        // Not wrapped: the caller needs Amazon's own hint for its Retry-After.
        assert_eq!(
            decide(&policy(), too_long.clone(), 1, now, deadline, &mut rng),
            Next::GiveUp(too_long)
        );
    }

    #[test]
    fn never_sleeps_past_the_deadline() {
        let mut rng = StdRng::seed_from_u64(3);
        let now = Instant::now();
        let deadline = now + Duration::from_millis(1);
        // The 10th retry's jitter is almost surely over 1 ms.
        let mut gave_up = 0;
        for _ in 0..100 {
            match decide(&policy(), AmazonError::Timeout, 9, now, deadline, &mut rng) {
                Next::GiveUp(AmazonError::DeadlineExceeded { last }) => {
                    assert_eq!(*last, AmazonError::Timeout);
                    gave_up += 1;
                }
                Next::Retry(d) => assert!(now + d < deadline),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(gave_up > 90);
    }

    #[test]
    fn attempts_are_bounded() {
        let mut rng = StdRng::seed_from_u64(3);
        let now = Instant::now();
        let deadline = now + Duration::from_secs(60);
        let e = AmazonError::Server {
            status: 503,
            details: String::new(),
        };
        assert_eq!(
            decide(&policy(), e.clone(), 10, now, deadline, &mut rng),
            Next::GiveUp(e)
        );
    }
}
