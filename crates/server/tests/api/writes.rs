//! Group-committed link creation: requests that share a transaction keep their own
//! outcomes.

use std::collections::HashSet;

use quiver::store::StoreError;
use quiver::store::links::{IdempotencyRecord, InsertOutcome, LinkRow};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn concurrent_creations_with_one_contested_key_keep_their_own_outcomes() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let promo = json!({"asin": "B0D45KS7QM", "marketplace": "amazon.fr", "link_name": "promo"});
    let other = json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"});
    // 6 retries of one request and 2 of another under the same key, among 16 without one:
    // sent together, so they meet in the writer's batches.
    let requests: Vec<(Option<&str>, serde_json::Value)> = (0..24)
        .map(|i| match i % 3 {
            0 if i < 18 => (Some("contested"), promo.clone()),
            0 => (Some("contested"), other.clone()),
            _ => (
                None,
                json!({"asin": "B0NWBOTL03", "marketplace": "amazon.com"}),
            ),
        })
        .collect();
    let replies = futures::future::join_all(requests.iter().map(|(key, body)| {
        app.send(
            Method::POST,
            "/generate_attribution_link",
            Some(&t),
            move |r| {
                let r = r.json(body);
                match key {
                    Some(k) => r.header("Idempotency-Key", *k),
                    None => r,
                }
            },
        )
    }))
    .await;

    let mut unkeyed_ids = HashSet::new();
    let mut keyed_bodies = HashSet::new();
    let (mut keyed_created, mut keyed_refused) = (0, 0);
    for ((key, _), r) in requests.iter().zip(&replies) {
        match key {
            None => {
                assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
                assert!(unkeyed_ids.insert(r.body["id"].to_string()));
            }
            Some(_) if r.status == StatusCode::CREATED => {
                keyed_created += 1;
                keyed_bodies.insert(r.body.to_string());
            }
            Some(_) => {
                assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
                assert_eq!(r.code(), "idempotency_key_reused");
                keyed_refused += 1;
            }
        }
    }
    assert_eq!(unkeyed_ids.len(), 16);
    // Whichever request took the key first, its retries replay it and the other is refused.
    assert_eq!(keyed_bodies.len(), 1, "one response for the key");
    assert!(
        (keyed_created, keyed_refused) == (6, 2) || (keyed_created, keyed_refused) == (2, 6),
        "created {keyed_created}, refused {keyed_refused}"
    );
    assert_eq!(app.link_count(CREATOR).await, 17);
}

/// At the store: a constraint failure and a taken key among good creations in one batch.
#[tokio::test]
async fn a_failing_creation_does_not_fail_its_batch() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let first = app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
    let db = &app.running.state.db;
    let account = app.account_id(CREATOR).await;
    let template: LinkRow = db
        .link_of(&account, first.body["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let fresh = |n: usize| LinkRow {
        id: format!("00000000-0000-7000-8000-{n:012}"),
        ad_group_id: format!("batch-{n}"),
        // Short codes are unique too (migration 0018).
        short_code: Some(format!("w{n:07}")),
        ..template.clone()
    };
    // A duplicate ad group (unique index) and a key already held, among good ones.
    let duplicate = LinkRow {
        id: "00000000-0000-7000-8000-999999999999".into(),
        // Its own code: a taken short code is the other error (`ShortCodeTaken`).
        short_code: Some("wdupe000".into()),
        ..template.clone()
    };
    let now = quiver::store::now_ms();
    let held = IdempotencyRecord {
        key: "held",
        request_hash: "h",
        response_body: "{}",
    };
    assert!(matches!(
        db.insert_link(&fresh(100), Some(held), now, None).await,
        Ok(InsertOutcome::Created)
    ));

    let retaken = fresh(200);
    let links: Vec<LinkRow> = (0..12).map(fresh).collect();
    let mut calls: Vec<_> = links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let key = (i % 4 == 0).then(|| IdempotencyRecord {
                key: ["k0", "k1", "k2"][i / 4],
                request_hash: "h",
                response_body: "{}",
            });
            Box::pin(db.insert_link(l, key, now, None))
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>>
        })
        .collect();
    calls.push(Box::pin(db.insert_link(&duplicate, None, now, None)));
    calls.push(Box::pin(db.insert_link(
        &retaken,
        Some(IdempotencyRecord {
            key: "held",
            request_hash: "h",
            response_body: "{}",
        }),
        now,
        None,
    )));
    let outcomes = futures::future::join_all(calls).await;

    for (l, o) in links.iter().zip(&outcomes) {
        assert!(matches!(o, Ok(InsertOutcome::Created)), "{}: {o:?}", l.id);
        assert!(db.link_of(&account, &l.id).await.unwrap().is_some());
    }
    assert!(
        matches!(outcomes[12], Err(StoreError::Conflict)),
        "{:?}",
        outcomes[12]
    );
    assert!(matches!(outcomes[13], Ok(InsertOutcome::KeyTaken)));
    assert!(db.link_of(&account, &duplicate.id).await.unwrap().is_none());
    assert!(db.link_of(&account, &retaken.id).await.unwrap().is_none());
    assert_eq!(app.link_count(CREATOR).await, 1 + 1 + 12);
}
