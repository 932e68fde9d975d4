//! Prometheus metrics: HTTP traffic by route and status, Amazon calls by operation and
//! outcome, breaker state and tag-cache effectiveness. The recorder lives here; the
//! request middleware and `GET /metrics` live in `http::metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use quiver_amazon::CallEvent;

/// The process-wide recorder. Installed once, however many servers a process starts.
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Counts every Amazon call the client makes.
pub fn record_amazon_call(event: &CallEvent) {
    metrics::counter!(
        "quiver_amazon_calls_total",
        "operation" => format!("{:?}", event.operation),
        "outcome" => event.outcome.to_owned(),
    )
    .increment(1);
}
