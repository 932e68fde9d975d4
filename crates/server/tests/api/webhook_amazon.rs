//! `amazon.connection_lost` (issues #18 and #21): a brand's grant revoked in the simulator
//! is found on the next use, and the brand's seller gets exactly one signed event per
//! breakage at a real HTTP receiver, however many uses fail, with the connection as
//! `GET /sellers/brands/{id}/amazon` shows it and never a token. A second breakage after
//! reconnecting is a second event.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use standardwebhooks::Webhook;

use crate::amazon_connect::{BRAND, connect_and_choose, connect_as, region_of};
use crate::amazon_connect_health::{ingest, must_reconnect, revoke};
use crate::support::*;
use crate::webhook_receiver::{Receiver, spawn};

/// An endpoint of the token's account at a new receiver; returns it with its secret.
async fn endpoint(app: &TestApp, token: &str, events: &[&str]) -> (Receiver, String) {
    let rx = Receiver::start(&[]).await;
    let r = app
        .post_json("/webhooks", token, json!({"url": rx.url, "events": events}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (rx, r.body["secret"].as_str().unwrap().to_owned())
}

/// Every body `rx` received, each verified with the official verifier.
fn verified(rx: &Receiver, secret: &str) -> Vec<Value> {
    let hook = Webhook::new(secret).unwrap();
    rx.got()
        .iter()
        .map(|g| {
            hook.verify(&g.body, &g.headers)
                .expect("the standardwebhooks crate accepts the signature");
            assert!(g.header("webhook-id").starts_with("msg_"));
            g.json()
        })
        .collect()
}

#[tokio::test]
async fn a_lost_connection_is_one_signed_event_to_the_brands_seller_per_breakage() {
    let app = spawn(&["--ingest-interval-secs", "0"]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let adv = connect_and_choose(&app, &seller, BRAND, "NA", "alice", "US").await;
    let (rx, secret) = endpoint(&app, &seller, &["amazon.connection_lost"]).await;
    // Only the brand's seller is told: a creator subscribed to the type gets nothing.
    let (creator_rx, _) = endpoint(&app, &creator, &["amazon.connection_lost"]).await;

    // A link made with alice's authorisation, so that ingestion has the brand to read.
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    revoke(&app, "alice").await;
    // Several uses fail: an ingestion run (which finds out first), links whose tag needs
    // alice's authorisation, the profiles list, another run. Only the first changes the
    // status.
    let s = ingest(&app, None).await;
    assert_eq!(s.broken, vec!["northwind NA".to_owned()], "{s:?}");
    must_reconnect(&app.create_link(&creator, "B0NWTENT02", "amazon.com").await);
    must_reconnect(
        &app.get("/sellers/brands/northwind/amazon/NA/profiles", &seller)
            .await,
    );
    let s = ingest(&app, None).await;
    assert_eq!(s.skipped, vec!["northwind NA".to_owned()], "{s:?}");

    let got = rx.wait(1).await;
    // Any duplicate would have arrived by now (the job polls every 50 ms).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let bodies = verified(&rx, &secret);
    assert_eq!(
        bodies.len(),
        1,
        "exactly one event per breakage: {bodies:?}"
    );
    let body = &bodies[0];
    assert_eq!(body["type"], "amazon.connection_lost");
    let data = &body["data"];
    assert_eq!(data["brand_id"], BRAND);
    assert_eq!(data["brand_name"], "Northwind Outdoor");
    assert_eq!(data["region"], "NA");
    let shown = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(
        data["connection"], shown,
        "the connection as the API shows it"
    );
    assert_eq!(data["connection"]["status"], "reconnect_needed");
    assert_eq!(data["connection"]["advertiser_id"], adv.as_str());
    assert!(
        data["connection"]["last_error"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{data}"
    );
    let raw = String::from_utf8(got[0].body.clone()).unwrap();
    // No token (the simulator's start with `Atzr|`), sealed or not.
    assert!(!raw.contains("Atzr|") && !raw.contains("sealed"), "{raw}");
    assert!(creator_rx.got().is_empty(), "{:?}", creator_rx.got());

    // Reconnected, then revoked again: a second breakage, a second event.
    connect_as(&app, &seller, BRAND, "NA", "alice").await;
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    revoke(&app, "alice").await;
    // This time a request finds out first.
    must_reconnect(
        &app.get("/sellers/brands/northwind/amazon/NA/profiles", &seller)
            .await,
    );
    must_reconnect(&app.create_link(&creator, "B0NWTENT02", "amazon.com").await);
    rx.wait(2).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let bodies = verified(&rx, &secret);
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[1]["type"], "amazon.connection_lost");
    assert_ne!(
        rx.got()[0].header("webhook-id"),
        rx.got()[1].header("webhook-id")
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_event_type_and_the_lost_connection() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(reqwest::Method::GET, "/openapi.json", None, |r| r)
        .await
        .body;
    let schemas = &doc["components"]["schemas"];
    let events = schemas["NewEndpointBody"]["properties"]["events"]["description"]
        .as_str()
        .unwrap();
    for name in quiver::webhooks::events::EventType::names() {
        assert!(events.contains(&format!("`{name}`")), "{name} in {events}");
    }
    let lost = &schemas["ConnectionLost"]["properties"];
    for field in ["brand_id", "brand_name", "region", "connection"] {
        assert!(lost[field].is_object(), "{field}: {lost}");
    }
}
