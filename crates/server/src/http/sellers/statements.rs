//! **(Quiver)** The brand's side of the earnings lifecycle (issue #20): statements by
//! month and creator, adjustments, approval, void, and payouts with their export files.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::actor;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, Query, Seller};
use crate::http::objects::statement::{MAX_STATEMENTS, month_param, states_param};
use crate::http::params::{MAX_LIST_ITEMS, MAX_TEXT_CHARS, at_most_chars, list};
use crate::jobs::csv::neutralise;
use crate::objects::format::month_label;
use crate::objects::format::{iso_utc, money};
use crate::objects::statement::{Statement, StatementDetail, decimal};
use crate::state::AppState;
use crate::statements::StatementError;
use crate::statements::payouts::{self, NewPayout};
use crate::store::statements::{StatementFilter, StatementRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_statements))
        .routes(routes!(statement))
        .routes(routes!(add_adjustment))
        .routes(routes!(approve))
        .routes(routes!(void))
        .routes(routes!(create_payout))
        .routes(routes!(payout))
        .routes(routes!(export_payout))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellerStatementsQuery {
    /// `YYYY-MM`.
    month: Option<String>,
    /// Comma-separated states: `open`, `final`, `approved`, `paid`, `void`.
    state: Option<String>,
    /// Comma-separated creator affiliate ids (at most 500).
    creators: Option<String>,
}

/// Amazon's Brand Referral Bonus for a brand and month: credited by Amazon to the brand,
/// an estimate until Amazon pays it, and never part of a creator's statement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BonusEstimate {
    pub brand_id: String,
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    pub estimate: f64,
}

/// A statement as the brand sees it: flagged when the creator has no payout details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SellerStatement {
    #[serde(flatten)]
    pub statement: Statement,
    pub payout_details_missing: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SellerStatementList {
    pub statements: Vec<SellerStatement>,
    /// Per brand and month of the listed statements.
    pub brand_referral_bonus: Vec<BonusEstimate>,
}

async fn details_missing(state: &AppState, s: &StatementRow) -> ApiResult<bool> {
    Ok(state.db.payout_details(&s.account_id).await?.is_none())
}

/// **(Quiver)** Your brands' statements (at most 500), newest month first, with each
/// month's Brand Referral Bonus estimate.
#[utoipa::path(get, path = "/sellers/statements", tag = "sellers", security(("bearer" = [])),
    params(SellerStatementsQuery),
    responses(
        (status = 200, body = SellerStatementList),
        (status = 422, body = Unprocessable, description = "A bad month, state or creators list"),
    ))]
async fn list_statements(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<SellerStatementsQuery>,
) -> ApiResult<JsonResponse<SellerStatementList>> {
    let month = month_param("month", q.month.as_deref())?;
    let creators = list("creators", q.creators.as_deref(), MAX_LIST_ITEMS)?;
    let rows = state
        .db
        .statements(
            &StatementFilter {
                seller_id: Some(who.account_id.clone()),
                month,
                states: states_param(q.state.as_deref())?,
                creators: (!creators.is_empty()).then_some(creators),
                ..StatementFilter::default()
            },
            MAX_STATEMENTS,
        )
        .await?;
    let mut months: Vec<i32> = rows.iter().map(|r| r.month).collect();
    months.sort_unstable();
    months.dedup();
    let bonus = state
        .db
        .brand_referral_bonus(&who.account_id, &months)
        .await?;
    let mut statements = Vec::with_capacity(rows.len());
    for r in &rows {
        statements.push(SellerStatement {
            statement: Statement::from_row(r),
            payout_details_missing: details_missing(&state, r).await?,
        });
    }
    Ok(JsonResponse(SellerStatementList {
        statements,
        brand_referral_bonus: bonus
            .into_iter()
            .map(|b| BonusEstimate {
                brand_id: b.brand_id,
                month: month_label(b.month),
                currency: b.currency,
                estimate: money(b.brb),
            })
            .collect(),
    }))
}

async fn own(state: &AppState, seller_id: &str, id: &str) -> ApiResult<StatementRow> {
    Ok(state
        .db
        .statement(id, Some(seller_id), None)
        .await?
        .ok_or_else(|| StatementError::NotFound(id.to_owned()))?)
}

async fn detail(state: &AppState, s: &StatementRow) -> ApiResult<StatementDetail> {
    let lines = state.db.statement_lines(s).await?;
    let adjustments = state.db.statement_adjustments(&s.id).await?;
    let events = state.db.statement_events(&s.id).await?;
    let mut d = StatementDetail::new(s, &lines, &adjustments, &events);
    d.payout_details_missing = Some(details_missing(state, s).await?);
    Ok(d)
}

/// **(Quiver)** One of your brands' statements with lines, adjustments and history.
#[utoipa::path(get, path = "/sellers/statements/{id}", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "A statement id")),
    responses(
        (status = 200, body = StatementDetail),
        (status = 404, body = Problem, description = "`statement_not_found` (another seller's too)"),
    ))]
async fn statement(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<StatementDetail>> {
    let s = own(&state, &who.account_id, &id).await?;
    Ok(JsonResponse(detail(&state, &s).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAdjustment {
    /// Minor units (cents), positive (a bonus) or negative (a correction); not 0, at most
    /// 10^12 either way.
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub amount_minor: i64,
    /// Why: shown to the creator. Required, at most 200 characters.
    pub reason: String,
}

fn reason(field: &str, value: &str) -> ApiResult<String> {
    let r = value.trim();
    if r.is_empty() {
        return Err(ApiError::validation(
            "body",
            field,
            "A reason is required",
            "missing",
        ));
    }
    Ok(at_most_chars("body", field, r, MAX_TEXT_CHARS)?.to_owned())
}

/// **(Quiver)** Adds an adjustment to a final statement, before it is approved.
#[utoipa::path(post, path = "/sellers/statements/{id}/adjustments", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "A statement id")),
    request_body = NewAdjustment,
    responses(
        (status = 201, body = StatementDetail),
        (status = 404, body = Problem, description = "`statement_not_found`"),
        (status = 409, body = Problem, description = "`statement_open`, `statement_approved`, `statement_paid` or `statement_void`"),
        (status = 422, body = Unprocessable, description = "Amount 0 or out of range, or no reason"),
    ))]
async fn add_adjustment(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
    Json(body): Json<NewAdjustment>,
) -> ApiResult<(StatusCode, JsonResponse<StatementDetail>)> {
    // A limit far above any statement keeps every sum inside i64; `unsigned_abs` because
    // `abs` of i64::MIN overflows.
    const MAX_ADJUSTMENT: u64 = 1_000_000_000_000;
    if body.amount_minor == 0 || body.amount_minor.unsigned_abs() > MAX_ADJUSTMENT {
        return Err(ApiError::validation(
            "body",
            "amount_minor",
            "Input should be a non-zero amount in minor units of at most 10^12",
            "value_error",
        ));
    }
    let reason = reason("reason", &body.reason)?;
    let s = payouts::adjust(&state, actor(&who), &id, body.amount_minor, &reason).await?;
    Ok((StatusCode::CREATED, JsonResponse(detail(&state, &s).await?)))
}

/// **(Quiver)** Approves a final statement for payment; the creator is e-mailed.
#[utoipa::path(post, path = "/sellers/statements/{id}/approve", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "A statement id")),
    responses(
        (status = 200, body = StatementDetail),
        (status = 404, body = Problem, description = "`statement_not_found`"),
        (status = 409, body = Problem, description = "`statement_open`, `statement_approved`, `statement_paid` or `statement_void`"),
    ))]
async fn approve(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<StatementDetail>> {
    let s = payouts::approve(&state, actor(&who), &id).await?;
    Ok(JsonResponse(detail(&state, &s).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VoidRequest {
    /// Required, at most 200 characters.
    pub reason: String,
}

/// **(Quiver)** Voids a statement that is not paid, with a reason.
#[utoipa::path(post, path = "/sellers/statements/{id}/void", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "A statement id")),
    request_body = VoidRequest,
    responses(
        (status = 200, body = StatementDetail),
        (status = 404, body = Problem, description = "`statement_not_found`"),
        (status = 409, body = Problem, description = "`statement_paid` or `statement_void`"),
        (status = 422, body = Unprocessable, description = "No reason"),
    ))]
async fn void(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
    Json(body): Json<VoidRequest>,
) -> ApiResult<JsonResponse<StatementDetail>> {
    let reason = reason("reason", &body.reason)?;
    let s = payouts::void(&state, actor(&who), &id, &reason).await?;
    Ok(JsonResponse(detail(&state, &s).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPayoutBody {
    /// Approved statements of yours, all in one currency (at most 500).
    pub statement_ids: Vec<String>,
    /// ISO 8601 with offset: when you paid.
    #[schema(example = "2026-12-03T10:00:00Z")]
    pub paid_at: String,
    /// How you paid, e.g. `paypal`.
    pub method: String,
    /// Your payment service's reference (batch id...).
    pub reference: String,
}

/// A recorded payment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Payout {
    pub id: String,
    pub currency: String,
    pub total: f64,
    /// ISO 8601 UTC.
    pub paid_at: String,
    pub method: String,
    pub reference: String,
    pub statements: Vec<SellerStatement>,
}

/// **(Quiver)** Records that you paid approved statements (Quiver moves no money): all of
/// them become `paid`, or none does. Creators are e-mailed.
#[utoipa::path(post, path = "/sellers/payouts", tag = "sellers", security(("bearer" = [])),
    request_body = NewPayoutBody,
    responses(
        (status = 201, body = Payout),
        (status = 409, body = Problem, description = "`statement_not_approved`, `statement_open`, `statement_paid` or `statement_void`"),
        (status = 422, body = Unprocessable, description = "`mixed_currencies`, `statement_not_found` (unknown or another seller's), `duplicate_statement`, or a bad field"),
    ))]
async fn create_payout(
    State(state): State<AppState>,
    Seller(who): Seller,
    Json(body): Json<NewPayoutBody>,
) -> ApiResult<(StatusCode, JsonResponse<Payout>)> {
    if body.statement_ids.is_empty() {
        return Err(ApiError::validation(
            "body",
            "statement_ids",
            "List should have at least 1 item",
            "too_short",
        ));
    }
    if body.statement_ids.len() > payouts::MAX_PAYOUT_STATEMENTS {
        return Err(ApiError::validation(
            "body",
            "statement_ids",
            format!(
                "List should have at most {} items",
                payouts::MAX_PAYOUT_STATEMENTS
            ),
            "too_long",
        ));
    }
    let paid_at = OffsetDateTime::parse(body.paid_at.trim(), &Rfc3339).map_err(|_| {
        ApiError::validation(
            "body",
            "paid_at",
            "Input should be an ISO 8601 date-time with offset",
            "datetime_parsing",
        )
    })?;
    let paid_ms = i64::try_from(paid_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let method = reason("method", &body.method)?;
    let reference = reason("reference", &body.reference)?;
    let ids: Vec<String> = body
        .statement_ids
        .iter()
        .map(|s| s.trim().to_owned())
        .collect();
    let id = payouts::pay(
        &state,
        actor(&who),
        NewPayout {
            ids: &ids,
            paid_at: paid_ms,
            method: &method,
            reference: &reference,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(payout_body(&state, &who.account_id, &id).await?),
    ))
}

async fn payout_rows(
    state: &AppState,
    seller_id: &str,
    id: &str,
) -> ApiResult<(crate::store::statements::PayoutRow, Vec<StatementRow>)> {
    let p = state
        .db
        .payout(seller_id, id)
        .await?
        .ok_or_else(|| StatementError::PayoutNotFound(id.to_owned()))?;
    let rows = state
        .db
        .statements(
            &StatementFilter {
                seller_id: Some(seller_id.to_owned()),
                payout_id: Some(id.to_owned()),
                ..StatementFilter::default()
            },
            payouts::MAX_PAYOUT_STATEMENTS as i64,
        )
        .await?;
    Ok((p, rows))
}

async fn payout_body(state: &AppState, seller_id: &str, id: &str) -> ApiResult<Payout> {
    let (p, rows) = payout_rows(state, seller_id, id).await?;
    let mut statements = Vec::with_capacity(rows.len());
    for r in &rows {
        statements.push(SellerStatement {
            statement: Statement::from_row(r),
            payout_details_missing: details_missing(state, r).await?,
        });
    }
    Ok(Payout {
        id: p.id,
        currency: p.currency,
        total: money(p.total),
        paid_at: iso_utc(p.paid_at),
        method: p.method,
        reference: p.reference,
        statements,
    })
}

/// **(Quiver)** A recorded payout and its statements.
#[utoipa::path(get, path = "/sellers/payouts/{id}", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "A payout id")),
    responses(
        (status = 200, body = Payout),
        (status = 404, body = Problem, description = "`payout_not_found`"),
    ))]
async fn payout(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<Payout>> {
    Ok(JsonResponse(
        payout_body(&state, &who.account_id, &id).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `paypal` (PayPal Payouts Web upload file, the default) or `generic` (CSV with a header).
    format: Option<String>,
}

/// **(Quiver)** The payout as a file. `paypal`: PayPal's Payouts Web upload format, no
/// header, one line per statement: recipient e-mail, amount, currency, the statement id
/// as the unique Customer ID, a note, `PAYPAL`. `generic`: a CSV with a header. A
/// statement whose creator has no usable payout details (or whose total is not positive)
/// is left out and named in the `Quiver-Skipped-Statements` header.
#[utoipa::path(get, path = "/sellers/payouts/{id}/export", tag = "sellers", security(("bearer" = [])),
    params(("id" = String, Path, description = "A payout id"), ExportQuery),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 404, body = Problem, description = "`payout_not_found`"),
        (status = 422, body = Unprocessable, description = "Unknown format"),
    ))]
async fn export_payout(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let paypal = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("paypal") => true,
        Some("generic") => false,
        Some(_) => {
            return Err(ApiError::validation(
                "query",
                "format",
                "Input should be 'paypal' or 'generic'",
                "enum",
            ));
        }
    };
    let (p, rows) = payout_rows(&state, &who.account_id, &id).await?;
    let internal = |e: csv::Error| ApiError::Internal(e.into());
    let mut w = csv::Writer::from_writer(Vec::new());
    if !paypal {
        w.write_record([
            "statement_id",
            "creator",
            "brand_id",
            "month",
            "currency",
            "commission",
            "adjustments",
            "total",
            "method",
            "recipient",
            "payout_id",
            "paid_at",
            "reference",
        ])
        .map_err(internal)?;
    }
    let mut skipped = Vec::new();
    for r in &rows {
        let d = state.db.payout_details(&r.account_id).await?;
        let recipient = match &d {
            Some(d) if d.method == "paypal" => d.paypal_email.clone(),
            Some(d) if !paypal => d.reference.clone(),
            _ => None,
        };
        let Some(recipient) = recipient.filter(|_| r.total() > 0) else {
            skipped.push(r.id.clone());
            continue;
        };
        let note = format!("{} commission {}", r.brand_name, month_label(r.month));
        if paypal {
            w.write_record([
                neutralise(recipient),
                decimal(r.total()),
                r.currency.clone(),
                r.id.clone(),
                neutralise(note),
                "PAYPAL".to_owned(),
            ])
            .map_err(internal)?;
        } else {
            w.write_record([
                r.id.clone(),
                neutralise(r.creator.clone()),
                neutralise(r.brand_id.clone()),
                month_label(r.month),
                r.currency.clone(),
                decimal(r.commission),
                decimal(r.adjustments_total),
                decimal(r.total()),
                d.map(|d| d.method).unwrap_or_default(),
                neutralise(recipient),
                p.id.clone(),
                iso_utc(p.paid_at),
                neutralise(p.reference.clone()),
            ])
            .map_err(internal)?;
        }
    }
    let body = w
        .into_inner()
        .map_err(|e| internal(e.into_error().into()))?;
    let name = if paypal { "paypal" } else { "generic" };
    let disposition = format!("attachment; filename=\"quiver-payout-{}-{name}.csv\"", p.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("quiver-skipped-statements"),
                skipped.join(","),
            ),
        ],
        body,
    )
        .into_response())
}
