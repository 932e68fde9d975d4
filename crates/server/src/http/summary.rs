//! **(Quiver)** `GET /reports/summary` and `GET /sellers/reports/summary`: the funnel of a
//! report filter totalled and broken down by the server, per currency, with the previous
//! period of equal length, so no client sums raw daily rows.

use std::collections::BTreeMap;

use axum::Json as JsonResponse;
use axum::extract::State;
use quiver_domain::{Marketplace, format_iso};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::{day_number, day_of_number, today};
use crate::error::{ApiError, ApiResult, Problem, ValidationProblem};
use crate::http::extract::Query;
use crate::http::extract::{Publisher, Seller};
use crate::http::objects::report_row::{RESTATEMENT_DAYS, is_final};
use crate::http::objects::source::query_label;
use crate::http::params::{MAX_LIST_ITEMS, asins, date_range, list, marketplaces};
use crate::objects::format::{iso_day, money};
use crate::state::AppState;
use crate::store::reports::ReportFilter;
use crate::store::summary::{SummaryFactRow, SummaryGroup, SummaryOwner};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(seller_summary))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First day, inclusive: `YYYY-MM-DD` or `YYYYMMDD`.
    start: Option<String>,
    /// Last day, inclusive; at most 366 days after `start`.
    end: Option<String>,
    /// `day` (default), `link`, `product`, `marketplace`, `brand` or **(Quiver)** `source`
    /// (the links' source; key empty for links without one).
    group_by: Option<String>,
    /// A marketplace or `all` (default).
    marketplace: Option<String>,
    /// Comma-separated sold ASINs.
    asins: Option<String>,
    /// Comma-separated link ids.
    link_ids: Option<String>,
    /// Comma-separated brand ids.
    brand_ids: Option<String>,
    /// Legacy: `US`, `NA`, `EU` or `FE` (nothing).
    geo: Option<String>,
    /// **(Quiver)** Only what came through links with this `source`.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellerSummaryQuery {
    /// First day, inclusive: `YYYY-MM-DD` or `YYYYMMDD`.
    start: Option<String>,
    /// Last day, inclusive; at most 366 days after `start`.
    end: Option<String>,
    /// `day` (default), `creator`, `product`, `marketplace`, `brand` or **(Quiver)**
    /// `source` (the source of the creators' links; key empty for links without one).
    group_by: Option<String>,
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
    /// Legacy: `US`, `NA`, `EU` or `FE` (nothing).
    geo: Option<String>,
    /// **(Quiver)** Only what came through creators' links with this `source`.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
}

/// The money of one currency: never converted, never mixed with another.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct CurrencyFigures {
    pub currency: String,
    /// Clicks in this currency's marketplaces, for earnings per click.
    pub clicks: i64,
    pub purchases: i64,
    /// Two decimals; the exact sum of the rows' minor units.
    pub sales: f64,
    /// Commission earned (creator) or paid (brand).
    pub commission: f64,
    /// Brand summaries only: Amazon's Brand Referral Bonus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_referral_bonus: Option<f64>,
}

/// Every funnel figure of a group (or of the whole period), with money per currency.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    pub clicks: i64,
    pub detail_page_views: i64,
    pub add_to_carts: i64,
    pub purchases: i64,
    pub units_sold: i64,
    /// One entry per currency, in currency order.
    pub money: Vec<CurrencyFigures>,
}

/// One breakdown row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    /// The day (`YYYY-MM-DD`), link id, ASIN, marketplace, brand id, creator affiliate id
    /// or link source (empty for links without one).
    pub key: String,
    /// A name for the key: link name, product title, brand name or creator display name;
    /// empty for days and marketplaces.
    pub label: String,
    /// Link rows: the link's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Day rows: false while Amazon may still restate the day.
    #[serde(rename = "final", skip_serializing_if = "Option::is_none")]
    pub is_final: Option<bool>,
    #[serde(flatten)]
    pub funnel: Funnel,
}

/// The period before the requested one, of equal length, for comparison.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviousPeriod {
    pub start: String,
    pub end: String,
    pub totals: Funnel,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportSummary {
    pub start: String,
    pub end: String,
    pub group_by: String,
    /// The sum of every row (exact per currency).
    pub totals: Funnel,
    /// Ordered by key; each group appears once with its currencies inside.
    pub rows: Vec<SummaryRow>,
    pub previous: PreviousPeriod,
    /// When the last report ingestion covering these brands finished (RFC 3339); null
    /// before the first one.
    pub data_as_of: Option<String>,
    /// The first day of the range Amazon may still restate (`final: false` in
    /// `/reports`); null when every day is final.
    pub provisional_from: Option<String>,
    /// Seller summaries only: each of your brands, its Amazon connection and its own
    /// last ingestion (whatever the filter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brands: Option<Vec<BrandData>>,
}

/// A brand's Amazon connection as it exists today, and when its data last arrived.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BrandData {
    pub brand_id: String,
    pub brand_name: String,
    /// `brand`: the brand connected its own Amazon Ads account in at least one region
    /// (see `GET /sellers/brands/{brand_id}/amazon` for each region's status);
    /// `platform`: the operator configured the brand's Amazon account(s) with the platform's
    /// own credentials (CLI); `none`: no Amazon account yet, so no report data arrives.
    #[schema(example = "platform")]
    pub amazon: String,
    /// How many Amazon accounts (regions) the brand has.
    pub amazon_accounts: i64,
    /// When the last report ingestion for this brand finished (RFC 3339); null before one.
    pub data_as_of: Option<String>,
}

fn rfc3339(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

fn parse_group(
    value: Option<&str>,
    allowed: &[(&str, SummaryGroup)],
) -> Result<(String, SummaryGroup), ApiError> {
    let v = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("day");
    allowed
        .iter()
        .find(|(name, _)| *name == v)
        .map(|(name, g)| ((*name).to_owned(), *g))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
            ApiError::validation(
                "query",
                "group_by",
                format!("group_by must be one of {}", names.join(", ")),
                "enum",
            )
        })
}

fn currency_of(marketplace: Marketplace) -> String {
    marketplace.currency().as_str().to_owned()
}

/// Minor-unit sums of one currency while folding.
#[derive(Default)]
struct Acc {
    clicks: i64,
    purchases: i64,
    sales: i64,
    commission: i64,
    brb: i64,
}

#[derive(Default)]
struct FunnelAcc {
    clicks: i64,
    dpv: i64,
    atc: i64,
    purchases: i64,
    units: i64,
    money: BTreeMap<String, Acc>,
}

impl FunnelAcc {
    fn add(&mut self, r: &SummaryFactRow) {
        self.clicks += r.clicks;
        self.dpv += r.dpv;
        self.atc += r.atc;
        self.purchases += r.purchases;
        self.units += r.units;
        let m = self.money.entry(currency_of(r.marketplace)).or_default();
        m.clicks += r.clicks;
        m.purchases += r.purchases;
        m.sales += r.sales;
        m.commission += r.commission;
        m.brb += r.brb;
    }

    fn finish(self, with_brb: bool) -> Funnel {
        Funnel {
            clicks: self.clicks,
            detail_page_views: self.dpv,
            add_to_carts: self.atc,
            purchases: self.purchases,
            units_sold: self.units,
            money: self
                .money
                .into_iter()
                .map(|(currency, m)| CurrencyFigures {
                    currency,
                    clicks: m.clicks,
                    purchases: m.purchases,
                    sales: money(m.sales),
                    commission: money(m.commission),
                    brand_referral_bonus: with_brb.then(|| money(m.brb)),
                })
                .collect(),
        }
    }
}

/// The period of equal length just before `start..=end`.
fn previous_range(start: i32, end: i32) -> Option<(Date, Date)> {
    let (s, e) = (day_of_number(start)?, day_of_number(end)?);
    let len = (e - s).whole_days() + 1;
    let prev_end = s.previous_day()?;
    Some((prev_end - time::Duration::days(len - 1), prev_end))
}

async fn build(
    state: &AppState,
    owner: SummaryOwner<'_>,
    filter: ReportFilter,
    (group_name, group): (String, SummaryGroup),
    with_brb: bool,
) -> ApiResult<ReportSummary> {
    let rows = state.db.report_summary(owner, &filter, group).await?;
    let today = today();
    let mut totals = FunnelAcc::default();
    // Rows come ordered by key, then marketplace: consecutive rows of a key are one group.
    let mut groups: Vec<(SummaryFactRow, FunnelAcc)> = Vec::new();
    for r in rows {
        totals.add(&r);
        match groups.last_mut() {
            Some((first, acc)) if first.key == r.key => acc.add(&r),
            _ => {
                let mut acc = FunnelAcc::default();
                acc.add(&r);
                groups.push((r, acc));
            }
        }
    }
    let rows = groups
        .into_iter()
        .map(|(first, acc)| {
            let (key, is_final) = match group {
                SummaryGroup::Day => {
                    let day: i32 = first.key.parse().unwrap_or_default();
                    (iso_day(day), Some(is_final(day, today)))
                }
                _ => (first.key, None),
            };
            SummaryRow {
                key,
                label: first.label,
                url: (group == SummaryGroup::Link).then_some(first.detail),
                is_final,
                funnel: acc.finish(with_brb),
            }
        })
        .collect();
    let (prev_start, prev_end) = previous_range(filter.start, filter.end).ok_or_else(|| {
        ApiError::validation(
            "query",
            "start",
            "The range starts too early",
            "value_error",
        )
    })?;
    let prev_filter = ReportFilter {
        start: day_number(prev_start),
        end: day_number(prev_end),
        ..filter.clone()
    };
    let mut previous = FunnelAcc::default();
    for r in state
        .db
        .report_summary(owner, &prev_filter, SummaryGroup::Marketplace)
        .await?
    {
        previous.add(&r);
    }
    let data_as_of = state.db.data_as_of(owner).await?.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
    });
    let first_provisional = day_number(today - time::Duration::days(RESTATEMENT_DAYS));
    let provisional_from =
        (first_provisional <= filter.end).then(|| iso_day(first_provisional.max(filter.start)));
    Ok(ReportSummary {
        start: iso_day(filter.start),
        end: iso_day(filter.end),
        group_by: group_name,
        totals: totals.finish(with_brb),
        rows,
        previous: PreviousPeriod {
            start: format_iso(prev_start),
            end: format_iso(prev_end),
            totals: previous.finish(with_brb),
        },
        data_as_of,
        provisional_from,
        brands: None,
    })
}

/// **(Quiver)** Your links' funnel totalled and broken down by the server.
///
/// The same filters as `/reports`, `source` included; `group_by=source` breaks the funnel
/// down by the links' source. Totals are exact per currency: the sum, in minor units,
/// of the very rows `/reports` returns for the filter. `previous` holds the totals of the
/// period of equal length just before `start`.
#[utoipa::path(get, path = "/reports/summary", tag = "reports", params(SummaryQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ReportSummary),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates, range, `group_by` or `source`; `invalid_asin`"),
    ))]
async fn summary(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<SummaryQuery>,
) -> ApiResult<JsonResponse<ReportSummary>> {
    let (start, end) = date_range("start", q.start.as_deref(), "end", q.end.as_deref())?;
    let group = parse_group(
        q.group_by.as_deref(),
        &[
            ("day", SummaryGroup::Day),
            ("link", SummaryGroup::Link),
            ("product", SummaryGroup::Product),
            ("marketplace", SummaryGroup::Marketplace),
            ("brand", SummaryGroup::Brand),
            ("source", SummaryGroup::Source),
        ],
    )?;
    let filter = ReportFilter {
        start,
        end,
        marketplaces: marketplaces(q.marketplace.as_deref(), q.geo.as_deref(), None)?,
        asins: asins(list("asins", q.asins.as_deref(), MAX_LIST_ITEMS)?)?,
        link_ids: list("link_ids", q.link_ids.as_deref(), MAX_LIST_ITEMS)?,
        brand_ids: list("brand_ids", q.brand_ids.as_deref(), MAX_LIST_ITEMS)?,
        source: query_label("source", q.source.as_deref())?,
        ..ReportFilter::default()
    };
    let owner = SummaryOwner::Publisher(&who.account_id);
    Ok(JsonResponse(
        build(&state, owner, filter, group, false).await?,
    ))
}

/// **(Quiver)** Your brands' funnel totalled and broken down by the server.
///
/// The same filters as `/sellers/reports`; by day, creator (named), product, marketplace,
/// brand or the source of the creators' links. Totals are exact per currency, the Brand Referral Bonus included.
#[utoipa::path(get, path = "/sellers/reports/summary", tag = "sellers", params(SellerSummaryQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ReportSummary),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates, range, `group_by` or `source`; `invalid_asin`"),
    ))]
async fn seller_summary(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<SellerSummaryQuery>,
) -> ApiResult<JsonResponse<ReportSummary>> {
    let (start, end) = date_range("start", q.start.as_deref(), "end", q.end.as_deref())?;
    let group = parse_group(
        q.group_by.as_deref(),
        &[
            ("day", SummaryGroup::Day),
            ("creator", SummaryGroup::Creator),
            ("product", SummaryGroup::Product),
            ("marketplace", SummaryGroup::Marketplace),
            ("brand", SummaryGroup::Brand),
            ("source", SummaryGroup::Source),
        ],
    )?;
    let creators = match q
        .creators
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => Some(
            state
                .db
                .account_ids_by_public_ids(&list("creators", Some(c), MAX_LIST_ITEMS)?)
                .await?,
        ),
        None => None,
    };
    let filter = ReportFilter {
        start,
        end,
        marketplaces: marketplaces(q.marketplace.as_deref(), q.geo.as_deref(), None)?,
        asins: asins(list("asins", q.asins.as_deref(), MAX_LIST_ITEMS)?)?,
        link_ids: list("link_ids", q.link_ids.as_deref(), MAX_LIST_ITEMS)?,
        brand_ids: list("brand_ids", q.brand_ids.as_deref(), MAX_LIST_ITEMS)?,
        creators,
        source: query_label("source", q.source.as_deref())?,
        ..ReportFilter::default()
    };
    let owner = SummaryOwner::Seller(&who.account_id);
    let mut summary = build(&state, owner, filter, group, true).await?;
    let brands = state.db.brand_ingestion(&who.account_id).await?;
    summary.brands = Some(
        brands
            .into_iter()
            .map(|b| BrandData {
                amazon: if b.own_accounts > 0 {
                    "brand"
                } else if b.accounts > 0 {
                    "platform"
                } else {
                    "none"
                }
                .to_owned(),
                amazon_accounts: b.accounts + b.own_accounts,
                data_as_of: b.last_success_at.and_then(rfc3339),
                brand_id: b.brand_id,
                brand_name: b.brand_name,
            })
            .collect(),
    );
    Ok(JsonResponse(summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_period_has_the_same_length() {
        let (s, e) = previous_range(20260301, 20260331).unwrap();
        assert_eq!((day_number(s), day_number(e)), (20260129, 20260228));
        let (s, e) = previous_range(20260101, 20260101).unwrap();
        assert_eq!((day_number(s), day_number(e)), (20251231, 20251231));
    }
}
