//! Every webhook event a change other than a link emits (issue #21), against real HTTP
//! receivers: it arrives at the endpoints subscribed to it, of the account it concerns
//! (both sides where it concerns both), as `{type, timestamp, data}` with `data` the
//! object the API shows, signed so the `standardwebhooks` crate verifies it; a refused
//! change sends nothing.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use standardwebhooks::Webhook;
use time::Date;

use crate::support::*;
use crate::webhook_receiver::{Got, Receiver, args, new_key};

async fn app_with(extra: &[&str]) -> TestApp {
    let key = new_key();
    let mut a = args(&key);
    a.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    TestApp::with_args(&refs).await
}

/// An endpoint of the token's account at a new receiver; returns it with its secret.
async fn endpoint(app: &TestApp, token: &str, events: &[&str]) -> (Receiver, String) {
    let rx = Receiver::start(&[]).await;
    let r = app
        .post_json("/webhooks", token, json!({"url": rx.url, "events": events}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (rx, r.body["secret"].as_str().unwrap().to_owned())
}

/// The bodies received so far, each checked with the official verifier.
fn verified(rx: &Receiver, secret: &str) -> Vec<Value> {
    let hook = Webhook::new(secret).unwrap();
    rx.got()
        .iter()
        .map(|g: &Got| {
            hook.verify(&g.body, &g.headers)
                .expect("the standardwebhooks crate accepts the signature");
            let body = g.json();
            assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
            assert!(g.header("webhook-id").starts_with("msg_"));
            body
        })
        .collect()
}

/// Waits for the `n`-th (1-based) event of type `t` at `rx`, and returns its body.
async fn wait_for(rx: &Receiver, secret: &str, t: &str, n: usize) -> Value {
    for _ in 0..400 {
        let of: Vec<Value> = verified(rx, secret)
            .into_iter()
            .filter(|b| b["type"] == t)
            .collect();
        if of.len() >= n {
            return of[n - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "no {t} #{n}; got {:?}",
        verified(rx, secret)
            .iter()
            .map(|b| b["type"].clone())
            .collect::<Vec<_>>()
    );
}

fn types(rx: &Receiver, secret: &str) -> Vec<String> {
    verified(rx, secret)
        .iter()
        .map(|b| b["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Lets any delivery still on its way arrive (the job polls every 50 ms), so that an
/// event that should not exist would have been seen.
async fn settle(app: &TestApp, token: &str) {
    // A ping through a fresh endpoint is delivered after everything enqueued before it
    // has been claimed: the job takes due deliveries oldest first.
    let (rx, secret) = endpoint(app, token, &["ping"]).await;
    let id = app.get("/webhooks", token).await.body["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"] == rx.url)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post_json(&format!("/webhooks/{id}/test"), token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    wait_for(&rx, &secret, "ping", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn webhook_events_bulk_job_finished_reaches_only_its_subscribers() {
    let app = app_with(&[]).await;
    let t = app.token(CREATOR).await;
    let t2 = app.token(CREATOR2).await;
    let (bulk_rx, bulk_secret) = endpoint(&app, &t, &["bulk_job.finished"]).await;
    let (links_rx, links_secret) = endpoint(&app, &t, &["link.created"]).await;
    let (other_rx, other_secret) = endpoint(&app, &t2, &["bulk_job.finished"]).await;

    let items = json!({"links": [
        {"asin": "B0D45KS7QM", "marketplace": "amazon.com", "link_name": "bulk-a"},
        {"asin": "B0D45KS7QM", "marketplace": "amazon.de", "link_name": "bulk-b"},
        {"asin": "not-an-asin", "marketplace": "amazon.com"},
    ]});
    let r = app
        .post_json("/bulk_generate_attribution_links", &t, items)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_owned();

    let got = wait_for(&bulk_rx, &bulk_secret, "bulk_job.finished", 1).await;
    let shown = app.get(&format!("/bulk_jobs/{job}"), &t).await;
    assert_eq!(shown.body["status"], "done");
    // The event carries the job as GET shows it, e-mail status aside (it moves on after).
    let mut data = got["data"].clone();
    let mut expected = shown.body.clone();
    for v in [&mut data, &mut expected] {
        v.as_object_mut().unwrap().remove("email_status");
        v.as_object_mut().unwrap().remove("email_error");
    }
    assert_eq!(data, expected);
    assert_eq!(got["data"]["succeeded"], 2);
    assert_eq!(got["data"]["failed"], 1);

    // Each link the job made is told as `link.created` (the object single creation
    // returns); a link made alone too. The bulk endpoint gets none of them, the other
    // account nothing at all.
    wait_for(&links_rx, &links_secret, "link.created", 2).await;
    let link = app.create_link(&t, "B0D45KS7QM", "amazon.fr").await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.body);
    let single = wait_for(&links_rx, &links_secret, "link.created", 3).await;
    assert_eq!(single["data"], link.body);
    settle(&app, &t).await;
    let mut names: Vec<String> = verified(&links_rx, &links_secret)
        .iter()
        .map(|b| {
            b["data"]["link_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|n| n.starts_with("bulk-"))
        .collect();
    names.sort();
    assert_eq!(names, ["bulk-a", "bulk-b"]);
    assert_eq!(types(&links_rx, &links_secret).len(), 3);
    let listed = app.get("/get_all_links?link_name=bulk-a", &t).await;
    let bulk_a = verified(&links_rx, &links_secret)
        .into_iter()
        .find(|b| b["data"]["link_name"] == "bulk-a")
        .unwrap();
    assert_eq!(
        bulk_a["data"], listed.body["all_links"][0],
        "{:?}",
        listed.body
    );
    assert_eq!(types(&bulk_rx, &bulk_secret), ["bulk_job.finished"]);
    assert!(types(&other_rx, &other_secret).is_empty());

    // A refused submission (a bad marketplace refuses the whole job) finishes nothing.
    let bad = json!({"links": [{"asin": "B0D45KS7QM", "marketplace": "amazon.nowhere"}]});
    let r = app
        .post_json("/bulk_generate_attribution_links", &t, bad)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    settle(&app, &t).await;
    assert_eq!(types(&bulk_rx, &bulk_secret), ["bulk_job.finished"]);
}

#[tokio::test]
async fn webhook_events_access_requests_and_revoked_grants_reach_both_sides() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let creator2 = app.token(CREATOR2).await;
    let all = [
        "access_request.created",
        "access_request.approved",
        "access_request.declined",
        "grant.revoked",
    ];
    let (brand_rx, brand_secret) = endpoint(&app, &seller, &all).await;
    let (mine_rx, mine_secret) = endpoint(&app, &creator, &all).await;
    let (bystander_rx, bystander_secret) = endpoint(&app, &creator2, &all).await;

    // Asked: the brand is told, with the request as the API returned it.
    let ask = |token: String| {
        let app = &app;
        async move {
            app.post_json(
                "/access_requests",
                &token,
                json!({"brand_id": "lumen-home", "message": "Please"}),
            )
            .await
        }
    };
    let r = ask(creator.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let first = r.body["id"].as_str().unwrap().to_owned();
    let got = wait_for(&brand_rx, &brand_secret, "access_request.created", 1).await;
    assert_eq!(got["data"], r.body);

    // Refused (already pending, or already allowed): no event.
    let r = ask(creator.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let r = ask(creator2.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);

    // Approved: both sides, with the decided request.
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{first}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let got = wait_for(rx, secret, "access_request.approved", 1).await;
        assert_eq!(got["data"]["id"], first.as_str());
        assert_eq!(got["data"]["status"], "approved");
        assert_eq!(got["data"]["creator"], "aff_demo_creator");
    }
    // Deciding it again is refused, and tells no one.
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{first}/decline"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);

    // Revoked: both sides, with the grant as the seller's API shows it.
    let grant = "/sellers/brands/lumen-home/grants/aff_demo_creator";
    let r = app.send(Method::DELETE, grant, Some(&seller), |r| r).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let got = wait_for(rx, secret, "grant.revoked", 1).await;
        assert_eq!(got["data"], r.body);
        assert_eq!(got["data"]["active"], false);
    }
    // Nothing left to revoke: no event.
    let r = app.send(Method::DELETE, grant, Some(&seller), |r| r).await;
    assert!(r.status.is_success() || r.status.is_client_error());

    // Asked again and declined with a reason: both sides.
    let r = ask(creator.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let second = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{second}/decline"),
            &seller,
            json!({"reason": "Not this season"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let got = wait_for(rx, secret, "access_request.declined", 1).await;
        assert_eq!(got["data"], r.body);
    }

    settle(&app, &seller).await;
    assert_eq!(
        types(&brand_rx, &brand_secret),
        [
            "access_request.created",
            "access_request.approved",
            "grant.revoked",
            "access_request.created",
            "access_request.declined",
        ]
    );
    // The publisher hears of decisions on its requests, never of the asking itself.
    assert_eq!(
        types(&mine_rx, &mine_secret),
        [
            "access_request.approved",
            "grant.revoked",
            "access_request.declined"
        ]
    );
    assert!(types(&bystander_rx, &bystander_secret).is_empty());
}

fn first_of(d: Date) -> Date {
    d.replace_day(1).unwrap()
}

#[tokio::test]
async fn webhook_events_report_updated_and_statements_final_and_paid() {
    let app = app_with(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::register_catalog(app.sim());
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let creator2 = app.token(CREATOR2).await;
    let all = ["report.updated", "statement.final", "statement.paid"];
    let (brand_rx, brand_secret) = endpoint(&app, &seller, &all).await;
    let (mine_rx, mine_secret) = endpoint(&app, &creator, &all).await;
    let (bystander_rx, bystander_secret) = endpoint(&app, &creator2, &all).await;

    // Two months back is final today (its last day is more than 28 days ago).
    let today = time::OffsetDateTime::now_utc().date();
    let start =
        first_of(first_of(first_of(today) - time::Duration::days(1)) - time::Duration::days(1));
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let url = r.body["url"].as_str().unwrap().to_owned();
    let (from, to) = (
        start + time::Duration::days(4),
        start + time::Duration::days(6),
    );
    let mut d = from;
    while d <= to {
        app.sim().record_visit(&url, Some(d), 3000).unwrap();
        d += time::Duration::days(1);
    }
    let opts = quiver::ingest::Options::default();
    quiver::ingest::run_once(&app.running.state.db, &app.running.amazon.client, &opts)
        .await
        .unwrap();

    // Ingestion changed both sides' facts: each is told which days and brands.
    let iso = |d: Date| d.to_string();
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let got = wait_for(rx, secret, "report.updated", 1).await;
        let days: Vec<String> = verified(rx, secret)
            .iter()
            .filter(|b| b["type"] == "report.updated")
            .flat_map(|b| b["data"]["days"].as_array().unwrap().clone())
            .map(|d| d.as_str().unwrap().to_owned())
            .collect();
        for day in [iso(from), iso(to)] {
            assert!(days.contains(&day), "{day} not in {days:?}");
        }
        assert_eq!(got["data"]["brand_ids"], json!(["northwind"]));
    }
    // The same facts again change nothing and tell no one.
    settle(&app, &creator).await;
    let before = types(&mine_rx, &mine_secret).len();
    quiver::ingest::run_once(&app.running.state.db, &app.running.amazon.client, &opts)
        .await
        .unwrap();
    settle(&app, &creator).await;
    assert_eq!(types(&mine_rx, &mine_secret).len(), before);

    // The month becomes final: both sides get the frozen statement.
    let summary = quiver::statements::schedule::run_once(&app.running.state, today)
        .await
        .unwrap();
    let id = summary
        .finalised
        .iter()
        .find(|f| f.brand_id == "northwind")
        .unwrap_or_else(|| panic!("{summary:?}"))
        .id
        .clone();
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let got = wait_for(rx, secret, "statement.final", 1).await;
        let shown = app.get(&format!("/statements/{id}"), &creator).await;
        assert_eq!(shown.status, StatusCode::OK, "{:?}", shown.body);
        assert_eq!(got["data"]["id"], id.as_str());
        assert_eq!(got["data"]["state"], "final");
        assert_eq!(got["data"]["commission"], shown.body["commission"]);
    }

    // Paying an unapproved statement is refused and tells no one; approved, then paid,
    // both sides get the paid statement with its payment.
    let pay = json!({"statement_ids": [id], "paid_at": "2026-12-03T10:00:00Z", "method": "paypal", "reference": "BATCH-1"});
    let r = app
        .post_json("/sellers/payouts", &seller, pay.clone())
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let r = app
        .post_json(
            &format!("/sellers/statements/{id}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.post_json("/sellers/payouts", &seller, pay).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let got = wait_for(rx, secret, "statement.paid", 1).await;
        assert_eq!(got["data"]["id"], id.as_str());
        assert_eq!(got["data"]["state"], "paid");
        assert_eq!(got["data"]["payment"]["reference"], "BATCH-1");
    }
    settle(&app, &seller).await;
    for (rx, secret) in [(&brand_rx, &brand_secret), (&mine_rx, &mine_secret)] {
        let t = types(rx, secret);
        assert_eq!(t.iter().filter(|t| *t == "statement.final").count(), 1);
        assert_eq!(t.iter().filter(|t| *t == "statement.paid").count(), 1);
    }
    assert!(types(&bystander_rx, &bystander_secret).is_empty());
}
