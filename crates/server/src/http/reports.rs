//! `GET /reports` (publisher) and `GET /sellers/reports` (seller), spec §5: daily facts
//! paged by keyset in a fixed order, with opaque cursors that stay valid while ingestion
//! changes values underneath.

use axum::Json as JsonResponse;
use axum::extract::State;
use quiver_domain::{
    Asin, Cursor, Geo, Marketplace, MarketplaceSelector, format_iso, parse_report_date,
};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem, ValidationProblem};
use crate::http::extract::Query;
use crate::http::extract::{Publisher, Seller};
use crate::http::paging;
use crate::state::AppState;
use crate::store::reports::{
    PublisherFactRow, PublisherKey, ReportFilter, SellerFactRow, SellerKey,
};

// Declared here rather than in http/mod.rs so the legacy endpoints travel with /reports.
#[path = "legacy_reports.rs"]
pub mod legacy;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reports))
        .routes(routes!(seller_reports))
        .merge(legacy::router())
}

/// Days Amazon may still restate; a row is `final` once its day is older.
pub const RESTATEMENT_DAYS: i64 = 28;
/// The longest range a report may span, both ends included.
pub const MAX_SPAN_DAYS: i64 = 366;

/// Money as a JSON number with two decimals.
pub fn money(minor: i64) -> f64 {
    minor as f64 / 100.0
}

pub fn day_int(d: Date) -> i32 {
    d.year() * 10000 + i32::from(u8::from(d.month())) * 100 + i32::from(d.day())
}

pub fn int_day(v: i32) -> Option<Date> {
    parse_report_date(&format!("{v:08}")).ok()
}

pub fn iso_of(v: i32) -> String {
    int_day(v).map(format_iso).unwrap_or_default()
}

pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Whether Amazon has stopped restating `day`.
pub fn is_final(day: i32, today: Date) -> bool {
    int_day(day).is_some_and(|d| (today - d).whole_days() > RESTATEMENT_DAYS)
}

/// Parses a required report date (`YYYY-MM-DD` or `YYYYMMDD`); 422 naming the field.
pub fn report_date(field: &str, value: Option<&str>) -> Result<Date, ApiError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(ApiError::Validation(vec![
            crate::error::FieldError::missing("query", field),
        ]));
    };
    parse_report_date(v)
        .map_err(|e| ApiError::validation("query", field, e.to_string(), "date_parsing"))
}

/// Start and end (inclusive), in order and at most 366 days apart.
pub fn date_range(
    start_field: &str,
    start: Option<&str>,
    end_field: &str,
    end: Option<&str>,
) -> Result<(i32, i32), ApiError> {
    let s = report_date(start_field, start)?;
    let e = report_date(end_field, end)?;
    if s > e {
        return Err(ApiError::validation(
            "query",
            start_field,
            format!("{start_field} must not be after {end_field}"),
            "value_error",
        ));
    }
    if (e - s).whole_days() + 1 > MAX_SPAN_DAYS {
        return Err(ApiError::validation(
            "query",
            end_field,
            format!("The range may span at most {MAX_SPAN_DAYS} days"),
            "value_error",
        ));
    }
    Ok((day_int(s), day_int(e)))
}

/// Comma-separated values, trimmed, empties dropped; `None` when nothing is left.
pub fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn asin_list(value: Option<&str>) -> Result<Vec<String>, ApiError> {
    list(value)
        .iter()
        .map(|a| {
            Asin::parse(a)
                .map(|a| a.as_str().to_owned())
                .map_err(ApiError::from)
        })
        .collect()
}

/// `marketplace` (default all) or the legacy `geo`: `None` means every marketplace.
pub fn marketplaces(
    marketplace: Option<&str>,
    geo: Option<&str>,
    default: Option<Marketplace>,
) -> Result<Option<Vec<String>>, ApiError> {
    let to_strings = |ms: Vec<Marketplace>| ms.into_iter().map(|m| m.as_str().to_owned()).collect();
    let marketplace = marketplace.map(str::trim).filter(|s| !s.is_empty());
    let geo = geo.map(str::trim).filter(|s| !s.is_empty());
    Ok(match (marketplace, geo) {
        (Some(m), _) => match MarketplaceSelector::parse(m)? {
            MarketplaceSelector::All => None,
            MarketplaceSelector::One(m) => Some(vec![m.as_str().to_owned()]),
        },
        (None, Some(g)) => Some(to_strings(Geo::parse(g)?.marketplaces())),
        (None, None) => default.map(|m| vec![m.as_str().to_owned()]),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// First day, inclusive: `YYYY-MM-DD` or `YYYYMMDD`.
    start: Option<String>,
    /// Last day, inclusive; at most 366 days after `start`.
    end: Option<String>,
    /// A marketplace or `all` (default).
    marketplace: Option<String>,
    /// Comma-separated sold ASINs.
    asins: Option<String>,
    /// Comma-separated link ids.
    link_ids: Option<String>,
    /// Comma-separated brand ids.
    brand_ids: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Legacy: `US`, `NA`, `EU` or `FE` (nothing).
    geo: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellerReportsQuery {
    /// First day, inclusive: `YYYY-MM-DD` or `YYYYMMDD`.
    start: Option<String>,
    /// Last day, inclusive; at most 366 days after `start`.
    end: Option<String>,
    /// A marketplace or `all` (default).
    marketplace: Option<String>,
    /// Comma-separated ASINs.
    asins: Option<String>,
    /// Comma-separated link ids.
    link_ids: Option<String>,
    /// Comma-separated brand ids (only the seller's own brands ever appear).
    brand_ids: Option<String>,
    /// Comma-separated creator (publisher affiliate) ids.
    creators: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Legacy: `US`, `NA`, `EU` or `FE` (nothing).
    geo: Option<String>,
}

/// The link a report row belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportLink {
    pub id: String,
    pub link_name: String,
    pub url: String,
    pub active: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub marketplace: String,
    pub asin: String,
    pub product_name: String,
}

/// One day × link × sold product. `asin` ≠ `link.asin` is brand-halo activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub asin: String,
    #[serde(rename = "product_name")]
    pub product_name: String,
    #[serde(rename = "brand_id")]
    pub brand_id: String,
    #[serde(rename = "brand_name")]
    pub brand_name: String,
    pub marketplace: String,
    #[serde(rename = "country_code")]
    pub country_code: String,
    pub currency: String,
    pub clicks: i64,
    pub detail_page_views: i64,
    pub add_to_carts: i64,
    pub conversions: i64,
    pub purchases: i64,
    pub units_sold: i64,
    /// Attributed sales in the marketplace's currency.
    pub sales: f64,
    pub commission_earned: f64,
    pub link: ReportLink,
    /// **(Quiver)** false while Amazon may still restate the day (last 28 days).
    #[serde(rename = "final")]
    pub is_final: bool,
}

impl ReportRow {
    pub fn from_fact(r: PublisherFactRow, today: Date) -> Self {
        let m = Marketplace::parse(&r.marketplace).unwrap_or(Marketplace::Us);
        let lm = Marketplace::parse(&r.link_marketplace).unwrap_or(m);
        Self {
            date: iso_of(r.day),
            asin: r.asin,
            product_name: r.product_name,
            brand_id: r.brand_id,
            brand_name: r.brand_name,
            marketplace: m.as_str().to_owned(),
            country_code: m.country_code().to_owned(),
            currency: m.currency().as_str().to_owned(),
            clicks: r.clicks,
            detail_page_views: r.dpv,
            add_to_carts: r.atc,
            conversions: r.purchases,
            purchases: r.purchases,
            units_sold: r.units,
            sales: money(r.sales),
            commission_earned: money(r.commission),
            link: ReportLink {
                id: r.link_id,
                link_name: r.link_name,
                url: r.url,
                active: r.active,
                kind: "product".to_owned(),
                marketplace: lm.as_str().to_owned(),
                asin: r.link_asin,
                product_name: r.link_product_name,
            },
            is_final: is_final(r.day, today),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportPage {
    /// Rows matching the query, all pages together.
    pub total_count: i64,
    pub fetched_count: usize,
    pub rows: Vec<ReportRow>,
    /// Pass back as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SellerReportRow {
    /// The publisher's public affiliate id.
    pub creator: String,
    #[serde(rename = "brand_id")]
    pub brand_id: String,
    #[serde(rename = "brand_name")]
    pub brand_name: String,
    pub asin: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub marketplace: String,
    #[serde(rename = "country_code")]
    pub country_code: String,
    pub currency: String,
    pub clicks: i64,
    pub detail_page_views: i64,
    pub add_to_carts: i64,
    pub conversions: i64,
    pub units_sold: i64,
    /// Sales of this product through the creator's links, brand halo included.
    pub sales: f64,
    pub commission_paid: f64,
    /// Amazon's Brand Referral Bonus, on the linked product's rows only.
    pub brand_referral_bonus: f64,
    #[serde(rename = "final")]
    pub is_final: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SellerReportPage {
    pub total_count: i64,
    pub fetched_count: usize,
    pub rows: Vec<SellerReportRow>,
    pub next_cursor: Option<String>,
}

/// Publisher keyset position, private to `/reports`.
#[derive(Serialize, Deserialize)]
struct PubPos {
    rd: i32,
    rl: String,
    ra: String,
}

/// Seller keyset position, private to `/sellers/reports`.
#[derive(Serialize, Deserialize)]
struct SellerPos {
    sd: i32,
    sa: String,
    sm: String,
    sc: String,
}

/// Daily performance of your links.
///
/// One row per day × link × sold product, ordered by date, link id, then ASIN. A row whose
/// `asin` differs from `link.asin` is brand-halo activity. Commission is the sold product's
/// rate in force that day, rounded per row. Cursors stay valid while data changes.
#[utoipa::path(get, path = "/reports", tag = "reports", params(ReportsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ReportPage),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates, range, `limit` or `cursor`; `invalid_asin`"),
    ))]
async fn reports(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<ReportsQuery>,
) -> ApiResult<JsonResponse<ReportPage>> {
    let (start, end) = date_range("start", q.start.as_deref(), "end", q.end.as_deref())?;
    let limit = paging::limit(q.limit)?;
    let filter = ReportFilter {
        start,
        end,
        marketplaces: marketplaces(q.marketplace.as_deref(), q.geo.as_deref(), None)?,
        asins: asin_list(q.asins.as_deref())?,
        link_ids: list(q.link_ids.as_deref()),
        brand_ids: list(q.brand_ids.as_deref()),
        ..ReportFilter::default()
    };
    let after = match q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            let p: PubPos = Cursor::decode(c).map_err(|_| paging::bad_cursor())?;
            PublisherKey {
                day: p.rd,
                link_id: p.rl,
                asin: p.ra,
            }
        }
        None => PublisherKey::default(),
    };
    let mut rows = state
        .db
        .publisher_report_page(&who.account_id, &filter, &after, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(Cursor::encode(&PubPos {
            rd: last.day,
            rl: last.link_id.clone(),
            ra: last.asin.clone(),
        })),
        _ => None,
    };
    let total_count = state
        .db
        .publisher_report_count(&who.account_id, &filter)
        .await?;
    let today = today();
    let rows: Vec<ReportRow> = rows
        .into_iter()
        .map(|r| ReportRow::from_fact(r, today))
        .collect();
    Ok(JsonResponse(ReportPage {
        total_count,
        fetched_count: rows.len(),
        rows,
        next_cursor,
    }))
}

/// Daily performance of your brands' products, per creator.
///
/// One row per day × product × marketplace × creator over your brands only, ordered by
/// date, ASIN, marketplace, then creator. `sales` includes brand-halo purchases of the
/// product; `brandReferralBonus` appears on the linked product's rows only.
#[utoipa::path(get, path = "/sellers/reports", tag = "sellers", params(SellerReportsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = SellerReportPage),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates, range, `limit` or `cursor`; `invalid_asin`"),
    ))]
async fn seller_reports(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<SellerReportsQuery>,
) -> ApiResult<JsonResponse<SellerReportPage>> {
    let (start, end) = date_range("start", q.start.as_deref(), "end", q.end.as_deref())?;
    let limit = paging::limit(q.limit)?;
    let creators = match q
        .creators
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => Some(state.db.account_ids_by_public_ids(&list(Some(c))).await?),
        None => None,
    };
    let filter = ReportFilter {
        start,
        end,
        marketplaces: marketplaces(q.marketplace.as_deref(), q.geo.as_deref(), None)?,
        asins: asin_list(q.asins.as_deref())?,
        link_ids: list(q.link_ids.as_deref()),
        brand_ids: list(q.brand_ids.as_deref()),
        creators,
        ..ReportFilter::default()
    };
    let after = match q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            let p: SellerPos = Cursor::decode(c).map_err(|_| paging::bad_cursor())?;
            SellerKey {
                day: p.sd,
                asin: p.sa,
                marketplace: p.sm,
                account_id: p.sc,
            }
        }
        None => SellerKey::default(),
    };
    let mut rows = state
        .db
        .seller_report_page(&who.account_id, &filter, &after, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(Cursor::encode(&SellerPos {
            sd: last.day,
            sa: last.asin.clone(),
            sm: last.marketplace.clone(),
            sc: last.account_id.clone(),
        })),
        _ => None,
    };
    let total_count = state
        .db
        .seller_report_count(&who.account_id, &filter)
        .await?;
    let today = today();
    let rows: Vec<SellerReportRow> = rows.into_iter().map(|r| seller_row(r, today)).collect();
    Ok(JsonResponse(SellerReportPage {
        total_count,
        fetched_count: rows.len(),
        rows,
        next_cursor,
    }))
}

fn seller_row(r: SellerFactRow, today: Date) -> SellerReportRow {
    let m = Marketplace::parse(&r.marketplace).unwrap_or(Marketplace::Us);
    SellerReportRow {
        creator: r.creator,
        brand_id: r.brand_id,
        brand_name: r.brand_name,
        asin: r.asin,
        date: iso_of(r.day),
        marketplace: m.as_str().to_owned(),
        country_code: m.country_code().to_owned(),
        currency: m.currency().as_str().to_owned(),
        clicks: r.clicks,
        detail_page_views: r.dpv,
        add_to_carts: r.atc,
        conversions: r.purchases,
        units_sold: r.units,
        sales: money(r.sales),
        commission_paid: money(r.commission),
        brand_referral_bonus: money(r.brb),
        is_final: is_final(r.day, today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(
            date_range("start", Some("2026-01-01"), "end", Some("20260131")).ok(),
            Some((20260101, 20260131))
        );
        assert!(date_range("start", Some("2026-02-01"), "end", Some("2026-01-31")).is_err());
        assert!(date_range("start", Some("2025-01-01"), "end", Some("2026-01-01")).is_ok());
        assert!(date_range("start", Some("2024-01-01"), "end", Some("2024-12-31")).is_ok());
        assert!(date_range("start", Some("2024-01-01"), "end", Some("2025-01-01")).is_err());
        assert!(date_range("start", Some("2026-13-01"), "end", Some("2026-01-01")).is_err());
        assert!(date_range("start", None, "end", Some("2026-01-01")).is_err());
    }

    #[test]
    fn finality_follows_the_restatement_window() {
        let today = date!(2026 - 03 - 31);
        assert!(!is_final(20260303, today));
        assert!(is_final(20260302, today));
    }
}
