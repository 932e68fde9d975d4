//! The link object every endpoint and event returns (spec §4, with Quiver's additions).

use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::links::LinkRow;

/// The link object of spec §4.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Link {
    /// The link's id; use it to look up performance in /reports.
    pub id: String,
    /// The attribution URL to share.
    #[schema(
        example = "https://www.amazon.de/dp/B0D45KS7QM?maas=maas_adg_api_4000000002_static_9_99&ref_=aa_maas&tag=maas&aa_campaignid=aff_demo_creator&aa_adgroupid=01a2...&aa_creativeid=quiver"
    )]
    pub url: String,
    /// Same value as `url`, kept for older integrations.
    pub attribution_link: String,
    #[schema(example = "B0D45KS7QM")]
    pub asin: String,
    #[schema(example = "amazon.de")]
    pub marketplace: String,
    #[schema(example = "DE")]
    pub country_code: String,
    pub link_name: String,
    /// Always `product`.
    #[serde(rename = "type")]
    pub kind: String,
    /// False while reporting for the link is paused.
    pub active: bool,
    pub product_name: String,
    pub brand_id: String,
    /// ISO 8601, UTC.
    pub created_date_time: String,
    /// **(Quiver)** True once the creator archived the link: it still works and reports, but
    /// `/get_all_links` leaves it out unless asked with `archived=true` or `all`.
    pub archived: bool,
    /// **(Quiver)** Quiver's own short URL for the link: it redirects (302) to `url` and
    /// counts the click. Share it instead of `url` to see clicks in real time.
    #[schema(example = "https://quiver.example.com/r/aB3dE5gH")]
    pub short_url: Option<String>,
    /// **(Quiver)** Where the link is posted, as the creator labelled it.
    #[schema(example = "youtube")]
    pub source: Option<String>,
    /// **(Quiver)** The creator's own sub-identifier.
    pub sub_id: Option<String>,
    /// **(Quiver)** Clicks on the short URL Quiver counted (bots, previews, prefetches
    /// and repeats left out), a few seconds behind at most. Not Amazon's `clicks`.
    pub clicks_total: i64,
    /// **(Quiver)** The same over the current UTC hour and the 23 before it.
    pub clicks_24h: i64,
}

impl Link {
    /// The link object of a row, with its click totals `(all time, 24 h)`.
    pub fn from_row(l: &LinkRow, state: &AppState, clicks: (i64, i64)) -> Self {
        let m = l.marketplace;
        Self {
            id: l.id.clone(),
            url: l.url.clone(),
            attribution_link: l.url.clone(),
            asin: l.asin.clone(),
            marketplace: m.as_str().to_owned(),
            country_code: m.country_code().to_owned(),
            link_name: l.link_name.clone(),
            kind: "product".to_owned(),
            active: l.active,
            product_name: l.product_name.clone(),
            brand_id: l.brand_id.clone(),
            created_date_time: iso_utc(l.created_at),
            archived: l.archived_at.is_some(),
            short_url: l
                .short_code
                .as_deref()
                .map(|c| state.clicks.short_url(state.joining.public_url(), c)),
            source: l.source.clone(),
            sub_id: l.sub_id.clone(),
            clicks_total: clicks.0,
            clicks_24h: clicks.1,
        }
    }

    /// Link objects of rows, with their click totals (one query).
    pub async fn from_rows(rows: &[LinkRow], state: &AppState) -> ApiResult<Vec<Self>> {
        let ids: Vec<String> = rows.iter().map(|l| l.id.clone()).collect();
        let totals = state
            .db
            .click_totals(&ids, crate::store::clicks::day_ago(now_ms()))
            .await?;
        Ok(rows
            .iter()
            .map(|l| Self::from_row(l, state, totals.get(&l.id).copied().unwrap_or_default()))
            .collect())
    }

    pub async fn one(row: &LinkRow, state: &AppState) -> ApiResult<Self> {
        let mut links = Self::from_rows(std::slice::from_ref(row), state).await?;
        links
            .pop()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no link rendered")))
    }
}
