//! The grant object of `/sellers/brands/{brand_id}/grants`, and of the `grant.revoked`
//! webhook event.

use serde::Serialize;

use crate::objects::format::iso_utc;
use crate::store::sellers::GrantRow;

/// One publisher's access to one brand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub brand_id: String,
    /// The publisher's public affiliate id.
    #[schema(example = "aff_demo_creator2")]
    pub creator: String,
    /// The publisher's display name.
    pub creator_name: String,
    /// False once revoked.
    pub active: bool,
    /// ISO 8601 UTC: when access was (last) granted.
    pub granted_at: String,
    /// ISO 8601 UTC, or null while active.
    pub revoked_at: Option<String>,
}

impl Grant {
    pub fn from_row(g: &GrantRow) -> Self {
        Self {
            brand_id: g.brand_id.clone(),
            creator: g.public_id.clone(),
            creator_name: g.display_name.clone(),
            active: g.revoked_at.is_none(),
            granted_at: iso_utc(g.granted_at),
            revoked_at: g.revoked_at.map(iso_utc),
        }
    }
}

/// The `data` of the `grant.revoked` webhook event: the grant as the API shows it.
pub fn data(g: &GrantRow) -> serde_json::Value {
    serde_json::to_value(Grant::from_row(g)).unwrap_or_default()
}
