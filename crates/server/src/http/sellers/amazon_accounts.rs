//! **(Quiver)** A brand's Amazon Ads connections per region (#18): their status, what the
//! brand's own authorisation can see (live from Amazon), choosing the profile and
//! advertiser its links and reports use, and disconnecting.

use std::time::Duration;

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quiver_amazon::{AmazonClient, AmazonError, Region};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::own_brand;
use crate::brand_amazon;
use crate::error::{ApiError, ApiResult, FieldError, Problem, Unprocessable};
use crate::http::extract::{Json, Seller};
use crate::http::params;
use crate::objects::amazon_connection::RegionConnection;
use crate::state::AppState;
use crate::store::amazon_connections::ConnectionRow;

/// Listing profiles and their advertisers: a few calls to Amazon.
const AMAZON_BUDGET: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(brand_connections))
        .routes(routes!(visible_profiles))
        .routes(routes!(choose, disconnect))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BrandConnections {
    brand_id: String,
    /// NA, EU and FE, always all three.
    regions: Vec<RegionConnection>,
}

async fn region_connection(
    state: &AppState,
    brand_id: &str,
    region: Region,
) -> ApiResult<RegionConnection> {
    let own = state.db.amazon_connection(brand_id, region).await?;
    let platform = state.db.brand_amazon_account(brand_id, region).await?;
    Ok(RegionConnection::of(
        region,
        own.as_ref(),
        platform.as_ref(),
    ))
}

fn path_region(value: &str) -> ApiResult<Region> {
    params::region("path", Some(value)).map_err(|e| ApiError::Validation(vec![e]))
}

/// **(Quiver)** The brand's Amazon Ads connection in every region.
#[utoipa::path(get, path = "/sellers/brands/{brand_id}/amazon", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands")),
    responses(
        (status = 200, body = BrandConnections),
        (status = 404, body = Problem, description = "`brand_not_found`: no such brand among yours"),
    ))]
async fn brand_connections(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
) -> ApiResult<JsonResponse<BrandConnections>> {
    let brand = own_brand(&state, &who, &brand_id).await?;
    let own = state.db.amazon_connections_of(&brand.id).await?;
    let mut regions = Vec::with_capacity(3);
    for region in Region::ALL {
        let platform = state.db.brand_amazon_account(&brand.id, region).await?;
        let mine = own.iter().find(|c| c.region == region);
        regions.push(RegionConnection::of(region, mine, platform.as_ref()));
    }
    Ok(JsonResponse(BrandConnections {
        brand_id: brand.id,
        regions,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VisibleAdvertiser {
    advertiser_id: String,
    name: String,
}

/// An Amazon Ads profile the brand's authorisation can see, with its Attribution
/// advertisers (empty when the profile has no Amazon Attribution).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VisibleProfile {
    profile_id: String,
    name: String,
    #[schema(example = "US")]
    country_code: String,
    #[schema(example = "USD")]
    currency_code: String,
    advertisers: Vec<VisibleAdvertiser>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VisibleProfiles {
    profiles: Vec<VisibleProfile>,
}

/// The brand's usable connection in `region`, or 409 `brand_not_connected`.
async fn usable_connection(
    state: &AppState,
    brand_id: &str,
    brand_name: &str,
    region: Region,
) -> ApiResult<(ConnectionRow, AmazonClient)> {
    let refused = || ApiError::BrandMustReconnect {
        brand: brand_name.to_owned(),
        region: region.to_string(),
    };
    let row = state
        .db
        .amazon_connection(brand_id, region)
        .await?
        .filter(ConnectionRow::is_connected)
        .ok_or_else(refused)?;
    let client = brand_amazon::client_for(state, &row).ok_or_else(refused)?;
    Ok((row, client))
}

/// `GET /v2/profiles`, then `GET /attribution/advertisers` per profile, with the brand's
/// authorisation. A profile Amazon refuses advertisers for has none.
async fn list_visible(
    client: &AmazonClient,
    region: Region,
) -> Result<Vec<VisibleProfile>, AmazonError> {
    let deadline = Instant::now() + AMAZON_BUDGET;
    let profiles = client.profiles(region, deadline).await?;
    let mut out = Vec::with_capacity(profiles.len());
    for p in profiles {
        let id = p.profile_id.to_string();
        let advertisers = match client.advertisers(region, &id, deadline).await {
            Ok(a) => a,
            Err(e) if e.is_transient() || brand_amazon::breaks_connection(&e) => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "no Attribution advertisers for a profile");
                Vec::new()
            }
        };
        out.push(VisibleProfile {
            profile_id: id,
            name: p.account_info.name,
            country_code: p.country_code,
            currency_code: p.currency_code,
            advertisers: advertisers
                .into_iter()
                .map(|a| VisibleAdvertiser {
                    advertiser_id: a.advertiser_id,
                    name: a.advertiser_name,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Lists what the authorisation sees, recording the outcome on the connection.
async fn visible(
    state: &AppState,
    row: &ConnectionRow,
    client: &AmazonClient,
    brand_name: &str,
) -> ApiResult<Vec<VisibleProfile>> {
    match list_visible(client, row.region).await {
        Ok(v) => {
            brand_amazon::succeeded(&state.db, row).await;
            Ok(v)
        }
        Err(e) if brand_amazon::breaks_connection(&e) => {
            brand_amazon::failed(state, row, &e).await;
            Err(ApiError::BrandMustReconnect {
                brand: brand_name.to_owned(),
                region: row.region.to_string(),
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, brand = %row.brand_id, "listing the brand's Amazon profiles failed");
            Err(ApiError::AmazonUnavailable {
                retry_after: e.retry_after().unwrap_or(Duration::from_secs(5)),
            })
        }
    }
}

/// **(Quiver)** The Amazon Ads profiles and Attribution advertisers the brand's own
/// authorisation in `region` can see, live from Amazon (`/v2/profiles`, then
/// `/attribution/advertisers` per profile).
#[utoipa::path(get, path = "/sellers/brands/{brand_id}/amazon/{region}/profiles", tag = "sellers", security(("bearer" = [])),
    params(
        ("brand_id" = String, Path, description = "One of your brands"),
        ("region" = String, Path, description = "`NA`, `EU` or `FE`"),
    ),
    responses(
        (status = 200, body = VisibleProfiles),
        (status = 404, body = Problem, description = "`brand_not_found`: no such brand among yours"),
        (status = 409, body = Problem, description = "`brand_not_connected`: no working authorisation of the brand in that region (connect or reconnect first)"),
        (status = 422, body = Unprocessable, description = "`region` not NA/EU/FE"),
        (status = 503, body = Problem, description = "`amazon_unavailable`: Amazon did not answer; retry"),
    ))]
async fn visible_profiles(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((brand_id, region)): Path<(String, String)>,
) -> ApiResult<JsonResponse<VisibleProfiles>> {
    let region = path_region(&region)?;
    let brand = own_brand(&state, &who, &brand_id).await?;
    let (row, client) = usable_connection(&state, &brand.id, &brand.name, region).await?;
    let profiles = visible(&state, &row, &client, &brand.name).await?;
    Ok(JsonResponse(VisibleProfiles { profiles }))
}

/// An Amazon id, as text or as a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AmazonId {
    Text(String),
    Number(u64),
}

impl AmazonId {
    fn text(&self) -> String {
        match self {
            Self::Text(t) => t.trim().to_owned(),
            Self::Number(n) => n.to_string(),
        }
    }
}

/// The profile and advertiser the brand's links and reports use in the region.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdvertiserChoice {
    #[schema(value_type = String, example = "200000000012345")]
    profile_id: Option<AmazonId>,
    #[schema(value_type = String, example = "512345678901")]
    advertiser_id: Option<AmazonId>,
}

/// **(Quiver)** Choose the profile and Attribution advertiser of the brand's connection in
/// `region`: one its authorisation can see (checked live with Amazon). From then on the
/// brand's new links carry that advertiser's tag and its reports are read from it.
#[utoipa::path(put, path = "/sellers/brands/{brand_id}/amazon/{region}", tag = "sellers", security(("bearer" = [])),
    params(
        ("brand_id" = String, Path, description = "One of your brands"),
        ("region" = String, Path, description = "`NA`, `EU` or `FE`"),
    ),
    request_body = AdvertiserChoice,
    responses(
        (status = 200, body = RegionConnection, description = "The connection after the choice"),
        (status = 404, body = Problem, description = "`brand_not_found`: no such brand among yours"),
        (status = 409, body = Problem, description = "`brand_not_connected`: no working authorisation of the brand in that region"),
        (status = 422, body = Unprocessable, description = "A field missing, `region` not NA/EU/FE, or a profile / advertiser the authorisation cannot see (the field is named)"),
        (status = 503, body = Problem, description = "`amazon_unavailable`: Amazon did not answer; retry"),
    ))]
async fn choose(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((brand_id, region)): Path<(String, String)>,
    Json(body): Json<AdvertiserChoice>,
) -> ApiResult<JsonResponse<RegionConnection>> {
    let region = path_region(&region)?;
    let profile_id = body.profile_id.as_ref().map(AmazonId::text);
    let advertiser_id = body.advertiser_id.as_ref().map(AmazonId::text);
    let mut errors = Vec::new();
    if profile_id.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::missing("body", "profile_id"));
    }
    if advertiser_id.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::missing("body", "advertiser_id"));
    }
    let (Some(profile_id), Some(advertiser_id), true) =
        (profile_id, advertiser_id, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    let brand = own_brand(&state, &who, &brand_id).await?;
    let (row, client) = usable_connection(&state, &brand.id, &brand.name, region).await?;
    let profiles = visible(&state, &row, &client, &brand.name).await?;
    let Some(profile) = profiles.iter().find(|p| p.profile_id == profile_id) else {
        return Err(ApiError::validation(
            "body",
            "profile_id",
            "Not one of the profiles the brand's Amazon authorisation can see in this region",
            "value_error",
        ));
    };
    if !profile
        .advertisers
        .iter()
        .any(|a| a.advertiser_id == advertiser_id)
    {
        return Err(ApiError::validation(
            "body",
            "advertiser_id",
            "Not one of the Attribution advertisers of that profile the brand's Amazon authorisation can see",
            "value_error",
        ));
    }
    if !state
        .db
        .choose_amazon_advertiser(&brand.id, region, &profile_id, &advertiser_id)
        .await?
    {
        return Err(ApiError::BrandMustReconnect {
            brand: brand.name,
            region: region.to_string(),
        });
    }
    Ok(JsonResponse(
        region_connection(&state, &brand.id, region).await?,
    ))
}

/// **(Quiver)** Disconnect the brand's Amazon Ads account in `region`: its stored
/// authorisation is deleted. Existing links keep redirecting shoppers; new links for that
/// region get 409 `brand_not_connected` (unless an operator set platform ids for the brand,
/// which then apply again).
#[utoipa::path(delete, path = "/sellers/brands/{brand_id}/amazon/{region}", tag = "sellers", security(("bearer" = [])),
    params(
        ("brand_id" = String, Path, description = "One of your brands"),
        ("region" = String, Path, description = "`NA`, `EU` or `FE`"),
    ),
    responses(
        (status = 204, description = "Disconnected (also when it was not connected)"),
        (status = 404, body = Problem, description = "`brand_not_found`: no such brand among yours"),
        (status = 422, body = Unprocessable, description = "`region` not NA/EU/FE"),
    ))]
async fn disconnect(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((brand_id, region)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let region = path_region(&region)?;
    let brand = own_brand(&state, &who, &brand_id).await?;
    if state.db.delete_amazon_connection(&brand.id, region).await? {
        state
            .amazon
            .client
            .forget_authorization(&brand_amazon::authorization_key(&brand.id, region));
        tracing::info!(brand = %brand.id, %region, "a brand disconnected its Amazon Ads account");
    }
    Ok(StatusCode::NO_CONTENT)
}
