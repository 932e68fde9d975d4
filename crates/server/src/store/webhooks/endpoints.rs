//! Webhook endpoints: an account's registered URLs, their subscriptions and secrets.

use super::super::sql::Sql;
use super::super::{BeginWrite, Db, StoreError, StoreResult, read_pool, write_pool};
use crate::webhooks::events::{self, EventType};

const COLUMNS: &str = "id, account_id, url, description, events, enabled, secret_sealed, \
     previous_secret_sealed, previous_until, created_at, updated_at, disabled_at, failing_since";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub description: String,
    /// JSON array of type names.
    pub events: String,
    pub enabled: bool,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
    pub failing_since: Option<i64>,
}

impl EndpointRow {
    /// The subscribed types; a stored name this build no longer knows is left out.
    pub fn event_types(&self) -> Vec<EventType> {
        serde_json::from_str::<Vec<String>>(&self.events)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| EventType::parse(n))
            .collect()
    }
}

/// How the `events` column stores a subscription.
pub fn events_json(types: &[EventType]) -> String {
    serde_json::Value::from(types.iter().map(|t| t.as_str()).collect::<Vec<_>>()).to_string()
}

/// A change to an endpoint; `None` leaves the field as it is.
#[derive(Debug, Default)]
pub struct EndpointPatch<'a> {
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub events: Option<&'a [EventType]>,
    pub enabled: Option<bool>,
}

/// A disabled endpoint, for the e-mail to its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DisabledEndpoint {
    pub id: String,
    pub account_id: String,
    pub url: String,
}

impl Db {
    pub async fn count_webhook_endpoints(&self, account_id: &str) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = $1";
        Ok(
            read_pool!(self, pool => sqlx::query_scalar(SQL).bind(account_id).fetch_one(pool).await)?,
        )
    }

    /// Inserts `row` unless the account already has `max` endpoints; false when it has.
    /// The count and the insert are one statement, so concurrent creations cannot pass it.
    pub async fn insert_webhook_endpoint(&self, row: &EndpointRow, max: i64) -> StoreResult<bool> {
        let mut sql = Sql::new("INSERT INTO webhook_endpoints (");
        sql.push(COLUMNS).push(") SELECT ");
        sql.arg(row.id.as_str())
            .push(", ")
            .arg(row.account_id.as_str())
            .push(", ")
            .arg(row.url.as_str())
            .push(", ")
            .arg(row.description.as_str())
            .push(", ")
            .arg(row.events.as_str())
            .push(", ")
            .arg(row.enabled)
            .push(", ")
            .arg(row.secret_sealed.as_str())
            .push(", NULL, NULL, ")
            .arg(row.created_at)
            .push(", ")
            .arg(row.updated_at)
            .push(", NULL, NULL WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = ")
            .arg(row.account_id.as_str())
            .push(") < ")
            .arg(max);
        let n =
            write_pool!(self, pool => sql.query().execute(pool).await.map(|r| r.rows_affected()))
                .map_err(StoreError::from_write)?;
        Ok(n == 1)
    }

    /// The account's endpoints, oldest first.
    pub async fn webhook_endpoints(&self, account_id: &str) -> StoreResult<Vec<EndpointRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE account_id = $1 ORDER BY created_at, id"
        );
        Ok(
            read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id).fetch_all(pool).await)?,
        )
    }

    pub async fn webhook_endpoint(
        &self,
        account_id: &str,
        id: &str,
    ) -> StoreResult<Option<EndpointRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND account_id = $2");
        Ok(
            read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).bind(account_id).fetch_optional(pool).await)?,
        )
    }

    /// Applies `patch`; re-enabling an endpoint forgets its failures. The changed row, or
    /// `None` when the account has no such endpoint.
    pub async fn update_webhook_endpoint(
        &self,
        account_id: &str,
        id: &str,
        patch: &EndpointPatch<'_>,
        now: i64,
    ) -> StoreResult<Option<EndpointRow>> {
        let mut sql = Sql::new("UPDATE webhook_endpoints SET updated_at = ");
        sql.arg(now);
        if let Some(url) = patch.url {
            sql.push(", url = ").arg(url);
        }
        if let Some(d) = patch.description {
            sql.push(", description = ").arg(d);
        }
        if let Some(types) = patch.events {
            sql.push(", events = ").arg(events_json(types));
        }
        match patch.enabled {
            Some(true) => {
                sql.push(", enabled = ")
                    .arg(true)
                    .push(", disabled_at = NULL, failing_since = NULL");
            }
            Some(false) => {
                sql.push(", enabled = ")
                    .arg(false)
                    .push(", disabled_at = ")
                    .arg(now);
            }
            None => {}
        }
        sql.push(" WHERE id = ")
            .arg(id)
            .and_eq("account_id", account_id);
        let n =
            write_pool!(self, pool => sql.query().execute(pool).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Ok(None);
        }
        self.webhook_endpoint_written(account_id, id).await
    }

    /// Reads through the write pool: right after a write, a read connection could still
    /// see the snapshot before it.
    async fn webhook_endpoint_written(
        &self,
        account_id: &str,
        id: &str,
    ) -> StoreResult<Option<EndpointRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND account_id = $2");
        Ok(
            write_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).bind(account_id).fetch_optional(pool).await)?,
        )
    }

    /// Deletes the endpoint with its deliveries and their attempts; false when the
    /// account has no such endpoint.
    pub async fn delete_webhook_endpoint(&self, account_id: &str, id: &str) -> StoreResult<bool> {
        const ATTEMPTS: &str = "DELETE FROM webhook_attempts WHERE delivery_id IN \
             (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)";
        const DELIVERIES: &str = "DELETE FROM webhook_deliveries WHERE endpoint_id = $1";
        const ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE id = $1 AND account_id = $2";
        const OWNED: &str =
            "SELECT COUNT(*) FROM webhook_endpoints WHERE id = $1 AND account_id = $2";
        let deleted: Result<bool, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let owned: i64 = sqlx::query_scalar(OWNED).bind(id).bind(account_id).fetch_one(&mut *tx).await?;
            if owned == 0 {
                return Ok(false);
            }
            sqlx::query(ATTEMPTS).bind(id).execute(&mut *tx).await?;
            sqlx::query(DELIVERIES).bind(id).execute(&mut *tx).await?;
            sqlx::query(ENDPOINT).bind(id).bind(account_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(deleted?)
    }

    /// Makes `new_sealed` the secret; the current one keeps signing until `previous_until`.
    pub async fn rotate_webhook_secret(
        &self,
        account_id: &str,
        id: &str,
        new_sealed: &str,
        previous_until: i64,
        now: i64,
    ) -> StoreResult<Option<EndpointRow>> {
        const SQL: &str = "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, \
             previous_until = $3, secret_sealed = $4, updated_at = $5 WHERE id = $1 AND account_id = $2";
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(account_id).bind(previous_until).bind(new_sealed).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Ok(None);
        }
        self.webhook_endpoint_written(account_id, id).await
    }

    /// Enqueues a `ping` to one endpoint, whatever it subscribes to; the event id, or
    /// `None` when the account has no such endpoint.
    pub async fn enqueue_webhook_ping(
        &self,
        account_id: &str,
        endpoint_id: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let id = events::new_event_id();
        let data = serde_json::json!({ "endpoint_id": endpoint_id });
        let payload = events::payload(EventType::Ping, now, &data);
        const EVENT: &str = "INSERT INTO webhook_events (id, account_id, type, payload, created_at) \
             SELECT $1, $2, 'ping', $3, $4 WHERE EXISTS \
             (SELECT 1 FROM webhook_endpoints WHERE id = $5 AND account_id = $2)";
        const DELIVERY: &str = "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, \
             next_attempt_at, lease_until, created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, 0, $4, $4)";
        let delivery_id = format!("dlv_{}", uuid::Uuid::new_v4().simple());
        let done: Result<bool, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(EVENT).bind(&id).bind(account_id).bind(&payload).bind(now).bind(endpoint_id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Ok(false);
            }
            sqlx::query(DELIVERY).bind(&delivery_id).bind(&id).bind(endpoint_id).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(done?.then_some(id))
    }

    /// Disables every enabled endpoint failing since before `cutoff`, and returns them.
    pub async fn disable_failing_webhooks(
        &self,
        cutoff: i64,
        now: i64,
    ) -> StoreResult<Vec<DisabledEndpoint>> {
        const SQL: &str = "UPDATE webhook_endpoints SET enabled = FALSE, disabled_at = $2, updated_at = $2 \
             WHERE enabled AND failing_since IS NOT NULL AND failing_since < $1 \
             RETURNING id, account_id, url";
        Ok(
            write_pool!(self, pool => sqlx::query_as(SQL).bind(cutoff).bind(now).fetch_all(pool).await)?,
        )
    }
}
