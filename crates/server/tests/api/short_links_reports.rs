//! Short links beyond the link object (issue #19): report rows' `link` carries
//! `short_url`, both reports filter by the links' `source`, and a bulk job's results CSV
//! has the short URL as its last column.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::short_links::{PHONE, visit};
use crate::support::{CREATOR, SELLER, TestApp};

/// A report range over the demo history, as a query string.
fn range() -> (String, String) {
    let today = time::OffsetDateTime::now_utc().date();
    let start = today - time::Duration::days(89);
    (start.to_string(), today.to_string())
}

fn clicks(rows: &[Value]) -> i64 {
    rows.iter().map(|r| r["clicks"].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn report_rows_links_carry_their_short_url() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let t = app.token(CREATOR).await;
    let (s, e) = range();
    let page = app
        .get(&format!("/reports?start={s}&end={e}&limit=500"), &t)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let rows = page.body["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    let ids: HashSet<&str> = rows
        .iter()
        .map(|r| r["link"]["id"].as_str().unwrap())
        .collect();
    for id in ids {
        let link = app.get(&format!("/links/{id}"), &t).await.body;
        let short = link["short_url"]
            .as_str()
            .expect("the link has a short URL");
        assert!(short.starts_with(&format!("{}/r/", app.base)), "{short}");
        for r in rows.iter().filter(|r| r["link"]["id"] == id) {
            assert_eq!(r["link"]["short_url"], short, "{r}");
        }
    }
    // The legacy lookups return the same rows, short URL included.
    let name = rows[0]["link"]["link_name"].as_str().unwrap();
    let day = |d: &str| d.replace('-', "");
    let legacy = app
        .post_json(
            "/single_link_data",
            &t,
            json!({"link_name": name, "start_date": day(&s), "end_date": day(&e)}),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{:?}", legacy.body);
    let data = legacy.body["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(
        data.iter().all(|r| r["link"]["short_url"]
            .as_str()
            .is_some_and(|u| u.contains("/r/"))),
        "{data:?}"
    );
}

#[tokio::test]
async fn seller_reports_filter_by_the_links_source() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let t = app.token(CREATOR).await;
    let s = app.token(SELLER).await;
    let (start, end) = range();
    let q = format!("start={start}&end={end}&limit=500");
    let all = app.get(&format!("/sellers/reports?{q}"), &s).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    let all_rows = all.body["rows"].as_array().unwrap().clone();
    let seller_brands: HashSet<&str> = all_rows
        .iter()
        .map(|r| r["brand_id"].as_str().unwrap())
        .collect();
    assert!(!seller_brands.is_empty());

    // Label one of the creator's links that has rows of the seller's products.
    let mine = app.get(&format!("/reports?{q}"), &t).await.body;
    let link = mine["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| seller_brands.contains(r["brand_id"].as_str().unwrap()))
        .map(|r| r["link"]["id"].as_str().unwrap().to_owned())
        .expect("a creator link with the seller's rows");
    let r = app
        .patch_json(&format!("/links/{link}"), &t, json!({"source": "youtube"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let yt = app
        .get(&format!("/sellers/reports?{q}&source=youtube"), &s)
        .await;
    assert_eq!(yt.status, StatusCode::OK, "{:?}", yt.body);
    let yt_rows = yt.body["rows"].as_array().unwrap();
    assert!(!yt_rows.is_empty());
    assert_eq!(yt.body["total_count"].as_u64(), Some(yt_rows.len() as u64));
    assert!(yt.body["total_count"].as_i64() < all.body["total_count"].as_i64());
    // The seller's view of that link equals the creator's rows of the seller's brands.
    let pub_yt = app
        .get(&format!("/reports?{q}&source=youtube"), &t)
        .await
        .body;
    let of_seller: Vec<Value> = pub_yt["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| seller_brands.contains(r["brand_id"].as_str().unwrap()))
        .cloned()
        .collect();
    assert!(
        pub_yt["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["link"]["id"] == link.as_str())
    );
    assert_eq!(clicks(yt_rows), clicks(&of_seller));
    assert!(clicks(yt_rows) < clicks(&all_rows) || all.body["next_cursor"].is_string());

    let none = app
        .get(&format!("/sellers/reports?{q}&source=tiktok"), &s)
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["total_count"], 0);
    assert_eq!(none.body["rows"], json!([]));
    let bad = app
        .get(&format!("/sellers/reports?{q}&source=no%20way"), &s)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.to_string().contains("source"), "{:?}", bad.body);
}

#[tokio::test]
async fn bulk_links_get_short_urls_in_the_last_csv_column() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            &t,
            json!({"links": [
                {"asin": "B0D45KS7QM", "marketplace": "amazon.de", "link_name": "bulk-short",
                 "source": "youtube", "sub_id": "video-42"},
                {"asin": "B0NOTTHERE", "marketplace": "amazon.de"},
                {"asin": "B0D45KS7QM", "marketplace": "amazon.de", "source": "not a label!"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let (status, _, text) = app
            .get_text(&format!("/bulk_jobs/{job}/results.csv"), &t)
            .await;
        if status == StatusCode::OK && text.lines().count() == 4 {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bulk job not done: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header[..6],
        [
            "ASIN",
            "Marketplace",
            "Link Name",
            "Attribution URL",
            "Status",
            "Error"
        ]
    );
    assert_eq!(header[6], "Short URL");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][4], "ok");
    assert_eq!(&rows[1][4], "error");
    assert_eq!(&rows[1][6], "");
    assert_eq!(&rows[2][4], "error");
    assert!(
        rows[2][5].contains("source"),
        "the error names the field: {:?}",
        &rows[2]
    );
    // The item's labels reach the link the worker made.
    let made = app
        .get("/get_all_links?link_name=bulk-short&marketplace=all", &t)
        .await
        .body;
    assert_eq!(made["all_links"][0]["source"], "youtube", "{made}");
    assert_eq!(made["all_links"][0]["sub_id"], "video-42", "{made}");
    let short = &rows[0][6];
    let path = &short[short.find("/r/").unwrap()..];
    // Made by the bulk worker in this process: it redirects at once.
    let r = visit(&app, Method::GET, path, PHONE, &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], &rows[0][3]);
}

#[tokio::test]
async fn reports_filter_by_source() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let t = app.token(CREATOR).await;
    let links = app
        .get("/get_all_links?marketplace=all&limit=500", &t)
        .await
        .body;
    let first = links["all_links"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .patch_json(&format!("/links/{first}"), &t, json!({"source": "youtube"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let today = time::OffsetDateTime::now_utc().date();
    let q = format!(
        "start={}&end={today}&limit=500",
        today - time::Duration::days(89)
    );
    let all = app.get(&format!("/reports?{q}"), &t).await.body;
    let yt = app.get(&format!("/reports?{q}&source=youtube"), &t).await;
    assert_eq!(yt.status, StatusCode::OK, "{:?}", yt.body);
    let rows = yt.body["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["link"]["id"] == first.as_str()));
    assert!(yt.body["total_count"].as_i64() < all["total_count"].as_i64());
    let none = app
        .get(&format!("/reports?{q}&source=tiktok"), &t)
        .await
        .body;
    assert_eq!(none["total_count"], 0);
    let bad = app.get(&format!("/reports?{q}&source=no%20way"), &t).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.to_string().contains("source"));
}

/// The figures of `rows` for `source` (null: links without one), per marketplace.
fn source_clicks(rows: &Value, source: Value) -> i64 {
    rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == source)
        .map(|r| r["clicks"].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn both_reports_group_by_source() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let t = app.token(CREATOR).await;
    let s = app.token(SELLER).await;
    let (start, end) = range();
    let q = format!("start={start}&end={end}");
    let before = app.get(&format!("/reports/sources?{q}"), &t).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    let everything = source_clicks(&before.body, Value::Null);
    assert!(everything > 0, "{:?}", before.body);
    assert_eq!(before.body["start"], start.as_str());

    // One link labelled: its clicks move from no source to `youtube`, the sum stays.
    let mine = app.get(&format!("/reports?{q}&limit=500"), &t).await.body;
    let link = mine["rows"][0]["link"]["id"].as_str().unwrap().to_owned();
    let r = app
        .patch_json(&format!("/links/{link}"), &t, json!({"source": "youtube"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let after = app.get(&format!("/reports/sources?{q}"), &t).await.body;
    let yt = source_clicks(&after, json!("youtube"));
    let of_link = app
        .get(&format!("/reports?{q}&limit=500&source=youtube"), &t)
        .await
        .body;
    assert!(of_link["next_cursor"].is_null());
    assert_eq!(yt, clicks(of_link["rows"].as_array().unwrap()));
    assert!(yt > 0);
    assert_eq!(source_clicks(&after, Value::Null) + yt, everything);
    assert!(
        after["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["currency"].is_string() && r["marketplace"].is_string())
    );
    let only = app
        .get(&format!("/reports/sources?{q}&source=youtube"), &t)
        .await
        .body;
    assert_eq!(source_clicks(&only, json!("youtube")), yt);
    assert_eq!(source_clicks(&only, Value::Null), 0);

    // The seller: its brands' figures by the source of the creators' links.
    let sel = app.get(&format!("/sellers/reports/sources?{q}"), &s).await;
    assert_eq!(sel.status, StatusCode::OK, "{:?}", sel.body);
    let sel_yt = app
        .get(
            &format!("/sellers/reports?{q}&limit=500&source=youtube"),
            &s,
        )
        .await
        .body;
    assert_eq!(
        source_clicks(&sel.body, json!("youtube")),
        clicks(sel_yt["rows"].as_array().unwrap())
    );
    assert_eq!(
        app.get(&format!("/sellers/reports/sources?{q}"), &t)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .get(&format!("/reports/sources?{q}&source=no%20way"), &t)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.to_string().contains("source"));
}

/// The `clicks` of the summary row keyed `key`, 0 when there is none.
fn summary_clicks(summary: &Value, key: &str) -> i64 {
    summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["key"] == key)
        .map(|r| r["clicks"].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn both_summaries_filter_and_group_by_source() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let t = app.token(CREATOR).await;
    let s = app.token(SELLER).await;
    let (start, end) = range();
    let q = format!("start={start}&end={end}");
    let mine = app.get(&format!("/reports?{q}&limit=500"), &t).await.body;
    let link = mine["rows"][0]["link"]["id"].as_str().unwrap().to_owned();
    let r = app
        .patch_json(&format!("/links/{link}"), &t, json!({"source": "youtube"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let listed = app
        .get(&format!("/reports?{q}&limit=500&source=youtube"), &t)
        .await
        .body;
    let yt = clicks(listed["rows"].as_array().unwrap());
    assert!(yt > 0);

    // The creator: grouped by source the rows add up to the unfiltered totals.
    let all = app.get(&format!("/reports/summary?{q}"), &t).await.body;
    let grouped = app
        .get(&format!("/reports/summary?{q}&group_by=source"), &t)
        .await;
    assert_eq!(grouped.status, StatusCode::OK, "{:?}", grouped.body);
    let g = &grouped.body;
    assert_eq!(g["group_by"], "source");
    assert_eq!(summary_clicks(g, "youtube"), yt);
    assert_eq!(
        summary_clicks(g, "") + yt,
        all["totals"]["clicks"].as_i64().unwrap()
    );
    assert_eq!(g["totals"], all["totals"]);
    let keys: Vec<&str> = g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["", "youtube"], "{g}");
    // Filtered: only the link's figures, the previous period filtered too.
    let only = app
        .get(&format!("/reports/summary?{q}&source=youtube"), &t)
        .await
        .body;
    assert_eq!(only["totals"]["clicks"], yt);
    let none = app
        .get(&format!("/reports/summary?{q}&source=tiktok"), &t)
        .await
        .body;
    assert_eq!(none["totals"]["clicks"], 0);
    assert_eq!(none["previous"]["totals"]["clicks"], 0);

    // The seller: by the source of the creators' links, the same figures as its listing.
    let sel_all = app.get(&format!("/sellers/reports/summary?{q}"), &s).await;
    assert_eq!(sel_all.status, StatusCode::OK, "{:?}", sel_all.body);
    let sel = app
        .get(&format!("/sellers/reports/summary?{q}&group_by=source"), &s)
        .await;
    assert_eq!(sel.status, StatusCode::OK, "{:?}", sel.body);
    let sel_listed = app
        .get(
            &format!("/sellers/reports?{q}&limit=500&source=youtube"),
            &s,
        )
        .await
        .body;
    let sel_yt = clicks(sel_listed["rows"].as_array().unwrap());
    assert_eq!(summary_clicks(&sel.body, "youtube"), sel_yt);
    assert_eq!(sel.body["totals"], sel_all.body["totals"]);
    let sel_only = app
        .get(&format!("/sellers/reports/summary?{q}&source=youtube"), &s)
        .await
        .body;
    assert_eq!(sel_only["totals"]["clicks"], sel_yt);

    for path in ["/reports/summary", "/sellers/reports/summary"] {
        let who = if path.starts_with("/sellers") { &s } else { &t };
        let bad = app.get(&format!("{path}?{q}&source=no%20way"), who).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(bad.body.to_string().contains("source"), "{:?}", bad.body);
    }
}
