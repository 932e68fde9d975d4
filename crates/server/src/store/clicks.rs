//! Short codes and click counts (migration 0018): the additive flush of the in-memory
//! counters, the code map's loads, the backfill of codes, and the click reports.

use std::collections::HashMap;

use sqlx::Acquire;

use super::sql::Sql;
use super::{Db, StoreError, StoreResult, read_pool, write_pool};
use crate::clicks::counter::{Batch, HOUR_MS};

/// Rows per multi-row upsert: 6 values each stays far below both engines' bind limits.
const CHUNK: usize = 400;

/// `(short_code, id, url)` of a link, for the code map.
pub type CodeRow = (String, String, String);

/// What click figures are scoped to.
#[derive(Debug, Clone)]
pub enum ClickScope<'a> {
    /// A creator's own links.
    Account(&'a str),
    /// Links to the products of a seller's own brands.
    Seller(&'a str),
}

/// How click figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickGroup {
    Hour,
    Day,
    Device,
    Referrer,
    Country,
    Source,
    Link,
    Creator,
    Product,
}

impl ClickGroup {
    /// `(numeric key, text key)` expressions; the other one is a constant.
    fn exprs(self) -> (&'static str, &'static str) {
        match self {
            ClickGroup::Hour => ("c.hour_start", "''"),
            ClickGroup::Day => ("c.hour_start - (c.hour_start % 86400000)", "''"),
            ClickGroup::Device => ("0", "c.device"),
            ClickGroup::Referrer => ("0", "c.referrer"),
            ClickGroup::Country => ("0", "c.country"),
            ClickGroup::Source => ("0", "COALESCE(l.source, '')"),
            ClickGroup::Link => ("0", "l.id"),
            ClickGroup::Creator => ("0", "l.campaign_id"),
            ClickGroup::Product => ("0", "l.asin"),
        }
    }
}

/// Filters of the click reports. `start`/`end`: epoch ms, end exclusive.
#[derive(Debug, Clone)]
pub struct ClickFilter<'a> {
    pub scope: ClickScope<'a>,
    pub start: i64,
    pub end: i64,
    pub link_ids: &'a [String],
    pub source: Option<&'a str>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClickGroupRow {
    pub n_key: i64,
    pub t_key: String,
    pub clicks: i64,
}

impl ClickFilter<'_> {
    fn push_where(&self, sql: &mut Sql, hour_col: &str) {
        match self.scope {
            ClickScope::Account(account) => {
                sql.push(" WHERE l.account_id = ").arg(account);
            }
            ClickScope::Seller(seller) => {
                sql.push(" WHERE l.brand_id IN (SELECT id FROM brands WHERE owner_account_id = ")
                    .arg(seller)
                    .push(")");
            }
        }
        sql.push(" AND ")
            .push(hour_col)
            .push(" >= ")
            .arg(self.start)
            .push(" AND ")
            .push(hour_col)
            .push(" < ")
            .arg(self.end)
            .and_in_nonempty("l.id", self.link_ids)
            .and_eq_opt("l.source", self.source);
    }
}

impl Db {
    /// Adds a batch of counts in one transaction: each row's count is added to what is
    /// stored (never set), so processes flushing into one database add up exactly.
    pub async fn add_clicks(&self, batch: &Batch) -> StoreResult<()> {
        let clicks: Vec<_> = batch.clicks.iter().collect();
        let filtered: Vec<_> = batch.filtered.iter().collect();
        write_pool!(self, pool => {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin().await?;
            for chunk in clicks.chunks(CHUNK) {
                let mut sql = Sql::new(
                    "INSERT INTO link_clicks (link_id, hour_start, device, referrer, country, clicks) VALUES ",
                );
                for (i, (k, n)) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.push("(").list([
                        super::sql::Arg::from(k.link_id.to_string()),
                        k.hour_start.into(),
                        k.device.as_str().into(),
                        k.referrer.as_str().into(),
                        k.country_str().into(),
                        (**n).into(),
                    ]).push(")");
                }
                sql.push(" ON CONFLICT (link_id, hour_start, device, referrer, country) \
                    DO UPDATE SET clicks = link_clicks.clicks + excluded.clicks");
                sql.query().execute(&mut *tx).await?;
            }
            for chunk in filtered.chunks(CHUNK) {
                let mut sql = Sql::new(
                    "INSERT INTO link_clicks_filtered (link_id, hour_start, reason, requests) VALUES ",
                );
                for (i, (k, n)) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.push("(").list([
                        super::sql::Arg::from(k.link_id.to_string()),
                        k.hour_start.into(),
                        k.reason.as_str().into(),
                        (**n).into(),
                    ]).push(")");
                }
                sql.push(" ON CONFLICT (link_id, hour_start, reason) \
                    DO UPDATE SET requests = link_clicks_filtered.requests + excluded.requests");
                sql.query().execute(&mut *tx).await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Links without a short code (made before migration 0018), at most `limit`.
    pub async fn links_without_code(&self, limit: i64) -> StoreResult<Vec<String>> {
        const SQL: &str = "SELECT id FROM links WHERE short_code IS NULL LIMIT $1";
        Ok(read_pool!(self, pool => sqlx::query_scalar(SQL).bind(limit).fetch_all(pool).await)?)
    }

    /// Gives each link its code, unless it has one already (another process got there
    /// first), in one transaction; `ShortCodeTaken` when a code is another link's.
    pub async fn set_short_codes(&self, codes: &[(String, String)]) -> StoreResult<()> {
        const SQL: &str = "UPDATE links SET short_code = $2 WHERE id = $1 AND short_code IS NULL";
        let result: Result<(), sqlx::Error> = write_pool!(self, pool => async {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin().await?;
            for (id, code) in codes {
                sqlx::query(SQL).bind(id).bind(code).execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await);
        result.map_err(StoreError::from_write)
    }

    /// A page of every link's code, in id order after `after`.
    pub async fn short_codes_after(&self, after: &str, limit: i64) -> StoreResult<Vec<CodeRow>> {
        const SQL: &str = "SELECT short_code, id, url FROM links \
             WHERE id > $1 AND short_code IS NOT NULL ORDER BY id LIMIT $2";
        Ok(
            read_pool!(self, pool => sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(pool).await)?,
        )
    }

    /// Counted clicks per link: all time and since `since` (epoch ms of an hour start).
    pub async fn click_totals(
        &self,
        link_ids: &[String],
        since: i64,
    ) -> StoreResult<HashMap<String, (i64, i64)>> {
        if link_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = Sql::new(
            "SELECT link_id, CAST(SUM(clicks) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN hour_start >= ",
        );
        sql.arg(since)
            .push(" THEN clicks END), 0) AS BIGINT) FROM link_clicks WHERE 1 = 1")
            .and_in("link_id", link_ids)
            .push(" GROUP BY link_id");
        let rows: Vec<(String, i64, i64)> =
            read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|(id, t, d)| (id, (t, d))).collect())
    }

    /// Counted clicks grouped by `group`, in key order.
    pub async fn clicks_grouped(
        &self,
        filter: &ClickFilter<'_>,
        group: ClickGroup,
    ) -> StoreResult<Vec<ClickGroupRow>> {
        let (n, t) = group.exprs();
        let mut sql = Sql::new("SELECT CAST(");
        sql.push(n)
            .push(" AS BIGINT) AS n_key, CAST(")
            .push(t)
            .push(
                " AS TEXT) AS t_key, CAST(SUM(c.clicks) AS BIGINT) AS clicks \
                   FROM link_clicks c JOIN links l ON l.id = c.link_id",
            );
        filter.push_where(&mut sql, "c.hour_start");
        // By the output names: a constant key (`0`) would read as a column position.
        sql.push(" GROUP BY n_key, t_key ORDER BY n_key, t_key");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// Requests not counted, by reason.
    pub async fn clicks_filtered(
        &self,
        filter: &ClickFilter<'_>,
    ) -> StoreResult<Vec<(String, i64)>> {
        let mut sql = Sql::new(
            "SELECT f.reason, CAST(SUM(f.requests) AS BIGINT) \
             FROM link_clicks_filtered f JOIN links l ON l.id = f.link_id",
        );
        filter.push_where(&mut sql, "f.hour_start");
        sql.push(" GROUP BY f.reason ORDER BY f.reason");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }
}

/// The start of the hour 23 hours before `now`'s: `clicks_24h` covers the current hour
/// and the 23 before it.
pub fn day_ago(now: i64) -> i64 {
    crate::clicks::counter::hour_start(now) - 23 * HOUR_MS
}
