//! The `quiver` binary's logs as an operator collects them: stderr redirected to a file or
//! a pipe, not a terminal.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sqlx::Connection;

/// A `quiver serve` whose stderr is a pipe the test reads line by line.
struct Served {
    child: std::process::Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Starts the binary with the zero-configuration SQLite database in a fresh directory.
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quiver"));
        cmd.args(["serve"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("QUIVER_") || k == "NO_COLOR" || k.starts_with("RUST_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("QUIVER_LISTEN", "127.0.0.1:0");
        cmd.env("QUIVER_DEMO_LINKS", "0");
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let mut served = Self {
            child,
            base: String::new(),
            lines,
            _dir: dir,
        };
        let started = Instant::now();
        let port = loop {
            let found = served.lines().iter().find_map(|l| {
                let at = l.find("Quiver is listening")?;
                let rest = &l[at..];
                let addr = &rest[rest.find("127.0.0.1:")? + "127.0.0.1:".len()..];
                let digits: String = addr.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u16>().ok()
            });
            if let Some(port) = found {
                break port;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no 'Quiver is listening' line: {:?}",
                served.lines()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        served.base = format!("http://127.0.0.1:{port}");
        served
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("quiver.db")
    }
}

#[test]
fn logs_redirected_to_a_pipe_carry_no_colour_codes() {
    let served = Served::start(&[]);
    let text = served.lines().join("\n");
    assert!(text.contains("Quiver is listening"), "{text}");
    assert!(
        !text.contains("\x1b["),
        "ANSI escape codes in redirected logs: {text:?}"
    );
}

/// A 500 is one short log line that names the request, however many there are: even with
/// `RUST_BACKTRACE=1` in the environment, no backtrace at the default level.
#[tokio::test]
async fn a_500_is_one_short_log_line_with_the_request_id() {
    for format in ["text", "json"] {
        let served = Served::start(&[("QUIVER_LOG_FORMAT", format), ("RUST_BACKTRACE", "1")]);
        let client = reqwest::Client::new();
        let login: serde_json::Value = client
            .post(format!("{}/token", served.base))
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
        let token = login["access_token"].as_str().unwrap().to_owned();

        // Break the storage under the running server: the next link listing fails inside.
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(served.db_path())
            .foreign_keys(false);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query("DROP TABLE links")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();

        let before = served.lines().len();
        let resp = client
            .get(format!("{}/get_all_links", served.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR, "{format}");
        let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "internal_error");

        // Give the logger time to write everything the failure causes.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let logged: Vec<String> = served.lines().split_off(before);
        let bytes: usize = logged.iter().map(|l| l.len() + 1).sum();
        assert!(
            bytes < 4096,
            "{format}: {bytes} bytes logged for one 500; first lines: {:?}",
            &logged[..logged.len().min(5)]
        );
        let mentions: Vec<&String> = logged.iter().filter(|l| l.contains(&request_id)).collect();
        assert_eq!(
            mentions.len(),
            1,
            "{format}: one line per error: {logged:?}"
        );
        let line = mentions[0];
        assert!(line.contains("internal error"), "{format}: {line}");
        assert!(line.contains("ERROR"), "{format}: {line}");
        assert!(
            line.contains("no such table"),
            "{format}: the cause: {line}"
        );
        assert!(line.len() < 1024, "{format}: {} bytes: {line}", line.len());
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["span"]["request_id"], request_id.as_str(), "{line}");
        }
    }
}
