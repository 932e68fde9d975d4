//! `/_sim/*`: the controls tests, benchmarks and the demo drive the simulator with.
//! Never authenticated, never faulted.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use quiver_domain::{Asin, Marketplace, Money, format_iso, parse_report_date};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::attribution_url;
use crate::catalog::{self, Product};
use crate::config::{Faults, FaultsPatch};
use crate::error::ApiError;
use crate::state::SimState;
use crate::traffic::LineKey;
use crate::truth::{self, TruthResponse};

pub fn router() -> Router<SimState> {
    Router::new()
        .route("/faults", get(get_faults).put(put_faults))
        .route("/clock", get(get_clock).put(put_clock))
        .route("/visits", post(post_visits))
        .route("/catalog", post(post_catalog))
        .route("/truth", get(get_truth))
        .route("/requests", get(get_requests))
        .route("/health", get(|| async { "ok" }))
        .route("/users", get(get_users))
        .route("/users/{login}/revoke", post(post_revoke))
        .route("/oauth/expire-codes", post(post_expire_codes))
}

/// Parses a JSON body into a 400 MaaSError instead of axum's plain-text rejection.
fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

/// The simulated Amazon users with their profiles and advertisers.
async fn get_users(State(state): State<SimState>) -> Json<Vec<crate::users::SimUser>> {
    Json(crate::users::users(state.seed()))
}

#[derive(Serialize)]
struct Revoked {
    login: String,
    grants_revoked: usize,
}

/// The user withdraws Quiver's access (as in Amazon's "Login with Amazon" settings): the
/// next refresh of any of its tokens is `invalid_grant`.
async fn post_revoke(
    State(state): State<SimState>,
    axum::extract::Path(login): axum::extract::Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    if crate::users::user(state.seed(), &login).is_none() {
        return Err(ApiError::NotFound(format!("No simulated user '{login}'")));
    }
    let grants_revoked = state.revoke_user(&login);
    Ok(Json(Revoked {
        login,
        grants_revoked,
    }))
}

/// Every authorisation code issued so far now counts as expired (no need to wait 5 min).
async fn post_expire_codes(State(state): State<SimState>) -> axum::http::StatusCode {
    state.expire_codes();
    axum::http::StatusCode::NO_CONTENT
}

async fn get_faults(State(state): State<SimState>) -> Json<Faults> {
    Json(state.faults())
}

async fn put_faults(State(state): State<SimState>, body: Bytes) -> Result<Json<Faults>, ApiError> {
    let patch: FaultsPatch = json(&body)?;
    let next = state
        .faults()
        .patched(&patch)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.set_faults(next.clone());
    Ok(Json(next))
}

#[derive(Serialize, Deserialize)]
struct Clock {
    /// `null` on PUT follows the real UTC date again.
    today: Option<String>,
}

async fn get_clock(State(state): State<SimState>) -> Json<Clock> {
    Json(Clock {
        today: Some(format_iso(state.today())),
    })
}

async fn put_clock(State(state): State<SimState>, body: Bytes) -> Result<Json<Clock>, ApiError> {
    let clock: Clock = json(&body)?;
    match clock.today {
        Some(s) => state
            .set_today(parse_report_date(&s).map_err(|e| ApiError::bad_request(e.to_string()))?),
        None => state.clear_today(),
    }
    Ok(Json(Clock {
        today: Some(format_iso(state.today())),
    }))
}

#[derive(Debug, Clone, Deserialize)]
pub struct VisitRequest {
    pub url: String,
    /// `YYYY-MM-DD` (or `YYYYMMDD`); today when absent.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default = "one")]
    pub clicks: u64,
}

fn one() -> u64 {
    1
}

/// What a visit was credited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitRecorded {
    pub advertiser_id: String,
    pub campaign_id: String,
    pub ad_group_id: String,
    pub creative_id: String,
    pub publisher: String,
    pub marketplace: String,
    pub asin: String,
    pub date: String,
    /// The line's clicks on that day after this visit.
    pub clicks: u64,
}

/// More clicks than this in one call is a typo, not a campaign.
pub const MAX_CLICKS_PER_VISIT: u64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitError {
    #[error("invalid attribution URL: {0}")]
    Url(#[from] attribution_url::UrlError),
    #[error("{0}")]
    Date(#[from] quiver_domain::InvalidDate),
    #[error("clicks must be at most {MAX_CLICKS_PER_VISIT}")]
    TooManyClicks,
}

/// Records `clicks` shopper clicks on an attribution URL on `date`.
pub fn record_visit(
    state: &SimState,
    url: &str,
    date: Option<Date>,
    clicks: u64,
) -> Result<VisitRecorded, VisitError> {
    if clicks > MAX_CLICKS_PER_VISIT {
        return Err(VisitError::TooManyClicks);
    }
    let parsed = attribution_url::parse(url, &state.config().publisher_id)?;
    let date = date.unwrap_or_else(|| state.today());
    let key = LineKey {
        advertiser_id: parsed.advertiser_id,
        campaign_id: parsed.campaign_id,
        ad_group_id: parsed.ad_group_id,
        creative_id: parsed.creative_id,
        publisher: parsed.publisher,
        marketplace: parsed.marketplace,
        asin: parsed.asin,
    };
    let seed = state.seed();
    let snapshot = || {
        let catalog = state.catalog();
        let product = catalog
            .get(&key.advertiser_id, key.marketplace, &key.asin)
            .cloned()
            .unwrap_or_else(|| Product {
                name: catalog::synthetic_name(&key.asin),
                price_minor: catalog::synthetic_price_minor(seed, key.marketplace, &key.asin),
            });
        let halo = catalog.halo_candidates(
            seed,
            &key.advertiser_id,
            &key.ad_group_id,
            key.marketplace,
            &key.asin,
        );
        (product, halo)
    };
    // Zero clicks records nothing: a line-day exists only once someone clicked.
    let total = if clicks == 0 {
        state.traffic().clicks(date, &key)
    } else {
        // Taken before the write lock, so the catalog and traffic locks never nest.
        let snap = snapshot();
        state
            .traffic_mut()
            .record(date, key.clone(), clicks, || snap)
    };
    Ok(VisitRecorded {
        advertiser_id: key.advertiser_id,
        campaign_id: key.campaign_id,
        ad_group_id: key.ad_group_id,
        creative_id: key.creative_id,
        publisher: key.publisher,
        marketplace: key.marketplace.as_str().to_owned(),
        asin: key.asin.as_str().to_owned(),
        date: format_iso(date),
        clicks: total,
    })
}

async fn post_visits(
    State(state): State<SimState>,
    body: Bytes,
) -> Result<Json<VisitRecorded>, ApiError> {
    let req: VisitRequest = json(&body)?;
    let date = req
        .date
        .as_deref()
        .map(parse_report_date)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    record_visit(&state, &req.url, date, req.clicks)
        .map(Json)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A JSON value clients send either as a string or as a number (ids, prices).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Loose {
    Text(String),
    Number(serde_json::Number),
}

impl Loose {
    fn text(&self) -> String {
        match self {
            Self::Text(s) => s.trim().to_owned(),
            Self::Number(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogRequest {
    pub advertiser_id: Loose,
    pub products: Vec<CatalogProduct>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogProduct {
    pub asin: String,
    pub marketplace: String,
    #[serde(default)]
    pub name: Option<String>,
    pub price: Loose,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogResponse {
    advertiser_id: String,
    registered: usize,
    total: usize,
}

/// A price cap that keeps every derived sales figure far from overflowing.
pub const MAX_PRICE_MINOR: i64 = 100_000_000;

/// Registers (or replaces) an advertiser's products; all-or-nothing on invalid input.
pub fn register_catalog(
    state: &SimState,
    req: &CatalogRequest,
) -> Result<(String, usize, usize), ApiError> {
    let advertiser_id = req.advertiser_id.text();
    if advertiser_id.is_empty() || !advertiser_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "advertiserId must be a numeric advertiser id",
        ));
    }
    let mut products = Vec::with_capacity(req.products.len());
    for (i, p) in req.products.iter().enumerate() {
        let asin = Asin::parse(&p.asin)
            .map_err(|e| ApiError::bad_request(format!("products[{i}]: {e}")))?;
        let marketplace = Marketplace::parse(&p.marketplace)
            .map_err(|e| ApiError::bad_request(format!("products[{i}]: {e}")))?;
        let price_minor = Money::parse_amount(&p.price.text())
            .ok()
            .filter(|minor| *minor <= MAX_PRICE_MINOR)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "products[{i}]: price must be a decimal from 0 to 1000000.00 with at most 2 decimals"
                ))
            })?;
        let name = p
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or_else(|| catalog::synthetic_name(&asin), str::to_owned);
        products.push((marketplace, asin, Product { name, price_minor }));
    }
    let registered = products.len();
    let total = state.catalog_mut().register(&advertiser_id, products);
    Ok((advertiser_id, registered, total))
}

async fn post_catalog(
    State(state): State<SimState>,
    body: Bytes,
) -> Result<Json<CatalogResponse>, ApiError> {
    let req: CatalogRequest = json(&body)?;
    let (advertiser_id, registered, total) = register_catalog(&state, &req)?;
    Ok(Json(CatalogResponse {
        advertiser_id,
        registered,
        total,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TruthQuery {
    advertiser_id: String,
    start: String,
    end: String,
}

async fn get_truth(
    State(state): State<SimState>,
    query: Result<Query<TruthQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TruthResponse>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::bad_request(format!("advertiserId, start and end are required: {e}"))
    })?;
    let start = parse_report_date(&q.start).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let end = parse_report_date(&q.end).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if start > end {
        return Err(ApiError::bad_request("start must not be after end"));
    }
    Ok(Json(truth::truth(&state, &q.advertiser_id, start, end)))
}

#[derive(Serialize)]
struct Requests {
    count: u64,
}

async fn get_requests(State(state): State<SimState>) -> Json<Requests> {
    Json(Requests {
        count: state.request_count(),
    })
}
