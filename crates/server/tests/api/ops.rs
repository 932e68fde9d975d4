//! The API describes itself and can be operated: OpenAPI, /docs, metrics, request ids,
//! rate limits, CORS.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::*;

/// Every endpoint the contract (`shared/spec/API.md`) names, as `METHOD path`.
const SPEC_ENDPOINTS: &[&str] = &[
    "POST /token",
    "POST /sellers/token",
    "POST /token/revoke",
    "GET /getproducts",
    "GET /get_single_product",
    "GET /brands",
    "GET /check_product",
    "POST /generate_attribution_link",
    "GET /get_all_links",
    "GET /links/{id}",
    "PATCH /links/{id}",
    "GET /get_single_link",
    "GET /get_affiliateID",
    "GET /healthz",
    "GET /readyz",
];

async fn document(app: &TestApp) -> Value {
    let r = app.send(Method::GET, "/openapi.json", None, |r| r).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

#[tokio::test]
async fn the_document_describes_every_endpoint_with_its_errors() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for endpoint in SPEC_ENDPOINTS {
        let (method, path) = endpoint.split_once(' ').unwrap();
        let op = &paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[method.to_lowercase()];
        assert!(op.is_object(), "{endpoint} is not documented");
        assert!(
            !op["responses"].as_object().unwrap().is_empty(),
            "{endpoint} has no responses"
        );
    }
    // Every authenticated operation documents 401, and every operation with input 422.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if op.get("security").is_some() {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
            // Each documented operation is actually routed (not 404/405 for its method).
            let concrete = path.replace("{id}", "x").replace("{", "").replace("}", "");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.send(m, &concrete, None, |r| r).await;
            assert!(
                r.status != StatusCode::METHOD_NOT_ALLOWED
                    && r.body != serde_json::json!({"detail": "Not Found", "code": "not_found"}),
                "{method} {path} is documented but not routed ({})",
                r.status
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(schemes["flows"]["password"]["tokenUrl"], "/token");
    assert!(doc["components"]["schemas"]["ValidationProblem"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

/// Routes are registered through `utoipa_axum::routes!`, which documents them; a plain
/// `.route(` would add an undocumented one. Only these may bypass the document.
#[test]
fn no_route_bypasses_the_document() {
    let allowed = [r#".route("/metrics""#];
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let t = line.trim();
                    if t.contains(".route(") && !allowed.iter().any(|a| t.contains(a)) {
                        offenders.push(format!("{}:{}: {t}", path.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "undocumented routes:\n{}",
        offenders.join("\n")
    );
}

#[tokio::test]
async fn the_reference_page_is_served_without_a_cdn() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("cdn.") && !html.contains("unpkg") && !html.contains("jsdelivr"));
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js"] {
        let r = app
            .client
            .get(format!("{}/docs/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
}

#[tokio::test]
async fn request_ids_are_returned_and_propagated() {
    let app = TestApp::spawn().await;
    let r = app.send(Method::GET, "/healthz", None, |r| r).await;
    let generated = r.header("x-request-id").unwrap();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let r = app
        .send(Method::GET, "/healthz", None, |r| {
            r.header("x-request-id", "trace-me-123")
        })
        .await;
    assert_eq!(r.header("x-request-id"), Some("trace-me-123"));
}

#[tokio::test]
async fn metrics_count_requests_and_amazon_calls() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    app.get("/getproducts", &t).await;
    app.get("/getproducts", &t).await;
    assert_eq!(
        app.create_link(&t, "B0D45KS7QM", "amazon.com").await.status,
        StatusCode::CREATED
    );
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("quiver_http_requests_total")
                && l.contains(r#"route="/getproducts""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no request counter:\n{text}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 2.0, "{line}");
    assert!(text.contains("quiver_http_request_duration_seconds_bucket"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("quiver_amazon_calls_total") && l.contains(r#"outcome="ok""#)),
        "{text}"
    );
    assert!(text.contains("quiver_amazon_breaker_open"));
    assert!(text.contains("quiver_tag_cache_misses"));
    assert!(text.contains("quiver_bulk_queue_items"));
    assert!(text.contains("quiver_ingest_never_succeeded"));
}

#[tokio::test]
async fn the_rate_limiter_answers_429_with_headers_and_recovers() {
    let app = TestApp::with_args(&["--rate-limit", "60"]).await;
    let t = app.token(CREATOR).await;
    let first = app.get("/get_affiliateID", &t).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("ratelimit-limit"), Some("60"));
    assert!(first.header("ratelimit-remaining").is_some());
    let mut limited = None;
    for _ in 0..80 {
        let r = app.get("/get_affiliateID", &t).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the 61st request in a minute is limited");
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    // Another token has its own budget; health checks are never limited.
    let t2 = app.token(CREATOR2).await;
    assert_eq!(
        app.get("/get_affiliateID", &t2).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(Method::GET, "/healthz", None, |r| r).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(
        app.get("/get_affiliateID", &t).await.status,
        StatusCode::OK,
        "recovered"
    );
}

#[tokio::test]
async fn cors_is_configurable() {
    let app = TestApp::with_args(&["--cors-origins", "https://app.example.com"]).await;
    let r = app
        .send(Method::OPTIONS, "/getproducts", None, |r| {
            r.header("origin", "https://app.example.com")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
        })
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let other = app
        .send(Method::GET, "/healthz", None, |r| {
            r.header("origin", "https://evil.example.com")
        })
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
}

/// Query booleans mean the same on every endpoint: `true`/`1` and `false`/`0` in any case,
/// blank as absent, anything else a 422 naming the parameter.
#[tokio::test]
async fn query_booleans_read_alike_everywhere() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    let paused = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    let id = paused.body["id"].as_str().unwrap();
    app.patch_json(
        &format!("/links/{id}"),
        &creator,
        serde_json::json!({"active": false}),
    )
    .await;
    app.create_link(&creator, "B0D45KS7QM", "amazon.de").await;
    let grant = "/sellers/brands/lumen-home/grants/aff_demo_creator2";
    let r = app.send(Method::PUT, grant, Some(&seller), |r| r).await;
    assert!(r.status.is_success(), "{:?}", r.body);

    let links = |q: &'static str| {
        let (app, creator) = (&app, &creator);
        async move {
            app.get(&format!("/get_all_links?marketplace=all&{q}"), creator)
                .await
        }
    };
    let grants = |q: &'static str| {
        let (app, seller) = (&app, &seller);
        async move {
            app.get(&format!("/sellers/brands/lumen-home/grants?{q}"), seller)
                .await
        }
    };
    for (q, paused_links, active_grants) in [
        ("active=true", 1, 1),
        ("active=%20TRUE%20", 1, 1),
        ("active=1", 1, 1),
        ("active=false", 1, 0),
        ("active=False", 1, 0),
        ("active=0", 1, 0),
        ("active=", 2, 1),
        ("active=%20", 2, 1),
    ] {
        let l = links(q).await;
        assert_eq!(l.status, StatusCode::OK, "{q}: {:?}", l.body);
        assert_eq!(l.body["total_count"], paused_links, "{q}");
        let g = grants(q).await;
        assert_eq!(g.status, StatusCode::OK, "{q}: {:?}", g.body);
        assert_eq!(g.body["total_count"], active_grants, "{q}");
    }
    for q in ["active=yes", "active=maybe", "active=2"] {
        for r in [links(q).await, grants(q).await] {
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
            assert_eq!(
                r.body["detail"][0]["loc"],
                serde_json::json!(["query", "active"])
            );
            assert_eq!(r.body["detail"][0]["type"], "bool_parsing");
        }
    }

    let link_data = |order: &str| {
        format!("/link_data?startdate=20260101&enddate=20260131&sort=4&sort_order={order}")
    };
    let ascending = app.get(&link_data("true"), &creator).await;
    assert_eq!(ascending.status, StatusCode::OK, "{:?}", ascending.body);
    assert_eq!(
        app.get(&link_data("1"), &creator).await.body,
        ascending.body
    );
    assert_eq!(
        app.get(&link_data(""), &creator).await.body,
        app.get(&link_data("false"), &creator).await.body
    );
    let bad = app.get(&link_data("yes"), &creator).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.body["detail"][0]["loc"],
        serde_json::json!(["query", "sort_order"])
    );
}
