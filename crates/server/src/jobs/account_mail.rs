//! Sends the account e-mails queued in [`crate::outbox`], each with the bulk mailer's
//! retries. Stops between e-mails (or between the tries of one) once told to.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::Mailer;
use super::mail::MailError;
use crate::outbox::Queued;

pub struct AccountMail {
    pub queue: UnboundedReceiver<Queued>,
    pub mailer: Arc<Mailer>,
    pub attempts: u32,
    pub retry_base: Duration,
}

impl AccountMail {
    pub async fn run(mut self, stop: CancellationToken) {
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = self.queue.recv() => next,
            };
            let Some(Queued { to, mail }) = next else {
                return;
            };
            let attempts = self.attempts.max(1);
            for attempt in 1..=attempts {
                let sent = self
                    .mailer
                    .send_alternative(&to, &mail.subject, mail.text.clone(), mail.html.clone())
                    .await;
                match sent {
                    Ok(()) => {
                        tracing::info!(kind = mail.kind, "account e-mail sent");
                        break;
                    }
                    Err(e @ MailError::Transient(_)) if attempt < attempts => {
                        tracing::warn!(kind = mail.kind, attempt, error = %e, "account e-mail failed; retrying");
                        let delay = self.retry_base.saturating_mul(1 << (attempt - 1).min(10));
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = tokio::time::sleep(delay.min(Duration::from_secs(60))) => {}
                        }
                    }
                    Err(e) => {
                        tracing::warn!(kind = mail.kind, attempt, error = %e, "account e-mail not sent");
                        break;
                    }
                }
            }
        }
    }
}
