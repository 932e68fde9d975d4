//! Webhooks: endpoints, the outbox of events and their deliveries (issue #21).
//!
//! `enqueue` runs inside the caller's transaction, so an event exists exactly when the
//! change that caused it committed. It costs one indexed statement when the account has
//! no endpoint subscribed to the type, and writes nothing then.

pub mod deliveries;
pub mod endpoints;

use sqlx::{PgConnection, SqliteConnection};

use std::collections::HashSet;

use super::sql::Sql;
use super::{StoreError, StoreResult};
use crate::webhooks::events::{self, EventType, NewEvent};

/// A connection (or transaction, through `&mut *tx`) an event can be enqueued on.
pub trait EnqueueOn: Send {
    /// Writes the event and one pending delivery per subscribed endpoint; returns the
    /// event id, or `None` when no endpoint wants it (and nothing was written).
    fn enqueue_event(
        &mut self,
        ev: &NewEvent<'_>,
        now: i64,
    ) -> impl std::future::Future<Output = StoreResult<Option<String>>> + Send;

    /// Of `accounts`, those with an enabled endpoint subscribed to `t`: the group-commit
    /// writer asks once per batch instead of once per link.
    fn subscribed_accounts(
        &mut self,
        t: EventType,
        accounts: &[&str],
    ) -> impl std::future::Future<Output = Result<HashSet<String>, sqlx::Error>> + Send;
}

/// Writes `ev` and its deliveries in the transaction `conn` belongs to: call it in the
/// same transaction as the change the event tells of.
pub async fn enqueue<C: EnqueueOn>(conn: &mut C, ev: &NewEvent<'_>) -> StoreResult<Option<String>> {
    conn.enqueue_event(ev, crate::clock::now_ms()).await
}

/// `LIKE` pattern matching `name` as one element of an endpoint's JSON `events` array.
/// Type names are letters, dots and underscores; `_` is escaped so it matches itself.
fn subscribed_pattern(name: &str) -> String {
    format!("%\"{}\"%", name.replace('_', "\\_"))
}

/// The statements of `enqueue`; `$id` is the engine's expression for a new random id.
fn enqueue_sql(ev: &NewEvent<'_>, event_id: &str, now: i64, random_hex: &str) -> (Sql, Sql) {
    let pattern = subscribed_pattern(ev.event_type.as_str());
    let payload = events::payload(ev.event_type, now, &ev.data);
    let mut event =
        Sql::new("INSERT INTO webhook_events (id, account_id, type, payload, created_at) SELECT ");
    event
        .arg(event_id)
        .push(", ")
        .arg(ev.account_id)
        .push(", ")
        .arg(ev.event_type.as_str())
        .push(", ")
        .arg(payload)
        .push(", ")
        .arg(now)
        .push(" WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE account_id = ")
        .arg(ev.account_id)
        .push(" AND enabled AND events LIKE ")
        .arg(pattern.as_str())
        .push(" ESCAPE '\\')");
    let mut deliveries = Sql::new(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, created_at, updated_at) SELECT ",
    );
    deliveries
        .push(random_hex)
        .push(", ")
        .arg(event_id)
        .push(", id, 'pending', 0, ")
        .arg(now)
        .push(", 0, ")
        .arg(now)
        .push(", ")
        .arg(now)
        .push(" FROM webhook_endpoints WHERE account_id = ")
        .arg(ev.account_id)
        .push(" AND enabled AND events LIKE ")
        .arg(pattern.as_str())
        .push(" ESCAPE '\\'");
    (event, deliveries)
}

/// `impl EnqueueOn` for one engine's connection type.
macro_rules! enqueue_on {
    ($conn:ty, $random_hex:literal) => {
        impl EnqueueOn for $conn {
            async fn enqueue_event(
                &mut self,
                ev: &NewEvent<'_>,
                now: i64,
            ) -> StoreResult<Option<String>> {
                let id = events::new_event_id();
                let (event, deliveries) = enqueue_sql(ev, &id, now, $random_hex);
                let wrote = event.query().execute(&mut *self).await?.rows_affected();
                if wrote == 0 {
                    return Ok(None);
                }
                deliveries
                    .query()
                    .execute(&mut *self)
                    .await
                    .map_err(StoreError::from_write)?;
                Ok(Some(id))
            }

            async fn subscribed_accounts(
                &mut self,
                t: EventType,
                accounts: &[&str],
            ) -> Result<HashSet<String>, sqlx::Error> {
                let sql = subscribed_sql(t, accounts);
                let rows: Vec<String> = sql.query_scalar().fetch_all(&mut *self).await?;
                Ok(rows.into_iter().collect())
            }
        }
    };
}

enqueue_on!(SqliteConnection, "'dlv_' || lower(hex(randomblob(16)))");
enqueue_on!(
    PgConnection,
    "'dlv_' || replace(gen_random_uuid()::text, '-', '')"
);

/// The accounts among `accounts` with an enabled endpoint subscribed to `t`.
fn subscribed_sql(t: EventType, accounts: &[&str]) -> Sql {
    let mut sql = Sql::new(
        "SELECT DISTINCT account_id FROM webhook_endpoints WHERE enabled AND events LIKE ",
    );
    sql.arg(subscribed_pattern(t.as_str()))
        .push(" ESCAPE '\\'")
        .and_in("account_id", accounts.iter().copied());
    sql
}
