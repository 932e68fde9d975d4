//! The audit log's listing: every change to a seller's brands, newest first.

use super::TimePosition;
use crate::store::sql::Sql;
use crate::store::{Db, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub actor_public_id: String,
    pub brand_id: String,
    pub action: String,
    pub target: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub at: i64,
}

impl Db {
    /// The audit log of `owner`'s brands, newest first.
    pub async fn seller_audit(
        &self,
        owner: &str,
        brand_id: Option<&str>,
        after: Option<&TimePosition>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<AuditRow>)> {
        let push_from = |sql: &mut Sql| {
            sql.push(" FROM seller_audit s JOIN brands b ON b.id = s.brand_id WHERE b.owner_account_id = ")
                .arg(owner)
                .and_eq_opt("s.brand_id", brand_id);
        };
        let mut count = Sql::new("SELECT COUNT(*)");
        push_from(&mut count);
        let mut page = Sql::new(
            "SELECT s.id, s.actor_public_id, s.brand_id, s.action, s.target, s.before_json, s.after_json, s.at",
        );
        push_from(&mut page);
        TimePosition::push_before(after, &mut page, "s.at", "s.id");
        page.push(" ORDER BY s.at DESC, s.id DESC LIMIT ")
            .arg(limit);
        self.count_and_rows(&count, &page).await
    }
}
