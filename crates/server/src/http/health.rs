//! Liveness and readiness.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quiver_amazon::{BreakerState, Region};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency is down.
    status: &'static str,
    /// Database state (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    /// The Amazon client's state per Ads region (`NA`, `EU`, `FE`; readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    amazon: Option<BTreeMap<&'static str, AmazonRegion>>,
}

/// What Quiver currently knows about one Amazon Ads region.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AmazonRegion {
    /// The circuit breaker: `closed` (calls go through), `open` (calls fail fast after
    /// repeated failures) or `half_open` (the next call probes whether Amazon is back).
    #[schema(example = "closed")]
    breaker: &'static str,
    /// While open: seconds until a probe is let through.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_in_secs: Option<u64>,
    /// When a call to this region last succeeded (ISO 8601, UTC), since the process
    /// started; null if none has yet.
    last_success: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        database: None,
        amazon: None,
    })
}

fn iso(t: SystemTime) -> Option<String> {
    time::OffsetDateTime::from(t).format(&Rfc3339).ok()
}

fn amazon_state(state: &AppState) -> BTreeMap<&'static str, AmazonRegion> {
    let client = &state.amazon.client;
    let regions = Region::ALL.into_iter().map(|region| {
        let (breaker, retry_in_secs) = match client.breaker_state(region) {
            BreakerState::Closed => ("closed", None),
            BreakerState::Open { retry_in } => {
                ("open", Some(crate::error::retry_after_secs(retry_in)))
            }
            BreakerState::HalfOpen => ("half_open", None),
        };
        let last_success = client.last_success(region).and_then(iso);
        (
            region.as_str(),
            AmazonRegion {
                breaker,
                retry_in_secs,
                last_success,
            },
        )
    });
    regions.collect()
}

/// Ready when the database answers. Amazon's state is reported, but does not make Quiver
/// unready: links still flow from cached tags while Amazon is down.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Health),
    (status = 503, body = Health, description = "The database does not answer"),
))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db_ok = state.db.ping().await.is_ok();
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if db_ok { "ok" } else { "unavailable" },
        database: Some(if db_ok { "ok" } else { "unreachable" }),
        amazon: Some(amazon_state(&state)),
    };
    (status, Json(body))
}
