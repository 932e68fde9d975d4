//! **(Quiver)** A brand's invitations to creators: sent by e-mail, listed, withdrawn.

use std::net::SocketAddr;

use axum::Json as JsonResponse;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::own_brand;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, Seller};
use crate::http::params;
use crate::joining;
use crate::objects::format::{iso_utc, percent};
use crate::state::AppState;
use crate::store::invitations::InvitationRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, invite))
        .routes(routes!(revoke_invitation))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InviteBody {
    #[schema(example = "creator@example.net")]
    email: String,
    /// This creator's commission in percent (15 means 15%), from the day after accepting;
    /// absent: the brand's rates.
    commission: Option<f64>,
    /// A note for the e-mail, up to 1000 characters.
    message: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    id: String,
    brand_id: String,
    email: String,
    /// Percent, or null for the brand's rates.
    commission: Option<f64>,
    message: String,
    /// `pending`, `accepted`, `expired` or `revoked`.
    status: String,
    /// ISO 8601 UTC.
    created_at: String,
    /// ISO 8601 UTC: 14 days after sending.
    expires_at: String,
    accepted_at: Option<String>,
    revoked_at: Option<String>,
}

impl Invitation {
    pub fn from_row(r: &InvitationRow) -> Self {
        Self {
            id: r.id.clone(),
            brand_id: r.brand_id.clone(),
            email: r.email.clone(),
            commission: r.commission_bps.map(percent),
            message: r.message.clone(),
            status: r.status(now_ms()).as_str().to_owned(),
            created_at: iso_utc(r.created_at),
            expires_at: iso_utc(r.expires_at),
            accepted_at: r.accepted_at.map(iso_utc),
            revoked_at: r.revoked_at.map(iso_utc),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Invitations {
    invitations: Vec<Invitation>,
}

/// **(Quiver)** Invite a creator to promote one of your brands. The e-mail's link works
/// once, for 14 days; accepting grants access (and the commission given, if any).
#[utoipa::path(post, path = "/sellers/brands/{brand_id}/invitations", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands")),
    request_body = InviteBody,
    responses(
        (status = 201, body = Invitation),
        (status = 403, body = Problem, description = "`wrong_account_type`, or `insufficient_scope` for a read-only key"),
        (status = 404, body = Problem, description = "`brand_not_found`"),
        (status = 422, body = Unprocessable, description = "A bad address, commission or message"),
        (status = 429, body = Problem, description = "`too_many_emails`, with Retry-After"),
    ))]
async fn invite(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
    Json(body): Json<InviteBody>,
) -> ApiResult<(StatusCode, JsonResponse<Invitation>)> {
    let brand = own_brand(&state, &who, &brand_id).await?;
    let email = params::at_most_chars("body", "email", &body.email, params::MAX_USERNAME_CHARS)?;
    let email = joining::email_address("email", email)?;
    let bps = body
        .commission
        .map(|pct| params::commission_bps("commission", pct))
        .transpose()?;
    let message = body.message.unwrap_or_default().trim().to_owned();
    params::at_most_chars("body", "message", &message, params::MAX_MESSAGE_CHARS)?;
    joining::throttle(&state, "invite", &peer.ip().to_string(), &email).await?;
    let (row, _link) = crate::invitations::create(
        &state.db,
        Some(&state.joining.outbox),
        state.joining.public_url(),
        &brand,
        &email,
        bps,
        &message,
        Some(&who.account_id),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(Invitation::from_row(&row)),
    ))
}

/// **(Quiver)** A brand's invitations, newest first, with their status.
#[utoipa::path(get, path = "/sellers/brands/{brand_id}/invitations", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands")),
    responses(
        (status = 200, body = Invitations),
        (status = 404, body = Problem, description = "`brand_not_found`"),
    ))]
async fn list_invitations(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
) -> ApiResult<JsonResponse<Invitations>> {
    let brand = own_brand(&state, &who, &brand_id).await?;
    let rows = state.db.brand_invitations(&brand.id).await?;
    Ok(JsonResponse(Invitations {
        invitations: rows.iter().map(Invitation::from_row).collect(),
    }))
}

/// **(Quiver)** Withdraw a pending invitation: its link stops working (410).
#[utoipa::path(delete, path = "/sellers/brands/{brand_id}/invitations/{id}", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands"), ("id" = String, Path, description = "The invitation")),
    responses(
        (status = 200, body = Invitation, description = "The invitation, now revoked (or as it was, if no longer pending)"),
        (status = 404, body = Problem, description = "`brand_not_found` or `not_found`"),
    ))]
async fn revoke_invitation(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((brand_id, id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Invitation>> {
    let brand = own_brand(&state, &who, &brand_id).await?;
    state.db.revoke_invitation(&brand.id, &id, now_ms()).await?;
    let row = state
        .db
        .invitation(&brand.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Invitation not found: '{id}'")))?;
    Ok(JsonResponse(Invitation::from_row(&row)))
}
