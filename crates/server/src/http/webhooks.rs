//! **(Quiver)** `/webhooks`: endpoints that receive signed events (Standard Webhooks),
//! their deliveries, retries, test pings and secret rotation. Both account kinds: a
//! publisher's endpoints get its own events, a seller's those of its brands.

use std::collections::HashMap;

use axum::Json as JsonResponse;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, Query, authenticate};
use crate::objects::format::iso_utc;
use crate::secret_key::SecretKey;
use crate::state::AppState;
use crate::store::webhooks::deliveries::{AttemptRow, DeliveryRow};
use crate::store::webhooks::endpoints::{EndpointPatch, EndpointRow, events_json};
use crate::webhooks::events::EventType;
use crate::webhooks::{signing, ssrf};

const MAX_DESCRIPTION_CHARS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, patch_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

/// Any authenticated caller, publisher or seller.
struct Caller(Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, parts).await.map(Caller)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewEndpointBody {
    /// Where events are POSTed: `https://` (or `http://` when the operator allows it).
    #[schema(example = "https://example.com/quiver-hook")]
    url: String,
    /// Event types to receive: `link.created`, `link.updated`, `bulk_job.finished`,
    /// `report.updated`, `access_request.created`, `access_request.approved`,
    /// `access_request.declined`, `grant.revoked`, `statement.final`, `statement.paid`,
    /// `amazon.connection_lost` (its `data` is `ConnectionLost`; `report.updated`'s is
    /// `ReportUpdate`), `ping`.
    #[schema(example = json!(["link.created", "link.updated"]))]
    events: Vec<String>,
    /// Free text, at most 200 characters.
    description: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PatchEndpointBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    /// False stops deliveries; true re-enables an endpoint (and forgets its failures).
    enabled: Option<bool>,
    description: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    #[schema(example = "whe_0190f1d2c3b47e8a9b0c1d2e3f405162")]
    id: String,
    url: String,
    description: String,
    events: Vec<String>,
    enabled: bool,
    /// ISO 8601 UTC.
    created_at: String,
    updated_at: String,
    /// When it was disabled (by its owner, or after failing for 5 days), or null.
    disabled_at: Option<String>,
    /// Since when every attempt failed, or null when the last one succeeded.
    failing_since: Option<String>,
    /// Until when the secret before the last rotation still signs too, or null.
    previous_secret_until: Option<String>,
}

impl Endpoint {
    fn from_row(r: &EndpointRow) -> Self {
        let now = crate::clock::now_ms();
        Self {
            id: r.id.clone(),
            url: r.url.clone(),
            description: r.description.clone(),
            events: r
                .event_types()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            enabled: r.enabled,
            created_at: iso_utc(r.created_at),
            updated_at: iso_utc(r.updated_at),
            disabled_at: r.disabled_at.map(iso_utc),
            failing_since: r.failing_since.map(iso_utc),
            previous_secret_until: r.previous_until.filter(|u| *u > now).map(iso_utc),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    endpoint: Endpoint,
    /// The signing secret (`whsec_` + base64): shown this once, never again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoints {
    webhooks: Vec<Endpoint>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// 1 for the first attempt.
    attempt: i32,
    at: String,
    /// The endpoint's HTTP status, or null when no answer came.
    status_code: Option<i32>,
    latency_ms: i64,
    /// Why it failed (never the response body), or null on success.
    error: Option<String>,
    /// When it was to be tried again after this attempt, or null.
    next_attempt_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    #[schema(example = "dlv_3f1c2b7a9e8d4c6b5a4f3e2d1c0b9a87")]
    id: String,
    /// The event's id: the `webhook-id` header, the same on every attempt.
    event_id: String,
    event_type: String,
    /// `pending`, `failed` (another attempt is scheduled), `delivered` or `gave_up`.
    status: String,
    attempt_count: i32,
    next_attempt_at: Option<String>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    last_latency_ms: Option<i64>,
    created_at: String,
    updated_at: String,
    attempts: Vec<Attempt>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deliveries {
    deliveries: Vec<Delivery>,
    /// Pass as `before` for the next (older) page; null on the last page.
    next_before: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enqueued {
    /// The event's id (`webhook-id`).
    event_id: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeliveriesQuery {
    /// 1–100, default 50.
    limit: Option<i64>,
    /// A delivery id from the previous page's `next_before`.
    before: Option<String>,
}

fn bad(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::validation("body", field, msg, "value_error")
}

fn check_url(state: &AppState, raw: &str) -> ApiResult<String> {
    ssrf::check_url(raw, state.webhooks.settings.allow_http)
        .map(|u| u.to_string())
        .map_err(|m| bad("url", m))
}

fn check_events(names: &[String]) -> ApiResult<Vec<EventType>> {
    if names.is_empty() {
        return Err(bad("events", "events must name at least one event type"));
    }
    let mut out = Vec::new();
    for n in names {
        let Some(t) = EventType::parse(n.trim()) else {
            return Err(bad(
                "events",
                format!(
                    "Unknown event type '{n}': expected one of {}",
                    EventType::names().join(", ")
                ),
            ));
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

fn check_description(d: Option<&str>) -> ApiResult<String> {
    let d = d.unwrap_or_default().trim();
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(bad(
            "description",
            format!("description must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(d.to_owned())
}

fn key(state: &AppState) -> ApiResult<&SecretKey> {
    state.webhooks.key.as_deref().ok_or(ApiError::StateConflict {
        code: "secret_key_missing",
        detail: "Webhooks need the server's secret key to store signing secrets: the operator must set QUIVER_SECRET_KEY".into(),
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::Missing {
        code: "webhook_not_found",
        detail: format!("Webhook endpoint not found: '{id}'"),
    }
}

async fn owned(state: &AppState, who: &Principal, id: &str) -> ApiResult<EndpointRow> {
    state
        .db
        .webhook_endpoint(&who.account_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// **(Quiver)** Register an endpoint. The response is the only time its secret is shown.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = NewEndpointBody,
    responses(
        (status = 201, body = EndpointWithSecret),
        (status = 409, body = Problem, description = "`secret_key_missing`: the server has no secret key"),
        (status = 422, body = Unprocessable, description = "A bad URL, an unknown event type, or too many endpoints"),
    ))]
async fn create_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    Json(body): Json<NewEndpointBody>,
) -> ApiResult<(StatusCode, JsonResponse<EndpointWithSecret>)> {
    let url = check_url(&state, &body.url)?;
    let events = check_events(&body.events)?;
    let description = check_description(body.description.as_deref())?;
    let key = key(&state)?;
    let id = format!("whe_{}", uuid::Uuid::now_v7().simple());
    let secret = signing::new_secret();
    let now = crate::clock::now_ms();
    let row = EndpointRow {
        id: id.clone(),
        account_id: who.account_id.clone(),
        url,
        description,
        events: events_json(&events),
        enabled: true,
        secret_sealed: signing::seal(key, &id, &secret),
        previous_secret_sealed: None,
        previous_until: None,
        created_at: now,
        updated_at: now,
        disabled_at: None,
        failing_since: None,
    };
    let max = state.webhooks.settings.max_endpoints;
    if !state.db.insert_webhook_endpoint(&row, max as i64).await? {
        return Err(ApiError::validation(
            "body",
            "__root__",
            format!("An account may have at most {max} webhook endpoints: delete one first"),
            "value_error",
        ));
    }
    Ok((
        StatusCode::CREATED,
        JsonResponse(EndpointWithSecret {
            endpoint: Endpoint::from_row(&row),
            secret: secret.to_string(),
        }),
    ))
}

/// **(Quiver)** The account's endpoints, oldest first (never their secrets).
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Endpoints)))]
async fn list_endpoints(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<JsonResponse<Endpoints>> {
    let rows = state.db.webhook_endpoints(&who.account_id).await?;
    Ok(JsonResponse(Endpoints {
        webhooks: rows.iter().map(Endpoint::from_row).collect(),
    }))
}

/// **(Quiver)** One endpoint.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "An endpoint id")),
    responses(
        (status = 200, body = Endpoint),
        (status = 404, body = Problem, description = "`webhook_not_found`"),
    ))]
async fn get_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<Endpoint>> {
    Ok(JsonResponse(Endpoint::from_row(
        &owned(&state, &who, &id).await?,
    )))
}

/// **(Quiver)** Change an endpoint's URL, events, description, or enable/disable it.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "An endpoint id")),
    request_body = PatchEndpointBody,
    responses(
        (status = 200, body = Endpoint),
        (status = 404, body = Problem, description = "`webhook_not_found`"),
        (status = 422, body = Unprocessable, description = "A bad URL or an unknown event type"),
    ))]
async fn patch_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<PatchEndpointBody>,
) -> ApiResult<JsonResponse<Endpoint>> {
    let url = body
        .url
        .as_deref()
        .map(|u| check_url(&state, u))
        .transpose()?;
    let events = body.events.as_deref().map(check_events).transpose()?;
    let description = body
        .description
        .as_deref()
        .map(|d| check_description(Some(d)))
        .transpose()?;
    let patch = EndpointPatch {
        url: url.as_deref(),
        description: description.as_deref(),
        events: events.as_deref(),
        enabled: body.enabled,
    };
    let row = state
        .db
        .update_webhook_endpoint(&who.account_id, &id, &patch, crate::clock::now_ms())
        .await?
        .ok_or_else(|| not_found(&id))?;
    if body.enabled == Some(true) {
        state.webhooks.wake.notify_one();
    }
    Ok(JsonResponse(Endpoint::from_row(&row)))
}

/// **(Quiver)** Delete an endpoint with its delivery history.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "An endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, description = "`webhook_not_found`"),
    ))]
async fn delete_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state
        .db
        .delete_webhook_endpoint(&who.account_id, &id)
        .await?
    {
        return Err(not_found(&id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// **(Quiver)** A new signing secret, shown once. For 24 hours deliveries carry a
/// signature by the old secret too (`webhook-signature: v1,<new> v1,<old>`), so a
/// receiver can switch without missing an event.
#[utoipa::path(post, path = "/webhooks/{id}/rotate_secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "An endpoint id")),
    responses(
        (status = 200, body = EndpointWithSecret),
        (status = 404, body = Problem, description = "`webhook_not_found`"),
        (status = 409, body = Problem, description = "`secret_key_missing`"),
    ))]
async fn rotate_secret(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<EndpointWithSecret>> {
    let key = key(&state)?;
    let secret = signing::new_secret();
    let now = crate::clock::now_ms();
    let until = now + state.webhooks.settings.rotation_overlap.as_millis() as i64;
    let row = state
        .db
        .rotate_webhook_secret(
            &who.account_id,
            &id,
            &signing::seal(key, &id, &secret),
            until,
            now,
        )
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(JsonResponse(EndpointWithSecret {
        endpoint: Endpoint::from_row(&row),
        secret: secret.to_string(),
    }))
}

/// **(Quiver)** Send a `ping` event to this endpoint (whatever it subscribes to).
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "An endpoint id")),
    responses(
        (status = 202, body = Enqueued),
        (status = 404, body = Problem, description = "`webhook_not_found`"),
    ))]
async fn send_test(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, JsonResponse<Enqueued>)> {
    let event_id = state
        .db
        .enqueue_webhook_ping(&who.account_id, &id, crate::clock::now_ms())
        .await?
        .ok_or_else(|| not_found(&id))?;
    state.webhooks.wake.notify_one();
    Ok((StatusCode::ACCEPTED, JsonResponse(Enqueued { event_id })))
}

fn delivery(d: DeliveryRow, attempts: Vec<AttemptRow>) -> Delivery {
    Delivery {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type,
        status: d.status,
        attempt_count: d.attempts,
        next_attempt_at: d.next_attempt_at.map(iso_utc),
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        last_latency_ms: d.last_latency_ms,
        created_at: iso_utc(d.created_at),
        updated_at: iso_utc(d.updated_at),
        attempts: attempts
            .into_iter()
            .map(|a| Attempt {
                attempt: a.attempt,
                at: iso_utc(a.at),
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
                next_attempt_at: a.next_attempt_at.map(iso_utc),
            })
            .collect(),
    }
}

/// **(Quiver)** The endpoint's deliveries, newest first, each with every attempt.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "An endpoint id"), DeliveriesQuery),
    responses(
        (status = 200, body = Deliveries),
        (status = 404, body = Problem, description = "`webhook_not_found`"),
        (status = 422, body = Unprocessable, description = "A bad limit or cursor"),
    ))]
async fn list_deliveries(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> ApiResult<JsonResponse<Deliveries>> {
    let ep = owned(&state, &who, &id).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(
            "query",
            "limit",
            "limit must be between 1 and 100",
            "value_error",
        ));
    }
    let before = match q.before.as_deref() {
        None | Some("") => None,
        Some(b) => Some(state.db.webhook_delivery(&ep.id, b).await?.ok_or_else(|| {
            ApiError::validation(
                "query",
                "before",
                "before must be a delivery id of this endpoint",
                "value_error",
            )
        })?),
    };
    let rows = state
        .db
        .webhook_deliveries(
            &ep.id,
            limit + 1,
            before.as_ref().map(|b| (b.created_at, b.id.as_str())),
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<DeliveryRow> = rows.into_iter().take(limit as usize).collect();
    let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
    let mut attempts: HashMap<String, Vec<AttemptRow>> = HashMap::new();
    for a in state.db.webhook_attempts(&ids).await? {
        attempts.entry(a.delivery_id.clone()).or_default().push(a);
    }
    let next_before = more.then(|| ids.last().cloned()).flatten();
    Ok(JsonResponse(Deliveries {
        deliveries: rows
            .into_iter()
            .map(|d| {
                let a = attempts.remove(&d.id).unwrap_or_default();
                delivery(d, a)
            })
            .collect(),
        next_before,
    }))
}

/// **(Quiver)** Send a delivery again now (with the same `webhook-id`), whatever its
/// status.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "An endpoint id"),
        ("delivery_id" = String, Path, description = "A delivery id of that endpoint"),
    ),
    responses(
        (status = 202, body = Enqueued),
        (status = 404, body = Problem, description = "`webhook_not_found` or `delivery_not_found`"),
    ))]
async fn retry_delivery(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, JsonResponse<Enqueued>)> {
    let ep = owned(&state, &who, &id).await?;
    let missing = || ApiError::Missing {
        code: "delivery_not_found",
        detail: format!("Delivery not found: '{delivery_id}'"),
    };
    let d = state
        .db
        .webhook_delivery(&ep.id, &delivery_id)
        .await?
        .ok_or_else(missing)?;
    if !state
        .db
        .retry_webhook_delivery(&ep.id, &delivery_id, state.webhooks.clock.now_ms())
        .await?
    {
        return Err(missing());
    }
    state.webhooks.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(Enqueued {
            event_id: d.event_id,
        }),
    ))
}
