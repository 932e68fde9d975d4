//! **(Quiver)** The audit log of a seller's brands.

use axum::Json as JsonResponse;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, Unprocessable};
use crate::http::extract::Query;
use crate::http::extract::Seller;
use crate::http::paging::Keyset;
use crate::http::params;
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::sellers::{AuditRow, TimePosition};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_log))
}

/// **(Quiver)** One recorded seller action.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// ISO 8601 UTC.
    pub at: String,
    /// The public id of the seller account that acted.
    #[schema(example = "seller_demo_brand")]
    pub actor: String,
    /// `brand.update`, `product.commission`, `grant.create`, `grant.revoke`,
    /// `access_request.approve` or `access_request.decline`.
    #[schema(example = "brand.update")]
    pub action: String,
    pub brand_id: String,
    /// What was acted on: `brand:<id>`, `product:<marketplace>/<asin>`, `creator:<affiliate id>`
    /// or `access_request:<id>`.
    #[schema(example = "brand:lumen-home")]
    pub target: String,
    /// The state before the action.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The state after the action.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl AuditEntry {
    fn from_row(r: &AuditRow) -> Self {
        let json = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str(s).ok());
        Self {
            id: r.id.clone(),
            at: iso_utc(r.at),
            actor: r.actor_public_id.clone(),
            action: r.action.clone(),
            brand_id: r.brand_id.clone(),
            target: r.target.clone(),
            before: json(&r.before_json),
            after: json(&r.after_json),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries for this brand of yours.
    #[param(max_length = 200)]
    brand_id: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    total_count: i64,
    fetched_count: usize,
    entries: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

/// **(Quiver)** The audit log of your brands, newest first: every brand edit, commission
/// change, grant, revocation and access decision, with who made it and the state before and after.
#[utoipa::path(get, path = "/sellers/audit", tag = "sellers", params(AuditQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 422, body = Unprocessable, description = "Bad `limit` or `cursor`"),
    ))]
async fn audit_log(
    State(state): State<AppState>,
    Seller(who): Seller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<JsonResponse<AuditPage>> {
    let page = Keyset::<TimePosition>::parse(&state.cursor_key, q.limit, q.cursor.as_deref())?;
    let (total, mut rows) = state
        .db
        .seller_audit(
            &who.account_id,
            params::filter("brand_id", q.brand_id.as_deref(), params::MAX_TEXT_CHARS)?,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |r| TimePosition {
        t: r.at,
        id: r.id.clone(),
    });
    Ok(JsonResponse(AuditPage {
        total_count: total,
        fetched_count: rows.len(),
        entries: rows.iter().map(AuditEntry::from_row).collect(),
        next_cursor,
    }))
}
