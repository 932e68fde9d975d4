//! A brand's own Amazon connection kept healthy (#18): a grant revoked in the simulator
//! makes the connection `reconnect_needed` on its next use, the owner gets exactly one
//! e-mail (over real SMTP), creators get 409 `brand_not_connected`, ingestion skips the
//! brand, the metric shows it; reconnecting restores links and back-fills the reports
//! missed meanwhile, beyond the usual 28-day re-read.

use quiver::ingest::{Options, Outcome, Summary, run_once};
use quiver_domain::format_iso;
use reqwest::StatusCode;
use serde_json::Value;
use time::Date;

use crate::amazon_connect::{
    BRAND, app_with, carries_advertiser, connect_and_choose, connect_as, region_of,
};
use crate::mailbox::Mailbox;
use crate::support::*;

pub async fn revoke(app: &TestApp, login: &str) {
    let r = app
        .client
        .post(format!(
            "{}/_sim/users/{login}/revoke",
            app.sim().base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn metric(app: &TestApp, status: &str) -> Option<f64> {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("quiver_amazon_connections{{status=\"{status}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map(|v| v.trim().parse().unwrap())
}

pub async fn ingest(app: &TestApp, today: Option<Date>) -> Summary {
    let opts = Options {
        today,
        secret_key: app.running.state.secret_key.clone(),
        ..Options::default()
    };
    match run_once(&app.running.state.db, &app.running.amazon.client, &opts)
        .await
        .unwrap()
    {
        Outcome::Ran(s) => s,
        Outcome::Busy => panic!("ingestion lease busy"),
    }
}

pub fn must_reconnect(r: &Reply) {
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "brand_not_connected");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("The brand must reconnect its Amazon Ads account"),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn a_revoked_grant_needs_reconnecting_mails_the_owner_once_and_refuses_new_links() {
    let mail = Mailbox::start().await;
    let smtp = mail.url();
    let app = app_with(&["--smtp-url", &smtp, "--ingest-interval-secs", "0"]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let adv = connect_and_choose(&app, &seller, BRAND, "NA", "alice", "US").await;
    assert_eq!(metric(&app, "connected").await, Some(1.0));
    assert_eq!(metric(&app, "reconnect_needed").await, Some(0.0));

    revoke(&app, "alice").await;
    // The next use: this link's tag is fetched with alice's (revoked) authorisation. With
    // the platform's credentials it would have been created.
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    must_reconnect(&r);
    let na = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(na["status"], "reconnect_needed", "{na}");
    assert_eq!(na["advertiser_id"], adv.as_str(), "the choice is kept");
    assert!(
        na["last_error"].as_str().unwrap().contains("invalid_grant"),
        "{na}"
    );
    let message = mail.wait(SELLER, 1).await;
    assert!(
        message.contains("Reconnect Northwind Outdoor's Amazon Ads account"),
        "{message}"
    );
    assert!(
        message.contains("#/amazon?brand_id=northwind&region=NA"),
        "{message}"
    );
    assert!(!message.contains("Atzr|"), "no token in the e-mail");
    assert_eq!(metric(&app, "connected").await, Some(0.0));
    assert_eq!(metric(&app, "reconnect_needed").await, Some(1.0));

    // Every later use is refused the same way, and nobody is e-mailed again.
    must_reconnect(&app.create_link(&creator, "B0NWTENT02", "amazon.com").await);
    must_reconnect(
        &app.get("/sellers/brands/northwind/amazon/NA/profiles", &seller)
            .await,
    );
    let s = ingest(&app, None).await;
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mail.to(SELLER).len(), 1, "exactly one e-mail per breakage");
    // Other regions are not affected: the platform's ids still serve EU.
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    // Reconnecting (alice consents again) makes everything work; the choice was kept.
    connect_as(&app, &seller, BRAND, "NA", "alice").await;
    let na = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(na["status"], "connected");
    assert_eq!(na["last_error"], Value::Null);
    assert_eq!(na["advertiser_id"], adv.as_str());
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(carries_advertiser(r.body["url"].as_str().unwrap(), &adv));
    assert_eq!(metric(&app, "connected").await, Some(1.0));

    // A second breakage is a second e-mail.
    revoke(&app, "alice").await;
    must_reconnect(
        &app.get("/sellers/brands/northwind/amazon/NA/profiles", &seller)
            .await,
    );
    mail.wait(SELLER, 2).await;
}

fn days_ago(n: i64) -> Date {
    time::OffsetDateTime::now_utc().date() - time::Duration::days(n)
}

async fn clicks_on(app: &TestApp, token: &str, day: Date) -> i64 {
    let q = format!("start={d}&end={d}", d = format_iso(day));
    let r = app.get(&format!("/reports?{q}&limit=500"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["clicks"].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn ingestion_skips_a_brand_that_must_reconnect_and_back_fills_after_reconnecting() {
    let app = app_with(&["--ingest-interval-secs", "0"]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let adv = connect_and_choose(&app, &seller, BRAND, "NA", "alice", "US").await;
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let url = r.body["url"].as_str().unwrap().to_owned();
    assert!(carries_advertiser(&url, &adv));
    app.sim().record_visit(&url, Some(days_ago(1)), 5).unwrap();

    // Read with the brand's own authorisation: its clicks arrive.
    let first = ingest(&app, None).await;
    let s = &first;
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    assert_eq!(clicks_on(&app, &creator, days_ago(1)).await, 5);
    assert!(region_of(&app, &seller, BRAND, "NA").await["last_ok_at"].is_string());

    // Revoked: the next run finds out and marks it, the one after skips it.
    revoke(&app, "alice").await;
    let s = ingest(&app, None).await;
    assert_eq!(s.broken, vec!["northwind NA".to_owned()], "{s:?}");
    assert_eq!(
        region_of(&app, &seller, BRAND, "NA").await["status"],
        "reconnect_needed"
    );
    // Clicks from long ago come in while it is broken (beyond the 28 days a normal run
    // re-reads), and recent ones too.
    app.sim().record_visit(&url, Some(days_ago(45)), 7).unwrap();
    app.sim().record_visit(&url, Some(days_ago(2)), 3).unwrap();
    let s = ingest(&app, None).await;
    assert_eq!(s.skipped, vec!["northwind NA".to_owned()], "{s:?}");
    assert!(s.broken.is_empty());
    assert_eq!(
        s.advertisers,
        first.advertisers - 1,
        "nothing was asked of Amazon for it (only the brand's EU ids, set by an operator)"
    );
    assert_eq!(clicks_on(&app, &creator, days_ago(2)).await, 0);

    // Reconnected: the next run reads the whole 90-day window again.
    connect_as(&app, &seller, BRAND, "NA", "alice").await;
    let s = ingest(&app, None).await;
    assert!(s.failures.is_empty() && s.skipped.is_empty(), "{s:?}");
    assert_eq!(clicks_on(&app, &creator, days_ago(2)).await, 3);
    assert_eq!(
        clicks_on(&app, &creator, days_ago(45)).await,
        7,
        "the days missed while disconnected are back-filled"
    );
    // And afterwards runs are the normal 28-day re-read again.
    app.sim()
        .record_visit(&url, Some(days_ago(60)), 11)
        .unwrap();
    let s = ingest(&app, None).await;
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!(clicks_on(&app, &creator, days_ago(60)).await, 0);
}
