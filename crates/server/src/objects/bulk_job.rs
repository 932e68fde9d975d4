//! The bulk job object of `GET /bulk_jobs/{job_id}` and `GET /bulk_jobs`, and of the
//! `bulk_job.finished` webhook event.

use serde::Serialize;

use crate::objects::format::iso_utc;
use crate::store::bulk::JobSummary;

/// A job's progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkJob {
    pub job_id: String,
    /// `queued`, `running` or `done`.
    pub status: String,
    pub total: i64,
    /// Items finished, with a link or an error.
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// ISO 8601, UTC.
    pub created_at: String,
    /// ISO 8601, UTC; null until done.
    pub finished_at: Option<String>,
    /// **(Quiver)** Recipient of the result e-mail.
    pub email: String,
    /// **(Quiver)** `none` (no SMTP configured), `pending`, `sent` or `failed`.
    pub email_status: String,
    /// **(Quiver)** Why the last e-mail attempt failed, if it did.
    pub email_error: Option<String>,
}

impl From<JobSummary> for BulkJob {
    fn from(j: JobSummary) -> Self {
        Self {
            job_id: j.id,
            status: j.status.to_string(),
            total: j.total,
            processed: j.succeeded + j.failed,
            succeeded: j.succeeded,
            failed: j.failed,
            created_at: iso_utc(j.created_at),
            finished_at: j.finished_at.map(iso_utc),
            email: j.email,
            email_status: j.email_status.to_string(),
            email_error: j.email_error,
        }
    }
}
