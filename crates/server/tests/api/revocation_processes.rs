//! Revocation across two real `quiver serve` processes on one database (issue 17): an API
//! key revoked, a session ended and a password reset through one process are refused by
//! the other within the token cache's documented 5 seconds (and at once by the first).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::mailbox::{Mailbox, token};
use crate::process::Server;
use crate::support::{CREATOR, PASSWORD, fresh_database_url};

const STRONG: &str = "violet-harbour-tangent-42";

fn start(db_url: &str, smtp: &str) -> Server {
    Server::start(db_url, &[("QUIVER_SMTP_URL", smtp)])
}

async fn login(c: &reqwest::Client, base: &str, password: &str) -> String {
    let r = c
        .post(format!("{base}/token"))
        .form(&[("username", CREATOR), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

async fn status(c: &reqwest::Client, base: &str, bearer: &str) -> StatusCode {
    c.get(format!("{base}/get_affiliateID"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
}

/// Refused at once by `here`, and by `there` within the cache's 5 s (plus a margin).
async fn refused_by_both(
    c: &reqwest::Client,
    here: &Server,
    there: &Server,
    bearer: &str,
    what: &str,
) {
    assert_eq!(
        status(c, &here.base, bearer).await,
        StatusCode::UNAUTHORIZED,
        "{what}: at once where it was done"
    );
    let started = Instant::now();
    while status(c, &there.base, bearer).await != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{what}: the other process still accepts it after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_sessions_and_resets_reach_another_process_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let mail = Mailbox::start().await;
    // One after the other: the first migrates and seeds the demo.
    let a = start(&url, &mail.url());
    let b = start(&url, &mail.url());
    let c = reqwest::Client::new();

    // An API key made through A works on B (and B caches it).
    let session = login(&c, &a.base, PASSWORD).await;
    let r = c
        .post(format!("{}/account/api_keys", a.base))
        .bearer_auth(&session)
        .json(&json!({"name": "script", "scope": "write"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(status(&c, &b.base, &key).await, StatusCode::OK);
    let r = c
        .delete(format!("{}/account/api_keys/{id}", a.base))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    refused_by_both(&c, &a, &b, &key, "a revoked API key").await;

    // A session ended through A.
    let ended = login(&c, &a.base, PASSWORD).await;
    assert_eq!(status(&c, &b.base, &ended).await, StatusCode::OK);
    let sessions: Value = c
        .get(format!("{}/account/sessions", a.base))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Newest first: the login just made.
    let newest = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();
    let r = c
        .delete(format!("{}/account/sessions/{newest}", a.base))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    refused_by_both(&c, &a, &b, &ended, "an ended session").await;
    assert_eq!(
        status(&c, &b.base, &session).await,
        StatusCode::OK,
        "other sessions live on"
    );

    // A password reset through A ends every session, on B too.
    let r = c
        .post(format!("{}/password/forgot", a.base))
        .json(&json!({"email": CREATOR}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let reset = token(&mail.wait(CREATOR, 1).await, "reset");
    let r = c
        .post(format!("{}/password/reset", a.base))
        .json(&json!({"token": reset, "password": STRONG}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    refused_by_both(&c, &a, &b, &session, "a session before the reset").await;
    let fresh = login(&c, &b.base, STRONG).await;
    assert_eq!(status(&c, &a.base, &fresh).await, StatusCode::OK);
}
