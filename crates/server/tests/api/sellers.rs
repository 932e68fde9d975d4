//! The Seller API (spec §6): brands, products, commissions, grants, access requests and
//! the audit log, with the tenant boundaries between sellers and account kinds.

use quiver::store::catalog::{NewBrand, NewProduct};
use quiver_domain::{AccountKind, Bps, Marketplace, ProgramMode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const SELLER2: &str = "other-seller@example.com";

async fn put(app: &TestApp, path: &str, token: &str) -> Reply {
    app.send(Method::PUT, path, Some(token), |r| r).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Reply {
    app.send(Method::DELETE, path, Some(token), |r| r).await
}

fn list<'a>(r: &'a Reply, field: &str) -> &'a Vec<Value> {
    r.body[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} in {:?}", r.body))
}

fn ids(r: &Reply, field: &str, key: &str) -> Vec<String> {
    list(r, field)
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn tomorrow() -> time::Date {
    today().next_day().unwrap()
}

/// A second seller owning brand `acme` (approval mode, 10%) with one product on amazon.com.
async fn second_seller(app: &TestApp) -> String {
    let db = &app.running.state.db;
    let owner = quiver::accounts::create_account(
        db,
        SELLER2,
        PASSWORD,
        AccountKind::Seller,
        "Other Seller",
        Some("sel_other"),
    )
    .await
    .unwrap();
    db.insert_brand(&NewBrand {
        id: "acme",
        owner_account_id: &owner,
        name: "Acme Tools",
        company_name: "Acme Tools",
        logo_url: "https://assets.quiver.example/brands/acme.png",
        program_mode: ProgramMode::Approval,
        default_commission_bps: 1000,
        created_at: 1,
    })
    .await
    .unwrap();
    db.upsert_product(
        &NewProduct {
            asin: "B0ACMEDRL1".into(),
            marketplace: Marketplace::Us,
            brand_id: "acme".into(),
            title: "Acme Drill".into(),
            price_minor: 4999,
            available: true,
            status_reason: None,
            image_url: "https://assets.quiver.example/products/B0ACMEDRL1.jpg".into(),
            rating_centi: 450,
            ratings_total: 10,
            category: "Tools".into(),
            sub_categories: vec![],
            is_variant_of: None,
            collection_name: None,
            commission_bps: None,
            deal: None,
        },
        1,
    )
    .await
    .unwrap();
    app.token(SELLER2).await
}

async fn catalog_commission(app: &TestApp, token: &str, asin: &str, marketplace: &str) -> f64 {
    let r = app
        .get(
            &format!(
                "/get_single_product?asin={asin}&marketplace={marketplace}&product_available=either"
            ),
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["commission"].as_f64().unwrap()
}

#[tokio::test]
async fn brands_lists_only_the_sellers_own_with_cursor_paging() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let r = app.get("/sellers/brands", &seller).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["total_count"], 3);
    assert_eq!(r.body["fetched_count"], 3);
    assert_eq!(r.body["next_cursor"], Value::Null);
    assert_eq!(
        ids(&r, "brands", "brand_id"),
        ["lumen-home", "northwind", "peak-audio"]
    );
    let lumen = &list(&r, "brands")[0];
    assert_eq!(lumen["brand_name"], "Lumen Home");
    assert_eq!(lumen["program_mode"], "approval");
    assert_eq!(lumen["default_commission"], 15.0);
    assert!(lumen["logo"].as_str().unwrap().starts_with("https://"));

    let first = app.get("/sellers/brands?limit=2", &seller).await;
    assert_eq!(
        ids(&first, "brands", "brand_id"),
        ["lumen-home", "northwind"]
    );
    assert_eq!(first.body["total_count"], 3);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/sellers/brands?limit=2&cursor={cursor}"), &seller)
        .await;
    assert_eq!(ids(&second, "brands", "brand_id"), ["peak-audio"]);
    assert_eq!(second.body["next_cursor"], Value::Null);

    for bad in ["limit=0", "limit=501", "limit=x", "cursor=%%%not-a-cursor"] {
        let r = app.get(&format!("/sellers/brands?{bad}"), &seller).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(r.body["detail"][0]["loc"].is_array(), "{bad}: {:?}", r.body);
    }

    let other = second_seller(&app).await;
    let r = app.get("/sellers/brands", &other).await;
    assert_eq!(ids(&r, "brands", "brand_id"), ["acme"]);
    assert_eq!(r.body["total_count"], 1);
}

#[tokio::test]
async fn products_filter_by_marketplace_brand_and_asin_and_page_by_cursor() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let r = app.get("/sellers/products", &seller).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let products = list(&r, "products");
    assert_eq!(r.body["total_count"], 10, "10 products on amazon.com");
    assert!(products.iter().all(|p| p["marketplace"] == "amazon.com"));
    let backpack = products.iter().find(|p| p["asin"] == "B0D45KS7QM").unwrap();
    assert_eq!(backpack["brand_id"], "northwind");
    assert_eq!(backpack["brand_name"], "Northwind Outdoor");
    assert_eq!(backpack["title"], "Northwind Trail Backpack 30L");
    assert_eq!(backpack["price"], 89.99);
    assert_eq!(backpack["currency"], "USD");
    assert_eq!(backpack["commission"], 12.0);
    assert_eq!(backpack["commission_override"], Value::Null);
    assert_eq!(backpack["active"], true);
    let headphones = products.iter().find(|p| p["asin"] == "B0PKHDPH03").unwrap();
    assert_eq!(
        headphones["active"], false,
        "unavailable products are listed, inactive"
    );
    let earbuds = products.iter().find(|p| p["asin"] == "B0PKBUDS01").unwrap();
    assert_eq!(earbuds["commission"], 12.5);
    assert_eq!(earbuds["commission_override"], 12.5);

    let all = app
        .get("/sellers/products?marketplace=all&limit=500", &seller)
        .await;
    let total = all.body["total_count"].as_i64().unwrap();
    assert!(total >= 60, "{total}");
    assert_eq!(all.body["fetched_count"], total);

    // Cursor paging visits every product once, in the same order.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("/sellers/products?marketplace=all&limit=7&cursor={cursor}"),
                &seller,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["total_count"], total);
        for p in list(&r, "products") {
            paged.push(format!("{}/{}", p["asin"], p["marketplace"]));
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let whole: Vec<String> = list(&all, "products")
        .iter()
        .map(|p| format!("{}/{}", p["asin"], p["marketplace"]))
        .collect();
    assert_eq!(paged, whole);

    let r = app
        .get(
            "/sellers/products?marketplace=amazon.de&brand_ids=lumen-home,%20peak-audio",
            &seller,
        )
        .await;
    let brands: Vec<&str> = list(&r, "products")
        .iter()
        .map(|p| p["brand_id"].as_str().unwrap())
        .collect();
    assert!(!brands.is_empty());
    assert!(
        brands.iter().all(|b| *b == "lumen-home"),
        "peak-audio is not on amazon.de"
    );
    let de = &list(&r, "products")[0];
    assert_eq!(de["currency"], "EUR");
    assert_eq!(de["marketplace"], "amazon.de");

    let r = app
        .get(
            "/sellers/products?marketplace=all&asins=b0d45ks7qm,B0LMDESK01",
            &seller,
        )
        .await;
    assert_eq!(r.body["total_count"], 9 + 5);
    let r = app
        .get(
            "/sellers/products?asins=B0D45KS7QM&brand_ids=peak-audio",
            &seller,
        )
        .await;
    assert_eq!(r.body["total_count"], 0);

    let r = app.get("/sellers/products?asins=short", &seller).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "invalid_asin");
    let r = app
        .get("/sellers/products?marketplace=amazon.jp", &seller)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "unsupported_marketplace");
    let many = vec!["x"; 101].join(",");
    for bad in [
        "limit=0".to_owned(),
        "cursor=nope".to_owned(),
        format!("brand_ids={many}"),
    ] {
        let r = app.get(&format!("/sellers/products?{bad}"), &seller).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn brand_patch_validates_and_changes_the_catalog_at_once_and_history_from_tomorrow() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;

    let bad_bodies = [
        json!({}),
        json!({"program_mode": "closed"}),
        json!({"default_commission": 100.01}),
        json!({"default_commission": -1}),
        json!({"default_commission": 12.345}),
        json!({"default_commission": "12"}),
        json!({"program_mode": 3}),
    ];
    for body in bad_bodies {
        let r = app
            .patch_json("/sellers/brands/northwind", &seller, body.clone())
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            r.body["detail"][0]["loc"].is_array(),
            "{body}: {:?}",
            r.body
        );
    }
    let r = app
        .send(
            Method::PATCH,
            "/sellers/brands/northwind",
            Some(&seller),
            |r| {
                r.header("content-type", "application/json")
                    .body("{not json")
            },
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch_json(
            "/sellers/brands/no-such-brand",
            &seller,
            json!({"program_mode": "open"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "brand_not_found");

    assert_eq!(
        catalog_commission(&app, &creator, "B0NWTENT02", "amazon.com").await,
        12.0
    );
    let r = app
        .patch_json(
            "/sellers/brands/northwind",
            &seller,
            json!({"default_commission": 13.75, "program_mode": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["default_commission"], 13.75);
    assert_eq!(r.body["program_mode"], "open");
    assert_eq!(r.body["brand_id"], "northwind");

    // The catalog shows the new rate at once, everywhere the brand default applies.
    assert_eq!(
        catalog_commission(&app, &creator, "B0NWTENT02", "amazon.com").await,
        13.75
    );
    assert_eq!(
        catalog_commission(&app, &creator, "B0NWTENT02", "amazon.de").await,
        13.75
    );
    let listed = app.get("/getproducts?brand_id=northwind", &creator).await;
    assert!(
        list(&listed, "product_catalog")
            .iter()
            .all(|p| p["commission"] == 13.75)
    );
    let brands = app.get("/brands?brand_id=northwind", &creator).await;
    assert_eq!(list(&brands, "brands")[0]["default_commission"], 13.75);

    // Reports keep today's rate and use the new one from the next UTC day.
    let history = app
        .running
        .state
        .db
        .commission_history("northwind")
        .await
        .unwrap();
    assert_eq!(
        history.rate_on("B0NWTENT02", Marketplace::Us, today()),
        Bps(1200)
    );
    assert_eq!(
        history.rate_on("B0NWTENT02", Marketplace::Us, tomorrow()),
        Bps(1375)
    );

    // Switching to approval mode takes access away from ungranted creators at once.
    let r = app
        .patch_json(
            "/sellers/brands/northwind",
            &seller,
            json!({"program_mode": "approval"}),
        )
        .await;
    assert_eq!(r.body["program_mode"], "approval");
    assert_eq!(r.body["default_commission"], 13.75);
    let r = app.create_link(&creator, "B0NWTENT02", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "brand_access_denied");

    // A PATCH that changes nothing writes no audit entry.
    let before = app.get("/sellers/audit", &seller).await.body["total_count"].clone();
    let r = app
        .patch_json(
            "/sellers/brands/northwind",
            &seller,
            json!({"program_mode": "approval"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/sellers/audit", &seller).await.body["total_count"],
        before
    );
    assert_eq!(before, 2);
}

#[tokio::test]
async fn product_commission_override_is_set_and_cleared() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let path = "/sellers/products/amazon.co.uk/b0nwbotl03";

    let r = app
        .patch_json(path, &seller, json!({"commission": 20.5}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["asin"], "B0NWBOTL03");
    assert_eq!(r.body["marketplace"], "amazon.co.uk");
    assert_eq!(r.body["commission"], 20.5);
    assert_eq!(r.body["commission_override"], 20.5);
    assert_eq!(r.body["currency"], "GBP");
    assert_eq!(
        catalog_commission(&app, &creator, "B0NWBOTL03", "amazon.co.uk").await,
        20.5
    );
    // Only that marketplace's product changes.
    assert_eq!(
        catalog_commission(&app, &creator, "B0NWBOTL03", "amazon.com").await,
        12.0
    );

    let db = &app.running.state.db;
    let history = db.commission_history("northwind").await.unwrap();
    assert_eq!(
        history.rate_on("B0NWBOTL03", Marketplace::Uk, today()),
        Bps(1200)
    );
    assert_eq!(
        history.rate_on("B0NWBOTL03", Marketplace::Uk, tomorrow()),
        Bps(2050)
    );
    assert_eq!(
        history.rate_on("B0NWBOTL03", Marketplace::Us, tomorrow()),
        Bps(1200)
    );

    let r = app
        .patch_json(path, &seller, json!({"commission": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["commission"], 12.0);
    assert_eq!(r.body["commission_override"], Value::Null);
    assert_eq!(
        catalog_commission(&app, &creator, "B0NWBOTL03", "amazon.co.uk").await,
        12.0
    );
    let history = db.commission_history("northwind").await.unwrap();
    assert_eq!(
        history.rate_on("B0NWBOTL03", Marketplace::Uk, tomorrow()),
        Bps(1200),
        "cleared from tomorrow"
    );

    // Zero and one hundred are both valid rates.
    for pct in [0.0, 100.0] {
        let r = app
            .patch_json(path, &seller, json!({"commission": pct}))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["commission"], pct);
    }

    for body in [
        json!({}),
        json!({"commission": 100.5}),
        json!({"commission": 1.001}),
        json!({"commission": "5"}),
    ] {
        let r = app.patch_json(path, &seller, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.body["detail"][0]["loc"][0], "body", "{body}");
    }
    let r = app
        .patch_json(
            "/sellers/products/amazon.co.uk/B0NOTHERE1",
            &seller,
            json!({"commission": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "product_not_found");
    // Peak Audio is not sold on amazon.co.uk.
    let r = app
        .patch_json(
            "/sellers/products/amazon.co.uk/B0PKBUDS01",
            &seller,
            json!({"commission": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .patch_json(
            "/sellers/products/amazon.co.uk/bad",
            &seller,
            json!({"commission": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "invalid_asin");
    let r = app
        .patch_json(
            "/sellers/products/amazon.jp/B0NWBOTL03",
            &seller,
            json!({"commission": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "unsupported_marketplace");
}

#[tokio::test]
async fn revoked_creators_keep_their_links_but_cannot_make_new_ones() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator2 = app.token(CREATOR2).await;
    let grant_path = "/sellers/brands/lumen-home/grants/aff_demo_creator2";

    let r = app.get("/sellers/brands/lumen-home/grants", &seller).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["total_count"], 1);
    let g = &list(&r, "grants")[0];
    assert_eq!(g["creator"], "aff_demo_creator2");
    assert_eq!(g["creator_name"], "Demo Creator Two");
    assert_eq!(g["active"], true);
    assert_eq!(g["revoked_at"], Value::Null);
    assert!(g["granted_at"].as_str().unwrap().ends_with('Z'));

    let link = app.create_link(&creator2, "B0LMDESK01", "amazon.com").await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.body);
    let link_id = link.body["id"].as_str().unwrap().to_owned();

    let r = delete(&app, grant_path, &seller).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["active"], false);
    assert!(r.body["revoked_at"].as_str().unwrap().ends_with('Z'));

    // Existing links keep working and stay listed; new ones are refused.
    let links = app.get("/get_all_links", &creator2).await;
    assert_eq!(ids(&links, "all_links", "id"), [link_id.as_str()]);
    let one = app.get(&format!("/links/{link_id}"), &creator2).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["active"], true);
    let r = app.create_link(&creator2, "B0LMSTRP02", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "brand_access_denied");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Not allowed to promote this product")
    );

    // Revoking again changes nothing; listings filter on active.
    let r = delete(&app, grant_path, &seller).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["active"], false);
    let r = app
        .get("/sellers/brands/lumen-home/grants?active=true", &seller)
        .await;
    assert_eq!(r.body["total_count"], 0);
    let r = app
        .get("/sellers/brands/lumen-home/grants?active=false", &seller)
        .await;
    assert_eq!(ids(&r, "grants", "creator"), ["aff_demo_creator2"]);
    let r = app
        .get("/sellers/brands/lumen-home/grants?active=maybe", &seller)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Granting again restores access (201), and is idempotent (200).
    let r = put(&app, grant_path, &seller).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["active"], true);
    let r = put(&app, grant_path, &seller).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.create_link(&creator2, "B0LMSTRP02", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED);

    // A grant to a new creator, and the failure paths.
    let newbie = app.new_publisher("newbie@example.com").await;
    let newbie_id = app.get("/get_affiliateID", &newbie).await.body["affiliate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = delete(
        &app,
        &format!("/sellers/brands/lumen-home/grants/{newbie_id}"),
        &seller,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "grant_not_found");
    let r = put(
        &app,
        &format!("/sellers/brands/lumen-home/grants/{newbie_id}"),
        &seller,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        app.create_link(&newbie, "B0LMBULB03", "amazon.ca")
            .await
            .status,
        StatusCode::CREATED
    );
    for creator in ["aff_nobody", "seller_demo_brand"] {
        let r = put(
            &app,
            &format!("/sellers/brands/lumen-home/grants/{creator}"),
            &seller,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{creator}");
        assert_eq!(r.code(), "creator_not_found");
        let r = delete(
            &app,
            &format!("/sellers/brands/lumen-home/grants/{creator}"),
            &seller,
        )
        .await;
        assert_eq!(r.code(), "creator_not_found");
    }
    for (method, path) in [
        (Method::GET, "/sellers/brands/nope/grants"),
        (Method::PUT, "/sellers/brands/nope/grants/aff_demo_creator2"),
        (
            Method::DELETE,
            "/sellers/brands/nope/grants/aff_demo_creator2",
        ),
    ] {
        let r = app.send(method.clone(), path, Some(&seller), |r| r).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(r.code(), "brand_not_found");
    }

    // Grant listing pages by creator id.
    let r = app
        .get("/sellers/brands/lumen-home/grants?limit=1", &seller)
        .await;
    assert_eq!(r.body["total_count"], 2);
    let cursor = r.body["next_cursor"].as_str().unwrap();
    let r2 = app
        .get(
            &format!("/sellers/brands/lumen-home/grants?limit=1&cursor={cursor}"),
            &seller,
        )
        .await;
    assert_eq!(r2.body["fetched_count"], 1);
    assert_eq!(r2.body["next_cursor"], Value::Null);
    assert_ne!(
        list(&r, "grants")[0]["creator"],
        list(&r2, "grants")[0]["creator"]
    );
}

#[tokio::test]
async fn access_requests_are_asked_listed_and_decided() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let creator2 = app.token(CREATOR2).await;

    // Nothing to ask for: open brand, or already granted; unknown brand; bad bodies.
    let r = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "northwind"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "already_allowed");
    let r = app
        .post_json(
            "/access_requests",
            &creator2,
            json!({"brand_id": "lumen-home"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "already_allowed");
    let r = app
        .post_json("/access_requests", &creator, json!({"brand_id": "nope"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "brand_not_found");
    for body in [
        json!({}),
        json!({"brand_id": 5}),
        json!({"brand_id": "lumen-home", "message": "x".repeat(1001)}),
    ] {
        let r = app.post_json("/access_requests", &creator, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let r = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "lumen-home", "message": "  I review lamps.  "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/access_requests/{id}").as_str())
    );
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["brand_id"], "lumen-home");
    assert_eq!(r.body["brand_name"], "Lumen Home");
    assert_eq!(r.body["creator"], "aff_demo_creator");
    assert_eq!(r.body["message"], "I review lamps.");
    assert_eq!(r.body["decided_at"], Value::Null);

    // A second request while one is pending is refused and names the pending one.
    let r = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "lumen-home"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "access_request_pending");
    assert!(r.body["detail"].as_str().unwrap().contains(&id));

    let mine = app.get("/access_requests", &creator).await;
    assert_eq!(ids(&mine, "access_requests", "id"), [id.as_str()]);
    assert_eq!(
        app.get(&format!("/access_requests/{id}"), &creator)
            .await
            .body["id"],
        id.as_str()
    );
    let r = app.get(&format!("/access_requests/{id}"), &creator2).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "access_request_not_found");
    assert_eq!(
        app.get("/access_requests", &creator2).await.body["total_count"],
        0
    );

    let pending = app.get("/sellers/access_requests", &seller).await;
    assert_eq!(pending.status, StatusCode::OK);
    assert_eq!(ids(&pending, "access_requests", "id"), [id.as_str()]);
    assert_eq!(
        list(&pending, "access_requests")[0]["creator_name"],
        "Demo Creator"
    );

    // Decline, then the same request cannot be decided again; the creator may ask anew.
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{id}/decline"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "declined");
    assert!(r.body["decided_at"].as_str().unwrap().ends_with('Z'));
    for action in ["approve", "decline"] {
        let r = app
            .post_json(
                &format!("/sellers/access_requests/{id}/{action}"),
                &seller,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}");
        assert_eq!(r.code(), "access_request_decided");
    }
    assert_eq!(
        app.create_link(&creator, "B0LMDESK01", "amazon.com")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/sellers/access_requests", &seller).await.body["total_count"],
        0
    );

    let again = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "lumen-home"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    let id2 = again.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{id2}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(
        app.create_link(&creator, "B0LMDESK01", "amazon.com")
            .await
            .status,
        StatusCode::CREATED
    );
    let grants = app
        .get("/sellers/brands/lumen-home/grants?active=true", &seller)
        .await;
    assert!(ids(&grants, "grants", "creator").contains(&"aff_demo_creator".to_owned()));

    // Status filters, newest first, and paging.
    let all = app
        .get("/sellers/access_requests?status=all", &seller)
        .await;
    assert_eq!(
        ids(&all, "access_requests", "id"),
        [id2.as_str(), id.as_str()]
    );
    let declined = app
        .get("/sellers/access_requests?status=declined", &seller)
        .await;
    assert_eq!(ids(&declined, "access_requests", "id"), [id.as_str()]);
    let approved = app.get("/access_requests?status=approved", &creator).await;
    assert_eq!(ids(&approved, "access_requests", "id"), [id2.as_str()]);
    let page = app
        .get("/sellers/access_requests?status=all&limit=1", &seller)
        .await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let page2 = app
        .get(
            &format!("/sellers/access_requests?status=all&limit=1&cursor={cursor}"),
            &seller,
        )
        .await;
    assert_eq!(ids(&page2, "access_requests", "id"), [id.as_str()]);
    let r = app
        .get(
            "/sellers/access_requests?brand_id=northwind&status=all",
            &seller,
        )
        .await;
    assert_eq!(r.body["total_count"], 0);
    let r = app
        .get("/sellers/access_requests?status=maybe", &seller)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get("/access_requests?status=maybe", &creator).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Once granted, asking again is pointless.
    let r = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "lumen-home"}),
        )
        .await;
    assert_eq!(r.code(), "already_allowed");
    let r = app
        .post_json("/sellers/access_requests/nope/approve", &seller, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "access_request_not_found");
}

#[tokio::test]
async fn sellers_cannot_see_or_touch_each_others_brands_and_kinds_are_kept_apart() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let other = second_seller(&app).await;
    let creator = app.token(CREATOR).await;

    // The creator asks the other seller's brand for access.
    let req = app
        .post_json("/access_requests", &creator, json!({"brand_id": "acme"}))
        .await;
    assert_eq!(req.status, StatusCode::CREATED, "{:?}", req.body);
    let req_id = req.body["id"].as_str().unwrap().to_owned();
    let r = put(
        &app,
        "/sellers/brands/acme/grants/aff_demo_creator2",
        &other,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);

    // Seller A against seller B's brand, product, grants and requests: 404, as if absent.
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PATCH,
            "/sellers/brands/acme".into(),
            Some(json!({"program_mode": "open"})),
        ),
        (
            Method::PATCH,
            "/sellers/products/amazon.com/B0ACMEDRL1".into(),
            Some(json!({"commission": 50})),
        ),
        (Method::GET, "/sellers/brands/acme/grants".into(), None),
        (
            Method::PUT,
            "/sellers/brands/acme/grants/aff_demo_creator".into(),
            None,
        ),
        (
            Method::DELETE,
            "/sellers/brands/acme/grants/aff_demo_creator2".into(),
            None,
        ),
        (
            Method::POST,
            format!("/sellers/access_requests/{req_id}/approve"),
            None,
        ),
        (
            Method::POST,
            format!("/sellers/access_requests/{req_id}/decline"),
            None,
        ),
    ];
    for (method, path, body) in &cases {
        let r = app
            .send(method.clone(), path, Some(&seller), |r| match body {
                Some(b) => r.json(b),
                None => r,
            })
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            r.body
        );
    }
    let r = app
        .get("/sellers/products?brand_ids=acme&asins=B0ACMEDRL1", &seller)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["total_count"], 0);
    let r = app
        .get("/sellers/products?marketplace=all&limit=500", &seller)
        .await;
    assert!(list(&r, "products").iter().all(|p| p["brand_id"] != "acme"));
    assert_eq!(
        app.get("/sellers/access_requests?status=all", &seller)
            .await
            .body["total_count"],
        0
    );
    let r = app.get("/sellers/brands", &seller).await;
    assert!(!ids(&r, "brands", "brand_id").contains(&"acme".to_owned()));

    // Nothing changed on B's side, and A's audit log shows none of B's actions.
    let r = app.get("/sellers/brands", &other).await;
    assert_eq!(list(&r, "brands")[0]["program_mode"], "approval");
    let r = app.get("/sellers/products", &other).await;
    assert_eq!(list(&r, "products")[0]["commission"], 10.0);
    let r = app.get("/sellers/access_requests", &other).await;
    assert_eq!(ids(&r, "access_requests", "id"), [req_id.as_str()]);
    let r = app
        .get("/sellers/brands/acme/grants?active=true", &other)
        .await;
    assert_eq!(ids(&r, "grants", "creator"), ["aff_demo_creator2"]);
    assert_eq!(
        app.get("/sellers/audit", &seller).await.body["total_count"],
        0
    );
    let r = app.get("/sellers/audit", &other).await;
    assert_eq!(r.body["total_count"], 1);
    assert_eq!(list(&r, "entries")[0]["actor"], "sel_other");
    let r = app.get("/sellers/audit?brand_id=acme", &seller).await;
    assert_eq!(r.body["total_count"], 0);

    // B may act on its own: approval works for the right owner.
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{req_id}/approve"),
            &other,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Publisher tokens on seller endpoints, and seller tokens on publisher ones: 403.
    let seller_paths: Vec<(Method, &str)> = vec![
        (Method::GET, "/sellers/brands"),
        (Method::GET, "/sellers/products"),
        (Method::PATCH, "/sellers/brands/lumen-home"),
        (Method::PATCH, "/sellers/products/amazon.com/B0LMDESK01"),
        (Method::GET, "/sellers/brands/lumen-home/grants"),
        (
            Method::PUT,
            "/sellers/brands/lumen-home/grants/aff_demo_creator",
        ),
        (
            Method::DELETE,
            "/sellers/brands/lumen-home/grants/aff_demo_creator2",
        ),
        (Method::GET, "/sellers/access_requests"),
        (Method::POST, "/sellers/access_requests/x/approve"),
        (Method::POST, "/sellers/access_requests/x/decline"),
        (Method::GET, "/sellers/audit"),
    ];
    for (method, path) in &seller_paths {
        let r = app
            .send(method.clone(), path, Some(&creator), |r| {
                r.json(&json!({"commission": 1}))
            })
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.code(), "wrong_account_type", "{method} {path}");
        let r = app.send(method.clone(), path, None, |r| r).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    for (method, path) in [
        (Method::GET, "/access_requests"),
        (Method::POST, "/access_requests"),
        (Method::GET, "/access_requests/x"),
    ] {
        let r = app
            .send(method.clone(), path, Some(&seller), |r| {
                r.json(&json!({"brand_id": "acme"}))
            })
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.code(), "wrong_account_type");
    }
    // Nothing was granted by the refused calls.
    let r = app
        .get("/sellers/brands/lumen-home/grants?active=true", &seller)
        .await;
    assert_eq!(ids(&r, "grants", "creator"), ["aff_demo_creator2"]);
}

#[tokio::test]
async fn every_seller_action_is_audited_newest_first() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;

    let r = app.get("/sellers/audit", &seller).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["total_count"], 0);
    assert_eq!(r.body["next_cursor"], Value::Null);

    app.patch_json(
        "/sellers/brands/peak-audio",
        &seller,
        json!({"program_mode": "approval", "default_commission": 11}),
    )
    .await;
    app.patch_json(
        "/sellers/products/amazon.com/B0PKSPKR02",
        &seller,
        json!({"commission": 9.5}),
    )
    .await;
    put(
        &app,
        "/sellers/brands/peak-audio/grants/aff_demo_creator2",
        &seller,
    )
    .await;
    delete(
        &app,
        "/sellers/brands/peak-audio/grants/aff_demo_creator2",
        &seller,
    )
    .await;
    let a = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "peak-audio"}),
        )
        .await;
    let a = a.body["id"].as_str().unwrap().to_owned();
    app.post_json(
        &format!("/sellers/access_requests/{a}/decline"),
        &seller,
        json!({}),
    )
    .await;
    let b = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "peak-audio"}),
        )
        .await;
    let b = b.body["id"].as_str().unwrap().to_owned();
    app.post_json(
        &format!("/sellers/access_requests/{b}/approve"),
        &seller,
        json!({}),
    )
    .await;

    let r = app.get("/sellers/audit", &seller).await;
    assert_eq!(r.body["total_count"], 6);
    let entries = list(&r, "entries");
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "access_request.approve",
            "access_request.decline",
            "grant.revoke",
            "grant.create",
            "product.commission",
            "brand.update",
        ]
    );
    for e in entries {
        assert_eq!(e["actor"], "seller_demo_brand");
        assert_eq!(e["brand_id"], "peak-audio");
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
    }
    let brand = &entries[5];
    assert_eq!(brand["target"], "brand:peak-audio");
    assert_eq!(
        brand["before"],
        json!({"program_mode": "open", "default_commission": 10.0})
    );
    assert_eq!(
        brand["after"],
        json!({"program_mode": "approval", "default_commission": 11.0})
    );
    let product = &entries[4];
    assert_eq!(product["target"], "product:amazon.com/B0PKSPKR02");
    assert_eq!(
        product["before"],
        json!({"commission_override": null, "commission": 11.0})
    );
    assert_eq!(
        product["after"],
        json!({"commission_override": 9.5, "commission": 9.5})
    );
    assert_eq!(entries[3]["target"], "creator:aff_demo_creator2");
    assert_eq!(entries[3]["before"]["active"], false);
    assert_eq!(entries[3]["after"]["active"], true);
    assert_eq!(entries[2]["before"]["active"], true);
    assert_eq!(entries[2]["after"]["active"], false);
    assert_eq!(entries[1]["target"], format!("access_request:{a}"));
    assert_eq!(
        entries[1]["after"],
        json!({"status": "declined", "creator": "aff_demo_creator"})
    );
    assert_eq!(entries[0]["before"]["status"], "pending");
    assert_eq!(entries[0]["after"]["status"], "approved");

    // Cursor paging walks the same entries.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(&format!("/sellers/audit?limit=4&cursor={cursor}"), &seller)
            .await;
        seen.extend(ids(&r, "entries", "id"));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ids(&r, "entries", "id"));
    assert_eq!(
        app.get("/sellers/audit?brand_id=northwind", &seller)
            .await
            .body["total_count"],
        0
    );
    let r = app.get("/sellers/audit?limit=0", &seller).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get("/sellers/audit?cursor=zzz", &seller).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Issue #5 "done when", over HTTP alone.
#[tokio::test]
async fn seller_gates_a_brand_approves_a_creator_and_changes_the_commission() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let creator2 = app.token(CREATOR2).await;

    // The seller switches Peak Audio (open) to approval mode.
    let r = app
        .patch_json(
            "/sellers/brands/peak-audio",
            &seller,
            json!({"program_mode": "approval"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["program_mode"], "approval");
    for t in [&creator, &creator2] {
        let r = app.create_link(t, "B0PKSPKR02", "amazon.com").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.code(), "brand_access_denied");
    }

    // A creator asks for access; the seller sees the request and approves it.
    let req = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "peak-audio", "message": "Audio reviews weekly."}),
        )
        .await;
    assert_eq!(req.status, StatusCode::CREATED, "{:?}", req.body);
    let id = req.body["id"].as_str().unwrap().to_owned();
    let pending = app
        .get("/sellers/access_requests?status=pending", &seller)
        .await;
    let found = list(&pending, "access_requests")
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(found["creator"], "aff_demo_creator");
    assert_eq!(found["message"], "Audio reviews weekly.");
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{id}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "approved");
    let mine = app.get(&format!("/access_requests/{id}"), &creator).await;
    assert_eq!(mine.body["status"], "approved");

    // That creator can link now; the other creator is still refused.
    let link = app.create_link(&creator, "B0PKSPKR02", "amazon.com").await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.body);
    assert_eq!(link.body["brand_id"], "peak-audio");
    let r = app.create_link(&creator2, "B0PKSPKR02", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Not allowed to promote this product")
    );
    let p = app
        .get("/get_single_product?asin=B0PKSPKR02", &creator)
        .await;
    assert_eq!(p.body["can_promote"], true);
    let p = app
        .get("/get_single_product?asin=B0PKSPKR02", &creator2)
        .await;
    assert_eq!(p.body["can_promote"], false);

    // The seller changes the commission; the catalog reflects it at once.
    let r = app
        .patch_json(
            "/sellers/brands/peak-audio",
            &seller,
            json!({"default_commission": 17.5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["default_commission"], 17.5);
    let p = app
        .get("/get_single_product?asin=B0PKSPKR02", &creator)
        .await;
    assert_eq!(p.body["commission"], 17.5);
    assert_eq!(p.body["commission_payout_aff"], "17.5%");
    let r = app
        .get(
            "/sellers/products?brand_ids=peak-audio&asins=B0PKSPKR02",
            &seller,
        )
        .await;
    assert_eq!(list(&r, "products")[0]["commission"], 17.5);
    // The earbuds keep their own override.
    let p = app
        .get("/get_single_product?asin=B0PKBUDS01", &creator)
        .await;
    assert_eq!(p.body["commission"], 12.5);
}
