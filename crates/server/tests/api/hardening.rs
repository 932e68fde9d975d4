//! What a hostile or clumsy client found (issue 14): control characters in input, errors
//! without a body, caching and sniffing headers, readiness through an Amazon outage.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Where the NUL goes in one request.
enum Input {
    Form(&'static [(&'static str, &'static str)]),
    Json(Value),
    None,
}

struct Case {
    method: Method,
    path: &'static str,
    seller: bool,
    input: Input,
    loc: Value,
}

fn case(method: Method, path: &'static str, input: Input, loc: Value) -> Case {
    Case {
        method,
        path,
        seller: false,
        input,
        loc,
    }
}

fn cases() -> Vec<Case> {
    use Input::*;
    let mut seller_cases = vec![
        case(
            Method::GET,
            "/sellers/products?brand_ids=northwind%00",
            None,
            json!(["query", "brand_ids"]),
        ),
        case(
            Method::PUT,
            "/sellers/brands/lumen-home/grants/aff%00x",
            None,
            json!(["path", "creator"]),
        ),
        case(
            Method::PATCH,
            "/sellers/brands/lumen-home",
            Json(json!({"program_mode": "open\u{0}"})),
            json!(["body", "program_mode"]),
        ),
    ];
    for c in &mut seller_cases {
        c.seller = true;
    }
    let mut all = vec![
        case(
            Method::POST,
            "/token",
            Form(&[("username", "creator@example.com\0"), ("password", "x")]),
            json!(["body", "username"]),
        ),
        case(
            Method::POST,
            "/sellers/token",
            Form(&[
                ("username", "brand@example.com"),
                ("password", "quiver\0demo"),
            ]),
            json!(["body", "password"]),
        ),
        case(
            Method::POST,
            "/token/revoke",
            Form(&[("token", "\0")]),
            json!(["body", "token"]),
        ),
        case(
            Method::GET,
            "/getproducts?search=back%00pack",
            None,
            json!(["query", "search"]),
        ),
        case(
            Method::GET,
            "/get_single_product?asin=B0D45KS7Q%00",
            None,
            json!(["query", "asin"]),
        ),
        case(
            Method::GET,
            "/check_product?asin=%01B0D45KS7QM",
            None,
            json!(["query", "asin"]),
        ),
        case(
            Method::POST,
            "/generate_attribution_link",
            Json(json!({"asin": "B0D45KS7QM", "link_name": "spring\u{0}"})),
            json!(["body", "link_name"]),
        ),
        case(
            Method::GET,
            "/get_all_links?link_name=%00",
            None,
            json!(["query", "link_name"]),
        ),
        case(Method::GET, "/links/%00", None, json!(["path", "id"])),
        case(
            Method::PATCH,
            "/links/some-id",
            Json(json!({"link_name": "tab\tinside"})),
            json!(["body", "link_name"]),
        ),
        case(
            Method::POST,
            "/access_requests",
            Json(json!({"brand_id": "lumen-home", "message": "hello\u{0}"})),
            json!(["body", "message"]),
        ),
        case(
            Method::GET,
            "/access_requests/%00",
            None,
            json!(["path", "id"]),
        ),
        case(
            Method::POST,
            "/bulk_generate_attribution_links",
            Json(json!({"links": [{"asin": "B0D45KS7QM"}, {"asin": "B0D45KS7QM\u{0}"}]})),
            json!(["body", "links", 1, "asin"]),
        ),
        case(
            Method::GET,
            "/bulk_jobs/%00/results.csv",
            None,
            json!(["path", "job_id"]),
        ),
        case(
            Method::GET,
            "/reports?asins=B0D45KS7QM%00",
            None,
            json!(["query", "asins"]),
        ),
        case(
            Method::POST,
            "/single_link_data",
            Json(
                json!({"link_name": "x\u{1b}", "start_date": "2026-01-01", "end_date": "2026-01-31"}),
            ),
            json!(["body", "link_name"]),
        ),
        case(
            Method::GET,
            "/insights?brand=%00",
            None,
            json!(["query", "brand"]),
        ),
    ];
    all.extend(seller_cases);
    all
}

#[tokio::test]
async fn nul_and_other_control_characters_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let publisher = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    let cases = cases();
    assert!(cases.len() >= 15);
    for c in cases {
        let token = if c.seller { &seller } else { &publisher };
        let r = app
            .send(c.method.clone(), c.path, Some(token), |r| match &c.input {
                Input::Form(f) => r.form(f),
                Input::Json(v) => r.json(v),
                Input::None => r,
            })
            .await;
        let what = format!("{} {}", c.method, c.path);
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {:?}",
            r.body
        );
        assert_eq!(r.body["detail"][0]["loc"], c.loc, "{what}: {:?}", r.body);
        assert_eq!(r.body["detail"][0]["type"], "value_error", "{what}");
        assert!(
            r.body["detail"][0]["msg"]
                .as_str()
                .unwrap()
                .contains("control characters"),
            "{what}: {:?}",
            r.body
        );
    }
    // Prose keeps its line breaks and tabs.
    let r = app
        .post_json(
            "/access_requests",
            &publisher,
            json!({"brand_id": "lumen-home", "message": "Hello,\r\n\tI review lamps."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

#[tokio::test]
async fn errors_the_router_answers_carry_detail_and_code() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let r = app
        .send(Method::DELETE, "/get_all_links", Some(&t), |r| r)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method_not_allowed", "{:?}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("DELETE"),
        "{:?}",
        r.body
    );
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );

    let r = app.send(Method::GET, "/docs/missing.js", None, |r| r).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({"detail": "Not Found", "code": "not_found"}));

    // Oversized headers below hyper's own limit: Quiver answers, with a body.
    let big = "x".repeat(40 * 1024);
    let r = app
        .send(Method::GET, "/healthz", None, |r| {
            r.header("x-padding", &big)
        })
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(r.code(), "headers_too_large", "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("32768"));
}

/// Sends raw bytes and reads the answer until the server closes the connection.
fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// What hyper answers before any Quiver code runs (README: "Limits"): the status, an
/// empty body, and a closed connection. hyper's HTTP/1 parser writes these itself and
/// offers no hook for a body, so they are the only errors without `{"detail", "code"}`.
#[tokio::test]
async fn heads_beyond_hypers_limits_get_its_bare_status_and_the_server_carries_on() {
    let app = TestApp::spawn().await;
    let addr = app.running.addr;
    let long_target = format!(
        "GET /healthz?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let answer = tokio::task::spawn_blocking(move || raw(addr, long_target.as_bytes()))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 414 "), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("content-length: 0"),
        "{answer}"
    );

    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..120 {
        many.push_str(&format!("x-h{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let answer = tokio::task::spawn_blocking(move || raw(addr, many.as_bytes()))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("content-length: 0"),
        "{answer}"
    );

    let r = app.send(Method::GET, "/healthz", None, |r| r).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn token_answers_are_not_cached_and_api_answers_are_not_sniffed() {
    let app = TestApp::spawn().await;
    let no_store = |r: &Reply, what: &str| {
        assert_eq!(r.status, StatusCode::OK, "{what}: {:?}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
        assert_eq!(r.header("pragma"), Some("no-cache"), "{what}");
    };
    let login = app
        .post_form("/token", &[("username", CREATOR), ("password", PASSWORD)])
        .await;
    no_store(&login, "POST /token");
    let seller = app
        .post_form(
            "/sellers/token",
            &[("username", SELLER), ("password", PASSWORD)],
        )
        .await;
    no_store(&seller, "POST /sellers/token");
    let refresh = login.body["refresh_token"].as_str().unwrap();
    let refreshed = app
        .post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    no_store(&refreshed, "refresh grant");

    let t = refreshed.body["access_token"].as_str().unwrap();
    for path in ["/get_all_links", "/readyz", "/nowhere", "/openapi.json"] {
        let r = app.send(Method::GET, path, Some(t), |r| r).await;
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let r = app
        .post_json(
            "/bulk_generate_attribution_links",
            t,
            json!({"links": [{"asin": "nope"}]}),
        )
        .await;
    let job = r.body["job_id"].as_str().unwrap();
    let (status, headers, _) = app
        .get_text(&format!("/bulk_jobs/{job}/results.csv"), t)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn readiness_reports_each_amazon_region_and_survives_an_outage() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let ready = app.send(Method::GET, "/readyz", None, |r| r).await;
    assert_eq!(ready.status, StatusCode::OK);
    for region in ["NA", "EU", "FE"] {
        assert!(
            ready.body["amazon"][region]["breaker"].is_string(),
            "{region}: {}",
            ready.body
        );
    }

    // Amazon goes down; a cold tag cache makes each creation try it until the EU breaker
    // opens. Quiver stays ready: cached tags keep links flowing for other brands.
    app.outage(true);
    let started = Instant::now();
    let body = loop {
        let r = app.create_link(&t, "B0D45KS7QM", "amazon.it").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", r.body);
        let ready = app.send(Method::GET, "/readyz", None, |r| r).await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
        if ready.body["amazon"]["EU"]["breaker"] == "open" {
            break ready.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}",
            ready.body
        );
    };
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert!(body["amazon"]["EU"]["retry_in_secs"].as_u64().unwrap() >= 1);

    // Amazon is back: after the probe, the breaker closes and the success is recorded.
    let back = time::OffsetDateTime::now_utc();
    app.outage(false);
    let started = Instant::now();
    loop {
        let r = app.create_link(&t, "B0D45KS7QM", "amazon.it").await;
        if r.status == StatusCode::CREATED {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{:?}", r.body);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ready = app.send(Method::GET, "/readyz", None, |r| r).await;
    let eu = &ready.body["amazon"]["EU"];
    assert_eq!(eu["breaker"], "closed", "{}", ready.body);
    let at = eu["last_success"].as_str().unwrap();
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339);
    assert!(at.unwrap() >= back, "{}", ready.body);
}
