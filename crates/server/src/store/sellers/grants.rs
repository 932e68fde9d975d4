//! Who may promote an approval-mode brand: grants, given and revoked by the brand's
//! seller (or the operator), each change audited.

use serde_json::Value;

use super::{Actor, By, Change};
use crate::store::emit::{Render, brand_owner, emit};
use crate::store::sql::Sql;
use crate::store::{Db, StoreError, StoreResult, read_pool, write_pool};
use crate::webhooks::events::EventType;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GrantRow {
    pub brand_id: String,
    pub account_id: String,
    pub public_id: String,
    pub display_name: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
}

const SELECT: &str = "SELECT g.brand_id, g.account_id, a.public_id, a.display_name, g.granted_at, g.revoked_at \
     FROM grants g JOIN accounts a ON a.id = g.account_id";

/// The one statement that gives (or gives back) access: an active grant is left as it
/// is, a revoked one starts again from `now`.
const UPSERT: &str = "INSERT INTO grants (brand_id, account_id, granted_at, revoked_at) VALUES ($1, $2, $3, NULL) \
     ON CONFLICT (brand_id, account_id) DO UPDATE SET granted_at = excluded.granted_at, revoked_at = NULL \
     WHERE grants.revoked_at IS NOT NULL";

/// `UPSERT` for one publisher and brand.
pub(super) fn upsert(brand_id: &str, account_id: &str, now: i64) -> Sql {
    let mut sql = Sql::new(UPSERT);
    sql.bind(brand_id).bind(account_id).bind(now);
    sql
}

/// The grant of one publisher on one brand.
fn select_one(brand_id: &str, account_id: &str) -> Sql {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE g.brand_id = ")
        .arg(brand_id)
        .and_eq("g.account_id", account_id);
    sql
}

fn snapshot(g: Option<&GrantRow>) -> Value {
    match g {
        None => serde_json::json!({ "active": false, "granted_at": null, "revoked_at": null }),
        Some(g) => serde_json::json!({
            "active": g.revoked_at.is_none(),
            "granted_at": g.granted_at,
            "revoked_at": g.revoked_at,
        }),
    }
}

impl Db {
    /// A brand's grants, by creator public id; `active` filters on whether still in force.
    pub async fn brand_grants(
        &self,
        brand_id: &str,
        active: Option<bool>,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<GrantRow>)> {
        let push_where = |sql: &mut Sql| {
            sql.push(" WHERE g.brand_id = ").arg(brand_id);
            match active {
                Some(true) => sql.push(" AND g.revoked_at IS NULL"),
                Some(false) => sql.push(" AND g.revoked_at IS NOT NULL"),
                None => sql,
            };
        };
        let mut count =
            Sql::new("SELECT COUNT(*) FROM grants g JOIN accounts a ON a.id = g.account_id");
        push_where(&mut count);
        let mut page = Sql::new(SELECT);
        push_where(&mut page);
        if let Some(after) = after {
            page.push(" AND a.public_id > ").arg(after);
        }
        page.push(" ORDER BY a.public_id LIMIT ").arg(limit);
        self.count_and_rows(&count, &page).await
    }

    /// The grant row of one publisher on one brand (active or revoked), if any.
    pub async fn grant_of(
        &self,
        brand_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<GrantRow>> {
        let sql = select_one(brand_id, account_id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Grants a publisher access to one of `owner`'s brands, auditing a change.
    pub async fn grant_access(
        &self,
        owner: Actor<'_>,
        brand_id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<Change<GrantRow>> {
        self.set_access(By::Seller(owner), brand_id, account_id, true, now, None)
            .await
    }

    /// Revokes a publisher's active grant on one of `owner`'s brands, auditing it, and
    /// tells both sides (`grant.revoked`, `data`: the revoked grant as the API shows it).
    /// `Unchanged` carries the (revoked) row when there was no active grant; `NotFound`
    /// means the brand is not the owner's, or there never was a grant.
    pub async fn revoke_access(
        &self,
        owner: Actor<'_>,
        brand_id: &str,
        account_id: &str,
        now: i64,
        data: Render<'_, GrantRow>,
    ) -> StoreResult<Change<GrantRow>> {
        self.set_access(
            By::Seller(owner),
            brand_id,
            account_id,
            false,
            now,
            Some(data),
        )
        .await
    }

    /// For `quiver admin`: grants (`active`) or revokes a publisher's access to any brand,
    /// as `grant_access` and `revoke_access` do, audited as the operator.
    pub async fn operator_set_access(
        &self,
        brand_id: &str,
        account_id: &str,
        active: bool,
        now: i64,
        data: Render<'_, GrantRow>,
    ) -> StoreResult<Change<GrantRow>> {
        self.set_access(By::Operator, brand_id, account_id, active, now, Some(data))
            .await
    }

    /// Demo data only: a grant that no one made, so nothing is audited.
    pub async fn seed_grant(&self, brand_id: &str, account_id: &str, now: i64) -> StoreResult<()> {
        let sql = upsert(brand_id, account_id, now);
        write_pool!(self, pool => sql.query().execute(pool).await.map(|r| r.rows_affected()))
            .map_err(StoreError::from_write)?;
        Ok(())
    }

    /// Makes the grant active (given, or given back) or revoked, auditing a change. A
    /// revocation is told to the brand's seller and the publisher when `data` is given.
    async fn set_access(
        &self,
        by: By<'_>,
        brand_id: &str,
        account_id: &str,
        active: bool,
        now: i64,
        data: Option<Render<'_, GrantRow>>,
    ) -> StoreResult<Change<GrantRow>> {
        const REVOKE: &str = "UPDATE grants SET revoked_at = $3 WHERE brand_id = $1 AND account_id = $2 AND revoked_at IS NULL";
        let lock = by.lock_brand(brand_id);
        let owner = brand_owner(brand_id);
        let select = select_one(brand_id, account_id);
        let write = if active {
            upsert(brand_id, account_id, now)
        } else {
            let mut sql = Sql::new(REVOKE);
            sql.bind(brand_id).bind(account_id).bind(now);
            sql
        };
        let action = if active {
            "grant.create"
        } else {
            "grant.revoke"
        };
        let result: Result<Change<GrantRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            if lock.query().execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: Option<GrantRow> = select.query_as().fetch_optional(&mut *tx).await?;
            match &before {
                // Nothing to revoke: there never was a grant.
                None if !active => {
                    tx.rollback().await?;
                    return Ok(Change::NotFound);
                }
                Some(g) if g.revoked_at.is_none() == active => {
                    let g = g.clone();
                    tx.commit().await?;
                    return Ok(Change::Unchanged(g));
                }
                _ => {}
            }
            write.query().execute(&mut *tx).await?;
            let after: GrantRow = select.query_as().fetch_one(&mut *tx).await?;
            let target = format!("creator:{}", after.public_id);
            let (before, after_snapshot) = (snapshot(before.as_ref()), snapshot(Some(&after)));
            by.audit(brand_id, action, target, before, after_snapshot, now)
                .query()
                .execute(&mut *tx)
                .await?;
            if let (false, Some(data)) = (active, data) {
                let seller: String = owner.query_scalar().fetch_one(&mut *tx).await?;
                for account in [seller.as_str(), after.account_id.as_str()] {
                    emit(&mut *tx, account, EventType::GrantRevoked, data(&after)).await?;
                }
            }
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
    }
}
