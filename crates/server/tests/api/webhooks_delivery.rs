//! Webhook delivery (issue #21): retries on 500, timeout and refused connections, the
//! endpoint disabled (and its owner e-mailed) after the failure window, nothing lost
//! across kill -9, and two servers on one database delivering each event once.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::mailbox::Mailbox;
use crate::process::Server;
use crate::support::*;
use crate::webhook_receiver::{Answer, Receiver, args, new_key};

async fn spawn_with(extra: &[&str]) -> TestApp {
    crate::webhook_receiver::spawn(extra).await
}

async fn register(app: &TestApp, t: &str, url: &str, events: &[&str]) -> (String, String) {
    let r = app
        .post_json("/webhooks", t, json!({"url": url, "events": events}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["secret"].as_str().unwrap().to_owned(),
    )
}

/// The newest delivery of `epid` once `done(delivery)` holds.
async fn delivery_when(app: &TestApp, t: &str, epid: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        let ds = app.get(&format!("/webhooks/{epid}/deliveries"), t).await;
        last = ds.body["deliveries"][0].clone();
        if !last.is_null() && done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("delivery never reached the expected state: {last}");
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn webhooks_delivery_retries_on_500_and_timeout_then_succeeds() {
    let app = spawn_with(&[]).await;
    let rx = Receiver::start(&[Answer::Status(500), Answer::Stall(Duration::from_secs(2))]).await;
    let t = app.token(CREATOR).await;
    let (epid, secret) = register(&app, &t, &rx.url, &["link.created"]).await;
    let link = app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    let d = delivery_when(&app, &t, &epid, |d| d["status"] == "delivered").await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{d}");
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[0]["error"], "the endpoint answered 500");
    assert!(attempts[0]["next_attempt_at"].is_string());
    assert_eq!(attempts[1]["status_code"], Value::Null);
    assert!(
        attempts[1]["error"].as_str().unwrap().contains("timed out"),
        "{d}"
    );
    assert!(attempts[1]["latency_ms"].as_i64().unwrap() >= 400);
    assert_eq!(attempts[2]["status_code"], 204);
    assert_eq!(attempts[2]["error"], Value::Null);
    // Every attempt carried the same id and a valid signature.
    let got = rx.wait(3).await;
    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
    for g in &got {
        assert_eq!(g.header("webhook-id"), d["event_id"].as_str().unwrap());
        wh.verify(&g.body, &g.headers).unwrap();
        assert_eq!(g.json()["data"]["id"], link.body["id"]);
    }
    let ep = app.get(&format!("/webhooks/{epid}"), &t).await;
    assert_eq!(
        ep.body["failing_since"],
        Value::Null,
        "a success clears the failure"
    );

    let (_, _, metrics) = app.get_text("/metrics", &t).await;
    assert!(
        metrics.contains("quiver_webhook_deliveries_total{outcome=\"delivered\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("quiver_webhook_deliveries_total{outcome=\"failed\"}"));
    assert!(metrics.contains("quiver_webhook_oldest_pending_seconds"));
}

#[tokio::test]
async fn webhooks_delivery_retries_on_connection_refused_then_succeeds() {
    let app = spawn_with(&[
        "--webhook-retry-schedule",
        "300ms,300ms,300ms,300ms,300ms,300ms",
    ])
    .await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let t = app.token(CREATOR).await;
    let (epid, _) = register(&app, &t, &url, &["link.created"]).await;
    app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    let d = delivery_when(&app, &t, &epid, |d| d["attempt_count"].as_i64() >= Some(1)).await;
    assert_eq!(d["status"], "failed");
    let err = d["last_error"].as_str().unwrap();
    assert!(err.contains("could not connect"), "{err}");
    // The receiver comes up on that port: the next retry gets through.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let rx = Receiver::on(listener, &[]);
    let d = delivery_when(&app, &t, &epid, |d| d["status"] == "delivered").await;
    assert!(d["attempt_count"].as_i64().unwrap() >= 2);
    assert_eq!(rx.got().len(), 1);
}

#[tokio::test]
async fn webhooks_delivery_gives_up_then_disables_after_the_window_and_mails_the_owner() {
    let mailbox = Mailbox::start().await;
    let smtp = mailbox.url();
    let app = spawn_with(&["--smtp-url", &smtp, "--webhook-retry-schedule", "50ms"]).await;
    let rx = Receiver::start(&[Answer::Status(503); 10]).await;
    let t = app.token(CREATOR).await;
    let (epid, _) = register(&app, &t, &rx.url, &["link.created"]).await;
    app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    let d = delivery_when(&app, &t, &epid, |d| d["status"] == "gave_up").await;
    assert_eq!(d["attempt_count"], 2, "one try and the one scheduled retry");
    assert_eq!(d["next_attempt_at"], Value::Null);
    let ep = app.get(&format!("/webhooks/{epid}"), &t).await;
    assert!(ep.body["failing_since"].is_string());
    assert_eq!(
        ep.body["enabled"], true,
        "four days of failure are not enough"
    );
    app.running.state.webhooks.clock.advance(4 * 86_400_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&format!("/webhooks/{epid}"), &t).await.body["enabled"],
        true
    );

    app.running
        .state
        .webhooks
        .clock
        .advance(86_400_000 + 60_000);
    let mut ep = Value::Null;
    for _ in 0..200 {
        ep = app.get(&format!("/webhooks/{epid}"), &t).await.body;
        if ep["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(ep["enabled"], false, "{ep}");
    assert!(ep["disabled_at"].is_string());
    let mail = mailbox.wait(CREATOR, 1).await;
    assert!(mail.contains("webhook endpoint was disabled"), "{mail}");
    assert!(mail.contains(&rx.url), "{mail}");

    // Disabled: new events are not even enqueued for it; re-enabled, they flow again.
    let before = rx.got().len();
    app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), before);
    let r = app
        .patch_json(&format!("/webhooks/{epid}"), &t, json!({"enabled": true}))
        .await;
    assert_eq!(r.body["failing_since"], Value::Null);
    app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    rx.wait(before + 1).await;
}

#[tokio::test]
async fn webhooks_two_servers_on_one_database_deliver_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let key = new_key();
    let a = args(&key);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let one = TestApp::on_database(&url, &refs).await;
    let two = TestApp::on_database(&url, &refs).await;
    let rx = Receiver::start(&[]).await;
    let t1 = one.token(CREATOR).await;
    let t2 = two.token(CREATOR).await;
    register(&one, &t1, &rx.url, &["link.created"]).await;
    let mut ids = Vec::new();
    for i in 0..60 {
        let (app, t) = if i % 2 == 0 { (&one, &t1) } else { (&two, &t2) };
        let r = app.create_link(t, "B0D45KS7QM", "amazon.de").await;
        assert_eq!(r.status, StatusCode::CREATED);
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    rx.wait(60).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = rx.got();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for g in &got {
        *per_id.entry(g.header("webhook-id").to_owned()).or_default() += 1;
    }
    assert_eq!(got.len(), 60, "each event exactly once: {per_id:?}");
    assert!(per_id.values().all(|&n| n == 1));
    let links: Vec<String> = got
        .iter()
        .map(|g| g.json()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        assert!(links.contains(id), "link {id} had no event");
    }
}

fn start_process(db_url: &str, key: &str) -> (Server, String) {
    let schedule = ["1s"; 15].join(",");
    let server = Server::start(
        db_url,
        &[
            ("QUIVER_SECRET_KEY", key),
            ("QUIVER_DEMO_LINKS", "0"),
            ("QUIVER_WEBHOOK_ALLOW_HTTP", "1"),
            ("QUIVER_WEBHOOK_ALLOW_PRIVATE", "1"),
            ("QUIVER_WEBHOOK_POLL_MS", "50"),
            ("QUIVER_WEBHOOK_TIMEOUT_MS", "500"),
            ("QUIVER_WEBHOOK_RETRY_SCHEDULE", &schedule),
        ],
    );
    let base = server.base.clone();
    (server, base)
}

async fn call(c: &reqwest::Client, base: &str, t: &str, path: &str, body: Value) -> Value {
    c.post(format!("{base}{path}"))
        .bearer_auth(t)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn webhooks_no_event_lost_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let key = new_key();
    let port = free_port();
    let c = reqwest::Client::new();
    let (mut server, base) = start_process(&url, &key);
    let form = [("username", CREATOR), ("password", PASSWORD)];
    let tok: Value = c
        .post(format!("{base}/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = tok["access_token"].as_str().unwrap().to_owned();
    // Nothing listens yet: every event waits in the outbox.
    let hook = format!("http://127.0.0.1:{port}/hook");
    call(
        &c,
        &base,
        &t,
        "/webhooks",
        json!({"url": hook, "events": ["link.created"]}),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let r = call(
            &c,
            &base,
            &t,
            "/generate_attribution_link",
            json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
        )
        .await;
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    server.kill_9();
    drop(server);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let rx = Receiver::on(listener, &[]);
    let (_server, _base) = start_process(&url, &key);
    // Leases the killed process held run out (about 4 s here), then those go too.
    let mut got = Vec::new();
    for _ in 0..600 {
        got = rx.got();
        let seen: std::collections::HashSet<String> = got
            .iter()
            .map(|g| g.json()["data"]["id"].as_str().unwrap().to_owned())
            .collect();
        if ids.iter().all(|i| seen.contains(i)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen: std::collections::HashSet<String> = got
        .iter()
        .map(|g| g.json()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        assert!(seen.contains(id), "the event of link {id} was lost");
    }
}
