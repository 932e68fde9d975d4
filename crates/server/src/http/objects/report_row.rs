//! The daily report row of `/reports` (spec §5), which the legacy single-ASIN and
//! single-link lookups return too, and when a day's figures are final.

use serde::Serialize;
use time::Date;

use crate::clock::day_of_number;
use crate::objects::format::{iso_day, money};
use crate::store::reports::PublisherFactRow;

/// Days Amazon may still restate; a row is `final` once its day is older.
pub const RESTATEMENT_DAYS: i64 = 28;

/// Whether Amazon has stopped restating `day` (a day number).
pub fn is_final(day: i32, today: Date) -> bool {
    day_of_number(day).is_some_and(|d| (today - d).whole_days() > RESTATEMENT_DAYS)
}

/// The link a report row belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportLink {
    pub id: String,
    pub link_name: String,
    pub url: String,
    pub active: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub marketplace: String,
    pub asin: String,
    pub product_name: String,
    /// **(Quiver)** The link's short URL (see the link object); null only for a link
    /// made before short links whose code the server has not assigned yet.
    pub short_url: Option<String>,
    /// **(Quiver)** The link's `source` and `sub_id` (see the link object), so rows can be
    /// grouped by them.
    pub source: Option<String>,
    pub sub_id: Option<String>,
}

/// One day × link × sold product. `asin` ≠ `link.asin` is brand-halo activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub asin: String,
    #[serde(rename = "product_name")]
    pub product_name: String,
    #[serde(rename = "brand_id")]
    pub brand_id: String,
    #[serde(rename = "brand_name")]
    pub brand_name: String,
    pub marketplace: String,
    #[serde(rename = "country_code")]
    pub country_code: String,
    pub currency: String,
    pub clicks: i64,
    pub detail_page_views: i64,
    pub add_to_carts: i64,
    pub conversions: i64,
    pub purchases: i64,
    pub units_sold: i64,
    /// Attributed sales in the marketplace's currency.
    pub sales: f64,
    pub commission_earned: f64,
    pub link: ReportLink,
    /// **(Quiver)** false while Amazon may still restate the day (last 28 days).
    #[serde(rename = "final")]
    pub is_final: bool,
}

impl ReportRow {
    /// `short_prefix`: what every short URL starts with (`Clicks::short_prefix`).
    pub fn from_fact(r: PublisherFactRow, today: Date, short_prefix: &str) -> Self {
        let (m, lm) = (r.marketplace, r.link_marketplace);
        Self {
            date: iso_day(r.day),
            asin: r.asin,
            product_name: r.product_name,
            brand_id: r.brand_id,
            brand_name: r.brand_name,
            marketplace: m.as_str().to_owned(),
            country_code: m.country_code().to_owned(),
            currency: m.currency().as_str().to_owned(),
            clicks: r.clicks,
            detail_page_views: r.dpv,
            add_to_carts: r.atc,
            conversions: r.purchases,
            purchases: r.purchases,
            units_sold: r.units,
            sales: money(r.sales),
            commission_earned: money(r.commission),
            link: ReportLink {
                id: r.link_id,
                link_name: r.link_name,
                url: r.url,
                active: r.active,
                kind: "product".to_owned(),
                marketplace: lm.as_str().to_owned(),
                asin: r.link_asin,
                product_name: r.link_product_name,
                short_url: r.short_code.map(|c| format!("{short_prefix}{c}")),
                source: r.source,
                sub_id: r.sub_id,
            },
            is_final: is_final(r.day, today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn finality_follows_the_restatement_window() {
        let today = date!(2026 - 03 - 31);
        assert!(!is_final(20260303, today));
        assert!(is_final(20260302, today));
    }
}
