//! Bounded inputs: a list or a text over its limit is a 422 naming the field and the
//! limit, on both engines, where it used to reach the database (SQLite's bind-variable and
//! LIKE-pattern limits made those 500s) and cost time on either.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const DAYS: &str = "start=2026-01-01&end=2026-01-31";
const LEGACY_DAYS: &str = "start_date=20260101&end_date=20260131";

/// A 422 whose first item is at `loc` and says the limit.
fn assert_limited(r: &Reply, loc: [&str; 2], limit: usize, what: &str) {
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {:?}",
        r.body
    );
    let item = &r.body["detail"][0];
    assert_eq!(item["loc"], json!(loc), "{what}: {:?}", r.body);
    let msg = item["msg"].as_str().unwrap_or_default();
    assert!(msg.contains(&format!("at most {limit} ")), "{what}: {msg}");
    let kind = item["type"].as_str().unwrap_or_default();
    assert!(
        kind == "too_long" || kind == "string_too_long",
        "{what}: {kind}"
    );
}

fn values(n: usize, make: impl Fn(usize) -> String) -> String {
    (0..n).map(make).collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn long_lists_are_refused_naming_the_field_and_the_limit() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    // One-letter ids keep the query string under the 64 KiB a URI may have.
    let ids = values(16_001, |i| char::from(b'a' + (i % 26) as u8).to_string());
    let asins = values(501, |i| format!("B{i:09}"));

    for field in ["link_ids", "brand_ids"] {
        let r = app
            .get(&format!("/reports?{DAYS}&{field}={ids}"), &creator)
            .await;
        assert_limited(&r, ["query", field], 500, field);
    }
    let r = app
        .get(&format!("/reports?{DAYS}&asins={asins}"), &creator)
        .await;
    assert_limited(&r, ["query", "asins"], 500, "/reports asins");
    for field in ["link_ids", "brand_ids", "creators"] {
        let r = app
            .get(&format!("/sellers/reports?{DAYS}&{field}={ids}"), &seller)
            .await;
        assert_limited(&r, ["query", field], 500, field);
    }
    let r = app
        .get(&format!("/sellers/products?brand_ids={ids}"), &seller)
        .await;
    assert_limited(
        &r,
        ["query", "brand_ids"],
        100,
        "/sellers/products brand_ids",
    );
    let r = app
        .get(&format!("/sellers/products?asins={asins}"), &seller)
        .await;
    assert_limited(&r, ["query", "asins"], 500, "/sellers/products asins");
    let r = app
        .get(
            &format!("/product_reports_all?{LEGACY_DAYS}&asin={asins}"),
            &creator,
        )
        .await;
    assert_limited(&r, ["query", "asin"], 500, "/product_reports_all");
    let r = app
        .get(
            &format!("/insights?{LEGACY_DAYS}&productAsin={asins}"),
            &creator,
        )
        .await;
    assert_limited(&r, ["query", "productAsin"], 500, "/insights");

    // One value too long is refused like a long text.
    let long_id = "x".repeat(201);
    let r = app
        .get(&format!("/reports?{DAYS}&link_ids=a,{long_id}"), &creator)
        .await;
    assert_limited(&r, ["query", "link_ids"], 200, "a long link id");

    // At the limits, lists are answered.
    let at_limit = values(500, |i| format!("l{i}"));
    for path in [
        format!("/reports?{DAYS}&link_ids={at_limit}&brand_ids={at_limit}"),
        format!(
            "/reports?{DAYS}&asins={}",
            values(500, |i| format!("B{i:09}"))
        ),
    ] {
        let r = app.get(&path, &creator).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["total_count"], 0);
    }
    let r = app
        .get(
            &format!("/sellers/reports?{DAYS}&creators={at_limit}"),
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn long_texts_are_refused_naming_the_field_and_the_limit() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    let long = "a".repeat(60_000);

    for (path, field) in [
        ("/getproducts?search=", "search"),
        ("/getproducts?brand_id=", "brand_id"),
        ("/brands?search=", "search"),
        ("/brands?brand_name=", "brand_name"),
        ("/brands?brand_id=", "brand_id"),
        ("/get_all_links?link_name=", "link_name"),
        ("/access_requests?brand_id=", "brand_id"),
        (
            "/insights?start_date=20260101&end_date=20260131&productCategory=",
            "productCategory",
        ),
        (
            "/insights?start_date=20260101&end_date=20260131&brand=",
            "brand",
        ),
    ] {
        let r = app.get(&format!("{path}{long}"), &creator).await;
        assert_limited(&r, ["query", field], 200, path);
    }
    for (path, field) in [
        ("/sellers/access_requests?brand_id=", "brand_id"),
        ("/sellers/audit?brand_id=", "brand_id"),
    ] {
        let r = app.get(&format!("{path}{long}"), &seller).await;
        assert_limited(&r, ["query", field], 200, path);
    }

    let r = app
        .post_json(
            "/single_link_data",
            &creator,
            json!({"link_name": long, "start_date": "20260101", "end_date": "20260131"}),
        )
        .await;
    assert_limited(&r, ["body", "link_name"], 200, "/single_link_data");
    let r = app
        .post_json("/access_requests", &creator, json!({"brand_id": long}))
        .await;
    assert_limited(
        &r,
        ["body", "brand_id"],
        200,
        "POST /access_requests brand_id",
    );
    let r = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "lumen-home", "message": "m".repeat(1001)}),
        )
        .await;
    assert_limited(
        &r,
        ["body", "message"],
        1000,
        "POST /access_requests message",
    );

    for (form, field, limit) in [
        (
            vec![("username", long.as_str()), ("password", PASSWORD)],
            "username",
            320,
        ),
        (
            vec![("username", CREATOR), ("password", long.as_str())],
            "password",
            1024,
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", long.as_str()),
            ],
            "refresh_token",
            1024,
        ),
    ] {
        let r = app.post_form("/token", &form).await;
        assert_limited(&r, ["body", field], limit, field);
    }
    let r = app.post_form("/token/revoke", &[("token", &long)]).await;
    assert_limited(&r, ["body", "token"], 1024, "/token/revoke");

    // At the limit, searches are answered (counted in characters, not bytes).
    let wide = "é".repeat(200);
    for path in [
        format!("/getproducts?search={wide}"),
        format!("/get_all_links?link_name={wide}"),
        format!("/brands?search={wide}"),
    ] {
        let r = app.get(&path, &creator).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        assert_eq!(r.body["total_count"], 0, "{path}");
    }
}
