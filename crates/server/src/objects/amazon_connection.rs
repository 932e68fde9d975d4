//! A brand's Amazon Ads connection in one region, as `/sellers/brands/{brand_id}/amazon`
//! shows it, and the `amazon.connection_lost` webhook event that carries it.

use quiver_domain::Region;
use serde::Serialize;

use crate::objects::format::iso_utc;
use crate::store::amazon_connections::{ConnectionRow, LostConnection};
use crate::store::catalog::AmazonAccountRow;

/// A brand's Amazon Ads connection in one region.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionConnection {
    #[schema(example = "NA")]
    pub region: &'static str,
    /// `not_connected`, `connected` or `reconnect_needed` (Amazon no longer accepts the
    /// authorisation: the brand must connect again).
    #[schema(example = "connected")]
    pub status: &'static str,
    #[schema(example = "200000000012345")]
    pub profile_id: Option<String>,
    #[schema(example = "512345678901")]
    pub advertiser_id: Option<String>,
    /// When the brand (re)connected (RFC 3339); `null` for `via: platform`.
    pub connected_at: Option<String>,
    /// When Amazon last answered a call made with the brand's authorisation.
    pub last_ok_at: Option<String>,
    /// Why it needs reconnecting.
    pub last_error: Option<String>,
    /// `brand` (its own authorisation), `platform` (ids set by an operator, used with the
    /// platform's credentials), `null` when not connected.
    #[schema(example = "brand")]
    pub via: Option<&'static str>,
}

impl RegionConnection {
    /// The brand's own authorisation wins over platform ids set by an operator.
    pub fn of(
        region: Region,
        own: Option<&ConnectionRow>,
        platform: Option<&AmazonAccountRow>,
    ) -> Self {
        match (own, platform) {
            (Some(c), _) => Self {
                region: region.as_str(),
                status: if c.is_connected() {
                    "connected"
                } else {
                    "reconnect_needed"
                },
                profile_id: c.profile_id.clone(),
                advertiser_id: c.advertiser_id.clone(),
                connected_at: Some(iso_utc(c.connected_at)),
                last_ok_at: c.last_ok_at.map(iso_utc),
                last_error: c.last_error.clone(),
                via: Some("brand"),
            },
            (None, Some(p)) => Self {
                region: region.as_str(),
                status: "connected",
                profile_id: Some(p.profile_id.clone()),
                advertiser_id: Some(p.advertiser_id.clone()),
                connected_at: None,
                last_ok_at: None,
                last_error: None,
                via: Some("platform"),
            },
            (None, None) => Self {
                region: region.as_str(),
                status: "not_connected",
                profile_id: None,
                advertiser_id: None,
                connected_at: None,
                last_ok_at: None,
                last_error: None,
                via: None,
            },
        }
    }
}

/// **(Quiver)** The `data` of the `amazon.connection_lost` webhook event: Amazon no
/// longer accepts the brand's authorisation in `region`, so its new links there are
/// refused and its reports are not read until it connects again. Never a token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionLost {
    #[schema(example = "northwind")]
    pub brand_id: String,
    #[schema(example = "Northwind Outdoor")]
    pub brand_name: String,
    #[schema(example = "NA")]
    pub region: &'static str,
    /// The connection as `GET /sellers/brands/{brand_id}/amazon` now shows it (`status`
    /// `reconnect_needed`, with `last_error`).
    pub connection: RegionConnection,
}

/// The `amazon.connection_lost` event's `data`.
pub fn lost_data(l: &LostConnection) -> serde_json::Value {
    let lost = ConnectionLost {
        brand_id: l.row.brand_id.clone(),
        brand_name: l.brand_name.clone(),
        region: l.row.region.as_str(),
        connection: RegionConnection::of(l.row.region, Some(&l.row), None),
    };
    serde_json::to_value(lost).unwrap_or_default()
}
