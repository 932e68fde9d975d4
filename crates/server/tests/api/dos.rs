//! Denial of service from one unauthenticated client: metrics cardinality, password-hash
//! bursts, slow clients, rate-limit keys and the login throttle under concurrency. The
//! margins are generous (the suite runs on a loaded two-core machine); each test fails by
//! orders of magnitude without its fix.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

async fn metrics_text(app: &TestApp) -> String {
    app.client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn made_up_http_methods_do_not_add_metric_series() {
    let app = TestApp::spawn().await;
    for i in 0..300 {
        let method = Method::from_bytes(format!("M{i:063}").as_bytes()).unwrap();
        app.send(method, "/healthz", None, |r| r).await;
    }
    app.send(Method::GET, "/healthz", None, |r| r).await;
    app.send(Method::GET, "/no/such/path", None, |r| r).await;
    let text = metrics_text(&app).await;
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("quiver_http_requests_total{"))
        .collect();
    assert!(series.len() < 20, "{} series:\n{text}", series.len());
    let methods: HashSet<&str> = series
        .iter()
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(methods.contains("other"), "{methods:?}");
    assert!(methods.contains("GET"), "{methods:?}");
    assert!(methods.len() <= 8, "{methods:?}");
    assert!(
        series.iter().any(|l| l.contains(r#"route="unmatched""#)),
        "{text}"
    );
}

/// The test process's resident memory now and at its peak, in KiB (the server runs in it).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_bad_logins_is_bounded_in_memory_and_answered_quickly() {
    // The per-address connection cap would refuse most of the burst before it reaches
    // the login path; this test is about what the login path does with it.
    let app = TestApp::with_args(&["--max-connections-per-client", "0"]).await;
    // Warm up: one verification, so the idle figure includes argon2's first allocation.
    app.post_form(
        "/token",
        &[("username", "warm@example.com"), ("password", "x")],
    )
    .await;
    let (idle_rss, _) = memory_kib();
    let started = Instant::now();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let client = app.client.clone();
            let url = format!("{}/token", app.base);
            tokio::spawn(async move {
                let sent = Instant::now();
                let user = format!("nobody{i}@example.com");
                let r = client
                    .post(url)
                    .form(&[("username", user.as_str()), ("password", "wrong-password")])
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let retry = r.headers().get("retry-after").cloned();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, retry, body, sent.elapsed())
            })
        })
        .collect();
    let mut by_status = BTreeMap::<u16, usize>::new();
    for t in tasks {
        let (status, retry, body, took) = t.await.unwrap();
        *by_status.entry(status.as_u16()).or_default() += 1;
        assert!(
            [401, 429, 503].contains(&status.as_u16()),
            "{status} {body}"
        );
        assert!(
            body["detail"].is_string() && body["code"].is_string(),
            "{body}"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(body["code"], "server_busy");
            assert!(retry.is_some(), "503 without Retry-After");
            assert!(
                took < Duration::from_secs(10),
                "a busy answer took {took:?}"
            );
        }
    }
    let (after_rss, peak) = memory_kib();
    // Without a bound the burst runs 200 argon2 verifications of 19 MiB at once (about
    // 3.8 GiB); with it a few run at a time.
    let budget = idle_rss + 300 * 1024;
    assert!(
        peak < budget,
        "peak {peak} KiB, idle {idle_rss} KiB, statuses {by_status:?}"
    );
    assert!(
        after_rss < budget,
        "after {after_rss} KiB, idle {idle_rss} KiB"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // Some were verified: the bound is a queue, not a wall.
    assert!(
        by_status.get(&401).copied().unwrap_or(0) >= 1,
        "{by_status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_cannot_outrun_the_login_throttle() {
    let app = TestApp::spawn().await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}/token", app.base);
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .form(&[("username", CREATOR), ("password", "wrong-password")])
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, body)
            })
        })
        .collect();
    let mut by_status = BTreeMap::<u16, usize>::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        *by_status.entry(status.as_u16()).or_default() += 1;
        match status.as_u16() {
            401 => assert_eq!(body["code"], "bad_credentials"),
            429 => assert_eq!(body["code"], "too_many_attempts"),
            // A loaded machine may turn some away before they are counted.
            503 => assert_eq!(body["code"], "server_busy"),
            other => panic!("{other}: {body}"),
        }
    }
    // At most the 10 the per-username limit allows reached the password check.
    let checked = by_status.get(&401).copied().unwrap_or(0);
    assert!((1..=10).contains(&checked), "{by_status:?}");
    // The account stays locked for its window, even for the right password.
    let r = app
        .post_form("/token", &[("username", CREATOR), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "too_many_attempts");
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn random_bearer_tokens_share_their_address_budget() {
    let app = TestApp::with_args(&["--rate-limit", "30"]).await;
    let t = app.token(CREATOR).await;
    assert_eq!(app.get("/get_affiliateID", &t).await.status, StatusCode::OK);
    let mut first_limited = None;
    for i in 0..100 {
        let r = app
            .get("/get_affiliateID", &format!("made-up-token-{i}"))
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.code(), "rate_limited");
            assert!(r.header("retry-after").is_some());
            first_limited = Some(i);
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let n = first_limited.expect("made-up tokens were never limited");
    assert!(n <= 30, "limited only after {n} requests");
    // A token that validated keeps its own budget.
    assert_eq!(app.get("/get_affiliateID", &t).await.status, StatusCode::OK);
}

/// Reads until the server closes the connection, or gives up after `within`.
/// `Ok(bytes)` when it closed, `Err(bytes)` when it was still open.
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Result<Vec<u8>, Vec<u8>> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return Err(got),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// `GET /healthz` on `s`: the whole answer, or nothing when the server closed it unasked.
async fn healthz_over(s: &mut TcpStream) -> String {
    let _ = s
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: quiver\r\nConnection: close\r\n\r\n")
        .await;
    let got = read_until_closed(s, Duration::from_secs(10))
        .await
        .expect("the server answers and closes");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_closed_and_do_not_hold_the_server() {
    let app = TestApp::with_args(&["--header-read-timeout-secs", "2"]).await;
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut s = TcpStream::connect(app.running.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: quiver\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let opened = Instant::now();
    // Trickle a header byte on each now and then, as slowloris does.
    let trickle = async {
        for _ in 0..6 {
            for s in &mut slow {
                let _ = s.write_all(b"X").await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let normal = async {
        let took = Instant::now();
        let r = app.send(Method::GET, "/healthz", None, |r| r).await;
        (r.status, took.elapsed())
    };
    let ((status, took), ()) = tokio::join!(normal, trickle);
    assert_eq!(status, StatusCode::OK);
    assert!(
        took < Duration::from_secs(5),
        "a normal request took {took:?}"
    );
    for (i, s) in slow.iter_mut().enumerate() {
        let closed = read_until_closed(s, Duration::from_secs(15)).await;
        assert!(
            closed.is_ok(),
            "slow connection {i} still open after {:?}",
            opened.elapsed()
        );
    }
    assert!(opened.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_address_cap_are_closed() {
    let app = TestApp::with_args(&["--max-connections-per-client", "8"]).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(app.running.addr).await.unwrap());
    }
    // Give the server time to accept them all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = TcpStream::connect(app.running.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: quiver\r\n\r\n")
        .await;
    let got = read_until_closed(&mut extra, Duration::from_secs(5))
        .await
        .expect("the ninth connection is closed");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    // The held ones still work, and once one closes there is room again.
    let reply = healthz_over(&mut held[0]).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    drop(held.remove(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut again = TcpStream::connect(app.running.addr).await.unwrap();
        let reply = healthz_over(&mut again).await;
        if reply.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no room after a connection closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_body_times_out_with_408() {
    let app = TestApp::with_args(&["--body-read-timeout-secs", "1"]).await;
    let mut s = TcpStream::connect(app.running.addr).await.unwrap();
    s.write_all(
        b"POST /token HTTP/1.1\r\nHost: quiver\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let got = read_until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("the server gives up on the body");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""code":"request_timeout""#), "{text}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected() {
    let app = TestApp::with_args(&["--idle-timeout-secs", "1"]).await;
    // A small receive window, and many pipelined requests whose answers are never read,
    // so the server's writes stall.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(app.running.addr).await.unwrap();
    let request = b"GET /openapi.json HTTP/1.1\r\nHost: quiver\r\n\r\n";
    let doc_len = app
        .send(Method::GET, "/openapi.json", None, |r| r)
        .await
        .body
        .to_string()
        .len();
    let count = (16 * 1024 * 1024 / doc_len).max(8);
    let mut pipelined = Vec::new();
    for _ in 0..count {
        pipelined.extend_from_slice(request);
    }
    // The server stops reading too once its writes stall; write what it takes.
    let _ = tokio::time::timeout(Duration::from_secs(2), s.write_all(&pipelined)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = read_until_closed(&mut s, Duration::from_secs(20)).await;
    let answers = |got: &[u8]| got.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    let got =
        got.unwrap_or_else(|got| panic!("still open after {} of {count} answers", answers(&got)));
    assert!(answers(&got) < count, "every answer was delivered");
}
