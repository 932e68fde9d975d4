//! A seller's own products: the listing, and per-product commission overrides.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use quiver_domain::{Asin, Bps, Marketplace, Money, effective_from};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::actor;
use crate::clock::{now_ms, today};
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Seller;
use crate::http::extract::{Json, Query};
use crate::http::paging::{self, Keyset};
use crate::http::params::{self, MAX_BRAND_IDS, MAX_LIST_ITEMS, asins, list, marketplace_selector};
use crate::objects::format::percent;
use crate::state::AppState;
use crate::store::catalog::ProductPosition;
use crate::store::sellers::{Change, SellerProductFilter, SellerProductRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(patch_product))
}

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
        let m = p.marketplace;
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
    let brand_ids = list("brand_ids", q.brand_ids.as_deref(), MAX_BRAND_IDS)?;
    let asins = asins(list("asins", q.asins.as_deref(), MAX_LIST_ITEMS)?)?;
    let page = Keyset::<ProductPosition>::new(&state.cursor_key, limit, q.cursor.as_deref())?;
    let filter = SellerProductFilter {
        marketplace: params::only(selector),
        brand_ids: &brand_ids,
        asins: &asins,
    };
    let (total, mut rows) = state
        .db
        .seller_products(&who.account_id, &filter, page.after.as_ref(), page.fetch())
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |r| ProductPosition {
        b: r.brand_id.clone(),
        a: r.asin.clone(),
        m: r.marketplace.as_str().to_owned(),
        k: None,
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
        .map(|pct| params::commission_bps("commission", pct))
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
            effective_from(today()),
        )
        .await?;
    Ok(JsonResponse(SellerProduct::from_row(&product)))
}
