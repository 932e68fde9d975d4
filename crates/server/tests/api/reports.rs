//! Reports: ingestion from the simulator into daily facts, and the report endpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use amazon_sim::{Faults, SimHandle};
use quiver::ingest::{Options, Outcome, Summary, run_once};
use quiver_amazon::{BreakerState, Region};
use quiver_domain::{format_compact, format_iso};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Date;

use crate::support::{CREATOR, CREATOR2, SELLER, TestApp};

const NW_NA: &str = "4000000001";
const NW_EU: &str = "4000000002";
const PEAK_NA: &str = "4000000021";

async fn app() -> TestApp {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::register_catalog(app.sim());
    app
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn days_ago(n: i64) -> Date {
    today() - time::Duration::days(n)
}

async fn ingest_with(app: &TestApp, opts: &Options) -> Summary {
    match run_once(&app.running.state.db, &app.running.amazon.client, opts)
        .await
        .unwrap()
    {
        Outcome::Ran(s) => s,
        Outcome::Busy => panic!("ingestion lease busy"),
    }
}

async fn ingest(app: &TestApp) -> Summary {
    let s = ingest_with(app, &Options::default()).await;
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    s
}

/// Creates a link and returns (id, url).
async fn link(app: &TestApp, token: &str, asin: &str, marketplace: &str) -> (String, String) {
    let r = app.create_link(token, asin, marketplace).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["url"].as_str().unwrap().to_owned(),
    )
}

fn visit(app: &TestApp, url: &str, day: Date, clicks: u64) {
    app.sim().record_visit(url, Some(day), clicks).unwrap();
}

/// Every row of a report, following cursors to the end.
async fn all_rows(app: &TestApp, token: &str, path: &str, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = query.to_owned();
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

fn range_query(start: Date, end: Date) -> String {
    format!("start={}&end={}", format_iso(start), format_iso(end))
}

fn minor(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

fn key(r: &Value) -> (String, String, String) {
    (
        r["date"].as_str().unwrap().to_owned(),
        r["link"]["id"].as_str().unwrap().to_owned(),
        r["asin"].as_str().unwrap().to_owned(),
    )
}

/// Sums of the simulator's own figures (promoted + halo) over advertisers and a range.
#[derive(Debug, Default, PartialEq, Eq)]
struct Sums {
    clicks: i64,
    dpv: i64,
    atc: i64,
    purchases: i64,
    units: i64,
    sales: i64,
    brb: i64,
}

fn truth_sums(app: &TestApp, advertisers: &[&str], start: Date, end: Date) -> Sums {
    sim_truth_sums(app.sim(), advertisers, start, end)
}

fn sim_truth_sums(sim: &SimHandle, advertisers: &[&str], start: Date, end: Date) -> Sums {
    let mut s = Sums::default();
    for a in advertisers {
        let t = serde_json::to_value(sim.truth(a, start, end)).unwrap();
        for r in t["rows"].as_array().unwrap() {
            s.clicks += r["clicks"].as_i64().unwrap();
            for part in [r, &r["halo"]] {
                s.dpv += part["dpv"].as_i64().unwrap();
                s.atc += part["atc"].as_i64().unwrap();
                s.purchases += part["purchases"].as_i64().unwrap();
                s.units += part["units"].as_i64().unwrap();
                s.sales += minor(&part["sales"]);
            }
            s.brb += minor(&r["brb"]);
        }
    }
    s
}

fn report_sums(rows: &[Value]) -> Sums {
    let mut s = Sums::default();
    for r in rows {
        s.clicks += r["clicks"].as_i64().unwrap();
        s.dpv += r["detailPageViews"].as_i64().unwrap();
        s.atc += r["addToCarts"].as_i64().unwrap();
        s.purchases += r["conversions"].as_i64().unwrap();
        s.units += r["unitsSold"].as_i64().unwrap();
        s.sales += minor(&r["sales"]);
        s.brb += r.get("brandReferralBonus").map_or(0, minor);
    }
    s
}

/// Half-up commission in minor units, computed independently of the server's code.
fn commission(sales_minor: i64, bps: i64) -> i64 {
    (sales_minor * bps + 5_000).div_euclid(10_000)
}

/// The demo rates: northwind 12%, peak-audio 10% with B0PKBUDS01 at 12.5%.
fn demo_rate(asin: &str) -> i64 {
    match asin {
        "B0PKBUDS01" => 1250,
        a if a.starts_with("B0PK") => 1000,
        a if a.starts_with("B0LM") => 1500,
        _ => 1200,
    }
}

#[tokio::test]
async fn ingestion_is_idempotent_and_restatement_updates_in_place() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (backpack_id, backpack) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    let (earbuds_id, earbuds) = link(&app, &token, "B0PKBUDS01", "amazon.com").await;
    for age in 0..12 {
        visit(&app, &backpack, days_ago(age), 400 + age as u64);
        visit(&app, &earbuds, days_ago(age), 300);
    }
    let first = ingest(&app).await;
    assert!(first.inserted > 0);
    let q = range_query(days_ago(30), today());
    let before = all_rows(&app, &token, "/reports", &q).await;
    assert!(!before.is_empty());

    // Running again changes nothing.
    let second = ingest(&app).await;
    assert_eq!((second.inserted, second.updated), (0, 0), "{second:?}");
    let again = all_rows(&app, &token, "/reports", &q).await;
    assert_eq!(before, again);

    // Amazon restates: figures move, rows stay where they are, nothing is duplicated.
    app.sim().set_today(today() + time::Duration::days(1));
    let third = ingest(&app).await;
    assert!(third.updated > 0, "{third:?}");
    let after = all_rows(&app, &token, "/reports", &q).await;
    let keys_before: BTreeSet<_> = before.iter().map(key).collect();
    let keys_after: Vec<_> = after.iter().map(key).collect();
    let unique: BTreeSet<_> = keys_after.iter().cloned().collect();
    assert_eq!(unique.len(), keys_after.len(), "duplicate rows");
    assert!(keys_before.is_subset(&unique));
    assert_ne!(before, after, "restated values were not picked up");
    // Clicks never restate; everything matches the source as of the new day.
    assert_eq!(report_sums(&before).clicks, report_sums(&after).clicks);
    let truth = truth_sums(&app, &[NW_NA, PEAK_NA], days_ago(30), today());
    assert_eq!(report_sums(&after), Sums { brb: 0, ..truth });
    let r = app.get(&format!("/reports?{q}&limit=1"), &token).await;
    assert_eq!(
        r.body["total_count"].as_u64().unwrap() as usize,
        after.len()
    );
    assert!(truth.brb > 0);
    // The seller's pre-aggregated rows followed every change too, BRB included.
    let seller = app.token(SELLER).await;
    let srows = all_rows(&app, &seller, "/sellers/reports", &q).await;
    assert_eq!(report_sums(&srows), truth);
    let by_links = all_rows(
        &app,
        &seller,
        "/sellers/reports",
        &format!("{q}&link_ids={backpack_id},{earbuds_id}"),
    )
    .await;
    assert_eq!(by_links, srows);
}

#[tokio::test]
async fn halo_rows_and_commission_follow_the_rate_of_each_day() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (earbuds_id, earbuds) = link(&app, &token, "B0PKBUDS01", "amazon.com").await;
    let (_, backpack) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    for age in 0..6 {
        visit(&app, &earbuds, days_ago(age), 3000);
        visit(&app, &backpack, days_ago(age), 3000);
    }
    // Northwind's default rate went to 20% two days ago.
    let changed = days_ago(2);
    app.running
        .state
        .db
        .record_commission("northwind", None, Some(2000), changed)
        .await
        .unwrap();
    ingest(&app).await;
    let rows = all_rows(
        &app,
        &token,
        "/reports",
        &range_query(days_ago(10), today()),
    )
    .await;
    let mut halo = 0;
    for r in &rows {
        let asin = r["asin"].as_str().unwrap();
        let linked = r["link"]["asin"].as_str().unwrap();
        let date = r["date"].as_str().unwrap();
        let mut bps = demo_rate(asin);
        if !asin.starts_with("B0PK") && date >= format_iso(changed).as_str() {
            bps = 2000;
        }
        assert_eq!(
            minor(&r["commissionEarned"]),
            commission(minor(&r["sales"]), bps),
            "{r}"
        );
        assert_eq!(r["purchases"], r["conversions"]);
        assert_eq!(r["currency"], "USD");
        assert_eq!(r["country_code"], "US");
        assert_eq!(r["final"], false);
        if asin != linked {
            halo += 1;
            assert_eq!(r["clicks"], 0, "halo rows carry no clicks: {r}");
            if r["link"]["id"] == earbuds_id.as_str() {
                assert!(
                    asin.starts_with("B0PK"),
                    "halo is another product of the brand"
                );
            }
        } else {
            assert!(r["clicks"].as_i64().unwrap() >= 3000);
            assert_eq!(r["product_name"], r["link"]["product_name"]);
        }
    }
    assert!(halo > 0, "expected brand-halo rows");
    // Hand-computed: 12.5% of 129.99 is 16.24875, rounded half-up per row to 16.25.
    assert_eq!(commission(12_999, 1250), 1625);
    assert_eq!(commission(8_999, 1200), 1080);
}

#[tokio::test]
async fn paused_links_collect_nothing_after_the_pause_day() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (id, url) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    let (other_id, other) = link(&app, &token, "B0NWTENT02", "amazon.com").await;
    for age in -2..3 {
        visit(&app, &url, days_ago(age), 50);
        visit(&app, &other, days_ago(age), 50);
    }
    let r = app
        .patch_json(&format!("/links/{id}"), &token, json!({"active": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Pretend two more days have passed, so activity after today exists.
    let later = today() + time::Duration::days(2);
    let s = ingest_with(
        &app,
        &Options {
            today: Some(later),
            ..Options::default()
        },
    )
    .await;
    assert!(s.paused > 0, "{s:?}");
    let rows = all_rows(&app, &token, "/reports", &range_query(days_ago(5), later)).await;
    let today_iso = format_iso(today());
    let paused: Vec<_> = rows
        .iter()
        .filter(|r| r["link"]["id"] == id.as_str())
        .collect();
    assert!(!paused.is_empty());
    for r in &paused {
        assert!(r["date"].as_str().unwrap() <= today_iso.as_str(), "{r}");
        assert_eq!(r["link"]["active"], false);
    }
    assert!(rows.iter().any(|r| r["link"]["id"] == other_id.as_str()
        && r["date"].as_str().unwrap() > today_iso.as_str()));
}

#[tokio::test]
async fn brand_referral_bonus_comes_from_ad_group_reports_on_linked_rows_only() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (_, url) = link(&app, &token, "B0D45KS7QM", "amazon.de").await;
    let (_, url2) = link(&app, &token, "B0NWBOTL03", "amazon.co.uk").await;
    for age in 0..5 {
        visit(&app, &url, days_ago(age), 2500);
        visit(&app, &url2, days_ago(age), 2500);
    }
    ingest(&app).await;
    let seller = app.token(SELLER).await;
    let q = range_query(days_ago(7), today());
    let rows = all_rows(&app, &seller, "/sellers/reports", &q).await;
    assert!(!rows.is_empty());
    let mut halo = 0;
    for r in &rows {
        assert_eq!(r["creator"], "aff_demo_creator");
        let linked = ["B0D45KS7QM", "B0NWBOTL03"].contains(&r["asin"].as_str().unwrap());
        if !linked {
            halo += 1;
            assert_eq!(r["brandReferralBonus"], 0.0, "{r}");
            assert_eq!(r["clicks"], 0);
        }
        assert_eq!(
            r["currency"],
            if r["marketplace"] == "amazon.de" {
                "EUR"
            } else {
                "GBP"
            }
        );
    }
    assert!(halo > 0);
    // Every figure, BRB included, matches the simulator's per-ad-group truth.
    let truth = truth_sums(&app, &[NW_EU], days_ago(7), today());
    assert!(truth.brb > 0);
    assert_eq!(report_sums(&rows), truth);
    // And the seller's commission equals what the creator earns.
    let pub_rows = all_rows(&app, &token, "/reports", &q).await;
    let paid: i64 = rows.iter().map(|r| minor(&r["commissionPaid"])).sum();
    let earned: i64 = pub_rows.iter().map(|r| minor(&r["commissionEarned"])).sum();
    assert_eq!(paid, earned);
}

#[tokio::test]
async fn a_failed_run_resumes_from_its_last_page() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (_, a) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    let (_, b) = link(&app, &token, "B0NWTENT02", "amazon.com").await;
    for age in 0..10 {
        visit(&app, &a, days_ago(age), 200);
        visit(&app, &b, days_ago(age), 200);
    }
    // Amazon goes down after the third page.
    let sim = app.sim().clone();
    let tripped = Arc::new(AtomicBool::new(false));
    let flag = tripped.clone();
    let opts = Options {
        page_size: 2,
        page_budget: Duration::from_millis(800),
        progress: Some(Arc::new(move |p| {
            if p.pages == 3 && !flag.swap(true, Ordering::SeqCst) {
                sim.set_faults(Faults {
                    outage: true,
                    ..sim.faults()
                });
            }
        })),
        ..Options::default()
    };
    let failed = ingest_with(&app, &opts).await;
    assert!(tripped.load(Ordering::SeqCst));
    assert!(!failed.failures.is_empty(), "{failed:?}");
    assert_eq!(failed.pages, 3);
    app.outage(false);
    // Let the circuit breaker's open period pass.
    for _ in 0..100 {
        if !matches!(
            app.running.amazon.client.breaker_state(Region::Na),
            BreakerState::Open { .. }
        ) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pages = Arc::new(AtomicU64::new(0));
    let seen = pages.clone();
    let resumed = ingest_with(
        &app,
        &Options {
            page_size: 2,
            progress: Some(Arc::new(move |p| seen.store(p.pages, Ordering::SeqCst))),
            ..Options::default()
        },
    )
    .await;
    assert!(resumed.failures.is_empty(), "{resumed:?}");
    assert!(resumed.resumed >= 1, "{resumed:?}");
    let rows = all_rows(
        &app,
        &token,
        "/reports",
        &range_query(days_ago(12), today()),
    )
    .await;
    let truth = truth_sums(&app, &[NW_NA], days_ago(12), today());
    assert_eq!(report_sums(&rows), Sums { brb: 0, ..truth });
    // A clean full read afterwards needs more pages than the resumed run did.
    let full = ingest_with(
        &app,
        &Options {
            page_size: 2,
            full_backfill: true,
            ..Options::default()
        },
    )
    .await;
    assert!(full.pages > resumed.pages, "{full:?} vs {resumed:?}");
    assert_eq!((full.inserted, full.updated), (0, 0));
}

#[tokio::test]
async fn another_process_holding_the_lease_blocks_a_second_run() {
    let app = app().await;
    let db = &app.running.state.db;
    let now = quiver::store::now_ms();
    assert!(
        db.claim_lease(quiver::ingest::LEASE, "other-process", now, 60_000)
            .await
            .unwrap()
    );
    let out = run_once(db, &app.running.amazon.client, &Options::default())
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Busy));
    db.release_lease(quiver::ingest::LEASE, "other-process")
        .await
        .unwrap();
    let out = run_once(db, &app.running.amazon.client, &Options::default())
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Ran(_)));
}

#[tokio::test]
async fn report_filters_date_forms_and_validation() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (us_id, us) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    let (de_id, de) = link(&app, &token, "B0D45KS7QM", "amazon.de").await;
    let (pk_id, pk) = link(&app, &token, "B0PKSPKR02", "amazon.es").await;
    for age in 0..4 {
        for u in [&us, &de, &pk] {
            visit(&app, u, days_ago(age), 500);
        }
    }
    ingest(&app).await;
    let start = days_ago(3);
    let end = today();
    let iso = range_query(start, end);
    let all = all_rows(&app, &token, "/reports", &iso).await;
    let compact = format!(
        "start={}&end={}",
        format_compact(start),
        format_compact(end)
    );
    assert_eq!(all_rows(&app, &token, "/reports", &compact).await, all);
    let only =
        |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|r| pred(r)).cloned().collect::<Vec<_>>();

    let cases: Vec<(String, Vec<Value>)> = vec![
        (
            "marketplace=amazon.de".into(),
            only(&|r| r["marketplace"] == "amazon.de"),
        ),
        ("marketplace=ALL".into(), all.clone()),
        ("geo=US".into(), only(&|r| r["marketplace"] == "amazon.com")),
        ("geo=EU".into(), only(&|r| r["marketplace"] != "amazon.com")),
        ("geo=FE".into(), vec![]),
        (
            format!("link_ids={us_id},{pk_id}"),
            only(&|r| r["link"]["id"] != de_id.as_str()),
        ),
        (
            "brand_ids=peak-audio".into(),
            only(&|r| r["brand_id"] == "peak-audio"),
        ),
        (
            "asins=b0d45ks7qm".into(),
            only(&|r| r["asin"] == "B0D45KS7QM"),
        ),
        (
            format!("asins=B0D45KS7QM&marketplace=amazon.com&link_ids={us_id}"),
            only(&|r| r["asin"] == "B0D45KS7QM" && r["link"]["id"] == us_id.as_str()),
        ),
    ];
    for (filter, expected) in cases {
        let q = format!("{iso}&{filter}");
        let got = all_rows(&app, &token, "/reports", &q).await;
        assert_eq!(got, expected, "{filter}");
        let r = app.get(&format!("/reports?{q}&limit=2"), &token).await;
        assert_eq!(
            r.body["total_count"].as_u64().unwrap() as usize,
            expected.len(),
            "{filter}"
        );
    }
    assert!(
        all.iter()
            .any(|r| r["brand_id"] == "peak-audio" && r["currency"] == "EUR")
    );
    let first = &all[0];
    for field in [
        "date",
        "asin",
        "product_name",
        "brand_id",
        "brand_name",
        "marketplace",
        "country_code",
        "currency",
        "clicks",
        "detailPageViews",
        "addToCarts",
        "conversions",
        "purchases",
        "unitsSold",
        "sales",
        "commissionEarned",
        "link",
        "final",
    ] {
        assert!(first.get(field).is_some(), "missing {field}");
    }
    for field in [
        "id",
        "link_name",
        "url",
        "active",
        "type",
        "marketplace",
        "asin",
        "product_name",
    ] {
        assert!(first["link"].get(field).is_some(), "missing link.{field}");
    }
    // Order: date, link id, asin.
    let keys: Vec<_> = all.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    for bad in [
        "start=2026-02-30&end=2026-03-01",
        "start=yesterday&end=2026-03-01",
        "end=2026-03-01",
        "start=2026-03-01",
        "start=2026-03-02&end=2026-03-01",
        "start=2025-01-01&end=2026-01-02",
        "start=2026-01-01&end=2026-01-02&limit=0",
        "start=2026-01-01&end=2026-01-02&limit=501",
        "start=2026-01-01&end=2026-01-02&limit=ten",
        "start=2026-01-01&end=2026-01-02&cursor=nonsense",
        "start=2026-01-01&end=2026-01-02&asins=short",
    ] {
        let r = app.get(&format!("/reports?{bad}"), &token).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            r.body
        );
    }
    let r = app
        .get("/reports?start=2025-01-01&end=2026-01-01", &token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "366 days is allowed");
    let r = app
        .get(&format!("/reports?{iso}&marketplace=amazon.jp"), &token)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "unsupported_marketplace")
    );
    let seller = app.token(SELLER).await;
    let r = app.get(&format!("/reports?{iso}"), &seller).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "wrong_account_type")
    );
    let r = app.get(&format!("/sellers/reports?{iso}"), &token).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "wrong_account_type")
    );
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/reports?{iso}"),
            None,
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn paging_loses_and_repeats_nothing_while_data_changes() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let mut urls = Vec::new();
    for (asin, m) in [
        ("B0D45KS7QM", "amazon.com"),
        ("B0NWTENT02", "amazon.com"),
        ("B0PKBUDS01", "amazon.com"),
        ("B0NWLAMP04", "amazon.ca"),
    ] {
        urls.push(link(&app, &token, asin, m).await.1);
    }
    for age in 1..8 {
        for u in &urls {
            visit(&app, u, days_ago(age), 700);
        }
    }
    ingest(&app).await;
    let q = range_query(days_ago(10), today());
    let existing: BTreeSet<_> = all_rows(&app, &token, "/reports", &q)
        .await
        .iter()
        .map(key)
        .collect();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut page = 0;
    loop {
        let mut path = format!("/reports?{q}&limit=3");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&path, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let rows = r.body["rows"].as_array().unwrap();
        assert!(rows.len() <= 3);
        seen.extend(rows.iter().map(key));
        page += 1;
        // Between pages: new activity (today, and on earlier days) and a restatement.
        if page % 2 == 0 {
            for u in &urls {
                visit(&app, u, today(), 100);
                visit(&app, u, days_ago(9), 100);
            }
            app.sim().set_today(today() + time::Duration::days(page));
            ingest(&app).await;
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a row was repeated");
    assert!(existing.is_subset(&unique), "a row was lost");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "order broke across pages");
}

#[tokio::test]
async fn publishers_and_sellers_see_only_their_own() {
    let app = app().await;
    let creator = app.token(CREATOR).await;
    let creator2 = app.token(CREATOR2).await;
    let (_, a) = link(&app, &creator, "B0D45KS7QM", "amazon.com").await;
    let (b_id, b) = link(&app, &creator2, "B0LMDESK01", "amazon.com").await;
    for age in 0..3 {
        visit(&app, &a, days_ago(age), 900);
        visit(&app, &b, days_ago(age), 900);
    }
    ingest(&app).await;
    let q = range_query(days_ago(5), today());
    let mine = all_rows(&app, &creator, "/reports", &q).await;
    let theirs = all_rows(&app, &creator2, "/reports", &q).await;
    assert!(!mine.is_empty() && !theirs.is_empty());
    assert!(mine.iter().all(|r| r["brand_id"] == "northwind"));
    assert!(theirs.iter().all(|r| r["brand_id"] == "lumen-home"));
    let stranger = app.new_publisher("stranger@example.com").await;
    assert!(all_rows(&app, &stranger, "/reports", &q).await.is_empty());

    // The demo seller sees both creators; the creators filter narrows it.
    let seller = app.token(SELLER).await;
    let rows = all_rows(&app, &seller, "/sellers/reports", &q).await;
    let creators: BTreeSet<_> = rows
        .iter()
        .map(|r| r["creator"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        creators,
        BTreeSet::from([
            "aff_demo_creator".to_owned(),
            "aff_demo_creator2".to_owned()
        ])
    );
    let only2 = all_rows(
        &app,
        &seller,
        "/sellers/reports",
        &format!("{q}&creators=aff_demo_creator2"),
    )
    .await;
    assert!(!only2.is_empty() && only2.iter().all(|r| r["creator"] == "aff_demo_creator2"));
    let lumen = all_rows(
        &app,
        &seller,
        "/sellers/reports",
        &format!("{q}&brand_ids=lumen-home"),
    )
    .await;
    assert_eq!(lumen, only2);
    let by_link = all_rows(
        &app,
        &seller,
        "/sellers/reports",
        &format!("{q}&link_ids={b_id}"),
    )
    .await;
    assert_eq!(by_link, only2);
    let r = app
        .get(
            &format!("/sellers/reports?{q}&link_ids={b_id}&limit=1"),
            &seller,
        )
        .await;
    assert_eq!(
        r.body["total_count"].as_u64().unwrap() as usize,
        only2.len()
    );
    // One row per day × product × marketplace × creator.
    let mut groups = BTreeSet::new();
    for r in &rows {
        assert!(groups.insert((
            r["date"].as_str().unwrap().to_owned(),
            r["asin"].as_str().unwrap().to_owned(),
            r["marketplace"].as_str().unwrap().to_owned(),
            r["creator"].as_str().unwrap().to_owned(),
        )));
    }
    let r = app
        .get(&format!("/sellers/reports?{q}&limit=1"), &seller)
        .await;
    assert_eq!(r.body["total_count"].as_u64().unwrap() as usize, rows.len());
    let paged = all_rows(&app, &seller, "/sellers/reports", &format!("{q}&limit=2")).await;
    assert_eq!(paged, rows);

    // Another seller has no rows at all.
    quiver::accounts::create_account(
        &app.running.state.db,
        "other-seller@example.com",
        crate::support::PASSWORD,
        quiver_domain::AccountKind::Seller,
        "Other Seller",
        None,
    )
    .await
    .unwrap();
    let other = app.token("other-seller@example.com").await;
    assert!(
        all_rows(&app, &other, "/sellers/reports", &q)
            .await
            .is_empty()
    );
    let r = app
        .get(&format!("/sellers/reports?{q}&brand_ids=northwind"), &other)
        .await;
    assert_eq!(r.body["total_count"], 0);
}

#[tokio::test]
async fn legacy_report_endpoints_agree_with_reports() {
    let app = app().await;
    let token = app.token(CREATOR).await;
    let (us_id, us) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    let r = app
        .post_json(
            "/generate_attribution_link",
            &token,
            json!({"asin": "B0PKBUDS01", "marketplace": "amazon.com", "link_name": "earbuds-video"}),
        )
        .await;
    let ear = r.body["url"].as_str().unwrap().to_owned();
    let (_, de) = link(&app, &token, "B0NWBOTL03", "amazon.de").await;
    for age in 0..3 {
        visit(&app, &us, days_ago(age), 800);
        visit(&app, &ear, days_ago(age), 300);
        visit(&app, &de, days_ago(age), 500);
    }
    ingest(&app).await;
    let (s, e) = (format_compact(days_ago(3)), format_compact(today()));
    let rows = all_rows(&app, &token, "/reports", &range_query(days_ago(3), today())).await;
    let us_rows: Vec<_> = rows
        .iter()
        .filter(|r| r["marketplace"] == "amazon.com")
        .cloned()
        .collect();

    let agg = app
        .get(
            &format!("/aggregated_report?startdate={s}&enddate={e}"),
            &token,
        )
        .await;
    assert_eq!(agg.status, StatusCode::OK, "{:?}", agg.body);
    let sums = report_sums(&us_rows);
    assert_eq!(agg.body["marketplace"], "amazon.com");
    assert_eq!(agg.body["currency"], "USD");
    assert_eq!(agg.body["clicks"].as_i64().unwrap(), sums.clicks);
    assert_eq!(minor(&agg.body["sales"]), sums.sales);
    assert_eq!(agg.body["units_sold"].as_i64().unwrap(), sums.units);
    assert_eq!(agg.body["detail_page_views"].as_i64().unwrap(), sums.dpv);
    let commission: i64 = us_rows.iter().map(|r| minor(&r["commissionEarned"])).sum();
    assert_eq!(minor(&agg.body["commission_amount"]), commission);

    // Per day × ASIN × marketplace, amazon.com when geo is omitted.
    let p = app
        .get(
            &format!("/product_reports_all?start_date={s}&end_date={e}&limit=100"),
            &token,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    let data = p.body["data"].as_array().unwrap();
    let mut per: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &us_rows {
        *per.entry((
            r["date"].as_str().unwrap().into(),
            r["asin"].as_str().unwrap().into(),
        ))
        .or_default() += minor(&r["sales"]);
    }
    assert_eq!(data.len(), per.len());
    for d in data {
        assert_eq!(d["marketplace"], "amazon.com");
        let k = (
            d["date"].as_str().unwrap().to_owned(),
            d["asin"].as_str().unwrap().to_owned(),
        );
        assert_eq!(minor(&d["total_sales"]), per[&k]);
        for f in [
            "currency",
            "product_name",
            "link_name",
            "total_clicks",
            "total_purchases",
            "total_units_sold",
            "commission_amount",
        ] {
            assert!(d.get(f).is_some(), "missing {f}");
        }
    }
    let eu = app
        .get(
            &format!("/product_reports_all?start_date={s}&end_date={e}&geo=EU"),
            &token,
        )
        .await;
    assert!(
        eu.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["marketplace"] == "amazon.de")
    );
    let filtered = app
        .get(
            &format!(
                "/product_reports_all?start_date={s}&end_date={e}&min_clicks=1&asin=B0PKBUDS01"
            ),
            &token,
        )
        .await;
    let fd = filtered.body["data"].as_array().unwrap();
    assert!(
        !fd.is_empty()
            && fd
                .iter()
                .all(|d| d["asin"] == "B0PKBUDS01" && d["total_clicks"].as_i64().unwrap() >= 1)
    );
    let paged = app
        .get(
            &format!("/product_reports_all?start_date={s}&end_date={e}&limit=1&page=2"),
            &token,
        )
        .await;
    assert_eq!(paged.body["data"][0], data[1]);
    assert_eq!(paged.body["pagination_info"]["current_page"], 2);

    // Links: sorted by clicks, descending by default.
    let l = app
        .get(&format!("/link_data?startdate={s}&enddate={e}"), &token)
        .await;
    assert_eq!(l.status, StatusCode::OK, "{:?}", l.body);
    let links = l.body["Links_Data"].as_array().unwrap();
    assert_eq!(links.len(), 3);
    let clicks: Vec<i64> = links
        .iter()
        .map(|x| x["totalClickThroughs"].as_i64().unwrap())
        .collect();
    assert!(clicks.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(links[0]["link_info"]["id"], us_id.as_str());
    assert_eq!(clicks[0], 2400);
    let asc = app
        .get(
            &format!("/link_data?startdate={s}&enddate={e}&sort=0&sort_order=true"),
            &token,
        )
        .await;
    assert_eq!(asc.body["Links_Data"][0]["totalClickThroughs"], 900);
    let min = app
        .get(
            &format!("/link_data?startdate={s}&enddate={e}&minclicks=1000"),
            &token,
        )
        .await;
    assert_eq!(min.body["Links_Data"].as_array().unwrap().len(), 2);
    let bad = app
        .get(
            &format!("/link_data?startdate={s}&enddate={e}&sort=9"),
            &token,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app
        .get(
            &format!("/link_data?startdate={s}&enddate={e}&limit=101"),
            &token,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Insights: per product and marketplace.
    let i = app
        .get(
            &format!("/insights?start_date={s}&end_date={e}&brand=Peak%20Audio"),
            &token,
        )
        .await;
    assert_eq!(i.status, StatusCode::OK, "{:?}", i.body);
    let ins = i.body["data"].as_array().unwrap();
    assert!(!ins.is_empty() && ins.iter().all(|d| d["brand_name"] == "Peak Audio"));
    let buds = ins.iter().find(|d| d["asin"] == "B0PKBUDS01").unwrap();
    assert_eq!(buds["clicks"], 900);
    assert_eq!(buds["product_category"], "Electronics");
    let by_cat = app
        .get(&format!("/insights?start_date={s}&end_date={e}&productCategory=electronics&productAsin=B0PKBUDS01"), &token)
        .await;
    assert_eq!(by_cat.body["data"].as_array().unwrap().len(), 1);

    // Single ASIN and single link: per-link daily rows.
    let sa = app
        .post_json(
            "/single_asin_data",
            &token,
            json!({"asin": "B0D45KS7QM", "start_date": s, "end_date": e}),
        )
        .await;
    assert_eq!(sa.status, StatusCode::OK, "{:?}", sa.body);
    let sad = sa.body["data"].as_array().unwrap();
    assert!(!sad.is_empty() && sad.iter().all(|r| r["link"]["asin"] == "B0D45KS7QM"));
    let sl = app
        .post_json(
            "/single_link_data",
            &token,
            json!({"link_name": "EARBUDS-video", "start_date": s, "end_date": e}),
        )
        .await;
    let sld = sl.body["data"].as_array().unwrap();
    assert!(
        !sld.is_empty()
            && sld
                .iter()
                .all(|r| r["link"]["link_name"] == "earbuds-video")
    );
    let bad = app
        .post_json(
            "/single_link_data",
            &token,
            json!({"link_name": "x", "start_date": "2026-02-30", "end_date": e}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["detail"][0]["loc"], json!(["body", "start_date"]));
}

/// Done when: on the demo data, /reports for the last 90 days adds up to exactly the
/// simulator's own figures for the demo ad groups.
#[tokio::test]
async fn demo_history_matches_the_simulator() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let token = app.token(CREATOR).await;
    let q = range_query(days_ago(89), today());
    let rows = all_rows(&app, &token, "/reports", &format!("{q}&limit=500")).await;
    let days: BTreeSet<_> = rows
        .iter()
        .map(|r| r["date"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(days.len(), 60, "60 days of history");
    let links: BTreeSet<_> = rows
        .iter()
        .map(|r| r["link"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(links.len() as i64, app.link_count(CREATOR).await);
    let advertisers = quiver::demo::advertiser_ids();
    let truth = truth_sums(&app, &advertisers, days_ago(89), today());
    assert!(truth.sales > 0);
    assert_eq!(report_sums(&rows), Sums { brb: 0, ..truth });
    // The seller's view carries the Brand Referral Bonus, to the cent.
    let seller = app.token(SELLER).await;
    let srows = all_rows(&app, &seller, "/sellers/reports", &format!("{q}&limit=500")).await;
    assert_eq!(report_sums(&srows), truth);
    assert!(rows.iter().any(|r| r["final"] == false));
}

/// Clicks per day and link name: what two demos agree on (the other figures depend on
/// each link's random ad-group id).
fn clicks_by_day_and_link(rows: &[Value]) -> BTreeMap<(String, String), i64> {
    let mut out = BTreeMap::new();
    for r in rows {
        let k = (
            r["date"].as_str().unwrap().to_owned(),
            r["link"]["link_name"].as_str().unwrap().to_owned(),
        );
        *out.entry(k).or_default() += r["clicks"].as_i64().unwrap();
    }
    out
}

/// Spec §7/§8 with `QUIVER_AMAZON=http://...`: the demo registers its catalog and posts its
/// 60 days of visits through a standalone simulator's HTTP API, so the reports add up to
/// the simulator's own figures and show the in-process demo's traffic.
#[tokio::test]
async fn demo_history_with_a_standalone_simulator_matches_the_in_process_demo() {
    let sim = amazon_sim::spawn(
        amazon_sim::SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let sim_url = sim.base_url();
    let standalone =
        TestApp::with_args(&["--ingest-interval-secs", "0", "--amazon", &sim_url]).await;
    assert!(standalone.running.amazon.sim.is_none());
    quiver::demo::seed_links(standalone.running.state.clone(), Default::default()).await;
    let token = standalone.token(CREATOR).await;
    let q = format!("{}&limit=500", range_query(days_ago(89), today()));
    let rows = all_rows(&standalone, &token, "/reports", &q).await;
    let days: BTreeSet<_> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert_eq!(days.len(), 60, "60 days of history: {} rows", rows.len());

    // Every figure is the simulator's.
    let advertisers = quiver::demo::advertiser_ids();
    let truth = sim_truth_sums(&sim, &advertisers, days_ago(89), today());
    assert!(truth.sales > 0);
    assert_eq!(report_sums(&rows), Sums { brb: 0, ..truth });
    // The catalog reached the simulator before the first click: only registered products
    // bring brand-halo purchases of other ASINs.
    let mut asins_per_link: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &rows {
        asins_per_link
            .entry(r["link"]["link_name"].as_str().unwrap())
            .or_default()
            .insert(r["asin"].as_str().unwrap());
    }
    assert!(
        asins_per_link.values().any(|a| a.len() > 1),
        "halo rows: {asins_per_link:?}"
    );

    let in_process = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(in_process.running.state.clone(), Default::default()).await;
    let token = in_process.token(CREATOR).await;
    let expected = all_rows(&in_process, &token, "/reports", &q).await;
    assert_eq!(
        clicks_by_day_and_link(&rows),
        clicks_by_day_and_link(&expected)
    );
}
