//! The catalog: `GET /getproducts`, `GET /get_single_product`, legacy `GET /brands`
//! and `GET /check_product`.

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use quiver_domain::{Asin, Bps, Cursor, Marketplace, MarketplaceSelector, Money};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::auth::Publisher;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Query;
use crate::http::paging;
use crate::store::catalog::{Page, ProductFilter, ProductPosition, ProductRow};
use crate::store::like_contains;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/getproducts", get(get_products))
        .route("/get_single_product", get(get_single_product))
        .route("/brands", get(brands))
        .route("/check_product", get(check_product))
}

/// Resolves `marketplace` (with `all`) or the legacy `country_code`; default amazon.com.
pub fn marketplace_selector(
    marketplace: Option<&str>,
    country_code: Option<&str>,
    allow_all: bool,
) -> Result<MarketplaceSelector, ApiError> {
    let selector = match (marketplace, country_code) {
        (Some(m), _) if allow_all => MarketplaceSelector::parse(m)?,
        (Some(m), _) => MarketplaceSelector::One(Marketplace::parse(m)?),
        (None, Some(c)) => MarketplaceSelector::One(Marketplace::from_country_code(c)?),
        (None, None) => MarketplaceSelector::One(Marketplace::Us),
    };
    Ok(selector)
}

/// `product_available`: `yes` (default) → available only, `no` → unavailable only, `either`.
fn availability(value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some("either") => Ok(None),
        Some(_) => Err(ApiError::validation(
            "query",
            "product_available",
            "Input should be 'yes', 'no' or 'either'",
            "enum",
        )),
    }
}

fn decimal(minor: i64) -> f64 {
    minor as f64 / 100.0
}

fn decimal_text(value: i64) -> String {
    // Two-decimal text without trailing zeros: 450 → "4.5", 500 → "5".
    let s = format!("{}.{:02}", value / 100, (value % 100).abs());
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The product object of spec §3, with current and legacy field names.
pub fn product_json(p: &ProductRow) -> Value {
    let m = p.marketplace();
    let currency = m.currency();
    let price = Money::new(p.price_minor, currency);
    let rate = Bps(p.commission_bps());
    let sub_category: Vec<String> = serde_json::from_str(&p.sub_categories).unwrap_or_default();
    let deal = match (p.deal_base_minor, p.deal_sale_minor, p.deal_final_minor) {
        (Some(base), Some(sale), Some(fin)) => json!({
            "base_price": Money::new(base, currency).to_decimal_string(),
            "sale_price": Money::new(sale, currency).to_decimal_string(),
            "final_price": Money::new(fin, currency).to_decimal_string(),
            "final_discount_%": decimal_text(i64::from(p.deal_discount_bps.unwrap_or(0))),
        }),
        _ => Value::Null,
    };
    let asin = Asin::parse(&p.asin)
        .map(|a| m.product_url(&a))
        .unwrap_or_default();
    json!({
        "asin": p.asin,
        "ASIN": p.asin,
        "title": p.title,
        "product_name": p.title,
        "marketplace": m.as_str(),
        "country_code": m.country_code(),
        "pricing": { "price": price.to_f64(), "currency": currency.as_str() },
        "price": price.to_decimal_string(),
        "commission": rate.percent_f64(),
        "commission_payout_aff": rate.percent_label(),
        "image": p.image_url,
        "image_encoded_string": p.image_url,
        "rating": decimal(i64::from(p.rating_centi)),
        "avg_rating": decimal_text(i64::from(p.rating_centi)),
        "ratingsTotal": p.ratings_total,
        "total_reviews": p.ratings_total.to_string(),
        "inStock": p.available,
        "product_status": if p.available { "AVAILABLE" } else { "UNAVAILABLE" },
        "status_reason": p.status_reason,
        "product_url": asin,
        "brand_id": p.brand_id,
        "company_name": p.company_name,
        "company_logo": p.logo_url,
        "product_category": p.category,
        "sub_category": sub_category,
        "is_variant_of": p.is_variant_of,
        "collection_name": p.collection_name,
        "deal": deal,
        "can_promote": p.can_promote,
    })
}

#[derive(Debug, Deserialize)]
struct ProductsQuery {
    marketplace: Option<String>,
    country_code: Option<String>,
    limit: Option<i64>,
    skip: Option<i64>,
    page: Option<i64>,
    cursor: Option<String>,
    search: Option<String>,
    brand_id: Option<String>,
    product_available: Option<String>,
}

#[derive(Serialize)]
struct ProductsPage {
    total_count: i64,
    fetched_count: usize,
    skip: i64,
    limit: i64,
    product_catalog: Vec<Value>,
    next_cursor: Option<String>,
}

async fn get_products(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<ProductsQuery>,
) -> ApiResult<Json<ProductsPage>> {
    let selector = marketplace_selector(q.marketplace.as_deref(), q.country_code.as_deref(), true)?;
    let limit = paging::limit(q.limit)?;
    let available = availability(q.product_available.as_deref())?;
    let (page, skip) = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => (
            Page::After(Some(
                Cursor::decode::<ProductPosition>(c).map_err(|_| paging::bad_cursor())?,
            )),
            0,
        ),
        None => {
            let skip = paging::offset(q.skip, q.page, limit)?;
            (Page::Offset(skip), skip)
        }
    };
    let filter = ProductFilter {
        marketplace: match selector {
            MarketplaceSelector::All => None,
            MarketplaceSelector::One(m) => Some(m),
        },
        brand_id: q
            .brand_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty()),
        search_like: q
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_contains),
        available,
    };
    // One row more than asked tells whether another page exists.
    let (total, mut rows) = state
        .db
        .list_products(&who.account_id, &filter, &page, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
        Cursor::encode(&ProductPosition {
            b: r.brand_id.clone(),
            a: r.asin.clone(),
            m: r.marketplace.clone(),
        })
    });
    Ok(Json(ProductsPage {
        total_count: total,
        fetched_count: rows.len(),
        skip,
        limit,
        product_catalog: rows.iter().map(product_json).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize)]
struct SingleProductQuery {
    asin: Option<String>,
    marketplace: Option<String>,
    country_code: Option<String>,
    product_available: Option<String>,
}

fn required_asin(asin: Option<&str>) -> Result<Asin, ApiError> {
    let raw =
        asin.ok_or_else(|| ApiError::Validation(vec![FieldError::missing("query", "asin")]))?;
    Ok(Asin::parse(raw)?)
}

async fn get_single_product(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<SingleProductQuery>,
) -> ApiResult<Json<Value>> {
    let asin = required_asin(q.asin.as_deref())?;
    let marketplace =
        match marketplace_selector(q.marketplace.as_deref(), q.country_code.as_deref(), false)? {
            MarketplaceSelector::One(m) => m,
            MarketplaceSelector::All => Marketplace::Us,
        };
    let available = availability(q.product_available.as_deref())?;
    let not_found = || ApiError::ProductNotFound {
        asin: asin.to_string(),
        marketplace: marketplace.to_string(),
    };
    let product = state
        .db
        .product_for(&who.account_id, asin.as_str(), marketplace)
        .await?
        .filter(|p| available.is_none_or(|a| p.available == a))
        .ok_or_else(not_found)?;
    Ok(Json(product_json(&product)))
}

#[derive(Debug, Deserialize)]
struct BrandsQuery {
    skip: Option<i64>,
    limit: Option<i64>,
    search: Option<String>,
    brand_name: Option<String>,
    brand_id: Option<String>,
}

async fn brands(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<BrandsQuery>,
) -> ApiResult<Json<Value>> {
    let limit = paging::limit(q.limit)?;
    let skip = paging::offset(q.skip, None, limit)?;
    let like = q
        .search
        .as_deref()
        .or(q.brand_name.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(like_contains);
    let brand_id = q
        .brand_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (total, rows) = state
        .db
        .list_brands(&who.account_id, like.as_deref(), brand_id, skip, limit)
        .await?;
    let brands: Vec<Value> = rows
        .iter()
        .map(|(b, can_promote)| {
            json!({
                "brand_id": b.id,
                "brand_name": b.name,
                "company_name": b.company_name,
                "company_logo": b.logo_url,
                "program_mode": b.program_mode,
                "default_commission": Bps(u32::try_from(b.default_commission_bps).unwrap_or(0)).percent_f64(),
                "can_promote": can_promote,
            })
        })
        .collect();
    Ok(Json(
        json!({ "total_count": total, "fetched_count": brands.len(), "brands": brands }),
    ))
}

#[derive(Debug, Deserialize)]
struct CheckQuery {
    asin: Option<String>,
}

async fn check_product(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<CheckQuery>,
) -> ApiResult<Json<Value>> {
    let asin = required_asin(q.asin.as_deref())?;
    match state
        .db
        .product_for(&who.account_id, asin.as_str(), Marketplace::Us)
        .await?
    {
        Some(p) if p.available && p.can_promote => {
            Ok(Json(json!({ "success": "ASIN passed all checks" })))
        }
        _ => Err(ApiError::NotAvailable),
    }
}
