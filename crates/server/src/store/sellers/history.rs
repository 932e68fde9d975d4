//! **(Quiver)** One creator's history with a seller's brands (#15): what the brand looks at
//! in the creator's profile before deciding. Read from the rows the relationship already
//! keeps: the access requests, the grants, the creator's own commission terms, and the audit
//! log (grants given and revoked, and the commission changes of the brands the creator has
//! asked for or been granted).

use super::AuditRow;
use crate::store::sql::Sql;
use crate::store::{Db, StoreResult, read_pool};

/// At most this many rows of each kind are read (newest first).
pub const HISTORY_ROWS: i64 = 200;

/// One access request of the creator to one of the seller's brands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRequestRow {
    pub brand_id: String,
    pub brand_name: String,
    pub message: String,
    pub status: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub decision_reason: String,
}

/// The creator's (latest) grant for one of the seller's brands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryGrantRow {
    pub brand_id: String,
    pub brand_name: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
}

/// An audit entry, with its brand's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryAuditRow {
    #[sqlx(flatten)]
    pub entry: AuditRow,
    pub brand_name: String,
}

/// A commission the brand set for this creator alone (an invitation's rate), from a day on;
/// `bps` null: back to the brand's rates.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRateRow {
    pub brand_id: String,
    pub brand_name: String,
    pub effective_day: String,
    pub bps: Option<i32>,
    pub recorded_at: i64,
}

/// What the history is made of; the HTTP layer turns it into events.
#[derive(Debug, Default)]
pub struct CreatorHistory {
    pub requests: Vec<HistoryRequestRow>,
    pub grants: Vec<HistoryGrantRow>,
    pub audit: Vec<HistoryAuditRow>,
    /// Oldest first per brand.
    pub rates: Vec<HistoryRateRow>,
}

impl Db {
    /// The history of the creator `account_id` with the brands `owner` owns (and only those).
    pub async fn creator_history(
        &self,
        owner: &str,
        account_id: &str,
        public_id: &str,
    ) -> StoreResult<CreatorHistory> {
        let mut requests = Sql::new(
            "SELECT r.brand_id, b.name AS brand_name, r.message, r.status, r.created_at, r.decided_at, \
             r.decision_reason FROM access_requests r JOIN brands b ON b.id = r.brand_id WHERE b.owner_account_id = ",
        );
        requests
            .arg(owner)
            .and_eq("r.account_id", account_id)
            .push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
            .arg(HISTORY_ROWS);
        let mut grants = Sql::new(
            "SELECT g.brand_id, b.name AS brand_name, g.granted_at, g.revoked_at \
             FROM grants g JOIN brands b ON b.id = g.brand_id WHERE b.owner_account_id = ",
        );
        grants
            .arg(owner)
            .and_eq("g.account_id", account_id)
            .push(" ORDER BY g.granted_at DESC LIMIT ")
            .arg(HISTORY_ROWS);
        // Grants of this creator, and commission changes of the brands they have a
        // relationship with (the HTTP layer keeps those from its start on).
        let mut audit = Sql::new(
            "SELECT s.id, s.actor_public_id, s.brand_id, s.action, s.target, s.before_json, s.after_json, s.at, \
             b.name AS brand_name FROM seller_audit s JOIN brands b ON b.id = s.brand_id WHERE b.owner_account_id = ",
        );
        audit
            .arg(owner)
            .push(" AND ((s.action IN ('grant.create', 'grant.revoke') AND s.target = ")
            .arg(format!("creator:{public_id}"))
            .push(
                ") OR (s.action IN ('product.commission', 'brand.update') AND s.brand_id IN \
                   (SELECT brand_id FROM access_requests WHERE account_id = ",
            )
            .arg(account_id)
            .push(" UNION SELECT brand_id FROM grants WHERE account_id = ")
            .arg(account_id)
            .push("))) ORDER BY s.at DESC, s.id DESC LIMIT ")
            .arg(HISTORY_ROWS);
        let mut rates = Sql::new(
            "SELECT c.brand_id, b.name AS brand_name, c.effective_day, c.bps, c.recorded_at \
             FROM creator_commission_rates c JOIN brands b ON b.id = c.brand_id WHERE b.owner_account_id = ",
        );
        rates
            .arg(owner)
            .and_eq("c.account_id", account_id)
            .push(" ORDER BY c.brand_id, c.effective_day LIMIT ")
            .arg(HISTORY_ROWS);
        Ok(read_pool!(self, pool => async {
            Ok::<_, sqlx::Error>(CreatorHistory {
                requests: requests.query_as().fetch_all(pool).await?,
                grants: grants.query_as().fetch_all(pool).await?,
                audit: audit.query_as().fetch_all(pool).await?,
                rates: rates.query_as().fetch_all(pool).await?,
            })
        }.await)?)
    }
}
