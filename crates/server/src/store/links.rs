//! Attribution links and the idempotency keys that guard their creation.

use quiver_domain::Marketplace;

// Dynamic SQL here only joins constant fragments: AssertSqlSafe marks that audit.
use sqlx::AssertSqlSafe;

use super::{Db, StoreError, StoreResult, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub id: String,
    pub account_id: String,
    pub asin: String,
    pub marketplace: String,
    pub brand_id: String,
    pub link_name: String,
    pub url: String,
    pub ad_group_id: String,
    pub campaign_id: String,
    pub product_name: String,
    pub active: bool,
    pub paused_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, account_id, asin, marketplace, brand_id, link_name, url, ad_group_id, campaign_id, \
     product_name, active, paused_at, created_at";

/// Filters of `GET /get_all_links`.
#[derive(Debug, Default)]
pub struct LinkFilter<'a> {
    pub marketplace: Option<Marketplace>,
    pub asin: Option<&'a str>,
    pub active: Option<bool>,
    /// Already lower-cased and wrapped for `LIKE`.
    pub name_like: Option<String>,
}

/// A remembered successful creation: the key's request hash and the link it made.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub link_id: String,
    pub response_body: String,
    pub created_at: i64,
}

/// The key, what it was used for, and the response to replay.
pub struct IdempotencyRecord<'a> {
    pub key: &'a str,
    pub request_hash: &'a str,
    pub response_body: &'a str,
}

pub enum InsertOutcome {
    Created,
    /// Another request with the same idempotency key committed first.
    KeyTaken,
}

const LINK_WHERE: &str = " WHERE account_id = $1 AND ($2 IS NULL OR marketplace = $2) AND ($3 IS NULL OR asin = $3) \
     AND ($4 IS NULL OR active = $4) AND ($5 IS NULL OR LOWER(link_name) LIKE $5 ESCAPE '\\')";

impl Db {
    /// Inserts a link and, when given, the idempotency key that produced it, in one
    /// transaction: either both exist afterwards or neither does.
    pub async fn insert_link(
        &self,
        link: &LinkRow,
        idempotency: Option<IdempotencyRecord<'_>>,
        now: i64,
    ) -> StoreResult<InsertOutcome> {
        let sql = format!(
            "INSERT INTO links ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        const KEY_SQL: &str = "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, link_id, response_body, created_at) \
             VALUES ($1, $2, $3, $4, $7, $5) \
             ON CONFLICT (account_id, idem_key) DO UPDATE SET request_hash = excluded.request_hash, \
             link_id = excluded.link_id, response_body = excluded.response_body, created_at = excluded.created_at \
             WHERE idempotency_keys.created_at < $6";
        let result: Result<InsertOutcome, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(&link.id).bind(&link.account_id).bind(&link.asin).bind(&link.marketplace)
                .bind(&link.brand_id).bind(&link.link_name).bind(&link.url).bind(&link.ad_group_id)
                .bind(&link.campaign_id).bind(&link.product_name).bind(link.active).bind(link.paused_at)
                .bind(link.created_at)
                .execute(&mut *tx).await?;
            if let Some(record) = idempotency {
                // An expired key (older than 24 h) is overwritten; a live one wins the race.
                let n = sqlx::query(KEY_SQL)
                    .bind(&link.account_id).bind(record.key).bind(record.request_hash).bind(&link.id).bind(now)
                    .bind(now - IDEMPOTENCY_TTL_MS).bind(record.response_body)
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(InsertOutcome::KeyTaken);
                }
            }
            tx.commit().await?;
            Ok(InsertOutcome::Created)
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// A live (younger than 24 h) idempotency key of this account.
    pub async fn idempotency_key(
        &self,
        account_id: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<IdempotencyRow>> {
        const SQL: &str = "SELECT request_hash, link_id, response_body, created_at FROM idempotency_keys \
             WHERE account_id = $1 AND idem_key = $2 AND created_at >= $3";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL)
            .bind(account_id).bind(key).bind(now - IDEMPOTENCY_TTL_MS)
            .fetch_optional(pool).await)?)
    }

    /// The link, only if it belongs to `account_id`.
    pub async fn link_of(&self, account_id: &str, id: &str) -> StoreResult<Option<LinkRow>> {
        let sql = format!("SELECT {COLUMNS} FROM links WHERE id = $1 AND account_id = $2");
        Ok(
            read_pool!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).bind(account_id).fetch_optional(pool).await)?,
        )
    }

    /// Newest first. `after` is the id of the last link of the previous page (keyset), or
    /// `offset` skips rows (page numbers).
    pub async fn list_links(
        &self,
        account_id: &str,
        filter: &LinkFilter<'_>,
        after: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(i64, Vec<LinkRow>)> {
        let count_sql = format!("SELECT COUNT(*) FROM links{LINK_WHERE}");
        let list_sql = format!(
            "SELECT {COLUMNS} FROM links{LINK_WHERE} AND ($6 IS NULL OR id < $6) ORDER BY id DESC LIMIT $7 OFFSET $8"
        );
        let m = filter.marketplace.map(Marketplace::as_str);
        let like = filter.name_like.as_deref();
        let (total, rows) = read_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(AssertSqlSafe(count_sql.as_str()))
                .bind(account_id).bind(m).bind(filter.asin).bind(filter.active).bind(like)
                .fetch_one(pool).await?;
            let rows: Vec<LinkRow> = sqlx::query_as(AssertSqlSafe(list_sql.as_str()))
                .bind(account_id).bind(m).bind(filter.asin).bind(filter.active).bind(like)
                .bind(after).bind(limit).bind(offset)
                .fetch_all(pool).await?;
            (total, rows)
        });
        Ok((total, rows))
    }

    /// Applies a pause/resume and/or rename; returns the updated link.
    pub async fn update_link(
        &self,
        account_id: &str,
        id: &str,
        active: Option<bool>,
        link_name: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<LinkRow>> {
        // paused_at records the first pause; resuming clears it.
        const SQL: &str = "UPDATE links SET \
             link_name = COALESCE($3, link_name), \
             paused_at = CASE WHEN $4 IS NULL THEN paused_at WHEN $4 THEN NULL ELSE COALESCE(paused_at, $5) END, \
             active = COALESCE($4, active) \
             WHERE id = $1 AND account_id = $2";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(id).bind(account_id).bind(link_name).bind(active).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Ok(None);
        }
        self.link_of(account_id, id).await
    }

    pub async fn count_links(&self, account_id: &str) -> StoreResult<i64> {
        Ok(
            read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM links WHERE account_id = $1")
            .bind(account_id).fetch_one(pool).await)?,
        )
    }

    pub async fn prune_idempotency_keys(&self, now: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
        Ok(
            write_pool!(self, pool => sqlx::query(SQL).bind(now - IDEMPOTENCY_TTL_MS).execute(pool).await.map(|r| r.rows_affected()))?,
        )
    }
}

pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;
