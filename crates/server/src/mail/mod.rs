//! Account e-mails (verification, reset, invitations...): sent in the background through
//! the configured SMTP server with retries, so a slow relay never slows or reveals
//! anything in the request that asked for it. With no SMTP server the link is logged at
//! INFO instead, so a local operator can still follow it; that is the only place a token
//! is ever written to a log.

pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use crate::jobs::Mailer;
use crate::jobs::mail::MailError;
pub use templates::Mail;

/// Where account e-mails go.
#[derive(Clone)]
pub struct Outbox {
    mailer: Option<Arc<Mailer>>,
    attempts: u32,
    retry_base: Duration,
}

impl Outbox {
    pub fn new(mailer: Option<Arc<Mailer>>, attempts: u32, retry_base: Duration) -> Self {
        Self {
            mailer,
            attempts: attempts.max(1),
            retry_base,
        }
    }

    /// Queues `mail` to `to` and returns at once.
    pub fn send(&self, to: &str, mail: Mail) {
        let Some(mailer) = self.mailer.clone() else {
            tracing::info!(to, subject = %mail.subject, link = %mail.link, "no SMTP server configured: follow this link instead of the e-mail");
            return;
        };
        let (to, attempts, base) = (to.to_owned(), self.attempts, self.retry_base);
        tokio::spawn(async move {
            for attempt in 1..=attempts {
                let sent = mailer
                    .send_alternative(&to, &mail.subject, mail.text.clone(), mail.html.clone())
                    .await;
                match sent {
                    Ok(()) => {
                        tracing::info!(kind = mail.kind, "account e-mail sent");
                        return;
                    }
                    Err(e @ MailError::Transient(_)) if attempt < attempts => {
                        tracing::warn!(kind = mail.kind, attempt, error = %e, "account e-mail failed; retrying");
                        let delay = base.saturating_mul(1 << (attempt - 1).min(10));
                        tokio::time::sleep(delay.min(Duration::from_secs(60))).await;
                    }
                    Err(e) => {
                        tracing::warn!(kind = mail.kind, attempt, error = %e, "account e-mail not sent");
                        return;
                    }
                }
            }
        });
    }
}
