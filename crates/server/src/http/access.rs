//! **(Quiver)** The publisher side of access requests: asking an approval-mode brand for
//! access, and following one's own requests. Sellers decide them under `/sellers`.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quiver_domain::ProgramMode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Publisher;
use crate::http::extract::{Json, Query};
use crate::http::objects::access_request::{self, AccessRequest, AccessRequestsPage};
use crate::http::params;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::sellers::RequestScope;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_request, list_requests))
        .routes(routes!(get_request))
}

/// A request for access to a brand in `approval` mode.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAccessRequest {
    #[schema(example = "lumen-home")]
    #[schema(max_length = 200)]
    brand_id: String,
    /// A note to the brand, up to 1000 characters (optional).
    #[schema(example = "I review smart-home gear for 40k subscribers.")]
    #[schema(max_length = 1000)]
    message: Option<String>,
}

/// **(Quiver)** Ask a brand in `approval` mode for access.
///
/// 201 with the pending request. While a request for the same brand is pending, another
/// one is refused with 409 `access_request_pending` (its id is in the detail; list your
/// requests to see it); after a decline you may ask again. A brand you may already promote
/// (open mode, or an active grant) answers 409 `already_allowed`.
#[utoipa::path(post, path = "/access_requests", tag = "access", security(("bearer" = [])),
    request_body = NewAccessRequest,
    responses(
        (status = 201, body = AccessRequest, description = "Requested", headers(("Location" = String, description = "/access_requests/{id}"))),
        (status = 403, body = Problem, description = "`wrong_account_type`: a seller token"),
        (status = 404, body = Problem, description = "`brand_not_found`"),
        (status = 409, body = Problem, description = "`already_allowed` (open brand or active grant) or `access_request_pending`"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "Malformed body, missing `brand_id`, a `brand_id` over 200 or a message over 1000 characters"),
    ))]
async fn create_request(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Json(body): Json<NewAccessRequest>,
) -> ApiResult<Response> {
    let message = body.message.as_deref().unwrap_or_default().trim();
    let message = params::at_most_chars("body", "message", message, params::MAX_MESSAGE_CHARS)?;
    let brand_id = params::at_most_chars(
        "body",
        "brand_id",
        body.brand_id.trim(),
        params::MAX_TEXT_CHARS,
    )?;
    let brand = state
        .db
        .brand(brand_id)
        .await?
        .ok_or_else(|| ApiError::UnknownBrand {
            brand: brand_id.to_owned(),
        })?;
    let granted = state
        .db
        .grant_of(&brand.id, &who.account_id)
        .await?
        .is_some_and(|g| g.revoked_at.is_none());
    if brand.program_mode == ProgramMode::Open || granted {
        return Err(ApiError::AlreadyAllowed { brand: brand.name });
    }
    let pending = |id: String| ApiError::AccessRequestPending {
        brand: brand.name.clone(),
        id,
    };
    if let Some(r) = state
        .db
        .pending_access_request(&brand.id, &who.account_id)
        .await?
    {
        return Err(pending(r.id));
    }
    let row = match state
        .db
        .insert_access_request(
            &brand.id,
            &who.account_id,
            message,
            now_ms(),
            &access_request::data,
        )
        .await
    {
        Ok(row) => row,
        // A concurrent request for the same brand won the unique pending slot.
        Err(StoreError::Conflict) => {
            let id = state
                .db
                .pending_access_request(&brand.id, &who.account_id)
                .await?
                .map(|r| r.id)
                .unwrap_or_default();
            return Err(pending(id));
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = (
        StatusCode::CREATED,
        JsonResponse(AccessRequest::from_row(&row)),
    )
        .into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/access_requests/{}", row.id)) {
        response.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyRequestsQuery {
    /// `pending`, `approved`, `declined` or `all` (default).
    status: Option<String>,
    #[param(max_length = 200)]
    brand_id: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// **(Quiver)** Your access requests, newest first.
#[utoipa::path(get, path = "/access_requests", tag = "access", params(MyRequestsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = AccessRequestsPage),
        (status = 422, body = Unprocessable, description = "Bad `status`, `limit` or `cursor`"),
    ))]
async fn list_requests(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<MyRequestsQuery>,
) -> ApiResult<JsonResponse<AccessRequestsPage>> {
    let status = access_request::status_filter(q.status.as_deref(), None)?;
    let page = access_request::list(
        &state,
        RequestScope::Publisher(&who.account_id),
        status,
        q.brand_id.as_deref(),
        q.limit,
        q.cursor.as_deref(),
    )
    .await?;
    Ok(JsonResponse(page))
}

/// **(Quiver)** One of your access requests.
#[utoipa::path(get, path = "/access_requests/{id}", tag = "access", security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = AccessRequest),
        (status = 404, body = Problem, description = "`access_request_not_found` (also for another account's request)"),
    ))]
async fn get_request(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<AccessRequest>> {
    state
        .db
        .access_request(&id)
        .await?
        .filter(|r| r.account_id == who.account_id)
        .map(|r| JsonResponse(AccessRequest::from_row(&r)))
        .ok_or(ApiError::AccessRequestNotFound { id })
}
