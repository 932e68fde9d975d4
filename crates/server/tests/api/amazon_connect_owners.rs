//! Whose connection it is (#18): disconnecting (new links refused, old links still
//! redirecting, operator ids applying again), and the second demo seller connecting its
//! brand from scratch while other sellers' brands stay out of reach.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::amazon_connect::{
    BRAND, app_with, carries_advertiser, connect_and_choose, region_of, stored_connections,
};
use crate::support::*;

#[tokio::test]
async fn disconnecting_stops_new_links_but_old_short_links_keep_redirecting() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let adv = connect_and_choose(&app, &seller, BRAND, "NA", "alice", "US").await;
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let url = r.body["url"].as_str().unwrap().to_owned();
    assert!(carries_advertiser(&url, &adv));
    let short = r.body["short_url"].as_str().unwrap().to_owned();

    let r = app
        .send(
            Method::DELETE,
            "/sellers/brands/northwind/amazon/NA",
            Some(&seller),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(stored_connections(&app).await, 0, "the token is deleted");
    // The demo brand falls back to its operator-set ids (the platform's credentials).
    let na = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(
        (na["status"].clone(), na["via"].clone()),
        (json!("connected"), json!("platform"))
    );

    // A brand with no fallback: connect in FE... no FE marketplace exists, so use EU on a
    // brand whose operator ids are removed.
    app.execute_sql(
        "DELETE FROM brand_amazon_accounts WHERE brand_id = 'northwind' AND region = 'EU'",
    )
    .await;
    let adv_eu = connect_and_choose(&app, &seller, BRAND, "EU", "alice", "DE").await;
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(carries_advertiser(r.body["url"].as_str().unwrap(), &adv_eu));
    let eu_short = r.body["short_url"].as_str().unwrap().to_owned();
    let r = app
        .send(
            Method::DELETE,
            "/sellers/brands/northwind/amazon/EU",
            Some(&seller),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        region_of(&app, &seller, BRAND, "EU").await["status"],
        "not_connected"
    );
    let r = app.create_link(&creator, "B0NWTENT02", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "brand_not_connected");

    // Existing links still take shoppers to Amazon.
    for s in [short, eu_short] {
        let r = app.client.get(&s).send().await.unwrap();
        assert!(r.status().is_redirection(), "{s}: {}", r.status());
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.contains("maas=maas_adg_api_"), "{to}");
    }
    // Deleting again is fine.
    let r = app
        .send(
            Method::DELETE,
            "/sellers/brands/northwind/amazon/EU",
            Some(&seller),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_second_demo_seller_connects_its_brand_from_scratch_and_nobody_elses() {
    let app = app_with(&[]).await;
    let seller2 = app.token("brand2@example.com").await;
    let creator = app.token(CREATOR).await;
    let brands = app.get("/sellers/brands", &seller2).await;
    assert_eq!(brands.body["brands"][0]["brand_id"], "fjordline");
    assert_eq!(brands.body["brands"][0]["brand_name"], "Fjordline Outdoor");
    assert_eq!(brands.body["total_count"], 1);
    for region in ["NA", "EU", "FE"] {
        let r = region_of(&app, &seller2, "fjordline", region).await;
        assert_eq!(r["status"], "not_connected", "{r}");
    }
    // Not connected anywhere: creators cannot link it yet.
    let r = app.create_link(&creator, "B0FJPACK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "brand_not_connected");
    // ... and the catalog says so instead of offering a link that would fail.
    assert_eq!(fjordline_promotable(&app, &creator).await, [false, false]);
    let only = app
        .get("/getproducts?brand_id=fjordline&promotable=true", &creator)
        .await;
    assert_eq!(only.body["total_count"], 0, "{:?}", only.body);

    // Another seller's brand is answered like one that does not exist, everywhere.
    let r = app
        .get(
            "/sellers/amazon/connect?brand_id=northwind&region=NA",
            &seller2,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "brand_not_found")
    );
    for (method, path) in [
        (Method::GET, "/sellers/brands/northwind/amazon"),
        (Method::GET, "/sellers/brands/northwind/amazon/NA/profiles"),
        (Method::PUT, "/sellers/brands/northwind/amazon/NA"),
        (Method::DELETE, "/sellers/brands/northwind/amazon/NA"),
    ] {
        let r = app
            .send(method.clone(), path, Some(&seller2), |r| {
                r.json(&json!({"profile_id": "1", "advertiser_id": "2"}))
            })
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            r.body
        );
    }

    let adv = connect_and_choose(&app, &seller2, "fjordline", "NA", "bob", "US").await;
    assert_eq!(fjordline_promotable(&app, &creator).await, [true, true]);
    let r = app.create_link(&creator, "B0FJPACK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(carries_advertiser(r.body["url"].as_str().unwrap(), &adv));
    let r = app.create_link(&creator, "B0FJJACK02", "amazon.ca").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // The first seller's brands were not touched.
    let seller = app.token(SELLER).await;
    assert_eq!(
        region_of(&app, &seller, BRAND, "NA").await["via"],
        "platform"
    );
}

/// `can_promote` of Fjordline's products as the creator's catalog shows them, in the
/// catalog's order.
async fn fjordline_promotable(app: &TestApp, creator: &str) -> Vec<bool> {
    let r = app.get("/getproducts?brand_id=fjordline", creator).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["product_catalog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["can_promote"].as_bool().unwrap())
        .collect()
}
