//! Sign-up, reset and password changes hash on the same bounded pool as login's checks
//! (issue 17): a flood of sign-ups from many addresses stays within a few argon2
//! working sets, is answered quickly, and leaves the server able to serve.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::mailbox::{Mailbox, token};
use crate::support::{CREATOR, PASSWORD, SELLER, TestApp};

const STRONG: &str = "violet-harbour-tangent-42";

async fn post(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> crate::support::Reply {
    app.send(Method::POST, path, bearer, |r| r.json(&body))
        .await
}

fn busy(r: &crate::support::Reply, what: &str) {
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "server_busy"),
        "{what}: {:?}",
        r.body
    );
    assert!(r.header("retry-after").is_some(), "{what}: no Retry-After");
}

/// With every place of the password pool taken (as a burst of logins would), sign-up,
/// reset, password change and accepting an invitation with a new account are turned
/// away with 503 instead of hashing beside it; a made-up reset link is refused without
/// hashing, and a real one stays usable after the busy answer.
#[tokio::test]
async fn every_password_hash_waits_for_the_pool_logins_use() {
    let mailbox = Mailbox::start().await;
    let url = mailbox.url();
    let app = TestApp::with_args(&["--smtp-url", &url, "--signup", "open"]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let r = post(&app, "/password/forgot", None, json!({"email": CREATOR})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let reset = token(&mailbox.wait(CREATOR, 1).await, "reset");
    let r = app
        .post_json(
            "/sellers/brands/lumen-home/invitations",
            &seller,
            json!({"email": "pooled@example.net"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let invitation = token(&mailbox.wait("pooled@example.net", 1).await, "invitation");

    let checks = &app.running.state.login_throttle.checks;
    let held: Vec<_> = std::iter::from_fn(|| checks.admit()).collect();
    assert!(!held.is_empty());
    let signup =
        json!({"email": "pooled-signup@example.net", "password": STRONG, "display_name": "Pooled"});
    busy(
        &post(&app, "/signup", None, signup.clone()).await,
        "sign-up",
    );
    let reset_body = json!({"token": reset, "password": STRONG});
    busy(
        &post(&app, "/password/reset", None, reset_body.clone()).await,
        "reset",
    );
    let made_up = post(
        &app,
        "/password/reset",
        None,
        json!({"token": "made-up", "password": STRONG}),
    )
    .await;
    assert_eq!(made_up.code(), "invalid_link", "{:?}", made_up.body);
    busy(
        &post(
            &app,
            "/account/password",
            Some(&creator),
            json!({"current_password": PASSWORD, "new_password": STRONG}),
        )
        .await,
        "password change",
    );
    let accept = json!({"token": invitation, "password": STRONG, "display_name": "Pooled"});
    busy(
        &post(&app, "/invitations/accept", None, accept.clone()).await,
        "invitation",
    );

    drop(held);
    let r = post(&app, "/signup", None, signup).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let r = post(&app, "/invitations/accept", None, accept).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = post(&app, "/password/reset", None, reset_body).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the link outlived the busy answer: {:?}",
        r.body
    );
    let r = app
        .post_form("/token", &[("username", CREATOR), ("password", STRONG)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// The test process's resident memory now and at its peak, in KiB (the server runs in it).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sign_ups_is_bounded_in_memory_and_the_server_keeps_serving() {
    let app = TestApp::with_args(&["--signup", "open"]).await;
    // Warm up: one sign-up and one login, so the idle figure includes argon2's first
    // allocations on the password threads.
    let warm = app
        .send(reqwest::Method::POST, "/signup", None, |r| {
            r.json(&json!({"email": "warm@example.net", "password": "violet-harbour-tangent-42", "display_name": "Warm"}))
        })
        .await;
    assert_eq!(warm.status, StatusCode::ACCEPTED, "{:?}", warm.body);
    app.token(CREATOR).await;
    let (idle_rss, _) = memory_kib();
    let started = Instant::now();
    // Each from its own loopback address, so the per-address e-mail throttle lets every
    // one reach the hashing.
    let tasks: Vec<_> = (0..200u32)
        .map(|i| {
            let local = IpAddr::V4(Ipv4Addr::new(
                127,
                0,
                1 + (i / 250) as u8,
                (i % 250 + 2) as u8,
            ));
            let client = reqwest::Client::builder()
                .local_address(local)
                .build()
                .unwrap();
            let url = format!("{}/signup", app.base);
            tokio::spawn(async move {
                let sent = Instant::now();
                let r = client
                    .post(url)
                    .json(&json!({
                        "email": format!("flood{i}@example.net"),
                        // Short, so the strength check ahead of the hashing is quick
                        // and the flood reaches the hashing at full speed.
                        "password": "Qz8#vL2!pW",
                        "display_name": format!("Flood {i}"),
                    }))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let retry = r.headers().get("retry-after").cloned();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, retry, body, sent.elapsed())
            })
        })
        .collect();
    // The server answers others while the flood is hashed.
    let health_started = Instant::now();
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let health_took = health_started.elapsed();

    let mut by_status = BTreeMap::<u16, usize>::new();
    for t in tasks {
        let (status, retry, body, took) = t.await.unwrap();
        *by_status.entry(status.as_u16()).or_default() += 1;
        assert!([202, 503].contains(&status.as_u16()), "{status} {body}");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(body["code"], "server_busy", "{body}");
            assert!(retry.is_some(), "503 without Retry-After");
            assert!(
                took < Duration::from_secs(10),
                "a busy answer took {took:?}"
            );
        }
    }
    let (after_rss, peak) = memory_kib();
    eprintln!(
        "sign-up flood: {by_status:?} in {:?}; idle {idle_rss} KiB, peak {peak} KiB, after {after_rss} KiB; healthz {health_took:?}",
        started.elapsed()
    );
    // Unbounded, the flood runs 200 argon2 hashes of 19 MiB at once (about 3.8 GiB); on
    // the pool a few run at a time, each thread reusing its memory.
    let budget = idle_rss + 300 * 1024;
    assert!(
        peak < budget,
        "peak {peak} KiB, idle {idle_rss} KiB, statuses {by_status:?}"
    );
    assert!(
        after_rss < budget,
        "after {after_rss} KiB, idle {idle_rss} KiB"
    );
    assert!(
        health_took < Duration::from_secs(5),
        "healthz took {health_took:?} during the flood"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // Some were hashed: the bound is a queue, not a wall; some were turned away.
    assert!(
        by_status.get(&202).copied().unwrap_or(0) >= 1,
        "{by_status:?}"
    );
    // Logins still work after the flood.
    app.token(CREATOR).await;
}
