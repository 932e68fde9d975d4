//! E-mailing a finished job's result CSV over SMTP, with retries. A failure is recorded on
//! the job and never touches the results, which stay downloadable.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::BulkConfig;
use crate::state::AppState;
use crate::store::bulk::{EmailClaim, EmailStatus, ItemStatus};
use crate::store::now_ms;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("QUIVER_SMTP_URL must look like smtp://host:port, not '{0}'")]
    BadUrl(String),
    #[error("invalid sender address '{0}'")]
    BadFrom(String),
    /// The recipient or message can never be sent: no point retrying.
    #[error("{0}")]
    Permanent(String),
    /// The server could not be reached or refused for now.
    #[error("{0}")]
    Transient(String),
}

/// A plain-SMTP sender (the configured relay is trusted, typically on the same host).
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn from_url(url: &str, from: &str) -> Result<Self, MailError> {
        let parsed = url::Url::parse(url).map_err(|_| MailError::BadUrl(url.to_owned()))?;
        let host = parsed
            .host_str()
            .filter(|_| parsed.scheme() == "smtp")
            .ok_or_else(|| MailError::BadUrl(url.to_owned()))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(parsed.port().unwrap_or(25))
            .timeout(Some(Duration::from_secs(20)));
        if !parsed.username().is_empty() {
            builder = builder.credentials(Credentials::new(
                parsed.username().to_owned(),
                parsed.password().unwrap_or_default().to_owned(),
            ));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| MailError::BadFrom(from.to_owned()))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends a message in plain text with an HTML alternative.
    pub async fn send_alternative(
        &self,
        to: &str,
        subject: &str,
        text: String,
        html: String,
    ) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| MailError::Permanent(format!("invalid recipient address '{to}'")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }

    /// Sends the result CSV as an attachment.
    pub async fn send_results(
        &self,
        to: &str,
        job_id: &str,
        summary: &str,
        csv: Vec<u8>,
    ) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| MailError::Permanent(format!("invalid recipient address '{to}'")))?;
        let csv_type = ContentType::parse("text/csv; charset=utf-8")
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        // Base64 keeps the CSV byte-for-byte whatever its line lengths and characters.
        let body = Body::new_with_encoding(csv, ContentTransferEncoding::Base64)
            .map_err(|_| MailError::Permanent("could not encode the attachment".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Your Quiver bulk links are ready ({job_id})"))
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(summary.to_owned()))
                    .singlepart(
                        Attachment::new(format!("quiver-bulk-{job_id}.csv")).body(body, csv_type),
                    ),
            )
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}

/// The sender of finished jobs' e-mails in one process.
pub struct Sender {
    pub state: AppState,
    pub cfg: BulkConfig,
    /// This process's identity in e-mail leases.
    pub id: String,
    pub mailer: Arc<Mailer>,
    /// Rung by the bulk worker when a job finishes.
    pub wake: Arc<Notify>,
}

impl Sender {
    /// Sends one e-mail at a time until `stop`; an e-mail being sent is finished first, so
    /// its outcome is recorded and it is not sent twice.
    pub async fn run(self, stop: CancellationToken) {
        // Long enough for a slow relay (the transport times out at 20 s per step).
        const LEASE_MS: i64 = 5 * 60 * 1000;
        let Self {
            state,
            cfg,
            id,
            mailer,
            wake,
        } = self;
        while !stop.is_cancelled() {
            let now = now_ms();
            match state.db.claim_bulk_email(&id, now, now + LEASE_MS).await {
                Ok(Some(job)) => {
                    send_one(&state, &cfg, &id, &mailer, job).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim a bulk e-mail"),
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(cfg.poll()) => {}
                () = stop.cancelled() => {}
            }
        }
    }
}

async fn send_one(state: &AppState, cfg: &BulkConfig, id: &str, mailer: &Mailer, job: EmailClaim) {
    let attempt = job.email_attempts.max(0) as u32 + 1;
    let outcome = match state.db.bulk_results(&job.id).await {
        Ok(rows) => match super::csv::results_csv(
            &rows,
            &state.clicks.short_prefix(state.joining.public_url()),
        ) {
            Ok(csv) => {
                let ok = rows.iter().filter(|r| r.status == ItemStatus::Done).count();
                let summary = format!(
                    "Your bulk link job {} is done: {} links created, {} errors, out of {} items.\n\
                     The results are attached, and stay available at /bulk_jobs/{}/results.csv.\n",
                    job.id,
                    ok,
                    rows.len() - ok,
                    rows.len(),
                    job.id
                );
                mailer
                    .send_results(&job.email, &job.id, &summary, csv)
                    .await
            }
            Err(e) => Err(MailError::Permanent(format!(
                "could not write the CSV: {e}"
            ))),
        },
        Err(e) => Err(MailError::Transient(format!(
            "could not read the results: {e}"
        ))),
    };
    let (status, error, next_at) = match &outcome {
        Ok(()) => (EmailStatus::Sent, None, now_ms()),
        Err(e @ MailError::Transient(_)) if attempt < cfg.smtp_max_attempts => {
            let delay = cfg.backoff(attempt - 1);
            (
                EmailStatus::Pending,
                Some(e.to_string()),
                now_ms() + delay.as_millis() as i64,
            )
        }
        Err(e) => (EmailStatus::Failed, Some(e.to_string()), now_ms()),
    };
    match &outcome {
        Ok(()) => tracing::info!(job = %job.id, "bulk results e-mailed"),
        Err(e) => {
            tracing::warn!(job = %job.id, attempt, error = %e, %status, "bulk results e-mail failed")
        }
    }
    if let Err(e) = state
        .db
        .record_bulk_email(&job.id, id, status, error.as_deref(), next_at)
        .await
    {
        tracing::warn!(job = %job.id, error = %e, "could not record the e-mail outcome");
    }
}
