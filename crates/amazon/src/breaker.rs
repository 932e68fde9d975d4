//! Per-region circuit breaker.
//!
//! Closed → Open after `failure_threshold` consecutive transient failures; after `open_for`
//! exactly one caller is let through as a probe (HalfOpen); its success closes the breaker,
//! its failure reopens it. Time is passed in explicitly so the state machine is tested
//! without sleeping.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::BreakerConfig;

/// What a caller can observe (e.g. `/readyz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open {
        retry_in: Duration,
    },
    /// A probe is in flight (or the open period is over and the next call will probe).
    HalfOpen,
}

/// How an attempt ended, from the breaker's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Amazon answered (even with a 4xx or 429): the region is reachable.
    Reachable,
    /// 5xx, timeout, connection failure: counts towards opening.
    Failure,
    /// Says nothing about the region (e.g. the caller's own deadline cut the attempt short,
    /// or Login with Amazon refused the credentials).
    Inconclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

/// While a probe is out, other callers are told to come back after this long.
const PROBE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: Mutex<State>,
}

/// Permission to send one attempt. Whether it is the half-open probe matters when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Permit {
    Normal,
    Probe,
}

impl Breaker {
    pub fn new(cfg: BreakerConfig) -> Self {
        Self {
            cfg,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain Copy value, always valid even if a holder panicked.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(retry_after)` when the call must fail fast.
    pub fn acquire(&self, now: Instant) -> Result<Permit, Duration> {
        let mut st = self.lock();
        match *st {
            State::Closed { .. } => Ok(Permit::Normal),
            State::Open { until } if now < until => Err(until - now),
            State::Open { .. } => {
                *st = State::HalfOpen;
                Ok(Permit::Probe)
            }
            State::HalfOpen => Err(PROBE_WAIT),
        }
    }

    pub fn record(&self, permit: Permit, outcome: Outcome, now: Instant) {
        let mut st = self.lock();
        let open = State::Open {
            until: now + self.cfg.open_for,
        };
        match (permit, outcome, *st) {
            (_, Outcome::Reachable, _) => *st = State::Closed { failures: 0 },
            (Permit::Probe, Outcome::Failure, _) => *st = open,
            // The probe told us nothing: let the next caller probe at once.
            (Permit::Probe, Outcome::Inconclusive, State::HalfOpen) => {
                *st = State::Open { until: now }
            }
            (Permit::Normal, Outcome::Failure, State::Closed { failures }) => {
                let failures = failures.saturating_add(1);
                *st = if failures >= self.cfg.failure_threshold {
                    open
                } else {
                    State::Closed { failures }
                };
            }
            // A late failure of a call admitted before the breaker opened changes nothing.
            _ => {}
        }
    }

    pub fn state(&self, now: Instant) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now < until => BreakerState::Open {
                retry_in: until - now,
            },
            State::Open { .. } | State::HalfOpen => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(5),
        })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..2 {
            let p = b.acquire(t0).expect("closed");
            b.record(p, Outcome::Failure, t0);
        }
        // A success in between resets the count.
        let p = b.acquire(t0).expect("closed");
        b.record(p, Outcome::Reachable, t0);
        for _ in 0..2 {
            let p = b.acquire(t0).expect("closed");
            b.record(p, Outcome::Failure, t0);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
        let p = b.acquire(t0).expect("closed");
        b.record(p, Outcome::Failure, t0);
        assert_eq!(
            b.state(t0),
            BreakerState::Open {
                retry_in: Duration::from_secs(5)
            }
        );
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(b.acquire(t1), Err(Duration::from_secs(3)));
    }

    fn opened(b: &Breaker, t: Instant) {
        for _ in 0..3 {
            let p = b.acquire(t).expect("closed");
            b.record(p, Outcome::Failure, t);
        }
    }

    #[test]
    fn single_probe_then_close() {
        let b = breaker();
        let t0 = Instant::now();
        opened(&b, t0);
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        assert_eq!(b.acquire(t1), Ok(Permit::Probe));
        // Only one probe at a time.
        assert_eq!(b.acquire(t1), Err(PROBE_WAIT));
        b.record(Permit::Probe, Outcome::Reachable, t1);
        assert_eq!(b.state(t1), BreakerState::Closed);
        assert_eq!(b.acquire(t1), Ok(Permit::Normal));
    }

    #[test]
    fn failed_probe_reopens() {
        let b = breaker();
        let t0 = Instant::now();
        opened(&b, t0);
        let t1 = t0 + Duration::from_secs(6);
        assert_eq!(b.acquire(t1), Ok(Permit::Probe));
        b.record(Permit::Probe, Outcome::Failure, t1);
        assert_eq!(
            b.acquire(t1 + Duration::from_secs(1)),
            Err(Duration::from_secs(4))
        );
    }

    #[test]
    fn inconclusive_probe_lets_next_caller_probe() {
        let b = breaker();
        let t0 = Instant::now();
        opened(&b, t0);
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.acquire(t1), Ok(Permit::Probe));
        b.record(Permit::Probe, Outcome::Inconclusive, t1);
        assert_eq!(b.acquire(t1), Ok(Permit::Probe));
    }

    #[test]
    fn late_failures_do_not_extend_open_period() {
        let b = breaker();
        let t0 = Instant::now();
        opened(&b, t0);
        b.record(
            Permit::Normal,
            Outcome::Failure,
            t0 + Duration::from_secs(4),
        );
        assert_eq!(b.state(t0 + Duration::from_secs(5)), BreakerState::HalfOpen);
    }
}
