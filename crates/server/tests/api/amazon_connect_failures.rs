//! The consent going wrong (#18): a denied consent, a bad, replayed or expired `state`, and
//! a reused or expired code each end on a page (or in the app) saying so, with nothing
//! stored.

use reqwest::{Method, StatusCode};
use url::Url;

use crate::amazon_connect::{
    BRAND, app_with, arrive, connect, decide, param, region_of, stored_connections,
};
use crate::support::*;

#[tokio::test]
async fn a_denied_consent_returns_to_the_app_and_stores_nothing() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let consent = connect(&app, &seller, BRAND, "FE").await;
    let back = decide(&app, &consent, "alice", "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    let (status, location, _) = arrive(&app, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.unwrap(),
        "/app#/amazon?brand_id=northwind&region=FE&error=access_denied"
    );
    assert_eq!(stored_connections(&app).await, 0);
    assert_eq!(
        region_of(&app, &seller, BRAND, "FE").await["status"],
        "not_connected"
    );
    // The state was used up by the refusal.
    let (status, _, body) = arrive(&app, &back).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not valid any more"), "{body}");
}

fn assert_clear_page(status: StatusCode, body: &str, status_wanted: StatusCode, words: &str) {
    assert_eq!(status, status_wanted, "{body}");
    assert!(body.contains("<h1>"), "{body}");
    assert!(body.contains(words), "{words}: {body}");
    assert!(
        body.contains("href=\"/app#/amazon\">Back to Quiver</a>"),
        "{body}"
    );
}

#[tokio::test]
async fn a_wrong_replayed_or_expired_state_is_a_clear_page_and_stores_nothing() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let callback =
        |query: &str| Url::parse(&format!("{}/sellers/amazon/callback?{query}", app.base)).unwrap();

    // No state, and a state Quiver never issued (even with a real code).
    let (s, _, body) = arrive(&app, &callback("code=abc")).await;
    assert_clear_page(s, &body, StatusCode::BAD_REQUEST, "incomplete");
    let consent = connect(&app, &seller, BRAND, "FE").await;
    let back = decide(&app, &consent, "alice", "allow").await;
    let code = param(&back, "code").unwrap();
    let forged = callback(&format!("code={code}&state=made-up-state"));
    let (s, _, body) = arrive(&app, &forged).await;
    assert_clear_page(s, &body, StatusCode::BAD_REQUEST, "not valid any more");
    assert_eq!(stored_connections(&app).await, 0);

    // Replayed: the first arrival connects, the second is refused.
    let (s, _, _) = arrive(&app, &back).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(stored_connections(&app).await, 1);
    let (s, _, body) = arrive(&app, &back).await;
    assert_clear_page(s, &body, StatusCode::BAD_REQUEST, "already used");
    app.send(
        Method::DELETE,
        "/sellers/brands/northwind/amazon/FE",
        Some(&seller),
        |r| r,
    )
    .await;
    assert_eq!(stored_connections(&app).await, 0);

    // Expired: ten minutes went by (moved behind the server's back) before the return.
    let consent = connect(&app, &seller, BRAND, "FE").await;
    let back = decide(&app, &consent, "alice", "allow").await;
    app.execute_sql("UPDATE amazon_connect_states SET expires_at = expires_at - 600001")
        .await;
    let (s, _, body) = arrive(&app, &back).await;
    assert_clear_page(s, &body, StatusCode::BAD_REQUEST, "took too long");
    assert_eq!(stored_connections(&app).await, 0);
    // And it is gone, not merely refused.
    let (s, _, body) = arrive(&app, &back).await;
    assert_clear_page(s, &body, StatusCode::BAD_REQUEST, "not valid any more");
}

#[tokio::test]
async fn a_reused_or_expired_code_is_a_clear_page_and_stores_nothing() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    // Reused: the code is redeemed once (through a first consent), then sent again with a
    // fresh state, as an attacker replaying a captured code would.
    let consent = connect(&app, &seller, BRAND, "FE").await;
    let back = decide(&app, &consent, "alice", "allow").await;
    let code = param(&back, "code").unwrap();
    assert_eq!(arrive(&app, &back).await.0, StatusCode::SEE_OTHER);
    app.send(
        Method::DELETE,
        "/sellers/brands/northwind/amazon/FE",
        Some(&seller),
        |r| r,
    )
    .await;
    let fresh = connect(&app, &seller, BRAND, "FE").await;
    let state = param(&fresh, "state").unwrap();
    let reuse = Url::parse(&format!(
        "{}/sellers/amazon/callback?code={code}&state={state}",
        app.base
    ))
    .unwrap();
    let (s, _, body) = arrive(&app, &reuse).await;
    assert_clear_page(
        s,
        &body,
        StatusCode::BAD_REQUEST,
        "already used or has expired",
    );
    assert_eq!(stored_connections(&app).await, 0);

    // Expired: the simulator ages every code past its 5 minutes.
    let consent = connect(&app, &seller, BRAND, "FE").await;
    let back = decide(&app, &consent, "bob", "allow").await;
    let r = app
        .client
        .post(format!("{}/_sim/oauth/expire-codes", app.sim().base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, _, body) = arrive(&app, &back).await;
    assert_clear_page(s, &body, StatusCode::BAD_REQUEST, "Amazon did not accept");
    assert_eq!(stored_connections(&app).await, 0);
    assert_eq!(
        region_of(&app, &seller, BRAND, "FE").await["status"],
        "not_connected"
    );
}
