//! **(Quiver)** The creator's side of the earnings lifecycle (issue #20): earnings per
//! month, brand and currency, statements with their lines and CSV, and where to be paid.

use std::collections::BTreeMap;

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, Publisher, Query};
use crate::http::objects::statement::{MAX_STATEMENTS, month_param, statement_csv, states_param};
use crate::http::params::{MAX_TEXT_CHARS, MAX_USERNAME_CHARS, at_most_chars};
use crate::objects::format::month_label;
use crate::objects::format::{iso_utc, money};
use crate::objects::statement::{Statement, StatementDetail};
use crate::state::AppState;
use crate::statements::StatementError;
use crate::store::statements::{StatementFilter, StatementRow, StatementState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(earnings))
        .routes(routes!(list_statements))
        .routes(routes!(statement))
        .routes(routes!(get_payout_details, put_payout_details))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EarningsQuery {
    /// First month, `YYYY-MM` (inclusive).
    start_month: Option<String>,
    /// Last month, `YYYY-MM` (inclusive).
    end_month: Option<String>,
}

/// What one brand owes the creator for one month in one currency, by state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EarningsRow {
    /// `YYYY-MM`.
    pub month: String,
    pub brand_id: String,
    pub brand_name: String,
    pub currency: String,
    /// Open statements: Amazon may still restate these.
    pub pending: f64,
    pub r#final: f64,
    pub approved: f64,
    pub paid: f64,
}

/// Newest month first, then brand and currency.
type EarningsKey = (std::cmp::Reverse<i32>, String, String);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Earnings {
    pub rows: Vec<EarningsRow>,
}

fn months(
    q_start: Option<&str>,
    q_end: Option<&str>,
) -> Result<(Option<i32>, Option<i32>), ApiError> {
    let start = month_param("start_month", q_start)?;
    let end = month_param("end_month", q_end)?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ApiError::validation(
            "query",
            "end_month",
            "end_month must not be before start_month",
            "value_error",
        ));
    }
    Ok((start, end))
}

/// **(Quiver)** Your earnings per month, brand and currency: `pending` (open statements),
/// `final`, `approved` and `paid` totals (commission plus adjustments; void ones left out).
#[utoipa::path(get, path = "/earnings", tag = "earnings", security(("bearer" = [])),
    params(EarningsQuery),
    responses(
        (status = 200, body = Earnings),
        (status = 422, body = Unprocessable, description = "A month that is not `YYYY-MM`"),
    ))]
async fn earnings(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<EarningsQuery>,
) -> ApiResult<JsonResponse<Earnings>> {
    let (start, end) = months(q.start_month.as_deref(), q.end_month.as_deref())?;
    let rows = state
        .db
        .statements(
            &StatementFilter {
                account_id: Some(who.account_id.clone()),
                start_month: start,
                end_month: end,
                ..StatementFilter::default()
            },
            i64::from(i32::MAX),
        )
        .await?;
    // Minor units per (month desc, brand, currency): pending, final, approved, paid.
    let mut sums: BTreeMap<EarningsKey, (String, [i64; 4])> = BTreeMap::new();
    for s in &rows {
        let slot = match s.state {
            StatementState::Open => 0,
            StatementState::Final => 1,
            StatementState::Approved => 2,
            StatementState::Paid => 3,
            StatementState::Void => continue,
        };
        let e = sums
            .entry((
                std::cmp::Reverse(s.month),
                s.brand_id.clone(),
                s.currency.clone(),
            ))
            .or_insert_with(|| (s.brand_name.clone(), [0; 4]));
        e.1[slot] += s.total();
    }
    Ok(JsonResponse(Earnings {
        rows: sums
            .into_iter()
            .map(|((m, brand_id, currency), (brand_name, v))| EarningsRow {
                month: month_label(m.0),
                brand_id,
                brand_name,
                currency,
                pending: money(v[0]),
                r#final: money(v[1]),
                approved: money(v[2]),
                paid: money(v[3]),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// First month, `YYYY-MM` (inclusive).
    start_month: Option<String>,
    /// Last month, `YYYY-MM` (inclusive).
    end_month: Option<String>,
    /// Comma-separated states: `open`, `final`, `approved`, `paid`, `void`.
    state: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatementList {
    pub statements: Vec<Statement>,
}

/// **(Quiver)** Your statements, newest month first (at most 500).
#[utoipa::path(get, path = "/statements", tag = "earnings", security(("bearer" = [])),
    params(StatementsQuery),
    responses(
        (status = 200, body = StatementList),
        (status = 422, body = Unprocessable, description = "A bad month or state"),
    ))]
async fn list_statements(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<StatementsQuery>,
) -> ApiResult<JsonResponse<StatementList>> {
    let (start, end) = months(q.start_month.as_deref(), q.end_month.as_deref())?;
    let rows = state
        .db
        .statements(
            &StatementFilter {
                account_id: Some(who.account_id.clone()),
                start_month: start,
                end_month: end,
                states: states_param(q.state.as_deref())?,
                ..StatementFilter::default()
            },
            MAX_STATEMENTS,
        )
        .await?;
    Ok(JsonResponse(StatementList {
        statements: rows.iter().map(Statement::from_row).collect(),
    }))
}

async fn own(state: &AppState, account_id: &str, id: &str) -> ApiResult<StatementRow> {
    Ok(state
        .db
        .statement(id, None, Some(account_id))
        .await?
        .ok_or_else(|| StatementError::NotFound(id.to_owned()))?)
}

/// **(Quiver)** One of your statements with its lines (halo included), adjustments and
/// history. Asked for as `/statements/{id}.csv` it is a CSV download instead: a `line`
/// row per report row, an `adjustment` row each, and a `total` row.
#[utoipa::path(get, path = "/statements/{id}", tag = "earnings", security(("bearer" = [])),
    params(("id" = String, Path, description = "A statement id; with `.csv` appended, the CSV")),
    responses(
        (status = 200, description = "The statement, or its CSV for `{id}.csv`", content(
            (StatementDetail = "application/json"),
            (String = "text/csv"),
        )),
        (status = 404, body = Problem, description = "`statement_not_found`"),
    ))]
async fn statement(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    // The router cannot match a parameter followed by a suffix in one segment.
    if let Some(id) = id.strip_suffix(".csv") {
        return csv_download(&state, &who.account_id, id).await;
    }
    let s = own(&state, &who.account_id, &id).await?;
    let lines = state.db.statement_lines(&s).await?;
    let adjustments = state.db.statement_adjustments(&s.id).await?;
    let events = state.db.statement_events(&s.id).await?;
    Ok(JsonResponse(StatementDetail::new(&s, &lines, &adjustments, &events)).into_response())
}

async fn csv_download(state: &AppState, account_id: &str, id: &str) -> ApiResult<Response> {
    let s = own(state, account_id, id).await?;
    let lines = state.db.statement_lines(&s).await?;
    let adjustments = state.db.statement_adjustments(&s.id).await?;
    let csv = statement_csv(&s, &lines, &adjustments).map_err(|e| ApiError::Internal(e.into()))?;
    let disposition = format!(
        "attachment; filename=\"quiver-statement-{}-{}.csv\"",
        month_label(s.month),
        s.id
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// Where you want to be paid.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayoutDetails {
    /// `paypal` or `other`.
    pub method: String,
    /// Required for `paypal`: the PayPal account's e-mail address.
    pub paypal_email: Option<String>,
    /// Required for `other`: how the brand pays you (account, IBAN...).
    pub reference: Option<String>,
    /// ISO 8601 UTC; ignored in a request.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// **(Quiver)** Your payout details, or 404 `payout_details_missing` before you set them.
#[utoipa::path(get, path = "/account/payout_details", tag = "earnings", security(("bearer" = [])),
    responses(
        (status = 200, body = PayoutDetails),
        (status = 404, body = Problem, description = "`payout_details_missing`"),
    ))]
async fn get_payout_details(
    State(state): State<AppState>,
    Publisher(who): Publisher,
) -> ApiResult<JsonResponse<PayoutDetails>> {
    let d = state
        .db
        .payout_details(&who.account_id)
        .await?
        .ok_or_else(|| ApiError::Missing {
            code: "payout_details_missing",
            detail: "You have not said where to be paid yet: PUT /account/payout_details".into(),
        })?;
    Ok(JsonResponse(PayoutDetails {
        method: d.method,
        paypal_email: d.paypal_email,
        reference: d.reference,
        updated_at: Some(iso_utc(d.updated_at)),
    }))
}

/// **(Quiver)** Sets where you are paid: `{"method": "paypal", "paypal_email": ...}` or
/// `{"method": "other", "reference": ...}`. Brands see a statement without them flagged,
/// and leave it out of payout files.
#[utoipa::path(put, path = "/account/payout_details", tag = "earnings", security(("bearer" = [])),
    request_body = PayoutDetails,
    responses(
        (status = 200, body = PayoutDetails),
        (status = 422, body = Unprocessable, description = "Unknown method, or its field missing or malformed"),
    ))]
async fn put_payout_details(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Json(body): Json<PayoutDetails>,
) -> ApiResult<JsonResponse<PayoutDetails>> {
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (email, reference) = (clean(&body.paypal_email), clean(&body.reference));
    match body.method.as_str() {
        "paypal" => {
            let e = email.as_deref().ok_or_else(|| {
                ApiError::validation(
                    "body",
                    "paypal_email",
                    "Field required for method paypal",
                    "missing",
                )
            })?;
            at_most_chars("body", "paypal_email", e, MAX_USERNAME_CHARS)?;
            let (local, domain) = e.split_once('@').unwrap_or_default();
            if local.is_empty() || !domain.contains('.') || e.contains([',', ' ', '"']) {
                return Err(ApiError::validation(
                    "body",
                    "paypal_email",
                    "Input should be an e-mail address",
                    "value_error",
                ));
            }
        }
        "other" => {
            let r = reference.as_deref().ok_or_else(|| {
                ApiError::validation(
                    "body",
                    "reference",
                    "Field required for method other",
                    "missing",
                )
            })?;
            at_most_chars("body", "reference", r, MAX_TEXT_CHARS)?;
        }
        _ => {
            return Err(ApiError::validation(
                "body",
                "method",
                "Input should be 'paypal' or 'other'",
                "enum",
            ));
        }
    }
    let (email, reference) = if body.method == "paypal" {
        (email, None)
    } else {
        (None, reference)
    };
    let now = now_ms();
    state
        .db
        .set_payout_details(
            &who.account_id,
            &body.method,
            email.as_deref(),
            reference.as_deref(),
            now,
        )
        .await?;
    Ok(JsonResponse(PayoutDetails {
        method: body.method,
        paypal_email: email,
        reference,
        updated_at: Some(iso_utc(now)),
    }))
}
