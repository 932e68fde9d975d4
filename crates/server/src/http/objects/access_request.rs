//! **(Quiver)** The access request object, seen by the publisher who asked
//! (`/access_requests`) and by the seller who decides (`/sellers/access_requests`).

use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::http::paging::Keyset;
use crate::http::params;
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::sellers::{AccessRequestRow, RequestScope, TimePosition};

/// **(Quiver)** A publisher's request for access to an approval-mode brand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessRequest {
    pub id: String,
    pub brand_id: String,
    pub brand_name: String,
    /// The publisher's public affiliate id.
    #[schema(example = "aff_demo_creator")]
    pub creator: String,
    pub creator_name: String,
    /// What the publisher wrote to the brand (may be empty).
    pub message: String,
    /// `pending`, `approved` or `declined`.
    #[schema(example = "pending")]
    pub status: String,
    /// ISO 8601 UTC.
    pub created_at: String,
    /// ISO 8601 UTC, or null while pending.
    pub decided_at: Option<String>,
    /// Why the brand declined, when it said; null otherwise.
    pub decision_reason: Option<String>,
}

impl AccessRequest {
    pub fn from_row(r: &AccessRequestRow) -> Self {
        Self {
            id: r.id.clone(),
            brand_id: r.brand_id.clone(),
            brand_name: r.brand_name.clone(),
            creator: r.public_id.clone(),
            creator_name: r.display_name.clone(),
            message: r.message.clone(),
            status: r.status.to_string(),
            created_at: iso_utc(r.created_at),
            decided_at: r.decided_at.map(iso_utc),
            decision_reason: Some(r.decision_reason.clone()).filter(|s| !s.is_empty()),
        }
    }
}

/// The `data` of the `access_request.*` webhook events: the request as the API shows it.
pub fn data(r: &AccessRequestRow) -> serde_json::Value {
    serde_json::to_value(AccessRequest::from_row(r)).unwrap_or_default()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessRequestsPage {
    pub total_count: i64,
    pub fetched_count: usize,
    pub access_requests: Vec<AccessRequest>,
    pub next_cursor: Option<String>,
}

/// `status`: one of the three, or `all` (`None`); `default` when absent.
pub fn status_filter(
    value: Option<&str>,
    default: Option<&'static str>,
) -> Result<Option<&'static str>, ApiError> {
    match params::text(value).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("all") => Ok(None),
        Some("pending") => Ok(Some("pending")),
        Some("approved") => Ok(Some("approved")),
        Some("declined") => Ok(Some("declined")),
        Some(_) => Err(ApiError::validation(
            "query",
            "status",
            "Input should be 'pending', 'approved', 'declined' or 'all'",
            "enum",
        )),
    }
}

/// One page of requests in `scope`, newest first.
pub async fn list(
    state: &AppState,
    scope: RequestScope<'_>,
    status: Option<&str>,
    brand_id: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> ApiResult<AccessRequestsPage> {
    let page = Keyset::<TimePosition>::parse(&state.cursor_key, limit, cursor)?;
    let (total, mut rows) = state
        .db
        .list_access_requests(
            scope,
            status,
            params::filter("brand_id", brand_id, params::MAX_TEXT_CHARS)?,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |r| TimePosition {
        t: r.created_at,
        id: r.id.clone(),
    });
    Ok(AccessRequestsPage {
        total_count: total,
        fetched_count: rows.len(),
        access_requests: rows.iter().map(AccessRequest::from_row).collect(),
        next_cursor,
    })
}
