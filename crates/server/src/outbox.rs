//! The queue of account e-mails (verification, reset, invitations...). Handlers put a
//! mail here and return at once; the `account_mail` job sends it through the configured
//! SMTP server with retries, so a slow relay never slows or reveals anything in the request
//! that asked for it. With no SMTP server the link is logged at INFO instead, so a local
//! operator can still follow it; that is the only place a token is ever written to a log.

use std::sync::{Mutex, PoisonError};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

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

/// A mail and its recipient, waiting for the `account_mail` job.
pub struct Queued {
    pub to: String,
    pub mail: Mail,
}

/// Where account e-mails go.
pub struct Outbox {
    /// `None` without an SMTP server.
    queue: Option<Queue>,
}

struct Queue {
    tx: UnboundedSender<Queued>,
    /// Taken once, by the job that sends.
    rx: Mutex<Option<UnboundedReceiver<Queued>>>,
}

impl Outbox {
    /// An outbox that queues for an SMTP server (`smtp`) or logs the links.
    pub fn new(smtp: bool) -> Self {
        let queue = smtp.then(|| {
            let (tx, rx) = unbounded_channel();
            Queue {
                tx,
                rx: Mutex::new(Some(rx)),
            }
        });
        Self { queue }
    }

    /// Queues `mail` to `to` and returns at once.
    pub fn send(&self, to: &str, mail: Mail) {
        let Some(queue) = &self.queue else {
            tracing::info!(to, subject = %mail.subject, link = %mail.link, "no SMTP server configured: follow this link instead of the e-mail");
            return;
        };
        let to = to.to_owned();
        if queue.tx.send(Queued { to, mail }).is_err() {
            tracing::warn!("account e-mail not sent: the mail job has stopped");
        }
    }

    /// The receiving end of the queue, for the job that sends; `None` once taken or
    /// without an SMTP server.
    pub fn take_queue(&self) -> Option<UnboundedReceiver<Queued>> {
        let queue = self.queue.as_ref()?;
        queue
            .rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}
