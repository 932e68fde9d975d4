//! Bulk link generation (spec §4): limits, per-item error rows, Amazon outages, crashes,
//! several servers on one database, the result CSV and its e-mail.

use std::collections::HashSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use quiver::store::bulk::ItemStatus;

use crate::support::*;

const HEADER: [&str; 7] = [
    "ASIN",
    "Marketplace",
    "Link Name",
    "Attribution URL",
    "Status",
    "Error",
    "Short URL",
];

fn items(n: usize) -> Vec<Value> {
    const MARKETS: [&str; 3] = ["amazon.com", "amazon.de", "amazon.co.uk"];
    (0..n)
        .map(|i| {
            json!({"asin": "B0D45KS7QM", "link_name": format!("bulk-{i}"), "marketplace": MARKETS[i % 3]})
        })
        .collect()
}

async fn submit(app: &TestApp, token: &str, links: Vec<Value>) -> String {
    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            token,
            json!({ "links": links }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    r.body["job_id"].as_str().unwrap().to_owned()
}

/// Polls the job until `done(status)` holds, or fails after `limit`.
async fn wait_for(
    app: &TestApp,
    token: &str,
    job: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let r = app.get(&format!("/bulk_jobs/{job}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if done(&r.body) {
            return r.body;
        }
        assert!(
            started.elapsed() < limit,
            "job {job} not there after {limit:?}: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_done(app: &TestApp, token: &str, job: &str, limit: Duration) -> Value {
    wait_for(app, token, job, limit, |b| b["status"] == "done").await
}

fn parse_csv(text: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(r.headers().unwrap(), HEADER.as_slice());
    r.records().map(Result::unwrap).collect()
}

async fn results(app: &TestApp, token: &str, job: &str) -> Vec<csv::StringRecord> {
    let (status, headers, text) = app
        .get_text(&format!("/bulk_jobs/{job}/results.csv"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    parse_csv(&text)
}

/// Every item's link exists once: distinct ids, and the account has exactly that many.
async fn assert_exactly_once(db: &quiver::store::Db, job: &str, account_id: &str, total: usize) {
    let states = db.bulk_item_states(job).await.unwrap();
    assert_eq!(states.len(), total);
    let ids: HashSet<_> = states.iter().filter_map(|s| s.link_id.clone()).collect();
    let done = states
        .iter()
        .filter(|s| s.status == ItemStatus::Done)
        .count();
    assert_eq!(ids.len(), done, "one distinct link per done item");
    assert_eq!(
        db.count_links(account_id).await.unwrap(),
        done as i64,
        "no link without its item, none twice"
    );
}

#[tokio::test]
async fn mixed_items_give_error_rows_worded_like_single_creation() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let tricky = "Grüße, \"quoted\" – 春 🎉";
    let links = vec![
        json!({"asin": "b0d45ks7qm", "link_name": tricky, "marketplace": "www.Amazon.DE"}),
        json!({"asin": "nope", "link_name": "bad asin"}),
        json!({"asin": "B0D45KS7QM", "link_name": "   "}),
        json!({"asin": "B0NOTTHERE", "marketplace": "amazon.com"}),
        json!({"asin": "B0LMDESK01", "marketplace": "amazon.com"}),
        json!({"asin": "B0PKBUDS01"}),
        json!({"link_name": "no asin"}),
    ];
    // What single creation answers for the same inputs (before anything is created).
    let mut expected_errors = Vec::new();
    for item in &links[1..5] {
        let r = app
            .post_json("/generate_attribution_link", &t, item.clone())
            .await;
        assert!(r.status.is_client_error(), "{:?}", r.body);
        let detail = match &r.body["detail"] {
            Value::String(s) => s.clone(),
            Value::Array(a) => a[0]["msg"].as_str().unwrap().to_owned(),
            other => panic!("{other}"),
        };
        expected_errors.push(detail);
    }
    assert_eq!(app.link_count(CREATOR).await, 0);

    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            &t,
            json!({ "links": links }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["queued_count"], 7);
    assert_eq!(r.body["status"], "queued");
    assert_eq!(
        r.body["email"], CREATOR,
        "defaults to the account's address"
    );
    let job = r.body["job_id"].as_str().unwrap();

    let status = wait_done(&app, &t, job, Duration::from_secs(30)).await;
    assert_eq!(status["job_id"], job);
    assert_eq!(status["total"], 7);
    assert_eq!(status["processed"], 7);
    assert_eq!(status["succeeded"], 2);
    assert_eq!(status["failed"], 5);
    assert!(status["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(status["finished_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(status["email_status"], "none", "no SMTP configured");

    let rows = results(&app, &t, job).await;
    assert_eq!(rows.len(), 7, "one row per item, in submission order");
    let r0 = &rows[0];
    assert_eq!(
        (&r0[0], &r0[1], &r0[2], &r0[4], &r0[5]),
        ("B0D45KS7QM", "amazon.de", tricky, "ok", "")
    );
    assert!(r0[3].starts_with("https://www.amazon.de/dp/B0D45KS7QM?maas="));
    for (row, expected) in rows[1..5].iter().zip(&expected_errors) {
        assert_eq!(&row[4], "error");
        assert_eq!(&row[3], "", "no URL on an error row");
        assert_eq!(&row[5], expected.as_str());
    }
    assert_eq!(&rows[1][0], "nope");
    assert_eq!(&rows[2][2], "   ", "an invalid name is shown as given");
    assert!(rows[3][5].starts_with("Product not found"));
    assert!(rows[4][5].starts_with("Not allowed to promote this product"));
    // No name: defaults to the ASIN; no marketplace: amazon.com.
    assert_eq!(
        (&rows[5][0], &rows[5][1], &rows[5][2], &rows[5][4]),
        ("B0PKBUDS01", "amazon.com", "B0PKBUDS01", "ok")
    );
    assert_eq!(&rows[6][4], "error");
    assert_eq!(&rows[6][5], "asin: Field required");

    // The links are ordinary links of the account.
    assert_eq!(app.link_count(CREATOR).await, 2);
    let all = app.get("/get_all_links?marketplace=all", &t).await;
    let urls: HashSet<&str> = all.body["all_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["url"].as_str().unwrap())
        .collect();
    assert!(urls.contains(&r0[3]) && urls.contains(&rows[5][3]));
    let account = app.account_id(CREATOR).await;
    assert_exactly_once(&app.running.state.db, job, &account, 7).await;
}

#[tokio::test]
async fn accepts_one_to_five_thousand_items_and_refuses_bad_marketplaces_whole() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let post = |body: Value| {
        let (app, t) = (&app, &t);
        async move {
            app.post_json("/bulk_generate_attribution_links", t, body)
                .await
        }
    };
    let r = post(json!({"links": []})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "links"]));
    let r = post(json!({"links": items(5001)})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["detail"][0]["type"], "too_long");
    assert_eq!(
        post(json!({})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(json!({"links": "B0D45KS7QM"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = post(json!({"links": items(2), "email": "not an address"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "email"]));

    // One unsupported marketplace, even deep in the list and next to other problems,
    // refuses the whole request.
    let mut links = items(3000);
    links[2999] = json!({"asin": "nope", "link_name": "", "marketplace": "amazon.moon"});
    let r = post(json!({ "links": links })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.code(), "unsupported_marketplace");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported marketplace 'amazon.moon'")
    );
    let account = app.account_id(CREATOR).await;
    let db = &app.running.state.db;
    assert_eq!(
        db.count_bulk_jobs(&account).await.unwrap(),
        0,
        "nothing queued"
    );

    // Sellers cannot submit.
    let seller = app.token(SELLER).await;
    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            &seller,
            json!({"links": items(1)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = post(json!({"links": items(5000), "email": "Creator@Example.COM"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["queued_count"], 5000);
    assert_eq!(r.body["email"], CREATOR);
    let job = r.body["job_id"].as_str().unwrap();
    let s = app.get(&format!("/bulk_jobs/{job}"), &t).await;
    assert_eq!(s.body["total"], 5000);
    assert_eq!(db.count_bulk_jobs(&account).await.unwrap(), 1);
}

#[tokio::test]
async fn only_the_owner_sees_a_job() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let job = submit(&app, &t, items(2)).await;
    wait_done(&app, &t, &job, Duration::from_secs(30)).await;
    let other = app.token(CREATOR2).await;
    for path in [
        format!("/bulk_jobs/{job}"),
        format!("/bulk_jobs/{job}/results.csv"),
    ] {
        let r = app.get(&path, &other).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.code(), "not_found");
        assert_eq!(app.get(&path, &t).await.status, StatusCode::OK);
    }
    let r = app.get("/bulk_jobs/no-such-job", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let seller = app.token(SELLER).await;
    assert_eq!(
        app.get(&format!("/bulk_jobs/{job}"), &seller).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_amazon_outage_is_retried_and_the_job_recovers_without_duplicates() {
    let app =
        TestApp::with_args(&["--bulk-retry-base-ms", "200", "--bulk-max-attempts", "30"]).await;
    let t = app.token(CREATOR).await;
    // Cold tag cache and Amazon down: no item can get a link.
    app.outage(true);
    let job = submit(&app, &t, items(12)).await;
    let db = &app.running.state.db;
    let started = Instant::now();
    loop {
        let states = db.bulk_item_states(&job).await.unwrap();
        if states.iter().all(|s| s.attempts >= 1) {
            assert!(states.iter().all(|s| s.status == ItemStatus::Pending));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no retries");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.link_count(CREATOR).await, 0);
    app.outage(false);
    let status = wait_done(&app, &t, &job, Duration::from_secs(90)).await;
    assert_eq!(status["succeeded"], 12, "{status}");
    let rows = results(&app, &t, &job).await;
    assert!(rows.iter().all(|r| &r[4] == "ok" && r[5].is_empty()));
    let account = app.account_id(CREATOR).await;
    assert_exactly_once(db, &job, &account, 12).await;
}

#[tokio::test]
async fn an_outage_that_outlasts_the_retries_ends_in_error_rows() {
    let app = TestApp::with_args(&["--bulk-retry-base-ms", "50", "--bulk-max-attempts", "3"]).await;
    let t = app.token(CREATOR).await;
    app.outage(true);
    let job = submit(&app, &t, items(4)).await;
    let status = wait_done(&app, &t, &job, Duration::from_secs(60)).await;
    assert_eq!(status["failed"], 4, "{status}");
    for row in results(&app, &t, &job).await {
        assert_eq!(&row[4], "error");
        assert_eq!(&row[3], "");
        assert!(row[5].starts_with("Couldn't reach Amazon"), "{:?}", row);
        // Read when the job is done, maybe days later: no "retry in N seconds".
        assert!(
            !row[5].to_lowercase().contains("retry in") && !row[5].contains("second"),
            "{:?}",
            row
        );
    }
    let states = app.running.state.db.bulk_item_states(&job).await.unwrap();
    assert!(states.iter().all(|s| s.attempts == 3), "{states:?}");
    assert_eq!(app.link_count(CREATOR).await, 0);
}

#[tokio::test]
async fn two_servers_on_one_database_share_a_job_without_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let fast = ["--bulk-poll-ms", "20"];
    let a = TestApp::on_database(&url, &fast).await;
    let b = TestApp::on_database(&url, &fast).await;
    let t = a.token(CREATOR).await;
    let job = submit(&a, &t, items(1000)).await;
    let status = wait_done(&a, &t, &job, Duration::from_secs(120)).await;
    assert_eq!(status["succeeded"], 1000, "{status}");
    // B sees the same job through the shared database.
    let tb = b.token(CREATOR).await;
    assert_eq!(
        b.get(&format!("/bulk_jobs/{job}"), &tb).await.body["succeeded"],
        1000
    );

    let db = &a.running.state.db;
    let states = db.bulk_item_states(&job).await.unwrap();
    let ids = [a.running.worker_id.clone(), b.running.worker_id.clone()];
    let by_a = states
        .iter()
        .filter(|s| s.processed_by.as_deref() == Some(&ids[0]))
        .count();
    let by_b = states
        .iter()
        .filter(|s| s.processed_by.as_deref() == Some(&ids[1]))
        .count();
    assert_eq!(by_a + by_b, 1000, "every item processed by one of the two");
    assert!(by_a > 0 && by_b > 0, "both servers worked: {by_a} / {by_b}");
    let account = a.account_id(CREATOR).await;
    assert_exactly_once(db, &job, &account, 1000).await;
}

/// Kills the child on drop, so a failing test leaves no server behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the real `quiver` binary and waits until it answers.
async fn spawn_quiver(
    url: &str,
    port: u16,
    log: &std::path::Path,
    extra_env: &[(&str, &str)],
) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_quiver"));
    cmd.args(["serve"])
        .env("QUIVER_DATABASE_URL", url)
        .env("QUIVER_AMAZON", "sim")
        .env("QUIVER_DEMO", "1")
        .env("QUIVER_DEMO_LINKS", "0")
        .env("QUIVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("QUIVER_RATE_LIMIT", "0")
        .env("QUIVER_BULK_LEASE_SECS", "5")
        .env_remove("QUIVER_SMTP_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().unwrap());
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return server;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "quiver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(port: u16) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/token"))
        .form(&[("username", CREATOR), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

async fn job_status(port: u16, token: &str, job: &str) -> Value {
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/bulk_jobs/{job}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_killed_server_resumes_the_job_after_restart_with_every_item_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let log = dir.path().join("quiver.log");
    let port = free_port();
    // Few items at a time, so the kill lands mid-job.
    let mut first = spawn_quiver(&url, port, &log, &[("QUIVER_BULK_CONCURRENCY", "2")]).await;
    let token = login(port).await;
    let r = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/bulk_generate_attribution_links"
        ))
        .bearer_auth(&token)
        .json(&json!({ "links": items(2000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let before = loop {
        let s = job_status(port, &token, &job).await;
        let processed = s["processed"].as_i64().unwrap();
        if processed >= 20 {
            assert!(processed < 2000, "the job finished before the kill");
            break processed;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // SIGKILL: no clean shutdown, leases are left held.
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    drop(first);

    let port = free_port();
    let _second = spawn_quiver(&url, port, &log, &[]).await;
    let token = login(port).await;
    let started = Instant::now();
    let status = loop {
        let s = job_status(port, &token, &job).await;
        if s["status"] == "done" {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "not resumed: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["succeeded"], 2000, "{status}");
    assert!(before > 0);

    let text = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/bulk_jobs/{job}/results.csv"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 2000, "every item exactly once in the CSV");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(&row[2], format!("bulk-{i}").as_str(), "submission order");
        assert_eq!(&row[4], "ok");
    }
    let urls: HashSet<&str> = rows.iter().map(|r| &r[3]).collect();
    assert_eq!(urls.len(), 2000, "a distinct link per item");

    let db = quiver::store::Db::connect(&url).await.unwrap();
    let account = db.account_by_email(CREATOR).await.unwrap().unwrap().id;
    assert_exactly_once(&db, &job, &account, 2000).await;
    let states = db.bulk_item_states(&job).await.unwrap();
    let workers: HashSet<_> = states
        .iter()
        .filter_map(|s| s.processed_by.clone())
        .collect();
    assert_eq!(workers.len(), 2, "both processes did part of the job");
}

/// The base64 body of the MIME part whose headers contain `marker`.
fn attachment(message: &str, marker: &str) -> Vec<u8> {
    let start = message.find(marker).expect("attachment part");
    let rest = &message[start..];
    let body_start = rest.find("\n\n").unwrap() + 2;
    let b64: String = rest[body_start..]
        .lines()
        .take_while(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[tokio::test]
async fn results_are_emailed_as_a_csv_attachment_after_a_transient_refusal() {
    let sink = crate::mailbox::Mailbox::refusing(1).await;
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let app = TestApp::with_args(&["--smtp-url", &smtp, "--bulk-retry-base-ms", "50"]).await;
    let t = app.token(CREATOR).await;
    let mut links = items(3);
    links.push(json!({"asin": "nope", "link_name": "Grüße, \"x\""}));
    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            &t,
            json!({"links": links, "email": " CREATOR@example.com "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let job = r.body["job_id"].as_str().unwrap().to_owned();
    let status = wait_for(&app, &t, &job, Duration::from_secs(60), |b| {
        b["email_status"] == "sent"
    })
    .await;
    assert_eq!(status["status"], "done");
    assert_eq!(status["email_error"], Value::Null, "cleared once sent");
    let messages = sink.raw();
    assert_eq!(messages.len(), 1, "sent once, after the refusal");
    let m = &messages[0];
    assert!(m.contains(&format!("RCPT TO:<{CREATOR}>")), "{m}");
    assert!(m.contains(&format!("quiver-bulk-{job}.csv")), "{m}");
    let csv = attachment(m, "Content-Disposition: attachment");
    let (_, _, downloaded) = app
        .get_text(&format!("/bulk_jobs/{job}/results.csv"), &t)
        .await;
    assert_eq!(String::from_utf8(csv).unwrap(), downloaded);
    assert_eq!(parse_csv(&downloaded).len(), 4);
}

#[tokio::test]
async fn an_unreachable_smtp_server_never_loses_the_results() {
    let closed = free_port();
    let smtp = format!("smtp://127.0.0.1:{closed}");
    let app = TestApp::with_args(&[
        "--smtp-url",
        &smtp,
        "--bulk-retry-base-ms",
        "50",
        "--smtp-max-attempts",
        "2",
    ])
    .await;
    let t = app.token(CREATOR).await;
    let job = submit(&app, &t, items(2)).await;
    let status = wait_for(&app, &t, &job, Duration::from_secs(60), |b| {
        b["email_status"] == "failed"
    })
    .await;
    assert_eq!(status["succeeded"], 2);
    assert!(!status["email_error"].as_str().unwrap().is_empty());
    let rows = results(&app, &t, &job).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| &r[4] == "ok"));
}

#[tokio::test]
async fn the_bulk_command_submits_a_csv_and_writes_the_results() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("links.csv");
    std::fs::write(
        &input,
        "ASIN,link_name,marketplace\n\
         b0d45ks7qm,\"spring, \"\"launch\"\"\",amazon.de\n\
         B0PKBUDS01,,\n\
         nope,bad,amazon.com\n",
    )
    .unwrap();
    let out = dir.path().join("results.csv");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_quiver"))
        .arg("bulk")
        .arg(&input)
        .args(["--as", CREATOR, "--server", &app.base, "--out"])
        .arg(&out)
        .env("QUIVER_PASSWORD", PASSWORD)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 links created, 1 errors"), "{stdout}");
    let rows = parse_csv(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (&rows[0][0], &rows[0][1], &rows[0][2], &rows[0][4]),
        ("B0D45KS7QM", "amazon.de", "spring, \"launch\"", "ok")
    );
    assert_eq!((&rows[1][2], &rows[1][4]), ("B0PKBUDS01", "ok"));
    assert_eq!(&rows[2][4], "error");
    assert_eq!(app.link_count(CREATOR).await, 2);

    // A wrong password is reported, and nothing is submitted.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_quiver"))
        .arg("bulk")
        .arg(&input)
        .args(["--as", CREATOR, "--server", &app.base])
        .env("QUIVER_PASSWORD", "wrong-password")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("login"));
}

/// The store's guarantees directly, with the worker of the test server kept idle: claims
/// by racing workers never overlap, and a worker whose lease was taken over can neither
/// store a link nor an error for the item.
#[tokio::test]
async fn claims_never_overlap_and_a_superseded_worker_cannot_finish_an_item() {
    use quiver::store::bulk::{NewItem, NewJob};
    use quiver::store::now_ms;

    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let idle = ["--bulk-poll-ms", "3600000"];
    let app = TestApp::on_database(&url, &idle).await;
    let db = app.running.state.db.clone();
    let other = quiver::store::Db::connect(&url).await.unwrap();
    let account = app.account_id(CREATOR).await;
    let job = NewJob {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: account.clone(),
        email: CREATOR.into(),
        created_at: now_ms(),
    };
    let item = NewItem {
        asin: "B0D45KS7QM".into(),
        marketplace: "amazon.com".into(),
        link_name: None,
        source: None,
        sub_id: None,
        error: None,
    };
    db.create_bulk_job(&job, &vec![item; 300]).await.unwrap();

    // Two "processes" claim concurrently until nothing is left.
    let claim_all = |db: quiver::store::Db, worker: &'static str| async move {
        let mut mine = Vec::new();
        // A worker makes each claim's lease end unique (the claim reads its rows back by it).
        let mut lease = now_ms() + 60_000;
        loop {
            lease += 1;
            let got = db
                .claim_bulk_items(worker, now_ms(), lease, 7)
                .await
                .unwrap();
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|c| c.position));
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(claim_all(db.clone(), "worker-a")),
        tokio::spawn(claim_all(other.clone(), "worker-b")),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let all: HashSet<i32> = a.iter().chain(&b).copied().collect();
    assert_eq!(a.len() + b.len(), 300, "no item claimed twice");
    assert_eq!(all.len(), 300, "every item claimed");

    // Item 0's lease (worker-a or worker-b) expires; worker-c takes it over.
    let first = if a.contains(&0) {
        "worker-a"
    } else {
        "worker-b"
    };
    db.release_bulk_claims(first).await.unwrap();
    let now = now_ms();
    let taken = db
        .claim_bulk_items("worker-c", now, now + 60_000, 1)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let c = &taken[0];
    assert_eq!(c.position, 0);
    let req = quiver::linking::NewLink {
        asin: quiver_domain::Asin::parse(&c.asin).unwrap(),
        marketplace: quiver_domain::Marketplace::parse(&c.marketplace).unwrap(),
        link_name: None,
        source: None,
        sub_id: None,
    };
    let state = &app.running.state;
    let stale = quiver::linking::prepare_link(state, &c.account_id, &c.public_id, &req)
        .await
        .unwrap();
    let fresh = quiver::linking::prepare_link(state, &c.account_id, &c.public_id, &req)
        .await
        .unwrap();
    assert!(
        !db.complete_bulk_item(&job.id, 0, first, &stale)
            .await
            .unwrap()
    );
    assert!(
        !db.fail_bulk_item(&job.id, 0, first, "late", now_ms())
            .await
            .unwrap()
    );
    assert_eq!(db.count_links(&account).await.unwrap(), 0, "rolled back");
    assert!(
        db.complete_bulk_item(&job.id, 0, "worker-c", &fresh)
            .await
            .unwrap()
    );
    // Done once: a second completion, even by the claimant, changes nothing.
    let again = quiver::linking::prepare_link(state, &c.account_id, &c.public_id, &req)
        .await
        .unwrap();
    assert!(
        !db.complete_bulk_item(&job.id, 0, "worker-c", &again)
            .await
            .unwrap()
    );
    assert_eq!(db.count_links(&account).await.unwrap(), 1);
    let states = db.bulk_item_states(&job.id).await.unwrap();
    assert_eq!(states[0].link_id.as_deref(), Some(fresh.id.as_str()));
    assert_eq!(states[0].processed_by.as_deref(), Some("worker-c"));
}
