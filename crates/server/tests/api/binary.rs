//! The `quiver` binary as a new user runs it: zero configuration, then the curl example it
//! prints, pasted into a shell.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn zero_configuration_start_prints_a_working_curl_example() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quiver"));
    cmd.arg("serve")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("QUIVER_") {
            cmd.env_remove(k);
        }
    }
    // The README's command listens on 8080; a test must not depend on that port being free.
    cmd.env("QUIVER_LISTEN", "127.0.0.1:0");
    let mut child = Child(cmd.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();

    let started = Instant::now();
    let mut banner = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.trim_start().starts_with("-H 'Content-Type");
        banner.push(line);
        if done || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let text = banner.join("\n");
    assert!(
        text.contains("creator@example.com") && text.contains("quiver-demo"),
        "{text}"
    );
    assert!(
        dir.path().join("quiver.db").exists(),
        "SQLite file in the working directory"
    );

    // The example, exactly as printed: a login, then a link creation.
    let script: Vec<&str> = banner
        .iter()
        .map(|l| l.trim())
        .skip_while(|l| !l.starts_with("TOKEN=$(curl"))
        .collect();
    assert!(script.len() >= 3, "{text}");
    let output = Command::new("bash")
        .arg("-c")
        .arg(script.join("\n"))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&output.stdout);
    let link: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(link["marketplace"], "amazon.de");
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.amazon.de/dp/B0D45KS7QM?maas=")
    );
}
