//! Wire types of Amazon's Attribution API (`amazon-attribution-openapi.yaml`), Login with
//! Amazon and `/v2/profiles`, shared by the client and the simulator so they cannot drift.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /auth/o2/token` success body (Login with Amazon).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LwaTokenResponse {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
    pub expires_in: u64,
}

/// `POST /auth/o2/token` error body (OAuth2 style).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LwaError {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// One entry of `GET /v2/profiles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub profile_id: i64,
    pub country_code: String,
    pub currency_code: String,
    #[serde(default)]
    pub timezone: String,
    pub account_info: AccountInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    pub marketplace_string_id: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// The error body of every attribution operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaaSError {
    pub code: String,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Advertiser {
    pub advertiser_id: String,
    pub advertiser_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvertiserResponse {
    pub advertisers: Vec<Advertiser>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Publisher {
    pub id: String,
    pub name: String,
    pub macro_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishersResponse {
    pub publisher: Vec<Publisher>,
}

/// advertiser id → (publisher id → tag).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributionTagResponse {
    pub advertiser_attribution_tag_map: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReportType {
    Performance,
    Products,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GroupBy {
    Adgroup,
    Campaign,
    Creative,
}

/// `POST /attribution/report` body. Dates are `YYYYMMDD`; lists are comma-separated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRequestBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertiser_ids: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// `null` or `""` for the first page.
    #[serde(default)]
    pub cursor_id: Option<String>,
    pub end_date: String,
    pub start_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<GroupBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_type: Option<ReportType>,
}

/// Metric names of the PERFORMANCE report.
pub mod metric {
    pub const CLICK_THROUGHS: &str = "Click-throughs";
    pub const DETAIL_PAGE_VIEWS: &str = "attributedDetailPageViewsClicks14d";
    pub const ADD_TO_CARTS: &str = "attributedAddToCartClicks14d";
    pub const PURCHASES: &str = "attributedPurchases14d";
    pub const UNITS_SOLD: &str = "unitsSold14d";
    pub const SALES: &str = "attributedSales14d";
    pub const TOTAL_DETAIL_PAGE_VIEWS: &str = "attributedTotalDetailPageViewsClicks14d";
    pub const TOTAL_ADD_TO_CARTS: &str = "attributedTotalAddToCartClicks14d";
    pub const TOTAL_PURCHASES: &str = "attributedTotalPurchases14d";
    pub const TOTAL_UNITS_SOLD: &str = "totalUnitsSold14d";
    pub const TOTAL_SALES: &str = "totalAttributedSales14d";
    pub const BRB_BONUS_AMOUNT: &str = "brb_bonus_amount";
    pub const KINDLE_PAGES_READ: &str = "kindleEditionNormalizedPagesRead14d";
    pub const KINDLE_ROYALTIES: &str = "kindleEditionNormalizedPagesRoyalties14d";
    // PRODUCTS report only.
    pub const HALO_DETAIL_PAGE_VIEWS: &str = "brandHaloDetailPageViewsClicks14d";
    pub const HALO_ADD_TO_CARTS: &str = "brandHaloAttributedAddToCartClicks14d";
    pub const HALO_PURCHASES: &str = "brandHaloAttributedPurchases14d";
    pub const HALO_UNITS_SOLD: &str = "brandHaloUnitsSold14d";
    pub const HALO_SALES: &str = "brandHaloAttributedSales14d";
    pub const NTB_PURCHASES: &str = "attributedNewToBrandPurchases14d";
    pub const NTB_UNITS_SOLD: &str = "attributedNewToBrandUnitsSold14d";
    pub const NTB_SALES: &str = "attributedNewToBrandSales14d";
    pub const HALO_NTB_PURCHASES: &str = "brandHaloNewToBrandPurchases14d";
    pub const HALO_NTB_UNITS_SOLD: &str = "brandHaloNewToBrandUnitsSold14d";
    pub const HALO_NTB_SALES: &str = "brandHaloNewToBrandSales14d";
}

/// `productConversionType` values of the PRODUCTS report.
pub mod conversion_type {
    pub const PROMOTED: &str = "Promoted";
    pub const BRAND_HALO: &str = "Brand Halo";
}

/// One report row: the documented dimensions, and the metrics as the extra keys Amazon
/// adds (named as in `metric`). Money metrics are decimal numbers in local currency.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertiser_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creative_id: Option<String>,
    /// `YYYYMMDD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_asin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_conversion_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_subcategory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(flatten)]
    pub metrics: BTreeMap<String, serde_json::Number>,
}

impl ReportEntry {
    /// A count metric; absent means zero.
    pub fn count(&self, name: &str) -> i64 {
        self.metrics
            .get(name)
            .and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)))
            .unwrap_or(0)
    }

    /// A money metric in minor units, rounded half away from zero; absent means zero.
    /// Parsed from the decimal text, not through a float, so `19.99` stays 1999.
    pub fn minor_units(&self, name: &str) -> i64 {
        self.metrics
            .get(name)
            .map(|n| decimal_to_minor(&n.to_string()))
            .unwrap_or(0)
    }
}

/// Converts a JSON decimal (`"12.345"`, `"7"`, `"1e2"`) to minor units, half away from zero.
pub fn decimal_to_minor(text: &str) -> i64 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = if digits.contains(['e', 'E']) {
        digits
            .parse::<f64>()
            .map(|f| (f * 100.0).round() as i64)
            .unwrap_or(0)
    } else {
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let int: i64 = int.parse().unwrap_or(0);
        let mut cents: i64 = 0;
        let mut bytes = frac.bytes();
        for _ in 0..2 {
            cents = cents * 10
                + bytes
                    .next()
                    .map_or(0, |b| i64::from(b.saturating_sub(b'0')));
        }
        let round_up = bytes.next().is_some_and(|b| b >= b'5');
        int.saturating_mul(100).saturating_add(cents) + i64::from(round_up)
    };
    if negative { -value } else { value }
}

/// `POST /attribution/report` success body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportResponse {
    /// Absent or null on the last page.
    #[serde(default)]
    pub cursor_id: Option<String>,
    pub reports: Vec<ReportEntry>,
    pub size: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_minor_units_exactly() {
        assert_eq!(decimal_to_minor("19.99"), 1999);
        assert_eq!(decimal_to_minor("19.9"), 1990);
        assert_eq!(decimal_to_minor("7"), 700);
        assert_eq!(decimal_to_minor("0.005"), 1);
        assert_eq!(decimal_to_minor("0.004"), 0);
        assert_eq!(decimal_to_minor("-1.25"), -125);
        assert_eq!(decimal_to_minor("1e2"), 10000);
    }

    #[test]
    fn entry_metrics_round_trip_through_json() {
        let json = r#"{"date":"20260101","adGroupId":"g1","Click-throughs":12,"attributedSales14d":123.45}"#;
        let e: ReportEntry = serde_json::from_str(json).expect("valid entry");
        assert_eq!(e.count(metric::CLICK_THROUGHS), 12);
        assert_eq!(e.minor_units(metric::SALES), 12345);
        assert_eq!(e.count(metric::PURCHASES), 0);
    }
}
