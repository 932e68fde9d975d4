//! Legacy report endpoints of the Archer API (spec §5), served from the same daily facts
//! as `/reports`. They page by page number over aggregated rows (at most 100 a page).

use axum::Json as JsonResponse;
use axum::extract::State;
use quiver_domain::{Asin, Marketplace, Money};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::today;
use crate::error::{ApiError, ApiResult, Problem, ValidationProblem};
use crate::http::extract::Publisher;
use crate::http::extract::{Json, Query, bounded};
use crate::http::objects::report_row::ReportRow;
use crate::http::paging::{Numbered, PaginationInfo};
use crate::http::params::{
    self, MAX_LIST_ITEMS, MAX_TEXT_CHARS, asins, boolean, date_range, list, marketplaces,
};
use crate::objects::format::{iso_day, money};
use crate::state::AppState;
use crate::store::reports::{LinkSort, PublisherKey, ReportFilter};

/// Rows a legacy single-ASIN or single-link lookup returns at most.
pub const MAX_LOOKUP_ROWS: i64 = 5000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(product_reports_all))
        .routes(routes!(link_data))
        .routes(routes!(aggregated_report))
        .routes(routes!(insights))
        .routes(routes!(single_asin_data))
        .routes(routes!(single_link_data))
}

/// `page` (default 1) of `limit` rows, 1–100 (default 100).
fn numbered(limit: Option<i64>, page: Option<i64>) -> Result<Numbered, ApiError> {
    Numbered::page(bounded("limit", limit, 100, 1, 100)?, page)
}

/// The range of days (under each endpoint's field names) every legacy report covers.
fn days(
    (start_field, start): (&str, &Option<String>),
    (end_field, end): (&str, &Option<String>),
) -> Result<ReportFilter, ApiError> {
    let (start, end) = date_range(start_field, start.as_deref(), end_field, end.as_deref())?;
    Ok(ReportFilter {
        start,
        end,
        ..ReportFilter::default()
    })
}

/// A minimum amount such as `10` or `10.50`, in minor units.
fn min_amount(field: &str, v: Option<&str>) -> Result<i64, ApiError> {
    match params::text(v) {
        None => Ok(0),
        Some(s) => Money::parse_amount(s)
            .map_err(|e| ApiError::validation("query", field, e.to_string(), "decimal_parsing")),
    }
}

fn min_count(field: &str, v: Option<i64>) -> Result<i64, ApiError> {
    bounded(field, v, 0, 0, i64::MAX)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductReportsQuery {
    /// `YYYYMMDD` (or `YYYY-MM-DD`).
    start_date: Option<String>,
    end_date: Option<String>,
    /// 1-based.
    page: Option<i64>,
    /// 1–100, default 100.
    limit: Option<i64>,
    asin: Option<String>,
    min_clicks: Option<i64>,
    /// Minimum sales, e.g. `10.50`.
    min_sales: Option<String>,
    /// `US` (default), `NA`, `EU` or `FE`.
    geo: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductReportRow {
    date: String,
    asin: String,
    marketplace: String,
    currency: String,
    product_name: String,
    link_name: String,
    total_clicks: i64,
    total_sales: f64,
    total_purchases: i64,
    total_units_sold: i64,
    commission_amount: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductReports {
    total_count: i64,
    data: Vec<ProductReportRow>,
    pagination_info: PaginationInfo,
}

/// Legacy: per day × ASIN × marketplace over your links.
#[utoipa::path(get, path = "/product_reports_all", tag = "reports", params(ProductReportsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ProductReports),
        (status = 400, body = Problem, description = "`unsupported_marketplace` (bad `geo`)"),
        (status = 422, body = ValidationProblem, description = "Bad dates, `page`, `limit` or minimums; `invalid_asin`"),
    ))]
async fn product_reports_all(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<ProductReportsQuery>,
) -> ApiResult<JsonResponse<ProductReports>> {
    let days = days(("start_date", &q.start_date), ("end_date", &q.end_date))?;
    let page = numbered(q.limit, q.page)?;
    let filter = ReportFilter {
        marketplaces: marketplaces(None, q.geo.as_deref(), Some(Marketplace::Us))?,
        asins: asins(list("asin", q.asin.as_deref(), MAX_LIST_ITEMS)?)?,
        ..days
    };
    let min_clicks = min_count("min_clicks", q.min_clicks)?;
    let min_sales = min_amount("min_sales", q.min_sales.as_deref())?;
    let (total, rows) = state
        .db
        .product_day_rows(
            &who.account_id,
            &filter,
            min_clicks,
            min_sales,
            page.offset,
            page.limit,
        )
        .await?;
    let data: Vec<ProductReportRow> = rows
        .into_iter()
        .map(|r| ProductReportRow {
            date: iso_day(r.day),
            currency: r.marketplace.currency().as_str().to_owned(),
            asin: r.asin,
            marketplace: r.marketplace.as_str().to_owned(),
            product_name: r.product_name,
            link_name: r.link_name,
            total_clicks: r.clicks,
            total_sales: money(r.sales),
            total_purchases: r.purchases,
            total_units_sold: r.units,
            commission_amount: money(r.commission),
        })
        .collect();
    Ok(JsonResponse(ProductReports {
        total_count: total,
        pagination_info: page.info(data.len(), total),
        data,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkDataQuery {
    /// `YYYYMMDD` (or `YYYY-MM-DD`).
    startdate: Option<String>,
    enddate: Option<String>,
    /// 0 clicks (default), 1 sales, 2 units, 3 purchases, 4 created time.
    sort: Option<i64>,
    /// `true` ascending; default `false` (descending).
    sort_order: Option<String>,
    minclicks: Option<i64>,
    /// Minimum sales, e.g. `10.50`.
    minsales: Option<String>,
    page: Option<i64>,
    /// 1–100, default 100.
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkInfo {
    link_name: String,
    asin: String,
    url: String,
    id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct LinkDataRow {
    link_info: LinkInfo,
    totalClickThroughs: i64,
    totalAttributedSales14d: f64,
    totalUnitsSold14d: i64,
    totalAttributedTotalPurchases14d: i64,
    commission_amount: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct LinkData {
    Links_Data: Vec<LinkDataRow>,
    pagination_info: PaginationInfo,
}

/// Legacy: totals per link over a range, sorted and filtered.
#[utoipa::path(get, path = "/link_data", tag = "reports", params(LinkDataQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = LinkData),
        (status = 422, body = ValidationProblem, description = "Bad dates, `sort`, `sort_order`, `page`, `limit` or minimums"),
    ))]
async fn link_data(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<LinkDataQuery>,
) -> ApiResult<JsonResponse<LinkData>> {
    let filter = days(("startdate", &q.startdate), ("enddate", &q.enddate))?;
    let page = numbered(q.limit, q.page)?;
    let sort = match bounded("sort", q.sort, 0, 0, 4)? {
        0 => LinkSort::Clicks,
        1 => LinkSort::Sales,
        2 => LinkSort::Units,
        3 => LinkSort::Purchases,
        _ => LinkSort::Created,
    };
    let ascending = boolean("sort_order", q.sort_order.as_deref())?.unwrap_or(false);
    let min_clicks = min_count("minclicks", q.minclicks)?;
    let min_sales = min_amount("minsales", q.minsales.as_deref())?;
    let (total, rows) = state
        .db
        .link_totals(
            &who.account_id,
            &filter,
            min_clicks,
            min_sales,
            sort,
            ascending,
            page.offset,
            page.limit,
        )
        .await?;
    let data: Vec<LinkDataRow> = rows
        .into_iter()
        .map(|r| LinkDataRow {
            link_info: LinkInfo {
                link_name: r.link_name,
                asin: r.asin,
                url: r.url,
                id: r.id,
            },
            totalClickThroughs: r.clicks,
            totalAttributedSales14d: money(r.sales),
            totalUnitsSold14d: r.units,
            totalAttributedTotalPurchases14d: r.purchases,
            commission_amount: money(r.commission),
        })
        .collect();
    Ok(JsonResponse(LinkData {
        pagination_info: page.info(data.len(), total),
        Links_Data: data,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregatedQuery {
    /// `YYYYMMDD` (or `YYYY-MM-DD`).
    startdate: Option<String>,
    enddate: Option<String>,
    /// One marketplace (so one currency); default `amazon.com`.
    marketplace: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Aggregated {
    marketplace: String,
    currency: String,
    clicks: i64,
    sales: f64,
    purchases: i64,
    units_sold: i64,
    commission_amount: f64,
    detail_page_views: i64,
    add_to_carts: i64,
}

/// Legacy: totals over all your links in one marketplace.
#[utoipa::path(get, path = "/aggregated_report", tag = "reports", params(AggregatedQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Aggregated),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates"),
    ))]
async fn aggregated_report(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<AggregatedQuery>,
) -> ApiResult<JsonResponse<Aggregated>> {
    let days = days(("startdate", &q.startdate), ("enddate", &q.enddate))?;
    let m = match params::text(q.marketplace.as_deref()) {
        Some(m) => Marketplace::parse(m)?,
        None => Marketplace::Us,
    };
    let filter = ReportFilter {
        marketplaces: Some(vec![m.as_str().to_owned()]),
        ..days
    };
    let t = state.db.publisher_totals(&who.account_id, &filter).await?;
    Ok(JsonResponse(Aggregated {
        marketplace: m.as_str().to_owned(),
        currency: m.currency().as_str().to_owned(),
        clicks: t.clicks,
        sales: money(t.sales),
        purchases: t.purchases,
        units_sold: t.units,
        commission_amount: money(t.commission),
        detail_page_views: t.dpv,
        add_to_carts: t.atc,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case)]
pub struct InsightsQuery {
    /// `YYYYMMDD` (or `YYYY-MM-DD`).
    start_date: Option<String>,
    end_date: Option<String>,
    page: Option<i64>,
    /// 1–100, default 100.
    limit: Option<i64>,
    productAsin: Option<String>,
    #[param(max_length = 200)]
    productCategory: Option<String>,
    /// A brand id or brand name.
    #[param(max_length = 200)]
    brand: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InsightRow {
    asin: String,
    marketplace: String,
    currency: String,
    product_name: String,
    brand_name: String,
    product_category: String,
    clicks: i64,
    purchases: i64,
    units_sold: i64,
    sales: f64,
    commission_amount: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Insights {
    total_count: i64,
    data: Vec<InsightRow>,
    pagination_info: PaginationInfo,
}

/// Legacy: totals per sold product and marketplace over a range.
#[utoipa::path(get, path = "/insights", tag = "reports", params(InsightsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Insights),
        (status = 422, body = ValidationProblem, description = "Bad dates, `page` or `limit`; `invalid_asin`"),
    ))]
async fn insights(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<InsightsQuery>,
) -> ApiResult<JsonResponse<Insights>> {
    let days = days(("start_date", &q.start_date), ("end_date", &q.end_date))?;
    let page = numbered(q.limit, q.page)?;
    let filter = ReportFilter {
        asins: asins(list(
            "productAsin",
            q.productAsin.as_deref(),
            MAX_LIST_ITEMS,
        )?)?,
        ..days
    };
    let (total, rows) = state
        .db
        .product_totals(
            &who.account_id,
            &filter,
            params::filter(
                "productCategory",
                q.productCategory.as_deref(),
                MAX_TEXT_CHARS,
            )?,
            params::filter("brand", q.brand.as_deref(), MAX_TEXT_CHARS)?,
            page.offset,
            page.limit,
        )
        .await?;
    let data: Vec<InsightRow> = rows
        .into_iter()
        .map(|r| InsightRow {
            currency: r.marketplace.currency().as_str().to_owned(),
            asin: r.asin,
            marketplace: r.marketplace.as_str().to_owned(),
            product_name: r.product_name,
            brand_name: r.brand_name,
            product_category: r.product_category,
            clicks: r.clicks,
            purchases: r.purchases,
            units_sold: r.units,
            sales: money(r.sales),
            commission_amount: money(r.commission),
        })
        .collect();
    Ok(JsonResponse(Insights {
        total_count: total,
        pagination_info: page.info(data.len(), total),
        data,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SingleAsinBody {
    asin: String,
    /// `YYYYMMDD` (or `YYYY-MM-DD`).
    start_date: String,
    end_date: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SingleLinkBody {
    #[schema(max_length = 200)]
    link_name: String,
    /// `YYYYMMDD` (or `YYYY-MM-DD`).
    start_date: String,
    end_date: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailyRows {
    /// Per link and day (and sold product), in `/reports` row form; at most 5000.
    data: Vec<ReportRow>,
}

fn body_range(start: &str, end: &str) -> Result<(i32, i32), ApiError> {
    date_range("start_date", Some(start), "end_date", Some(end)).map_err(|e| match e {
        ApiError::Validation(mut items) => {
            for i in &mut items {
                if let Some(first) = i.loc.first_mut() {
                    *first = "body".into();
                }
            }
            ApiError::Validation(items)
        }
        other => other,
    })
}

async fn daily_rows(
    state: &AppState,
    account_id: &str,
    filter: &ReportFilter,
) -> ApiResult<DailyRows> {
    let rows = state
        .db
        .publisher_report_page(
            account_id,
            filter,
            &PublisherKey::default(),
            MAX_LOOKUP_ROWS,
        )
        .await?;
    let today = today();
    let short_prefix = state.clicks.short_prefix(state.joining.public_url());
    Ok(DailyRows {
        data: rows
            .into_iter()
            .map(|r| ReportRow::from_fact(r, today, &short_prefix))
            .collect(),
    })
}

/// Legacy: daily rows of your links for one ASIN.
#[utoipa::path(post, path = "/single_asin_data", tag = "reports", request_body = SingleAsinBody, security(("bearer" = [])),
    responses(
        (status = 200, body = DailyRows),
        (status = 422, body = ValidationProblem, description = "Malformed body or dates; `invalid_asin`"),
    ))]
async fn single_asin_data(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Json(b): Json<SingleAsinBody>,
) -> ApiResult<JsonResponse<DailyRows>> {
    let (start, end) = body_range(&b.start_date, &b.end_date)?;
    let asin = Asin::parse(&b.asin)?;
    let filter = ReportFilter {
        start,
        end,
        link_asin: Some(asin.as_str().to_owned()),
        ..ReportFilter::default()
    };
    Ok(JsonResponse(
        daily_rows(&state, &who.account_id, &filter).await?,
    ))
}

/// Legacy: daily rows of your links with this name (case-insensitive).
#[utoipa::path(post, path = "/single_link_data", tag = "reports", request_body = SingleLinkBody, security(("bearer" = [])),
    responses(
        (status = 200, body = DailyRows),
        (status = 422, body = ValidationProblem, description = "Malformed body or dates"),
    ))]
async fn single_link_data(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Json(b): Json<SingleLinkBody>,
) -> ApiResult<JsonResponse<DailyRows>> {
    let (start, end) = body_range(&b.start_date, &b.end_date)?;
    let link_name = params::at_most_chars(
        "body",
        "link_name",
        b.link_name.trim(),
        params::MAX_LINK_NAME_CHARS,
    )?;
    let filter = ReportFilter {
        start,
        end,
        link_name: Some(link_name.to_owned()),
        ..ReportFilter::default()
    };
    Ok(JsonResponse(
        daily_rows(&state, &who.account_id, &filter).await?,
    ))
}
