//! Figures for operators: background-work backlog and data freshness, read at scrape time.

use super::{Db, StoreResult, read_pool};

#[derive(Debug, Clone, Copy, Default)]
pub struct OpsGauges {
    /// Bulk items still waiting to be processed.
    pub bulk_pending_items: i64,
    /// Bulk jobs not finished.
    pub bulk_open_jobs: i64,
    /// Oldest successful ingestion among advertisers and reports (epoch ms), if any.
    pub oldest_ingest_success: Option<i64>,
    /// Advertiser reports that have never been ingested successfully.
    pub never_ingested: i64,
}

impl Db {
    pub async fn ops_gauges(&self) -> StoreResult<OpsGauges> {
        const SQL: &str = "SELECT \
             (SELECT COUNT(*) FROM bulk_items WHERE status = 'pending'), \
             (SELECT COUNT(*) FROM bulk_jobs WHERE status <> 'done'), \
             (SELECT MIN(last_success_at) FROM ingest_state), \
             (SELECT COUNT(*) FROM ingest_state WHERE last_success_at IS NULL)";
        let (bulk_pending_items, bulk_open_jobs, oldest_ingest_success, never_ingested): (
            i64,
            i64,
            Option<i64>,
            i64,
        ) = read_pool!(self, pool => sqlx::query_as(SQL).fetch_one(pool).await)?;
        Ok(OpsGauges {
            bulk_pending_items,
            bulk_open_jobs,
            oldest_ingest_success,
            never_ingested,
        })
    }
}
