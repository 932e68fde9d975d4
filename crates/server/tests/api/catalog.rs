//! `GET /getproducts`, `GET /get_single_product`, `GET /brands`, `GET /check_product`.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

const MARKETPLACES: [(&str, &str, &str); 9] = [
    ("amazon.com", "US", "USD"),
    ("amazon.ca", "CA", "CAD"),
    ("amazon.com.mx", "MX", "MXN"),
    ("amazon.co.uk", "UK", "GBP"),
    ("amazon.de", "DE", "EUR"),
    ("amazon.fr", "FR", "EUR"),
    ("amazon.it", "IT", "EUR"),
    ("amazon.es", "ES", "EUR"),
    ("amazon.nl", "NL", "EUR"),
];

fn products(r: &Reply) -> &Vec<Value> {
    r.body["product_catalog"].as_array().unwrap()
}

#[tokio::test]
async fn products_default_to_amazon_com_and_cover_every_marketplace() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app.get("/getproducts", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        products(&r)
            .iter()
            .all(|p| p["marketplace"] == "amazon.com")
    );
    assert_eq!(r.body["limit"], 100);
    assert_eq!(r.body["skip"], 0);

    let all = app
        .get(
            "/getproducts?marketplace=all&product_available=either&limit=500",
            &t,
        )
        .await;
    assert!(all.body["total_count"].as_i64().unwrap() >= 60);
    for (m, cc, currency) in MARKETPLACES {
        for query in [
            format!("marketplace={}", m.to_uppercase()),
            format!("marketplace=www.{m}"),
            format!("country_code={cc}"),
        ] {
            let r = app.get(&format!("/getproducts?{query}"), &t).await;
            assert_eq!(r.status, StatusCode::OK, "{query}");
            let list = products(&r);
            assert!(!list.is_empty(), "{query}");
            for p in list {
                assert_eq!(p["marketplace"], m);
                assert_eq!(p["country_code"], cc);
                assert_eq!(p["pricing"]["currency"], currency);
            }
            // The open brand is promotable everywhere.
            assert!(
                list.iter()
                    .any(|p| p["brand_id"] == "northwind" && p["can_promote"] == true)
            );
        }
    }
    let gb = app.get("/getproducts?country_code=gb", &t).await;
    assert_eq!(products(&gb)[0]["marketplace"], "amazon.co.uk");
}

#[tokio::test]
async fn unsupported_marketplace_and_bad_parameters() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app.get("/getproducts?marketplace=amazon.co.jp", &t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "unsupported_marketplace");
    assert!(
        r.body["detail"].as_str().unwrap().starts_with(
            "Unsupported marketplace 'amazon.co.jp'. Supported: amazon.com, amazon.ca"
        )
    );
    assert_eq!(
        app.get("/getproducts?country_code=JP", &t).await.status,
        StatusCode::BAD_REQUEST
    );
    for q in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "skip=-1",
        "page=0",
        "product_available=maybe",
        "cursor=garbage",
    ] {
        let r = app.get(&format!("/getproducts?{q}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!(r.body["detail"][0]["loc"][0], "query", "{q}");
    }
}

#[tokio::test]
async fn paging_by_skip_page_and_cursor_reaches_the_end_without_repeats() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let total = app.get("/getproducts?marketplace=all", &t).await.body["total_count"]
        .as_i64()
        .unwrap();

    let key = |p: &Value| format!("{}/{}", p["asin"], p["marketplace"]);
    // Cursor paging.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/getproducts?marketplace=all&limit=7&cursor={c}"),
            None => "/getproducts?marketplace=all&limit=7".to_owned(),
        };
        let r = app.get(&path, &t).await;
        assert_eq!(r.body["total_count"].as_i64().unwrap(), total);
        seen.extend(products(&r).iter().map(key));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());

    // Page numbers give the same order.
    let mut by_page = Vec::new();
    for page in 1.. {
        let r = app
            .get(
                &format!("/getproducts?marketplace=all&limit=7&page={page}"),
                &t,
            )
            .await;
        let list = products(&r);
        if list.is_empty() {
            break;
        }
        by_page.extend(list.iter().map(key));
    }
    assert_eq!(by_page, seen);
    let past = app.get("/getproducts?marketplace=all&skip=10000", &t).await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(past.body["fetched_count"], 0);
    assert!(past.body["next_cursor"].is_null());
}

#[tokio::test]
async fn search_brand_and_availability_filters() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app
        .get("/getproducts?search=BACKPACK&marketplace=all", &t)
        .await;
    assert_eq!(r.body["total_count"], 9);
    let r = app.get("/getproducts?search=peak%20audio", &t).await;
    assert!(products(&r).iter().all(|p| p["brand_id"] == "peak-audio"));
    let r = app.get("/getproducts?search=b0d45ks7qm", &t).await;
    assert_eq!(r.body["total_count"], 1);
    let r = app.get("/getproducts?search=%25", &t).await;
    assert_eq!(r.body["total_count"], 0, "LIKE wildcards match literally");
    let r = app
        .get("/getproducts?brand_id=lumen-home&marketplace=all", &t)
        .await;
    assert_eq!(r.body["total_count"], 15);
    assert!(products(&r).iter().all(|p| p["can_promote"] == false));

    let unavailable = app.get("/getproducts?product_available=no", &t).await;
    assert_eq!(unavailable.body["total_count"], 1);
    let p = &products(&unavailable)[0];
    assert_eq!(p["product_status"], "UNAVAILABLE");
    assert_eq!(p["inStock"], false);
    assert!(p["status_reason"].is_string());
    let either = app
        .get("/getproducts?product_available=either", &t)
        .await
        .body["total_count"]
        .as_i64()
        .unwrap();
    let yes = app.get("/getproducts", &t).await.body["total_count"]
        .as_i64()
        .unwrap();
    assert_eq!(either, yes + 1);

    // creator2 has a grant for the approval-mode brand.
    let t2 = app.token(CREATOR2).await;
    let r = app.get("/getproducts?brand_id=lumen-home", &t2).await;
    assert!(products(&r).iter().all(|p| p["can_promote"] == true));
}

#[tokio::test]
async fn product_object_has_current_and_legacy_names() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app
        .get(
            "/get_single_product?asin=b0d45ks7qm&marketplace=amazon.de",
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let p = &r.body;
    assert_eq!(p["asin"], "B0D45KS7QM");
    assert_eq!(p["ASIN"], "B0D45KS7QM");
    assert_eq!(p["title"], p["product_name"]);
    assert_eq!(p["marketplace"], "amazon.de");
    assert_eq!(p["country_code"], "DE");
    assert_eq!(p["pricing"]["currency"], "EUR");
    let price = p["pricing"]["price"].as_f64().unwrap();
    assert_eq!(p["price"].as_str().unwrap().parse::<f64>().unwrap(), price);
    assert_eq!(p["commission"], 12.0);
    assert_eq!(p["commission_payout_aff"], "12%");
    assert_eq!(p["image"], p["image_encoded_string"]);
    assert_eq!(
        p["rating"].as_f64().unwrap(),
        p["avg_rating"].as_str().unwrap().parse::<f64>().unwrap()
    );
    assert_eq!(
        p["ratingsTotal"].as_i64().unwrap().to_string(),
        p["total_reviews"].as_str().unwrap()
    );
    assert_eq!(p["inStock"], true);
    assert_eq!(p["product_status"], "AVAILABLE");
    assert!(p["status_reason"].is_null());
    assert_eq!(p["product_url"], "https://www.amazon.de/dp/B0D45KS7QM");
    assert_eq!(p["brand_id"], "northwind");
    assert_eq!(p["company_name"], "Northwind Outdoor");
    assert!(p["company_logo"].is_string());
    assert!(p["sub_category"].is_array());
    assert!(p.as_object().unwrap().contains_key("is_variant_of"));
    assert!(p.as_object().unwrap().contains_key("collection_name"));
    assert!(p["deal"].is_null());
    assert_eq!(p["can_promote"], true);

    let deal = app.get("/get_single_product?asin=B0NWTENT02", &t).await;
    assert_eq!(deal.body["deal"]["final_discount_%"], "20");
    assert!(deal.body["deal"]["sale_price"].is_string());
    let over = app.get("/get_single_product?asin=B0PKBUDS01", &t).await;
    assert_eq!(
        over.body["commission"], 12.5,
        "the product override beats the brand default"
    );
    assert_eq!(over.body["commission_payout_aff"], "12.5%");
}

#[tokio::test]
async fn single_product_errors() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app
        .get(
            "/get_single_product?asin=B0D45KS7QM&marketplace=amazon.nl",
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Lumen Home is not sold on amazon.it.
    let r = app
        .get(
            "/get_single_product?asin=B0LMDESK01&marketplace=amazon.it",
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "product_not_found");
    assert_eq!(
        r.body["detail"],
        "Product not found: ASIN B0LMDESK01 is not in the catalog for amazon.it"
    );
    let r = app.get("/get_single_product?asin=B0PKHDPH03", &t).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "unavailable products are filtered by default"
    );
    let r = app
        .get(
            "/get_single_product?asin=B0PKHDPH03&product_available=either",
            &t,
        )
        .await;
    assert_eq!(r.body["product_status"], "UNAVAILABLE");
    let r = app.get("/get_single_product?asin=B0D45KS7Q!", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "invalid_asin");
    assert_eq!(
        r.body["detail"],
        "Invalid ASIN 'B0D45KS7Q!': expected 10 letters or digits"
    );
    let r = app.get("/get_single_product", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["detail"][0]["loc"],
        serde_json::json!(["query", "asin"])
    );
    let r = app
        .get(
            "/get_single_product?asin=B0D45KS7QM&marketplace=amazon.jp",
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn legacy_brands_and_check_product() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app.get("/brands", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    // Three demo brands with platform ids, and the one that connects its own (#18).
    assert_eq!(r.body["total_count"], 4);
    let brands = r.body["brands"].as_array().unwrap();
    let lumen = brands
        .iter()
        .find(|b| b["brand_id"] == "lumen-home")
        .unwrap();
    assert_eq!(lumen["program_mode"], "approval");
    assert_eq!(lumen["can_promote"], false);
    assert_eq!(lumen["default_commission"], 15.0);
    assert_eq!(
        app.get("/brands?search=north", &t).await.body["total_count"],
        1
    );
    assert_eq!(
        app.get("/brands?brand_id=peak-audio", &t).await.body["total_count"],
        1
    );

    let ok = app.get("/check_product?asin=B0D45KS7QM", &t).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["success"], "ASIN passed all checks");
    for asin in ["B0LMDESK01", "B0PKHDPH03", "B0NOTTHERE"] {
        let r = app.get(&format!("/check_product?asin={asin}"), &t).await;
        assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{asin}");
        assert_eq!(r.code(), "not_available");
    }
}
