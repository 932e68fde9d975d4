//! Short links (issue #19): every link's `short_url` redirects to its attribution URL from
//! memory, requests are counted or filtered by reason, and the counts are read back.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{CREATOR, SELLER, TestApp};

pub const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
pub const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// The code of a link object's short URL.
pub fn code_of(link: &Value) -> String {
    let url = link["short_url"].as_str().expect("short_url");
    url.rsplit_once("/r/").unwrap().1.to_owned()
}

/// One request to a short URL from a client with this user agent.
pub async fn visit(
    app: &TestApp,
    method: Method,
    path: &str,
    ua: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("user-agent", ua);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn flush(app: &TestApp) {
    quiver::jobs::click_flush::flush(&app.running.state).await;
}

async fn new_link(app: &TestApp, t: &str, body: Value) -> Value {
    let r = app.post_json("/generate_attribution_link", t, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn clicks_of(app: &TestApp, t: &str, id: &str, group_by: &str) -> Value {
    let r = app
        .get(&format!("/links/{id}/clicks?group_by={group_by}"), t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn every_link_has_a_short_url_that_redirects_active_or_paused() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let link = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    let code = code_of(&link);
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(link["short_url"], format!("{}/r/{code}", app.base));
    // The Amazon fields are untouched.
    assert_eq!(link["url"], link["attribution_link"]);
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.amazon.de/")
    );
    assert_eq!(
        (link["clicks_total"].as_i64(), link["clicks_24h"].as_i64()),
        (Some(0), Some(0))
    );

    // Redirects at once in the process that made it.
    let r = visit(&app, Method::GET, &format!("/r/{code}"), PHONE, &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], link["url"].as_str().unwrap());
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    // A code is case-sensitive.
    let swapped: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    if swapped != code {
        let r = visit(&app, Method::GET, &format!("/r/{swapped}"), PHONE, &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    // Paused: still redirects, to the same URL.
    let id = link["id"].as_str().unwrap();
    let paused = app
        .patch_json(&format!("/links/{id}"), &t, json!({"active": false}))
        .await;
    assert_eq!(paused.status, StatusCode::OK);
    assert_eq!(paused.body["short_url"], link["short_url"]);
    let r = visit(&app, Method::GET, &format!("/r/{code}"), DESKTOP, &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], link["url"].as_str().unwrap());

    // HEAD answers the same and is not counted.
    let r = visit(
        &app,
        Method::HEAD,
        &format!("/r/{code}"),
        "Mozilla/5.0 (Macintosh) Safari/605",
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], link["url"].as_str().unwrap());

    flush(&app).await;
    let got = app.get(&format!("/links/{id}"), &t).await.body;
    assert_eq!(got["short_url"], link["short_url"]);
    assert_eq!(got["clicks_total"], 2);
    assert_eq!(got["clicks_24h"], 2);
    let page = app.get("/get_all_links?marketplace=all", &t).await.body;
    let listed = page["all_links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .unwrap();
    assert_eq!(listed["short_url"], link["short_url"]);
    assert_eq!(listed["clicks_total"], 2);
    let c = clicks_of(&app, &t, id, "device").await;
    assert_eq!(c["total"], 2);
    assert_eq!(c["filtered"]["head"], 1);
    assert_eq!(
        c["rows"],
        json!([{"key": "desktop", "clicks": 1}, {"key": "mobile", "clicks": 1}])
    );
}

#[tokio::test]
async fn unknown_and_malformed_codes_get_a_small_html_404() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(20_000);
    let paths = [
        "/r/ZZZZZZZZ".to_owned(),
        "/r/abc".to_owned(),
        "/r/abcdefghi".to_owned(),
        format!("/r/{long}"),
        "/r/abcd%00gh".to_owned(),
        "/r/%FF%FE%00%01abcd".to_owned(),
        "/r/ab%2Fcdefg".to_owned(),
        "/r/abcd/efgh".to_owned(),
        "/r/".to_owned(),
        "/r/%E2%82%AC%E2%82%AC%E2%82%AC".to_owned(),
    ];
    for path in &paths {
        for method in [Method::GET, Method::HEAD] {
            let r = visit(&app, method.clone(), path, PHONE, &[]).await;
            assert_eq!(
                r.status(),
                StatusCode::NOT_FOUND,
                "{method} {}",
                &path[..path.len().min(40)]
            );
            assert!(r.headers().get("location").is_none());
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            if method == Method::GET {
                let body = r.text().await.unwrap();
                assert!(
                    body.contains("Link not found") && body.len() < 1000,
                    "{body}"
                );
            }
        }
    }
    // Odd bytes the client sends raw (not percent-encoded) in the path.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let raw = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /r/ab\xffcd\x7fgh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap();
    assert!(!raw.starts_with("HTTP/1.1 5"), "{raw}");
    assert!(!raw.starts_with("HTTP/1.1 3"), "{raw}");
}

#[tokio::test]
async fn each_filter_reason_is_counted_apart_and_clicks_by_device_referrer_country() {
    let app = TestApp::with_args(&["--country-header", "CF-IPCountry"]).await;
    let t = app.token(CREATOR).await;
    let link = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    let (id, path) = (
        link["id"].as_str().unwrap().to_owned(),
        format!("/r/{}", code_of(&link)),
    );
    let previews = [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Twitterbot/1.0",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "WhatsApp/2.23.20.0",
        "TelegramBot (like TwitterBot)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    ];
    for ua in previews {
        let r = visit(&app, Method::GET, &path, ua, &[]).await;
        assert_eq!(r.status(), StatusCode::FOUND, "{ua}");
    }
    for ua in [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "curl/8.5.0",
        "",
    ] {
        assert_eq!(
            visit(&app, Method::GET, &path, ua, &[]).await.status(),
            StatusCode::FOUND
        );
    }
    visit(
        &app,
        Method::GET,
        &path,
        PHONE,
        &[("sec-purpose", "prefetch")],
    )
    .await;
    visit(&app, Method::GET, &path, PHONE, &[("purpose", "prefetch")]).await;
    visit(&app, Method::HEAD, &path, PHONE, &[]).await;
    // Counted: a phone from YouTube in Germany, then a desktop with no referrer or country.
    let from = [
        ("referer", "https://www.youtube.com/watch?v=private-id"),
        ("cf-ipcountry", "DE"),
    ];
    visit(&app, Method::GET, &path, PHONE, &from).await;
    visit(&app, Method::GET, &path, PHONE, &from).await; // repeat
    visit(&app, Method::GET, &path, DESKTOP, &[]).await;
    flush(&app).await;

    let c = clicks_of(&app, &t, &id, "referrer").await;
    assert_eq!(c["total"], 2, "{c}");
    assert_eq!(
        c["filtered"],
        json!({"bot": 3, "preview": previews.len(), "prefetch": 2, "head": 1, "repeat": 1})
    );
    assert_eq!(
        c["rows"],
        json!([{"key": "direct", "clicks": 1}, {"key": "www.youtube.com", "clicks": 1}])
    );
    let c = clicks_of(&app, &t, &id, "country").await;
    assert_eq!(
        c["rows"],
        json!([{"key": "DE", "clicks": 1}, {"key": "unknown", "clicks": 1}])
    );
    let c = clicks_of(&app, &t, &id, "hour").await;
    assert_eq!(c["rows"].as_array().unwrap().len(), 1);
    assert_eq!(c["rows"][0]["clicks"], 2);
    assert!(c["rows"][0]["key"].as_str().unwrap().ends_with(":00:00Z"));
    let c = clicks_of(&app, &t, &id, "day").await;
    assert_eq!(c["rows"][0]["clicks"], 2);
    // Bad parameters.
    for q in [
        "group_by=week",
        "start=2026-13-01",
        "start=2026-12-05&end=2026-12-01",
    ] {
        let r = app.get(&format!("/links/{id}/clicks?{q}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
    // Another creator's link is not found.
    let other = app.new_publisher("other-clicks@example.com").await;
    let r = app.get(&format!("/links/{id}/clicks"), &other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_repeat_counts_again_once_its_window_is_over() {
    let app = TestApp::with_args(&["--click-repeat-secs", "2"]).await;
    let t = app.token(CREATOR).await;
    let link = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    let (id, path) = (
        link["id"].as_str().unwrap().to_owned(),
        format!("/r/{}", code_of(&link)),
    );
    visit(&app, Method::GET, &path, PHONE, &[]).await; // counted
    visit(&app, Method::GET, &path, PHONE, &[]).await; // repeat
    visit(&app, Method::GET, &path, DESKTOP, &[]).await; // another client: counted
    tokio::time::sleep(Duration::from_millis(1000)).await;
    visit(&app, Method::GET, &path, PHONE, &[]).await; // repeat (1 s after the last)
    tokio::time::sleep(Duration::from_millis(2300)).await;
    visit(&app, Method::GET, &path, PHONE, &[]).await; // window over: counted
    flush(&app).await;
    let c = clicks_of(&app, &t, &id, "device").await;
    assert_eq!(c["total"], 3, "{c}");
    assert_eq!(c["filtered"]["repeat"], 2);
}

#[tokio::test]
async fn the_default_repeat_window_is_30_seconds() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let link = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    let (id, path) = (
        link["id"].as_str().unwrap().to_owned(),
        format!("/r/{}", code_of(&link)),
    );
    for _ in 0..3 {
        visit(&app, Method::GET, &path, PHONE, &[]).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    flush(&app).await;
    let c = clicks_of(&app, &t, &id, "device").await;
    assert_eq!(
        (c["total"].as_i64(), c["filtered"]["repeat"].as_i64()),
        (Some(1), Some(2))
    );
}

#[tokio::test]
async fn sources_are_validated_stored_filtered_and_grouped() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    for (field, bad) in [
        ("source", json!("you tube")),
        ("source", json!("x".repeat(65))),
        ("source", json!("")),
        ("source", json!(12)),
        ("sub_id", json!("a/b")),
        ("sub_id", json!("ünï")),
    ] {
        let r = app
            .post_json(
                "/generate_attribution_link",
                &t,
                json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de", field: bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field} {bad}");
        assert!(r.body.to_string().contains(field), "{}", r.body);
    }
    let yt = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de", "source": "youtube", "sub_id": "video-12_a.b"}),
    )
    .await;
    assert_eq!(
        (yt["source"].as_str(), yt["sub_id"].as_str()),
        (Some("youtube"), Some("video-12_a.b"))
    );
    let ig = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.com"}),
    )
    .await;
    assert_eq!(ig["source"], Value::Null);
    let id = ig["id"].as_str().unwrap();
    let r = app
        .patch_json(&format!("/links/{id}"), &t, json!({"source": "insta gram"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.to_string().contains("source"));
    let r = app
        .patch_json(&format!("/links/{id}"), &t, json!({"source": "instagram"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["source"].as_str(), r.body["sub_id"].as_str()),
        (Some("instagram"), None)
    );

    let page = app
        .get("/get_all_links?marketplace=all&source=youtube", &t)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let ids: Vec<&str> = page.body["all_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [yt["id"].as_str().unwrap()]);
    assert_eq!(page.body["total_count"], 1);
    let r = app.get("/get_all_links?source=bad%20value", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.to_string().contains("source"));

    for (link, n) in [(&yt, 2), (&ig, 1)] {
        let path = format!("/r/{}", code_of(link));
        for i in 0..n {
            visit(
                &app,
                Method::GET,
                &path,
                &format!("{PHONE} client-{i}"),
                &[],
            )
            .await;
        }
    }
    flush(&app).await;
    let c = app.get("/clicks?group_by=source", &t).await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
    assert_eq!(
        c.body["rows"],
        json!([{"key": "instagram", "clicks": 1}, {"key": "youtube", "clicks": 2}])
    );
    let c = app
        .get("/clicks?group_by=link&source=youtube", &t)
        .await
        .body;
    assert_eq!(c["rows"], json!([{"key": yt["id"], "clicks": 2}]));
    let c = app.get(&format!("/clicks?link_ids={id}"), &t).await.body;
    assert_eq!(c["total"], 1);
    let r = app.get("/clicks?source=no%20spaces", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The brand sees its products' clicks by creator, product and source.
    let s = app.token(SELLER).await;
    let c = app.get("/sellers/clicks", &s).await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
    assert_eq!(c.body["group_by"], "creator");
    assert_eq!(c.body["total"], 3, "{:?}", c.body);
    let c = app.get("/sellers/clicks?group_by=source", &s).await.body;
    assert_eq!(
        c["rows"],
        json!([{"key": "instagram", "clicks": 1}, {"key": "youtube", "clicks": 2}])
    );
    let c = app.get("/sellers/clicks?group_by=product", &s).await.body;
    assert_eq!(c["rows"], json!([{"key": "B0D45KS7QM", "clicks": 3}]));
    // A creator cannot read the seller view.
    assert_eq!(
        app.get("/sellers/clicks", &t).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn counts_are_written_by_the_flush_job_and_by_a_stop() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let app = TestApp::on_database(&url, &[]).await;
    let t = app.token(CREATOR).await;
    let link = new_link(
        &app,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    let (id, path) = (
        link["id"].as_str().unwrap().to_owned(),
        format!("/r/{}", code_of(&link)),
    );
    for i in 0..5 {
        visit(&app, Method::GET, &path, &format!("{PHONE} a{i}"), &[]).await;
    }
    // The job writes within about a second, without anyone asking.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let total = app.get(&format!("/links/{id}"), &t).await.body["clicks_total"].as_i64();
        if total == Some(5) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not flushed: {total:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Counted just before stopping: written by the stop.
    for i in 0..7 {
        visit(&app, Method::GET, &path, &format!("{PHONE} b{i}"), &[]).await;
    }
    let report = app.running.stop().await.unwrap();
    assert!(report.all_finished(), "{report:?}");
    let app = TestApp::on_database(&url, &[]).await;
    let t = app.token(CREATOR).await;
    let got = app.get(&format!("/links/{id}"), &t).await.body;
    assert_eq!(got["clicks_total"], 12);
    // The restarted server knows the code from the database.
    let r = visit(&app, Method::GET, &path, PHONE, &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn a_new_link_redirects_on_another_server_within_5_s_and_their_counts_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let a = TestApp::on_database(&url, &[]).await;
    let b = TestApp::on_database(&url, &[]).await;
    let t = a.token(CREATOR).await;
    let link = new_link(
        &a,
        &t,
        json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
    )
    .await;
    let (id, path) = (
        link["id"].as_str().unwrap().to_owned(),
        format!("/r/{}", code_of(&link)),
    );
    assert_eq!(
        visit(&a, Method::GET, &path, PHONE, &[]).await.status(),
        StatusCode::FOUND
    );
    let made = std::time::Instant::now();
    loop {
        let r = visit(&b, Method::GET, &path, &format!("{PHONE} b"), &[]).await;
        if r.status() == StatusCode::FOUND {
            assert_eq!(r.headers()["location"], link["url"].as_str().unwrap());
            break;
        }
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(
            made.elapsed() < Duration::from_secs(5),
            "not known on the other server after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both servers count the same link at once; their flushes add up exactly.
    let per_server = 200;
    let send = |app: &TestApp, tag: &'static str| {
        let (client, base, path) = (app.client.clone(), app.base.clone(), path.clone());
        async move {
            for i in 0..per_server {
                let r = client
                    .get(format!("{base}{path}"))
                    .header("user-agent", format!("{PHONE} {tag}{i}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::FOUND);
            }
        }
    };
    tokio::join!(send(&a, "a"), send(&b, "b"), send(&a, "c"), send(&b, "d"));
    let (ra, rb) = tokio::join!(a.running.stop(), b.running.stop());
    assert!(ra.unwrap().all_finished() && rb.unwrap().all_finished());
    let c = TestApp::on_database(&url, &[]).await;
    let t = c.token(CREATOR).await;
    let got = c
        .get(&format!("/links/{id}/clicks?group_by=device"), &t)
        .await
        .body;
    // The first click on `a`, the one that found the link on `b`, and 4 × 200.
    assert_eq!(got["total"], 2 + 4 * per_server, "{got}");
}
