//! A seller's own brands: listing, and program mode / default commission changes.

use quiver_domain::ProgramMode;

use super::{Actor, By, Change};
use crate::store::catalog::{BRAND_COLUMNS, BrandRow};
use crate::store::sql::Sql;
use crate::store::{Db, StoreError, StoreResult, read_pool, write_pool};

impl Db {
    /// One page of the seller's brands (by id) and how many there are.
    pub async fn seller_brands(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<BrandRow>)> {
        let mut count = Sql::new("SELECT COUNT(*) FROM brands WHERE owner_account_id = ");
        count.arg(owner);
        let mut page = Sql::new("SELECT ");
        page.push(BRAND_COLUMNS)
            .push(" FROM brands WHERE owner_account_id = ")
            .arg(owner);
        if let Some(after) = after {
            page.push(" AND id > ").arg(after);
        }
        page.push(" ORDER BY id LIMIT ").arg(limit);
        self.count_and_rows(&count, &page).await
    }

    /// The brand, only if `owner` owns it.
    pub async fn seller_brand(&self, owner: &str, brand_id: &str) -> StoreResult<Option<BrandRow>> {
        let mut sql = Sql::new("SELECT ");
        sql.push(BRAND_COLUMNS)
            .push(" FROM brands WHERE id = ")
            .arg(brand_id)
            .and_eq("owner_account_id", owner);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Sets a brand's program mode and/or default rate (`None` keeps it), auditing a change.
    pub async fn update_brand(
        &self,
        owner: Actor<'_>,
        brand_id: &str,
        mode: Option<ProgramMode>,
        default_bps: Option<u32>,
        now: i64,
    ) -> StoreResult<Change<BrandRow>> {
        let by = By::Seller(owner);
        let lock = by.lock_brand(brand_id);
        let mut select = Sql::new("SELECT ");
        select
            .push(BRAND_COLUMNS)
            .push(" FROM brands WHERE id = ")
            .arg(brand_id);
        const UPDATE: &str =
            "UPDATE brands SET program_mode = $2, default_commission_bps = $3 WHERE id = $1";
        let result: Result<Change<BrandRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            if lock.query().execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: BrandRow = select.query_as().fetch_one(&mut *tx).await?;
            let mut after = before.clone();
            if let Some(m) = mode {
                after.program_mode = m;
            }
            if let Some(bps) = default_bps {
                after.default_commission_bps = bps as i32;
            }
            if after.program_mode == before.program_mode
                && after.default_commission_bps == before.default_commission_bps
            {
                tx.commit().await?;
                return Ok(Change::Unchanged(before));
            }
            sqlx::query(UPDATE)
                .bind(brand_id)
                .bind(after.program_mode.as_str())
                .bind(after.default_commission_bps)
                .execute(&mut *tx)
                .await?;
            let snapshot = |b: &BrandRow| {
                serde_json::json!({
                    "program_mode": b.program_mode.as_str(),
                    "default_commission": f64::from(b.default_commission_bps) / 100.0,
                })
            };
            let target = format!("brand:{brand_id}");
            by.audit(brand_id, "brand.update", target, snapshot(&before), snapshot(&after), now)
                .query()
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
    }
}
