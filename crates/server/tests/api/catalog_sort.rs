//! Quiver additions to `GET /getproducts`: `promotable=true|false` on the server (counts and
//! pages follow it) and `sort=commission|rating|price|price_desc` with keyset cursors.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

/// Every page of `query` by cursor, pages of 5.
async fn walk(app: &TestApp, t: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/getproducts?{query}&limit=5&cursor={c}"),
            None => format!("/getproducts?{query}&limit=5"),
        };
        let r = app.get(&path, t).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        out.extend(
            r.body["product_catalog"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("more than 100 pages");
}

fn key(p: &Value) -> String {
    format!("{}/{}", p["asin"], p["marketplace"])
}

#[tokio::test]
async fn promotable_filters_on_the_server_with_right_counts_and_pages() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let base = "marketplace=all&product_available=either";
    let all = app
        .get(&format!("/getproducts?{base}&limit=500"), &t)
        .await
        .body;
    let all_rows = all["product_catalog"].as_array().unwrap();
    let can = all_rows.iter().filter(|p| p["can_promote"] == true).count();
    let cannot = all_rows.len() - can;
    assert!(can > 0 && cannot > 0, "the demo has both kinds");

    let yes = app
        .get(&format!("/getproducts?{base}&promotable=true&limit=3"), &t)
        .await
        .body;
    assert_eq!(
        yes["total_count"], can as i64,
        "the count is of promotable products"
    );
    let walked = walk(&app, &t, &format!("{base}&promotable=true")).await;
    assert_eq!(walked.len(), can, "pages reach every promotable product");
    assert!(walked.iter().all(|p| p["can_promote"] == true));
    let no = walk(&app, &t, &format!("{base}&promotable=false")).await;
    assert_eq!(no.len(), cannot);
    assert!(no.iter().all(|p| p["can_promote"] == false));

    // A grant moves the brand's products into the promotable set.
    let seller = app.token(SELLER).await;
    // Fjordline is left out for another reason (it has no Amazon account yet), which no
    // grant changes.
    let gated = no
        .iter()
        .map(|p| p["brand_id"].as_str().unwrap())
        .find(|b| *b != "fjordline")
        .unwrap()
        .to_owned();
    let r = app
        .send(
            reqwest::Method::PUT,
            &format!("/sellers/brands/{gated}/grants/aff_demo_creator"),
            Some(&seller),
            |r| r,
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    let after = app
        .get(&format!("/getproducts?{base}&promotable=true"), &t)
        .await
        .body;
    assert!(after["total_count"].as_i64().unwrap() > can as i64);

    let r = app.get("/getproducts?promotable=maybe", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"][1], "promotable");
}

#[tokio::test]
async fn sorts_by_commission_rating_and_price_across_pages() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let base = "marketplace=all&product_available=either";
    let total = app.get(&format!("/getproducts?{base}"), &t).await.body["total_count"]
        .as_i64()
        .unwrap() as usize;
    let num = |p: &Value, f: &str| -> f64 {
        match f {
            "price" => p["pricing"]["price"].as_f64().unwrap(),
            other => p[other].as_f64().unwrap(),
        }
    };
    for (sort, field, descending) in [
        ("commission", "commission", true),
        ("rating", "rating", true),
        ("price", "price", false),
        ("price_desc", "price", true),
    ] {
        let rows = walk(&app, &t, &format!("{base}&sort={sort}")).await;
        assert_eq!(rows.len(), total, "{sort}: every product once");
        let unique: HashSet<String> = rows.iter().map(key).collect();
        assert_eq!(unique.len(), total, "{sort}: no repeats across pages");
        for pair in rows.windows(2) {
            let (a, b) = (num(&pair[0], field), num(&pair[1], field));
            if descending {
                assert!(a >= b, "{sort}: {a} before {b}");
            } else {
                assert!(a <= b, "{sort}: {a} before {b}");
            }
        }
        let first = app
            .get(&format!("/getproducts?{base}&sort={sort}&limit=1"), &t)
            .await;
        let values: Vec<f64> = rows.iter().map(|p| num(p, field)).collect();
        let best = if descending {
            values.iter().cloned().fold(f64::MIN, f64::max)
        } else {
            values.iter().cloned().fold(f64::MAX, f64::min)
        };
        assert_eq!(
            num(&first.body["product_catalog"][0], field),
            best,
            "{sort}"
        );
    }
    // Sorting combines with the other filters.
    let promotable = walk(&app, &t, &format!("{base}&sort=commission&promotable=true")).await;
    assert!(promotable.iter().all(|p| p["can_promote"] == true));

    let r = app.get("/getproducts?sort=newest", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"][1], "sort");
    // A cursor of one order cannot continue another.
    let page = app
        .get(&format!("/getproducts?{base}&sort=rating&limit=2"), &t)
        .await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let r = app
        .get(&format!("/getproducts?{base}&limit=2&cursor={cursor}"), &t)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let plain = app.get(&format!("/getproducts?{base}&limit=2"), &t).await;
    let cursor = plain.body["next_cursor"].as_str().unwrap();
    let r = app
        .get(
            &format!("/getproducts?{base}&sort=price&limit=2&cursor={cursor}"),
            &t,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Lumen Home's products as `t` sees them: (ASIN/marketplace, commission).
async fn lumen_rates(app: &TestApp, t: &str) -> Vec<(String, f64)> {
    let q = "brand_id=lumen-home&marketplace=all&product_available=either";
    walk(app, t, q)
        .await
        .iter()
        .map(|p| {
            let key = format!("{}/{}", p["asin"], p["marketplace"]);
            (key, p["commission"].as_f64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_creator_with_their_own_rate_sees_it_in_the_catalog_and_its_order() {
    let mailbox = crate::mailbox::Mailbox::start().await;
    let app = TestApp::with_args(&["--smtp-url", &mailbox.url()]).await;
    let seller = app.token(SELLER).await;
    let t = app.token(CREATOR).await;
    // One product of Lumen Home (15% by default) pays 18.5%.
    let r = app
        .patch_json(
            "/sellers/products/amazon.com/B0LMDESK01",
            &seller,
            serde_json::json!({"commission": 18.5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let brand_rates = lumen_rates(&app, &t).await;
    assert!(
        brand_rates.iter().any(|(_, c)| *c == 15.0),
        "{brand_rates:?}"
    );
    assert!(
        brand_rates.iter().any(|(_, c)| *c == 18.5),
        "{brand_rates:?}"
    );

    // Lumen Home invites the creator at 12%, product overrides included.
    let r = app
        .post_json(
            "/sellers/brands/lumen-home/invitations",
            &seller,
            serde_json::json!({"email": CREATOR, "commission": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let link = crate::mailbox::token(&mailbox.wait(CREATOR, 1).await, "invitation");
    let r = app
        .post_json(
            "/invitations/accept",
            &t,
            serde_json::json!({ "token": link }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let own = lumen_rates(&app, &t).await;
    assert_eq!(own.len(), brand_rates.len());
    assert!(own.iter().all(|(_, c)| *c == 12.0), "{own:?}");
    let one = app
        .get(
            "/get_single_product?asin=B0LMDESK01&marketplace=amazon.com",
            &t,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(one.body["commission"], 12.0);
    assert_eq!(one.body["commission_payout_aff"], "12%");
    // Another creator still sees the brand's rates.
    let t2 = app.token(CREATOR2).await;
    assert_eq!(lumen_rates(&app, &t2).await, brand_rates);

    // Sorting by commission follows the rate shown, across cursor pages.
    let sorted = walk(
        &app,
        &t,
        "marketplace=all&product_available=either&sort=commission",
    )
    .await;
    let rates: Vec<f64> = sorted
        .iter()
        .map(|p| p["commission"].as_f64().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    let lumen = sorted
        .iter()
        .filter(|p| p["brand_id"] == "lumen-home")
        .count();
    assert_eq!(lumen, own.len(), "every product once");
}
