//! The real `quiver` binary as its own OS process, for what only separate processes show:
//! kill -9, SIGTERM, and several processes sharing one database. The test's own
//! `QUIVER_*` variables are removed, so each process gets exactly the settings given.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
    /// The process's log (stderr, at debug), when started with [`Server::start_logged`].
    pub log: Arc<Mutex<String>>,
}

/// A test that fails mid-way still ends its processes.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `quiver serve` on `db_url` with the simulator, the demo accounts, no rate limit, no
    /// ingestion schedule and a free port; `env` adds to or replaces those settings.
    pub fn start(db_url: &str, env: &[(&str, &str)]) -> Self {
        Self::spawn(db_url, env, false)
    }

    /// As [`Server::start`], keeping the log at debug level in [`Server::log`].
    pub fn start_logged(db_url: &str, env: &[(&str, &str)]) -> Self {
        Self::spawn(db_url, env, true)
    }

    fn spawn(db_url: &str, env: &[(&str, &str)], logged: bool) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quiver"));
        for (k, _) in std::env::vars() {
            if k.starts_with("QUIVER_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("serve")
            .env("QUIVER_DATABASE_URL", db_url)
            .env("QUIVER_AMAZON", "sim")
            .env("QUIVER_DEMO", "1")
            .env("QUIVER_RATE_LIMIT", "0")
            .env("QUIVER_INGEST_INTERVAL_SECS", "0")
            .env("QUIVER_LISTEN", "127.0.0.1:0");
        if logged {
            cmd.env("RUST_LOG", "debug").stderr(Stdio::piped());
        } else {
            cmd.stderr(Stdio::null());
        }
        cmd.envs(env.iter().copied()).stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut l = sink.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("server exited").unwrap();
            if let Some(rest) = line.strip_prefix("Quiver is running at ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // A full pipe would block the server's prints.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base, log }
    }

    /// Sends `sig` (`-TERM`, `-KILL`) to the process.
    pub fn signal(&mut self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    /// Waits (up to 30 s) for the process to exit.
    pub fn wait_exit(&mut self) {
        for _ in 0..300 {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not exit");
    }
}
