//! Every error class, the deadline, the breaker and token refresh, against the simulator.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use amazon_sim::SimConfig;
use common::*;
use quiver_amazon::{AmazonClient, AmazonError, BreakerConfig, BreakerState, Credentials, Region};
use tokio::time::Instant;

fn assert_root(err: &AmazonError, kind: &str) {
    assert_eq!(err.root().kind(), kind, "{err:?}");
}

#[tokio::test]
async fn wrong_credentials_are_auth_and_not_retried() {
    let sim = default_sim().await;
    for creds in [
        Credentials {
            refresh_token: "stolen".into(),
            ..sim_credentials()
        },
        Credentials {
            client_secret: "wrong".into(),
            ..sim_credentials()
        },
    ] {
        let c = client_with(&sim, |cfg| cfg.credentials = creds);
        let before = sim.request_count();
        let err = c.profiles(Region::Na, secs(3)).await.unwrap_err();
        assert!(matches!(err, AmazonError::Auth(_)), "{err:?}");
        assert!(!err.is_transient());
        assert_eq!(sim.request_count() - before, 1, "only the token request");
        // Our credentials say nothing about the region's health.
        assert_eq!(c.breaker_state(Region::Na), BreakerState::Closed);
    }
}

#[tokio::test]
async fn throttling_waits_for_retry_after() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| {
        f.throttle_rate = 1.0;
        f.retry_after_secs = 1;
    }));
    let s = sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.set_faults(faults(|_| {}));
    });
    let t0 = Instant::now();
    let before = sim.request_count();
    c.publishers(Region::Na, PROFILE, secs(3)).await.unwrap();
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_millis(950),
        "retried before Retry-After: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(1) + MARGIN, "{elapsed:?}");
    // One throttled attempt, one successful.
    assert_eq!(sim.request_count() - before, 2);
}

#[tokio::test]
async fn throttling_beyond_the_deadline_gives_up_at_once() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| {
        f.throttle_rate = 1.0;
        f.retry_after_secs = 5;
    }));
    let t0 = Instant::now();
    let err = c
        .publishers(Region::Na, PROFILE, secs(3))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AmazonError::Throttled {
            retry_after: Some(Duration::from_secs(5))
        }
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
    assert!(t0.elapsed() < MARGIN, "{:?}", t0.elapsed());
}

#[tokio::test]
async fn server_errors_are_retried_until_the_deadline() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.error_rate = 1.0));
    let t0 = Instant::now();
    let err = c
        .advertisers(Region::Na, PROFILE, within(Duration::from_secs(1)))
        .await
        .unwrap_err();
    let elapsed = t0.elapsed();
    assert!(
        matches!(err, AmazonError::DeadlineExceeded { .. }),
        "{err:?}"
    );
    assert!(
        matches!(err.root(), AmazonError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(elapsed < Duration::from_secs(1) + MARGIN, "{elapsed:?}");
    let st = c.stats();
    assert!(st.attempts >= 4, "retried only {} times", st.attempts - 1);
    assert_eq!(st.errors["deadline_exceeded"], 1);
}

#[tokio::test]
async fn a_recovering_server_is_reached_by_a_retry() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.error_rate = 0.5));
    // With 50% errors and many attempts inside 3 s, every call gets through.
    for _ in 0..10 {
        c.advertisers(Region::Na, PROFILE, secs(3)).await.unwrap();
    }
    let st = c.stats();
    assert!(st.attempts > st.calls, "{st:?}");
}

#[tokio::test]
async fn latency_beyond_the_deadline_fails_within_it() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.latency_ms = 3_000));
    let t0 = Instant::now();
    let err = c
        .advertisers(Region::Na, PROFILE, within(Duration::from_millis(700)))
        .await
        .unwrap_err();
    let elapsed = t0.elapsed();
    assert!(
        matches!(err, AmazonError::DeadlineExceeded { .. }),
        "{err:?}"
    );
    assert_root(&err, "timeout");
    assert!(elapsed >= Duration::from_millis(650), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(700) + MARGIN, "{elapsed:?}");
}

#[tokio::test]
async fn hanging_requests_time_out_per_attempt_and_are_retried() {
    let sim = default_sim().await;
    let c = client_with(&sim, |cfg| cfg.call_timeout = Duration::from_millis(200));
    c.profiles(Region::Na, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.timeout_rate = 1.0));
    let t0 = Instant::now();
    let before = sim.request_count();
    let err = c
        .advertisers(Region::Na, PROFILE, within(Duration::from_secs(1)))
        .await
        .unwrap_err();
    let elapsed = t0.elapsed();
    assert_root(&err, "timeout");
    assert!(elapsed < Duration::from_secs(1) + MARGIN, "{elapsed:?}");
    assert!(
        sim.request_count() - before >= 3,
        "attempts: {}",
        sim.request_count() - before
    );
    sim.shutdown();
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = AmazonClient::new(config_for(&format!("http://127.0.0.1:{port}"))).unwrap();
    let t0 = Instant::now();
    let err = c
        .profiles(Region::Fe, within(Duration::from_millis(800)))
        .await
        .unwrap_err();
    let elapsed = t0.elapsed();
    assert!(
        matches!(err, AmazonError::DeadlineExceeded { .. }),
        "{err:?}"
    );
    assert_root(&err, "connect");
    assert!(elapsed < Duration::from_millis(800) + MARGIN, "{elapsed:?}");
    assert!(c.stats().attempts > 1);
}

#[tokio::test]
async fn breaker_opens_fails_fast_and_closes_after_a_probe() {
    let sim = default_sim().await;
    let c = client_with(&sim, |cfg| {
        cfg.breaker = BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_millis(800),
        }
    });
    c.profiles(Region::Eu, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.outage = true));

    let before = sim.request_count();
    let err = c
        .advertisers(Region::Eu, PROFILE, secs(3))
        .await
        .unwrap_err();
    match err {
        AmazonError::CircuitOpen { retry_after } => {
            assert!(retry_after <= Duration::from_millis(800))
        }
        other => panic!("expected CircuitOpen, got {other:?}"),
    }
    assert_eq!(sim.request_count() - before, 3);
    assert!(matches!(
        c.breaker_state(Region::Eu),
        BreakerState::Open { .. }
    ));
    // Other regions are unaffected.
    assert_eq!(c.breaker_state(Region::Na), BreakerState::Closed);

    // Open: fails fast, nothing reaches Amazon.
    let before = sim.request_count();
    let t0 = Instant::now();
    for _ in 0..20 {
        let err = c
            .publishers(Region::Eu, PROFILE, secs(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "circuit_open");
        assert!(err.retry_after().unwrap() > Duration::ZERO);
    }
    assert!(
        t0.elapsed() < Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(sim.request_count(), before);

    // The probe during the outage fails and reopens: exactly one request.
    tokio::time::sleep(Duration::from_millis(850)).await;
    assert_eq!(c.breaker_state(Region::Eu), BreakerState::HalfOpen);
    let err = c
        .publishers(Region::Eu, PROFILE, secs(3))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "circuit_open", "{err:?}");
    assert_eq!(sim.request_count() - before, 1);

    // Outage over: the next probe succeeds and closes the breaker.
    sim.set_faults(faults(|_| {}));
    tokio::time::sleep(Duration::from_millis(850)).await;
    c.publishers(Region::Eu, PROFILE, secs(3)).await.unwrap();
    assert_eq!(c.breaker_state(Region::Eu), BreakerState::Closed);
    c.advertisers(Region::Eu, PROFILE, secs(3)).await.unwrap();
}

#[tokio::test]
async fn expired_access_token_is_refreshed() {
    let sim = sim(SimConfig {
        access_token_ttl: Duration::from_secs(1),
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    c.advertisers(Region::Na, PROFILE, secs(3)).await.unwrap();
    assert_eq!(c.stats().token_refreshes, 2);
    assert_eq!(c.stats().ok, 2);
}

#[tokio::test]
async fn rejected_access_token_is_refreshed_once_and_retried() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    c.poison_access_token_for_tests();
    let before = sim.request_count();
    c.advertisers(Region::Na, PROFILE, secs(3)).await.unwrap();
    // 401, token refresh, the retried call.
    assert_eq!(sim.request_count() - before, 3);
    assert_eq!(c.stats().token_refreshes, 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_refresh() {
    let sim = sim(SimConfig::default()).await;
    sim.set_faults(faults(|f| f.latency_ms = 100));
    let c = client(&sim);
    let calls = (0..16).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.publishers(Region::Na, PROFILE, secs(3)).await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
    assert_eq!(c.stats().token_refreshes, 1);
}

#[tokio::test]
async fn garbage_body_is_a_decode_error() {
    // A server that answers 200 with something that is not JSON.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot json!",
            );
        }
    });
    let c = AmazonClient::new(config_for(&format!("http://{addr}"))).unwrap();
    let err = c.profiles(Region::Na, secs(2)).await.unwrap_err();
    assert!(matches!(err, AmazonError::Decode(_)), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn observer_sees_every_call() {
    use std::sync::{Arc, Mutex};
    let sim = default_sim().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let c = client(&sim);
    // A clone made earlier (e.g. held by a TagCache) is observed too.
    let earlier_clone = c.clone();
    c.set_observer(Arc::new(move |e: &quiver_amazon::CallEvent| {
        s.lock().unwrap().push((e.operation, e.outcome, e.attempts));
    }));
    c.profiles(Region::Na, secs(3)).await.unwrap();
    let _ = earlier_clone
        .non_macro_template_tags(Region::Na, PROFILE, &["nope".into()], &[], secs(3))
        .await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (quiver_amazon::Operation::Profiles, "ok", 1),
            (
                quiver_amazon::Operation::NonMacroTemplateTag,
                "bad_request",
                1
            )
        ]
    );
}

/// The token endpoint works, every other request gets `status` with a MaaSError body.
/// Returns the base URL and a counter of API (non-token) requests.
async fn fake_amazon(status: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let api_calls = std::sync::Arc::new(AtomicU64::new(0));
    let counter = api_calls.clone();
    let base = fake_server(move |req| {
        if req.starts_with("POST /auth/o2/token") {
            (200, FAKE_TOKEN.to_string())
        } else {
            counter.fetch_add(1, Ordering::SeqCst);
            (
                status,
                format!(r#"{{"code":"{status}","details":"fake says {status}"}}"#),
            )
        }
    })
    .await;
    (base, api_calls)
}

#[tokio::test]
async fn token_endpoint_outage_keeps_using_an_unexpired_token() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let token_calls = std::sync::Arc::new(AtomicU64::new(0));
    let counter = token_calls.clone();
    let base = fake_server(move |req| {
        if req.starts_with("POST /auth/o2/token") {
            // The first refresh works (a 2 s token, refreshed after 1 s), then LwA is down.
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                (
                    200,
                    r#"{"access_token":"Atza|short","token_type":"bearer","expires_in":2}"#
                        .to_string(),
                )
            } else {
                (500, r#"{"error":"server_error"}"#.to_string())
            }
        } else {
            (200, r#"{"advertisers":[]}"#.to_string())
        }
    })
    .await;
    let c = AmazonClient::new(config_for(&base)).unwrap();
    c.advertisers(Region::Na, PROFILE, secs(3)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // Due for refresh, refresh fails, the old token still works.
    for _ in 0..5 {
        c.advertisers(Region::Na, PROFILE, secs(3)).await.unwrap();
    }
    // One failed refresh, then a cool-down instead of one refresh per call.
    assert_eq!(token_calls.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // Expired now: nothing to fall back on.
    let err = c
        .advertisers(Region::Na, PROFILE, within(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert!(
        matches!(err.root(), AmazonError::Server { status: 500, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn api_401_after_one_refresh_is_unauthorized() {
    use std::sync::atomic::Ordering;
    let (base, api_calls) = fake_amazon(401).await;
    let c = AmazonClient::new(config_for(&base)).unwrap();
    let err = c
        .advertisers(Region::Na, PROFILE, secs(3))
        .await
        .unwrap_err();
    assert_eq!(err, AmazonError::Unauthorized("fake says 401".into()));
    assert_eq!(
        api_calls.load(Ordering::SeqCst),
        2,
        "one retry after one refresh"
    );
    assert_eq!(c.stats().token_refreshes, 2);
}

#[tokio::test]
async fn forbidden_and_not_found_are_permanent() {
    use std::sync::atomic::Ordering;
    for (status, kind) in [(403, "forbidden"), (404, "bad_request")] {
        let (base, api_calls) = fake_amazon(status).await;
        let c = AmazonClient::new(config_for(&base)).unwrap();
        let err = c
            .publishers(Region::Na, PROFILE, secs(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err:?}");
        assert!(
            err.to_string().contains(&format!("fake says {status}")),
            "{err}"
        );
        assert_eq!(api_calls.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    use std::sync::atomic::Ordering;
    let (base, api_calls) = fake_amazon(302).await;
    let c = AmazonClient::new(config_for(&base)).unwrap();
    let err = c
        .publishers(Region::Na, PROFILE, secs(3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AmazonError::Server { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(api_calls.load(Ordering::SeqCst), 1);
}
