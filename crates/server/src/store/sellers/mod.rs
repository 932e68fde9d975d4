//! The seller side: a seller's own brands and products, grants, publishers' access
//! requests, and the audit log every change writes in the same transaction.
//!
//! Every change starts its transaction by touching the brand row, with an owner check for
//! a seller: that is the tenant check (0 rows → not this seller's brand), and on
//! PostgreSQL it also locks the brand, so two changes to one brand never interleave their
//! before/after snapshots. The operator's command line changes any brand, audited under
//! its own name.
//!
//! - `brands`, `products`, `grants`, `requests`: one sub-resource each.
//! - `audit`: the log's listing.
//! - `history`: one creator's history with a seller's brands, read from the above.

mod audit;
mod brands;
mod grants;
mod history;
mod products;
mod requests;

pub use audit::AuditRow;
pub use grants::GrantRow;
pub use history::{CreatorHistory, HISTORY_ROWS};
pub use products::{SellerProductFilter, SellerProductRow};
pub use requests::{AccessRequestRow, AccessRequestStatus, Decision, RequestScope};

use serde_json::Value;
use uuid::Uuid;

use super::sql::{Arg, Sql};

/// A seller making a change, as the audit log records them.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub account_id: &'a str,
    pub public_id: &'a str,
}

/// The audit log's actor for changes made with `quiver admin`.
pub const OPERATOR: &str = "admin-cli";

/// Who changes a brand, and so which brands they may change.
#[derive(Debug, Clone, Copy)]
enum By<'a> {
    /// A seller: only their own brands.
    Seller(Actor<'a>),
    /// The operator (`quiver admin`): any brand.
    Operator,
}

impl By<'_> {
    /// Touches (and on PostgreSQL locks) the brand row if this actor may change it: 0
    /// rows affected means not found, or not theirs.
    fn lock_brand(self, brand_id: &str) -> Sql {
        let mut sql = Sql::new("UPDATE brands SET program_mode = program_mode WHERE id = ");
        sql.arg(brand_id);
        if let By::Seller(a) = self {
            sql.and_eq("owner_account_id", a.account_id);
        }
        sql
    }

    /// The audit entry of a change to `brand_id`: `action` on `target`, with snapshots of
    /// before and after, by this actor at `now`.
    fn audit(
        self,
        brand_id: &str,
        action: &str,
        target: String,
        before: Value,
        after: Value,
        now: i64,
    ) -> Sql {
        let (account_id, public_id) = match self {
            By::Seller(a) => (Some(a.account_id), a.public_id),
            By::Operator => (None, OPERATOR),
        };
        let values: [Arg; 9] = [
            Uuid::now_v7().to_string().into(),
            account_id.into(),
            public_id.into(),
            brand_id.into(),
            action.into(),
            target.into(),
            before.to_string().into(),
            after.to_string().into(),
            now.into(),
        ];
        let mut sql = Sql::new(
            "INSERT INTO seller_audit (id, actor_account_id, actor_public_id, brand_id, action, target, \
             before_json, after_json, at) VALUES (",
        );
        sql.list(values).push(")");
        sql
    }
}

/// The result of a change to something that may not belong to the caller.
#[derive(Debug)]
pub enum Change<T> {
    /// Not found among the seller's own brands/products.
    NotFound,
    /// Already as asked: nothing written, nothing audited.
    Unchanged(T),
    /// Written and audited: the new state.
    Changed(T),
}

/// A keyset position in newest-first listings.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TimePosition {
    pub t: i64,
    pub id: String,
}

impl TimePosition {
    /// ` AND (t_col, id_col) < ($t, $id)` when paging on from `after`.
    fn push_before(after: Option<&TimePosition>, sql: &mut Sql, t_col: &str, id_col: &str) {
        if let Some(p) = after {
            sql.push(" AND (")
                .push(t_col)
                .push(", ")
                .push(id_col)
                .push(") < (")
                .arg(p.t)
                .push(", ")
                .arg(p.id.as_str())
                .push(")");
        }
    }
}
