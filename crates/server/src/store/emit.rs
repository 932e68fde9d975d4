//! What the store needs to write webhook events (issue #21) with the change that causes
//! them, in the change's own transaction (an outbox: a rolled-back change emits nothing,
//! a committed one never loses its event).
//!
//! An event's `data` is the object the API shows for the resource, which the store does
//! not know: the caller passes a `Render` that builds it from the row the store read
//! inside the transaction.

use serde_json::Value;

use super::StoreError;
use super::sql::Sql;
use super::webhooks::{EnqueueOn, enqueue};
use crate::webhooks::events::{EventType, NewEvent};

/// Builds an event's `data` from a row read inside the change's transaction.
pub type Render<'a, T> = &'a (dyn Fn(&T) -> Value + Send + Sync);

/// Enqueues event `t` for the endpoints of `account_id` on `conn` (a transaction), in the
/// error type of the store's transaction blocks.
pub(super) async fn emit<C: EnqueueOn>(
    conn: &mut C,
    account_id: &str,
    t: EventType,
    data: Value,
) -> Result<(), sqlx::Error> {
    let ev = NewEvent {
        account_id,
        event_type: t,
        data,
    };
    match enqueue(conn, &ev).await {
        Ok(_) => Ok(()),
        Err(StoreError::Sqlx(e)) => Err(e),
        // A fresh event id cannot collide; anything else is the database's failure too.
        Err(e) => Err(sqlx::Error::Protocol(e.to_string())),
    }
}

/// The account of the seller who owns `brand_id`: where a brand's events go.
pub(super) fn brand_owner(brand_id: &str) -> Sql {
    let mut sql = Sql::new("SELECT owner_account_id FROM brands WHERE id = ");
    sql.arg(brand_id);
    sql
}
