//! Sends the account e-mails queued in [`crate::outbox`].
//!
//! Stored mails ([`Stored`]): claims due rows of `mail_outbox` with a lease, sends each,
//! deletes it once sent, or records the failure and when to try again (the bulk mailer's
//! backoff), giving up after the configured attempts. A process killed mid-send leaves
//! its lease to run out, and then any process sends the mail again: at least once.
//!
//! In-memory mails ([`AccountMail`], no secret key to seal with): each with the same
//! retries, lost on restart. Both stop between e-mails (or between tries) once told to.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::Mailer;
use super::mail::MailError;
use crate::config::BulkConfig;
use crate::outbox::Queued;
use crate::state::AppState;
use crate::store::mail_outbox::{ClaimedMail, MailFailure};
use crate::store::now_ms;

/// How long a claimed mail stays leased to this process.
const LEASE: Duration = Duration::from_secs(60);
/// A send is only started while this much of the lease is left: more than the SMTP
/// client's own timeout, so a lease never runs out during a send.
const MARGIN: Duration = Duration::from_secs(25);
/// Mails claimed at once.
const CLAIM_LIMIT: i64 = 20;

/// The sender of stored mails.
pub struct Stored {
    pub state: AppState,
    pub mailer: Arc<Mailer>,
    pub cfg: BulkConfig,
    /// This process's name in leases.
    pub owner: String,
}

impl Stored {
    pub async fn run(self, stop: CancellationToken) {
        let poll = self.cfg.poll();
        while !stop.is_cancelled() {
            let now = now_ms();
            let lease_until = now + LEASE.as_millis() as i64;
            let claimed = match self
                .state
                .db
                .claim_mails(&self.owner, now, lease_until, CLAIM_LIMIT)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming account e-mails failed");
                    Vec::new()
                }
            };
            let full = claimed.len() as i64 == CLAIM_LIMIT;
            let mut rest = claimed.into_iter();
            while let Some(m) = rest.next() {
                let late = now_ms() + MARGIN.as_millis() as i64 > lease_until;
                if stop.is_cancelled() || late {
                    self.release(std::iter::once(m).chain(rest.by_ref())).await;
                    break;
                }
                self.deliver(&m, &stop).await;
            }
            if full {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = self.state.joining.outbox.stored() => {}
                () = stop.cancelled() => {}
            }
        }
    }

    async fn release(&self, mails: impl Iterator<Item = ClaimedMail>) {
        for m in mails {
            if let Err(e) = self.state.db.release_mail(&self.owner, &m.id).await {
                tracing::warn!(error = %e, "releasing an account e-mail failed; its lease will expire");
            }
        }
    }

    async fn deliver(&self, m: &ClaimedMail, stop: &CancellationToken) {
        let db = &self.state.db;
        let Some(mail) = self.state.joining.outbox.open(m) else {
            tracing::warn!(kind = %m.kind, "account e-mail cannot be opened with the server's secret key; given up");
            self.failed(m, "cannot be opened with the server's secret key", None)
                .await;
            return;
        };
        let sent = tokio::select! {
            sent = self.mailer.send_alternative(&m.recipient, &mail.subject, mail.text, mail.html) => sent,
            () = stop.cancelled() => {
                // Stopping mid-send: another process (or the next start) sends it again.
                self.release(std::iter::once(m.clone())).await;
                return;
            }
        };
        let attempt = u32::try_from(m.attempts).unwrap_or(0) + 1;
        match sent {
            Ok(()) => {
                tracing::info!(kind = %m.kind, attempt, "account e-mail sent");
                match db.mail_sent(&self.owner, &m.id).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(kind = %m.kind, "account e-mail's lease was lost before it was recorded as sent")
                    }
                    Err(e) => {
                        tracing::warn!(kind = %m.kind, error = %e, "recording a sent account e-mail failed; it may be sent again")
                    }
                }
            }
            Err(e @ MailError::Transient(_)) if attempt < self.cfg.smtp_max_attempts.max(1) => {
                tracing::warn!(kind = %m.kind, attempt, error = %e, "account e-mail failed; retrying");
                let next = now_ms() + self.cfg.backoff(attempt - 1).as_millis() as i64;
                self.failed(m, &e.to_string(), Some(next)).await;
            }
            Err(e) => {
                tracing::warn!(kind = %m.kind, attempt, error = %e, "account e-mail not sent; given up");
                self.failed(m, &e.to_string(), None).await;
            }
        }
    }

    async fn failed(&self, m: &ClaimedMail, error: &str, next_attempt_at: Option<i64>) {
        let f = MailFailure {
            error,
            next_attempt_at,
            at: now_ms(),
        };
        if let Err(e) = self.state.db.mail_failed(&self.owner, &m.id, &f).await {
            tracing::warn!(kind = %m.kind, error = %e, "recording a failed account e-mail failed; its lease will expire");
        }
    }
}

/// The sender of in-memory mails.
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
