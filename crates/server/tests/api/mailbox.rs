//! A real SMTP server for tests that read the e-mails Quiver sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts messages (after refusing the first few transactions with a transient 451, when
/// asked to) and keeps each one's envelope and data.
pub struct Mailbox {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl Mailbox {
    pub async fn start() -> Self {
        Self::refusing(0).await
    }

    /// A mailbox that answers the first `refuse` MAIL commands with 451 (try again later).
    pub async fn refusing(refuse: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, refuse)
    }

    /// A mailbox on `port`: the server that was down comes back.
    pub async fn on_port(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        Self::serve(listener, 0)
    }

    fn serve(listener: TcpListener, refuse: usize) -> Self {
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(0usize));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (store, refused) = (store.clone(), refused.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 mailbox ESMTP\r\n").await;
                    let mut envelope = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-mailbox\r\n250 8BITMIME\r\n",
                            "HELO" | "RSET" | "NOOP" => b"250 OK\r\n",
                            "MAIL" => {
                                let mut n = refused.lock().unwrap();
                                if *n < refuse {
                                    *n += 1;
                                    b"451 try again later\r\n"
                                } else {
                                    envelope = format!("{line}\n");
                                    b"250 OK\r\n"
                                }
                            }
                            "RCPT" => {
                                envelope.push_str(&line);
                                envelope.push('\n');
                                b"250 OK\r\n"
                            }
                            "DATA" => {
                                let _ = write.write_all(b"354 end with .\r\n").await;
                                let mut data = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                                    data.push('\n');
                                }
                                store.lock().unwrap().push(format!("{envelope}\n{data}"));
                                b"250 OK queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { port, messages }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message so far, raw (envelope, blank line, data).
    pub fn raw(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// Every message to `to` so far.
    pub fn to(&self, to: &str) -> Vec<String> {
        let needle = format!("<{to}>");
        self.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|m| {
                m.lines()
                    .any(|l| l.starts_with("RCPT") && l.contains(&needle))
            })
            .map(|m| decode(m))
            .collect()
    }

    /// Waits for the `n`th (1-based) message to `to`.
    pub async fn wait(&self, to: &str, n: usize) -> String {
        for _ in 0..200 {
            if let Some(m) = self.to(to).get(n - 1) {
                return m.clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no message {n} to {to}; got {:?}", self.to(to));
    }
}

/// Undoes quoted-printable soft breaks and `=3D`, enough to read links.
fn decode(message: &str) -> String {
    message.replace("=\n", "").replace("=3D", "=")
}

/// The token of the first link into the web app's `screen` in `message`.
pub fn token(message: &str, screen: &str) -> String {
    let marker = format!("#/{screen}?token=");
    let start = message
        .find(&marker)
        .unwrap_or_else(|| panic!("no {screen} link in {message}"))
        + marker.len();
    message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
