//! Account e-mails are kept in the database until sent (issue #17): a mail queued while
//! the SMTP server is down goes out once it is back, one queued before a `kill -9` goes
//! out after the restart, several processes on one database send each mail once, and the
//! database never holds a link in clear.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use quiver::secret_key::SecretKey;
use quiver::store::Db;
use quiver::store::mail_outbox::{MailRow, MailStatus, aad};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::mailbox::{self, Mailbox};
use crate::process::Server;
use crate::support::*;

/// In every link Quiver e-mails here (the public URL), so finding it stored means a leak.
const CANARY: &str = "mail-canary-4f1d";
const NEW_PASSWORD: &str = "a long and unguessable passphrase 7";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn forgot(base: &str, email: &str) {
    let r = reqwest::Client::new()
        .post(format!("{base}/password/forgot"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

async fn reset(base: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/password/reset"))
        .json(&json!({ "token": token, "password": NEW_PASSWORD }))
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits until the stored mails satisfy `done`, and returns them.
async fn wait_rows(db: &Db, what: &str, done: impl Fn(&[MailRow]) -> bool) -> Vec<MailRow> {
    for _ in 0..400 {
        let rows = db.mails().await.unwrap();
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: {:?}", db.mails().await.unwrap());
}

async fn stored_sealed(db: &Db) -> Vec<String> {
    const SQL: &str = "SELECT sealed FROM mail_outbox ORDER BY id";
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(SQL).fetch_all(read).await,
        Db::Postgres(pool, _) => sqlx::query_scalar(SQL).fetch_all(pool).await,
    }
    .unwrap()
}

fn retrying(rows: &[MailRow], attempts: i32) -> bool {
    rows.len() == 1
        && rows[0].status == MailStatus::Pending
        && rows[0].attempts >= attempts
        && rows[0].last_error.is_some()
}

/// Every byte of the SQLite database and its WAL.
fn sqlite_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("quiver.db") && !name.ends_with(".key") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn args<'a>(smtp: &'a str, key: &'a str, public: &'a str, attempts: &'a str) -> Vec<&'a str> {
    vec![
        "--smtp-url",
        smtp,
        "--secret-key",
        key,
        "--public-url",
        public,
        "--bulk-retry-base-ms",
        "100",
        "--bulk-poll-ms",
        "50",
        "--smtp-max-attempts",
        attempts,
    ]
}

#[tokio::test]
async fn a_mail_queued_while_the_smtp_server_is_down_is_sent_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let key = SecretKey::generate().to_base64();
    let public = format!("http://{CANARY}.example");
    let app = TestApp::on_database(&url, &args(&smtp, &key, &public, "50")).await;
    let r = app
        .send(Method::POST, "/password/forgot", None, |r| {
            r.json(&json!({ "email": CREATOR }))
        })
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let db = app.running.state.db.clone();
    let rows = wait_rows(&db, "retried while down", |r| retrying(r, 2)).await;
    assert_eq!(rows[0].kind, "reset");
    assert_eq!(rows[0].recipient, CREATOR);
    assert!(rows[0].next_attempt_at.is_some());
    // Stored sealed, on either engine: the body opens with the key, bound to its row.
    let sealed = stored_sealed(&db).await;
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].contains(CANARY));
    let key = SecretKey::from_base64(&key).unwrap();
    let raw = STANDARD.decode(&sealed[0]).unwrap();
    let plain = key.open(&raw, &aad(&rows[0].id, CREATOR)).unwrap();
    assert!(contains(&plain, CANARY), "the sealed body is the mail");
    assert!(key.open(&raw, &aad(&rows[0].id, CREATOR2)).is_err());

    let mailbox = Mailbox::on_port(port).await;
    let message = mailbox.wait(CREATOR, 1).await;
    assert!(message.contains(CANARY), "{message}");
    let token = mailbox::token(&message, "reset");
    wait_rows(&db, "sent mail deleted", <[MailRow]>::is_empty).await;
    assert_eq!(reset(&app.base, &token).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mailbox.to(CREATOR).len(), 1, "sent once");
    app.running.stop().await.unwrap();
    if url.starts_with("sqlite:") {
        let bytes = sqlite_bytes(dir.path());
        assert!(bytes.len() > 10_000, "the database was read");
        assert!(
            !contains(&bytes, &token),
            "the reset token is stored in clear"
        );
        assert!(
            !contains(&bytes, CANARY),
            "the mail's link is stored in clear"
        );
    }
}

#[tokio::test]
async fn a_mail_is_given_up_after_its_attempts_and_kept_as_failed() {
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let key = SecretKey::generate().to_base64();
    let app = TestApp::with_args(&args(&smtp, &key, "http://127.0.0.1:1", "2")).await;
    let r = app
        .send(Method::POST, "/password/forgot", None, |r| {
            r.json(&json!({ "email": CREATOR }))
        })
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let db = app.running.state.db.clone();
    let rows = wait_rows(&db, "given up", |r| {
        r.len() == 1 && r[0].status == MailStatus::Failed
    })
    .await;
    assert_eq!(rows[0].attempts, 2);
    assert_eq!(rows[0].next_attempt_at, None);
    assert!(rows[0].last_error.as_deref().is_some_and(|e| !e.is_empty()));
    let mailbox = Mailbox::on_port(port).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(mailbox.raw().is_empty(), "a failed mail is not tried again");
    app.running.stop().await.unwrap();
}

/// The first mail to `to`, waiting out the retry delay the killed process left.
async fn wait_long(mailbox: &Mailbox, to: &str) -> String {
    for _ in 0..600 {
        if let Some(m) = mailbox.to(to).first() {
            return m.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to}");
}

fn start_process(db_url: &str, key: &str, smtp: &str) -> (Server, String) {
    let public = format!("http://{CANARY}.example");
    let server = Server::start(
        db_url,
        &[
            ("QUIVER_SECRET_KEY", key),
            ("QUIVER_SMTP_URL", smtp),
            ("QUIVER_PUBLIC_URL", &public),
            // Long enough that no mail is mid-attempt (leased) when the test kills the process.
            ("QUIVER_BULK_RETRY_BASE_MS", "1000"),
            ("QUIVER_BULK_POLL_MS", "50"),
            ("QUIVER_SMTP_MAX_ATTEMPTS", "50"),
            ("QUIVER_DEMO_LINKS", "0"),
        ],
    );
    let base = server.base.clone();
    (server, base)
}

#[tokio::test]
async fn mails_queued_before_a_kill_9_are_sent_after_the_restart_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let key = SecretKey::generate().to_base64();
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let (mut server, base) = start_process(&url, &key, &smtp);
    let to = [CREATOR, CREATOR2, SELLER];
    for email in to {
        forgot(&base, email).await;
    }
    let db = Db::connect(&url).await.unwrap();
    wait_rows(&db, "all tried while down", |r| {
        r.len() == 3 && r.iter().all(|m| m.attempts >= 1)
    })
    .await;
    server.kill_9();
    drop(server);

    // The SMTP server is back, and two processes share the database: each mail goes once.
    let mailbox = Mailbox::on_port(port).await;
    let (_a, base_a) = start_process(&url, &key, &smtp);
    let (_b, _base_b) = start_process(&url, &key, &smtp);
    let mut tokens = Vec::new();
    for email in to {
        let message = wait_long(&mailbox, email).await;
        tokens.push(mailbox::token(&message, "reset"));
    }
    wait_rows(&db, "every sent mail deleted", <[MailRow]>::is_empty).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    for email in to {
        assert_eq!(mailbox.to(email).len(), 1, "one mail to {email}");
    }
    // The links the restarted processes sent are the ones the killed one stored.
    assert_eq!(reset(&base_a, &tokens[0]).await, StatusCode::OK);
    db.close().await;
}
