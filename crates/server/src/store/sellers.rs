//! The seller side: a seller's own brands and products, grants, publishers' access
//! requests, and the audit log every seller change writes in the same transaction.
//!
//! Every change starts its transaction by touching the brand row with an owner check: that
//! is the tenant check (0 rows → not this seller's brand), and on PostgreSQL it also locks the
//! brand, so two changes to one brand never interleave their before/after snapshots.

use quiver_domain::{Marketplace, ProgramMode};
use serde_json::Value;
// Dynamic SQL here only joins constant fragments and numbered placeholders: AssertSqlSafe
// marks that audit.
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::catalog::{BrandRow, ProductPosition};
use super::{Db, StoreError, StoreResult, read_pool, write_pool};

/// Who makes a change, as the audit log records it.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub account_id: &'a str,
    pub public_id: &'a str,
}

/// One audit entry to write.
#[derive(Debug, Clone)]
pub struct Audit<'a> {
    pub brand_id: &'a str,
    pub action: &'a str,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

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

/// A product as its seller sees it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SellerProductRow {
    pub asin: String,
    pub marketplace: String,
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
    pub fn marketplace(&self) -> Marketplace {
        Marketplace::parse(&self.marketplace).unwrap_or(Marketplace::Us)
    }

    /// The rate in force: the override, else the brand default.
    pub fn commission_bps(&self) -> u32 {
        u32::try_from(self.commission_bps.unwrap_or(self.default_commission_bps)).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GrantRow {
    pub brand_id: String,
    pub account_id: String,
    pub public_id: String,
    pub display_name: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
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
    pub status: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
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

#[derive(Debug)]
pub enum Decision {
    NotFound,
    /// Already approved or declined.
    NotPending(AccessRequestRow),
    Decided(AccessRequestRow),
}

/// Filters of `GET /sellers/products`; empty lists mean "any".
#[derive(Debug, Default)]
pub struct SellerProductFilter<'a> {
    pub marketplace: Option<Marketplace>,
    pub brand_ids: &'a [String],
    pub asins: &'a [String],
}

/// A keyset position in newest-first listings.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TimePosition {
    pub t: i64,
    pub id: String,
}

const LOCK_BRAND: &str =
    "UPDATE brands SET program_mode = program_mode WHERE id = $1 AND owner_account_id = $2";

const AUDIT_INSERT: &str = "INSERT INTO seller_audit (id, actor_account_id, actor_public_id, brand_id, action, target, before_json, after_json, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const BRAND_COLUMNS: &str = "id, owner_account_id, name, company_name, logo_url, program_mode, default_commission_bps, created_at";

const SELLER_PRODUCT_SELECT: &str = "SELECT p.asin, p.marketplace, p.brand_id, b.name AS brand_name, p.title, p.price_minor, \
     p.available, p.commission_bps, b.default_commission_bps FROM products p JOIN brands b ON b.id = p.brand_id";

const GRANT_SELECT: &str = "SELECT g.brand_id, g.account_id, a.public_id, a.display_name, g.granted_at, g.revoked_at \
     FROM grants g JOIN accounts a ON a.id = g.account_id";

const REQUEST_SELECT: &str = "SELECT r.id, r.brand_id, b.name AS brand_name, r.account_id, a.public_id, a.display_name, \
     r.message, r.status, r.created_at, r.decided_at \
     FROM access_requests r JOIN brands b ON b.id = r.brand_id JOIN accounts a ON a.id = r.account_id";

/// Writes one audit entry inside the caller's transaction (a macro because the
/// transaction's type differs per engine).
macro_rules! write_audit {
    ($tx:expr, $actor:expr, $entry:expr, $now:expr) => {{
        let entry = $entry;
        sqlx::query(AUDIT_INSERT)
            .bind(Uuid::now_v7().to_string())
            .bind($actor.account_id)
            .bind($actor.public_id)
            .bind(entry.brand_id)
            .bind(entry.action)
            .bind(&entry.target)
            .bind(entry.before.as_ref().map(Value::to_string))
            .bind(entry.after.as_ref().map(Value::to_string))
            .bind($now)
            .execute(&mut *$tx)
            .await
    }};
}

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The WHERE clause of the seller's product listing; list placeholders start at `$3`.
/// Returns the clause and the next free placeholder number.
fn seller_product_where(filter: &SellerProductFilter<'_>) -> (String, usize) {
    let mut sql =
        String::from(" WHERE b.owner_account_id = $1 AND ($2 IS NULL OR p.marketplace = $2)");
    let mut next = 3;
    if !filter.brand_ids.is_empty() {
        sql.push_str(&format!(
            " AND p.brand_id IN ({})",
            placeholders(next, filter.brand_ids.len())
        ));
        next += filter.brand_ids.len();
    }
    if !filter.asins.is_empty() {
        sql.push_str(&format!(
            " AND p.asin IN ({})",
            placeholders(next, filter.asins.len())
        ));
        next += filter.asins.len();
    }
    (sql, next)
}

impl Db {
    /// One page of the seller's brands (by id) and how many there are.
    pub async fn seller_brands(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<BrandRow>)> {
        const COUNT: &str = "SELECT COUNT(*) FROM brands WHERE owner_account_id = $1";
        let list = format!(
            "SELECT {BRAND_COLUMNS} FROM brands WHERE owner_account_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        Ok(read_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(COUNT).bind(owner).fetch_one(pool).await?;
            let rows: Vec<BrandRow> = sqlx::query_as(AssertSqlSafe(list.as_str()))
                .bind(owner).bind(after).bind(limit).fetch_all(pool).await?;
            (total, rows)
        }))
    }

    /// The brand, only if `owner` owns it.
    pub async fn seller_brand(&self, owner: &str, brand_id: &str) -> StoreResult<Option<BrandRow>> {
        let sql =
            format!("SELECT {BRAND_COLUMNS} FROM brands WHERE id = $1 AND owner_account_id = $2");
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(brand_id).bind(owner).fetch_optional(pool).await)?,
        )
    }

    /// One page of the seller's products in catalog order (brand, ASIN, marketplace).
    pub async fn seller_products(
        &self,
        owner: &str,
        filter: &SellerProductFilter<'_>,
        after: Option<&ProductPosition>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<SellerProductRow>)> {
        let (clause, next) = seller_product_where(filter);
        let count =
            format!("SELECT COUNT(*) FROM products p JOIN brands b ON b.id = p.brand_id{clause}");
        let list = format!(
            "{SELLER_PRODUCT_SELECT}{clause} AND (${a} IS NULL OR (p.brand_id, p.asin, p.marketplace) > (${a}, ${b}, ${c})) \
             ORDER BY p.brand_id, p.asin, p.marketplace LIMIT ${d}",
            a = next,
            b = next + 1,
            c = next + 2,
            d = next + 3
        );
        let m = filter.marketplace.map(Marketplace::as_str);
        Ok(read_pool!(self, pool => {
            let mut q = sqlx::query_scalar(AssertSqlSafe(count.as_str())).bind(owner).bind(m);
            for v in filter.brand_ids.iter().chain(filter.asins) {
                q = q.bind(v);
            }
            let total: i64 = q.fetch_one(pool).await?;
            let mut q = sqlx::query_as(AssertSqlSafe(list.as_str())).bind(owner).bind(m);
            for v in filter.brand_ids.iter().chain(filter.asins) {
                q = q.bind(v);
            }
            let rows: Vec<SellerProductRow> = q
                .bind(after.map(|p| p.b.as_str())).bind(after.map(|p| p.a.as_str())).bind(after.map(|p| p.m.as_str()))
                .bind(limit)
                .fetch_all(pool).await?;
            (total, rows)
        }))
    }

    /// The product, only if it belongs to one of `owner`'s brands.
    pub async fn seller_product(
        &self,
        owner: &str,
        asin: &str,
        marketplace: Marketplace,
    ) -> StoreResult<Option<SellerProductRow>> {
        let sql = format!(
            "{SELLER_PRODUCT_SELECT} WHERE p.asin = $1 AND p.marketplace = $2 AND b.owner_account_id = $3"
        );
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(asin).bind(marketplace.as_str()).bind(owner).fetch_optional(pool).await)?,
        )
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
        let select = format!("SELECT {BRAND_COLUMNS} FROM brands WHERE id = $1");
        const UPDATE: &str =
            "UPDATE brands SET program_mode = $2, default_commission_bps = $3 WHERE id = $1";
        let result: Result<Change<BrandRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(LOCK_BRAND).bind(brand_id).bind(owner.account_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: BrandRow = sqlx::query_as(AssertSqlSafe(select.as_str())).bind(brand_id).fetch_one(&mut *tx).await?;
            let mut after = before.clone();
            if let Some(m) = mode {
                after.program_mode = m.as_str().to_owned();
            }
            if let Some(bps) = default_bps {
                after.default_commission_bps = bps as i32;
            }
            if after.program_mode == before.program_mode && after.default_commission_bps == before.default_commission_bps {
                tx.commit().await?;
                return Ok(Change::Unchanged(before));
            }
            sqlx::query(UPDATE).bind(brand_id).bind(&after.program_mode).bind(after.default_commission_bps)
                .execute(&mut *tx).await?;
            let snapshot = |b: &BrandRow| serde_json::json!({
                "program_mode": b.program_mode,
                "default_commission": f64::from(b.default_commission_bps) / 100.0,
            });
            write_audit!(tx, owner, Audit {
                brand_id,
                action: "brand.update",
                target: format!("brand:{brand_id}"),
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
            }, now)?;
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
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
        let select = format!("{SELLER_PRODUCT_SELECT} WHERE p.asin = $1 AND p.marketplace = $2");
        const UPDATE: &str = "UPDATE products SET commission_bps = $3, updated_at = $4 WHERE asin = $1 AND marketplace = $2";
        let m = marketplace.as_str();
        let result: Result<Change<SellerProductRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(LOCK).bind(asin).bind(m).bind(owner.account_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: SellerProductRow = sqlx::query_as(AssertSqlSafe(select.as_str())).bind(asin).bind(m).fetch_one(&mut *tx).await?;
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
            write_audit!(tx, owner, Audit {
                brand_id: &before.brand_id,
                action: "product.commission",
                target: format!("product:{m}/{asin}"),
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
            }, now)?;
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// A brand's grants, by creator public id; `active` filters on whether still in force.
    pub async fn brand_grants(
        &self,
        brand_id: &str,
        active: Option<bool>,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<GrantRow>)> {
        const WHERE: &str =
            " WHERE g.brand_id = $1 AND ($2 IS NULL OR (g.revoked_at IS NULL) = $2)";
        let count =
            format!("SELECT COUNT(*) FROM grants g JOIN accounts a ON a.id = g.account_id{WHERE}");
        let list = format!(
            "{GRANT_SELECT}{WHERE} AND ($3 IS NULL OR a.public_id > $3) ORDER BY a.public_id LIMIT $4"
        );
        Ok(read_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(AssertSqlSafe(count.as_str())).bind(brand_id).bind(active).fetch_one(pool).await?;
            let rows: Vec<GrantRow> = sqlx::query_as(AssertSqlSafe(list.as_str()))
                .bind(brand_id).bind(active).bind(after).bind(limit).fetch_all(pool).await?;
            (total, rows)
        }))
    }

    /// The grant row of one publisher on one brand (active or revoked), if any.
    pub async fn grant_of(
        &self,
        brand_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<GrantRow>> {
        let sql = format!("{GRANT_SELECT} WHERE g.brand_id = $1 AND g.account_id = $2");
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(brand_id).bind(account_id).fetch_optional(pool).await)?,
        )
    }

    /// Grants a publisher access to one of `owner`'s brands, auditing a change.
    pub async fn grant_access(
        &self,
        owner: Actor<'_>,
        brand_id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<Change<GrantRow>> {
        const UPSERT: &str = "INSERT INTO grants (brand_id, account_id, granted_at, revoked_at) VALUES ($1, $2, $3, NULL) \
             ON CONFLICT (brand_id, account_id) DO UPDATE SET granted_at = excluded.granted_at, revoked_at = NULL";
        let select = format!("{GRANT_SELECT} WHERE g.brand_id = $1 AND g.account_id = $2");
        let result: Result<Change<GrantRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(LOCK_BRAND).bind(brand_id).bind(owner.account_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: Option<GrantRow> = sqlx::query_as(AssertSqlSafe(select.as_str())).bind(brand_id).bind(account_id).fetch_optional(&mut *tx).await?;
            if let Some(g) = before.as_ref().filter(|g| g.revoked_at.is_none()) {
                let g = g.clone();
                tx.commit().await?;
                return Ok(Change::Unchanged(g));
            }
            sqlx::query(UPSERT).bind(brand_id).bind(account_id).bind(now).execute(&mut *tx).await?;
            let after: GrantRow = sqlx::query_as(AssertSqlSafe(select.as_str())).bind(brand_id).bind(account_id).fetch_one(&mut *tx).await?;
            write_audit!(tx, owner, Audit {
                brand_id,
                action: "grant.create",
                target: format!("creator:{}", after.public_id),
                before: Some(grant_snapshot(before.as_ref())),
                after: Some(grant_snapshot(Some(&after))),
            }, now)?;
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// Revokes a publisher's active grant on one of `owner`'s brands, auditing it.
    /// `Unchanged` carries the (revoked) row when there was no active grant; `NotFound`
    /// means the brand is not the owner's, or there never was a grant.
    pub async fn revoke_access(
        &self,
        owner: Actor<'_>,
        brand_id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<Change<GrantRow>> {
        const REVOKE: &str = "UPDATE grants SET revoked_at = $3 WHERE brand_id = $1 AND account_id = $2 AND revoked_at IS NULL";
        let select = format!("{GRANT_SELECT} WHERE g.brand_id = $1 AND g.account_id = $2");
        let result: Result<Change<GrantRow>, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(LOCK_BRAND).bind(brand_id).bind(owner.account_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            }
            let before: Option<GrantRow> = sqlx::query_as(AssertSqlSafe(select.as_str())).bind(brand_id).bind(account_id).fetch_optional(&mut *tx).await?;
            let Some(before) = before else {
                tx.rollback().await?;
                return Ok(Change::NotFound);
            };
            if before.revoked_at.is_some() {
                tx.commit().await?;
                return Ok(Change::Unchanged(before));
            }
            sqlx::query(REVOKE).bind(brand_id).bind(account_id).bind(now).execute(&mut *tx).await?;
            let after = GrantRow { revoked_at: Some(now), ..before.clone() };
            write_audit!(tx, owner, Audit {
                brand_id,
                action: "grant.revoke",
                target: format!("creator:{}", before.public_id),
                before: Some(grant_snapshot(Some(&before))),
                after: Some(grant_snapshot(Some(&after))),
            }, now)?;
            tx.commit().await?;
            Ok(Change::Changed(after))
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// Stores a new pending request; `Conflict` when one is already pending for the pair.
    pub async fn insert_access_request(
        &self,
        brand_id: &str,
        account_id: &str,
        message: &str,
        now: i64,
    ) -> StoreResult<AccessRequestRow> {
        const SQL: &str = "INSERT INTO access_requests (id, brand_id, account_id, message, status, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5)";
        let id = Uuid::now_v7().to_string();
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(&id).bind(brand_id).bind(account_id).bind(message).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))
        .map_err(StoreError::from_write)?;
        self.access_request(&id)
            .await?
            .ok_or_else(|| StoreError::Sqlx(sqlx::Error::RowNotFound))
    }

    pub async fn access_request(&self, id: &str) -> StoreResult<Option<AccessRequestRow>> {
        let sql = format!("{REQUEST_SELECT} WHERE r.id = $1");
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(id).fetch_optional(pool).await)?,
        )
    }

    /// The pending request of a publisher for a brand, if any.
    pub async fn pending_access_request(
        &self,
        brand_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<AccessRequestRow>> {
        let sql = format!(
            "{REQUEST_SELECT} WHERE r.brand_id = $1 AND r.account_id = $2 AND r.status = 'pending'"
        );
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(brand_id).bind(account_id).fetch_optional(pool).await)?,
        )
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
        let (scope_sql, who) = match scope {
            RequestScope::Publisher(account) => ("r.account_id = $1", account),
            RequestScope::Seller(owner) => ("b.owner_account_id = $1", owner),
        };
        let clause = format!(
            " WHERE {scope_sql} AND ($2 IS NULL OR r.status = $2) AND ($3 IS NULL OR r.brand_id = $3)"
        );
        let count = format!(
            "SELECT COUNT(*) FROM access_requests r JOIN brands b ON b.id = r.brand_id{clause}"
        );
        let list = format!(
            "{REQUEST_SELECT}{clause} AND ($4 IS NULL OR (r.created_at, r.id) < ($4, $5)) \
             ORDER BY r.created_at DESC, r.id DESC LIMIT $6"
        );
        Ok(read_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(AssertSqlSafe(count.as_str()))
                .bind(who).bind(status).bind(brand_id).fetch_one(pool).await?;
            let rows: Vec<AccessRequestRow> = sqlx::query_as(AssertSqlSafe(list.as_str()))
                .bind(who).bind(status).bind(brand_id)
                .bind(after.map(|p| p.t)).bind(after.map(|p| p.id.as_str())).bind(limit)
                .fetch_all(pool).await?;
            (total, rows)
        }))
    }

    /// Approves (granting access) or declines a pending request on one of `owner`'s brands.
    pub async fn decide_access_request(
        &self,
        owner: Actor<'_>,
        id: &str,
        approve: bool,
        now: i64,
    ) -> StoreResult<Decision> {
        const DECIDE: &str = "UPDATE access_requests SET status = $3, decided_at = $4, decided_by = $5 \
             WHERE id = $1 AND status = 'pending' AND brand_id IN (SELECT id FROM brands WHERE owner_account_id = $2)";
        const GRANT: &str = "INSERT INTO grants (brand_id, account_id, granted_at, revoked_at) VALUES ($1, $2, $3, NULL) \
             ON CONFLICT (brand_id, account_id) DO UPDATE SET granted_at = excluded.granted_at, revoked_at = NULL \
             WHERE grants.revoked_at IS NOT NULL";
        let select = format!("{REQUEST_SELECT} WHERE r.id = $1 AND b.owner_account_id = $2");
        let status = if approve { "approved" } else { "declined" };
        let result: Result<Decision, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let before: Option<AccessRequestRow> = sqlx::query_as(AssertSqlSafe(select.as_str()))
                .bind(id).bind(owner.account_id).fetch_optional(&mut *tx).await?;
            let Some(before) = before else {
                tx.rollback().await?;
                return Ok(Decision::NotFound);
            };
            sqlx::query(LOCK_BRAND).bind(&before.brand_id).bind(owner.account_id).execute(&mut *tx).await?;
            let n = sqlx::query(DECIDE).bind(id).bind(owner.account_id).bind(status).bind(now).bind(owner.account_id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                let current: AccessRequestRow = sqlx::query_as(AssertSqlSafe(select.as_str()))
                    .bind(id).bind(owner.account_id).fetch_one(&mut *tx).await?;
                tx.rollback().await?;
                return Ok(Decision::NotPending(current));
            }
            if approve {
                sqlx::query(GRANT).bind(&before.brand_id).bind(&before.account_id).bind(now).execute(&mut *tx).await?;
            }
            let after = AccessRequestRow { status: status.to_owned(), decided_at: Some(now), ..before.clone() };
            let snapshot = |r: &AccessRequestRow| serde_json::json!({
                "status": r.status,
                "creator": r.public_id,
            });
            write_audit!(tx, owner, Audit {
                brand_id: &before.brand_id,
                action: if approve { "access_request.approve" } else { "access_request.decline" },
                target: format!("access_request:{id}"),
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
            }, now)?;
            tx.commit().await?;
            Ok(Decision::Decided(after))
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// The audit log of `owner`'s brands, newest first.
    pub async fn seller_audit(
        &self,
        owner: &str,
        brand_id: Option<&str>,
        after: Option<&TimePosition>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<AuditRow>)> {
        const WHERE: &str = " FROM seller_audit s JOIN brands b ON b.id = s.brand_id WHERE b.owner_account_id = $1 AND ($2 IS NULL OR s.brand_id = $2)";
        let count = format!("SELECT COUNT(*){WHERE}");
        let list = format!(
            "SELECT s.id, s.actor_public_id, s.brand_id, s.action, s.target, s.before_json, s.after_json, s.at{WHERE} \
             AND ($3 IS NULL OR (s.at, s.id) < ($3, $4)) ORDER BY s.at DESC, s.id DESC LIMIT $5"
        );
        Ok(read_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(AssertSqlSafe(count.as_str()))
                .bind(owner).bind(brand_id).fetch_one(pool).await?;
            let rows: Vec<AuditRow> = sqlx::query_as(AssertSqlSafe(list.as_str()))
                .bind(owner).bind(brand_id)
                .bind(after.map(|p| p.t)).bind(after.map(|p| p.id.as_str())).bind(limit)
                .fetch_all(pool).await?;
            (total, rows)
        }))
    }
}

/// Whose access requests to list.
#[derive(Debug, Clone, Copy)]
pub enum RequestScope<'a> {
    /// A publisher's own requests (account id).
    Publisher(&'a str),
    /// The requests on a seller's brands (owner account id).
    Seller(&'a str),
}

fn grant_snapshot(g: Option<&GrantRow>) -> Value {
    match g {
        None => serde_json::json!({ "active": false, "granted_at": null, "revoked_at": null }),
        Some(g) => serde_json::json!({
            "active": g.revoked_at.is_none(),
            "granted_at": g.granted_at,
            "revoked_at": g.revoked_at,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_placeholders_follow_the_fixed_ones() {
        let brands = vec!["a".to_owned(), "b".to_owned()];
        let asins = vec!["X".to_owned()];
        let (sql, next) = seller_product_where(&SellerProductFilter {
            marketplace: None,
            brand_ids: &brands,
            asins: &asins,
        });
        assert!(sql.contains("p.brand_id IN ($3, $4)"), "{sql}");
        assert!(sql.contains("p.asin IN ($5)"), "{sql}");
        assert_eq!(next, 6);
        let (sql, next) = seller_product_where(&SellerProductFilter::default());
        assert!(!sql.contains(" IN "), "{sql}");
        assert_eq!(next, 3);
    }
}
