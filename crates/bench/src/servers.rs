//! The processes a bench run starts: Quiver (`quiver serve` as every scenario runs it) and
//! the baseline, each killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The quiver binary: as given, or next to this one.
pub fn quiver_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_owned(),
        None => std::env::current_exe()?.with_file_name("quiver"),
    };
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it first (cargo build [--release] -p quiver)",
        path.display()
    );
    Ok(path)
}

/// A server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `cmd` and waits for a line containing `marker` followed by the base URL.
pub async fn start(mut cmd: Command, marker: &str) -> anyhow::Result<Server> {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = cmd.spawn().context("starting a server")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(line) = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await??
        else {
            break;
        };
        if let Some(rest) = line.split(marker).nth(1) {
            let base = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(Server { child, base });
        }
    }
    bail!("the server did not print '{marker}'")
}

/// `quiver serve` on `db_url` as every scenario runs it.
pub fn quiver_cmd(quiver: &Path, db_url: &str) -> Command {
    let mut q = Command::new(quiver);
    q.arg("serve")
        .env("QUIVER_DATABASE_URL", db_url)
        .env("QUIVER_AMAZON", "sim")
        .env("QUIVER_DEMO", "1")
        .env("QUIVER_RATE_LIMIT", "0")
        // Load from one account measures throughput, not the per-account quotas.
        .env("QUIVER_QUOTA_BULK_JOBS", "0")
        .env("QUIVER_QUOTA_BULK_ITEMS", "0")
        .env("QUIVER_QUOTA_LINKS_PER_DAY", "0")
        // The redirect scenario's clients are told apart by this header, as behind a proxy.
        .env("QUIVER_CLIENT_IP_HEADER", "X-Real-IP")
        .env("QUIVER_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    q
}
