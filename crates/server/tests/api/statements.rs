//! Monthly statements, their lifecycle and payouts (issue #20), over HTTP on both engines,
//! checked against `/reports` and the simulator's own figures.

use std::collections::BTreeMap;

use quiver::ingest::{Options, Outcome, run_once};
use quiver_domain::format_iso;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Date, Duration};

use crate::support::{CREATOR, CREATOR2, SELLER, TestApp, fresh_database_url};

const NW_NA: &str = "4000000001";
const PEAK_NA: &str = "4000000021";

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn first_of(d: Date) -> Date {
    d.replace_day(1).unwrap()
}

/// The first day of the month `back` months before this one.
fn month_start(back: u32) -> Date {
    let mut d = first_of(today());
    for _ in 0..back {
        d = first_of(d - Duration::days(1));
    }
    d
}

fn month_label(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

fn month_end(start: Date) -> Date {
    first_of(start + Duration::days(32)) - Duration::days(1)
}

async fn app_with(extra: &[&str]) -> TestApp {
    let mut args = vec!["--ingest-interval-secs", "0"];
    args.extend_from_slice(extra);
    let app = TestApp::with_args(&args).await;
    quiver::demo::register_catalog(app.sim());
    app
}

async fn ingest_on(app: &TestApp, on: Option<Date>) {
    let opts = Options {
        today: on,
        ..Options::default()
    };
    match run_once(&app.running.state.db, &app.running.amazon.client, &opts)
        .await
        .unwrap()
    {
        Outcome::Ran(s) => assert!(s.failures.is_empty(), "{:?}", s.failures),
        Outcome::Busy => panic!("ingestion lease busy"),
    }
}

/// What the schedule does after ingestion, as of `on`.
async fn schedule(app: &TestApp, on: Date) -> quiver::store::statements::RefreshSummary {
    quiver::statements::schedule::run_once(&app.running.state, on)
        .await
        .unwrap()
}

async fn link(app: &TestApp, token: &str, asin: &str, marketplace: &str) -> (String, String) {
    let r = app.create_link(token, asin, marketplace).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["url"].as_str().unwrap().to_owned(),
    )
}

fn visits(app: &TestApp, url: &str, from: Date, to: Date, clicks: u64) {
    let mut d = from;
    while d <= to {
        app.sim().record_visit(url, Some(d), clicks).unwrap();
        d += Duration::days(1);
    }
}

fn minor(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

fn commission(sales_minor: i64, bps: i64) -> i64 {
    (sales_minor * bps + 5_000).div_euclid(10_000)
}

fn demo_rate(asin: &str) -> i64 {
    match asin {
        "B0PKBUDS01" => 1250,
        a if a.starts_with("B0PK") => 1000,
        a if a.starts_with("B0LM") => 1500,
        _ => 1200,
    }
}

/// Every `/reports` row for a filter, following cursors.
async fn report_rows(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("{query}&limit=500");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&format!("/reports?{q}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        rows.extend(r.body["rows"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return rows,
        }
    }
}

/// `/reports` commissionEarned for one brand and month (USD marketplaces only).
async fn reports_commission(app: &TestApp, token: &str, brand: &str, start: Date) -> (i64, usize) {
    let q = format!(
        "start={}&end={}&brand_ids={brand}",
        format_iso(start),
        format_iso(month_end(start))
    );
    let rows: Vec<Value> = report_rows(app, token, &q)
        .await
        .into_iter()
        .filter(|r| r["currency"] == "USD")
        .collect();
    (
        rows.iter().map(|r| minor(&r["commissionEarned"])).sum(),
        rows.len(),
    )
}

/// The simulator's figures × the rate in force each day (`rate(asin, date)`).
fn truth_commission(
    app: &TestApp,
    advertiser: &str,
    start: Date,
    end: Date,
    rate: impl Fn(&str, &str) -> i64,
) -> i64 {
    let t = serde_json::to_value(app.sim().truth(advertiser, start, end)).unwrap();
    let mut total = 0;
    for r in t["rows"].as_array().unwrap() {
        let date = r["date"].as_str().unwrap();
        total += commission(minor(&r["sales"]), rate(r["asin"].as_str().unwrap(), date));
        for h in r["haloByAsin"].as_array().unwrap() {
            total += commission(minor(&h["sales"]), rate(h["asin"].as_str().unwrap(), date));
        }
    }
    total
}

async fn creator_statements(app: &TestApp, token: &str, month: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/statements?start_month={month}&end_month={month}"),
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["statements"].as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], brand: &str, currency: &str) -> &'a Value {
    list.iter()
        .find(|s| s["brand_id"] == brand && s["currency"] == currency)
        .unwrap_or_else(|| panic!("no {brand} {currency} statement in {list:?}"))
}

#[tokio::test]
async fn statements_equal_reports_and_the_simulator_across_a_rate_change_halo_and_a_pause() {
    let app = app_with(&[]).await;
    let token = app.token(CREATOR).await;
    let (_, backpack) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    let (_, earbuds) = link(&app, &token, "B0PKBUDS01", "amazon.com").await;
    let (tent_id, tent) = link(&app, &token, "B0NWTENT02", "amazon.com").await;
    // Two months ago: final today. Northwind's rate goes to 20% mid-month.
    let start = month_start(2);
    let (from, to) = (start + Duration::days(4), start + Duration::days(24));
    visits(&app, &backpack, from, to, 3000);
    visits(&app, &earbuds, from, to, 3000);
    let changed = start + Duration::days(14);
    app.running
        .state
        .db
        .record_commission("northwind", None, Some(2000), changed)
        .await
        .unwrap();
    // The tent link is paused today; it had activity until now and after.
    visits(
        &app,
        &tent,
        today() - Duration::days(2),
        today() + Duration::days(2),
        400,
    );
    let r = app
        .patch_json(
            &format!("/links/{tent_id}"),
            &token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let later = today() + Duration::days(2);
    ingest_on(&app, Some(later)).await;
    let s = schedule(&app, today()).await;
    assert!(s.created >= 3, "{s:?}");

    let month = month_label(start);
    let list = creator_statements(&app, &token, &month).await;
    let changed_iso = format_iso(changed);
    for (brand, advertiser) in [("northwind", NW_NA), ("peak-audio", PEAK_NA)] {
        let st = find(&list, brand, "USD");
        assert_eq!(st["state"], "final", "{st}");
        assert_eq!(st["month"], month.as_str());
        assert_eq!(st["adjustments_total"], 0.0);
        assert_eq!(st["total"], st["commission"]);
        let (from_reports, rows) = reports_commission(&app, &token, brand, start).await;
        assert!(from_reports > 0);
        assert_eq!(minor(&st["commission"]), from_reports, "{brand}");
        let truth = truth_commission(&app, advertiser, start, month_end(start), |asin, date| {
            if !asin.starts_with("B0PK") && date >= changed_iso.as_str() {
                2000
            } else {
                demo_rate(asin)
            }
        });
        assert_eq!(
            minor(&st["commission"]),
            truth,
            "{brand} against the simulator"
        );
        let d = app
            .get(
                &format!("/statements/{}", st["id"].as_str().unwrap()),
                &token,
            )
            .await;
        assert_eq!(d.status, StatusCode::OK);
        let lines = d.body["lines"].as_array().unwrap();
        assert_eq!(lines.len(), rows);
        assert_eq!(
            lines.iter().map(|l| minor(&l["commission"])).sum::<i64>(),
            from_reports
        );
        assert!(
            lines.iter().any(|l| l["halo"] == true),
            "halo lines are included"
        );
        assert_eq!(d.body["history"][0]["state"], "open");
        assert_eq!(d.body["history"][1]["state"], "final");
        assert_eq!(d.body["history"][1]["by"], "system");
    }
    // The paused link's current month: nothing after the pause day, and equal to /reports.
    let now_month = month_label(month_start(0));
    let current = creator_statements(&app, &token, &now_month).await;
    let nw = find(&current, "northwind", "USD");
    assert_eq!(nw["state"], "open");
    let d = app
        .get(
            &format!("/statements/{}", nw["id"].as_str().unwrap()),
            &token,
        )
        .await;
    let today_iso = format_iso(today());
    let tent_lines: Vec<_> = d.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["link_id"] == tent_id.as_str())
        .collect();
    assert!(!tent_lines.is_empty());
    assert!(
        tent_lines
            .iter()
            .all(|l| l["date"].as_str().unwrap() <= today_iso.as_str())
    );
    let (from_reports, _) = reports_commission(&app, &token, "northwind", month_start(0)).await;
    assert_eq!(minor(&nw["commission"]), from_reports);

    // Earnings: the final month's amounts under `final`, the open one under `pending`.
    let e = app
        .get(
            &format!("/earnings?start_month={month}&end_month={now_month}"),
            &token,
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{:?}", e.body);
    let rows = e.body["rows"].as_array().unwrap();
    let nw_final = rows
        .iter()
        .find(|r| r["month"] == month.as_str() && r["brand_id"] == "northwind")
        .unwrap();
    assert_eq!(nw_final["final"], find(&list, "northwind", "USD")["total"]);
    assert_eq!(nw_final["pending"], 0.0);
    let nw_open = rows
        .iter()
        .find(|r| r["month"] == now_month.as_str() && r["brand_id"] == "northwind")
        .unwrap();
    assert_eq!(minor(&nw_open["pending"]), from_reports);
    // Bad months are refused, naming the field.
    for q in [
        "start_month=2026-13",
        "end_month=2026-1",
        "start_month=2026-05&end_month=2026-04",
    ] {
        let r = app.get(&format!("/earnings?{q}"), &token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
    // The statement CSV carries the lines and the total.
    let id = find(&list, "peak-audio", "USD")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, headers, body) = app.get_text(&format!("/statements/{id}.csv"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let recs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let total = recs.iter().find(|r| &r[5] == "total").unwrap();
    assert_eq!(
        total[14].to_owned(),
        format!(
            "{:.2}",
            find(&list, "peak-audio", "USD")["total"].as_f64().unwrap()
        )
    );
    let line_sum: i64 = recs
        .iter()
        .filter(|r| &r[5] == "line")
        .map(|r| (r[14].parse::<f64>().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(
        line_sum,
        minor(&find(&list, "peak-audio", "USD")["commission"])
    );
    // Another creator sees none of it.
    let other = app.token(CREATOR2).await;
    let r = app.get(&format!("/statements/{id}"), &other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "statement_not_found");
}

#[tokio::test]
async fn a_month_moves_from_open_to_final_on_schedule_and_does_not_change_after() {
    let app = app_with(&[]).await;
    let token = app.token(CREATOR).await;
    let (_, backpack) = link(&app, &token, "B0D45KS7QM", "amazon.com").await;
    // Last month: still inside Amazon's restatement window.
    let start = month_start(1);
    visits(
        &app,
        &backpack,
        start + Duration::days(9),
        start + Duration::days(19),
        2000,
    );
    ingest_on(&app, None).await;
    schedule(&app, today()).await;
    let month = month_label(start);
    let st = find(
        &creator_statements(&app, &token, &month).await,
        "northwind",
        "USD",
    )
    .clone();
    assert_eq!(st["state"], "open");
    let (before, _) = reports_commission(&app, &token, "northwind", start).await;
    assert_eq!(minor(&st["commission"]), before);

    // Amazon restates: the open statement follows the report.
    app.sim().set_today(today() + Duration::days(1));
    ingest_on(&app, Some(today() + Duration::days(1))).await;
    let (restated, _) = reports_commission(&app, &token, "northwind", start).await;
    let st = find(
        &creator_statements(&app, &token, &month).await,
        "northwind",
        "USD",
    )
    .clone();
    assert_eq!(minor(&st["commission"]), restated);

    // Not final the day before the window closes; final the day after.
    let last = month_end(start);
    let s = schedule(&app, last + Duration::days(28)).await;
    assert!(s.finalised.is_empty(), "{s:?}");
    let s = schedule(&app, last + Duration::days(29)).await;
    assert_eq!(s.finalised.len(), 1, "{s:?}");
    let id = st["id"].as_str().unwrap().to_owned();
    let frozen = app.get(&format!("/statements/{id}"), &token).await.body;
    assert_eq!(frozen["state"], "final");
    assert_eq!(minor(&frozen["commission"]), restated);

    // A later restatement of a final day is ignored: the statement stays as frozen.
    app.sim().set_today(today() + Duration::days(3));
    ingest_on(&app, Some(today() + Duration::days(3))).await;
    let (moved, _) = reports_commission(&app, &token, "northwind", start).await;
    let s = schedule(&app, last + Duration::days(30)).await;
    assert!(s.finalised.is_empty());
    assert_eq!(s.restated, usize::from(moved != restated));
    let again = app.get(&format!("/statements/{id}"), &token).await.body;
    assert_eq!(again["lines"], frozen["lines"]);
    assert_eq!(again["commission"], frozen["commission"]);
    assert_eq!(again["history"].as_array().unwrap().len(), 2);
}

/// Sets up a final month with statements for two creators in USD and one in EUR.
async fn final_month(app: &TestApp) -> (String, String, String) {
    let token = app.token(CREATOR).await;
    let other = app.token(CREATOR2).await;
    let start = month_start(2);
    let (from, to) = (start + Duration::days(4), start + Duration::days(14));
    let (_, a) = link(app, &token, "B0D45KS7QM", "amazon.com").await;
    let (_, b) = link(app, &token, "B0D45KS7QM", "amazon.de").await;
    let (_, c) = link(app, &other, "B0D45KS7QM", "amazon.com").await;
    visits(app, &a, from, to, 3000);
    visits(app, &b, from, to, 3000);
    visits(app, &c, from, to, 3000);
    ingest_on(app, None).await;
    schedule(app, today()).await;
    let month = month_label(start);
    let mine = creator_statements(app, &token, &month).await;
    let theirs = creator_statements(app, &other, &month).await;
    (
        find(&mine, "northwind", "USD")["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        find(&mine, "northwind", "EUR")["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        find(&theirs, "northwind", "USD")["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

#[tokio::test]
async fn every_transition_and_every_refused_one_with_payout_files_and_mail() {
    let sink = crate::mailbox::Mailbox::start().await;
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let app = app_with(&["--smtp-url", &smtp]).await;
    let (usd, eur, other_usd) = final_month(&app).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    // The brand was told the month is final.
    let mail = sink.wait(SELLER, 1).await;
    assert!(mail.contains("are final"), "{mail}");

    // An open statement (this month) can be neither adjusted nor approved.
    let (_, now_link) = link(&app, &creator, "B0PKBUDS01", "amazon.com").await;
    visits(&app, &now_link, today() - Duration::days(1), today(), 2000);
    ingest_on(&app, None).await;
    schedule(&app, today()).await;
    let open = find(
        &creator_statements(&app, &creator, &month_label(month_start(0))).await,
        "peak-audio",
        "USD",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |id: String| {
        let (app, seller) = (&app, &seller);
        async move {
            app.get(&format!("/sellers/statements/{id}"), seller)
                .await
                .body
        }
    };
    let refused = |r: &crate::support::Reply, status: StatusCode, code: &str| {
        assert_eq!(r.status, status, "{:?}", r.body);
        assert_eq!(r.code(), code, "{:?}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().len() > 20,
            "{:?}",
            r.body
        );
    };
    let before = get(open.clone()).await;
    let r = app
        .post_json(
            &format!("/sellers/statements/{open}/approve"),
            &seller,
            json!({}),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_open");
    let r = app
        .post_json(
            &format!("/sellers/statements/{open}/adjustments"),
            &seller,
            json!({"amount_minor": 100, "reason": "bonus"}),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_open");
    assert_eq!(get(open.clone()).await["history"], before["history"]);

    // Paying a final (unapproved) statement is refused; nothing is written.
    let pay = |ids: Vec<&str>| json!({"statement_ids": ids, "paid_at": "2026-12-03T10:00:00Z", "method": "paypal", "reference": "BATCH-1"});
    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd]))
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_not_approved");

    // Adjustments on a final statement: validated, then added to the total.
    let base = get(usd.clone()).await;
    for body in [
        json!({"amount_minor": 0, "reason": "nothing"}),
        json!({"amount_minor": 500, "reason": "  "}),
        json!({"amount_minor": 500}),
        // Found by schemathesis: `abs` of the smallest i64 overflowed into a 500.
        json!({"amount_minor": i64::MIN, "reason": "overflow"}),
        json!({"amount_minor": 1_000_000_000_001_i64, "reason": "too much"}),
    ] {
        let r = app
            .post_json(
                &format!("/sellers/statements/{usd}/adjustments"),
                &seller,
                body,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    }
    let r = app
        .post_json(
            &format!("/sellers/statements/{usd}/adjustments"),
            &seller,
            json!({"amount_minor": 2500, "reason": "Launch bonus"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post_json(
            &format!("/sellers/statements/{usd}/adjustments"),
            &seller,
            json!({"amount_minor": -30, "reason": "Returned order"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(minor(&r.body["adjustments_total"]), 2470);
    assert_eq!(minor(&r.body["total"]), minor(&base["commission"]) + 2470);
    assert_eq!(r.body["adjustments"][0]["by"], "seller_demo_brand");
    assert_eq!(r.body["payout_details_missing"], true);

    // Approve; then adjusting or approving again is refused.
    for id in [&usd, &eur, &other_usd] {
        let r = app
            .post_json(
                &format!("/sellers/statements/{id}/approve"),
                &seller,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["state"], "approved");
    }
    let approved = get(usd.clone()).await;
    let r = app
        .post_json(
            &format!("/sellers/statements/{usd}/adjustments"),
            &seller,
            json!({"amount_minor": 100, "reason": "late"}),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_approved");
    let r = app
        .post_json(
            &format!("/sellers/statements/{usd}/approve"),
            &seller,
            json!({}),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_approved");
    assert_eq!(get(usd.clone()).await, approved);
    let mail = sink.wait(CREATOR, 1).await;
    assert!(mail.contains("approved"), "{mail}");

    // Payouts: one currency, own statements, no duplicates; all or nothing.
    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd, &eur]))
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "mixed_currencies");
    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd, "nope"]))
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "statement_not_found");
    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd, &usd]))
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "duplicate_statement");
    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd, &open]))
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_open");
    for bad in [
        json!({"statement_ids": [], "paid_at": "2026-12-03T10:00:00Z", "method": "paypal", "reference": "x"}),
        json!({"statement_ids": [&usd], "paid_at": "yesterday", "method": "paypal", "reference": "x"}),
        json!({"statement_ids": [&usd], "paid_at": "2026-12-03T10:00:00Z", "method": "", "reference": "x"}),
    ] {
        let r = app.post_json("/sellers/payouts", &seller, bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    }
    assert_eq!(
        get(usd.clone()).await,
        approved,
        "refused payouts changed nothing"
    );
    // A creator cannot reach the seller side.
    let r = app
        .post_json("/sellers/payouts", &creator, pay(vec![&usd]))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The creator leaves PayPal details; the other creator leaves none.
    let r = app
        .send(
            reqwest::Method::PUT,
            "/account/payout_details",
            Some(&creator),
            |r| r.json(&json!({"method": "paypal", "paypal_email": "creator.pay@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .send(
            reqwest::Method::PUT,
            "/account/payout_details",
            Some(&creator),
            |r| r.json(&json!({"method": "paypal", "paypal_email": "not an address"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd, &other_usd]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let payout = r.body["id"].as_str().unwrap().to_owned();
    let paid = get(usd.clone()).await;
    let paid_other = get(other_usd.clone()).await;
    assert_eq!(paid["state"], "paid");
    assert_eq!(paid_other["payout_details_missing"], true);
    assert_eq!(
        minor(&r.body["total"]),
        minor(&paid["total"]) + minor(&paid_other["total"])
    );
    // Paid is the end: no second payment, no void.
    let r = app
        .post_json("/sellers/payouts", &seller, pay(vec![&usd]))
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_paid");
    let r = app
        .post_json(
            &format!("/sellers/statements/{usd}/void"),
            &seller,
            json!({"reason": "oops"}),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_paid");

    // The PayPal file: no header; recipient, amount, currency, unique id, note, wallet.
    let (status, headers, body) = app
        .get_text(
            &format!("/sellers/payouts/{payout}/export?format=paypal"),
            &seller,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["quiver-skipped-statements"], other_usd.as_str());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    let recs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 1, "{body}");
    assert_eq!(&recs[0][0], "creator.pay@example.com");
    assert_eq!(
        &recs[0][1],
        format!("{:.2}", paid["total"].as_f64().unwrap())
    );
    assert_eq!(&recs[0][2], "USD");
    assert_eq!(&recs[0][3], usd.as_str());
    assert_eq!(&recs[0][5], "PAYPAL");
    let (status, _, generic) = app
        .get_text(
            &format!("/sellers/payouts/{payout}/export?format=generic"),
            &seller,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(generic.as_bytes());
    let recs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(&recs[0][0], usd.as_str());
    assert_eq!(
        &recs[0][7],
        &format!("{:.2}", paid["total"].as_f64().unwrap())
    );
    assert_eq!(&recs[0][12], "BATCH-1");
    let r = app
        .get(
            &format!("/sellers/payouts/{payout}/export?format=xml"),
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get("/sellers/payouts/nope/export", &seller).await;
    refused(&r, StatusCode::NOT_FOUND, "payout_not_found");

    // The creator sees it paid, with the exact amounts, and was told.
    let mine = app.get(&format!("/statements/{usd}"), &creator).await.body;
    assert_eq!(mine["state"], "paid");
    assert_eq!(mine["total"], paid["total"]);
    assert_eq!(mine["payment"]["reference"], "BATCH-1");
    let mail = sink.wait(CREATOR, 2).await;
    assert!(mail.contains("paid"), "{mail}");
    let month = month_label(month_start(2));
    let e = app
        .get(
            &format!("/earnings?start_month={month}&end_month={month}"),
            &creator,
        )
        .await;
    let usd_row = e.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["currency"] == "USD")
        .unwrap()
        .clone();
    assert_eq!(usd_row["paid"], paid["total"]);
    assert_eq!(usd_row["approved"], 0.0);

    // Void needs a reason; a voided statement takes no further change.
    let r = app
        .post_json(
            &format!("/sellers/statements/{eur}/void"),
            &seller,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post_json(
            &format!("/sellers/statements/{eur}/void"),
            &seller,
            json!({"reason": "Duplicate of a manual payment"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["state"], "void");
    assert_eq!(r.body["void_reason"], "Duplicate of a manual payment");
    let r = app
        .post_json(
            &format!("/sellers/statements/{eur}/approve"),
            &seller,
            json!({}),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "statement_void");

    // Every action is in the audit log with who did it.
    let audit = app.get("/sellers/audit?limit=500", &seller).await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.body);
    let mut actions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in audit.body["entries"].as_array().unwrap() {
        actions
            .entry(e["action"].as_str().unwrap().to_owned())
            .or_default()
            .push(e["actor"].as_str().unwrap().to_owned());
    }
    for a in [
        "statement.final",
        "statement.adjust",
        "statement.approved",
        "statement.paid",
        "statement.void",
    ] {
        assert!(actions.contains_key(a), "{a} missing from {actions:?}");
    }
    assert!(
        actions["statement.approved"]
            .iter()
            .all(|a| a == "seller_demo_brand")
    );
    assert!(actions["statement.final"].iter().all(|a| a == "system"));

    // The brand's month view: BRB as an estimate, never in a creator's statement.
    let r = app
        .get(&format!("/sellers/statements?month={month}"), &seller)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["statements"].as_array().unwrap().len(), 3);
    assert!(r.body["brand_referral_bonus"].is_array());
    assert!(mine.get("brand_referral_bonus").is_none());
    let r = app
        .get(
            &format!("/sellers/statements?month={month}&state=paid&creators=aff_demo_creator"),
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["statements"].as_array().unwrap().len(), 1);
    let r = app.get("/sellers/statements?state=unpaid", &seller).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn two_processes_finalising_the_same_month_make_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let a = TestApp::on_database(&url, &["--ingest-interval-secs", "0"]).await;
    let b = TestApp::on_database(&url, &["--ingest-interval-secs", "0"]).await;
    quiver::demo::register_catalog(a.sim());
    let token = a.token(CREATOR).await;
    let start = month_start(2);
    for asin in ["B0D45KS7QM", "B0PKBUDS01"] {
        let (_, url) = link(&a, &token, asin, "amazon.com").await;
        visits(
            &a,
            &url,
            start + Duration::days(2),
            start + Duration::days(12),
            1500,
        );
    }
    ingest_on(&a, None).await;
    for _ in 0..3 {
        let (x, y) = tokio::join!(schedule(&a, today()), schedule(&b, today()));
        assert!(x.created + y.created <= 2);
    }
    let list = creator_statements(&a, &token, &month_label(start)).await;
    assert_eq!(list.len(), 2, "{list:?}");
    for s in &list {
        assert_eq!(s["state"], "final");
        let d = b
            .get(
                &format!("/statements/{}", s["id"].as_str().unwrap()),
                &token,
            )
            .await;
        let history = d.body["history"].as_array().unwrap();
        assert_eq!(
            history.len(),
            2,
            "one open and one final entry: {history:?}"
        );
        let (reports, rows) =
            reports_commission(&a, &token, s["brand_id"].as_str().unwrap(), start).await;
        assert_eq!(d.body["lines"].as_array().unwrap().len(), rows);
        assert_eq!(minor(&s["commission"]), reports);
    }
}

/// Done when: on the demo data a past month's statements are final; the brand adds a
/// bonus, approves, records a payment and downloads a PayPal file whose lines match the
/// statements; the creator sees the month as paid with the exact amounts.
#[tokio::test]
async fn on_the_demo_a_past_month_is_final_and_can_be_paid_end_to_end() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    // 60 days of history reach back into the month before last, which is final.
    let month = month_label(month_start(2));
    let r = app
        .get(
            &format!("/sellers/statements?month={month}&state=final"),
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let finals = r.body["statements"].as_array().unwrap().clone();
    assert!(!finals.is_empty(), "{:?}", r.body);
    let usd: Vec<&Value> = finals.iter().filter(|s| s["currency"] == "USD").collect();
    assert!(!usd.is_empty());
    let r = app
        .send(
            reqwest::Method::PUT,
            "/account/payout_details",
            Some(&creator),
            |r| r.json(&json!({"method": "paypal", "paypal_email": "creator@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut ids = Vec::new();
    let mut expected = BTreeMap::new();
    for s in &usd {
        let id = s["id"].as_str().unwrap().to_owned();
        let r = app
            .post_json(
                &format!("/sellers/statements/{id}/adjustments"),
                &seller,
                json!({"amount_minor": 1000, "reason": "Holiday bonus"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(minor(&r.body["total"]), minor(&s["commission"]) + 1000);
        let r = app
            .post_json(
                &format!("/sellers/statements/{id}/approve"),
                &seller,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        expected.insert(id.clone(), minor(&r.body["total"]));
        ids.push(id);
    }
    let r = app
        .post_json(
            "/sellers/payouts",
            &seller,
            json!({"statement_ids": ids, "paid_at": "2026-12-03T12:00:00Z", "method": "paypal", "reference": "PP-BATCH-42"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let payout = r.body["id"].as_str().unwrap();
    let (status, _, body) = app
        .get_text(
            &format!("/sellers/payouts/{payout}/export?format=paypal"),
            &seller,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    let mut seen = BTreeMap::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        assert_eq!(rec.len(), 6);
        assert_eq!(&rec[0], "creator@example.com");
        assert_eq!(&rec[2], "USD");
        assert_eq!(&rec[5], "PAYPAL");
        let cents = (rec[1].parse::<f64>().unwrap() * 100.0).round() as i64;
        seen.insert(rec[3].to_owned(), cents);
    }
    assert_eq!(seen, expected);
    for (id, total) in &expected {
        let s = app.get(&format!("/statements/{id}"), &creator).await.body;
        assert_eq!(s["state"], "paid");
        assert_eq!(minor(&s["total"]), *total);
    }
    let e = app
        .get(
            &format!("/earnings?start_month={month}&end_month={month}"),
            &creator,
        )
        .await;
    let paid: i64 = e.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["currency"] == "USD")
        .map(|r| minor(&r["paid"]))
        .sum();
    assert_eq!(paid, expected.values().sum::<i64>());
}
