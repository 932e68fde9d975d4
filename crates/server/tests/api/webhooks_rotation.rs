//! `quiver admin rotate-secret-key` and webhook endpoints (#21): an endpoint's signing
//! secrets (the current one and, during an overlap, the previous one) are sealed with the
//! server's key, so a rotation must re-seal them or the endpoint could no longer sign.

use clap::Parser;
use quiver::cli::{Cli, Command};
use quiver::secret_key::SecretKey;
use quiver::store::Db;
use reqwest::StatusCode;
use serde_json::json;
use standardwebhooks::Webhook;

use crate::support::*;
use crate::webhook_receiver::{Receiver, args, new_key};

async fn start(url: &str, key: &str) -> TestApp {
    let flags = args(key);
    TestApp::on_database(url, &flags.iter().map(String::as_str).collect::<Vec<_>>()).await
}

#[tokio::test]
async fn rotating_the_server_key_keeps_webhook_secrets_signing() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let old = new_key();
    let app = start(&url, &old).await;
    let rx = Receiver::start(&[]).await;
    let t = app.token(CREATOR).await;
    let ep = app
        .post_json(
            "/webhooks",
            &t,
            json!({"url": rx.url, "events": ["link.created"]}),
        )
        .await;
    assert_eq!(ep.status, StatusCode::CREATED, "{:?}", ep.body);
    let epid = ep.body["id"].as_str().unwrap().to_owned();
    let first = ep.body["secret"].as_str().unwrap().to_owned();
    // A rotated endpoint holds two sealed secrets: both must survive the key rotation.
    let rot = app
        .post_json(&format!("/webhooks/{epid}/rotate_secret"), &t, json!({}))
        .await;
    assert_eq!(rot.status, StatusCode::OK, "{:?}", rot.body);
    let second = rot.body["secret"].as_str().unwrap().to_owned();
    app.running.stop().await.unwrap();

    let db = Db::connect(&url).await.unwrap();
    let nf = dir.path().join("rotated.key").display().to_string();
    let argv = [
        "quiver",
        "admin",
        "rotate-secret-key",
        "--secret-key",
        &old,
        "--new-key-file",
        &nf,
    ];
    let Command::Admin(admin) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    quiver::cli::admin::run(&db, &url, admin).await.unwrap();
    db.close().await;
    let new = SecretKey::from_base64(&std::fs::read_to_string(&nf).unwrap())
        .unwrap()
        .to_base64()
        .to_string();
    assert_ne!(new, old);

    let app = start(&url, &new).await;
    let t = app.token(CREATOR).await;
    let link = app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.body);
    let got = rx.wait(1).await;
    let body = got[0].json();
    assert_eq!(body["type"], "link.created");
    for secret in [&first, &second] {
        Webhook::new(secret)
            .unwrap()
            .verify(&got[0].body, &got[0].headers)
            .expect("both secrets still sign after the key rotation");
    }
    app.running.stop().await.unwrap();
}
