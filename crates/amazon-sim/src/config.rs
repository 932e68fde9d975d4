//! What the simulator is started with: identity, credentials, seed and faults.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::Date;

/// Everything a simulator instance is configured with.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Drives every synthetic number and fault decision, so runs are reproducible.
    pub seed: u64,
    pub faults: Faults,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub access_token_ttl: Duration,
    /// Quiver's own (non-macro) publisher id.
    pub publisher_id: String,
    /// `None` follows the real UTC date.
    pub today: Option<Date>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            faults: Faults::default(),
            client_id: "quiver-sim-client".to_owned(),
            client_secret: "quiver-sim-secret".to_owned(),
            refresh_token: "quiver-sim-refresh".to_owned(),
            access_token_ttl: Duration::from_secs(3600),
            publisher_id: "quiver".to_owned(),
            today: None,
        }
    }
}

/// Faults injected into every Amazon endpoint (never into `/_sim/*`).
/// Fields missing from JSON take their defaults.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Added to every request before it is answered.
    pub latency_ms: u64,
    /// Share of requests answered 500.
    pub error_rate: f64,
    /// Share of requests answered 429 with `Retry-After`.
    pub throttle_rate: f64,
    /// Share of requests that hang long enough for any sane client timeout to fire.
    pub timeout_rate: f64,
    /// Every request answers 503, as when Amazon is down.
    pub outage: bool,
    pub retry_after_secs: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            error_rate: 0.0,
            throttle_rate: 0.0,
            timeout_rate: 0.0,
            outage: false,
            retry_after_secs: 1,
        }
    }
}

/// `PUT /_sim/faults` body: omitted fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    pub latency_ms: Option<u64>,
    pub error_rate: Option<f64>,
    pub throttle_rate: Option<f64>,
    pub timeout_rate: Option<f64>,
    pub outage: Option<bool>,
    pub retry_after_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} must be between 0 and 1, got {value}")]
pub struct InvalidRate {
    pub name: &'static str,
    pub value: f64,
}

impl Faults {
    /// Rejects rates outside 0..=1 (NaN included), naming the first bad one.
    pub fn validate(&self) -> Result<(), InvalidRate> {
        for (name, value) in [
            ("error_rate", self.error_rate),
            ("throttle_rate", self.throttle_rate),
            ("timeout_rate", self.timeout_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(InvalidRate { name, value });
            }
        }
        Ok(())
    }

    /// The faults after `patch`, validated; `self` is untouched when the patch is invalid.
    pub fn patched(&self, patch: &FaultsPatch) -> Result<Faults, InvalidRate> {
        let next = Faults {
            latency_ms: patch.latency_ms.unwrap_or(self.latency_ms),
            error_rate: patch.error_rate.unwrap_or(self.error_rate),
            throttle_rate: patch.throttle_rate.unwrap_or(self.throttle_rate),
            timeout_rate: patch.timeout_rate.unwrap_or(self.timeout_rate),
            outage: patch.outage.unwrap_or(self.outage),
            retry_after_secs: patch.retry_after_secs.unwrap_or(self.retry_after_secs),
        };
        next.validate()?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_omitted_fields_and_rejects_bad_rates() {
        let base = Faults {
            latency_ms: 5,
            ..Faults::default()
        };
        let patch: FaultsPatch = serde_json::from_str(r#"{"error_rate":0.5}"#).unwrap();
        let next = base.patched(&patch).unwrap();
        assert_eq!(next.latency_ms, 5);
        assert_eq!(next.error_rate, 0.5);
        assert_eq!(next.retry_after_secs, 1);
        let bad = FaultsPatch {
            throttle_rate: Some(1.5),
            ..FaultsPatch::default()
        };
        assert_eq!(base.patched(&bad).unwrap_err().name, "throttle_rate");
        let nan = FaultsPatch {
            timeout_rate: Some(f64::NAN),
            ..FaultsPatch::default()
        };
        assert!(base.patched(&nan).is_err());
    }

    #[test]
    fn faults_json_may_omit_fields() {
        let f: Faults = serde_json::from_str(r#"{"outage":true}"#).unwrap();
        assert_eq!(
            f,
            Faults {
                outage: true,
                ..Faults::default()
            }
        );
    }
}
