//! `GET /metrics` and the middleware that counts every request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quiver_amazon::{BreakerState, Region};

use crate::metrics::handle;
use crate::state::AppState;

/// Labels are bounded: a client can send any method token, and each distinct label value
/// would be a series kept for the life of the process.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!("quiver_http_requests_total", &labels).increment(1);
    metrics::histogram!("quiver_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response();
    };
    let amazon = &state.amazon;
    for region in Region::ALL {
        let open = match amazon.client.breaker_state(region) {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 0.5,
            BreakerState::Open { .. } => 1.0,
        };
        metrics::gauge!("quiver_amazon_breaker_open", "region" => region.as_str()).set(open);
    }
    let tags = amazon.tags.cache();
    metrics::gauge!("quiver_tag_cache_hits").set(tags.hits() as f64);
    metrics::gauge!("quiver_tag_cache_misses").set(tags.misses() as f64);
    metrics::gauge!("quiver_tag_cache_stale_served").set(tags.stale_served() as f64);
    metrics::gauge!("quiver_tag_cache_entries").set(tags.len() as f64);
    // Brands' own Amazon connections by status (#18); both series always present.
    match state.db.amazon_connection_counts().await {
        Ok(counts) => {
            for status in ["connected", "reconnect_needed"] {
                let n = counts
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!("quiver_amazon_connections", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count the Amazon connections"),
    }
    match state.db.ops_gauges().await {
        Ok(g) => {
            metrics::gauge!("quiver_bulk_queue_items").set(g.bulk_pending_items as f64);
            metrics::gauge!("quiver_bulk_open_jobs").set(g.bulk_open_jobs as f64);
            metrics::gauge!("quiver_ingest_never_succeeded").set(g.never_ingested as f64);
            if let Some(at) = g.oldest_ingest_success {
                let lag = (crate::clock::now_ms() - at).max(0) as f64 / 1000.0;
                metrics::gauge!("quiver_ingest_lag_seconds").set(lag);
            }
        }
        Err(e) => tracing::warn!(error = %e, "operations gauges unavailable"),
    }
    match state.db.oldest_pending_webhook().await {
        Ok(oldest) => {
            let age = oldest.map_or(0.0, |at| {
                (crate::clock::now_ms() - at).max(0) as f64 / 1000.0
            });
            metrics::gauge!("quiver_webhook_oldest_pending_seconds").set(age);
        }
        Err(e) => tracing::warn!(error = %e, "webhook gauge unavailable"),
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
        .into_response()
}
