//! A seller's own brands: the listing, and changes to program mode and default commission.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use quiver_domain::{ProgramMode, effective_from};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::actor;
use crate::clock::{now_ms, today};
use crate::error::{ApiError, ApiResult, FieldError, Problem, Unprocessable};
use crate::http::extract::Seller;
use crate::http::extract::{Json, Query};
use crate::http::paging::Keyset;
use crate::http::params;
use crate::objects::format::percent;
use crate::state::AppState;
use crate::store::catalog::BrandRow;
use crate::store::sellers::Change;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_brands))
        .routes(routes!(patch_brand))
}

/// A brand as its seller sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SellerBrand {
    #[schema(example = "lumen-home")]
    pub brand_id: String,
    #[schema(example = "Lumen Home")]
    pub brand_name: String,
    /// `open` (every publisher may promote it) or `approval` (only granted publishers).
    #[schema(example = "approval")]
    pub program_mode: String,
    /// The brand's commission rate in percent (15 means 15%), for products without an override.
    #[schema(example = 15.0)]
    pub default_commission: f64,
    /// Logo URL.
    pub logo: String,
}

impl SellerBrand {
    fn from_row(b: &BrandRow) -> Self {
        Self {
            brand_id: b.id.clone(),
            brand_name: b.name.clone(),
            program_mode: b.program_mode.as_str().to_owned(),
            default_commission: percent(b.default_commission_bps),
            logo: b.logo_url.clone(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrandsQuery {
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct BrandPosition {
    brand: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SellerBrandsPage {
    total_count: i64,
    fetched_count: usize,
    brands: Vec<SellerBrand>,
    next_cursor: Option<String>,
}

/// The calling seller's brands, by brand id.
#[utoipa::path(get, path = "/sellers/brands", tag = "sellers", params(BrandsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = SellerBrandsPage),
        (status = 403, body = Problem, description = "`wrong_account_type`: a publisher token"),
        (status = 422, body = Unprocessable, description = "Bad `limit` or `cursor`"),
    ))]
async fn list_brands(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<BrandsQuery>,
) -> ApiResult<JsonResponse<SellerBrandsPage>> {
    let page = Keyset::<BrandPosition>::parse(&state.cursor_key, q.limit, q.cursor.as_deref())?;
    let (total, mut rows) = state
        .db
        .seller_brands(
            &who.account_id,
            page.after.as_ref().map(|p| p.brand.as_str()),
            page.fetch(),
        )
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |b| BrandPosition {
        brand: b.id.clone(),
    });
    Ok(JsonResponse(SellerBrandsPage {
        total_count: total,
        fetched_count: rows.len(),
        brands: rows.iter().map(SellerBrand::from_row).collect(),
        next_cursor,
    }))
}

/// **(Quiver)** Changes to a brand; absent (or null) fields stay as they are, at least one is required.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BrandPatch {
    /// `open` or `approval` (case-insensitive).
    #[schema(example = "approval")]
    program_mode: Option<String>,
    /// Percent, 0–100 with at most 2 decimals.
    #[schema(example = 12.5)]
    default_commission: Option<f64>,
}

/// **(Quiver)** Change a brand's program mode and/or default commission.
///
/// The new rate shows in the catalog at once; reports use it from the next UTC day (the
/// change is recorded in the commission history, effective tomorrow). Switching to
/// `approval` keeps existing grants; creators without one can no longer create links (403),
/// while their existing links keep working. Every change is written to the audit log; a
/// PATCH that changes nothing writes nothing.
#[utoipa::path(patch, path = "/sellers/brands/{brand_id}", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands")),
    request_body = BrandPatch,
    responses(
        (status = 200, body = SellerBrand, description = "The brand after the change"),
        (status = 404, body = Problem, description = "`brand_not_found`: no such brand among yours (another seller's brand is answered the same)"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "Malformed body, no field given, `program_mode` not open/approval, or commission outside 0–100 / more than 2 decimals"),
    ))]
async fn patch_brand(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
    Json(body): Json<BrandPatch>,
) -> ApiResult<JsonResponse<SellerBrand>> {
    let mut errors = Vec::new();
    let mode = match body.program_mode.as_deref() {
        None => None,
        Some(m) => match ProgramMode::parse(m) {
            Some(m) => Some(m),
            None => {
                errors.push(FieldError::new(
                    "body",
                    "program_mode",
                    "Input should be 'open' or 'approval'",
                    "enum",
                ));
                None
            }
        },
    };
    let bps = match body.default_commission {
        None => None,
        Some(pct) => match params::commission_bps("default_commission", pct) {
            Ok(b) => Some(b),
            Err(ApiError::Validation(mut e)) => {
                errors.append(&mut e);
                None
            }
            Err(e) => return Err(e),
        },
    };
    if body.program_mode.is_none() && body.default_commission.is_none() {
        errors.push(FieldError::new(
            "body",
            "__root__",
            "Give program_mode, default_commission or both",
            "missing",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let brand = match state
        .db
        .update_brand(actor(&who), &brand_id, mode, bps, now_ms())
        .await?
    {
        Change::NotFound => return Err(ApiError::BrandNotFound { brand: brand_id }),
        Change::Unchanged(b) | Change::Changed(b) => b,
    };
    if let Some(bps) = bps {
        // Recorded after the change commits, and on every PATCH naming a rate (even an
        // unchanged one): the rate from tomorrow is the current rate, so re-recording it is
        // always right, and a retry after a failure here repairs the history.
        state
            .db
            .record_commission(&brand.id, None, Some(bps), effective_from(today()))
            .await?;
    }
    Ok(JsonResponse(SellerBrand::from_row(&brand)))
}
