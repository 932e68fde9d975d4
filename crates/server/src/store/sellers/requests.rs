//! Publishers' requests for access to approval-mode brands, and the seller's decision
//! (an approval grants access in the same transaction).

use uuid::Uuid;

use super::{Actor, By, TimePosition, grants};
use crate::store::emit::{Render, brand_owner, emit};
use crate::store::sql::Sql;
use crate::store::text_enum::text_enum;
use crate::store::{BeginWrite, Db, StoreError, StoreResult, read_pool, write_pool};
use crate::webhooks::events::EventType;

text_enum! {
    /// Where an access request stands.
    pub enum AccessRequestStatus ("access request status") {
        Pending = "pending",
        Approved = "approved",
        Declined = "declined",
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccessRequestRow {
    pub id: String,
    pub brand_id: String,
    pub brand_name: String,
    pub account_id: String,
    pub public_id: String,
    pub display_name: String,
    pub message: String,
    #[sqlx(try_from = "String")]
    pub status: AccessRequestStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// Why the brand declined, as it wrote it; empty when it gave none (and for approvals).
    pub decision_reason: String,
}

#[derive(Debug)]
pub enum Decision {
    NotFound,
    /// Already approved or declined.
    NotPending(AccessRequestRow),
    Decided(AccessRequestRow),
}

/// Whose access requests to list.
#[derive(Debug, Clone, Copy)]
pub enum RequestScope<'a> {
    /// A publisher's own requests (account id).
    Publisher(&'a str),
    /// The requests on a seller's brands (owner account id).
    Seller(&'a str),
}

const SELECT: &str = "SELECT r.id, r.brand_id, b.name AS brand_name, r.account_id, a.public_id, a.display_name, \
     r.message, r.status, r.created_at, r.decided_at, r.decision_reason \
     FROM access_requests r JOIN brands b ON b.id = r.brand_id JOIN accounts a ON a.id = r.account_id";

/// A request found by `col = value` and further conditions.
fn select_where(col: &str, value: &str) -> Sql {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE ").push(col).push(" = ").arg(value);
    sql
}

impl Db {
    /// Stores a new pending request; `Conflict` when one is already pending for the pair.
    /// The brand's seller gets `access_request.created` (`data`: the request as the API
    /// shows it) in the same transaction.
    pub async fn insert_access_request(
        &self,
        brand_id: &str,
        account_id: &str,
        message: &str,
        now: i64,
        data: Render<'_, AccessRequestRow>,
    ) -> StoreResult<AccessRequestRow> {
        const SQL: &str = "INSERT INTO access_requests (id, brand_id, account_id, message, status, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5)";
        let id = Uuid::now_v7().to_string();
        let select = select_where("r.id", &id);
        let owner = brand_owner(brand_id);
        let result: Result<AccessRequestRow, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(&id).bind(brand_id).bind(account_id).bind(message).bind(now)
                .execute(&mut *tx).await?;
            let row: AccessRequestRow = select.query_as().fetch_one(&mut *tx).await?;
            let seller: String = owner.query_scalar().fetch_one(&mut *tx).await?;
            emit(&mut *tx, &seller, EventType::AccessRequestCreated, data(&row)).await?;
            tx.commit().await?;
            Ok(row)
        }.await);
        result.map_err(StoreError::from_write)
    }

    pub async fn access_request(&self, id: &str) -> StoreResult<Option<AccessRequestRow>> {
        let sql = select_where("r.id", id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// The pending request of a publisher for a brand, if any.
    pub async fn pending_access_request(
        &self,
        brand_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<AccessRequestRow>> {
        let mut sql = select_where("r.brand_id", brand_id);
        sql.and_eq("r.account_id", account_id)
            .push(" AND r.status = 'pending'");
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Requests newest first, either one publisher's (`account_id`) or those on the brands
    /// of one seller (`owner`), optionally by status and brand.
    pub async fn list_access_requests(
        &self,
        scope: RequestScope<'_>,
        status: Option<&str>,
        brand_id: Option<&str>,
        after: Option<&TimePosition>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<AccessRequestRow>)> {
        let push_where = |sql: &mut Sql| {
            match scope {
                RequestScope::Publisher(account) => sql.push(" WHERE r.account_id = ").arg(account),
                RequestScope::Seller(owner) => sql.push(" WHERE b.owner_account_id = ").arg(owner),
            }
            .and_eq_opt("r.status", status)
            .and_eq_opt("r.brand_id", brand_id);
        };
        let mut count =
            Sql::new("SELECT COUNT(*) FROM access_requests r JOIN brands b ON b.id = r.brand_id");
        push_where(&mut count);
        let mut page = Sql::new(SELECT);
        push_where(&mut page);
        TimePosition::push_before(after, &mut page, "r.created_at", "r.id");
        page.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
            .arg(limit);
        self.count_and_rows(&count, &page).await
    }

    /// Approves (granting access) or declines a pending request on one of `owner`'s brands;
    /// `reason` is kept with a decline. Both the seller and the publisher get
    /// `access_request.approved` or `.declined` (`data`: the decided request) in the same
    /// transaction.
    pub async fn decide_access_request(
        &self,
        owner: Actor<'_>,
        id: &str,
        approve: bool,
        reason: &str,
        now: i64,
        data: Render<'_, AccessRequestRow>,
    ) -> StoreResult<Decision> {
        const DECIDE: &str = "UPDATE access_requests SET status = $3, decided_at = $4, decided_by = $5, decision_reason = $6 \
             WHERE id = $1 AND status = 'pending' AND brand_id IN (SELECT id FROM brands WHERE owner_account_id = $2)";
        let by = By::Seller(owner);
        let mut select = select_where("r.id", id);
        select.and_eq("b.owner_account_id", owner.account_id);
        let status = if approve {
            AccessRequestStatus::Approved
        } else {
            AccessRequestStatus::Declined
        };
        let result: Result<Decision, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let before: Option<AccessRequestRow> = select.query_as().fetch_optional(&mut *tx).await?;
            let Some(before) = before else {
                tx.rollback().await?;
                return Ok(Decision::NotFound);
            };
            by.lock_brand(&before.brand_id).query().execute(&mut *tx).await?;
            let n = sqlx::query(DECIDE)
                .bind(id).bind(owner.account_id).bind(status.as_str()).bind(now).bind(owner.account_id).bind(reason)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                let current: AccessRequestRow = select.query_as().fetch_one(&mut *tx).await?;
                tx.rollback().await?;
                return Ok(Decision::NotPending(current));
            }
            if approve {
                grants::upsert(&before.brand_id, &before.account_id, now).query().execute(&mut *tx).await?;
            }
            let after = AccessRequestRow {
                status,
                decided_at: Some(now),
                decision_reason: reason.to_owned(),
                ..before.clone()
            };
            let snapshot = |r: &AccessRequestRow| serde_json::json!({
                "status": r.status.as_str(),
                "creator": r.public_id,
            });
            let action = if approve { "access_request.approve" } else { "access_request.decline" };
            let target = format!("access_request:{id}");
            by.audit(&before.brand_id, action, target, snapshot(&before), snapshot(&after), now)
                .query()
                .execute(&mut *tx)
                .await?;
            let t = if approve { EventType::AccessRequestApproved } else { EventType::AccessRequestDeclined };
            for account in [owner.account_id, after.account_id.as_str()] {
                emit(&mut *tx, account, t, data(&after)).await?;
            }
            tx.commit().await?;
            Ok(Decision::Decided(after))
        }.await);
        result.map_err(StoreError::from_write)
    }
}
