//! **(Quiver)** Access requests on a seller's brands, and their approval or decline. The
//! publisher side, and the object both sides see, are in `http/access.rs` and
//! `http/objects/access_request.rs`.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::actor;
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Seller;
use crate::http::extract::{OptionalJson, Query};
use crate::http::objects::access_request::{self, AccessRequest, AccessRequestsPage};
use crate::http::params;
use crate::mail::templates;
use crate::state::AppState;
use crate::store::sellers::{AccessRequestRow, AccessRequestStatus, Decision, RequestScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_access_requests))
        .routes(routes!(approve_request))
        .routes(routes!(decline_request))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellerRequestsQuery {
    /// `pending` (default), `approved`, `declined` or `all`.
    status: Option<String>,
    /// Only requests for this brand of yours.
    #[param(max_length = 200)]
    brand_id: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// **(Quiver)** Access requests on your brands, newest first; pending ones by default.
#[utoipa::path(get, path = "/sellers/access_requests", tag = "sellers", params(SellerRequestsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = AccessRequestsPage),
        (status = 422, body = Unprocessable, description = "Bad `status`, `limit` or `cursor`"),
    ))]
async fn list_access_requests(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<SellerRequestsQuery>,
) -> ApiResult<JsonResponse<AccessRequestsPage>> {
    let status = access_request::status_filter(q.status.as_deref(), Some("pending"))?;
    let page = access_request::list(
        &state,
        RequestScope::Seller(&who.account_id),
        status,
        q.brand_id.as_deref(),
        q.limit,
        q.cursor.as_deref(),
    )
    .await?;
    Ok(JsonResponse(page))
}

async fn decide(
    state: &AppState,
    who: &Principal,
    id: &str,
    approve: bool,
    reason: &str,
) -> ApiResult<JsonResponse<AccessRequest>> {
    match state
        .db
        .decide_access_request(
            actor(who),
            id,
            approve,
            reason,
            now_ms(),
            &access_request::data,
        )
        .await?
    {
        Decision::NotFound => Err(ApiError::AccessRequestNotFound { id: id.to_owned() }),
        Decision::NotPending(r) => Err(ApiError::AccessRequestDecided {
            id: r.id,
            status: r.status.to_string(),
        }),
        Decision::Decided(r) => {
            tell_creator(state, &r).await;
            Ok(JsonResponse(AccessRequest::from_row(&r)))
        }
    }
}

/// E-mails the creator the decision once it is committed (queued, so it never slows the
/// answer). A failure to look the account up only costs the e-mail: the decision stands
/// and the creator still sees it in the app.
async fn tell_creator(state: &AppState, r: &AccessRequestRow) {
    let account = match state.db.account_by_id(&r.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "decision e-mail not sent: account lookup failed");
            return;
        }
    };
    let approved = r.status == AccessRequestStatus::Approved;
    let link = format!("{}/app/#/access", state.joining.public_url());
    let mail = templates::access_decision(
        &account.display_name,
        &r.brand_name,
        approved,
        &r.decision_reason,
        &link,
    );
    state
        .joining
        .outbox
        .send(&state.db, &account.email, mail)
        .await;
}

/// **(Quiver)** Approve a pending access request: the creator is granted access to the brand
/// at once. Audited; with SMTP configured the creator is e-mailed the decision.
#[utoipa::path(post, path = "/sellers/access_requests/{id}/approve", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = AccessRequest, description = "Approved; the grant exists"),
        (status = 404, body = Problem, description = "`access_request_not_found`: no such request on your brands"),
        (status = 409, body = Problem, description = "`access_request_decided`: already approved or declined"),
    ))]
async fn approve_request(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<AccessRequest>> {
    decide(&state, &who, &id, true, "").await
}

/// **(Quiver)** Why a request is declined; the body may be left out.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DeclineBody {
    /// Shown to the creator with the decision, up to 1000 characters (optional).
    #[schema(example = "We only work with creators who review kitchen gear.")]
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// **(Quiver)** Decline a pending access request, optionally saying why. The creator sees
/// the decision and the reason on their requests (`decision_reason`) and may ask again
/// later. Audited; with SMTP configured the creator is e-mailed the decision and reason.
#[utoipa::path(post, path = "/sellers/access_requests/{id}/decline", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    request_body(content = Option<DeclineBody>, description = "Optional; an empty body declines without a reason"),
    responses(
        (status = 200, body = AccessRequest, description = "Declined"),
        (status = 404, body = Problem, description = "`access_request_not_found`"),
        (status = 409, body = Problem, description = "`access_request_decided`"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "Malformed body, or a `reason` over 1000 characters"),
    ))]
async fn decline_request(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DeclineBody>,
) -> ApiResult<JsonResponse<AccessRequest>> {
    let body = body.unwrap_or_default();
    let reason = body.reason.as_deref().unwrap_or_default().trim();
    let reason = params::at_most_chars("body", "reason", reason, params::MAX_MESSAGE_CHARS)?;
    decide(&state, &who, &id, false, reason).await
}
