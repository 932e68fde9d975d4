//! What ingestion reads and checkpoints: the advertisers to pull, their links, and each
//! pull's progress (last success, and an unfinished pull's window and next-page cursor).

use quiver_domain::{Marketplace, Region};

use crate::store::sql::Sql;
use crate::store::{Db, StoreResult, read_pool, write_pool};

/// A link as ingestion needs it, found by its ad group id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IngestLink {
    pub id: String,
    pub ad_group_id: String,
    pub account_id: String,
    pub asin: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
    pub brand_id: String,
    pub paused_at: Option<i64>,
}

/// One Amazon advertiser to pull, with the brands that report through it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdvertiserRow {
    #[sqlx(try_from = "String")]
    pub region: Region,
    pub profile_id: String,
    pub advertiser_id: String,
    pub brand_id: String,
    pub seller_id: String,
    /// With the brand's own authorisation (#18): its status, sealed token and when it was
    /// (re)connected; all `None` for operator-set ids read with the platform's credentials.
    pub own_status: Option<String>,
    pub own_sealed: Option<String>,
    pub own_connected_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IngestStateRow {
    pub last_success_at: Option<i64>,
    pub pending_start: Option<i32>,
    pub pending_end: Option<i32>,
    pub pending_cursor: Option<String>,
}

/// One pull's checkpoint key: a report of an advertiser in a region.
#[derive(Debug, Clone, Copy)]
pub struct Pull<'a> {
    pub region: Region,
    pub advertiser_id: &'a str,
    pub report: &'a str,
}

impl Pull<'_> {
    /// `sql` with the key bound to `$1, $2, $3`.
    fn statement(&self, sql: &str) -> Sql {
        let mut s = Sql::new(sql);
        s.bind(self.region.as_str())
            .bind(self.advertiser_id)
            .bind(self.report);
        s
    }
}

impl Db {
    /// Every brand's Amazon account that has at least one link, by advertiser.
    pub async fn ingest_advertisers(&self) -> StoreResult<Vec<AdvertiserRow>> {
        // A brand's own connection replaces its operator-set ids in that region, also
        // while it needs reconnecting (then ingestion skips it).
        const SQL: &str = "SELECT a.region, a.profile_id, a.advertiser_id, a.brand_id, b.owner_account_id AS seller_id, \
             NULL AS own_status, NULL AS own_sealed, NULL AS own_connected_at \
             FROM brand_amazon_accounts a JOIN brands b ON b.id = a.brand_id \
             WHERE EXISTS (SELECT 1 FROM links l WHERE l.brand_id = a.brand_id) \
             AND NOT EXISTS (SELECT 1 FROM amazon_connections c WHERE c.brand_id = a.brand_id AND c.region = a.region) \
             UNION ALL \
             SELECT c.region, c.profile_id, c.advertiser_id, c.brand_id, b.owner_account_id AS seller_id, \
             c.status AS own_status, c.refresh_token_sealed AS own_sealed, c.connected_at AS own_connected_at \
             FROM amazon_connections c JOIN brands b ON b.id = c.brand_id \
             WHERE c.profile_id IS NOT NULL AND c.advertiser_id IS NOT NULL \
             AND EXISTS (SELECT 1 FROM links l WHERE l.brand_id = c.brand_id) \
             ORDER BY 1, 3, 4";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?)
    }

    /// The links of a brand, for mapping ad groups back to links.
    pub async fn ingest_links(&self, brand_id: &str) -> StoreResult<Vec<IngestLink>> {
        const SQL: &str = "SELECT id, ad_group_id, account_id, asin, marketplace, brand_id, paused_at FROM links WHERE brand_id = $1";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).fetch_all(pool).await)?)
    }

    pub async fn ingest_state(&self, pull: &Pull<'_>) -> StoreResult<Option<IngestStateRow>> {
        let sql = pull.statement(
            "SELECT last_success_at, pending_start, pending_end, pending_cursor FROM ingest_state \
             WHERE region = $1 AND advertiser_id = $2 AND report = $3",
        );
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Records an unfinished pull: its window and the cursor of the next page (`None`:
    /// the first page).
    pub async fn set_ingest_pending(
        &self,
        pull: &Pull<'_>,
        window: (i32, i32),
        cursor: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        let mut sql = pull.statement(
            "INSERT INTO ingest_state (region, advertiser_id, report, last_success_at, pending_start, pending_end, \
             pending_cursor, updated_at) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7) \
             ON CONFLICT (region, advertiser_id, report) DO UPDATE SET pending_start = excluded.pending_start, \
             pending_end = excluded.pending_end, pending_cursor = excluded.pending_cursor, updated_at = excluded.updated_at",
        );
        sql.bind(window.0).bind(window.1).bind(cursor).bind(now);
        write_pool!(self, pool => sql.query().execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records a finished pull: no window or cursor left, and when it succeeded.
    pub async fn set_ingest_done(&self, pull: &Pull<'_>, now: i64) -> StoreResult<()> {
        let mut sql = pull.statement(
            "INSERT INTO ingest_state (region, advertiser_id, report, last_success_at, pending_start, pending_end, \
             pending_cursor, updated_at) VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $4) \
             ON CONFLICT (region, advertiser_id, report) DO UPDATE SET last_success_at = excluded.last_success_at, \
             pending_start = NULL, pending_end = NULL, pending_cursor = NULL, updated_at = excluded.updated_at",
        );
        sql.bind(now);
        write_pool!(self, pool => sql.query().execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
