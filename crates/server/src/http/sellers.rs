//! The Seller API (spec §6): a seller's own brands and products, commission rates, who may
//! promote a brand (grants and access requests), and the audit log of every change.
//!
//! Everything is scoped to the calling seller's own brands: another seller's brand, product,
//! grant or request is answered exactly like one that does not exist (404), so ids cannot
//! be probed across tenants.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quiver_domain::{Asin, Bps, Cursor, Marketplace, MarketplaceSelector, Money, ProgramMode};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError, Problem, Unprocessable};
use crate::http::catalog::marketplace_selector;
use crate::http::extract::Seller;
use crate::http::extract::{Json, Query};
use crate::http::paging;
use crate::state::AppState;
use crate::store::catalog::{BrandRow, ProductPosition};
use crate::store::now_ms;
use crate::store::sellers::{
    AccessRequestRow, Actor, AuditRow, Change, Decision, GrantRow, RequestScope,
    SellerProductFilter, SellerProductRow, TimePosition,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_brands))
        .routes(routes!(patch_brand))
        .routes(routes!(list_products))
        .routes(routes!(patch_product))
        .routes(routes!(list_grants))
        .routes(routes!(put_grant, delete_grant))
        .routes(routes!(list_access_requests))
        .routes(routes!(approve_request))
        .routes(routes!(decline_request))
        .routes(routes!(audit_log))
}

pub fn iso_utc(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn percent(bps: i32) -> f64 {
    Bps(u32::try_from(bps).unwrap_or(0)).percent_f64()
}

fn actor(who: &Principal) -> Actor<'_> {
    Actor {
        account_id: &who.account_id,
        public_id: &who.public_id,
    }
}

/// A percentage 0–100 with at most 2 decimals, in basis points; else a 422 at `field`.
fn commission_bps(field: &str, pct: f64) -> Result<u32, ApiError> {
    Bps::from_percent_f64(pct).map(|b| b.0).map_err(|_| {
        ApiError::validation(
            "body",
            field,
            "Input should be a percentage between 0 and 100 with at most 2 decimal places",
            "value_error",
        )
    })
}

fn decode_cursor<T: serde::de::DeserializeOwned>(
    cursor: Option<&str>,
) -> Result<Option<T>, ApiError> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode(c).map_err(|_| paging::bad_cursor()))
        .transpose()
}

/// One more row than asked tells whether there is a next page.
fn split_page<T>(rows: &mut Vec<T>, limit: i64) -> bool {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    more
}

fn bool_query(field: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(_) => Err(ApiError::validation(
            "query",
            field,
            "Input should be a valid boolean",
            "bool_parsing",
        )),
    }
}

/// The seller's brand or 404: every brand-scoped endpoint checks this first.
async fn own_brand(state: &AppState, who: &Principal, brand_id: &str) -> ApiResult<BrandRow> {
    state
        .db
        .seller_brand(&who.account_id, brand_id)
        .await?
        .ok_or_else(|| ApiError::BrandNotFound {
            brand: brand_id.to_owned(),
        })
}

// ---------------------------------------------------------------------------------------
// Brands

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
            program_mode: b.program_mode.clone(),
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
    let limit = paging::limit(q.limit)?;
    let after: Option<BrandPosition> = decode_cursor(q.cursor.as_deref())?;
    let (total, mut rows) = state
        .db
        .seller_brands(
            &who.account_id,
            after.as_ref().map(|p| p.brand.as_str()),
            limit + 1,
        )
        .await?;
    let more = split_page(&mut rows, limit);
    let next_cursor = more.then(|| rows.last()).flatten().map(|b| {
        Cursor::encode(&BrandPosition {
            brand: b.id.clone(),
        })
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
        Some(pct) => match commission_bps("default_commission", pct) {
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
            .record_commission(&brand.id, None, Some(bps), tomorrow())
            .await?;
    }
    Ok(JsonResponse(SellerBrand::from_row(&brand)))
}

fn tomorrow() -> time::Date {
    quiver_domain::effective_from(time::OffsetDateTime::now_utc().date())
}

// ---------------------------------------------------------------------------------------
// Products

/// A product as its seller sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SellerProduct {
    #[schema(example = "B0LMDESK01")]
    pub asin: String,
    #[schema(example = "amazon.com")]
    pub marketplace: &'static str,
    pub brand_id: String,
    pub brand_name: String,
    /// Whether the product is currently available (buyable) on Amazon.
    pub active: bool,
    pub title: String,
    /// Current price, in `currency`.
    #[schema(example = 59.99)]
    pub price: f64,
    #[schema(example = "USD")]
    pub currency: &'static str,
    /// The commission rate in force in percent: the product's override, else the brand default.
    #[schema(example = 15.0)]
    pub commission: f64,
    /// **(Quiver)** The product's own rate in percent, or null when it follows the brand default.
    pub commission_override: Option<f64>,
}

impl SellerProduct {
    fn from_row(p: &SellerProductRow) -> Self {
        let m = p.marketplace();
        let currency = m.currency();
        Self {
            asin: p.asin.clone(),
            marketplace: m.as_str(),
            brand_id: p.brand_id.clone(),
            brand_name: p.brand_name.clone(),
            active: p.available,
            title: p.title.clone(),
            price: Money::new(p.price_minor, currency).to_f64(),
            currency: currency.as_str(),
            commission: Bps(p.commission_bps()).percent_f64(),
            commission_override: p.commission_bps.map(percent),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductsQuery {
    /// A marketplace such as `amazon.de`, or `all`. Default `amazon.com`.
    marketplace: Option<String>,
    /// Legacy alternative to `marketplace`.
    country_code: Option<String>,
    /// Comma-separated brand ids (at most 100). Ids that are not yours match nothing.
    brand_ids: Option<String>,
    /// Comma-separated ASINs (at most 500), any case.
    asins: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SellerProductsPage {
    total_count: i64,
    fetched_count: usize,
    products: Vec<SellerProduct>,
    next_cursor: Option<String>,
}

fn comma_list(field: &str, value: Option<&str>, max: usize) -> Result<Vec<String>, ApiError> {
    let items: Vec<String> = value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if items.len() > max {
        return Err(ApiError::validation(
            "query",
            field,
            format!("At most {max} comma-separated values"),
            "too_long",
        ));
    }
    Ok(items)
}

/// The calling seller's products in a stable order (brand, ASIN, marketplace).
#[utoipa::path(get, path = "/sellers/products", tag = "sellers", params(ProductsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = SellerProductsPage),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = Unprocessable, description = "Bad `limit`, `cursor`, too many `brand_ids`/`asins`, or `invalid_asin` (as `{detail, code}`)"),
    ))]
async fn list_products(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<ProductsQuery>,
) -> ApiResult<JsonResponse<SellerProductsPage>> {
    let selector = marketplace_selector(q.marketplace.as_deref(), q.country_code.as_deref(), true)?;
    let limit = paging::limit(q.limit)?;
    let brand_ids = comma_list("brand_ids", q.brand_ids.as_deref(), 100)?;
    let asins = comma_list("asins", q.asins.as_deref(), 500)?
        .iter()
        .map(|a| Asin::parse(a).map(|a| a.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let after: Option<ProductPosition> = decode_cursor(q.cursor.as_deref())?;
    let filter = SellerProductFilter {
        marketplace: match selector {
            MarketplaceSelector::All => None,
            MarketplaceSelector::One(m) => Some(m),
        },
        brand_ids: &brand_ids,
        asins: &asins,
    };
    let (total, mut rows) = state
        .db
        .seller_products(&who.account_id, &filter, after.as_ref(), limit + 1)
        .await?;
    let more = split_page(&mut rows, limit);
    let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
        Cursor::encode(&ProductPosition {
            b: r.brand_id.clone(),
            a: r.asin.clone(),
            m: r.marketplace.clone(),
        })
    });
    Ok(JsonResponse(SellerProductsPage {
        total_count: total,
        fetched_count: rows.len(),
        products: rows.iter().map(SellerProduct::from_row).collect(),
        next_cursor,
    }))
}

/// A present JSON field that may be null: absent is a 422 "Field required".
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

/// **(Quiver)** A product's own commission rate.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProductPatch {
    /// Percent, 0–100 with at most 2 decimals; `null` clears the override so the product
    /// follows its brand's default again. Required.
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true, value_type = Option<f64>, example = 18.5)]
    commission: Option<f64>,
}

/// **(Quiver)** Set or clear a product's commission override (one ASIN on one marketplace).
///
/// Shown in the catalog at once; reports use it from the next UTC day. Audited.
#[utoipa::path(patch, path = "/sellers/products/{marketplace}/{asin}", tag = "sellers", security(("bearer" = [])),
    params(
        ("marketplace" = String, Path, description = "e.g. `amazon.com`", example = "amazon.com"),
        ("asin" = String, Path, description = "10 letters or digits, any case", example = "B0LMDESK01"),
    ),
    request_body = ProductPatch,
    responses(
        (status = 200, body = SellerProduct, description = "The product after the change"),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 404, body = Problem, description = "`product_not_found`: not a product of one of your brands"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "Malformed body, `commission` missing or outside 0–100 / more than 2 decimals, or `invalid_asin` (as `{detail, code}`)"),
    ))]
async fn patch_product(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((marketplace, asin)): Path<(String, String)>,
    Json(body): Json<ProductPatch>,
) -> ApiResult<JsonResponse<SellerProduct>> {
    let bps = body
        .commission
        .map(|pct| commission_bps("commission", pct))
        .transpose()?;
    let asin = Asin::parse(&asin)?;
    let marketplace = Marketplace::parse(&marketplace)?;
    let product = match state
        .db
        .set_product_commission(actor(&who), asin.as_str(), marketplace, bps, now_ms())
        .await?
    {
        Change::NotFound => {
            return Err(ApiError::ProductNotFound {
                asin: asin.to_string(),
                marketplace: marketplace.to_string(),
            });
        }
        Change::Unchanged(p) | Change::Changed(p) => p,
    };
    state
        .db
        .record_commission(
            &product.brand_id,
            Some((asin.as_str(), marketplace)),
            bps,
            tomorrow(),
        )
        .await?;
    Ok(JsonResponse(SellerProduct::from_row(&product)))
}

// ---------------------------------------------------------------------------------------
// Grants

/// One publisher's access to one brand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub brand_id: String,
    /// The publisher's public affiliate id.
    #[schema(example = "aff_demo_creator2")]
    pub creator: String,
    /// The publisher's display name.
    pub creator_name: String,
    /// False once revoked.
    pub active: bool,
    /// ISO 8601 UTC: when access was (last) granted.
    pub granted_at: String,
    /// ISO 8601 UTC, or null while active.
    pub revoked_at: Option<String>,
}

impl Grant {
    fn from_row(g: &GrantRow) -> Self {
        Self {
            brand_id: g.brand_id.clone(),
            creator: g.public_id.clone(),
            creator_name: g.display_name.clone(),
            active: g.revoked_at.is_none(),
            granted_at: iso_utc(g.granted_at),
            revoked_at: g.revoked_at.map(iso_utc),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantsQuery {
    /// `true`: only grants in force; `false`: only revoked ones. Default: both.
    active: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct GrantPosition {
    creator: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GrantsPage {
    total_count: i64,
    fetched_count: usize,
    grants: Vec<Grant>,
    next_cursor: Option<String>,
}

/// **(Quiver)** Who has been granted access to one of your brands (active and revoked), by creator id.
#[utoipa::path(get, path = "/sellers/brands/{brand_id}/grants", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands"), GrantsQuery),
    responses(
        (status = 200, body = GrantsPage),
        (status = 404, body = Problem, description = "`brand_not_found`"),
        (status = 422, body = Unprocessable, description = "Bad `active`, `limit` or `cursor`"),
    ))]
async fn list_grants(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
    Query(q): Query<GrantsQuery>,
) -> ApiResult<JsonResponse<GrantsPage>> {
    let limit = paging::limit(q.limit)?;
    let active = bool_query("active", q.active.as_deref())?;
    let after: Option<GrantPosition> = decode_cursor(q.cursor.as_deref())?;
    let brand = own_brand(&state, &who, &brand_id).await?;
    let (total, mut rows) = state
        .db
        .brand_grants(
            &brand.id,
            active,
            after.as_ref().map(|p| p.creator.as_str()),
            limit + 1,
        )
        .await?;
    let more = split_page(&mut rows, limit);
    let next_cursor = more.then(|| rows.last()).flatten().map(|g| {
        Cursor::encode(&GrantPosition {
            creator: g.public_id.clone(),
        })
    });
    Ok(JsonResponse(GrantsPage {
        total_count: total,
        fetched_count: rows.len(),
        grants: rows.iter().map(Grant::from_row).collect(),
        next_cursor,
    }))
}

/// The publisher behind a public affiliate id, or 404.
async fn creator_account(state: &AppState, creator: &str) -> ApiResult<String> {
    state
        .db
        .account_by_public_id(creator.trim())
        .await?
        .filter(|a| a.kind() == quiver_domain::AccountKind::Publisher)
        .map(|a| a.id)
        .ok_or_else(|| ApiError::CreatorNotFound {
            creator: creator.to_owned(),
        })
}

/// **(Quiver)** Grant a creator access to one of your brands.
///
/// Idempotent: 201 when access is (re)granted, 200 when the creator already had it (nothing
/// written). A grant matters while the brand is in `approval` mode; it is kept if the brand
/// is open. Audited.
#[utoipa::path(put, path = "/sellers/brands/{brand_id}/grants/{creator}", tag = "sellers", security(("bearer" = [])),
    params(
        ("brand_id" = String, Path, description = "One of your brands"),
        ("creator" = String, Path, description = "The publisher's public affiliate id", example = "aff_demo_creator2"),
    ),
    responses(
        (status = 200, body = Grant, description = "Already granted; unchanged"),
        (status = 201, body = Grant, description = "Granted"),
        (status = 404, body = Problem, description = "`brand_not_found`, or `creator_not_found` (no publisher has that id)"),
    ))]
async fn put_grant(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((brand_id, creator)): Path<(String, String)>,
) -> ApiResult<(StatusCode, JsonResponse<Grant>)> {
    own_brand(&state, &who, &brand_id).await?;
    let account = creator_account(&state, &creator).await?;
    match state
        .db
        .grant_access(actor(&who), &brand_id, &account, now_ms())
        .await?
    {
        Change::NotFound => Err(ApiError::BrandNotFound { brand: brand_id }),
        Change::Unchanged(g) => Ok((StatusCode::OK, JsonResponse(Grant::from_row(&g)))),
        Change::Changed(g) => Ok((StatusCode::CREATED, JsonResponse(Grant::from_row(&g)))),
    }
}

/// **(Quiver)** Revoke a creator's access to one of your brands.
///
/// From now on the creator's new links for the brand are refused (403) while it is in
/// `approval` mode; links they already made keep working for shoppers and stay in their
/// listings. Revoking an already revoked grant answers 200 with it and writes nothing.
/// Audited.
#[utoipa::path(delete, path = "/sellers/brands/{brand_id}/grants/{creator}", tag = "sellers", security(("bearer" = [])),
    params(
        ("brand_id" = String, Path, description = "One of your brands"),
        ("creator" = String, Path, description = "The publisher's public affiliate id", example = "aff_demo_creator2"),
    ),
    responses(
        (status = 200, body = Grant, description = "The grant, now revoked"),
        (status = 404, body = Problem, description = "`brand_not_found`, `creator_not_found`, or `grant_not_found` (the creator never had access)"),
    ))]
async fn delete_grant(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path((brand_id, creator)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Grant>> {
    own_brand(&state, &who, &brand_id).await?;
    let account = creator_account(&state, &creator).await?;
    match state
        .db
        .revoke_access(actor(&who), &brand_id, &account, now_ms())
        .await?
    {
        Change::NotFound => Err(ApiError::GrantNotFound {
            creator,
            brand: brand_id,
        }),
        Change::Unchanged(g) | Change::Changed(g) => Ok(JsonResponse(Grant::from_row(&g))),
    }
}

// ---------------------------------------------------------------------------------------
// Access requests (the publisher side is in http/access.rs)

/// **(Quiver)** A publisher's request for access to an approval-mode brand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessRequest {
    pub id: String,
    pub brand_id: String,
    pub brand_name: String,
    /// The publisher's public affiliate id.
    #[schema(example = "aff_demo_creator")]
    pub creator: String,
    pub creator_name: String,
    /// What the publisher wrote to the brand (may be empty).
    pub message: String,
    /// `pending`, `approved` or `declined`.
    #[schema(example = "pending")]
    pub status: String,
    /// ISO 8601 UTC.
    pub created_at: String,
    /// ISO 8601 UTC, or null while pending.
    pub decided_at: Option<String>,
}

impl AccessRequest {
    pub fn from_row(r: &AccessRequestRow) -> Self {
        Self {
            id: r.id.clone(),
            brand_id: r.brand_id.clone(),
            brand_name: r.brand_name.clone(),
            creator: r.public_id.clone(),
            creator_name: r.display_name.clone(),
            message: r.message.clone(),
            status: r.status.clone(),
            created_at: iso_utc(r.created_at),
            decided_at: r.decided_at.map(iso_utc),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessRequestsPage {
    pub total_count: i64,
    pub fetched_count: usize,
    pub access_requests: Vec<AccessRequest>,
    pub next_cursor: Option<String>,
}

/// `status`: one of the three, or `all` (`None`); `default` when absent.
pub fn request_status(
    value: Option<&str>,
    default: Option<&'static str>,
) -> Result<Option<&'static str>, ApiError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(default),
        Some("all") => Ok(None),
        Some("pending") => Ok(Some("pending")),
        Some("approved") => Ok(Some("approved")),
        Some("declined") => Ok(Some("declined")),
        Some(_) => Err(ApiError::validation(
            "query",
            "status",
            "Input should be 'pending', 'approved', 'declined' or 'all'",
            "enum",
        )),
    }
}

/// Lists requests newest first, for a publisher or a seller.
pub async fn request_page(
    state: &AppState,
    scope: RequestScope<'_>,
    status: Option<&str>,
    brand_id: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> ApiResult<AccessRequestsPage> {
    let limit = paging::limit(limit)?;
    let after: Option<TimePosition> = decode_cursor(cursor)?;
    let brand_id = brand_id.map(str::trim).filter(|s| !s.is_empty());
    let (total, mut rows) = state
        .db
        .list_access_requests(scope, status, brand_id, after.as_ref(), limit + 1)
        .await?;
    let more = split_page(&mut rows, limit);
    let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
        Cursor::encode(&TimePosition {
            t: r.created_at,
            id: r.id.clone(),
        })
    });
    Ok(AccessRequestsPage {
        total_count: total,
        fetched_count: rows.len(),
        access_requests: rows.iter().map(AccessRequest::from_row).collect(),
        next_cursor,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellerRequestsQuery {
    /// `pending` (default), `approved`, `declined` or `all`.
    status: Option<String>,
    /// Only requests for this brand of yours.
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
    let status = request_status(q.status.as_deref(), Some("pending"))?;
    let page = request_page(
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
) -> ApiResult<JsonResponse<AccessRequest>> {
    match state
        .db
        .decide_access_request(actor(who), id, approve, now_ms())
        .await?
    {
        Decision::NotFound => Err(ApiError::AccessRequestNotFound { id: id.to_owned() }),
        Decision::NotPending(r) => Err(ApiError::AccessRequestDecided {
            id: r.id,
            status: r.status,
        }),
        Decision::Decided(r) => Ok(JsonResponse(AccessRequest::from_row(&r))),
    }
}

/// **(Quiver)** Approve a pending access request: the creator is granted access to the brand
/// at once. Audited.
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
    decide(&state, &who, &id, true).await
}

/// **(Quiver)** Decline a pending access request. The creator may ask again later. Audited.
#[utoipa::path(post, path = "/sellers/access_requests/{id}/decline", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = AccessRequest, description = "Declined"),
        (status = 404, body = Problem, description = "`access_request_not_found`"),
        (status = 409, body = Problem, description = "`access_request_decided`"),
    ))]
async fn decline_request(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<AccessRequest>> {
    decide(&state, &who, &id, false).await
}

// ---------------------------------------------------------------------------------------
// Audit log

/// **(Quiver)** One recorded seller action.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// ISO 8601 UTC.
    pub at: String,
    /// The public id of the seller account that acted.
    #[schema(example = "seller_demo_brand")]
    pub actor: String,
    /// `brand.update`, `product.commission`, `grant.create`, `grant.revoke`,
    /// `access_request.approve` or `access_request.decline`.
    #[schema(example = "brand.update")]
    pub action: String,
    pub brand_id: String,
    /// What was acted on: `brand:<id>`, `product:<marketplace>/<asin>`, `creator:<affiliate id>`
    /// or `access_request:<id>`.
    #[schema(example = "brand:lumen-home")]
    pub target: String,
    /// The state before the action.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The state after the action.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl AuditEntry {
    fn from_row(r: &AuditRow) -> Self {
        let json = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str(s).ok());
        Self {
            id: r.id.clone(),
            at: iso_utc(r.at),
            actor: r.actor_public_id.clone(),
            action: r.action.clone(),
            brand_id: r.brand_id.clone(),
            target: r.target.clone(),
            before: json(&r.before_json),
            after: json(&r.after_json),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries for this brand of yours.
    brand_id: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    total_count: i64,
    fetched_count: usize,
    entries: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

/// **(Quiver)** The audit log of your brands, newest first: every brand edit, commission
/// change, grant, revocation and access decision, with who made it and the state before and after.
#[utoipa::path(get, path = "/sellers/audit", tag = "sellers", params(AuditQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 422, body = Unprocessable, description = "Bad `limit` or `cursor`"),
    ))]
async fn audit_log(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<JsonResponse<AuditPage>> {
    let limit = paging::limit(q.limit)?;
    let after: Option<TimePosition> = decode_cursor(q.cursor.as_deref())?;
    let brand_id = q
        .brand_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (total, mut rows) = state
        .db
        .seller_audit(&who.account_id, brand_id, after.as_ref(), limit + 1)
        .await?;
    let more = split_page(&mut rows, limit);
    let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
        Cursor::encode(&TimePosition {
            t: r.at,
            id: r.id.clone(),
        })
    });
    Ok(JsonResponse(AuditPage {
        total_count: total,
        fetched_count: rows.len(),
        entries: rows.iter().map(AuditEntry::from_row).collect(),
        next_cursor,
    }))
}
