//! Webhook deliveries: claiming due ones with a lease, recording each attempt, and the
//! history the API shows.

use super::super::sql::Sql;
use super::super::{BeginWrite, Db, StoreResult, read_pool, write_pool};

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub attempts: i32,
    pub created_at: i64,
    pub payload: String,
    pub url: String,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_until: Option<i64>,
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub at: i64,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub delivered: bool,
    /// When to try again; `None` after a success or the last scheduled attempt.
    pub next_attempt_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<i64>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: i32,
    pub at: i64,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub next_attempt_at: Option<i64>,
}

/// Picks due deliveries of enabled endpoints that have none in flight, oldest first.
const PICK: &str = "SELECT d.id FROM webhook_deliveries d \
     JOIN webhook_endpoints e ON e.id = d.endpoint_id \
     WHERE d.next_attempt_at <= $3 AND d.lease_until < $3 AND e.enabled \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.endpoint_id = d.endpoint_id \
     AND o.lease_until >= $3) \
     ORDER BY d.next_attempt_at, d.created_at, d.id LIMIT $4";

impl Db {
    /// Leases up to `limit` due deliveries to `owner` until `lease_until`. On PostgreSQL
    /// rows another process is claiming are skipped (`SKIP LOCKED`); SQLite has one writer
    /// at a time, so its conditional UPDATE is the whole guard.
    pub async fn claim_webhook_deliveries(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let lock = match self {
            Db::Sqlite { .. } => "",
            Db::Postgres(..) => " FOR UPDATE OF d SKIP LOCKED",
        };
        let claim = format!(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 \
             WHERE id IN ({PICK}{lock}) AND lease_until < $3 RETURNING id"
        );
        const DETAILS: &str = "SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at, \
             ev.payload, e.url, e.secret_sealed, e.previous_secret_sealed, e.previous_until \
             FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.lease_owner = ";
        let ids: Vec<String> = write_pool!(self, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(claim.as_str()))
            .bind(owner).bind(lease_until).bind(now).bind(limit).fetch_all(pool).await)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(DETAILS);
        sql.arg(owner)
            .and_in("d.id", ids)
            .push(" ORDER BY d.endpoint_id, d.created_at, d.id");
        Ok(write_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// Records attempts of deliveries `owner` holds, in the order made, in one transaction
    /// (one commit for a run of deliveries instead of one each): releases each lease and
    /// marks each endpoint failing since its first failure after a success, or not failing.
    /// Returns how many were recorded; an attempt whose lease was lost writes nothing.
    pub async fn record_webhook_attempts(
        &self,
        owner: &str,
        attempts: &[(&ClaimedDelivery, AttemptOutcome)],
    ) -> StoreResult<usize> {
        const DELIVERY: &str = "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, \
             next_attempt_at = $4, lease_owner = NULL, lease_until = 0, last_status_code = $5, \
             last_error = $6, last_latency_ms = $7, updated_at = $8 \
             WHERE id = $1 AND lease_owner = $2 RETURNING attempts";
        const ATTEMPT: &str = "INSERT INTO webhook_attempts (id, delivery_id, attempt, at, status_code, \
             latency_ms, error, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        const OK: &str = "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL";
        const FAILING: &str = "UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL";
        if attempts.is_empty() {
            return Ok(0);
        }
        let rows: Vec<(String, &ClaimedDelivery, &AttemptOutcome, &'static str)> = attempts
            .iter()
            .map(|(d, out)| {
                let status = match (out.delivered, out.next_attempt_at) {
                    (true, _) => "delivered",
                    (false, Some(_)) => "failed",
                    (false, None) => "gave_up",
                };
                (uuid::Uuid::now_v7().to_string(), *d, out, status)
            })
            .collect();
        let done: Result<usize, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let mut n = 0;
            // The endpoint statements only where its state turns (a success after a failure
            // or the reverse): both are guarded, so in order they leave exactly what one
            // transaction per attempt would.
            let mut last: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
            for (attempt_id, d, out, status) in &rows {
                let attempt: Option<i32> = sqlx::query_scalar(DELIVERY)
                    .bind(&d.id).bind(owner).bind(*status).bind(out.next_attempt_at)
                    .bind(out.status_code).bind(out.error.as_deref()).bind(out.latency_ms).bind(out.at)
                    .fetch_optional(&mut *tx).await?;
                let Some(attempt) = attempt else {
                    continue;
                };
                n += 1;
                sqlx::query(ATTEMPT).bind(attempt_id).bind(&d.id).bind(attempt).bind(out.at)
                    .bind(out.status_code).bind(out.latency_ms).bind(out.error.as_deref())
                    .bind(out.next_attempt_at).execute(&mut *tx).await?;
                if last.insert(d.endpoint_id.as_str(), out.delivered) == Some(out.delivered) {
                    continue;
                }
                if out.delivered {
                    sqlx::query(OK).bind(&d.endpoint_id).execute(&mut *tx).await?;
                } else {
                    sqlx::query(FAILING).bind(&d.endpoint_id).bind(out.at).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(n)
        }.await);
        Ok(done?)
    }

    /// Gives a lease back untried (the job is stopping).
    pub async fn release_webhook_delivery(&self, owner: &str, id: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = 0 \
             WHERE id = $1 AND lease_owner = $2";
        write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(owner).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// An endpoint's deliveries, newest first, at most `limit`, before `before` (a
    /// delivery id) when given.
    pub async fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: i64,
        before: Option<(i64, &str)>,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let mut sql = Sql::new(
            "SELECT d.id, d.event_id, ev.type AS event_type, d.status, d.attempts, d.next_attempt_at, \
             d.last_status_code, d.last_error, d.last_latency_ms, d.created_at, d.updated_at \
             FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id \
             WHERE d.endpoint_id = ",
        );
        sql.arg(endpoint_id);
        if let Some((at, id)) = before {
            sql.push(" AND (d.created_at < ")
                .arg(at)
                .push(" OR (d.created_at = ")
                .arg(at)
                .push(" AND d.id < ")
                .arg(id)
                .push("))");
        }
        sql.push(" ORDER BY d.created_at DESC, d.id DESC LIMIT ")
            .arg(limit);
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// The attempts of `deliveries`, in order.
    pub async fn webhook_attempts(&self, deliveries: &[String]) -> StoreResult<Vec<AttemptRow>> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT delivery_id, attempt, at, status_code, latency_ms, error, next_attempt_at \
             FROM webhook_attempts WHERE TRUE",
        );
        sql.and_in("delivery_id", deliveries.iter().map(String::as_str))
            .push(" ORDER BY delivery_id, attempt");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// A delivery of `endpoint_id`, for the cursor of its list.
    pub async fn webhook_delivery(
        &self,
        endpoint_id: &str,
        id: &str,
    ) -> StoreResult<Option<DeliveryRow>> {
        let mut sql = Sql::new(
            "SELECT d.id, d.event_id, ev.type AS event_type, d.status, d.attempts, d.next_attempt_at, \
             d.last_status_code, d.last_error, d.last_latency_ms, d.created_at, d.updated_at \
             FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id WHERE d.id = ",
        );
        sql.arg(id).and_eq("d.endpoint_id", endpoint_id);
        Ok(write_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Schedules another attempt of a delivery now, whatever its status; false when the
    /// endpoint has no such delivery. One being sent right now keeps its lease.
    pub async fn retry_webhook_delivery(
        &self,
        endpoint_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE webhook_deliveries SET status = CASE WHEN attempts = 0 THEN 'pending' ELSE 'failed' END, \
             next_attempt_at = $3, updated_at = $3 WHERE id = $1 AND endpoint_id = $2";
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(endpoint_id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// When the oldest delivery still to be made was enqueued, if any.
    pub async fn oldest_pending_webhook(&self) -> StoreResult<Option<i64>> {
        const SQL: &str =
            "SELECT MIN(created_at) FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL";
        Ok(read_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await)?)
    }
}
