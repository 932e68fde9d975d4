//! Link creation (every check of spec §4 in order), listing, lookup, pause and rename.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const ALL: [&str; 9] = [
    "amazon.com",
    "amazon.ca",
    "amazon.com.mx",
    "amazon.co.uk",
    "amazon.de",
    "amazon.fr",
    "amazon.it",
    "amazon.es",
    "amazon.nl",
];

fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
}

#[tokio::test]
async fn creates_a_link_in_every_marketplace() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let mut ad_groups = HashSet::new();
    for m in ALL {
        let r = app.create_link(&t, "b0d45ks7qm", m).await;
        assert_eq!(r.status, StatusCode::CREATED, "{m}: {:?}", r.body);
        let l = &r.body;
        assert_eq!(l["marketplace"], m);
        assert_eq!(l["asin"], "B0D45KS7QM");
        assert_eq!(
            l["link_name"], "B0D45KS7QM",
            "the name defaults to the ASIN"
        );
        assert_eq!(l["type"], "product");
        assert_eq!(l["active"], true);
        assert_eq!(l["brand_id"], "northwind");
        assert_eq!(l["product_name"], "Northwind Trail Backpack 30L");
        assert_eq!(l["url"], l["attribution_link"]);
        assert!(l["created_date_time"].as_str().unwrap().ends_with('Z'));
        let url = l["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("https://www.{m}/dp/B0D45KS7QM?maas=maas_adg_api_")),
            "{url}"
        );
        assert_eq!(query_param(url, "ref_"), Some("aa_maas"));
        assert_eq!(query_param(url, "tag"), Some("maas"));
        assert_eq!(query_param(url, "aa_campaignid"), Some("aff_demo_creator"));
        assert!(
            !url.contains("insert"),
            "every placeholder is filled: {url}"
        );
        assert!(
            ad_groups.insert(query_param(url, "aa_adgroupid").unwrap().to_owned()),
            "ad group ids are unique"
        );
        assert_eq!(
            r.header("location"),
            Some(format!("/links/{}", l["id"].as_str().unwrap()).as_str())
        );
        let country = l["country_code"].as_str().unwrap();
        assert_eq!(country.len(), 2);
    }
    // The default marketplace is amazon.com.
    let r = app
        .post_json(
            "/generate_attribution_link",
            &t,
            json!({"asin": "B0D45KS7QM", "link_name": "  spring  "}),
        )
        .await;
    assert_eq!(r.body["marketplace"], "amazon.com");
    assert_eq!(r.body["link_name"], "spring");
}

#[tokio::test]
async fn validation_failures_in_spec_order() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let post = |body: Value| app.post_json("/generate_attribution_link", &t, body);

    let r = post(json!({"asin": "B0D45KS7"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "invalid_asin");
    let r = post(json!({"link_name": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "asin"]));
    let r = post(json!({"asin": 12})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for name in [json!(""), json!("   "), json!("x".repeat(201)), json!(7)] {
        let r = post(json!({"asin": "B0D45KS7QM", "link_name": name})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(r.body["detail"][0]["loc"], json!(["body", "link_name"]));
    }
    assert_eq!(
        post(json!({"asin": "B0D45KS7QM", "link_name": "é".repeat(200)}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        post(json!({"asin": "B0D45KS7QM", "link_name": null}))
            .await
            .body["link_name"],
        "B0D45KS7QM"
    );
    // A malformed ASIN is reported before an unsupported marketplace.
    let r = post(json!({"asin": "bad", "marketplace": "amazon.jp"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(json!({"asin": "B0D45KS7QM", "marketplace": "amazon.jp"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "unsupported_marketplace");
    let r = post(json!({"asin": "B0D45KS7QM", "geo": "US"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"detail": "geo has been replaced with marketplace", "code": "geo_retired"})
    );
    // Unknown fields are ignored.
    assert_eq!(
        post(json!({"asin": "B0D45KS7QM", "color": "red"}))
            .await
            .status,
        StatusCode::CREATED
    );

    let raw = app
        .send(Method::POST, "/generate_attribution_link", Some(&t), |r| {
            r.header("content-type", "application/json")
                .body("{not json")
        })
        .await;
    assert_eq!(raw.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(raw.body["detail"][0]["type"], "json_invalid");
    let arr = post(json!(["B0D45KS7QM"])).await;
    assert_eq!(arr.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_product_and_access_checks() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app.create_link(&t, "B0NOTTHERE", "amazon.com").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "product_not_found");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Product not found")
    );
    // On the catalog, but not for that marketplace.
    let r = app.create_link(&t, "B0PKBUDS01", "amazon.de").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Approval-mode brand without a grant: 403; the product check comes first.
    let r = app.create_link(&t, "B0LMDESK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "brand_access_denied");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Not allowed to promote this product")
    );
    assert_eq!(
        app.create_link(&t, "B0LMDESK01", "amazon.it").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.link_count(CREATOR).await, 0);

    // creator2 has a grant; once revoked, new links are refused and old ones stay.
    let t2 = app.token(CREATOR2).await;
    let r = app.create_link(&t2, "B0LMDESK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED);
    let creator2 = app.account_id(CREATOR2).await;
    assert!(matches!(
        app.running
            .state
            .db
            .operator_set_access(
                "lumen-home",
                &creator2,
                false,
                0,
                &quiver::objects::grant::data
            )
            .await
            .unwrap(),
        quiver::store::sellers::Change::Changed(_)
    ));
    let r = app.create_link(&t2, "B0LMDESK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/get_all_links", &t2).await.body["total_count"], 1);

    // An unavailable product can still be linked.
    let r = app.create_link(&t, "B0PKHDPH03", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn idempotency_keys_replay_and_guard() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let send = |key: &'static str, body: Value| {
        let t = t.clone();
        let app = &app;
        async move {
            app.send(Method::POST, "/generate_attribution_link", Some(&t), |r| {
                r.header("Idempotency-Key", key).json(&body)
            })
            .await
        }
    };
    let body = json!({"asin": "B0D45KS7QM", "marketplace": "amazon.fr", "link_name": "promo"});
    let first = send("k1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Same meaning, different spelling: still the same request.
    let again = send(
        "k1",
        json!({"asin": "b0d45ks7qm", "marketplace": "AMAZON.FR", "link_name": " promo "}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(app.link_count(CREATOR).await, 1);

    let other = send(
        "k1",
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.code(), "idempotency_key_reused");
    // Keys belong to the account: another creator may use the same key.
    let t2 = app.token(CREATOR2).await;
    let r = app
        .send(Method::POST, "/generate_attribution_link", Some(&t2), |r| {
            r.header("Idempotency-Key", "k1").json(&body)
        })
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_ne!(r.body["id"], first.body["id"]);

    // Without a key every call creates a new link.
    app.create_link(&t, "B0D45KS7QM", "amazon.fr").await;
    app.create_link(&t, "B0D45KS7QM", "amazon.fr").await;
    assert_eq!(app.link_count(CREATOR).await, 3);

    // Concurrent retries with one key create one link.
    let tasks: Vec<_> = (0..8)
        .map(|_| send("race", json!({"asin": "B0NWBOTL03"})))
        .collect();
    let replies = futures::future::join_all(tasks).await;
    let ids: HashSet<_> = replies.iter().map(|r| r.body["id"].to_string()).collect();
    assert!(replies.iter().all(|r| r.status == StatusCode::CREATED));
    assert_eq!(ids.len(), 1);
    assert_eq!(app.link_count(CREATOR).await, 4);
}

#[tokio::test]
async fn listing_pages_filters_and_isolation() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let mut created = Vec::new();
    for i in 0..12 {
        let m = if i % 3 == 0 {
            "amazon.de"
        } else {
            "amazon.com"
        };
        let asin = if i % 2 == 0 {
            "B0D45KS7QM"
        } else {
            "B0NWBOTL03"
        };
        let r = app
            .post_json(
                "/generate_attribution_link",
                &t,
                json!({"asin": asin, "marketplace": m, "link_name": format!("Video {i}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        created.push(r.body);
    }
    // Default: amazon.com only, newest first.
    let r = app.get("/get_all_links", &t).await;
    assert_eq!(r.body["total_count"], 8);
    let list = r.body["all_links"].as_array().unwrap();
    assert!(list.iter().all(|l| l["marketplace"] == "amazon.com"));
    assert_eq!(list[0]["link_name"], "Video 11");

    let all = app.get("/get_all_links?marketplace=all", &t).await;
    assert_eq!(all.body["total_count"], 12);
    assert_eq!(
        app.get("/get_all_links?marketplace=amazon.de", &t)
            .await
            .body["total_count"],
        4
    );
    assert_eq!(
        app.get("/get_all_links?marketplace=all&link_name=VIDEO%201", &t)
            .await
            .body["total_count"],
        3
    );
    assert_eq!(
        app.get("/get_all_links?marketplace=all&asin=b0nwbotl03", &t)
            .await
            .body["total_count"],
        6
    );

    // Pages and cursors.
    let p2 = app
        .get("/get_all_links?marketplace=all&limit=5&page=2", &t)
        .await;
    assert_eq!(
        p2.body["pagination_info"],
        json!({"current_page": 2, "total_pages": 3, "items_start": 6, "items_end": 10, "total_items": 12})
    );
    let past = app
        .get("/get_all_links?marketplace=all&limit=5&page=9", &t)
        .await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(past.body["fetched_count"], 0);
    assert!(past.body["all_links"].as_array().unwrap().is_empty());

    let mut ids = Vec::new();
    let mut path = "/get_all_links?marketplace=all&limit=5".to_owned();
    loop {
        let r = app.get(&path, &t).await;
        ids.extend(
            r.body["all_links"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/get_all_links?marketplace=all&limit=5&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = created
        .iter()
        .rev()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, expected);

    for q in [
        "limit=0",
        "limit=501",
        "page=0",
        "active=maybe",
        "cursor=%%%",
    ] {
        assert_eq!(
            app.get(&format!("/get_all_links?{q}"), &t).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}"
        );
    }
    assert_eq!(
        app.get("/get_all_links?marketplace=amazon.jp", &t)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Another publisher sees none of them, and gets 404 on their ids.
    let other = app.new_publisher("someone@example.com").await;
    assert_eq!(
        app.get("/get_all_links?marketplace=all", &other).await.body["total_count"],
        0
    );
    let id = created[0]["id"].as_str().unwrap();
    let r = app.get(&format!("/links/{id}"), &other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
    let r = app
        .patch_json(&format!("/links/{id}"), &other, json!({"active": false}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/links/{id}"), &t).await.body["active"],
        true
    );
    assert_eq!(
        app.get("/get_single_link?asin=B0D45KS7QM", &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pause_resume_rename_and_legacy_lookups() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let link = app.create_link(&t, "B0D45KS7QM", "amazon.com").await.body;
    let id = link["id"].as_str().unwrap();
    let path = format!("/links/{id}");

    assert_eq!(app.get(&path, &t).await.body, link);
    let r = app.patch_json(&path, &t, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["active"], false);
    assert_eq!(
        app.get("/get_all_links?active=false", &t).await.body["total_count"],
        1
    );
    assert_eq!(
        app.get("/get_all_links?active=true", &t).await.body["total_count"],
        0
    );
    let r = app
        .patch_json(&path, &t, json!({"active": true, "link_name": "renamed"}))
        .await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["link_name"], "renamed");
    assert_eq!(r.body["url"], link["url"], "the URL never changes");

    for bad in [
        json!({}),
        json!({"active": "no"}),
        json!({"link_name": ""}),
        json!({"link_name": 5}),
    ] {
        assert_eq!(
            app.patch_json(&path, &t, bad.clone()).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    assert_eq!(
        app.get("/links/not-a-link", &t).await.status,
        StatusCode::NOT_FOUND
    );

    let newest = app.create_link(&t, "B0D45KS7QM", "amazon.de").await.body;
    let r = app.get("/get_single_link?asin=b0d45ks7qm", &t).await;
    assert_eq!(r.body["id"], newest["id"]);
    assert_eq!(
        app.get("/get_single_link?asin=B0NWBOTL03", &t).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/get_single_link?asin=bad", &t).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/get_affiliateID", &t).await.body,
        json!({"affiliate_id": "aff_demo_creator"})
    );
}

#[tokio::test]
async fn oversized_bodies_and_unknown_paths() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let big = "x".repeat(2 * 1024 * 1024 + 10);
    let r = app
        .send(Method::POST, "/generate_attribution_link", Some(&t), |r| {
            r.header("content-type", "application/json")
                .body(format!("{{\"asin\":\"{big}\"}}"))
        })
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "payload_too_large");
    assert_eq!(app.link_count(CREATOR).await, 0);

    let r = app.get("/no/such/path", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({"detail": "Not Found", "code": "not_found"}));
    let health = app.send(Method::GET, "/healthz", None, |r| r).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = app.send(Method::GET, "/readyz", None, |r| r).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(health.header("x-request-id").is_some());
}

#[tokio::test]
async fn a_brand_without_an_amazon_account_in_the_region_is_a_409() {
    let app = TestApp::spawn().await;
    let db = &app.running.state.db;
    let seller = app.account_id(SELLER).await;
    db.insert_brand(&quiver::store::catalog::NewBrand {
        id: "unplugged",
        owner_account_id: &seller,
        name: "Unplugged",
        company_name: "Unplugged",
        logo_url: "",
        program_mode: quiver_domain::ProgramMode::Open,
        default_commission_bps: 1000,
        created_at: 0,
    })
    .await
    .unwrap();
    db.set_brand_amazon_account("unplugged", quiver_domain::Region::Na, "1", "2")
        .await
        .unwrap();
    for m in [
        quiver_domain::Marketplace::Us,
        quiver_domain::Marketplace::De,
    ] {
        let product = quiver::store::catalog::NewProduct {
            asin: "B0UNPLUG01".into(),
            marketplace: m,
            brand_id: "unplugged".into(),
            title: "Unplugged thing".into(),
            price_minor: 1000,
            available: true,
            status_reason: None,
            image_url: String::new(),
            rating_centi: 0,
            ratings_total: 0,
            category: String::new(),
            sub_categories: vec![],
            is_variant_of: None,
            collection_name: None,
            commission_bps: None,
            deal: None,
        };
        db.upsert_product(&product, 0).await.unwrap();
    }
    let t = app.token(CREATOR).await;
    assert_eq!(
        app.create_link(&t, "B0UNPLUG01", "amazon.com").await.status,
        StatusCode::CREATED
    );
    let r = app.create_link(&t, "B0UNPLUG01", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "brand_not_connected");
    assert_eq!(app.link_count(CREATOR).await, 1);
}

#[tokio::test]
async fn a_stored_marketplace_outside_the_table_is_a_server_error_not_a_default() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app.create_link(&t, "B0D45KS7QM", "amazon.de").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let all = "/get_all_links?marketplace=all";
    assert_eq!(app.get(all, &t).await.body["total_count"], 1);

    app.execute_sql("UPDATE links SET marketplace = 'amazon.jp'")
        .await;
    let r = app.get(all, &t).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{:?}", r.body);
    assert_eq!(r.code(), "internal_error");
}
