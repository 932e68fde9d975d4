//! A seller's own products: listing, and per-product commission overrides.

use quiver_domain::Marketplace;

use super::{Actor, By, Change};
use crate::store::catalog::ProductPosition;
use crate::store::sql::Sql;
use crate::store::{Db, StoreError, StoreResult, read_pool, write_pool};

/// A product as its seller sees it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SellerProductRow {
    pub asin: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
    pub brand_id: String,
    pub brand_name: String,
    pub title: String,
    pub price_minor: i64,
    pub available: bool,
    /// The per-product override, if any.
    pub commission_bps: Option<i32>,
    pub default_commission_bps: i32,
}

impl SellerProductRow {
    /// The rate in force: the override, else the brand default.
    pub fn commission_bps(&self) -> u32 {
        u32::try_from(self.commission_bps.unwrap_or(self.default_commission_bps)).unwrap_or(0)
    }
}

/// Filters of `GET /sellers/products`; empty lists mean "any".
#[derive(Debug, Default)]
pub struct SellerProductFilter<'a> {
    pub marketplace: Option<Marketplace>,
    pub brand_ids: &'a [String],
    pub asins: &'a [String],
}

const SELECT: &str = "SELECT p.asin, p.marketplace, p.brand_id, b.name AS brand_name, p.title, p.price_minor, \
     p.available, p.commission_bps, b.default_commission_bps FROM products p JOIN brands b ON b.id = p.brand_id";

/// ` WHERE` the seller's products, and every filter in use.
fn push_where(sql: &mut Sql, owner: &str, filter: &SellerProductFilter<'_>) {
    sql.push(" WHERE b.owner_account_id = ")
        .arg(owner)
        .and_eq_opt("p.marketplace", filter.marketplace)
        .and_in_nonempty("p.brand_id", filter.brand_ids)
        .and_in_nonempty("p.asin", filter.asins);
}

impl Db {
    /// One page of the seller's products in catalog order (brand, ASIN, marketplace).
    pub async fn seller_products(
        &self,
        owner: &str,
        filter: &SellerProductFilter<'_>,
        after: Option<&ProductPosition>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<SellerProductRow>)> {
        let mut count =
            Sql::new("SELECT COUNT(*) FROM products p JOIN brands b ON b.id = p.brand_id");
        push_where(&mut count, owner, filter);
        let mut page = Sql::new(SELECT);
        push_where(&mut page, owner, filter);
        ProductPosition::push_after(after, &mut page);
        page.push(" ORDER BY p.brand_id, p.asin, p.marketplace LIMIT ")
            .arg(limit);
        self.count_and_rows(&count, &page).await
    }

    /// The product, only if it belongs to one of `owner`'s brands.
    pub async fn seller_product(
        &self,
        owner: &str,
        asin: &str,
        marketplace: Marketplace,
    ) -> StoreResult<Option<SellerProductRow>> {
        let mut sql = Sql::new(SELECT);
        sql.push(" WHERE p.asin = ")
            .arg(asin)
            .and_eq("p.marketplace", marketplace)
            .and_eq("b.owner_account_id", owner);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Sets (or with `None` clears) a product's commission override, auditing a change.
    pub async fn set_product_commission(
        &self,
        owner: Actor<'_>,
        asin: &str,
        marketplace: Marketplace,
        bps: Option<u32>,
        now: i64,
    ) -> StoreResult<Change<SellerProductRow>> {
        const LOCK: &str = "UPDATE products SET commission_bps = commission_bps WHERE asin = $1 AND marketplace = $2 \
             AND brand_id IN (SELECT id FROM brands WHERE owner_account_id = $3)";
        let mut select = Sql::new(SELECT);
        select
            .push(" WHERE p.asin = ")
            .arg(asin)
            .and_eq("p.marketplace", marketplace);
        const UPDATE: &str = "UPDATE products SET commission_bps = $3, updated_at = $4 WHERE asin = $1 AND marketplace = $2";
        let m = marketplace.as_str();
        let result: Result<Change<SellerProductRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(LOCK).bind(asin).bind(m).bind(owner.account_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: SellerProductRow = select.query_as().fetch_one(&mut *tx).await?;
            let wanted = bps.map(|b| b as i32);
            if before.commission_bps == wanted {
                tx.commit().await?;
                return Ok(Change::Unchanged(before));
            }
            sqlx::query(UPDATE).bind(asin).bind(m).bind(wanted).bind(now).execute(&mut *tx).await?;
            let after = SellerProductRow { commission_bps: wanted, ..before.clone() };
            let snapshot = |p: &SellerProductRow| serde_json::json!({
                "commission_override": p.commission_bps.map(|b| f64::from(b) / 100.0),
                "commission": f64::from(p.commission_bps()) / 100.0,
            });
            let (target, brand) = (format!("product:{m}/{asin}"), &before.brand_id);
            By::Seller(owner)
                .audit(brand, "product.commission", target, snapshot(&before), snapshot(&after), now)
                .query()
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_placeholders_follow_the_fixed_ones() {
        let brands = vec!["a".to_owned(), "b".to_owned()];
        let asins = vec!["X".to_owned()];
        let mut sql = Sql::default();
        push_where(
            &mut sql,
            "owner",
            &SellerProductFilter {
                marketplace: Some(Marketplace::De),
                brand_ids: &brands,
                asins: &asins,
            },
        );
        assert_eq!(
            sql.text(),
            " WHERE b.owner_account_id = $1 AND p.marketplace = $2 AND p.brand_id IN ($3, $4) AND p.asin IN ($5)"
        );
        let mut sql = Sql::default();
        push_where(&mut sql, "owner", &SellerProductFilter::default());
        assert_eq!(sql.text(), " WHERE b.owner_account_id = $1");
    }
}
