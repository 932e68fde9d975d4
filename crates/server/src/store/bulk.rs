//! The bulk-link job queue (migration 0005): jobs, their items, leases and results.
//!
//! Exactly once: an item's link and its `done` mark are written in one transaction, and
//! the mark is conditional on the item still being pending and claimed by the writer.
//! Whoever commits first wins; everyone else rolls back, so a crash, an expired lease or
//! two processes racing can never make two links for one item, nor lose one.

use super::emit::{Render, emit};
use super::links::LinkRow;
use super::quotas::{self, AccountLoad};
use super::sql::Sql;
use super::text_enum::text_enum;
use super::{BeginWrite, Db, Engine, StoreError, StoreResult, read_pool, write_pool};
use crate::webhooks::events::EventType;
use sqlx::AssertSqlSafe;

text_enum! {
    /// Where a job stands: `done` once no item is pending.
    pub enum JobStatus ("bulk job status") {
        Queued = "queued",
        Running = "running",
        Done = "done",
    }
}

text_enum! {
    /// Where an item stands: `done` with a link, `error` with a reason.
    pub enum ItemStatus ("bulk item status") {
        Pending = "pending",
        Done = "done",
        Error = "error",
    }
}

text_enum! {
    /// The result e-mail: `none` when no SMTP was configured as the job finished.
    pub enum EmailStatus ("bulk e-mail status") {
        None = "none",
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
    }
}

/// A new job, written together with all its items.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub created_at: i64,
}

/// One submitted item. `error` set: it failed validation and is stored already finished.
/// `asin`, `marketplace` and `link_name` are the input as submitted, so the result CSV can
/// show it; the worker parses a pending item's values and fails that item alone if they
/// do not parse.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub asin: String,
    pub marketplace: String,
    pub link_name: Option<String>,
    /// The link's `source` and `sub_id` (migration 0018), already validated.
    pub source: Option<String>,
    pub sub_id: Option<String>,
    pub error: Option<String>,
}

/// An item a worker has claimed, with what it needs to process it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedItem {
    pub job_id: String,
    pub position: i32,
    pub asin: String,
    pub marketplace: String,
    pub link_name: Option<String>,
    pub source: Option<String>,
    pub sub_id: Option<String>,
    pub attempts: i32,
    pub account_id: String,
    pub public_id: String,
}

/// A job with its progress counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobSummary {
    pub id: String,
    pub account_id: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    pub total: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    #[sqlx(try_from = "String")]
    pub email_status: EmailStatus,
    pub email_error: Option<String>,
    pub succeeded: i64,
    pub failed: i64,
}

/// A finished item, for the result CSV.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemResult {
    pub position: i32,
    pub asin: String,
    pub marketplace: String,
    pub link_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ItemStatus,
    pub url: Option<String>,
    pub error: Option<String>,
    /// The created link's short code (migration 0018), for the CSV's last column.
    pub short_code: Option<String>,
}

/// Per-item bookkeeping, for diagnostics and tests.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemState {
    pub position: i32,
    #[sqlx(try_from = "String")]
    pub status: ItemStatus,
    pub attempts: i32,
    pub link_id: Option<String>,
    pub processed_by: Option<String>,
}

/// One item's link, to be stored with the item's done mark.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub job_id: &'a str,
    pub position: i32,
    pub link: &'a LinkRow,
}

/// A finished job whose email this worker has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailClaim {
    pub id: String,
    pub email: String,
    pub email_attempts: i32,
}

/// A job with its counts (`JobSummary`): the head of a query, then its `WHERE`, then
/// `SUMMARY_GROUP`.
const SUMMARY: &str = "SELECT j.id, j.account_id, j.email, j.status, j.total, j.created_at, j.finished_at, \
     j.email_status, j.email_error, \
     CAST(COALESCE(SUM(CASE WHEN i.status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS succeeded, \
     CAST(COALESCE(SUM(CASE WHEN i.status = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed \
     FROM bulk_jobs j LEFT JOIN bulk_items i ON i.job_id = j.id";
const SUMMARY_GROUP: &str = "GROUP BY j.id, j.account_id, j.email, j.status, j.total, j.created_at, \
     j.finished_at, j.email_status, j.email_error";

/// Rows per multi-row INSERT: 9 binds each stays far below both engines' bind limits.
const INSERT_CHUNK: usize = 500;

impl Db {
    /// Stores a job and every item in one transaction: the job exists whole or not at all.
    pub async fn create_bulk_job(&self, job: &NewJob, items: &[NewItem]) -> StoreResult<()> {
        self.create_bulk_job_within(job, items, job.created_at, |_| {
            Ok::<(), std::convert::Infallible>(())
        })
        .await
        .map(|admitted| admitted.unwrap_or_else(|never| match never {}))
    }

    /// Like `create_bulk_job`, once `admit` accepts the account's load (links counted
    /// from `since`), read in the same transaction and with the account's quota checks
    /// serialised, so concurrent submissions cannot both slip under a limit. A refusal
    /// stores nothing.
    pub async fn create_bulk_job_within<E>(
        &self,
        job: &NewJob,
        items: &[NewItem],
        since: i64,
        admit: impl FnOnce(&AccountLoad) -> Result<(), E>,
    ) -> StoreResult<Result<(), E>> {
        const JOB_SQL: &str = "INSERT INTO bulk_jobs (id, account_id, email, total, status, created_at, \
             email_status, email_attempts, email_next_at) VALUES ($1, $2, $3, $4, 'queued', $5, 'none', 0, 0)";
        let total = items.len() as i64;
        let postgres = self.engine() == Engine::Postgres;
        let load_sql = quotas::load_sql(&job.account_id, since);
        let result: Result<Result<(), E>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            if postgres {
                sqlx::query(quotas::LOCK_ACCOUNT_PG).bind(&job.account_id).execute(&mut *tx).await?;
            }
            let load: AccountLoad = load_sql.query_as().fetch_one(&mut *tx).await?;
            if let Err(refused) = admit(&load) {
                return Ok(Err(refused));
            }
            sqlx::query(JOB_SQL)
                .bind(&job.id).bind(&job.account_id).bind(&job.email).bind(total).bind(job.created_at)
                .execute(&mut *tx).await?;
            for (chunk_no, chunk) in items.chunks(INSERT_CHUNK).enumerate() {
                item_insert(job, chunk_no * INSERT_CHUNK, chunk).query().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Ok(()))
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// Claims up to `limit` pending items that are due and not leased by a live worker,
    /// leasing them to `worker` until `lease_until`, which must differ from every other
    /// claim of this worker whose items are still in flight.
    pub async fn claim_bulk_items(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedItem>> {
        // SQLite has one writer at a time, so the sub-select and the update cannot be
        // interleaved with another claim. PostgreSQL skips rows another claim has locked,
        // so concurrent workers take disjoint items without waiting on each other.
        const SQLITE_CLAIM: &str = "UPDATE bulk_items SET claimed_by = $1, lease_until = $2 \
             WHERE (job_id, position) IN (SELECT job_id, position FROM bulk_items \
                 WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY job_id, position LIMIT $4) \
             RETURNING job_id, position";
        const PG_CLAIM: &str = "WITH due AS (SELECT job_id, position FROM bulk_items \
                 WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY job_id, position LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE bulk_items AS b SET claimed_by = $1, lease_until = $2 FROM due \
             WHERE b.job_id = due.job_id AND b.position = due.position \
             RETURNING b.job_id, b.position";
        let claimed: Vec<(String, i32)> = match self {
            Db::Sqlite { write, .. } => {
                sqlx::query_as(SQLITE_CLAIM)
                    .bind(worker)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(write)
                    .await?
            }
            Db::Postgres(pool, _) => {
                sqlx::query_as(PG_CLAIM)
                    .bind(worker)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        };
        // Read back what was claimed, with the owner's ids the link needs: per job, a range
        // of its primary key (claims take consecutive positions), filtered by this claim's
        // lease end, which the caller makes unique.
        let mut ranges: Vec<(String, i32, i32)> = Vec::new();
        for (job, position) in claimed {
            match ranges.iter_mut().find(|(j, _, _)| *j == job) {
                Some(r) => {
                    r.1 = r.1.min(position);
                    r.2 = r.2.max(position);
                }
                None => ranges.push((job, position, position)),
            }
        }
        const CLAIMED: &str = "SELECT i.job_id, i.position, i.asin, i.marketplace, i.link_name, i.source, i.sub_id, i.attempts, \
             j.account_id, a.public_id FROM bulk_items i JOIN bulk_jobs j ON j.id = i.job_id \
             JOIN accounts a ON a.id = j.account_id \
             WHERE i.job_id = $1 AND i.position BETWEEN $2 AND $3 \
             AND i.claimed_by = $4 AND i.lease_until = $5 AND i.status = 'pending' \
             ORDER BY i.position";
        let mut items = Vec::new();
        for (job, from, to) in &ranges {
            let rows: Vec<ClaimedItem> = read_pool!(self, pool => sqlx::query_as(CLAIMED)
                .bind(job).bind(from).bind(to).bind(worker).bind(lease_until).fetch_all(pool).await)?;
            items.extend(rows);
        }
        Ok(items)
    }

    /// Marks a job running (once: later calls change nothing).
    pub async fn start_bulk_job(&self, job_id: &str, now: i64) -> StoreResult<()> {
        const SQL: &str = "UPDATE bulk_jobs SET status = 'running', started_at = $2 WHERE id = $1 AND status = 'queued'";
        write_pool!(self, pool => sqlx::query(SQL).bind(job_id).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Stores the item's link and marks the item done, in one transaction. False (and
    /// nothing stored) when the item is no longer this worker's to finish.
    pub async fn complete_bulk_item(
        &self,
        job_id: &str,
        position: i32,
        worker: &str,
        link: &LinkRow,
    ) -> StoreResult<bool> {
        let done = [Completion {
            job_id,
            position,
            link,
        }];
        Ok(self
            .complete_bulk_items(worker, &done, None)
            .await?
            .first()
            .copied()
            .unwrap_or(false))
    }

    /// Several completions in one transaction (fewer commits), each one all-or-nothing on
    /// its own: an item no longer this worker's gets its link deleted again before the
    /// commit. Returns, per completion, whether it took effect. With `data`, each link
    /// that took effect gets its `link.created` event in the same transaction.
    pub async fn complete_bulk_items(
        &self,
        worker: &str,
        done: &[Completion<'_>],
        data: Option<Render<'_, LinkRow>>,
    ) -> StoreResult<Vec<bool>> {
        const DONE_SQL: &str = "UPDATE bulk_items SET status = 'done', link_id = $4, url = $5, \
             processed_by = $3, finished_at = $6, claimed_by = NULL, lease_until = NULL \
             WHERE job_id = $1 AND position = $2 AND claimed_by = $3 AND status = 'pending'";
        const UNDO_SQL: &str = "DELETE FROM links WHERE id = $1";
        let result: Result<Vec<bool>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let mut applied = Vec::with_capacity(done.len());
            for c in done {
                let link = c.link;
                // The link first: the item references it. If the conditional update then
                // finds the item no longer ours (on PostgreSQL after waiting for a racing
                // writer's row lock), the link goes again, inside this same transaction.
                link.insert().query().execute(&mut *tx).await?;
                let n = sqlx::query(DONE_SQL)
                    .bind(c.job_id).bind(c.position).bind(worker).bind(&link.id).bind(&link.url)
                    .bind(link.created_at)
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    sqlx::query(UNDO_SQL).bind(&link.id).execute(&mut *tx).await?;
                } else if let Some(data) = data {
                    emit(&mut *tx, &link.account_id, EventType::LinkCreated, data(link)).await?;
                }
                applied.push(n > 0);
            }
            tx.commit().await?;
            Ok(applied)
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// Records a final per-item failure. False when the item is no longer this worker's.
    pub async fn fail_bulk_item(
        &self,
        job_id: &str,
        position: i32,
        worker: &str,
        error: &str,
        now: i64,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE bulk_items SET status = 'error', error = $4, processed_by = $3, \
             finished_at = $5, attempts = attempts + 1, claimed_by = NULL, lease_until = NULL \
             WHERE job_id = $1 AND position = $2 AND claimed_by = $3 AND status = 'pending'";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(job_id).bind(position).bind(worker).bind(error).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Gives an item back for another attempt no earlier than `next_attempt_at`.
    pub async fn retry_bulk_item(
        &self,
        job_id: &str,
        position: i32,
        worker: &str,
        next_attempt_at: i64,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE bulk_items SET attempts = attempts + 1, next_attempt_at = $4, \
             claimed_by = NULL, lease_until = NULL \
             WHERE job_id = $1 AND position = $2 AND claimed_by = $3 AND status = 'pending'";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(job_id).bind(position).bind(worker).bind(next_attempt_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Releases every lease `worker` holds (a clean shutdown), so others need not wait.
    pub async fn release_bulk_claims(&self, worker: &str) -> StoreResult<u64> {
        const SQL: &str = "UPDATE bulk_items SET claimed_by = NULL, lease_until = NULL \
             WHERE claimed_by = $1 AND status = 'pending'";
        Ok(
            write_pool!(self, pool => sqlx::query(SQL).bind(worker).execute(pool).await.map(|r| r.rows_affected()))?,
        )
    }

    /// Marks done every unfinished job that has no pending item left; returns their ids.
    /// `email_status` is `pending` when this process can send mail, else `none`. Each
    /// job's `bulk_job.finished` event (`data`: the job as the API shows it) is written in
    /// the same transaction, so a job is never done without its event, nor evented twice.
    pub async fn finish_bulk_jobs(
        &self,
        now: i64,
        email_status: EmailStatus,
        data: Render<'_, JobSummary>,
    ) -> StoreResult<Vec<String>> {
        // The status condition makes this safe to run anywhere, any number of times: only
        // one statement flips a job to done.
        const SQL: &str = "UPDATE bulk_jobs SET status = 'done', finished_at = $1, email_status = $2 \
             WHERE status IN ('queued', 'running') AND NOT EXISTS \
             (SELECT 1 FROM bulk_items i WHERE i.status = 'pending' AND i.job_id = bulk_jobs.id) \
             RETURNING id";
        let one = format!("{SUMMARY} WHERE j.id = $1 {SUMMARY_GROUP}");
        let result: Result<Vec<String>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let done: Vec<String> = sqlx::query_scalar(SQL)
                .bind(now).bind(email_status.as_str()).fetch_all(&mut *tx).await?;
            for id in &done {
                let job: JobSummary = sqlx::query_as(AssertSqlSafe(one.as_str())).bind(id).fetch_one(&mut *tx).await?;
                emit(&mut *tx, &job.account_id, EventType::BulkJobFinished, data(&job)).await?;
            }
            tx.commit().await?;
            Ok(done)
        }.await);
        Ok(result?)
    }

    /// A job with its counts, only if it belongs to `account_id`.
    pub async fn bulk_job(
        &self,
        job_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<JobSummary>> {
        let sql = format!("{SUMMARY} WHERE j.id = $1 AND j.account_id = $2 {SUMMARY_GROUP}");
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(job_id).bind(account_id).fetch_optional(pool).await)?,
        )
    }

    /// An account's most recent jobs with their counts, newest first.
    pub async fn bulk_jobs_of(&self, account_id: &str, limit: i64) -> StoreResult<Vec<JobSummary>> {
        let sql = format!(
            "{SUMMARY} WHERE j.account_id = $1 {SUMMARY_GROUP} ORDER BY j.created_at DESC, j.id DESC LIMIT $2"
        );
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(account_id).bind(limit).fetch_all(pool).await)?,
        )
    }

    /// The job's finished items in submission order.
    pub async fn bulk_results(&self, job_id: &str) -> StoreResult<Vec<ItemResult>> {
        const SQL: &str = "SELECT position, asin, marketplace, link_name, status, url, error, \
             (SELECT short_code FROM links WHERE links.id = bulk_items.link_id) AS short_code FROM bulk_items \
             WHERE job_id = $1 AND status <> 'pending' ORDER BY position";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(job_id).fetch_all(pool).await)?)
    }

    /// Every item's bookkeeping, in submission order.
    pub async fn bulk_item_states(&self, job_id: &str) -> StoreResult<Vec<ItemState>> {
        const SQL: &str = "SELECT position, status, attempts, link_id, processed_by FROM bulk_items \
             WHERE job_id = $1 ORDER BY position";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(job_id).fetch_all(pool).await)?)
    }

    /// How many jobs an account has submitted.
    pub async fn count_bulk_jobs(&self, account_id: &str) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM bulk_jobs WHERE account_id = $1";
        Ok(
            read_pool!(self, pool => sqlx::query_scalar(SQL).bind(account_id).fetch_one(pool).await)?,
        )
    }

    /// Claims one finished job whose email is due and not leased by a live sender.
    pub async fn claim_bulk_email(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<EmailClaim>> {
        // The conditions are repeated outside the sub-select: on PostgreSQL a racing claim
        // re-checks them on the locked row and loses instead of claiming twice.
        const SQL: &str = "UPDATE bulk_jobs SET email_claimed_by = $1, email_lease_until = $2 \
             WHERE id = (SELECT id FROM bulk_jobs WHERE status = 'done' AND email_status = 'pending' \
                 AND email_next_at <= $3 AND (email_lease_until IS NULL OR email_lease_until < $3) \
                 ORDER BY id LIMIT 1) \
             AND status = 'done' AND email_status = 'pending' \
             AND (email_lease_until IS NULL OR email_lease_until < $3) \
             RETURNING id, email, email_attempts";
        Ok(write_pool!(self, pool => sqlx::query_as(SQL)
            .bind(worker).bind(lease_until).bind(now).fetch_optional(pool).await)?)
    }

    /// Records an email attempt: sent, failed for good, or to retry at `next_at`.
    pub async fn record_bulk_email(
        &self,
        job_id: &str,
        worker: &str,
        status: EmailStatus,
        error: Option<&str>,
        next_at: i64,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE bulk_jobs SET email_status = $3, email_error = $4, email_next_at = $5, \
             email_attempts = email_attempts + 1, email_claimed_by = NULL, email_lease_until = NULL \
             WHERE id = $1 AND email_claimed_by = $2 AND email_status = 'pending'";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(job_id).bind(worker).bind(status.as_str()).bind(error).bind(next_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }
}

/// One multi-row INSERT of `items`, the first at `first_position`.
fn item_insert(job: &NewJob, first_position: usize, items: &[NewItem]) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO bulk_items (job_id, position, asin, marketplace, link_name, \
         source, sub_id, status, error, next_attempt_at, finished_at, attempts) VALUES ",
    );
    for (i, item) in items.iter().enumerate() {
        let (status, finished) = match item.error {
            Some(_) => (ItemStatus::Error, Some(job.created_at)),
            None => (ItemStatus::Pending, None),
        };
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .arg(job.id.as_str())
            .push(", ")
            .arg((first_position + i) as i32)
            .push(", ")
            .arg(item.asin.as_str())
            .push(", ")
            .arg(item.marketplace.as_str())
            .push(", ")
            .arg(item.link_name.as_deref())
            .push(", ")
            .arg(item.source.as_deref())
            .push(", ")
            .arg(item.sub_id.as_deref())
            .push(", ")
            .arg(status.as_str())
            .push(", ")
            .arg(item.error.as_deref())
            .push(", ")
            .arg(job.created_at)
            .push(", ")
            .arg(finished)
            .push(", 0)");
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::Arg;

    #[test]
    fn insert_sql_numbers_every_placeholder_once() {
        let job = NewJob {
            id: "j".into(),
            account_id: "a".into(),
            email: "e".into(),
            created_at: 5,
        };
        let item = |error: Option<&str>| NewItem {
            asin: "A".into(),
            marketplace: "amazon.com".into(),
            link_name: None,
            source: None,
            sub_id: None,
            error: error.map(str::to_owned),
        };
        let sql = item_insert(&job, 500, &[item(None), item(Some("bad"))]);
        assert_eq!(
            sql.text(),
            "INSERT INTO bulk_items (job_id, position, asin, marketplace, link_name, \
             source, sub_id, status, error, next_attempt_at, finished_at, attempts) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0), \
             ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 0)"
        );
        assert_eq!(sql.args()[1], Arg::from(500_i32));
        assert_eq!(sql.args()[12], Arg::from(501_i32));
        assert_eq!(sql.args()[18], Arg::from("error"));
        assert_eq!(sql.args()[21], Arg::from(Some(5_i64)));
    }
}
