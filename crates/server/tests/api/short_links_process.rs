//! Short links with the real `quiver` binary: counts across SIGTERM and kill -9, and logs
//! that carry neither a redirect's query string nor a client address.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::short_links::PHONE;

use crate::process::Server;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn token(c: &reqwest::Client, base: &str) -> String {
    let r: Value = c
        .post(format!("{base}/token"))
        .form(&[
            ("username", "creator@example.com"),
            ("password", "quiver-demo"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

/// A new link: `(id, short path)`.
async fn link(c: &reqwest::Client, base: &str, t: &str) -> (String, String) {
    let r: Value = c
        .post(format!("{base}/generate_attribution_link"))
        .bearer_auth(t)
        .json(&json!({"asin": "B0D45KS7QM", "marketplace": "amazon.de"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let short = r["short_url"].as_str().unwrap();
    (
        r["id"].as_str().unwrap().to_owned(),
        format!("/r/{}", short.rsplit_once("/r/").unwrap().1),
    )
}

async fn clicks(c: &reqwest::Client, base: &str, path: &str, n: usize, tag: &str) {
    for i in 0..n {
        let r = c
            .get(format!("{base}{path}"))
            .header("user-agent", format!("{PHONE} {tag}{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
    }
}

async fn total(c: &reqwest::Client, base: &str, t: &str, id: &str) -> i64 {
    let r: Value = c
        .get(format!("{base}/links/{id}"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["clicks_total"].as_i64().unwrap()
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("short.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_every_counted_click_before_exit() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let c = client();
    let mut s = Server::start_logged(&url, &[]);
    let t = token(&c, &s.base).await;
    let (id, path) = link(&c, &s.base, &t).await;
    clicks(&c, &s.base, &path, 150, "t").await;
    // At once: most of these are still in memory.
    s.signal("-TERM");
    s.wait_exit();
    let s = Server::start_logged(&url, &[]);
    let t = token(&c, &s.base).await;
    assert_eq!(total(&c, &s.base, &t, &id).await, 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_at_most_the_last_flush_interval() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let c = client();
    let mut s = Server::start_logged(&url, &[]);
    let t = token(&c, &s.base).await;
    let (id, path) = link(&c, &s.base, &t).await;
    let early = 120;
    clicks(&c, &s.base, &path, early, "early").await;
    // Longer than the 1 s interval (and a flush's time): these are written.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = 80;
    clicks(&c, &s.base, &path, late, "late").await;
    s.signal("-KILL");
    s.wait_exit();
    let s = Server::start_logged(&url, &[]);
    let t = token(&c, &s.base).await;
    let stored = total(&c, &s.base, &t, &id).await;
    let lost = (early + late) as i64 - stored;
    eprintln!(
        "kill -9: {stored} of {} clicks stored, {lost} lost (sent within the last interval)",
        early + late
    );
    assert!(
        stored >= early as i64 && stored <= (early + late) as i64,
        "{stored}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_query_string_or_client_address_of_a_click() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let c = client();
    let mut s = Server::start_logged(&url, &[("QUIVER_CLIENT_IP_HEADER", "X-Real-IP")]);
    let t = token(&c, &s.base).await;
    let (_, path) = link(&c, &s.base, &t).await;
    for p in [
        format!("{path}?secret=tracking-value-123"),
        "/r/ZZZZZZZZ?secret=tracking-value-123".to_owned(),
    ] {
        let r = c
            .get(format!("{}{p}", s.base))
            .header("user-agent", PHONE)
            .header("x-real-ip", "203.0.113.77")
            .header("referer", "https://social.example/post/private-path")
            .send()
            .await
            .unwrap();
        assert!(r.status() == StatusCode::FOUND || r.status() == StatusCode::NOT_FOUND);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.signal("-TERM");
    s.wait_exit();
    let log = s.log.lock().unwrap().clone();
    assert!(!log.is_empty());
    for secret in ["tracking-value-123", "203.0.113.77", "private-path"] {
        assert!(!log.contains(secret), "{secret} in the logs:\n{log}");
    }
}

/// Two `quiver serve` processes on one database (PostgreSQL when the suite runs on it):
/// a link made on one redirects on the other within 5 s, and clicks on both add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_add_up_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let c = client();
    let mut a = Server::start_logged(&url, &[]);
    let mut b = Server::start_logged(&url, &[]);
    let t = token(&c, &a.base).await;
    let (id, path) = link(&c, &a.base, &t).await;
    // Found on the other process by its poll; HEAD so that looking counts nothing.
    let made = std::time::Instant::now();
    loop {
        let r = c.head(format!("{}{path}", b.base)).send().await.unwrap();
        if r.status() == StatusCode::FOUND {
            break;
        }
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(
            made.elapsed() < Duration::from_secs(5),
            "not known on b after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let n = 150;
    tokio::join!(
        clicks(&c, &a.base, &path, n, "a"),
        clicks(&c, &b.base, &path, n, "b"),
        clicks(&c, &a.base, &path, n, "c"),
    );
    // One process flushes on its own interval, the other on SIGTERM.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    clicks(&c, &b.base, &path, n, "d").await;
    for s in [&mut a, &mut b] {
        s.signal("-TERM");
    }
    a.wait_exit();
    b.wait_exit();
    let s = Server::start_logged(&url, &[]);
    let t = token(&c, &s.base).await;
    assert_eq!(total(&c, &s.base, &t, &id).await, 4 * n as i64);
}
