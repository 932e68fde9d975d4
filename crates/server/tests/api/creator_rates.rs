//! Per-creator commission (issue 17): the rate of an accepted invitation is what that
//! creator earns with the brand from its effective day (the day after acceptance) on, in
//! every report: `/reports`, `/sellers/reports`, both summaries and the legacy endpoints,
//! to the cent of the simulator's sales × rate, totals being sums of rounded rows.

use std::collections::BTreeMap;

use quiver::ingest::{Options, Outcome, run_once};
use quiver_domain::{format_compact, format_iso};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::Date;

use crate::mailbox::{Mailbox, token};
use crate::support::{CREATOR, CREATOR2, SELLER, TestApp};

const BRAND: &str = "lumen-home";
/// Lumen Home's North America advertiser in the demo catalog.
const ADVERTISER: &str = "4000000011";
const ASIN: &str = "B0LMDESK01";
/// Lumen Home's default rate, and the invited creator's own.
const DEFAULT_BPS: i64 = 1500;
const INVITED_BPS: i64 = 1200;

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn days_ago(n: i64) -> Date {
    today() - time::Duration::days(n)
}

fn minor(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

/// Half-up commission in minor units, computed independently of the server's code.
fn commission(sales_minor: i64, bps: i64) -> i64 {
    (sales_minor * bps + 5_000).div_euclid(10_000)
}

async fn ingest(app: &TestApp) {
    match run_once(
        &app.running.state.db,
        &app.running.amazon.client,
        &Options::default(),
    )
    .await
    .unwrap()
    {
        Outcome::Ran(s) => assert!(s.failures.is_empty(), "{:?}", s.failures),
        Outcome::Busy => panic!("ingestion lease busy"),
    }
}

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

/// The simulator's sales in minor units per (date, ad group, sold ASIN), halo included.
fn truth_sales(app: &TestApp, start: Date, end: Date) -> BTreeMap<(String, String, String), i64> {
    let t = serde_json::to_value(app.sim().truth(ADVERTISER, start, end)).unwrap();
    let mut out = BTreeMap::new();
    for r in t["rows"].as_array().unwrap() {
        let date = r["date"].as_str().unwrap().to_owned();
        let ad = r["adGroupId"].as_str().unwrap().to_owned();
        let mut add = |asin: &str, sales: i64| {
            *out.entry((date.clone(), ad.clone(), asin.to_owned()))
                .or_default() += sales;
        };
        add(r["asin"].as_str().unwrap(), minor(&r["sales"]));
        for h in r["haloByAsin"].as_array().unwrap() {
            add(h["asin"].as_str().unwrap(), minor(&h["sales"]));
        }
    }
    out.retain(|_, s| *s != 0);
    out
}

struct World {
    app: TestApp,
    invited: String,
    other: String,
    /// Public affiliate ids, as the seller's rows name creators.
    invited_public: String,
    other_public: String,
    seller: String,
}

/// The commission rows of one creator must carry: the rate in force each day, applied to
/// the simulator's sales. Returns the creator's (total commission, rows before `from`
/// with sales, rows from `from` on with sales).
async fn check_creator(
    w: &World,
    token: &str,
    own_rate_from: Option<Date>,
    start: Date,
) -> (i64, usize, usize) {
    let app = &w.app;
    let truth = truth_sales(app, start, today());
    let ad_groups: BTreeMap<String, String> = app
        .running
        .state
        .db
        .ingest_links(BRAND)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.ad_group_id))
        .collect();
    let q = format!("start={}&end={}", format_iso(start), format_iso(today()));
    let rows = all_rows(app, token, "/reports", &q).await;
    let (mut total, mut before, mut after) = (0, 0, 0);
    let mut seen_sales = 0;
    let mut own_truth = 0;
    for ((_, ad, _), s) in &truth {
        if rows
            .iter()
            .any(|r| ad_groups[r["link"]["id"].as_str().unwrap()] == *ad)
        {
            own_truth += s;
        }
    }
    for r in &rows {
        let date = r["date"].as_str().unwrap();
        let ad = &ad_groups[r["link"]["id"].as_str().unwrap()];
        let asin = r["asin"].as_str().unwrap();
        let sales = truth
            .get(&(date.to_owned(), ad.clone(), asin.to_owned()))
            .copied()
            .unwrap_or(0);
        assert_eq!(minor(&r["sales"]), sales, "{r}");
        let own = own_rate_from.is_some_and(|from| date >= format_iso(from).as_str());
        let bps = if own { INVITED_BPS } else { DEFAULT_BPS };
        assert_eq!(
            minor(&r["commissionEarned"]),
            commission(sales, bps),
            "{bps} bps on {r}"
        );
        if sales > 0 {
            if own { after += 1 } else { before += 1 }
        }
        seen_sales += sales;
        total += minor(&r["commissionEarned"]);
    }
    assert_eq!(
        seen_sales, own_truth,
        "every sale of the creator's ad groups"
    );

    // The creator's summary: totals and every breakdown are sums of the rounded rows.
    for group in ["day", "link", "product"] {
        let s = app
            .get(&format!("/reports/summary?{q}&group_by={group}"), token)
            .await;
        assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
        let money = &s.body["totals"]["money"][0];
        assert_eq!(money["currency"], "USD");
        assert_eq!(minor(&money["commission"]), total, "{group} totals");
        let rows_total: i64 = s.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| minor(&r["money"][0]["commission"]))
            .sum();
        assert_eq!(rows_total, total, "{group} rows");
    }

    // Legacy endpoints.
    let (ls, le) = (format_compact(start), format_compact(today()));
    let agg = app
        .get(
            &format!("/aggregated_report?startdate={ls}&enddate={le}"),
            token,
        )
        .await;
    assert_eq!(agg.status, StatusCode::OK, "{:?}", agg.body);
    assert_eq!(minor(&agg.body["commission_amount"]), total);
    let links = app
        .get(&format!("/link_data?startdate={ls}&enddate={le}"), token)
        .await;
    let link_total: i64 = links.body["Links_Data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| minor(&l["commission_amount"]))
        .sum();
    assert_eq!(link_total, total, "{:?}", links.body);
    let products = app
        .get(
            &format!("/product_reports_all?start_date={ls}&end_date={le}&limit=100"),
            token,
        )
        .await;
    let mut per_day: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &rows {
        *per_day
            .entry((
                r["date"].as_str().unwrap().to_owned(),
                r["asin"].as_str().unwrap().to_owned(),
            ))
            .or_default() += minor(&r["commissionEarned"]);
    }
    let data = products.body["data"].as_array().unwrap();
    assert_eq!(data.len(), per_day.len(), "{:?}", products.body);
    for d in data {
        let k = (
            d["date"].as_str().unwrap().to_owned(),
            d["asin"].as_str().unwrap().to_owned(),
        );
        assert_eq!(minor(&d["commission_amount"]), per_day[&k], "{d}");
    }
    let insights = app
        .get(
            &format!("/insights?start_date={ls}&end_date={le}&brand=Lumen%20Home"),
            token,
        )
        .await;
    let insight_total: i64 = insights.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| minor(&d["commission_amount"]))
        .sum();
    assert_eq!(insight_total, total, "{:?}", insights.body);
    (total, before, after)
}

/// The brand's side: its rows per creator add up to each creator's own commission, and
/// so do its summary's creator rows and totals.
async fn check_seller(w: &World, start: Date, invited_total: i64, other_total: i64) {
    let app = &w.app;
    let q = format!(
        "start={}&end={}&brand_ids={BRAND}",
        format_iso(start),
        format_iso(today())
    );
    let rows = all_rows(app, &w.seller, "/sellers/reports", &q).await;
    let by_creator = |id: &str| -> i64 {
        rows.iter()
            .filter(|r| r["creator"] == id)
            .map(|r| minor(&r["commissionPaid"]))
            .sum()
    };
    assert_eq!(by_creator(&w.invited_public), invited_total);
    assert_eq!(by_creator(&w.other_public), other_total);
    let s = app
        .get(
            &format!("/sellers/reports/summary?{q}&group_by=creator"),
            &w.seller,
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let creator = |id: &str| -> i64 {
        s.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["key"] == id)
            .map(|r| minor(&r["money"][0]["commission"]))
            .sum()
    };
    assert_eq!(creator(&w.invited_public), invited_total);
    assert_eq!(creator(&w.other_public), other_total);
    assert_eq!(
        minor(&s.body["totals"]["money"][0]["commission"]),
        invited_total + other_total
    );
}

#[tokio::test]
async fn an_invited_creators_rate_applies_from_its_day_in_every_report() {
    let mailbox = Mailbox::start().await;
    let url = mailbox.url();
    let app = TestApp::with_args(&["--smtp-url", &url, "--ingest-interval-secs", "0"]).await;
    quiver::demo::register_catalog(app.sim());
    let seller = app.token(SELLER).await;

    // Lumen Home (15% by default) invites the demo creator at 12%; creator2 already may
    // promote the brand at its default.
    let r = app
        .post_json(
            &format!("/sellers/brands/{BRAND}/invitations"),
            &seller,
            json!({"email": CREATOR, "commission": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let link = token(&mailbox.wait(CREATOR, 1).await, "invitation");
    let invited = app.token(CREATOR).await;
    let r = app
        .send(Method::POST, "/invitations/accept", Some(&invited), |r| {
            r.json(&json!({"token": link}))
        })
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let invited_public = r.body["creator"].as_str().unwrap().to_owned();
    let invited_id = app.account_id(CREATOR).await;
    let history = app
        .running
        .state
        .db
        .creator_commissions(BRAND, &invited_id)
        .await
        .unwrap();
    let tomorrow = today() + time::Duration::days(1);
    assert_eq!(history, vec![(format_iso(tomorrow), Some(1200))]);

    let other = app.token(CREATOR2).await;
    let me = app.get("/account", &other).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    let other_public = me.body["id"].as_str().unwrap().to_owned();
    let w = World {
        app,
        invited: invited.clone(),
        other: other.clone(),
        invited_public,
        other_public,
        seller,
    };
    for t in [&w.invited, &w.other] {
        let r = w.app.create_link(t, ASIN, "amazon.com").await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let url = r.body["url"].as_str().unwrap().to_owned();
        for age in 0..6 {
            w.app
                .sim()
                .record_visit(&url, Some(days_ago(age)), 2500)
                .unwrap();
        }
    }
    let start = days_ago(7);

    // Today is the day before the rate takes effect: everything at the brand's default.
    ingest(&w.app).await;
    let (invited_total, before, after) = check_creator(&w, &w.invited, None, start).await;
    assert!(before > 0 && after == 0, "{before} {after}");
    let (other_total, ..) = check_creator(&w, &w.other, None, start).await;
    check_seller(&w, start, invited_total, other_total).await;

    // Three days later (the acceptance moved back in time, as no clock can be set): the
    // next ingestion re-reads the window and days from the effective day on earn 12%.
    let from = days_ago(2);
    let sql = format!(
        "UPDATE creator_commission_rates SET effective_day = '{}' WHERE brand_id = '{BRAND}'",
        format_iso(from)
    );
    w.app.execute_sql(Box::leak(sql.into_boxed_str())).await;
    ingest(&w.app).await;
    let (invited_after, before, after) = check_creator(&w, &w.invited, Some(from), start).await;
    assert!(
        before > 0 && after > 0,
        "days on both sides: {before} {after}"
    );
    assert!(invited_after < invited_total, "12% earns less than 15%");
    let (other_after, ..) = check_creator(&w, &w.other, None, start).await;
    assert_eq!(
        other_after, other_total,
        "the other creator keeps the default"
    );
    check_seller(&w, start, invited_after, other_after).await;
}
