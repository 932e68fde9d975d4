//! Stopping a server (what SIGTERM and Ctrl-C do): every background job ends, and nothing
//! it was holding is lost.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn stopping_ends_every_background_job() {
    let app = TestApp::with_args(&[
        "--rate-limit",
        "1200",
        "--ingest-interval-secs",
        "1",
        "--smtp-url",
        "smtp://127.0.0.1:9",
        "--demo-links",
        "1",
    ])
    .await;
    let mut started = app.running.job_names();
    started.sort_unstable();
    assert_eq!(
        started,
        [
            "account_mail",
            "api_key_flush",
            "bulk",
            "click_flush",
            "demo_links",
            "ingest_schedule",
            "limiter_sweep",
            "mail",
            "short_codes",
            "tag_persist",
            "tag_refresh",
            "webhook_delivery"
        ]
    );
    // Give the jobs something to be in the middle of.
    let token = app.token(CREATOR).await;
    let r = app.create_link(&token, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    let t0 = Instant::now();
    let report = app.running.stop().await.unwrap();
    let stopped: Vec<_> = report.jobs.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        stopped,
        [
            "demo_links",
            "api_key_flush",
            "webhook_delivery",
            "account_mail",
            "mail",
            "bulk",
            "ingest_schedule",
            "limiter_sweep",
            "tag_refresh",
            "tag_persist",
            // Last: the final click flush comes after everything else has stopped.
            "short_codes",
            "click_flush"
        ],
        "last started, first stopped"
    );
    assert!(report.all_finished(), "{report:?}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

/// Background work belongs to the supervisor (`jobs/`): a task spawned anywhere else would
/// outlive a stop.
#[test]
fn tasks_are_spawned_only_by_the_supervisor() {
    // The HTTP server is stopped first by `Running::stop`; the bulk worker awaits its own
    // sub-tasks before it returns. `connections.rs` spawns one task per connection, owned
    // by the server: its graceful shutdown waits for every one of them before the server
    // task ends. `store/writer.rs` is SQLite's group-commit writer, owned by the `Db`:
    // `Db::close` (the last step of `Running::stop`) stops it after its queue is drained.
    let allowed = [
        "jobs/mod.rs",
        "jobs/bulk.rs",
        "cli/serve.rs",
        "connections.rs",
        "store/writer.rs",
    ];
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    let mut offenders = Vec::new();
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                if line.contains("tokio::spawn(") || line.contains("task::spawn(") {
                    seen += 1;
                    if !allowed.contains(&rel.as_str()) {
                        offenders.push(format!("{rel}:{}: {}", i + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(seen > 0, "the source was read");
    assert!(
        offenders.is_empty(),
        "tasks outside the supervisor:\n{}",
        offenders.join("\n")
    );
}

/// A template fetched just before the stop is in the database afterwards: the next
/// process serves links with it through an Amazon outage.
#[tokio::test]
async fn a_tag_template_fetched_before_stopping_survives_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let first = TestApp::on_database(&url, &[]).await;
    let token = first.token(CREATOR).await;
    let r = first.create_link(&token, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Periodic writes are 10 s apart: this one is the stop's.
    let report = first.running.stop().await.unwrap();
    assert!(report.all_finished(), "{report:?}");

    let second = TestApp::on_database(&url, &[]).await;
    second.outage(true);
    let token = second.token(CREATOR).await;
    let r = second.create_link(&token, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Another region's template was never fetched: Amazon's outage shows there.
    let r = second.create_link(&token, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", r.body);
}

async fn job_status(app: &TestApp, token: &str, job: &str) -> Value {
    let r = app.get(&format!("/bulk_jobs/{job}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

/// A clean stop mid-job leaves no item leased: items in flight finish, or their leases are
/// handed back. With leases of ten minutes, the next process can only finish the job
/// quickly if it need not wait for any.
#[tokio::test]
async fn a_bulk_job_in_flight_at_stop_is_finished_by_the_next_process() {
    const ITEMS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    // Every item asks a slow Amazon for its tag (no caching), so items are in flight, mid
    // creation, when the stop comes.
    let first = TestApp::on_database(
        &url,
        &[
            "--bulk-concurrency",
            "2",
            "--bulk-lease-secs",
            "600",
            "--tag-ttl-secs",
            "0",
        ],
    )
    .await;
    first.set_faults(amazon_sim::Faults {
        latency_ms: 300,
        ..first.sim().faults()
    });
    let token = first.token(CREATOR).await;
    let links: Vec<Value> = (0..ITEMS)
        .map(|i| json!({"asin": "B0D45KS7QM", "link_name": format!("stop-{i}"), "marketplace": "amazon.de"}))
        .collect();
    let r = first
        .post_json(
            "/bulk_generate_attribution_links",
            &token,
            json!({ "links": links }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_owned();
    let t0 = Instant::now();
    while job_status(&first, &token, &job).await["processed"]
        .as_u64()
        .unwrap()
        < 20
    {
        assert!(t0.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let report = first.running.stop().await.unwrap();
    assert!(report.all_finished(), "{report:?}");

    let db = quiver::store::Db::connect(&url).await.unwrap();
    let states = db.bulk_item_states(&job).await.unwrap();
    let pending = states
        .iter()
        .filter(|s| s.status == quiver::store::bulk::ItemStatus::Pending)
        .count();
    assert!(pending > 0, "the stop came before the job was done");

    let second = TestApp::on_database(&url, &["--bulk-poll-ms", "20"]).await;
    let token = second.token(CREATOR).await;
    let t0 = Instant::now();
    let status = loop {
        let s = job_status(&second, &token, &job).await;
        if s["status"] == "done" {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "not finished without waiting for leases: {s}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status["succeeded"], ITEMS, "{status}");
    let states = db.bulk_item_states(&job).await.unwrap();
    let ids: HashSet<_> = states.iter().filter_map(|s| s.link_id.clone()).collect();
    assert_eq!(ids.len(), ITEMS, "one link per item");
    let account = second.account_id(CREATOR).await;
    assert_eq!(
        db.count_links(&account).await.unwrap(),
        ITEMS as i64,
        "none twice"
    );
    db.close().await;
}
