//! Webhook endpoints and signed events (issue #21), against a real HTTP receiver: the
//! signature is checked with the `standardwebhooks` crate, the official verifier.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use standardwebhooks::Webhook;

use crate::support::*;
use crate::webhook_receiver::{Receiver, new_key};

async fn spawn_with(extra: &[&str]) -> TestApp {
    crate::webhook_receiver::spawn(extra).await
}

async fn register(app: &TestApp, t: &str, url: &str, events: &[&str]) -> Reply {
    app.post_json(
        "/webhooks",
        t,
        json!({"url": url, "events": events, "description": "test"}),
    )
    .await
}

fn verify(
    secret: &str,
    got: &crate::webhook_receiver::Got,
) -> Result<(), standardwebhooks::WebhookError> {
    Webhook::new(secret)
        .unwrap()
        .verify(&got.body, &got.headers)
}

#[tokio::test]
async fn webhooks_link_created_and_updated_arrive_signed() {
    let app = spawn_with(&[]).await;
    let rx = Receiver::start(&[]).await;
    let t = app.token(CREATOR).await;
    let ep = register(&app, &t, &rx.url, &["link.created", "link.updated"]).await;
    assert_eq!(ep.status, StatusCode::CREATED, "{:?}", ep.body);
    let secret = ep.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(ep.body["events"], json!(["link.created", "link.updated"]));
    assert_eq!(ep.body["enabled"], true);

    let link = app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(link.status, StatusCode::CREATED);
    let got = rx.wait(1).await;
    let first = &got[0];
    verify(&secret, first).expect("the official verifier accepts the signature");
    let body = first.json();
    assert_eq!(body["type"], "link.created");
    assert_eq!(
        body["data"], link.body,
        "data is the object the API returned"
    );
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(first.header("webhook-id").starts_with("msg_"));
    assert_eq!(first.header("content-type"), "application/json");

    // A tampered body, a stale timestamp and another secret are all refused.
    let mut tampered = first.clone();
    tampered.body = first.body.replace_first(b"link.created", b"link.deleted");
    assert!(verify(&secret, &tampered).is_err());
    let mut stale = first.clone();
    let old = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    stale
        .headers
        .insert("webhook-timestamp", old.to_string().parse().unwrap());
    assert!(matches!(
        verify(&secret, &stale),
        Err(standardwebhooks::WebhookError::TimestampTooOldError)
    ));
    let other = quiver::webhooks::signing::new_secret();
    assert!(verify(&other, first).is_err());

    // Pausing is a link.updated with the link as the API now shows it.
    let id = link.body["id"].as_str().unwrap();
    let paused = app
        .patch_json(&format!("/links/{id}"), &t, json!({"active": false}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
    let got = rx.wait(2).await;
    verify(&secret, &got[1]).unwrap();
    let body = got[1].json();
    assert_eq!(body["type"], "link.updated");
    assert_eq!(body["data"], paused.body);
    assert_eq!(body["data"]["active"], false);
    assert_ne!(got[0].header("webhook-id"), got[1].header("webhook-id"));

    // Each delivery shows its attempt.
    let epid = ep.body["id"].as_str().unwrap();
    // The receiver has the request before the sender has recorded its answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let list = loop {
        let ds = app.get(&format!("/webhooks/{epid}/deliveries"), &t).await;
        assert_eq!(ds.status, StatusCode::OK);
        let list = ds.body["deliveries"].as_array().unwrap().clone();
        let settled = list.iter().all(|d| d["status"] != "pending");
        if settled || std::time::Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["event_type"], "link.updated", "newest first");
    for d in &list {
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["attempts"][0]["status_code"], 204);
        assert!(d["attempts"][0]["latency_ms"].as_i64().unwrap() >= 0);
        assert_eq!(d["next_attempt_at"], Value::Null);
    }
}

trait ReplaceFirst {
    fn replace_first(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceFirst for Vec<u8> {
    fn replace_first(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = self.windows(from.len()).position(|w| w == from).unwrap();
        [&self[..at], to, &self[at + from.len()..]].concat()
    }
}

#[tokio::test]
async fn webhooks_endpoint_validation_and_ownership() {
    let app = spawn_with(&["--webhook-max-endpoints", "2"]).await;
    let t = app.token(CREATOR).await;
    let r = register(&app, &t, "https://example.com/h", &["link.deleted"]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "events"]));
    assert!(
        r.body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("link.deleted")
    );
    let r = register(&app, &t, "https://example.com/h", &[]).await;
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "events"]));
    for bad in [
        "not a url",
        "ftp://example.com/",
        "https://u:p@example.com/",
    ] {
        let r = register(&app, &t, bad, &["ping"]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(r.body["detail"][0]["loc"], json!(["body", "url"]), "{bad}");
    }
    let a = register(&app, &t, "https://example.com/a", &["link.created"]).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let b = register(&app, &t, "https://example.com/b", &["link.created"]).await;
    assert_eq!(b.status, StatusCode::CREATED);
    let c = register(&app, &t, "https://example.com/c", &["link.created"]).await;
    assert_eq!(
        c.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the limit holds"
    );

    let list = app.get("/webhooks", &t).await;
    let hooks = list.body["webhooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2);
    assert!(
        hooks.iter().all(|h| h.get("secret").is_none()),
        "secrets are shown once"
    );

    // Another account (a seller) sees none of them and cannot touch them.
    let s = app.token(SELLER).await;
    let id = a.body["id"].as_str().unwrap();
    assert_eq!(app.get("/webhooks", &s).await.body["webhooks"], json!([]));
    for (m, p) in [
        (Method::GET, format!("/webhooks/{id}")),
        (Method::DELETE, format!("/webhooks/{id}")),
        (Method::POST, format!("/webhooks/{id}/test")),
        (Method::POST, format!("/webhooks/{id}/rotate_secret")),
        (Method::GET, format!("/webhooks/{id}/deliveries")),
    ] {
        let r = app.send(m.clone(), &p, Some(&s), |r| r).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}");
        assert_eq!(r.code(), "webhook_not_found");
    }
    // A seller registers its own.
    let own = register(
        &app,
        &s,
        "https://example.com/s",
        &["access_request.created"],
    )
    .await;
    assert_eq!(own.status, StatusCode::CREATED);

    let patched = app
        .patch_json(
            &format!("/webhooks/{id}"),
            &t,
            json!({"events": ["link.updated"], "enabled": false, "description": "x"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["events"], json!(["link.updated"]));
    assert_eq!(patched.body["enabled"], false);
    assert!(patched.body["disabled_at"].is_string());
    let r = app
        .patch_json(&format!("/webhooks/{id}"), &t, json!({"url": "gopher://x"}))
        .await;
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "url"]));
    let del = app
        .send(Method::DELETE, &format!("/webhooks/{id}"), Some(&t), |r| r)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/webhooks/{id}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn webhooks_http_refused_unless_the_operator_allows_it() {
    let app = TestApp::with_args(&["--secret-key", &new_key()]).await;
    let t = app.token(CREATOR).await;
    let r = register(&app, &t, "http://example.com/h", &["link.created"]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "url"]));
    assert!(
        r.body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("QUIVER_WEBHOOK_ALLOW_HTTP")
    );
}

#[tokio::test]
async fn webhooks_no_event_for_a_change_that_did_not_happen() {
    let app = spawn_with(&[]).await;
    let rx = Receiver::start(&[]).await;
    let t = app.token(CREATOR).await;
    let ep = register(&app, &t, &rx.url, &["link.created", "link.updated"]).await;
    let epid = ep.body["id"].as_str().unwrap();
    // Refused creations (a product not in the catalog, a brand without access) and a
    // change to a link that does not exist store nothing, so they emit nothing.
    let r = app.create_link(&t, "B000000000", "amazon.de").await;
    assert!(r.status.is_client_error(), "{:?}", r.body);
    let r = app
        .patch_json(
            "/links/00000000-0000-0000-0000-000000000000",
            &t,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // An idempotent retry replays the answer: the link was created once, so one event.
    let make = |key: &'static str| {
        app.send(
            Method::POST,
            "/generate_attribution_link",
            Some(&t),
            move |r| {
                r.header("Idempotency-Key", key)
                    .json(&json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}))
            },
        )
    };
    let first = make("k1").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = make("k1").await;
    assert_eq!(again.body["id"], first.body["id"]);
    // A ping after them: once it arrives, everything before it would have too.
    let ping = app
        .post_json(&format!("/webhooks/{epid}/test"), &t, json!({}))
        .await;
    assert_eq!(ping.status, StatusCode::ACCEPTED);
    rx.wait(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got: Vec<Value> = rx.got().iter().map(|g| g.json()).collect();
    let types: Vec<&str> = got.iter().map(|g| g["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["link.created", "ping"], "{got:?}");
    assert_eq!(got[0]["data"]["id"], first.body["id"]);
    let ds = app.get(&format!("/webhooks/{epid}/deliveries"), &t).await;
    assert_eq!(ds.body["deliveries"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn webhooks_rotation_signs_with_both_secrets_for_the_overlap() {
    let app = spawn_with(&[]).await;
    let rx = Receiver::start(&[]).await;
    let t = app.token(CREATOR).await;
    let ep = register(&app, &t, &rx.url, &["link.created"]).await;
    let old = ep.body["secret"].as_str().unwrap().to_owned();
    let epid = ep.body["id"].as_str().unwrap().to_owned();
    let rot = app
        .post_json(&format!("/webhooks/{epid}/rotate_secret"), &t, json!({}))
        .await;
    assert_eq!(rot.status, StatusCode::OK, "{:?}", rot.body);
    let new = rot.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    assert!(rot.body["previous_secret_until"].is_string());

    app.post_json(&format!("/webhooks/{epid}/test"), &t, json!({}))
        .await;
    let got = rx.wait(1).await;
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    verify(&new, &got[0]).expect("the new secret verifies");
    verify(&old, &got[0]).expect("the old secret still verifies during the overlap");

    // A day and a bit later only the new secret signs.
    app.running.state.webhooks.clock.advance(25 * 3600 * 1000);
    app.post_json(&format!("/webhooks/{epid}/test"), &t, json!({}))
        .await;
    let got = rx.wait(2).await;
    assert_eq!(got[1].header("webhook-signature").split(' ').count(), 1);
    verify(&new, &got[1]).unwrap();
    assert!(verify(&old, &got[1]).is_err());
}

#[tokio::test]
async fn webhooks_ssrf_guard_refuses_loopback_and_private_addresses() {
    let key = new_key();
    let app = TestApp::with_args(&[
        "--secret-key",
        &key,
        "--webhook-allow-http",
        "1",
        "--webhook-poll-ms",
        "50",
        "--webhook-retry-schedule",
        "10m",
    ])
    .await;
    let rx = Receiver::start(&[]).await;
    let t = app.token(CREATOR).await;
    let urls = [
        (rx.url.clone(), "loopback"),
        (format!("http://localhost:{}/hook", rx.port), "loopback"),
        ("http://10.1.2.3/hook".to_owned(), "private"),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "metadata",
        ),
        ("http://[::1]:9/hook".to_owned(), "loopback"),
    ];
    for (url, why) in &urls {
        let ep = register(&app, &t, url, &["ping"]).await;
        assert_eq!(
            ep.status,
            StatusCode::CREATED,
            "{url}: saving is allowed, sending is not"
        );
        let id = ep.body["id"].as_str().unwrap();
        app.post_json(&format!("/webhooks/{id}/test"), &t, json!({}))
            .await;
        let mut last = Value::Null;
        for _ in 0..200 {
            let ds = app.get(&format!("/webhooks/{id}/deliveries"), &t).await;
            last = ds.body["deliveries"][0].clone();
            if last["attempt_count"] == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(last["status"], "failed", "{url}: {last}");
        let err = last["last_error"].as_str().unwrap();
        assert!(
            err.contains("refused to connect") && err.contains(why),
            "{url}: {err}"
        );
        assert_eq!(last["last_status_code"], Value::Null);
    }
    assert!(rx.got().is_empty(), "nothing reached the loopback receiver");
}

#[tokio::test]
async fn webhooks_test_ping_and_manual_retry_reuse_the_event_id() {
    let app = spawn_with(&[]).await;
    let rx = Receiver::start(&[]).await;
    let t = app.token(CREATOR).await;
    let ep = register(&app, &t, &rx.url, &["link.created"]).await;
    let epid = ep.body["id"].as_str().unwrap();
    let secret = ep.body["secret"].as_str().unwrap();
    let ping = app
        .post_json(&format!("/webhooks/{epid}/test"), &t, json!({}))
        .await;
    let event_id = ping.body["event_id"].as_str().unwrap().to_owned();
    let got = rx.wait(1).await;
    verify(secret, &got[0]).unwrap();
    assert_eq!(got[0].json()["type"], "ping");
    assert_eq!(got[0].header("webhook-id"), event_id);
    let ds = app.get(&format!("/webhooks/{epid}/deliveries"), &t).await;
    let did = ds.body["deliveries"][0]["id"].as_str().unwrap();
    let retry = app
        .post_json(
            &format!("/webhooks/{epid}/deliveries/{did}/retry"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(retry.status, StatusCode::ACCEPTED);
    let got = rx.wait(2).await;
    assert_eq!(
        got[1].header("webhook-id"),
        event_id,
        "receivers dedupe on webhook-id"
    );
    verify(secret, &got[1]).unwrap();
    let r = app
        .post_json(
            &format!("/webhooks/{epid}/deliveries/dlv_nope/retry"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "delivery_not_found");
    let ds = app.get(&format!("/webhooks/{epid}/deliveries"), &t).await;
    assert_eq!(ds.body["deliveries"][0]["attempt_count"], 2);
}
