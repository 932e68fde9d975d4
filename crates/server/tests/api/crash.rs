//! kill -9 during link creation: every link a client was told about (201) exists exactly
//! once after a restart, retries with the same Idempotency-Key create nothing new, and the
//! SQLite file passes `PRAGMA integrity_check`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::process::Server;

fn start(db_url: &str) -> Server {
    Server::start(db_url, &[])
}

async fn token(client: &reqwest::Client, base: &str) -> String {
    let r: Value = client
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

async fn create(
    client: &reqwest::Client,
    base: &str,
    t: &str,
    i: usize,
) -> Option<(StatusCode, Value)> {
    let m = ["amazon.com", "amazon.de", "amazon.es"][i % 3];
    let r = client
        .post(format!("{base}/generate_attribution_link"))
        .bearer_auth(t)
        .header("Idempotency-Key", format!("crash-{i}"))
        .json(&json!({"asin": "B0D45KS7QM", "marketplace": m, "link_name": format!("crash-{i}")}))
        .send()
        .await
        .ok()?;
    let status = r.status();
    Some((status, r.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_link_creation_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("crash.db");
    let url = format!("sqlite://{}", db_path.display());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let server = start(&url);
    let t = token(&client, &server.base).await;
    let acked: Arc<Mutex<HashMap<usize, String>>> = Arc::default();
    let total = 2_000;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, base, t, acked, next) = (
            client.clone(),
            server.base.clone(),
            t.clone(),
            acked.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                match create(&client, &base, &t, i).await {
                    Some((StatusCode::CREATED, body)) => {
                        acked
                            .lock()
                            .unwrap()
                            .insert(i, body["id"].as_str().unwrap().to_owned());
                    }
                    Some(_) => {}
                    None => break, // the server is gone
                }
            }
        }));
    }
    // Kill once a good part, but not all, of the work is acknowledged.
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(server); // SIGKILL
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = next.load(std::sync::atomic::Ordering::Relaxed).min(total);
    assert!(
        acked.len() < attempted,
        "the kill landed mid-run ({} of {attempted})",
        acked.len()
    );

    let server = start(&url);
    let t = token(&client, &server.base).await;
    for (i, id) in &acked {
        let r = client
            .get(format!("{}/links/{id}", server.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "acknowledged link {i} ({id}) survived"
        );
    }
    // Retrying everything that was attempted with the same keys creates nothing twice.
    for i in 0..attempted {
        let (status, body) = create(&client, &server.base, &t, i).await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        if let Some(id) = acked.get(&i) {
            assert_eq!(
                body["id"].as_str(),
                Some(id.as_str()),
                "retry {i} replays the first response"
            );
        }
    }
    let listing: Value = client
        .get(format!(
            "{}/get_all_links?marketplace=all&limit=1&link_name=crash-",
            server.base
        ))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listing["total_count"].as_u64(),
        Some(attempted as u64),
        "one link per key, none duplicated"
    );
    drop(server);

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok");
}
