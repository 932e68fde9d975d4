//! **(Quiver)** The `data` of the `report.updated` webhook event.

use serde::Serialize;

use crate::objects::format::iso_day;
use crate::store::reports::ReportChange;

/// **(Quiver)** Which report data an ingestion changed for the receiving account: re-read
/// `/reports` (creator) or `/sellers/reports` (brand) for these days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportUpdate {
    /// Days (`YYYY-MM-DD`, UTC) whose figures changed, ascending.
    #[schema(example = json!(["2026-11-02", "2026-11-03"]))]
    pub days: Vec<String>,
    /// The brands whose figures changed, ascending.
    pub brand_ids: Vec<String>,
}

/// The `report.updated` event's `data`.
pub fn data(c: &ReportChange) -> serde_json::Value {
    let update = ReportUpdate {
        days: c.days.iter().map(|d| iso_day(*d)).collect(),
        brand_ids: c.brand_ids.clone(),
    };
    serde_json::to_value(update).unwrap_or_default()
}
