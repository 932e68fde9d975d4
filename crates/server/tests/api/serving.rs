//! Serving: compressed responses, and the app's files cached under their release hash.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};

use crate::support::*;

async fn get(app: &TestApp, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(e) = encoding {
        req = req.header(ACCEPT_ENCODING, e);
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(&name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn assets_and_json_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let plain = get(&app, "/app/vendor/chart-4.6.1.umd.js", None).await;
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    let plain_len = plain.bytes().await.unwrap().len();
    for (accept, want) in [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br")] {
        let r = get(&app, "/app/vendor/chart-4.6.1.umd.js", Some(accept)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, CONTENT_ENCODING), want, "{accept}");
        let len = r.bytes().await.unwrap().len();
        assert!(len * 2 < plain_len, "{accept}: {len} of {plain_len} bytes");
    }
    let r = get(&app, "/app", Some("gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING), "gzip");
    // JSON too.
    let token = app.token(CREATOR).await;
    let r = app
        .client
        .get(format!(
            "{}/getproducts?marketplace=all&limit=100",
            app.base
        ))
        .bearer_auth(&token)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_ENCODING), "br");
}

#[tokio::test]
async fn the_apps_files_are_cached_for_a_year_under_their_release_hash() {
    let app = TestApp::spawn().await;
    let page = get(&app, "/app", None).await;
    assert_eq!(header(&page, CACHE_CONTROL), "no-cache");
    let html = page.text().await.unwrap();
    let start = html.find("/app/js/main.js?v=").unwrap() + "/app/js/main.js?v=".len();
    let hash: String = html[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(hash.len(), 16, "{html}");
    assert!(html.contains(&format!("/app/app.css?v={hash}")), "{html}");

    let main = get(&app, &format!("/app/js/main.js?v={hash}"), None).await;
    assert_eq!(main.status(), StatusCode::OK);
    assert_eq!(
        header(&main, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    // Modules name each other with the same hash, so each loads once and caches too.
    let js = main.text().await.unwrap();
    assert!(js.contains(&format!("from './api.js?v={hash}'")), "{js}");
    assert!(!js.contains("from './api.js'"), "{js}");
    let api = get(&app, &format!("/app/js/api.js?v={hash}"), None).await;
    assert_eq!(
        header(&api, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    // Without the hash, or with another release's, files are revalidated.
    for path in ["/app/js/main.js", "/app/js/main.js?v=0123456789abcdef"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, CACHE_CONTROL), "no-cache", "{path}");
    }
}
