//! The queue of account e-mails (verification, reset, invitations...). Handlers queue a
//! mail and return at once; the `account_mail` job sends it through the configured SMTP
//! server with retries, so a slow relay never slows or reveals anything in the request
//! that asked for it.
//!
//! With an SMTP server and the server's secret key, the queue is the `mail_outbox` table:
//! a mail is stored (sealed: its link is a single-use token) in the same transaction as
//! the change that causes it where the store has one, so a crash or restart loses none.
//! Without a secret key (PostgreSQL with no QUIVER_SECRET_KEY) there is nothing to seal
//! with, so mails wait in memory as before. With no SMTP server the link is logged at INFO
//! instead, so a local operator can still follow it; that is the only place a token is
//! ever written to a log.

use std::sync::{Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use zeroize::Zeroizing;

use crate::secret_key::SecretKey;
use crate::store::mail_outbox::{self, ClaimedMail, NewMail};
use crate::store::{Db, now_ms};

/// One e-mail, ready to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// For logs: which template, never who or what link.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the e-mail carries (logged when there is no SMTP server).
    pub link: String,
}

/// A mail and its recipient, waiting in memory for the `account_mail` job.
pub struct Queued {
    pub to: String,
    pub mail: Mail,
}

/// A stored mail, opened for sending.
pub struct Opened {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What is sealed in a row: everything that could carry a token.
#[derive(Serialize, Deserialize)]
struct Body {
    subject: String,
    text: String,
    html: String,
    link: String,
}

/// A mail on its way: the row to store with the change that causes it (when mails are
/// stored), then [`Outbox::queued`] once that change is committed.
pub struct Outgoing {
    to: String,
    mail: Mail,
    row: Option<NewMail>,
}

impl Outgoing {
    /// The row to insert in the change's transaction; `None` when mails are not stored.
    pub fn row(&self) -> Option<&NewMail> {
        self.row.as_ref()
    }
}

/// Where account e-mails go.
pub struct Outbox {
    mode: Mode,
    /// Wakes this process's job when it stored a mail, instead of at its next poll.
    wake: Notify,
}

enum Mode {
    /// No SMTP server: links are logged.
    Log,
    /// SMTP, no key to seal with: an in-memory queue.
    Memory(Queue),
    /// SMTP and a key: the `mail_outbox` table.
    Stored(SecretKey),
}

struct Queue {
    tx: UnboundedSender<Queued>,
    /// Taken once, by the job that sends.
    rx: Mutex<Option<UnboundedReceiver<Queued>>>,
}

impl Outbox {
    /// An outbox for an SMTP server (`smtp`), stored when there is a `key` to seal with;
    /// without SMTP it logs the links.
    pub fn new(smtp: bool, key: Option<SecretKey>) -> Self {
        let mode = match (smtp, key) {
            (false, _) => Mode::Log,
            (true, Some(key)) => Mode::Stored(key),
            (true, None) => {
                tracing::warn!(
                    "no secret key (QUIVER_SECRET_KEY): account e-mails wait in memory and \
                     a restart loses the ones not sent yet"
                );
                let (tx, rx) = unbounded_channel();
                Mode::Memory(Queue {
                    tx,
                    rx: Mutex::new(Some(rx)),
                })
            }
        };
        Self {
            mode,
            wake: Notify::new(),
        }
    }

    /// Whether mails are kept in the database (and so sent by the stored-mail job).
    pub fn is_stored(&self) -> bool {
        matches!(self.mode, Mode::Stored(_))
    }

    /// Seals `mail` to `to` into a row when mails are stored.
    pub fn prepare(&self, to: &str, mail: Mail) -> Outgoing {
        let row = match &self.mode {
            Mode::Stored(key) => Some(seal(key, to, &mail)),
            _ => None,
        };
        Outgoing {
            to: to.to_owned(),
            mail,
            row,
        }
    }

    /// The change carrying `out.row()` is committed (or there is no row): send it.
    pub fn queued(&self, out: Outgoing) {
        match &self.mode {
            Mode::Log => {
                tracing::info!(to = %out.to, subject = %out.mail.subject, link = %out.mail.link, "no SMTP server configured: follow this link instead of the e-mail");
            }
            Mode::Memory(queue) => {
                let queued = Queued {
                    to: out.to,
                    mail: out.mail,
                };
                if queue.tx.send(queued).is_err() {
                    tracing::warn!("account e-mail not sent: the mail job has stopped");
                }
            }
            Mode::Stored(_) if out.row.is_some() => self.wake.notify_one(),
            Mode::Stored(_) => {}
        }
    }

    /// Queues `mail` to `to` on its own, for changes already committed (or that have no
    /// transaction of their own). A failure to store it is logged: the change stands.
    pub async fn send(&self, db: &Db, to: &str, mail: Mail) {
        let out = self.prepare(to, mail);
        if let Some(row) = out.row()
            && let Err(e) = db.insert_mail(row).await
        {
            tracing::warn!(kind = out.mail.kind, error = %e, "account e-mail could not be queued");
            return;
        }
        self.queued(out);
    }

    /// Opens a stored mail; `None` when this key does not open it.
    pub fn open(&self, m: &ClaimedMail) -> Option<Opened> {
        let Mode::Stored(key) = &self.mode else {
            return None;
        };
        let raw = STANDARD.decode(m.sealed.trim()).ok()?;
        let plain = key
            .open(&raw, &mail_outbox::aad(&m.id, &m.recipient))
            .ok()?;
        let body: Body = serde_json::from_slice(&plain).ok()?;
        Some(Opened {
            subject: body.subject,
            text: body.text,
            html: body.html,
        })
    }

    /// Resolves when this process stored a mail.
    pub async fn stored(&self) {
        self.wake.notified().await;
    }

    /// The receiving end of the in-memory queue, for the job that sends; `None` once
    /// taken or when mails are not kept in memory.
    pub fn take_queue(&self) -> Option<UnboundedReceiver<Queued>> {
        let Mode::Memory(queue) = &self.mode else {
            return None;
        };
        queue
            .rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

fn seal(key: &SecretKey, to: &str, mail: &Mail) -> NewMail {
    let id = uuid::Uuid::now_v7().to_string();
    let body = Body {
        subject: mail.subject.clone(),
        text: mail.text.clone(),
        html: mail.html.clone(),
        link: mail.link.clone(),
    };
    // Serialising owned strings cannot fail; an empty body would not open and the mail
    // would be marked failed, never sent wrong.
    let plain = Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default());
    let sealed = STANDARD.encode(key.seal(&plain, &mail_outbox::aad(&id, to)));
    NewMail {
        id,
        kind: mail.kind.to_owned(),
        recipient: to.to_owned(),
        sealed,
        created_at: now_ms(),
    }
}
