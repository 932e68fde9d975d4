//! **(Quiver)** `GET /reports/sources` and `GET /sellers/reports/sources`: Amazon's report
//! figures grouped by the `source` of the links they came through, per marketplace (each
//! in its own currency). The report listings keep their Archer row shape; this is the
//! grouped view beside them.

use axum::Json as JsonResponse;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, Problem, ValidationProblem};
use crate::http::extract::Query;
use crate::http::extract::{Publisher, Seller};
use crate::http::objects::source::query_label;
use crate::http::params::{date_range, marketplaces};
use crate::objects::format::{iso_day, money};
use crate::state::AppState;
use crate::store::reports::{ReportFilter, SourceOwner, SourceRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_sources))
        .routes(routes!(seller_report_sources))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourcesQuery {
    /// First day, inclusive: `YYYY-MM-DD` or `YYYYMMDD`.
    start: Option<String>,
    /// Last day, inclusive; at most 366 days after `start`.
    end: Option<String>,
    /// A marketplace or `all` (default).
    marketplace: Option<String>,
    /// Only this source.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
}

/// One source × marketplace.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceTotals {
    /// The links' `source`; null for links without one.
    pub source: Option<String>,
    pub marketplace: String,
    pub currency: String,
    pub clicks: i64,
    pub detail_page_views: i64,
    pub add_to_carts: i64,
    pub conversions: i64,
    pub units_sold: i64,
    pub sales: f64,
    /// Earned (creator) or paid (seller).
    pub commission: f64,
    /// Amazon's Brand Referral Bonus (seller only; 0 for a creator).
    pub brand_referral_bonus: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourcesReport {
    /// `YYYY-MM-DD`.
    pub start: String,
    pub end: String,
    /// Ordered by source (links without one first), then marketplace.
    pub rows: Vec<SourceTotals>,
}

async fn by_source(
    state: &AppState,
    owner: SourceOwner<'_>,
    q: &SourcesQuery,
) -> ApiResult<SourcesReport> {
    let (start, end) = date_range("start", q.start.as_deref(), "end", q.end.as_deref())?;
    let filter = ReportFilter {
        start,
        end,
        marketplaces: marketplaces(q.marketplace.as_deref(), None, None)?,
        source: query_label("source", q.source.as_deref())?,
        ..ReportFilter::default()
    };
    let seller = matches!(owner, SourceOwner::Seller(_));
    let rows = state.db.report_by_source(owner, &filter).await?;
    Ok(SourcesReport {
        start: iso_day(start),
        end: iso_day(end),
        rows: rows.into_iter().map(|r| totals(r, seller)).collect(),
    })
}

fn totals(r: SourceRow, seller: bool) -> SourceTotals {
    let m = r.marketplace;
    SourceTotals {
        source: Some(r.source).filter(|s| !s.is_empty()),
        marketplace: m.as_str().to_owned(),
        currency: m.currency().as_str().to_owned(),
        clicks: r.clicks,
        detail_page_views: r.dpv,
        add_to_carts: r.atc,
        conversions: r.purchases,
        units_sold: r.units,
        sales: money(r.sales),
        commission: money(r.commission),
        brand_referral_bonus: if seller { money(r.brb) } else { 0.0 },
    }
}

/// Your links' Amazon figures by source.
///
/// **(Quiver)** The `/reports` figures over the range summed per link `source` and
/// marketplace, brand-halo activity included, as Amazon reports them (a day or two late).
#[utoipa::path(get, path = "/reports/sources", tag = "reports", params(SourcesQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = SourcesReport),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates or range, or `source`"),
    ))]
async fn report_sources(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<SourcesQuery>,
) -> ApiResult<JsonResponse<SourcesReport>> {
    Ok(JsonResponse(
        by_source(&state, SourceOwner::Publisher(&who.account_id), &q).await?,
    ))
}

/// Your brands' Amazon figures by the source of creators' links.
///
/// **(Quiver)** The `/sellers/reports` figures over the range summed per `source` of the
/// creators' links they came through, and marketplace: which channels bring the traffic.
#[utoipa::path(get, path = "/sellers/reports/sources", tag = "sellers", params(SourcesQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = SourcesReport),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = ValidationProblem, description = "Bad dates or range, or `source`"),
    ))]
async fn seller_report_sources(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<SourcesQuery>,
) -> ApiResult<JsonResponse<SourcesReport>> {
    Ok(JsonResponse(
        by_source(&state, SourceOwner::Seller(&who.account_id), &q).await?,
    ))
}
