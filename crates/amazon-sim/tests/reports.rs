//! Visits → reports: validation, consistency between PERFORMANCE, PRODUCTS and
//! /_sim/truth, paging, determinism and restatement.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use amazon_sim::SimConfig;
use amazon_sim::truth::{TruthResponse, TruthRow};
use common::*;
use quiver_amazon::wire::{ReportEntry, conversion_type, decimal_to_minor, metric};
use serde_json::{Value, json};

const PROMOTED: &str = "B0PROMO001";
const OTHER_A: &str = "B0OTHER001";
const OTHER_B: &str = "B0OTHER002";
const LONELY: &str = "B0LONELY01";

async fn catalog(api: &Api) {
    let r = api
        .sim_post(
            "/_sim/catalog",
            json!({"advertiserId": ADVERTISER, "products": [
                {"asin": PROMOTED, "marketplace": "amazon.com", "name": "Promoted tent", "price": "19.99"},
                {"asin": OTHER_A, "marketplace": "amazon.com", "name": "Stove", "price": "34.50"},
                {"asin": OTHER_B, "marketplace": "amazon.com", "name": "Lamp", "price": "7.25"},
                {"asin": LONELY, "marketplace": "amazon.de", "name": "Einsam", "price": "10.00"}
            ]}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

/// Three ad groups over two campaigns, one with two creatives, one alone in its
/// marketplace (so without halo), over a few days.
async fn traffic(api: &Api) {
    for (day, clicks) in [
        ("2026-02-20", 400),
        ("2026-02-21", 250),
        ("2026-02-25", 1200),
    ] {
        api.visit(&link("amazon.com", PROMOTED, "c1", "g1", "r1"), day, clicks)
            .await;
        api.visit(
            &link("amazon.com", PROMOTED, "c1", "g1", "r2"),
            day,
            clicks / 2,
        )
        .await;
        api.visit(
            &link("amazon.com", PROMOTED, "c1", "g2", "r3"),
            day,
            clicks / 3,
        )
        .await;
        api.visit(&link("amazon.de", LONELY, "c2", "g3", "r4"), day, clicks)
            .await;
    }
}

fn minor(n: &serde_json::Number) -> i64 {
    decimal_to_minor(&n.to_string())
}

fn entries(rows: Vec<Value>) -> Vec<ReportEntry> {
    rows.into_iter()
        .map(|r| serde_json::from_value(r).unwrap())
        .collect()
}

async fn truth(api: &Api) -> Vec<TruthRow> {
    let t: TruthResponse =
        serde_json::from_value(api.truth(ADVERTISER, "2026-02-01", "20260301").await).unwrap();
    t.rows
}

fn report_body(extra: Value) -> Value {
    let mut body =
        json!({"startDate": "20260201", "endDate": "20260301", "advertiserIds": ADVERTISER});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn report_validation_matches_amazon() {
    let api = Api::new(sim().await).await;
    let cases = [
        json!({"reportType": "PRODUCTS", "groupBy": "ADGROUP", "startDate": "20260201", "endDate": "20260228"}),
        json!({"metrics": "brb_bonus_amount", "startDate": "20260201", "endDate": "20260228"}),
        json!({"groupBy": "CREATIVE", "metrics": "Click-throughs,brb_bonus_amount", "startDate": "20260201", "endDate": "20260228"}),
        json!({"count": 0, "startDate": "20260201", "endDate": "20260228"}),
        json!({"count": 5001, "startDate": "20260201", "endDate": "20260228"}),
        json!({"startDate": "2026-02-01", "endDate": "20260228"}),
        json!({"startDate": "20260201", "endDate": "2026022"}),
        json!({"startDate": "20260231", "endDate": "20260301"}),
        json!({"startDate": "20260228", "endDate": "20260201"}),
        json!({"reportType": "PRODUCTS", "startDate": "20251130", "endDate": "20260228"}),
        json!({"metrics": "Click-throughs,bogus", "startDate": "20260201", "endDate": "20260228"}),
        json!({"reportType": "PRODUCTS", "metrics": "totalAttributedSales14d", "startDate": "20260201", "endDate": "20260228"}),
        json!({"reportType": "BOGUS", "startDate": "20260201", "endDate": "20260228"}),
        json!({"endDate": "20260228"}),
        json!({"cursorId": "not-a-cursor", "startDate": "20260201", "endDate": "20260228"}),
    ];
    for body in cases {
        let details = assert_maas(api.report(body.clone()).await, 400).await;
        assert!(!details.is_empty(), "{body}");
    }
    let malformed = api
        .authed(reqwest::Method::POST, "/attribution/report")
        .header("content-type", "application/json")
        .body("{\"startDate\": ")
        .send()
        .await
        .unwrap();
    assert_maas(malformed, 400).await;

    // Boundaries that are fine.
    for body in [
        json!({"reportType": "PRODUCTS", "startDate": "20251201", "endDate": "20260301", "count": 5000}),
        json!({"groupBy": "CAMPAIGN", "metrics": "brb_bonus_amount", "startDate": "20260201", "endDate": "20260201", "count": 1, "cursorId": null}),
        json!({"groupBy": "ADGROUP", "metrics": "brb_bonus_amount", "startDate": "20260201", "endDate": "20260201", "cursorId": ""}),
    ] {
        let page = api.report_ok(body).await;
        assert_eq!(page["size"], 0);
        assert!(page["cursorId"].is_null());
    }
}

#[tokio::test]
async fn bad_visit_urls_are_400_with_a_reason() {
    let api = Api::new(sim().await).await;
    let cases = [
        ("nope", "not an absolute URL"),
        (
            "https://www.amazon.jp/dp/B0PROMO001?maas=maas_adg_api_1_static_9_99",
            "marketplace",
        ),
        (
            "https://www.amazon.com/B0PROMO001?maas=maas_adg_api_1_static_9_99",
            "/dp/",
        ),
        (
            "https://www.amazon.com/dp/B0PROMO001?aa_campaignid=c",
            "maas",
        ),
        (
            "https://www.amazon.com/dp/B0PROMO001?maas=maas_adg_api_1_static_9_99&aa_campaignid={insertCampaignId}&aa_adgroupid=g&aa_creativeid=r",
            "aa_campaignid",
        ),
    ];
    for (url, reason) in cases {
        let details = assert_maas(
            api.sim_post("/_sim/visits", json!({"url": url, "clicks": 3}))
                .await,
            400,
        )
        .await;
        assert!(details.contains(reason), "{url}: {details}");
    }
    assert_maas(
        api.sim_post(
            "/_sim/visits",
            json!({"url": link("amazon.com", PROMOTED, "c", "g", "r"), "date": "2026-13-01"}),
        )
        .await,
        400,
    )
    .await;
    assert_maas(
        api.sim_post(
            "/_sim/visits",
            json!({"url": link("amazon.com", PROMOTED, "c", "g", "r"), "clicks": -1}),
        )
        .await,
        400,
    )
    .await;

    let ok = api
        .sim_post(
            "/_sim/visits",
            json!({"url": link("amazon.com", PROMOTED, "c", "g", "r")}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let v: Value = ok.json().await.unwrap();
    assert_eq!(v["date"], "2026-03-01", "defaults to today");
    assert_eq!(v["clicks"], 1);
    assert_eq!(v["advertiserId"], ADVERTISER);
    assert_eq!(v["adGroupId"], "g");
    assert_eq!(v["publisher"], "Quiver");
}

#[tokio::test]
async fn reports_agree_with_each_other_and_with_truth() {
    let api = Api::new(sim().await).await;
    catalog(&api).await;
    traffic(&api).await;
    let truth = truth(&api).await;
    assert_eq!(truth.len(), 9, "3 ad groups × 3 days");

    // PERFORMANCE by ad group == truth, field by field.
    let by_ad_group = entries(
        api.report_all(report_body(
            json!({"groupBy": "ADGROUP", "metrics": PERF_WITH_BRB}),
        ))
        .await,
    );
    assert_eq!(by_ad_group.len(), truth.len());
    for (row, t) in by_ad_group.iter().zip(&truth) {
        assert_eq!(row.date.as_deref().unwrap(), t.date.replace('-', ""));
        assert_eq!(row.ad_group_id.as_deref(), Some(t.ad_group_id.as_str()));
        assert_eq!(row.campaign_id.as_deref(), Some(t.campaign_id.as_str()));
        assert_eq!(row.publisher.as_deref(), Some("Quiver"));
        assert_eq!(row.advertiser_name.as_deref(), Some("Advertiser 4242"));
        assert_eq!(row.creative_id, None);
        assert_eq!(row.count(metric::CLICK_THROUGHS), t.clicks);
        assert_eq!(row.count(metric::DETAIL_PAGE_VIEWS), t.promoted.dpv);
        assert_eq!(row.count(metric::ADD_TO_CARTS), t.promoted.atc);
        assert_eq!(row.count(metric::PURCHASES), t.promoted.purchases);
        assert_eq!(row.count(metric::UNITS_SOLD), t.promoted.units);
        assert_eq!(row.minor_units(metric::SALES), minor(&t.promoted.sales));
        assert_eq!(
            row.count(metric::TOTAL_DETAIL_PAGE_VIEWS),
            t.promoted.dpv + t.halo.dpv
        );
        assert_eq!(
            row.count(metric::TOTAL_ADD_TO_CARTS),
            t.promoted.atc + t.halo.atc
        );
        assert_eq!(
            row.count(metric::TOTAL_PURCHASES),
            t.promoted.purchases + t.halo.purchases
        );
        assert_eq!(
            row.count(metric::TOTAL_UNITS_SOLD),
            t.promoted.units + t.halo.units
        );
        assert_eq!(
            row.minor_units(metric::TOTAL_SALES),
            minor(&t.promoted.sales) + minor(&t.halo.sales)
        );
        assert_eq!(row.minor_units(metric::BRB_BONUS_AMOUNT), minor(&t.brb));
        // BRB ≈ 10% of promoted + halo sales.
        let base = minor(&t.promoted.sales) + minor(&t.halo.sales);
        assert!((minor(&t.brb) - base / 10).abs() <= 1);
        // The funnel narrows, and promoted sales are units × the catalog price.
        assert!(t.promoted.dpv <= t.clicks && t.promoted.atc <= t.promoted.dpv);
        assert!(t.promoted.purchases <= t.promoted.atc && t.promoted.units >= t.promoted.purchases);
        let price = if t.asin == PROMOTED { 1999 } else { 1000 };
        assert_eq!(minor(&t.promoted.sales), t.promoted.units * price);
        // Halo goes only to the brand's other ASINs in the same marketplace.
        let halo: BTreeSet<&str> = t.halo_by_asin.iter().map(|h| h.asin.as_str()).collect();
        if t.marketplace == "amazon.com" {
            assert_eq!(halo, BTreeSet::from([OTHER_A, OTHER_B]));
        } else {
            assert!(halo.is_empty());
            assert_eq!(t.halo.dpv, 0);
        }
        let halo_sum: i64 = t.halo_by_asin.iter().map(|h| h.funnel.purchases).sum();
        assert_eq!(halo_sum, t.halo.purchases);
    }
    let busy = truth
        .iter()
        .find(|t| t.ad_group_id == "g1" && t.date == "2026-02-25")
        .unwrap();
    assert_eq!(busy.clicks, 1800);
    assert!(busy.promoted.purchases > 0 && busy.halo.purchases > 0);

    // CAMPAIGN sums its ad groups; CREATIVE rows sum to their ad group.
    let by_campaign = entries(
        api.report_all(report_body(
            json!({"groupBy": "CAMPAIGN", "metrics": PERF_WITH_BRB}),
        ))
        .await,
    );
    let by_creative = entries(api.report_all(report_body(json!({}))).await);
    assert_eq!(by_campaign.len(), 6);
    assert_eq!(by_creative.len(), 12);
    for c in &by_campaign {
        assert_eq!(
            (
                c.ad_group_id.as_ref(),
                c.creative_id.as_ref(),
                c.publisher.as_ref()
            ),
            (None, None, None)
        );
        assert!(c.metrics.contains_key(metric::BRB_BONUS_AMOUNT));
    }
    for row in &by_creative {
        assert!(row.creative_id.is_some() && row.publisher.is_some());
        assert!(
            !row.metrics.contains_key(metric::BRB_BONUS_AMOUNT),
            "brb only when asked"
        );
    }
    for m in [
        metric::CLICK_THROUGHS,
        metric::PURCHASES,
        metric::SALES,
        metric::TOTAL_SALES,
        metric::TOTAL_UNITS_SOLD,
    ] {
        let sum = |rows: &[ReportEntry], key: &dyn Fn(&ReportEntry) -> (String, String)| {
            let mut acc: BTreeMap<(String, String), i64> = BTreeMap::new();
            for r in rows {
                *acc.entry(key(r)).or_default() += r.minor_units(m);
            }
            acc
        };
        let campaign_key =
            |r: &ReportEntry| (r.date.clone().unwrap(), r.campaign_id.clone().unwrap());
        let ad_group_key =
            |r: &ReportEntry| (r.date.clone().unwrap(), r.ad_group_id.clone().unwrap());
        assert_eq!(
            sum(&by_ad_group, &campaign_key),
            sum(&by_campaign, &campaign_key),
            "{m}"
        );
        assert_eq!(
            sum(&by_creative, &ad_group_key),
            sum(&by_ad_group, &ad_group_key),
            "{m}"
        );
    }

    // PRODUCTS: promoted rows carry the promoted funnel, halo rows the halo funnel, and
    // together they make PERFORMANCE's totals.
    let products = entries(
        api.report_all(report_body(json!({"reportType": "PRODUCTS"})))
            .await,
    );
    let mut per_ad_group: BTreeMap<(String, String), (i64, i64, i64, i64)> = BTreeMap::new();
    for p in &products {
        assert_eq!(p.creative_id, None);
        assert!(
            p.product_name.is_some() && p.product_group.is_some() && p.product_category.is_some()
        );
        assert!(p.product_subcategory.is_some() && p.brand_name.is_some() && p.publisher.is_some());
        let kind = p.product_conversion_type.as_deref().unwrap();
        let e = per_ad_group
            .entry((p.date.clone().unwrap(), p.ad_group_id.clone().unwrap()))
            .or_default();
        if kind == conversion_type::PROMOTED {
            assert!(!p.metrics.contains_key(metric::HALO_PURCHASES));
            e.0 += p.count(metric::PURCHASES);
            e.1 += p.minor_units(metric::SALES);
        } else {
            assert_eq!(kind, conversion_type::BRAND_HALO);
            assert!(!p.metrics.contains_key(metric::PURCHASES));
            assert_ne!(p.product_asin.as_deref(), Some(PROMOTED));
            e.2 += p.count(metric::HALO_PURCHASES);
            e.3 += p.minor_units(metric::HALO_SALES);
        }
        let marketplace = p.marketplace.as_deref().unwrap();
        assert!(marketplace == "amazon.com" || marketplace == "amazon.de");
    }
    let promo = products
        .iter()
        .find(|p| p.product_asin.as_deref() == Some(PROMOTED))
        .unwrap();
    assert_eq!(promo.product_name.as_deref(), Some("Promoted tent"));
    for t in &truth {
        let (pp, ps, hp, hs) = per_ad_group[&(t.date.replace('-', ""), t.ad_group_id.clone())];
        assert_eq!((pp, ps), (t.promoted.purchases, minor(&t.promoted.sales)));
        assert_eq!((hp, hs), (t.halo.purchases, minor(&t.halo.sales)));
        let perf = by_ad_group
            .iter()
            .find(|r| {
                r.date.as_deref() == Some(&t.date.replace('-', ""))
                    && r.ad_group_id.as_deref() == Some(&t.ad_group_id)
            })
            .unwrap();
        assert_eq!(perf.count(metric::TOTAL_PURCHASES), pp + hp);
        assert_eq!(perf.minor_units(metric::TOTAL_SALES), ps + hs);
    }
}

const PERF_WITH_BRB: &str = "Click-throughs,attributedDetailPageViewsClicks14d,attributedAddToCartClicks14d,\
attributedPurchases14d,unitsSold14d,attributedSales14d,attributedTotalDetailPageViewsClicks14d,\
attributedTotalAddToCartClicks14d,attributedTotalPurchases14d,totalUnitsSold14d,totalAttributedSales14d,brb_bonus_amount";

#[tokio::test]
async fn metrics_list_selects_metrics_and_money_has_two_decimals() {
    let api = Api::new(sim().await).await;
    catalog(&api).await;
    traffic(&api).await;
    let rows = api
        .report_all(report_body(
            json!({"groupBy": "ADGROUP", "metrics": "Click-throughs, attributedSales14d"}),
        ))
        .await;
    for row in &rows {
        let keys: BTreeSet<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(keys.contains("Click-throughs") && keys.contains("attributedSales14d"));
        assert!(!keys.contains("attributedPurchases14d"));
        assert!(keys.contains("date") && keys.contains("advertiserName"));
    }
    let text = api
        .report(report_body(json!({"reportType": "PRODUCTS"})))
        .await
        .text()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    for row in v["reports"].as_array().unwrap() {
        for (k, val) in row.as_object().unwrap() {
            if k.contains("Sales") {
                let s = val.as_number().unwrap().to_string();
                let decimals = s.split_once('.').map_or(0, |(_, f)| f.len());
                assert!(decimals <= 2, "{k} = {s}");
            }
        }
    }
}

#[tokio::test]
async fn advertiser_filter_and_profile_default() {
    let api = Api::new(sim().await).await;
    traffic(&api).await;
    // Traffic for the profile's own advertiser.
    let own = format!(
        "https://www.amazon.com/dp/{PROMOTED}?maas=maas_adg_api_{PROFILE}_static_9_99&aa_campaignid=x&aa_adgroupid=y&aa_creativeid=z"
    );
    api.visit(&own, "2026-02-20", 10).await;

    let default = entries(
        api.report_all(
            json!({"startDate": "20260201", "endDate": "20260301", "groupBy": "CAMPAIGN"}),
        )
        .await,
    );
    assert_eq!(default.len(), 1);
    assert_eq!(
        default[0].advertiser_name.as_deref(),
        Some("Advertiser 111")
    );

    let both = entries(
        api.report_all(json!({"startDate": "20260201", "endDate": "20260301", "groupBy": "CAMPAIGN", "advertiserIds": format!("{ADVERTISER},{PROFILE}")}))
            .await,
    );
    assert_eq!(both.len(), 7);
    let none = api
        .report_ok(json!({"startDate": "20260201", "endDate": "20260301", "advertiserIds": "999"}))
        .await;
    assert_eq!(none["size"], 0);
    // The date range filters too.
    let one_day = entries(
        api.report_all(report_body(
            json!({"startDate": "20260221", "endDate": "20260221", "groupBy": "ADGROUP"}),
        ))
        .await,
    );
    assert_eq!(one_day.len(), 3);
    assert!(
        one_day
            .iter()
            .all(|r| r.date.as_deref() == Some("20260221"))
    );
}

#[tokio::test]
async fn paging_loses_and_duplicates_nothing() {
    let api = Api::new(sim().await).await;
    catalog(&api).await;
    for g in 0..25 {
        for day in ["2026-02-10", "2026-02-11", "2026-02-12"] {
            api.visit(
                &link(
                    "amazon.com",
                    PROMOTED,
                    &format!("c{}", g % 4),
                    &format!("g{g}"),
                    "r",
                ),
                day,
                50 + g,
            )
            .await;
        }
    }
    for (body, expected) in [
        (report_body(json!({})), 75),
        (report_body(json!({"reportType": "PRODUCTS"})), 0),
    ] {
        let mut whole = body.clone();
        whole["count"] = json!(5000);
        let all = api.report_ok(whole).await;
        let single: Vec<Value> = all["reports"].as_array().unwrap().clone();
        assert!(all["cursorId"].is_null());
        if expected > 0 {
            assert_eq!(single.len(), expected);
        }
        for count in [1, 7, 25, 74, 75] {
            let mut b = body.clone();
            b["count"] = json!(count);
            let paged = api.report_all(b).await;
            assert_eq!(paged, single, "count {count}");
        }
        let keys: BTreeSet<String> = single
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}|{}",
                    r["date"], r["adGroupId"], r["creativeId"], r["productAsin"]
                )
            })
            .collect();
        assert_eq!(keys.len(), single.len(), "rows are unique");
        let dates: Vec<&str> = single.iter().map(|r| r["date"].as_str().unwrap()).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "ordered by date");
    }
    // The first page says how many rows it has and where to continue.
    let first = api.report_ok(report_body(json!({"count": 10}))).await;
    assert_eq!(first["size"], 10);
    assert!(first["cursorId"].as_str().is_some());
}

async fn scenario(seed: u64) -> Vec<TruthRow> {
    let api = Api::new(
        sim_with(SimConfig {
            seed,
            today: Some(TODAY),
            ..SimConfig::default()
        })
        .await,
    )
    .await;
    catalog(&api).await;
    traffic(&api).await;
    truth(&api).await
}

#[tokio::test]
async fn same_seed_same_numbers_other_seed_other_numbers() {
    let a = scenario(42).await;
    let b = scenario(42).await;
    let c = scenario(43).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Clicks are what was recorded, whatever the seed.
    let clicks = |rows: &[TruthRow]| rows.iter().map(|r| r.clicks).collect::<Vec<_>>();
    assert_eq!(clicks(&a), clicks(&c));
}

async fn snapshot(api: &Api) -> TruthResponse {
    serde_json::from_value(api.truth(ADVERTISER, "2026-01-01", "2026-03-31").await).unwrap()
}

#[tokio::test]
async fn recent_days_restate_and_old_days_are_final() {
    let api = Api::new(sim().await).await;
    catalog(&api).await;
    let old = "2026-01-10"; // 50 days before TODAY
    let recent = "2026-02-25"; // 4 days before TODAY
    api.visit(&link("amazon.com", PROMOTED, "c", "g", "r"), old, 5000)
        .await;
    api.visit(&link("amazon.com", PROMOTED, "c", "g", "r"), recent, 5000)
        .await;
    let at =
        |t: &TruthResponse, date: &str| t.rows.iter().find(|r| r.date == date).unwrap().clone();
    let day0 = snapshot(&api).await;
    assert_eq!(day0.today, "2026-03-01");
    api.sim_put("/_sim/clock", json!({"today": "2026-03-02"}))
        .await;
    let day1 = snapshot(&api).await;
    assert_eq!(at(&day0, old), at(&day1, old), "older than 28 days: final");
    let (r0, r1) = (at(&day0, recent), at(&day1, recent));
    assert_ne!(r0, r1, "within 28 days: restated");
    assert_eq!(r0.clicks, r1.clicks);
    // A little, not wildly: within 10% of the clicks.
    assert!((r0.promoted.dpv - r1.promoted.dpv).abs() <= 500);

    // Reports follow the same clock.
    let report = entries(
        api.report_all(json!({"startDate": "20260225", "endDate": "20260225", "groupBy": "ADGROUP", "advertiserIds": ADVERTISER}))
            .await,
    );
    assert_eq!(report[0].count(metric::PURCHASES), r1.promoted.purchases);

    // Once the day leaves the window it stops moving.
    api.sim.set_today(time::macros::date!(2026 - 04 - 01));
    let late1 = snapshot(&api).await;
    api.sim.set_today(time::macros::date!(2026 - 04 - 15));
    let late2 = snapshot(&api).await;
    assert_eq!(at(&late1, recent), at(&late2, recent));
}

#[tokio::test]
async fn truth_validates_its_query() {
    let api = Api::new(sim().await).await;
    for q in [
        "/_sim/truth?advertiserId=1&start=2026-01-01",
        "/_sim/truth?advertiserId=1&start=2026-01-01&end=nope",
        "/_sim/truth?advertiserId=1&start=2026-02-01&end=2026-01-01",
    ] {
        assert_maas(api.http.get(api.url(q)).send().await.unwrap(), 400).await;
    }
    let empty = api.truth("1", "20260101", "2026-01-31").await;
    assert_eq!(empty["rows"], json!([]));
}

#[tokio::test]
async fn the_handle_drives_the_same_state_as_http() {
    use amazon_sim::catalog::Product;
    use quiver_domain::{Asin, Marketplace};
    use time::macros::date;

    let api = Api::new(sim().await).await;
    let sim = &api.sim;
    let n = sim.register_products(
        ADVERTISER,
        [
            (
                Marketplace::Us,
                Asin::parse(PROMOTED).unwrap(),
                Product {
                    name: "Tent".into(),
                    price_minor: 1000,
                },
            ),
            (
                Marketplace::Us,
                Asin::parse(OTHER_A).unwrap(),
                Product {
                    name: "Stove".into(),
                    price_minor: 500,
                },
            ),
        ],
    );
    assert_eq!(n, 2);
    let url = link("amazon.com", PROMOTED, "c", "g", "r");
    let v = sim
        .record_visit(&url, Some(date!(2026 - 02 - 20)), 300)
        .unwrap();
    assert_eq!(v.clicks, 300);
    assert!(sim.record_visit("https://example.com/", None, 1).is_err());
    // Zero clicks records nothing but reports the running total.
    assert_eq!(
        sim.record_visit(&url, Some(date!(2026 - 02 - 20)), 0)
            .unwrap()
            .clicks,
        300
    );
    assert_eq!(
        sim.record_visit(&url, Some(date!(2026 - 02 - 21)), 0)
            .unwrap()
            .clicks,
        0
    );

    let t = sim.truth(ADVERTISER, date!(2026 - 02 - 01), date!(2026 - 03 - 01));
    assert_eq!(t.rows.len(), 1);
    assert_eq!(
        minor(&t.rows[0].promoted.sales),
        t.rows[0].promoted.units * 1000
    );
    assert_eq!(t.rows[0].halo_by_asin.len(), 1);
    let over_http: TruthResponse =
        serde_json::from_value(api.truth(ADVERTISER, "2026-02-01", "2026-03-01").await).unwrap();
    assert_eq!(over_http, t);
}

#[tokio::test]
async fn huge_inputs_never_break_a_report() {
    let api = Api::new(sim().await).await;
    let r = api
        .sim_post(
            "/_sim/catalog",
            json!({"advertiserId": ADVERTISER, "products": [
                {"asin": PROMOTED, "marketplace": "amazon.com", "price": "1000000.00"},
                {"asin": OTHER_A, "marketplace": "amazon.com", "price": "1000000"}
            ]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let too_dear = json!({"advertiserId": ADVERTISER, "products": [{"asin": OTHER_B, "marketplace": "amazon.com", "price": "1000000.01"}]});
    assert_maas(api.sim_post("/_sim/catalog", too_dear).await, 400).await;
    assert_maas(
        api.sim_post(
            "/_sim/visits",
            json!({"url": link("amazon.com", PROMOTED, "c", "g", "r"), "clicks": 10_000_001}),
        )
        .await,
        400,
    )
    .await;
    for _ in 0..3 {
        api.visit(
            &link("amazon.com", PROMOTED, "c", "g", "r"),
            "2026-02-20",
            10_000_000,
        )
        .await;
    }
    let rows = entries(
        api.report_all(report_body(
            json!({"groupBy": "CAMPAIGN", "metrics": PERF_WITH_BRB}),
        ))
        .await,
    );
    assert_eq!(rows[0].count(metric::CLICK_THROUGHS), 30_000_000);
    assert!(rows[0].minor_units(metric::TOTAL_SALES) > 0);
    assert_eq!(
        api.report(report_body(json!({"reportType": "PRODUCTS"})))
            .await
            .status(),
        200
    );
}
