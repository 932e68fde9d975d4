//! **(Quiver)** Quiver's own click counts of short URLs: `GET /links/{id}/clicks` and
//! `GET /clicks` for the creator, `GET /sellers/clicks` for a brand's own products. These
//! are counted by Quiver as shoppers follow `short_url`, a few seconds behind at most, and
//! are never mixed into Amazon's `clicks` of `/reports`.

use std::collections::BTreeMap;

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clicks::classify::Reason;
use crate::clock::today;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Publisher, Query, Seller};
use crate::http::objects::source::query_label;
use crate::http::params::{self, MAX_LIST_ITEMS, MAX_SPAN_DAYS, list};
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::clicks::{ClickFilter, ClickGroup, ClickScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(link_clicks))
        .routes(routes!(clicks))
        .routes(routes!(seller_clicks))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkClicksQuery {
    /// First day (UTC), inclusive: `YYYY-MM-DD`. Default: 6 days before `end`.
    start: Option<String>,
    /// Last day (UTC), inclusive. Default: today.
    end: Option<String>,
    /// `hour` (default), `day`, `device`, `referrer`, `country` or `source`.
    #[param(pattern = "^(hour|day|device|referrer|country|source)$")]
    group_by: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClicksQuery {
    /// First day (UTC), inclusive: `YYYY-MM-DD`. Default: 6 days before `end`.
    start: Option<String>,
    /// Last day (UTC), inclusive. Default: today.
    end: Option<String>,
    /// `day` (default), `hour`, `link`, `device`, `referrer`, `country` or `source`; for
    /// `/sellers/clicks` also `creator` and `product`, and not `link`.
    group_by: Option<String>,
    /// Comma-separated link ids (at most 500).
    link_ids: Option<String>,
    /// Links with this `source` only.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
}

/// Requests not counted, by why.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Filtered {
    /// Bots and crawlers (a user agent on the `isbot` list, or none).
    pub bot: i64,
    /// Link-preview fetchers (Slack, Discord, X, Facebook, WhatsApp, Telegram, iMessage,
    /// LinkedIn, ...).
    pub preview: i64,
    /// `Purpose: prefetch` or `Sec-Purpose: prefetch`.
    pub prefetch: i64,
    /// `HEAD` requests.
    pub head: i64,
    /// The same client again within the repeat window (30 s).
    pub repeat: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClickRow {
    /// The group: an ISO 8601 hour or day start, a device class (`mobile`, `tablet`,
    /// `desktop`), a referrer host (`direct` without one), a country code (`unknown`
    /// without one), a source (`""` for links without one), a link id, a creator id or an
    /// ASIN.
    pub key: String,
    pub clicks: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClickReport {
    /// The link, on `/links/{id}/clicks` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub start: String,
    pub end: String,
    pub group_by: String,
    /// Counted clicks in the range (the rows' sum).
    pub total: i64,
    pub filtered: Filtered,
    pub rows: Vec<ClickRow>,
}

/// The range as epoch ms `[start, end)` and its days as text.
fn range(start: Option<&str>, end: Option<&str>) -> ApiResult<(i64, i64, Date, Date)> {
    let end_day = match params::text(end) {
        Some(_) => params::report_date("end", end)?,
        None => today(),
    };
    let start_day = match params::text(start) {
        Some(_) => params::report_date("start", start)?,
        None => end_day - Duration::days(6),
    };
    if start_day > end_day {
        return Err(ApiError::validation(
            "query",
            "start",
            "start must not be after end",
            "value_error",
        ));
    }
    if (end_day - start_day).whole_days() + 1 > MAX_SPAN_DAYS {
        return Err(ApiError::validation(
            "query",
            "end",
            format!("The range may span at most {MAX_SPAN_DAYS} days"),
            "value_error",
        ));
    }
    let ms = |d: Date| d.midnight().assume_utc().unix_timestamp() * 1000;
    Ok((
        ms(start_day),
        ms(end_day + Duration::days(1)),
        start_day,
        end_day,
    ))
}

fn group(
    raw: Option<&str>,
    default: ClickGroup,
    allowed: &[(&str, ClickGroup)],
) -> ApiResult<(String, ClickGroup)> {
    let Some(v) = params::text(raw) else {
        let name = allowed
            .iter()
            .find(|(_, g)| *g == default)
            .map_or("", |(n, _)| *n);
        return Ok((name.to_owned(), default));
    };
    allowed
        .iter()
        .find(|(n, _)| *n == v)
        .map(|(n, g)| ((*n).to_owned(), *g))
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

const COMMON: [(&str, ClickGroup); 6] = [
    ("hour", ClickGroup::Hour),
    ("day", ClickGroup::Day),
    ("device", ClickGroup::Device),
    ("referrer", ClickGroup::Referrer),
    ("country", ClickGroup::Country),
    ("source", ClickGroup::Source),
];

async fn report(
    state: &AppState,
    filter: &ClickFilter<'_>,
    (name, g): (String, ClickGroup),
    days: (Date, Date),
) -> ApiResult<ClickReport> {
    let grouped = state.db.clicks_grouped(filter, g).await?;
    let by_reason: BTreeMap<String, i64> = state
        .db
        .clicks_filtered(filter)
        .await?
        .into_iter()
        .collect();
    let of = |r: Reason| by_reason.get(r.as_str()).copied().unwrap_or(0);
    let rows: Vec<ClickRow> = grouped
        .into_iter()
        .map(|r| ClickRow {
            key: match g {
                ClickGroup::Hour | ClickGroup::Day => iso_utc(r.n_key),
                _ => r.t_key,
            },
            clicks: r.clicks,
        })
        .collect();
    Ok(ClickReport {
        link_id: None,
        start: days.0.to_string(),
        end: days.1.to_string(),
        group_by: name,
        total: rows.iter().map(|r| r.clicks).sum(),
        filtered: Filtered {
            bot: of(Reason::Bot),
            preview: of(Reason::Preview),
            prefetch: of(Reason::Prefetch),
            head: of(Reason::Head),
            repeat: of(Reason::Repeat),
        },
        rows,
    })
}

/// **(Quiver)** Clicks on one of your links' short URL, grouped.
#[utoipa::path(get, path = "/links/{id}/clicks", tag = "clicks", params(("id" = String, Path), LinkClicksQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ClickReport),
        (status = 404, body = Problem, description = "`not_found`"),
        (status = 422, body = Unprocessable, description = "Bad dates or range, or `group_by`"),
    ))]
async fn link_clicks(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
    Query(q): Query<LinkClicksQuery>,
) -> ApiResult<JsonResponse<ClickReport>> {
    let (start, end, s, e) = range(q.start.as_deref(), q.end.as_deref())?;
    let g = group(q.group_by.as_deref(), ClickGroup::Hour, &COMMON)?;
    if state.db.link_of(&who.account_id, &id).await?.is_none() {
        return Err(ApiError::NotFound(format!("Link not found: {id}")));
    }
    let ids = [id.clone()];
    let filter = ClickFilter {
        scope: ClickScope::Account(&who.account_id),
        start,
        end,
        link_ids: &ids,
        source: None,
    };
    let mut r = report(&state, &filter, g, (s, e)).await?;
    r.link_id = Some(id);
    Ok(JsonResponse(r))
}

/// **(Quiver)** Clicks on your links' short URLs, grouped, optionally for some links or one
/// source.
#[utoipa::path(get, path = "/clicks", tag = "clicks", params(ClicksQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ClickReport),
        (status = 422, body = Unprocessable, description = "Bad dates or range, `group_by`, `source`, or over 500 `link_ids`"),
    ))]
async fn clicks(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<ClicksQuery>,
) -> ApiResult<JsonResponse<ClickReport>> {
    let (start, end, s, e) = range(q.start.as_deref(), q.end.as_deref())?;
    let mut allowed = COMMON.to_vec();
    allowed.push(("link", ClickGroup::Link));
    let g = group(q.group_by.as_deref(), ClickGroup::Day, &allowed)?;
    let link_ids = list("link_ids", q.link_ids.as_deref(), MAX_LIST_ITEMS)?;
    let source = query_label("source", q.source.as_deref())?;
    let filter = ClickFilter {
        scope: ClickScope::Account(&who.account_id),
        start,
        end,
        link_ids: &link_ids,
        source: source.as_deref(),
    };
    Ok(JsonResponse(report(&state, &filter, g, (s, e)).await?))
}

/// **(Quiver)** Clicks on creators' short URLs to your brands' products, grouped by
/// `creator` (default), `product`, `day`, `source` and the rest.
#[utoipa::path(get, path = "/sellers/clicks", tag = "clicks", params(ClicksQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ClickReport),
        (status = 422, body = Unprocessable, description = "Bad dates or range, `group_by`, `source`, or over 500 `link_ids`"),
    ))]
async fn seller_clicks(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<ClicksQuery>,
) -> ApiResult<JsonResponse<ClickReport>> {
    let (start, end, s, e) = range(q.start.as_deref(), q.end.as_deref())?;
    let mut allowed = COMMON.to_vec();
    allowed.push(("creator", ClickGroup::Creator));
    allowed.push(("product", ClickGroup::Product));
    let g = group(q.group_by.as_deref(), ClickGroup::Creator, &allowed)?;
    let link_ids = list("link_ids", q.link_ids.as_deref(), MAX_LIST_ITEMS)?;
    let source = query_label("source", q.source.as_deref())?;
    let filter = ClickFilter {
        scope: ClickScope::Seller(&who.account_id),
        start,
        end,
        link_ids: &link_ids,
        source: source.as_deref(),
    };
    Ok(JsonResponse(report(&state, &filter, g, (s, e)).await?))
}
