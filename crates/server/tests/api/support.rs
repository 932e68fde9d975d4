//! Spawning Quiver for a test, and a small HTTP client around it.

use std::time::Duration;

use amazon_sim::{Faults, SimHandle};
use clap::Parser;
use quiver::cli::serve::{self, Running};
use quiver::cli::{Cli, Command};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const PASSWORD: &str = "quiver-demo";
pub const CREATOR: &str = "creator@example.com";
pub const CREATOR2: &str = "creator2@example.com";
pub const SELLER: &str = "brand@example.com";

pub struct TestApp {
    pub running: Running,
    pub base: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A fresh PostgreSQL database when `QUIVER_TEST_POSTGRES_URL` names a server (the suite
/// runs once per engine); `None` when it is unset or empty.
pub async fn fresh_postgres_url() -> Option<String> {
    use sqlx::Connection;
    let admin_url = std::env::var("QUIVER_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("quiver_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

/// The database for one test: a fresh PostgreSQL database when the suite runs on
/// PostgreSQL, else a fresh SQLite file in `dir`.
async fn database_url(dir: &tempfile::TempDir) -> String {
    match fresh_postgres_url().await {
        Some(url) => url,
        None => format!("sqlite://{}", dir.path().join("quiver.db").display()),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with_args(&[]).await
    }

    /// Starts Quiver through the same path as `quiver serve`, with extra flags, on a
    /// database of its own.
    pub async fn with_args(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = database_url(&dir).await;
        Self::start(&url, extra, dir).await
    }

    async fn start(url: &str, extra: &[&str], dir: tempfile::TempDir) -> Self {
        let mut args = vec!["quiver", "serve", "--listen", "127.0.0.1:0", "--demo", "1"];
        // Tests want the demo accounts without the sample links.
        if !extra.contains(&"--demo-links") {
            args.extend_from_slice(&["--demo-links", "0"]);
        }
        if !extra.contains(&"--amazon") {
            args.extend_from_slice(&["--amazon", "sim"]);
        }
        if !extra.contains(&"--rate-limit") {
            args.extend_from_slice(&["--rate-limit", "0"]);
        }
        args.extend_from_slice(extra);
        let cli = Cli::try_parse_from(args).unwrap();
        let Command::Serve(cfg) = cli.command else {
            unreachable!()
        };
        let running = serve::start(url, &cfg).await.unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base: running.base_url(),
            running,
            client,
            _dir: dir,
        }
    }

    pub fn sim(&self) -> &SimHandle {
        self.running.amazon.sim.as_ref().unwrap()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.sim().set_faults(faults);
    }

    pub fn outage(&self, on: bool) {
        self.set_faults(Faults {
            outage: on,
            ..self.sim().faults()
        });
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = build(req).send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), |r| r).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), |r| r.json(&body))
            .await
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), |r| r.json(&body))
            .await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.send(Method::POST, path, None, |r| r.form(&form)).await
    }

    pub async fn login(&self, email: &str) -> Value {
        let r = self
            .post_form("/token", &[("username", email), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "login of {email}: {:?}", r.body);
        r.body
    }

    pub async fn token(&self, email: &str) -> String {
        self.login(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn create_link(&self, token: &str, asin: &str, marketplace: &str) -> Reply {
        self.post_json(
            "/generate_attribution_link",
            token,
            serde_json::json!({ "asin": asin, "marketplace": marketplace }),
        )
        .await
    }

    pub async fn account_id(&self, email: &str) -> String {
        self.running
            .state
            .db
            .account_by_email(email)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    pub async fn link_count(&self, email: &str) -> i64 {
        let id = self.account_id(email).await;
        self.running.state.db.count_links(&id).await.unwrap()
    }

    /// A new publisher account that has nothing yet.
    pub async fn new_publisher(&self, email: &str) -> String {
        quiver::accounts::create_account(
            &self.running.state.db,
            email,
            PASSWORD,
            quiver_domain::AccountKind::Publisher,
            "Test Publisher",
            None,
        )
        .await
        .unwrap();
        self.token(email).await
    }
}

/// A fresh database for tests that start several servers on one database (SQLite file in
/// `dir`, or a new PostgreSQL database when the suite runs on PostgreSQL).
pub async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    database_url(dir).await
}

impl TestApp {
    /// Starts Quiver on an existing database, as another process sharing it would (demo
    /// data is seeded only into an empty database).
    pub async fn on_database(url: &str, extra: &[&str]) -> Self {
        Self::start(url, extra, tempfile::tempdir().unwrap()).await
    }

    /// Runs one statement on the server's database, behind its back: for tests that need
    /// a state the API cannot make (a stored value it would never write).
    pub async fn execute_sql(&self, sql: &'static str) {
        match &self.running.state.db {
            quiver::store::Db::Sqlite { write, .. } => sqlx::query(sql)
                .execute(write)
                .await
                .map(|r| r.rows_affected()),
            quiver::store::Db::Postgres(pool, _) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        }
        .unwrap();
    }

    /// GET returning the raw body text (CSV downloads).
    pub async fn get_text(&self, path: &str, token: &str) -> (StatusCode, HeaderMap, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }
}
