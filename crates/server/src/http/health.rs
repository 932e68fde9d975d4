//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
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
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        database: None,
    })
}

/// Ready when the database answers. Amazon's state does not make Quiver unready: links
/// still flow from cached tags while Amazon is down.
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
    };
    (status, Json(body))
}
