//! Parameters and envelopes shared by paged listings.

use serde::Serialize;

use crate::error::ApiError;
use crate::http::extract::bounded;

/// `limit` within 1–500 (default 100).
pub fn limit(value: Option<i64>) -> Result<i64, ApiError> {
    bounded("limit", value, 100, 1, 500)
}

/// `skip`, or `page` (1-based) when given.
pub fn offset(skip: Option<i64>, page: Option<i64>, limit: i64) -> Result<i64, ApiError> {
    match page {
        Some(_) => {
            let page = bounded("page", page, 1, 1, 1_000_000)?;
            Ok((page - 1) * limit)
        }
        None => bounded("skip", skip, 0, 0, i64::from(i32::MAX)),
    }
}

pub fn bad_cursor() -> ApiError {
    ApiError::validation(
        "query",
        "cursor",
        "Invalid cursor: pass next_cursor back unchanged",
        "value_error",
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaginationInfo {
    pub current_page: i64,
    pub total_pages: i64,
    pub items_start: i64,
    pub items_end: i64,
    pub total_items: i64,
}

impl PaginationInfo {
    pub fn new(offset: i64, fetched: i64, limit: i64, total: i64) -> Self {
        Self {
            current_page: offset / limit + 1,
            total_pages: (total + limit - 1) / limit,
            items_start: if fetched > 0 { offset + 1 } else { 0 },
            items_end: offset + fetched,
            total_items: total,
        }
    }
}
