//! The catalog: `GET /getproducts`, `GET /get_single_product`, legacy `GET /brands`
//! and `GET /check_product`.

use axum::Json;
use axum::extract::State;
use quiver_domain::{Asin, Bps, Marketplace, MarketplaceSelector, Money};
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Publisher;
use crate::http::extract::Query;
use crate::http::paging::{self, Keyset};
use crate::http::params::{self, MAX_TEXT_CHARS, marketplace_selector, required_asin};
use crate::objects::format::percent;
use crate::state::AppState;
use crate::store::catalog::{Page, ProductFilter, ProductPosition, ProductRow, ProductSort};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_products))
        .routes(routes!(get_single_product))
        .routes(routes!(brands))
        .routes(routes!(check_product))
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

/// Current price.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pricing {
    #[schema(example = 89.99)]
    pub price: f64,
    #[schema(example = "USD")]
    pub currency: &'static str,
}

/// A running deal; amounts are string-numbers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deal {
    pub base_price: String,
    pub sale_price: String,
    pub final_price: String,
    #[serde(rename = "final_discount_%")]
    pub final_discount_pct: String,
}

/// The product object of spec §3, with current and legacy field names.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Product {
    #[schema(example = "B0D45KS7QM")]
    pub asin: String,
    /// Legacy name of `asin`.
    #[serde(rename = "ASIN")]
    pub asin_legacy: String,
    pub title: String,
    /// Legacy name of `title`.
    pub product_name: String,
    #[schema(example = "amazon.com")]
    pub marketplace: &'static str,
    #[schema(example = "US")]
    pub country_code: &'static str,
    pub pricing: Pricing,
    /// The price as a string-number (legacy).
    #[schema(example = "89.99")]
    pub price: String,
    /// The calling publisher's commission rate in percent (15 means 15%).
    #[schema(example = 12.0)]
    pub commission: f64,
    /// The same rate, legacy form.
    #[schema(example = "12%")]
    pub commission_payout_aff: String,
    pub image: String,
    pub image_encoded_string: String,
    pub rating: f64,
    /// Average stars as a string-number.
    pub avg_rating: String,
    #[serde(rename = "ratingsTotal")]
    pub ratings_total: i64,
    /// Review count as a string-number.
    pub total_reviews: String,
    #[serde(rename = "inStock")]
    pub in_stock: bool,
    /// `AVAILABLE` or `UNAVAILABLE`.
    pub product_status: &'static str,
    pub status_reason: Option<String>,
    /// The plain detail page URL, without attribution.
    pub product_url: String,
    pub brand_id: String,
    pub company_name: String,
    pub company_logo: String,
    pub product_category: String,
    pub sub_category: Vec<String>,
    pub is_variant_of: Option<String>,
    pub collection_name: Option<String>,
    pub deal: Option<Deal>,
    /// **(Quiver)** Whether the calling publisher may create links for it now.
    pub can_promote: bool,
}

impl Product {
    pub fn from_row(p: &ProductRow) -> Self {
        let m = p.marketplace;
        let currency = m.currency();
        let price = Money::new(p.price_minor, currency);
        let rate = Bps(p.commission_bps());
        let deal = match (p.deal_base_minor, p.deal_sale_minor, p.deal_final_minor) {
            (Some(base), Some(sale), Some(fin)) => Some(Deal {
                base_price: Money::new(base, currency).to_decimal_string(),
                sale_price: Money::new(sale, currency).to_decimal_string(),
                final_price: Money::new(fin, currency).to_decimal_string(),
                final_discount_pct: decimal_text(i64::from(p.deal_discount_bps.unwrap_or(0))),
            }),
            _ => None,
        };
        let product_url = Asin::parse(&p.asin)
            .map(|a| m.product_url(&a))
            .unwrap_or_default();
        Self {
            asin: p.asin.clone(),
            asin_legacy: p.asin.clone(),
            title: p.title.clone(),
            product_name: p.title.clone(),
            marketplace: m.as_str(),
            country_code: m.country_code(),
            pricing: Pricing {
                price: price.to_f64(),
                currency: currency.as_str(),
            },
            price: price.to_decimal_string(),
            commission: rate.percent_f64(),
            commission_payout_aff: rate.percent_label(),
            image: p.image_url.clone(),
            image_encoded_string: p.image_url.clone(),
            rating: decimal(i64::from(p.rating_centi)),
            avg_rating: decimal_text(i64::from(p.rating_centi)),
            ratings_total: p.ratings_total,
            total_reviews: p.ratings_total.to_string(),
            in_stock: p.available,
            product_status: if p.available {
                "AVAILABLE"
            } else {
                "UNAVAILABLE"
            },
            status_reason: p.status_reason.clone(),
            product_url,
            brand_id: p.brand_id.clone(),
            company_name: p.company_name.clone(),
            company_logo: p.logo_url.clone(),
            product_category: p.category.clone(),
            sub_category: serde_json::from_str(&p.sub_categories).unwrap_or_default(),
            is_variant_of: p.is_variant_of.clone(),
            collection_name: p.collection_name.clone(),
            deal,
            can_promote: p.can_promote,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductsQuery {
    /// A marketplace such as `amazon.de` (case-insensitive, `www.` accepted), or `all`. Default `amazon.com`.
    #[param(pattern = "^(all|amazon\\.(com|ca|com\\.mx|co\\.uk|de|fr|it|es|nl))$")]
    marketplace: Option<String>,
    /// Legacy: a country code (`US`, `CA`, `MX`, `UK`/`GB`, `DE`, `FR`, `IT`, `ES`, `NL`), used when `marketplace` is absent.
    #[param(pattern = "^(US|CA|MX|UK|GB|DE|FR|IT|ES|NL)$")]
    country_code: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Rows to skip (default 0).
    #[param(minimum = 0, maximum = 2147483647)]
    skip: Option<i64>,
    /// 1-based page; when given, skip = (page − 1) · limit.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<i64>,
    /// `next_cursor` of the previous page; when given, `skip` and `page` are ignored.
    cursor: Option<String>,
    /// Case-insensitive match on title, brand name or ASIN (at most 200 characters).
    #[param(max_length = 200)]
    search: Option<String>,
    #[param(max_length = 200)]
    brand_id: Option<String>,
    /// `yes` (default), `no` or `either`.
    #[param(pattern = "^(yes|no|either)$")]
    product_available: Option<String>,
    /// **(Quiver)** `true`: only products the caller may promote now (`can_promote`);
    /// `false`: only those needing the brand's approval. Counts and pages follow the filter.
    #[param(pattern = "^(true|false)$")]
    promotable: Option<String>,
    /// **(Quiver)** `commission` (highest rate first), `rating` (highest first), `price`
    /// (lowest first) or `price_desc`; default: brand, ASIN, marketplace. Prices are
    /// compared in each marketplace's own currency, unconverted.
    #[param(pattern = "^(commission|rating|price|price_desc)$")]
    sort: Option<String>,
}

fn product_sort(value: Option<&str>) -> Result<ProductSort, ApiError> {
    match params::text(value).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(ProductSort::Catalog),
        Some("commission") => Ok(ProductSort::Commission),
        Some("rating") => Ok(ProductSort::Rating),
        Some("price") => Ok(ProductSort::Price),
        Some("price_desc") => Ok(ProductSort::PriceDesc),
        Some(_) => Err(ApiError::validation(
            "query",
            "sort",
            "Input should be 'commission', 'rating', 'price' or 'price_desc'",
            "enum",
        )),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductsPage {
    total_count: i64,
    fetched_count: usize,
    skip: i64,
    limit: i64,
    product_catalog: Vec<Product>,
    next_cursor: Option<String>,
}

/// List the catalog in a stable order (brand, ASIN, marketplace, or **(Quiver)** by `sort`):
/// every product of every listed brand, with `can_promote` telling where the caller has
/// access (**(Quiver)** `promotable` filters on it).
#[utoipa::path(get, path = "/getproducts", tag = "catalog", params(ProductsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ProductsPage),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = Unprocessable, description = "Bad `limit`, `skip`, `page`, `cursor`, `product_available`, `promotable` or `sort`; `search` or `brand_id` over 200 characters"),
    ))]
async fn get_products(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<ProductsQuery>,
) -> ApiResult<Json<ProductsPage>> {
    let selector = marketplace_selector(q.marketplace.as_deref(), q.country_code.as_deref(), true)?;
    let limit = paging::limit(q.limit)?;
    let available = availability(q.product_available.as_deref())?;
    let promotable = params::boolean("promotable", q.promotable.as_deref())?;
    let sort = product_sort(q.sort.as_deref())?;
    let mut keyset = Keyset::<ProductPosition>::new(&state.cursor_key, limit, q.cursor.as_deref())?;
    // A cursor resumes the order it was made in: one from another `sort` is refused.
    if keyset
        .after
        .as_ref()
        .is_some_and(|p| p.k.is_some() != (sort != ProductSort::Catalog))
    {
        return Err(ApiError::validation(
            "query",
            "cursor",
            "This cursor belongs to another sort order; start again without it",
            "value_error",
        ));
    }
    let (page, skip) = match keyset.after.take() {
        Some(after) => (Page::After(Some(after)), 0),
        None => {
            let skip = paging::offset(q.skip, q.page, limit)?;
            (Page::Offset(skip), skip)
        }
    };
    let filter = ProductFilter {
        marketplace: params::only(selector),
        brand_id: params::filter("brand_id", q.brand_id.as_deref(), MAX_TEXT_CHARS)?,
        search: params::filter("search", q.search.as_deref(), MAX_TEXT_CHARS)?,
        available,
        promotable,
        sort,
    };
    let (total, mut rows) = state
        .db
        .list_products(&who.account_id, &filter, &page, keyset.fetch())
        .await?;
    let next_cursor = keyset.next_cursor(&mut rows, |r| ProductPosition {
        b: r.brand_id.clone(),
        a: r.asin.clone(),
        m: r.marketplace.as_str().to_owned(),
        k: sort.value_of(r),
    });
    Ok(Json(ProductsPage {
        total_count: total,
        fetched_count: rows.len(),
        skip,
        limit,
        product_catalog: rows.iter().map(Product::from_row).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SingleProductQuery {
    /// Required. 10 letters or digits, any case.
    #[param(required = true, example = "B0D45KS7QM", pattern = "^[A-Za-z0-9]{10}$")]
    asin: Option<String>,
    /// Default `amazon.com`.
    #[param(pattern = "^amazon\\.(com|ca|com\\.mx|co\\.uk|de|fr|it|es|nl)$")]
    marketplace: Option<String>,
    /// Legacy alternative to `marketplace`.
    #[param(pattern = "^(US|CA|MX|UK|GB|DE|FR|IT|ES|NL)$")]
    country_code: Option<String>,
    /// `yes` (default), `no` or `either`.
    #[param(pattern = "^(yes|no|either)$")]
    product_available: Option<String>,
}

/// One product on one marketplace.
#[utoipa::path(get, path = "/get_single_product", tag = "catalog", params(SingleProductQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Product),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 404, body = Problem, description = "`product_not_found`"),
        (status = 422, body = Unprocessable, description = "`invalid_asin`, or a validation body when `asin` is missing"),
    ))]
async fn get_single_product(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<SingleProductQuery>,
) -> ApiResult<Json<Product>> {
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
    Ok(Json(Product::from_row(&product)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrandsQuery {
    #[param(minimum = 0, maximum = 2147483647)]
    skip: Option<i64>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Case-insensitive match on the brand or company name (at most 200 characters).
    #[param(max_length = 200)]
    search: Option<String>,
    /// Same as `search` (legacy).
    #[param(max_length = 200)]
    brand_name: Option<String>,
    #[param(max_length = 200)]
    brand_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BrandSummary {
    brand_id: String,
    brand_name: String,
    company_name: String,
    company_logo: String,
    /// `open` or `approval`.
    program_mode: String,
    /// Percent.
    default_commission: f64,
    can_promote: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BrandsPage {
    total_count: i64,
    fetched_count: usize,
    brands: Vec<BrandSummary>,
}

/// Legacy: every listed brand, with whether the caller may promote it.
#[utoipa::path(get, path = "/brands", tag = "catalog", params(BrandsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = BrandsPage),
        (status = 422, body = Unprocessable),
    ))]
async fn brands(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<BrandsQuery>,
) -> ApiResult<Json<BrandsPage>> {
    let limit = paging::limit(q.limit)?;
    let skip = paging::offset(q.skip, None, limit)?;
    // `brand_name` is read only when `search` is absent, as the legacy API did.
    let search = match q.search.as_deref() {
        Some(s) => params::filter("search", Some(s), MAX_TEXT_CHARS)?,
        None => params::filter("brand_name", q.brand_name.as_deref(), MAX_TEXT_CHARS)?,
    };
    let brand_id = params::filter("brand_id", q.brand_id.as_deref(), MAX_TEXT_CHARS)?;
    let (total, rows) = state
        .db
        .list_brands(&who.account_id, search, brand_id, skip, limit)
        .await?;
    let brands: Vec<BrandSummary> = rows
        .into_iter()
        .map(|(b, can_promote)| BrandSummary {
            default_commission: percent(b.default_commission_bps),
            brand_id: b.id,
            brand_name: b.name,
            company_name: b.company_name,
            company_logo: b.logo_url,
            program_mode: b.program_mode.as_str().to_owned(),
            can_promote,
        })
        .collect();
    Ok(Json(BrandsPage {
        total_count: total,
        fetched_count: brands.len(),
        brands,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    #[param(required = true, pattern = "^[A-Za-z0-9]{10}$")]
    asin: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckPassed {
    #[schema(example = "ASIN passed all checks")]
    success: &'static str,
}

/// Legacy: whether an amazon.com product exists, is available, and may be promoted by the caller.
#[utoipa::path(get, path = "/check_product", tag = "catalog", params(CheckQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = CheckPassed),
        (status = 406, body = Problem, description = "`not_available`"),
        (status = 422, body = Unprocessable, description = "`invalid_asin`, or a validation body when `asin` is missing"),
    ))]
async fn check_product(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<CheckQuery>,
) -> ApiResult<Json<CheckPassed>> {
    let asin = required_asin(q.asin.as_deref())?;
    match state
        .db
        .product_for(&who.account_id, asin.as_str(), Marketplace::Us)
        .await?
    {
        Some(p) if p.available && p.can_promote => Ok(Json(CheckPassed {
            success: "ASIN passed all checks",
        })),
        _ => Err(ApiError::NotAvailable),
    }
}
