//! Link creation while Amazon is slow, failing or down (spec §4 step 4, §7).

use std::time::{Duration, Instant};

use amazon_sim::Faults;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn cold_cache_and_outage_gives_503_and_stores_nothing_then_recovers() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    app.outage(true);
    let started = Instant::now();
    let r = app
        .send(Method::POST, "/generate_attribution_link", Some(&t), |r| {
            r.header("Idempotency-Key", "retry-me")
                .json(&json!({"asin": "B0D45KS7QM", "marketplace": "amazon.it"}))
        })
        .await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", r.body);
    assert_eq!(r.code(), "amazon_unavailable");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Couldn't reach Amazon")
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert!(
        took < Duration::from_millis(3000 + 1500),
        "within the 3 s deadline: {took:?}"
    );
    assert_eq!(
        app.link_count(CREATOR).await,
        0,
        "nothing is stored for a 503"
    );

    // The outage ends: the same request (same key: failures are not remembered) succeeds
    // without restarting Quiver, once the breaker lets a probe through.
    app.outage(false);
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..20 {
        let r = app
            .send(Method::POST, "/generate_attribution_link", Some(&t), |r| {
                r.header("Idempotency-Key", "retry-me")
                    .json(&json!({"asin": "B0D45KS7QM", "marketplace": "amazon.it"}))
            })
            .await;
        status = r.status;
        if status == StatusCode::CREATED {
            break;
        }
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        tokio::time::sleep(Duration::from_secs(wait.min(3))).await;
    }
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.link_count(CREATOR).await, 1);
}

#[tokio::test]
async fn a_warm_cache_keeps_links_flowing_through_a_full_outage() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    assert_eq!(
        app.create_link(&t, "B0D45KS7QM", "amazon.com").await.status,
        StatusCode::CREATED
    );
    app.outage(true);
    let asked_before = app.sim().request_count();
    for m in ["amazon.com", "amazon.ca", "amazon.com.mx"] {
        let r = app.create_link(&t, "B0NWTENT02", m).await;
        assert_eq!(r.status, StatusCode::CREATED, "{m}: {:?}", r.body);
    }
    assert_eq!(
        app.sim().request_count(),
        asked_before,
        "served from the cache without asking Amazon"
    );
    // Another region's tag was never fetched: that one is unavailable.
    assert_eq!(
        app.create_link(&t, "B0D45KS7QM", "amazon.de").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn slow_amazon_is_cut_off_at_the_deadline() {
    let app = TestApp::with_args(&["--link-deadline-ms", "1000"]).await;
    let t = app.token(CREATOR).await;
    app.set_faults(Faults {
        latency_ms: 5000,
        ..Faults::default()
    });
    let started = Instant::now();
    let r = app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_millis(1000 + 1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.link_count(CREATOR).await, 0);
}

#[tokio::test]
async fn throttling_by_amazon_is_a_503_with_its_retry_hint() {
    let app = TestApp::with_args(&["--link-deadline-ms", "1000"]).await;
    let t = app.token(CREATOR).await;
    app.set_faults(Faults {
        throttle_rate: 1.0,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let r = app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
}

/// Every Amazon call fails 30% of the time and nothing is cached (TTL 0, no stale use):
/// each request must end in 201 or 503 within its deadline, and only 201s leave a row.
#[tokio::test]
async fn under_thirty_percent_failures_every_request_ends_cleanly() {
    let app = TestApp::with_args(&[
        "--tag-ttl-secs",
        "0",
        "--tag-max-stale-secs",
        "0",
        "--link-deadline-ms",
        "1500",
    ])
    .await;
    let t = app.token(CREATOR).await;
    app.set_faults(Faults {
        error_rate: 0.3,
        ..Faults::default()
    });
    let mut created = 0;
    let mut unavailable = 0;
    // Ten rounds of four concurrent requests: concurrent misses share one Amazon call, so
    // rounds make each one go to Amazon again.
    for round in 0..10 {
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let t = t.clone();
                let app = &app;
                async move {
                    let started = Instant::now();
                    let m = ["amazon.com", "amazon.de", "amazon.es", "amazon.ca"][(round + i) % 4];
                    let r = app.create_link(&t, "B0D45KS7QM", m).await;
                    (r, started.elapsed())
                }
            })
            .collect();
        for (r, took) in futures::future::join_all(tasks).await {
            assert!(took < Duration::from_millis(1500 + 1500), "{took:?}");
            match r.status {
                StatusCode::CREATED => created += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    unavailable += 1;
                    assert!(r.header("retry-after").is_some());
                }
                other => panic!("unexpected {other}: {:?}", r.body),
            }
        }
    }
    assert!(created > 0, "retries get most requests through");
    assert!(
        app.sim().request_count() >= 20,
        "every round asked Amazon (nothing was cached): {} requests",
        app.sim().request_count()
    );
    assert_eq!(
        app.link_count(CREATOR).await,
        created,
        "{unavailable} failures left no rows"
    );
}

/// The standalone simulator, reached over HTTP through `QUIVER_AMAZON=<base URL>` and
/// switched into and out of outage mode through its admin endpoint, as an operator would.
#[tokio::test]
async fn standalone_simulator_outage_and_recovery_over_http() {
    let sim = amazon_sim::spawn(
        amazon_sim::SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let base = sim.base_url();
    let app = TestApp::with_args(&["--amazon", &base]).await;
    assert!(
        app.running.amazon.sim.is_none(),
        "no in-process simulator in base-URL mode"
    );
    let t = app.token(CREATOR).await;
    let faults = |body: serde_json::Value| {
        let client = app.client.clone();
        let url = format!("{base}/_sim/faults");
        async move {
            let r = client.put(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    };

    faults(json!({"outage": true})).await;
    let started = Instant::now();
    let r = app.create_link(&t, "B0PKBUDS01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.header("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_millis(3000 + 1500));
    assert_eq!(app.link_count(CREATOR).await, 0);

    faults(json!({"outage": false})).await;
    let mut created = false;
    for _ in 0..20 {
        let r = app.create_link(&t, "B0PKBUDS01", "amazon.com").await;
        if r.status == StatusCode::CREATED {
            created = true;
            break;
        }
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        tokio::time::sleep(Duration::from_secs(wait.min(3))).await;
    }
    assert!(created, "links flow again without restarting Quiver");
    // Warm now: a second full outage does not stop links for that advertiser.
    faults(json!({"outage": true})).await;
    assert_eq!(
        app.create_link(&t, "B0PKSPKR02", "amazon.com").await.status,
        StatusCode::CREATED
    );
}
