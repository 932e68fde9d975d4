//! Fault injection: latency, errors, throttling, hangs, outage, and the admin endpoint.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use amazon_sim::{Faults, SimConfig};
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn faults_endpoint_round_trips_and_keeps_omitted_fields() {
    let api = Api::new(sim().await).await;
    let get = || async {
        api.http
            .get(api.url("/_sim/faults"))
            .send()
            .await
            .unwrap()
            .json::<Faults>()
            .await
            .unwrap()
    };
    assert_eq!(get().await, Faults::default());

    let r = api
        .sim_put("/_sim/faults", json!({"latency_ms": 5, "error_rate": 0.25}))
        .await;
    assert_eq!(r.status(), 200);
    let r = api
        .sim_put(
            "/_sim/faults",
            json!({"throttle_rate": 0.5, "outage": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let expected = Faults {
        latency_ms: 5,
        error_rate: 0.25,
        throttle_rate: 0.5,
        ..Faults::default()
    };
    assert_eq!(get().await, expected);
    assert_eq!(api.sim.faults(), expected);

    for bad in [
        json!({"error_rate": 1.5}),
        json!({"timeout_rate": -0.1}),
        json!({"throttle_rate": "x"}),
        json!({"nonsense": 1}),
    ] {
        assert_maas(api.sim_put("/_sim/faults", bad).await, 400).await;
    }
    let r = api
        .http
        .put(api.url("/_sim/faults"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_maas(r, 400).await;
    assert_eq!(get().await, expected, "a rejected update changes nothing");

    api.sim.set_faults(Faults::default());
    assert_eq!(get().await, Faults::default());
}

#[tokio::test]
async fn latency_is_added_to_amazon_calls_only() {
    let api = Api::new(sim().await).await;
    api.sim_put("/_sim/faults", json!({"latency_ms": 300}))
        .await;
    let t = Instant::now();
    assert_eq!(api.get("/attribution/publishers").await.status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(290),
        "{:?}",
        t.elapsed()
    );

    let t = Instant::now();
    assert_eq!(
        api.http
            .get(api.url("/_sim/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn full_error_rate_answers_500_everywhere_including_lwa() {
    let api = Api::new(sim().await).await;
    api.sim_put("/_sim/faults", json!({"error_rate": 1.0}))
        .await;
    for _ in 0..5 {
        assert_maas(api.get("/attribution/publishers").await, 500).await;
    }
    let r = api
        .http
        .post(api.url("/auth/o2/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_maas(r, 500).await;
    assert_maas(api.get("/v2/profiles").await, 500).await;
}

#[tokio::test]
async fn partial_error_rate_is_roughly_honoured() {
    let api = Api::new(sim().await).await;
    api.sim_put("/_sim/faults", json!({"error_rate": 0.5}))
        .await;
    let mut errors = 0;
    for _ in 0..200 {
        if api.get("/attribution/publishers").await.status() == 500 {
            errors += 1;
        }
    }
    assert!((60..=140).contains(&errors), "{errors} of 200");
}

#[tokio::test]
async fn throttling_sends_retry_after() {
    let api = Api::new(sim().await).await;
    api.sim_put(
        "/_sim/faults",
        json!({"throttle_rate": 1.0, "retry_after_secs": 3}),
    )
    .await;
    let r = api
        .get("/attribution/tags/nonMacroTemplateTag?publisherIds=quiver")
        .await;
    assert_eq!(r.headers()["retry-after"], "3");
    assert_maas(r, 429).await;
}

#[tokio::test]
async fn timeouts_hang_until_the_client_gives_up() {
    let api = Api::new(sim().await).await;
    api.sim_put("/_sim/faults", json!({"timeout_rate": 1.0}))
        .await;
    let t = Instant::now();
    let err = api
        .authed(reqwest::Method::GET, "/attribution/publishers")
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));
    // The admin side is never held up.
    assert_eq!(
        api.http
            .get(api.url("/_sim/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    api.sim.shutdown();
}

#[tokio::test]
async fn outage_answers_503_until_lifted() {
    let sim = sim().await;
    let api = Api::new(sim).await;
    api.sim.set_faults(Faults {
        outage: true,
        ..Faults::default()
    });
    assert_maas(api.get("/attribution/advertisers").await, 503).await;
    assert_maas(api.get("/v2/profiles").await, 503).await;
    let r = api
        .http
        .post(api.url("/auth/o2/token"))
        .send()
        .await
        .unwrap();
    assert_maas(r, 503).await;
    let faults: Value = api
        .http
        .get(api.url("/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["outage"], true);

    api.sim_put("/_sim/faults", json!({"outage": false})).await;
    assert_eq!(api.get("/attribution/advertisers").await.status(), 200);
}

#[tokio::test]
async fn faults_can_be_set_at_start_and_requests_are_counted() {
    let sim = sim_with(SimConfig {
        faults: Faults {
            outage: true,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/auth/o2/token", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(sim.request_count(), 1);
    http.get(format!("{}/_sim/faults", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.request_count(), 1, "/_sim is not counted");
    sim.set_faults(Faults::default());
    let api = Api::new(sim.clone()).await;
    api.get("/attribution/publishers").await;
    assert_eq!(sim.request_count(), 3);
    let count: Value = http
        .get(format!("{}/_sim/requests", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count["count"], 3);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = sim().await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert!(
        http.get(format!("{}/_sim/health", sim.base_url()))
            .send()
            .await
            .is_ok()
    );
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        http.get(format!("{}/_sim/health", sim.base_url()))
            .send()
            .await
            .is_err()
    );
}
