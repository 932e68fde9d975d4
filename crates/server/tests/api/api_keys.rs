//! API keys (issue 17): scope, account kind, last use in batches, revocation here and on
//! another server, and disabled accounts.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::joining::login;
use crate::support::{CREATOR, PASSWORD, SELLER, TestApp};

async fn new_key(app: &TestApp, t: &str, scope: &str) -> Value {
    let r = app
        .post_json(
            "/account/api_keys",
            t,
            json!({"name": format!("{scope} script"), "scope": scope}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn api_keys_carry_their_scope_and_their_account_kind() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let read = new_key(&app, &t, "read").await;
    let write = new_key(&app, &t, "write").await;
    let (rk, wk) = (
        read["key"].as_str().unwrap(),
        write["key"].as_str().unwrap(),
    );
    assert!(rk.starts_with("qk_") && rk.len() >= 3 + 43);
    assert!(rk.starts_with(read["prefix"].as_str().unwrap()));

    assert_eq!(app.get("/get_all_links", rk).await.status, StatusCode::OK);
    let r = app
        .create_link(rk, quiver::demo::EXAMPLE_ASIN, "amazon.de")
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let r = app
        .create_link(wk, quiver::demo::EXAMPLE_ASIN, "amazon.de")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Keys cannot make keys.
    let r = app
        .post_json(
            "/account/api_keys",
            wk,
            json!({"name": "x", "scope": "write"}),
        )
        .await;
    assert_eq!(r.code(), "insufficient_scope");
    // A publisher's key never reaches seller endpoints.
    assert_eq!(
        app.get("/sellers/brands", wk).await.code(),
        "wrong_account_type"
    );
    let s = app.token(SELLER).await;
    let sk = new_key(&app, &s, "read").await;
    let sk = sk["key"].as_str().unwrap();
    assert_eq!(app.get("/sellers/brands", sk).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/get_all_links", sk).await.code(),
        "wrong_account_type"
    );

    let list = app.get("/account/api_keys", &t).await;
    let keys = list.body["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.get("key").is_none()));
    assert_eq!(keys[0]["scope"], "write");
    // Revoked: refused at once.
    let id = read["id"].as_str().unwrap();
    let r = app
        .send(
            Method::DELETE,
            &format!("/account/api_keys/{id}"),
            Some(&t),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/get_all_links", rk).await.status,
        StatusCode::UNAUTHORIZED
    );
    let past = app
        .post_json(
            "/account/api_keys",
            &t,
            json!({"name": "old", "scope": "read", "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_keys_last_use_is_recorded_in_batches() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let key = new_key(&app, &t, "read").await;
    let k = key["key"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(app.get("/get_all_links", k).await.status, StatusCode::OK);
    }
    let listed = app.get("/account/api_keys", &t).await;
    assert_eq!(
        listed.body["api_keys"][0]["last_used_at"],
        Value::Null,
        "not written per request"
    );
    quiver::api_keys::flush(&app.running.state).await;
    let listed = app.get("/account/api_keys", &t).await;
    assert!(
        listed.body["api_keys"][0]["last_used_at"].is_string(),
        "{:?}",
        listed.body
    );
}

#[tokio::test]
async fn a_revoked_key_stops_within_five_seconds_on_another_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let one = TestApp::on_database(&url, &[]).await;
    let two = TestApp::on_database(&url, &[]).await;
    let t = one.token(CREATOR).await;
    let key = new_key(&one, &t, "read").await;
    let k = key["key"].as_str().unwrap();
    assert_eq!(two.get("/get_all_links", k).await.status, StatusCode::OK);
    let id = key["id"].as_str().unwrap();
    one.send(
        Method::DELETE,
        &format!("/account/api_keys/{id}"),
        Some(&t),
        |r| r,
    )
    .await;
    assert_eq!(
        one.get("/get_all_links", k).await.status,
        StatusCode::UNAUTHORIZED
    );
    let start = Instant::now();
    while two.get("/get_all_links", k).await.status == StatusCode::OK {
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "still accepted after 6 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let app = TestApp::on_database(&url, &[]).await;
    let t = app.token(CREATOR).await;
    let key = new_key(&app, &t, "read").await;
    let k = key["key"].as_str().unwrap();
    assert_eq!(app.get("/get_all_links", k).await.status, StatusCode::OK);
    let out = crate::invitations::admin(&url, &["disable-account", "Creator@Example.com"]);
    assert!(out.contains("disabled creator@example.com"), "{out}");
    let start = Instant::now();
    while app.get("/account", &t).await.status == StatusCode::OK
        || app.get("/get_all_links", k).await.status == StatusCode::OK
    {
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "still accepted after 6 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        login(&app, CREATOR, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_key_stops_at_its_expiry_even_when_cached() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let soon = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = app
        .post_json(
            "/account/api_keys",
            &t,
            json!({"name": "brief", "scope": "read", "expires_at": soon}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(r.body["expires_at"].is_string());
    let k = r.body["key"].as_str().unwrap();
    assert_eq!(app.get("/get_all_links", k).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        app.get("/get_all_links", k).await.status,
        StatusCode::UNAUTHORIZED
    );
}
