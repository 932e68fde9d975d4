//! Short links under pressure (issue #19): a short code another link already holds is
//! drawn again, and a link's distinct referrer hosts are capped per hour.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::short_links::{DESKTOP, code_of, visit};
use crate::support::{CREATOR, TestApp};

async fn new_link(app: &TestApp, t: &str) -> Value {
    let r = app
        .post_json(
            "/generate_attribution_link",
            t,
            json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn a_short_code_another_link_holds_is_drawn_again() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let first = new_link(&app, &t).await;
    // A code this process has never seen (as if another process had just stored it):
    // only the database's unique index knows it is taken.
    app.execute_sql(
        "UPDATE links SET short_code = 'Collide1' WHERE id = (SELECT MAX(id) FROM links)",
    )
    .await;
    let clicks = &app.running.state.clicks;
    assert!(!clicks.codes.contains("Collide1"));
    clicks.offer_codes(["Collide1".to_owned()]);
    let second = new_link(&app, &t).await;
    let code = code_of(&second);
    assert_ne!(code, "Collide1");
    assert_ne!(code, code_of(&first));
    // What was answered is what was stored, and it redirects.
    let id = second["id"].as_str().unwrap();
    let got = app.get(&format!("/links/{id}"), &t).await.body;
    assert_eq!(got["short_url"], second["short_url"]);
    let r = visit(&app, Method::GET, &format!("/r/{code}"), DESKTOP, &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], second["url"].as_str().unwrap());

    // A code this process knows is not even tried against the database.
    let known = code_of(&second);
    clicks.offer_codes([known.clone()]);
    let third = new_link(&app, &t).await;
    assert_ne!(code_of(&third), known);
    // The offered codes are used up: the next link gets a random one.
    let fourth = new_link(&app, &t).await;
    assert_eq!(code_of(&fourth).len(), 8);
}

#[tokio::test]
async fn referrer_hosts_past_50_per_link_hour_are_counted_as_other() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let link = new_link(&app, &t).await;
    let path = format!("/r/{}", code_of(&link));
    let (hosts, extra) = (50, 7);
    for i in 0..hosts + extra {
        let referer = format!("https://site-{i}.example/post");
        let r = visit(
            &app,
            Method::GET,
            &path,
            &format!("{DESKTOP} client-{i}"),
            &[("referer", &referer)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FOUND);
    }
    // A host already seen keeps its own row past the cap; `direct` is no host.
    visit(
        &app,
        Method::GET,
        &path,
        &format!("{DESKTOP} again"),
        &[("referer", "https://site-3.example/")],
    )
    .await;
    visit(&app, Method::GET, &path, &format!("{DESKTOP} direct"), &[]).await;
    quiver::jobs::click_flush::flush(&app.running.state).await;
    let id = link["id"].as_str().unwrap();
    let c = app
        .get(&format!("/links/{id}/clicks?group_by=referrer"), &t)
        .await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
    assert_eq!(c.body["total"], hosts + extra + 2);
    let rows = c.body["rows"].as_array().unwrap();
    let count = |key: &str| {
        rows.iter()
            .find(|r| r["key"] == key)
            .map_or(0, |r| r["clicks"].as_i64().unwrap())
    };
    assert_eq!(count("other"), extra);
    assert_eq!(count("site-3.example"), 2);
    assert_eq!(count("direct"), 1);
    assert_eq!(count(&format!("site-{}.example", hosts + 1)), 0);
    // 50 hosts, `other` and `direct`.
    assert_eq!(rows.len(), hosts as usize + 2, "{rows:?}");
}
