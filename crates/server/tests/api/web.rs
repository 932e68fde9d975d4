//! The browser app at /app: HTML and assets compiled into the binary, with the right
//! content types, cache headers and a Content-Security-Policy that allows no other origin.

use reqwest::StatusCode;

use crate::support::*;

async fn fetch(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}", r.url()))
        .to_str()
        .unwrap()
}

fn assert_strict_csp(r: &reqwest::Response) {
    let csp = header(r, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    // Only images may come from elsewhere: the catalog's image hosts, over HTTPS.
    for directive in csp.split(';').map(str::trim) {
        if directive.starts_with("img-src ") {
            let external: Vec<&str> = directive
                .split_whitespace()
                .filter(|s| s.contains("http"))
                .collect();
            assert_eq!(
                external,
                [
                    "https://m.media-amazon.com",
                    "https://images-na.ssl-images-amazon.com",
                    "https://assets.quiver.example"
                ],
                "{csp}"
            );
        } else {
            assert!(!directive.contains("http"), "no external origin: {csp}");
        }
    }
    assert!(
        !csp.contains("unsafe"),
        "no unsafe-inline or unsafe-eval: {csp}"
    );
    assert_eq!(header(r, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn the_app_page_and_its_assets_are_served_with_types_and_a_strict_csp() {
    let app = TestApp::spawn().await;
    let page = fetch(&app, "/app").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert_strict_csp(&page);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/app/js/main.js?v="#));
    // Nothing is loaded from another origin.
    assert!(
        !html.contains("//cdn") && !html.contains("https://"),
        "{html}"
    );

    for (path, content_type) in [
        ("/app/app.css", "text/css; charset=utf-8"),
        ("/app/js/main.js", "text/javascript; charset=utf-8"),
        ("/app/js/creator.js", "text/javascript; charset=utf-8"),
        (
            "/app/vendor/chart-4.6.1.umd.js",
            "text/javascript; charset=utf-8",
        ),
        (
            "/app/vendor/qrcode-generator-2.0.4.mjs",
            "text/javascript; charset=utf-8",
        ),
        ("/app/favicon.svg", "image/svg+xml"),
    ] {
        let r = fetch(&app, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, "content-type"), content_type, "{path}");
        assert_strict_csp(&r);
        let cache = header(&r, "cache-control").to_owned();
        if path.starts_with("/app/vendor/") {
            assert!(cache.contains("immutable"), "{path}: {cache}");
        } else {
            assert_eq!(cache, "no-cache", "{path}");
        }
        assert!(!r.bytes().await.unwrap().is_empty(), "{path}");
    }
    let chart = fetch(&app, "/app/vendor/chart-4.6.1.umd.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(chart.contains("Chart.js v4.6.1"));
}

#[tokio::test]
async fn assets_revalidate_with_their_etag() {
    let app = TestApp::spawn().await;
    let first = fetch(&app, "/app/js/api.js").await;
    let etag = header(&first, "etag").to_owned();
    let again = app
        .client
        .get(format!("{}/app/js/api.js", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_root_redirects_to_the_app_and_unknown_files_are_404() {
    let app = TestApp::spawn().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(header(&r, "location"), "/app");

    for path in [
        "/app/nope.js",
        "/app/../Cargo.toml",
        "/app/js/../../src/lib.rs",
    ] {
        let r = fetch(&app, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .client
        .post(format!("{}/app/app.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_app_stays_out_of_the_api_document() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = fetch(&app, "/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(
        paths.keys().all(|p| !p.starts_with("/app")),
        "{:?}",
        paths.keys()
    );
}
