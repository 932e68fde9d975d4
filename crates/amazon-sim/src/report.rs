//! `POST /attribution/report`: Amazon's validation, aggregation per group-by, and
//! cursor paging.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use quiver_amazon::wire::{
    GroupBy, ReportEntry, ReportRequestBody, ReportResponse, ReportType, conversion_type, metric,
};
use quiver_domain::{format_compact, parse_report_date};
use time::{Date, Duration};

use crate::auth;
use crate::catalog;
use crate::error::ApiError;
use crate::state::SimState;
use crate::tags::advertiser_name;
use crate::traffic::{self, Funnel};
use crate::truth::money;

/// Rows per page when the request gives no `count`; Amazon's own examples use 1000.
pub const DEFAULT_COUNT: usize = 1000;
pub const MAX_COUNT: i64 = 5000;
/// PRODUCTS reports only reach this far back.
pub const PRODUCTS_LOOKBACK_DAYS: i64 = 90;

pub const PERFORMANCE_METRICS: [&str; 14] = [
    metric::CLICK_THROUGHS,
    metric::DETAIL_PAGE_VIEWS,
    metric::ADD_TO_CARTS,
    metric::PURCHASES,
    metric::UNITS_SOLD,
    metric::SALES,
    metric::TOTAL_DETAIL_PAGE_VIEWS,
    metric::TOTAL_ADD_TO_CARTS,
    metric::TOTAL_PURCHASES,
    metric::TOTAL_UNITS_SOLD,
    metric::TOTAL_SALES,
    metric::BRB_BONUS_AMOUNT,
    metric::KINDLE_PAGES_READ,
    metric::KINDLE_ROYALTIES,
];

pub const PRODUCTS_METRICS: [&str; 18] = [
    metric::DETAIL_PAGE_VIEWS,
    metric::ADD_TO_CARTS,
    metric::PURCHASES,
    metric::UNITS_SOLD,
    metric::SALES,
    metric::HALO_DETAIL_PAGE_VIEWS,
    metric::HALO_ADD_TO_CARTS,
    metric::HALO_PURCHASES,
    metric::HALO_UNITS_SOLD,
    metric::HALO_SALES,
    metric::NTB_PURCHASES,
    metric::NTB_UNITS_SOLD,
    metric::NTB_SALES,
    metric::HALO_NTB_PURCHASES,
    metric::HALO_NTB_UNITS_SOLD,
    metric::HALO_NTB_SALES,
    metric::KINDLE_PAGES_READ,
    metric::KINDLE_ROYALTIES,
];

/// A request that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub report_type: ReportType,
    /// `None` for PRODUCTS, which is always per ad group and product.
    pub group_by: Option<GroupBy>,
    pub metrics: Vec<&'static str>,
    pub start: Date,
    pub end: Date,
    pub count: usize,
    pub after: Option<RowKey>,
    pub advertisers: Vec<String>,
}

fn compact_date(field: &str, value: &str) -> Result<Date, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "{field} must be a date in YYYYMMDD format, got '{value}'"
        ))
    };
    // parse_report_date also takes YYYY-MM-DD, which Amazon does not.
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    parse_report_date(value).map_err(|_| bad())
}

fn parse_metrics(
    list: Option<&str>,
    report_type: ReportType,
    group_by: Option<GroupBy>,
) -> Result<Vec<&'static str>, ApiError> {
    let known: &[&'static str] = match report_type {
        ReportType::Performance => &PERFORMANCE_METRICS,
        ReportType::Products => &PRODUCTS_METRICS,
    };
    let list = list.map(str::trim).filter(|l| !l.is_empty());
    let Some(list) = list else {
        return Ok(known
            .iter()
            .copied()
            .filter(|m| *m != metric::BRB_BONUS_AMOUNT)
            .collect());
    };
    let mut chosen: Vec<&'static str> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let m = known.iter().copied().find(|k| *k == name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid metric '{name}' for reportType {report_type:?}"
            ))
        })?;
        if m == metric::BRB_BONUS_AMOUNT
            && !matches!(group_by, Some(GroupBy::Adgroup | GroupBy::Campaign))
        {
            return Err(ApiError::bad_request(
                "brb_bonus_amount requires groupBy ADGROUP or CAMPAIGN",
            ));
        }
        if !chosen.contains(&m) {
            chosen.push(m);
        }
    }
    Ok(chosen)
}

pub fn validate(req: &ReportRequestBody, profile: &str, today: Date) -> Result<Query, ApiError> {
    let report_type = req.report_type.unwrap_or(ReportType::Performance);
    let group_by = match (report_type, req.group_by) {
        (ReportType::Products, Some(_)) => {
            return Err(ApiError::bad_request(
                "groupBy must not be set for reportType PRODUCTS",
            ));
        }
        (ReportType::Products, None) => None,
        (ReportType::Performance, g) => Some(g.unwrap_or(GroupBy::Creative)),
    };
    let start = compact_date("startDate", &req.start_date)?;
    let end = compact_date("endDate", &req.end_date)?;
    if start > end {
        return Err(ApiError::bad_request("startDate must not be after endDate"));
    }
    if report_type == ReportType::Products && start < today - Duration::days(PRODUCTS_LOOKBACK_DAYS)
    {
        return Err(ApiError::bad_request(format!(
            "For reportType PRODUCTS, startDate must be within the last {PRODUCTS_LOOKBACK_DAYS} days"
        )));
    }
    let count = match req.count {
        None => DEFAULT_COUNT,
        Some(c) if (1..=MAX_COUNT).contains(&c) => c as usize,
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "count must be between 1 and {MAX_COUNT}, got {c}"
            )));
        }
    };
    let metrics = parse_metrics(req.metrics.as_deref(), report_type, group_by)?;
    let after = match req.cursor_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            Some(RowKey::from_cursor(c).ok_or_else(|| ApiError::bad_request("Invalid cursorId"))?)
        }
    };
    let mut advertisers: Vec<String> = req
        .advertiser_ids
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = advertisers
        .iter()
        .find(|a| !a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::bad_request(format!(
            "Invalid advertiser identifier '{bad}'"
        )));
    }
    if advertisers.is_empty() {
        advertisers.push(profile.to_owned());
    }
    Ok(Query {
        report_type,
        group_by,
        metrics,
        start,
        end,
        count,
        after,
        advertisers,
    })
}

/// A row's identity and sort position: date first, then ids, so pages are stable.
/// Dimensions a report does not have are empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct RowKey {
    pub date: String,
    pub advertiser_id: String,
    pub campaign_id: String,
    pub ad_group_id: String,
    pub creative_id: String,
    pub publisher: String,
    pub marketplace: String,
    pub asin: String,
    /// 0 promoted, 1 brand halo (PRODUCTS only).
    pub halo: u8,
}

const SEP: char = '\u{1f}';

impl RowKey {
    fn parts(&self) -> [&str; 8] {
        [
            &self.date,
            &self.advertiser_id,
            &self.campaign_id,
            &self.ad_group_id,
            &self.creative_id,
            &self.publisher,
            &self.marketplace,
            &self.asin,
        ]
    }

    /// Opaque to clients: the hex of the last row's key, so a page resumes right after
    /// it even when new rows were recorded meanwhile.
    pub fn to_cursor(&self) -> String {
        let mut text = self.parts().join(&SEP.to_string());
        text.push(SEP);
        text.push(if self.halo == 0 { '0' } else { '1' });
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_cursor(cursor: &str) -> Option<Self> {
        if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..cursor.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
            .collect();
        let text = String::from_utf8(bytes?).ok()?;
        let p: Vec<&str> = text.split(SEP).collect();
        let [
            date,
            advertiser_id,
            campaign_id,
            ad_group_id,
            creative_id,
            publisher,
            marketplace,
            asin,
            halo,
        ] = p.as_slice()
        else {
            return None;
        };
        Some(Self {
            date: (*date).to_owned(),
            advertiser_id: (*advertiser_id).to_owned(),
            campaign_id: (*campaign_id).to_owned(),
            ad_group_id: (*ad_group_id).to_owned(),
            creative_id: (*creative_id).to_owned(),
            publisher: (*publisher).to_owned(),
            marketplace: (*marketplace).to_owned(),
            asin: (*asin).to_owned(),
            halo: match *halo {
                "0" => 0,
                "1" => 1,
                _ => return None,
            },
        })
    }
}

/// Figures summed into one row.
#[derive(Debug, Clone, Default)]
struct Agg {
    clicks: i64,
    promoted: Funnel,
    halo: Funnel,
    brb: i64,
    product_name: String,
}

fn aggregate(state: &SimState, q: &Query) -> BTreeMap<RowKey, Agg> {
    let today = state.today();
    let seed = state.seed();
    let mut rows: BTreeMap<RowKey, Agg> = BTreeMap::new();
    let traffic = state.traffic();
    for (date, key, day) in traffic.lines(q.start..=q.end) {
        if !q.advertisers.contains(&key.advertiser_id) {
            continue;
        }
        let m = traffic::derive(seed, today, date, key, day);
        let base = RowKey {
            date: format_compact(date),
            advertiser_id: key.advertiser_id.clone(),
            campaign_id: key.campaign_id.clone(),
            ..RowKey::default()
        };
        match q.group_by {
            Some(group_by) => {
                let row_key = match group_by {
                    GroupBy::Campaign => base,
                    GroupBy::Adgroup => RowKey {
                        ad_group_id: key.ad_group_id.clone(),
                        publisher: key.publisher.clone(),
                        ..base
                    },
                    GroupBy::Creative => RowKey {
                        ad_group_id: key.ad_group_id.clone(),
                        creative_id: key.creative_id.clone(),
                        publisher: key.publisher.clone(),
                        ..base
                    },
                };
                let agg = rows.entry(row_key).or_default();
                agg.clicks = agg.clicks.saturating_add(m.clicks);
                agg.promoted += m.promoted;
                agg.halo += m.halo_total();
                agg.brb = agg.brb.saturating_add(m.brb);
            }
            None => {
                let product_base = RowKey {
                    ad_group_id: key.ad_group_id.clone(),
                    publisher: key.publisher.clone(),
                    marketplace: key.marketplace.as_str().to_owned(),
                    ..base
                };
                let promoted = rows
                    .entry(RowKey {
                        asin: key.asin.as_str().to_owned(),
                        ..product_base.clone()
                    })
                    .or_insert_with(|| Agg {
                        product_name: day.product.name.clone(),
                        ..Agg::default()
                    });
                promoted.clicks = promoted.clicks.saturating_add(m.clicks);
                promoted.promoted += m.promoted;
                for ((asin, f), (_, product)) in m.halo.iter().zip(day.halo.iter()) {
                    let halo = rows
                        .entry(RowKey {
                            asin: asin.as_str().to_owned(),
                            halo: 1,
                            ..product_base.clone()
                        })
                        .or_insert_with(|| Agg {
                            product_name: product.name.clone(),
                            ..Agg::default()
                        });
                    halo.halo += *f;
                }
            }
        }
    }
    rows
}

fn count(n: i64) -> serde_json::Number {
    serde_json::Number::from(n)
}

/// A metric's value on a row, or `None` where it does not apply (a PRODUCTS promoted row
/// has no brand-halo metrics and vice versa).
fn value(name: &str, report_type: ReportType, key: &RowKey, a: &Agg) -> Option<serde_json::Number> {
    let halo_row = report_type == ReportType::Products && key.halo == 1;
    let promoted_row = report_type == ReportType::Products && key.halo == 0;
    let mut total = a.promoted;
    total += a.halo;
    let v = match name {
        metric::CLICK_THROUGHS => count(a.clicks),
        metric::DETAIL_PAGE_VIEWS if !halo_row => count(a.promoted.dpv),
        metric::ADD_TO_CARTS if !halo_row => count(a.promoted.atc),
        metric::PURCHASES if !halo_row => count(a.promoted.purchases),
        metric::UNITS_SOLD if !halo_row => count(a.promoted.units),
        metric::SALES if !halo_row => money(a.promoted.sales),
        metric::NTB_PURCHASES if !halo_row => count(a.promoted.ntb_purchases),
        metric::NTB_UNITS_SOLD if !halo_row => count(a.promoted.ntb_units),
        metric::NTB_SALES if !halo_row => money(a.promoted.ntb_sales),
        metric::KINDLE_PAGES_READ if !halo_row => count(0),
        metric::KINDLE_ROYALTIES if !halo_row => money(0),
        metric::TOTAL_DETAIL_PAGE_VIEWS => count(total.dpv),
        metric::TOTAL_ADD_TO_CARTS => count(total.atc),
        metric::TOTAL_PURCHASES => count(total.purchases),
        metric::TOTAL_UNITS_SOLD => count(total.units),
        metric::TOTAL_SALES => money(total.sales),
        metric::BRB_BONUS_AMOUNT => money(a.brb),
        metric::HALO_DETAIL_PAGE_VIEWS if !promoted_row => count(a.halo.dpv),
        metric::HALO_ADD_TO_CARTS if !promoted_row => count(a.halo.atc),
        metric::HALO_PURCHASES if !promoted_row => count(a.halo.purchases),
        metric::HALO_UNITS_SOLD if !promoted_row => count(a.halo.units),
        metric::HALO_SALES if !promoted_row => money(a.halo.sales),
        metric::HALO_NTB_PURCHASES if !promoted_row => count(a.halo.ntb_purchases),
        metric::HALO_NTB_UNITS_SOLD if !promoted_row => count(a.halo.ntb_units),
        metric::HALO_NTB_SALES if !promoted_row => money(a.halo.ntb_sales),
        _ => return None,
    };
    Some(v)
}

fn some_if(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn entry(q: &Query, key: &RowKey, a: &Agg) -> ReportEntry {
    let metrics = q
        .metrics
        .iter()
        .filter_map(|m| value(m, q.report_type, key, a).map(|v| ((*m).to_owned(), v)))
        .collect();
    let mut e = ReportEntry {
        date: Some(key.date.clone()),
        advertiser_name: Some(advertiser_name(&key.advertiser_id)),
        campaign_id: Some(key.campaign_id.clone()),
        ad_group_id: some_if(&key.ad_group_id),
        creative_id: some_if(&key.creative_id),
        publisher: some_if(&key.publisher),
        metrics,
        ..ReportEntry::default()
    };
    if q.report_type == ReportType::Products
        && let Ok(asin) = quiver_domain::Asin::parse(&key.asin)
    {
        let (group, category, subcategory) = catalog::taxonomy(&asin);
        e.product_name = Some(a.product_name.clone());
        e.product_group = Some(group.to_owned());
        e.product_category = Some(category.to_owned());
        e.product_subcategory = Some(subcategory.to_owned());
        e.brand_name = Some(format!("Brand {}", key.advertiser_id));
        e.product_asin = Some(key.asin.clone());
        e.product_conversion_type = Some(
            if key.halo == 1 {
                conversion_type::BRAND_HALO
            } else {
                conversion_type::PROMOTED
            }
            .to_owned(),
        );
        e.marketplace = Some(key.marketplace.clone());
    }
    e
}

/// Runs a validated query: one page of rows after `q.after`.
pub fn run(state: &SimState, q: &Query) -> ReportResponse {
    let rows = aggregate(state, q);
    let mut remaining = match &q.after {
        Some(after) => rows.range((
            std::ops::Bound::Excluded(after.clone()),
            std::ops::Bound::Unbounded,
        )),
        None => rows.range(..),
    };
    let page: Vec<(&RowKey, &Agg)> = remaining.by_ref().take(q.count).collect();
    let more = remaining.next().is_some();
    let cursor_id = match (more, page.last()) {
        (true, Some((last, _))) => Some(last.to_cursor()),
        _ => None,
    };
    let reports: Vec<ReportEntry> = page.iter().map(|(k, a)| entry(q, k, a)).collect();
    ReportResponse {
        cursor_id,
        size: reports.len() as i64,
        reports,
    }
}

pub async fn report(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReportResponse>, ApiError> {
    let profile = auth::check_scoped(&state, &headers)?;
    let req: ReportRequestBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))?;
    let q = validate(&req, &profile, state.today())?;
    Ok(Json(run(&state, &q)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn body(json: &str) -> ReportRequestBody {
        serde_json::from_str(json).unwrap()
    }

    const TODAY: Date = date!(2026 - 03 - 01);

    #[test]
    fn defaults() {
        let q = validate(
            &body(r#"{"startDate":"20260201","endDate":"20260228"}"#),
            "7",
            TODAY,
        )
        .unwrap();
        assert_eq!(q.report_type, ReportType::Performance);
        assert_eq!(q.group_by, Some(GroupBy::Creative));
        assert_eq!(q.count, DEFAULT_COUNT);
        assert_eq!(q.advertisers, vec!["7"]);
        assert_eq!(q.metrics.len(), PERFORMANCE_METRICS.len() - 1);
        assert!(!q.metrics.contains(&metric::BRB_BONUS_AMOUNT));
        let p = validate(
            &body(r#"{"reportType":"PRODUCTS","startDate":"20260201","endDate":"20260228","advertiserIds":"1, 2"}"#),
            "7",
            TODAY,
        )
        .unwrap();
        assert_eq!(p.group_by, None);
        assert_eq!(p.metrics.len(), PRODUCTS_METRICS.len());
        assert_eq!(p.advertisers, vec!["1", "2"]);
    }

    #[test]
    fn rejects_what_amazon_rejects() {
        for bad in [
            r#"{"reportType":"PRODUCTS","groupBy":"ADGROUP","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"metrics":"brb_bonus_amount","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"groupBy":"CREATIVE","metrics":"brb_bonus_amount","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"count":0,"startDate":"20260201","endDate":"20260228"}"#,
            r#"{"count":5001,"startDate":"20260201","endDate":"20260228"}"#,
            r#"{"startDate":"2026-02-01","endDate":"20260228"}"#,
            r#"{"startDate":"20260230","endDate":"20260228"}"#,
            r#"{"startDate":"20260228","endDate":"20260201"}"#,
            r#"{"reportType":"PRODUCTS","startDate":"20251130","endDate":"20260228"}"#,
            r#"{"metrics":"clicks","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"reportType":"PRODUCTS","metrics":"Click-throughs","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"advertiserIds":"abc","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"cursorId":"zz","startDate":"20260201","endDate":"20260228"}"#,
        ] {
            assert!(
                matches!(
                    validate(&body(bad), "7", TODAY),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad}"
            );
        }
        for ok in [
            r#"{"groupBy":"ADGROUP","metrics":"brb_bonus_amount,Click-throughs","startDate":"20260201","endDate":"20260228"}"#,
            r#"{"groupBy":"CAMPAIGN","metrics":"brb_bonus_amount","count":5000,"startDate":"20260201","endDate":"20260201"}"#,
            r#"{"reportType":"PRODUCTS","startDate":"20251201","endDate":"20260228","count":1,"cursorId":""}"#,
        ] {
            assert!(validate(&body(ok), "7", TODAY).is_ok(), "{ok}");
        }
    }

    #[test]
    fn cursor_round_trips() {
        let k = RowKey {
            date: "20260101".into(),
            advertiser_id: "1".into(),
            campaign_id: "c é".into(),
            halo: 1,
            ..RowKey::default()
        };
        assert_eq!(RowKey::from_cursor(&k.to_cursor()), Some(k));
        assert_eq!(RowKey::from_cursor("abc"), None);
        assert_eq!(RowKey::from_cursor("00"), None);
    }
}
