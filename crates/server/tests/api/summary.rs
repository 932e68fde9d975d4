//! Report summaries: server-side totals and breakdowns that agree with the daily rows.

use std::collections::{BTreeMap, BTreeSet};

use quiver_domain::format_iso;
use reqwest::StatusCode;
use serde_json::Value;
use time::Date;

use crate::support::{CREATOR, SELLER, TestApp};

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn days_ago(n: i64) -> Date {
    today() - time::Duration::days(n)
}

fn minor(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

async fn seeded() -> TestApp {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    app
}

/// Every row of a report, following cursors to the end.
async fn all_rows(app: &TestApp, token: &str, path: &str, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("{query}&limit=500");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&format!("{path}?{q}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {:?}", r.body);
        rows.extend(r.body["rows"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return rows,
        }
    }
}

/// Per currency: (clicks, purchases, sales, commission, brb) in minor units.
type ByCurrency = BTreeMap<String, (i64, i64, i64, i64, i64)>;

fn rows_by_currency(rows: &[Value], commission: &str, purchases: &str) -> ByCurrency {
    let mut out = ByCurrency::new();
    for r in rows {
        let e = out
            .entry(r["currency"].as_str().unwrap().to_owned())
            .or_default();
        e.0 += r["clicks"].as_i64().unwrap();
        e.1 += r[purchases].as_i64().unwrap();
        e.2 += minor(&r["sales"]);
        e.3 += minor(&r[commission]);
        e.4 += r.get("brandReferralBonus").map_or(0, minor);
    }
    out
}

fn funnel_by_currency(f: &Value) -> ByCurrency {
    f["money"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["currency"].as_str().unwrap().to_owned(),
                (
                    m["clicks"].as_i64().unwrap(),
                    m["purchases"].as_i64().unwrap(),
                    minor(&m["sales"]),
                    minor(&m["commission"]),
                    m.get("brand_referral_bonus").map_or(0, minor),
                ),
            )
        })
        .collect()
}

/// The sum of the breakdown rows, per currency.
fn rows_sum(summary: &Value) -> ByCurrency {
    let mut out = ByCurrency::new();
    for r in summary["rows"].as_array().unwrap() {
        for (cur, v) in funnel_by_currency(r) {
            let e = out.entry(cur).or_default();
            e.0 += v.0;
            e.1 += v.1;
            e.2 += v.2;
            e.3 += v.3;
            e.4 += v.4;
        }
    }
    out
}

fn sum_field(rows: &[Value], field: &str) -> i64 {
    rows.iter().map(|r| r[field].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn creator_summary_totals_equal_the_daily_rows_to_the_cent() {
    let app = seeded().await;
    let token = app.token(CREATOR).await;
    let q = format!(
        "start={}&end={}",
        format_iso(days_ago(89)),
        format_iso(today())
    );
    let rows = all_rows(&app, &token, "/reports", &q).await;
    assert!(rows.len() > 100, "{}", rows.len());
    let want = rows_by_currency(&rows, "commissionEarned", "purchases");
    assert!(want.len() >= 3, "several currencies: {want:?}");

    for group in ["day", "link", "product", "marketplace", "brand"] {
        let r = app
            .get(&format!("/reports/summary?{q}&group_by={group}"), &token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{group}: {:?}", r.body);
        let s = &r.body;
        assert_eq!(s["group_by"], group);
        assert_eq!(funnel_by_currency(&s["totals"]), want, "{group} totals");
        assert_eq!(rows_sum(s), want, "{group} rows");
        let t = &s["totals"];
        assert_eq!(t["clicks"].as_i64().unwrap(), sum_field(&rows, "clicks"));
        assert_eq!(
            t["detail_page_views"].as_i64().unwrap(),
            sum_field(&rows, "detailPageViews")
        );
        assert_eq!(
            t["add_to_carts"].as_i64().unwrap(),
            sum_field(&rows, "addToCarts")
        );
        assert_eq!(
            t["units_sold"].as_i64().unwrap(),
            sum_field(&rows, "unitsSold")
        );
        // Each group appears once, currencies inside.
        let keys: Vec<&str> = s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(unique.len(), keys.len(), "{group}: {keys:?}");
        let expected: BTreeSet<String> = rows
            .iter()
            .map(|r| match group {
                "day" => r["date"].as_str().unwrap().to_owned(),
                "link" => r["link"]["id"].as_str().unwrap().to_owned(),
                "product" => r["asin"].as_str().unwrap().to_owned(),
                "marketplace" => r["marketplace"].as_str().unwrap().to_owned(),
                _ => r["brand_id"].as_str().unwrap().to_owned(),
            })
            .collect();
        assert_eq!(
            unique,
            expected.iter().map(String::as_str).collect(),
            "{group}"
        );
    }

    let r = app
        .get(&format!("/reports/summary?{q}&group_by=link"), &token)
        .await;
    for row in r.body["rows"].as_array().unwrap() {
        assert!(!row["label"].as_str().unwrap().is_empty(), "{row}");
        assert!(row["url"].as_str().unwrap().starts_with("http"), "{row}");
    }
    // Data has been ingested; the last 28 days may still change.
    assert!(r.body["data_as_of"].as_str().is_some(), "{}", r.body);
    assert_eq!(
        r.body["provisional_from"],
        format_iso(today() - time::Duration::days(28))
    );
    let day = app
        .get(&format!("/reports/summary?{q}&group_by=day"), &token)
        .await;
    let days = day.body["rows"].as_array().unwrap();
    assert!(days.iter().any(|d| d["final"] == true));
    assert!(days.iter().any(|d| d["final"] == false));

    // The previous period has the same length and its own totals.
    let prev = &r.body["previous"];
    assert_eq!(prev["end"], format_iso(days_ago(90)));
    assert_eq!(prev["start"], format_iso(days_ago(179)));
    let pq = format!(
        "start={}&end={}",
        format_iso(days_ago(59)),
        format_iso(days_ago(30))
    );
    let later = app.get(&format!("/reports/summary?{pq}"), &token).await;
    let earlier_rows = all_rows(
        &app,
        &token,
        "/reports",
        &format!(
            "start={}&end={}",
            format_iso(days_ago(89)),
            format_iso(days_ago(60))
        ),
    )
    .await;
    assert_eq!(
        funnel_by_currency(&later.body["previous"]["totals"]),
        rows_by_currency(&earlier_rows, "commissionEarned", "purchases")
    );

    // The filters of /reports apply.
    let one = rows[0]["link"]["id"].as_str().unwrap();
    let filtered = app
        .get(&format!("/reports/summary?{q}&link_ids={one}"), &token)
        .await;
    let one_rows = all_rows(&app, &token, "/reports", &format!("{q}&link_ids={one}")).await;
    assert_eq!(
        funnel_by_currency(&filtered.body["totals"]),
        rows_by_currency(&one_rows, "commissionEarned", "purchases")
    );
    let us = app
        .get(
            &format!("/reports/summary?{q}&marketplace=amazon.com"),
            &token,
        )
        .await;
    let us_money = funnel_by_currency(&us.body["totals"]);
    assert_eq!(us_money.keys().collect::<Vec<_>>(), ["USD"]);
}

#[tokio::test]
async fn brand_summary_names_creators_and_matches_the_seller_rows() {
    let app = seeded().await;
    let seller = app.token(SELLER).await;
    let q = format!(
        "start={}&end={}",
        format_iso(days_ago(89)),
        format_iso(today())
    );
    let rows = all_rows(&app, &seller, "/sellers/reports", &q).await;
    assert!(!rows.is_empty());
    let want = rows_by_currency(&rows, "commissionPaid", "conversions");
    assert!(want.values().any(|v| v.4 > 0), "BRB present: {want:?}");
    for group in ["day", "creator", "product", "marketplace", "brand"] {
        let r = app
            .get(
                &format!("/sellers/reports/summary?{q}&group_by={group}"),
                &seller,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{group}: {:?}", r.body);
        assert_eq!(funnel_by_currency(&r.body["totals"]), want, "{group}");
        assert_eq!(rows_sum(&r.body), want, "{group}");
    }
    let r = app
        .get(
            &format!("/sellers/reports/summary?{q}&group_by=creator"),
            &seller,
        )
        .await;
    let creators = r.body["rows"].as_array().unwrap();
    let ids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["creator"].as_str().unwrap())
        .collect();
    assert_eq!(creators.len(), ids.len(), "one row per creator");
    for c in creators {
        assert!(ids.contains(c["key"].as_str().unwrap()));
        assert!(!c["label"].as_str().unwrap().is_empty(), "named: {c}");
    }
    // Filters by product and creator apply.
    let asin = rows[0]["asin"].as_str().unwrap();
    let by_asin = app
        .get(
            &format!("/sellers/reports/summary?{q}&asins={asin}"),
            &seller,
        )
        .await;
    let asin_rows = all_rows(
        &app,
        &seller,
        "/sellers/reports",
        &format!("{q}&asins={asin}"),
    )
    .await;
    assert_eq!(
        funnel_by_currency(&by_asin.body["totals"]),
        rows_by_currency(&asin_rows, "commissionPaid", "conversions")
    );
}

#[tokio::test]
async fn summary_validation_and_account_kinds() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    let q = format!(
        "start={}&end={}",
        format_iso(days_ago(6)),
        format_iso(today())
    );
    let r = app
        .get(&format!("/reports/summary?{q}&group_by=creator"), &creator)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["detail"][0]["loc"][1], "group_by");
    let r = app.get("/reports/summary?end=2026-01-01", &creator).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&format!("/reports/summary?{q}"), &seller).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "wrong_account_type");
    let r = app
        .get(&format!("/sellers/reports/summary?{q}"), &creator)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Nothing yet: zero totals, no rows, and no ingestion to date from.
    let r = app.get(&format!("/reports/summary?{q}"), &creator).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totals"]["clicks"], 0);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 0);
    assert_eq!(r.body["previous"]["start"], format_iso(days_ago(13)));
}
