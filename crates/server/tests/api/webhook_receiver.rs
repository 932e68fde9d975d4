//! A real HTTP receiver for webhook tests: records every request and answers each as
//! planned (a status, or a stall past the sender's timeout), 204 once the plan runs out.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Waits this long before answering 204.
    Stall(Duration),
}

#[derive(Debug, Clone)]
pub struct Got {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }
}

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Got>>>,
    plan: Arc<Mutex<VecDeque<Answer>>>,
}

pub struct Receiver {
    pub url: String,
    pub port: u16,
    shared: Shared,
}

async fn hook(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    s.got.lock().unwrap().push(Got {
        headers,
        body: body.to_vec(),
    });
    let next = s.plan.lock().unwrap().pop_front();
    match next {
        Some(Answer::Status(c)) => StatusCode::from_u16(c).unwrap(),
        Some(Answer::Stall(d)) => {
            tokio::time::sleep(d).await;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NO_CONTENT,
    }
}

impl Receiver {
    pub async fn start(plan: &[Answer]) -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").await.unwrap(), plan)
    }

    pub fn on(listener: TcpListener, plan: &[Answer]) -> Self {
        let port = listener.local_addr().unwrap().port();
        let shared = Shared::default();
        shared.plan.lock().unwrap().extend(plan.iter().copied());
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            shared,
        }
    }

    pub fn got(&self) -> Vec<Got> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived, and returns them all.
    pub async fn wait(&self, n: usize) -> Vec<Got> {
        for _ in 0..400 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("expected {n} webhook requests, got {}", self.got().len());
    }
}

/// Flags for a server whose webhooks may reach this test's receivers quickly.
pub fn args(key: &str) -> Vec<String> {
    [
        "--secret-key",
        key,
        "--webhook-allow-http",
        "1",
        "--webhook-allow-private",
        "1",
        "--webhook-poll-ms",
        "50",
        "--webhook-timeout-ms",
        "500",
        "--webhook-retry-schedule",
        "100ms,100ms,100ms,100ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub fn new_key() -> String {
    quiver::secret_key::SecretKey::generate()
        .to_base64()
        .to_string()
}

/// A server with [`args`], where `extra` flags replace the defaults they name.
pub async fn spawn(extra: &[&str]) -> crate::support::TestApp {
    let key = new_key();
    let defaults = args(&key);
    let mut all: Vec<String> = Vec::new();
    for pair in defaults.chunks(2) {
        if !extra.contains(&pair[0].as_str()) {
            all.extend_from_slice(pair);
        }
    }
    all.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    crate::support::TestApp::with_args(&refs).await
}
