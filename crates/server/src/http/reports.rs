//! `GET /reports` (publisher) and `GET /sellers/reports` (seller), spec §5: daily facts
//! paged by keyset in a fixed order, with opaque cursors that stay valid while ingestion
//! changes values underneath.

use axum::Json as JsonResponse;
use axum::extract::State;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::today;
use crate::error::{ApiError, ApiResult, Problem, ValidationProblem};
use crate::http::extract::Query;
use crate::http::extract::{Publisher, Seller};
use crate::http::objects::report_row::{ReportRow, is_final};
use crate::http::paging::{self, Keyset};
use crate::http::params::{MAX_LIST_ITEMS, asins, date_range, list, marketplaces, text};
use crate::objects::format::{iso_day, money};
use crate::state::AppState;
use crate::store::reports::{PublisherKey, ReportFilter, SellerFactRow, SellerKey};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reports))
        .routes(routes!(seller_reports))
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
    /// Comma-separated sold ASINs (at most 500).
    asins: Option<String>,
    /// Comma-separated link ids (at most 500).
    link_ids: Option<String>,
    /// Comma-separated brand ids (at most 500).
    brand_ids: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Legacy: `US`, `NA`, `EU` or `FE` (nothing).
    geo: Option<String>,
    /// **(Quiver)** Rows of links with this `source` only.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
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
    /// Comma-separated ASINs (at most 500).
    asins: Option<String>,
    /// Comma-separated link ids (at most 500).
    link_ids: Option<String>,
    /// Comma-separated brand ids, at most 500 (only the seller's own brands ever appear).
    brand_ids: Option<String>,
    /// Comma-separated creator (publisher affiliate) ids (at most 500).
    creators: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Legacy: `US`, `NA`, `EU` or `FE` (nothing).
    geo: Option<String>,
    /// **(Quiver)** Only what came through creators' links with this `source`.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
}

impl SellerReportsQuery {
    /// The filters both reports share, and the seller's own `creators`.
    fn split(self) -> (ReportsQuery, Option<String>) {
        let shared = ReportsQuery {
            start: self.start,
            end: self.end,
            marketplace: self.marketplace,
            asins: self.asins,
            link_ids: self.link_ids,
            brand_ids: self.brand_ids,
            limit: self.limit,
            cursor: self.cursor,
            geo: self.geo,
            source: self.source,
        };
        (shared, self.creators)
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
        (status = 422, body = ValidationProblem, description = "Bad dates, range, `limit` or `cursor`, a list over 500 values, `source`; `invalid_asin`"),
    ))]
async fn reports(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<ReportsQuery>,
) -> ApiResult<JsonResponse<ReportPage>> {
    let (filter, page) = parse::<PubPos>(&state, &q)?;
    let after = page
        .after
        .as_ref()
        .map_or_else(PublisherKey::default, |p| PublisherKey {
            day: p.rd,
            link_id: p.rl.clone(),
            asin: p.ra.clone(),
        });
    let mut rows = state
        .db
        .publisher_report_page(&who.account_id, &filter, &after, page.fetch())
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |last| PubPos {
        rd: last.day,
        rl: last.link_id.clone(),
        ra: last.asin.clone(),
    });
    let total_count = state
        .db
        .publisher_report_count(&who.account_id, &filter)
        .await?;
    let today = today();
    let short_prefix = state.clicks.short_prefix(state.joining.public_url());
    let rows: Vec<ReportRow> = rows
        .into_iter()
        .map(|r| ReportRow::from_fact(r, today, &short_prefix))
        .collect();
    Ok(JsonResponse(ReportPage {
        total_count,
        fetched_count: rows.len(),
        rows,
        next_cursor,
    }))
}

/// The filters and the page both reports read the same way.
fn parse<P: Serialize + DeserializeOwned>(
    state: &AppState,
    q: &ReportsQuery,
) -> Result<(ReportFilter, Keyset<P>), ApiError> {
    let (start, end) = date_range("start", q.start.as_deref(), "end", q.end.as_deref())?;
    let limit = paging::limit(q.limit)?;
    let filter = ReportFilter {
        start,
        end,
        marketplaces: marketplaces(q.marketplace.as_deref(), q.geo.as_deref(), None)?,
        asins: asins(list("asins", q.asins.as_deref(), MAX_LIST_ITEMS)?)?,
        link_ids: list("link_ids", q.link_ids.as_deref(), MAX_LIST_ITEMS)?,
        brand_ids: list("brand_ids", q.brand_ids.as_deref(), MAX_LIST_ITEMS)?,
        source: crate::http::objects::source::query_label("source", q.source.as_deref())?,
        ..ReportFilter::default()
    };
    Ok((
        filter,
        Keyset::new(&state.cursor_key, limit, q.cursor.as_deref())?,
    ))
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
        (status = 422, body = ValidationProblem, description = "Bad dates, range, `limit` or `cursor`, a list over 500 values, `source`; `invalid_asin`"),
    ))]
async fn seller_reports(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<SellerReportsQuery>,
) -> ApiResult<JsonResponse<SellerReportPage>> {
    let (q, creators) = q.split();
    let (mut filter, page) = parse::<SellerPos>(&state, &q)?;
    let creator_ids = list("creators", creators.as_deref(), MAX_LIST_ITEMS)?;
    if text(creators.as_deref()).is_some() {
        filter.creators = Some(state.db.account_ids_by_public_ids(&creator_ids).await?);
    }
    let after = page
        .after
        .as_ref()
        .map_or_else(SellerKey::default, |p| SellerKey {
            day: p.sd,
            asin: p.sa.clone(),
            marketplace: p.sm.clone(),
            account_id: p.sc.clone(),
        });
    let mut rows = state
        .db
        .seller_report_page(&who.account_id, &filter, &after, page.fetch())
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |last| SellerPos {
        sd: last.day,
        sa: last.asin.clone(),
        sm: last.marketplace.as_str().to_owned(),
        sc: last.account_id.clone(),
    });
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
    let m = r.marketplace;
    SellerReportRow {
        creator: r.creator,
        brand_id: r.brand_id,
        brand_name: r.brand_name,
        asin: r.asin,
        date: iso_day(r.day),
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
