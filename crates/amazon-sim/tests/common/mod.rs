//! Helpers shared by the integration tests: a simulator on a free port and a client that
//! speaks to it like Quiver does.
#![allow(dead_code, clippy::unwrap_used)]

use amazon_sim::{SimConfig, SimHandle};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use time::Date;
use time::macros::date;

pub const TODAY: Date = date!(2026 - 03 - 01);
pub const PROFILE: &str = "111";
pub const ADVERTISER: &str = "4242";

pub async fn sim_with(config: SimConfig) -> SimHandle {
    amazon_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub async fn sim() -> SimHandle {
    sim_with(SimConfig {
        today: Some(TODAY),
        ..SimConfig::default()
    })
    .await
}

pub struct Api {
    pub sim: SimHandle,
    pub http: Client,
    pub token: String,
}

impl Api {
    pub async fn new(sim: SimHandle) -> Self {
        let http = Client::new();
        let token = token(&http, &sim).await;
        Self { sim, http, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// A request with the bearer, client id and scope headers Amazon requires.
    pub fn authed(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("Amazon-Advertising-API-ClientId", "quiver-sim-client")
            .header("Amazon-Advertising-API-Scope", PROFILE)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.authed(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
    }

    pub async fn report(&self, body: Value) -> Response {
        self.authed(reqwest::Method::POST, "/attribution/report")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A report that must succeed.
    pub async fn report_ok(&self, body: Value) -> Value {
        let r = self.report(body.clone()).await;
        assert_eq!(r.status(), 200, "{body}");
        r.json().await.unwrap()
    }

    /// Every row of a report, following cursors.
    pub async fn report_all(&self, mut body: Value) -> Vec<Value> {
        let mut rows = Vec::new();
        loop {
            let page = self.report_ok(body.clone()).await;
            let reports = page["reports"].as_array().unwrap();
            assert_eq!(page["size"].as_u64().unwrap() as usize, reports.len());
            rows.extend(reports.iter().cloned());
            match page["cursorId"].as_str() {
                Some(c) => body["cursorId"] = json!(c),
                None => return rows,
            }
        }
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn sim_put(&self, path: &str, body: Value) -> Response {
        self.http
            .put(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn visit(&self, url: &str, date: &str, clicks: u64) -> Value {
        let r = self
            .sim_post(
                "/_sim/visits",
                json!({"url": url, "date": date, "clicks": clicks}),
            )
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn truth(&self, advertiser: &str, start: &str, end: &str) -> Value {
        let r = self
            .http
            .get(self.url("/_sim/truth"))
            .query(&[("advertiserId", advertiser), ("start", start), ("end", end)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

pub async fn token(http: &Client, sim: &SimHandle) -> String {
    let r = http
        .post(format!("{}/auth/o2/token", sim.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "quiver-sim-refresh"),
            ("client_id", "quiver-sim-client"),
            ("client_secret", "quiver-sim-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A filled non-macro attribution URL for `ADVERTISER`.
pub fn link(market: &str, asin: &str, campaign: &str, ad_group: &str, creative: &str) -> String {
    format!(
        "https://www.{market}/dp/{asin}?maas=maas_adg_api_{ADVERTISER}_static_9_99&ref_=aa_maas&tag=maas\
         &aa_campaignid={campaign}&aa_adgroupid={ad_group}&aa_creativeid={creative}"
    )
}

/// Asserts a 400 MaaSError.
pub async fn assert_maas(r: Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], json!(status.to_string()), "{body}");
    body["details"].as_str().unwrap().to_owned()
}
