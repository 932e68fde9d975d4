//! Report facts (one row per day × link × sold ASIN), the row-count rollups that make
//! `total_count` cheap, ingestion progress and job leases.
//!
//! Days are integers `YYYYMMDD`. Facts are inserted or updated in place, never deleted,
//! so the rollups only grow and a keyset cursor never skips a row.

use std::collections::HashMap;

// Dynamic SQL here only joins constant fragments and numbered placeholders.
use sqlx::AssertSqlSafe;

use super::{Db, StoreResult, read_pool, write_pool};

/// A bind value of dynamically assembled SQL.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
    Day(i32),
}

/// Binds every `Arg` in order, whatever the engine.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
                Arg::Day(d) => q.bind(*d),
            };
        }
        q
    }};
}
pub(super) use bind_args;

/// SQL text with `$n` placeholders numbered as arguments are added.
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
}

impl Sql {
    pub(super) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    pub(super) fn arg(&mut self, a: Arg) -> &mut Self {
        self.args.push(a);
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    /// ` AND col IN ($a, $b, ...)`; an empty list matches nothing.
    fn and_in(&mut self, col: &str, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push(" AND 1 = 0");
        }
        self.push(" AND ").push(col).push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.arg(Arg::Text(v.clone()));
        }
        self.push(")")
    }
}

/// What one Amazon report row says about one fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValues {
    /// From the PERFORMANCE report (per ad group): clicks and Brand Referral Bonus.
    Traffic { clicks: i64, brb: i64 },
    /// From the PRODUCTS report (per sold ASIN): the funnel, and the commission on sales.
    Funnel {
        dpv: i64,
        atc: i64,
        purchases: i64,
        units: i64,
        sales: i64,
        commission: i64,
    },
}

/// A fact's figures, in column order: clicks, dpv, atc, purchases, units, sales, brb,
/// commission.
type MetricsRow = (i64, i64, i64, i64, i64, i64, i64, i64);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Metrics([i64; 8]);

impl Metrics {
    fn from_tuple(t: MetricsRow) -> Self {
        Self([t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7])
    }

    fn minus(self, o: Self) -> Self {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a -= b;
        }
        Self(r)
    }

    fn plus(self, o: Self) -> Self {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a += b;
        }
        Self(r)
    }
}

impl FactValues {
    /// The row after this report's columns replace what it had.
    fn apply_to(self, old: Metrics) -> Metrics {
        let mut m = old.0;
        match self {
            Self::Traffic { clicks, brb } => {
                m[0] = clicks;
                m[6] = brb;
            }
            Self::Funnel {
                dpv,
                atc,
                purchases,
                units,
                sales,
                commission,
            } => {
                m[1] = dpv;
                m[2] = atc;
                m[3] = purchases;
                m[4] = units;
                m[5] = sales;
                m[7] = commission;
            }
        }
        Metrics(m)
    }
}

#[derive(Debug, Clone)]
pub struct FactWrite {
    pub account_id: String,
    pub day: i32,
    pub link_id: String,
    pub asin: String,
    pub marketplace: String,
    pub brand_id: String,
    pub seller_id: String,
    pub values: FactValues,
}

/// What a batch of writes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A link as ingestion needs it, found by its ad group id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IngestLink {
    pub id: String,
    pub ad_group_id: String,
    pub account_id: String,
    pub asin: String,
    pub marketplace: String,
    pub brand_id: String,
    pub paused_at: Option<i64>,
}

/// One Amazon advertiser to pull, with the brands that report through it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdvertiserRow {
    pub region: String,
    pub profile_id: String,
    pub advertiser_id: String,
    pub brand_id: String,
    pub seller_id: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IngestStateRow {
    pub last_success_at: Option<i64>,
    pub pending_start: Option<i32>,
    pub pending_end: Option<i32>,
    pub pending_cursor: Option<String>,
}

/// Filters shared by the report listings. `marketplaces: None` means all.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub start: i32,
    pub end: i32,
    pub marketplaces: Option<Vec<String>>,
    pub asins: Vec<String>,
    pub link_ids: Vec<String>,
    pub brand_ids: Vec<String>,
    /// Seller report only: creators' account ids.
    pub creators: Option<Vec<String>>,
    /// Legacy lookups: only links for this ASIN, or with this name (case-insensitive).
    pub link_asin: Option<String>,
    pub link_name: Option<String>,
}

impl ReportFilter {
    /// True when only the date range and marketplaces restrict rows, so the per-day
    /// rollups answer `total_count`.
    fn rollup_countable(&self) -> bool {
        self.asins.is_empty()
            && self.link_ids.is_empty()
            && self.brand_ids.is_empty()
            && self.creators.is_none()
            && self.link_asin.is_none()
            && self.link_name.is_none()
    }

    pub(super) fn push_where(&self, sql: &mut Sql, owner_col: &str, owner: &str) {
        sql.push(" WHERE ")
            .push(owner_col)
            .push(" = ")
            .arg(Arg::Text(owner.to_owned()))
            .push(" AND day >= ")
            .arg(Arg::Day(self.start))
            .push(" AND day <= ")
            .arg(Arg::Day(self.end));
        if let Some(ms) = &self.marketplaces {
            sql.and_in("marketplace", ms);
        }
        if !self.asins.is_empty() {
            sql.and_in("asin", &self.asins);
        }
        if !self.link_ids.is_empty() {
            sql.and_in("link_id", &self.link_ids);
        }
        if !self.brand_ids.is_empty() {
            sql.and_in("brand_id", &self.brand_ids);
        }
        if let Some(c) = &self.creators {
            sql.and_in("account_id", c);
        }
        if let Some(a) = &self.link_asin {
            sql.push(" AND link_id IN (SELECT id FROM links WHERE account_id = ")
                .arg(Arg::Text(owner.to_owned()))
                .push(" AND asin = ")
                .arg(Arg::Text(a.clone()))
                .push(")");
        }
        if let Some(n) = &self.link_name {
            sql.push(" AND link_id IN (SELECT id FROM links WHERE account_id = ")
                .arg(Arg::Text(owner.to_owned()))
                .push(" AND LOWER(link_name) = ")
                .arg(Arg::Text(n.to_lowercase()))
                .push(")");
        }
    }
}

/// Keyset position of the publisher report: (day, link id, asin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublisherKey {
    pub day: i32,
    pub link_id: String,
    pub asin: String,
}

/// Keyset position of the seller report: (day, asin, marketplace, creator account id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SellerKey {
    pub day: i32,
    pub asin: String,
    pub marketplace: String,
    pub account_id: String,
}

/// One publisher report row with what the response shows of its link, product and brand.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublisherFactRow {
    pub day: i32,
    pub link_id: String,
    pub asin: String,
    pub marketplace: String,
    pub brand_id: String,
    pub clicks: i64,
    pub dpv: i64,
    pub atc: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: i64,
    pub brb: i64,
    pub commission: i64,
    pub link_name: String,
    pub url: String,
    pub active: bool,
    pub link_asin: String,
    pub link_marketplace: String,
    pub link_product_name: String,
    pub product_name: String,
    pub brand_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SellerFactRow {
    pub day: i32,
    pub asin: String,
    pub marketplace: String,
    pub account_id: String,
    pub brand_id: String,
    pub clicks: i64,
    pub dpv: i64,
    pub atc: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: i64,
    pub brb: i64,
    pub commission: i64,
    pub creator: String,
    pub brand_name: String,
}

/// Sums over a range, for the legacy totals.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Totals {
    pub clicks: i64,
    pub dpv: i64,
    pub atc: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: i64,
    pub commission: i64,
}

/// `GET /product_reports_all`: per day × ASIN × marketplace.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductDayRow {
    pub day: i32,
    pub asin: String,
    pub marketplace: String,
    pub product_name: String,
    pub link_name: String,
    pub clicks: i64,
    pub sales: i64,
    pub purchases: i64,
    pub units: i64,
    pub commission: i64,
}

/// `GET /link_data`: per link over a range.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkTotalsRow {
    pub id: String,
    pub link_name: String,
    pub asin: String,
    pub url: String,
    pub clicks: i64,
    pub sales: i64,
    pub units: i64,
    pub purchases: i64,
    pub commission: i64,
}

/// `GET /insights`: per product and marketplace over a range.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductTotalsRow {
    pub asin: String,
    pub marketplace: String,
    pub product_name: String,
    pub brand_name: String,
    pub product_category: String,
    pub clicks: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: i64,
    pub commission: i64,
}

/// `GET /link_data` sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSort {
    Clicks,
    Sales,
    Units,
    Purchases,
    Created,
}

pub(super) const SUMS: &str = "CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS clicks, CAST(COALESCE(SUM(dpv), 0) AS BIGINT) AS dpv, \
     CAST(COALESCE(SUM(atc), 0) AS BIGINT) AS atc, CAST(COALESCE(SUM(purchases), 0) AS BIGINT) AS purchases, \
     CAST(COALESCE(SUM(units), 0) AS BIGINT) AS units, CAST(COALESCE(SUM(sales), 0) AS BIGINT) AS sales, \
     CAST(COALESCE(SUM(brb), 0) AS BIGINT) AS brb, CAST(COALESCE(SUM(commission), 0) AS BIGINT) AS commission";

impl Db {
    // ---- leases -------------------------------------------------------------------

    /// Claims (or renews, for the same holder) the lease `name` until `now + ttl_ms`.
    /// True when this holder has it. The conditional UPDATE is atomic on both engines, so
    /// of several processes racing for an expired lease exactly one wins.
    pub async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        const SEED: &str = "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, '', 0) ON CONFLICT (name) DO NOTHING";
        const CLAIM: &str = "UPDATE job_leases SET holder = $2, expires_at = $3 WHERE name = $1 AND (expires_at < $4 OR holder = $2)";
        let n = write_pool!(self, pool => async {
            sqlx::query(SEED).bind(name).execute(pool).await?;
            sqlx::query(CLAIM).bind(name).bind(holder).bind(now + ttl_ms).bind(now)
                .execute(pool).await.map(|r| r.rows_affected())
        }.await)?;
        Ok(n == 1)
    }

    pub async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE job_leases SET expires_at = 0 WHERE name = $1 AND holder = $2";
        write_pool!(self, pool => sqlx::query(SQL).bind(name).bind(holder).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    // ---- ingestion ----------------------------------------------------------------

    /// Every brand's Amazon account that has at least one link, by advertiser.
    pub async fn ingest_advertisers(&self) -> StoreResult<Vec<AdvertiserRow>> {
        const SQL: &str = "SELECT a.region, a.profile_id, a.advertiser_id, a.brand_id, b.owner_account_id AS seller_id \
             FROM brand_amazon_accounts a JOIN brands b ON b.id = a.brand_id \
             WHERE EXISTS (SELECT 1 FROM links l WHERE l.brand_id = a.brand_id) \
             ORDER BY a.region, a.advertiser_id, a.brand_id";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?)
    }

    /// The links of a brand, for mapping ad groups back to links.
    pub async fn ingest_links(&self, brand_id: &str) -> StoreResult<Vec<IngestLink>> {
        const SQL: &str = "SELECT id, ad_group_id, account_id, asin, marketplace, brand_id, paused_at FROM links WHERE brand_id = $1";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).fetch_all(pool).await)?)
    }

    pub async fn ingest_state(
        &self,
        region: &str,
        advertiser_id: &str,
        report: &str,
    ) -> StoreResult<Option<IngestStateRow>> {
        const SQL: &str = "SELECT last_success_at, pending_start, pending_end, pending_cursor FROM ingest_state \
             WHERE region = $1 AND advertiser_id = $2 AND report = $3";
        Ok(
            read_pool!(self, pool => sqlx::query_as(SQL).bind(region).bind(advertiser_id).bind(report)
            .fetch_optional(pool).await)?,
        )
    }

    /// Records an unfinished pull: its window and the cursor of the next page (`None`:
    /// the first page).
    pub async fn set_ingest_pending(
        &self,
        region: &str,
        advertiser_id: &str,
        report: &str,
        window: (i32, i32),
        cursor: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO ingest_state (region, advertiser_id, report, last_success_at, pending_start, pending_end, pending_cursor, updated_at) \
             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7) \
             ON CONFLICT (region, advertiser_id, report) DO UPDATE SET pending_start = excluded.pending_start, \
             pending_end = excluded.pending_end, pending_cursor = excluded.pending_cursor, updated_at = excluded.updated_at";
        write_pool!(self, pool => sqlx::query(SQL).bind(region).bind(advertiser_id).bind(report)
            .bind(window.0).bind(window.1).bind(cursor).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_ingest_done(
        &self,
        region: &str,
        advertiser_id: &str,
        report: &str,
        now: i64,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO ingest_state (region, advertiser_id, report, last_success_at, pending_start, pending_end, pending_cursor, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $4) \
             ON CONFLICT (region, advertiser_id, report) DO UPDATE SET last_success_at = excluded.last_success_at, \
             pending_start = NULL, pending_end = NULL, pending_cursor = NULL, updated_at = excluded.updated_at";
        write_pool!(self, pool => sqlx::query(SQL).bind(region).bind(advertiser_id).bind(report).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Upserts a batch of facts in one transaction, and keeps the seller report's
    /// pre-aggregated rows and the row-count rollups exact by adding each fact's change.
    /// A row whose values are unchanged is not written; an all-zero row that does not
    /// exist yet is not created (a halo product nobody bought), but an existing row is
    /// always brought to the new values, zero included.
    pub async fn apply_facts(&self, facts: &[FactWrite], now: i64) -> StoreResult<ApplyOutcome> {
        const CURRENT: &str = "SELECT clicks, dpv, atc, purchases, units, sales, brb, commission FROM report_facts \
             WHERE account_id = $1 AND day = $2 AND link_id = $3 AND asin = $4";
        const UPDATE: &str = "UPDATE report_facts SET clicks = $5, dpv = $6, atc = $7, purchases = $8, units = $9, \
             sales = $10, brb = $11, commission = $12, updated_at = $13 \
             WHERE account_id = $1 AND day = $2 AND link_id = $3 AND asin = $4";
        const INSERT: &str = "INSERT INTO report_facts (account_id, day, link_id, asin, marketplace, brand_id, seller_id, \
             clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (account_id, day, link_id, asin) DO NOTHING";
        const GROUP_EXISTS: &str = "SELECT COUNT(*) FROM seller_report_facts WHERE seller_id = $1 AND day = $2 \
             AND asin = $3 AND marketplace = $4 AND account_id = $5";
        const ADD_GROUP: &str = "INSERT INTO seller_report_facts (seller_id, day, asin, marketplace, account_id, brand_id, \
             clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (seller_id, day, asin, marketplace, account_id) DO UPDATE SET \
             clicks = seller_report_facts.clicks + excluded.clicks, dpv = seller_report_facts.dpv + excluded.dpv, \
             atc = seller_report_facts.atc + excluded.atc, purchases = seller_report_facts.purchases + excluded.purchases, \
             units = seller_report_facts.units + excluded.units, sales = seller_report_facts.sales + excluded.sales, \
             brb = seller_report_facts.brb + excluded.brb, commission = seller_report_facts.commission + excluded.commission, \
             updated_at = excluded.updated_at";
        const BUMP_ACCOUNT: &str = "INSERT INTO report_day_counts (account_id, day, marketplace, row_count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, day, marketplace) DO UPDATE SET row_count = report_day_counts.row_count + excluded.row_count";
        const BUMP_SELLER: &str = "INSERT INTO seller_day_counts (seller_id, day, marketplace, row_count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (seller_id, day, marketplace) DO UPDATE SET row_count = seller_day_counts.row_count + excluded.row_count";

        type GroupKey = (String, i32, String, String, String);
        let result: Result<ApplyOutcome, sqlx::Error> = write_pool!(self, pool => async {
            let mut out = ApplyOutcome::default();
            let mut account_bumps: HashMap<(String, i32, String), i64> = HashMap::new();
            let mut seller_bumps: HashMap<(String, i32, String), i64> = HashMap::new();
            // Seller rows change by the sum of their facts' changes (brand id kept aside).
            let mut deltas: Vec<(GroupKey, String, Metrics)> = Vec::new();
            let mut delta_at: HashMap<GroupKey, usize> = HashMap::new();
            let mut tx = pool.begin().await?;
            for f in facts {
                let old: Option<MetricsRow> = sqlx::query_as(CURRENT)
                    .bind(&f.account_id).bind(f.day).bind(&f.link_id).bind(&f.asin)
                    .fetch_optional(&mut *tx).await?;
                let old = old.map(Metrics::from_tuple);
                let new = f.values.apply_to(old.unwrap_or_default());
                let delta = match old {
                    Some(old) if old == new => {
                        out.unchanged += 1;
                        continue;
                    }
                    Some(old) => {
                        let m = new.0;
                        sqlx::query(UPDATE)
                            .bind(&f.account_id).bind(f.day).bind(&f.link_id).bind(&f.asin)
                            .bind(m[0]).bind(m[1]).bind(m[2]).bind(m[3]).bind(m[4]).bind(m[5]).bind(m[6]).bind(m[7])
                            .bind(now)
                            .execute(&mut *tx).await?;
                        out.updated += 1;
                        new.minus(old)
                    }
                    None if new == Metrics::default() => {
                        out.unchanged += 1;
                        continue;
                    }
                    None => {
                        let m = new.0;
                        let inserted = sqlx::query(INSERT)
                            .bind(&f.account_id).bind(f.day).bind(&f.link_id).bind(&f.asin).bind(&f.marketplace)
                            .bind(&f.brand_id).bind(&f.seller_id)
                            .bind(m[0]).bind(m[1]).bind(m[2]).bind(m[3]).bind(m[4]).bind(m[5]).bind(m[6]).bind(m[7])
                            .bind(now)
                            .execute(&mut *tx).await?.rows_affected();
                        if inserted == 0 {
                            out.unchanged += 1;
                            continue;
                        }
                        out.inserted += 1;
                        *account_bumps.entry((f.account_id.clone(), f.day, f.marketplace.clone())).or_default() += 1;
                        new
                    }
                };
                let key: GroupKey = (f.seller_id.clone(), f.day, f.asin.clone(), f.marketplace.clone(), f.account_id.clone());
                match delta_at.get(&key) {
                    Some(&i) => deltas[i].2 = deltas[i].2.plus(delta),
                    None => {
                        delta_at.insert(key.clone(), deltas.len());
                        deltas.push((key, f.brand_id.clone(), delta));
                    }
                }
            }
            for ((seller, day, asin, m, account), brand, d) in &deltas {
                let exists: i64 = sqlx::query_scalar(GROUP_EXISTS)
                    .bind(seller).bind(*day).bind(asin).bind(m).bind(account)
                    .fetch_one(&mut *tx).await?;
                if exists == 0 {
                    *seller_bumps.entry((seller.clone(), *day, m.clone())).or_default() += 1;
                }
                let v = d.0;
                sqlx::query(ADD_GROUP)
                    .bind(seller).bind(*day).bind(asin).bind(m).bind(account).bind(brand)
                    .bind(v[0]).bind(v[1]).bind(v[2]).bind(v[3]).bind(v[4]).bind(v[5]).bind(v[6]).bind(v[7])
                    .bind(now)
                    .execute(&mut *tx).await?;
            }
            for ((account, day, m), n) in &account_bumps {
                sqlx::query(BUMP_ACCOUNT).bind(account).bind(*day).bind(m).bind(*n).execute(&mut *tx).await?;
            }
            for ((seller, day, m), n) in &seller_bumps {
                sqlx::query(BUMP_SELLER).bind(seller).bind(*day).bind(m).bind(*n).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(out)
        }.await);
        Ok(result?)
    }

    // ---- publisher report -----------------------------------------------------------

    /// One page of the publisher report after `after` (exclusive), in (day, link, asin)
    /// order: one index range read of the fact table, then joins for the page only.
    pub async fn publisher_report_page(
        &self,
        account_id: &str,
        filter: &ReportFilter,
        after: &PublisherKey,
        limit: i64,
    ) -> StoreResult<Vec<PublisherFactRow>> {
        // Two keyset legs, each a single index range: the rest of the cursor's day (an
        // equality on day lets the row-value bound seek), then the following days. One
        // `(day, link, asin) > (...)` bound would seek on `day` alone and scan the
        // cursor's whole day first.
        const COLS: &str = "SELECT account_id, day, link_id, asin, marketplace, brand_id, clicks, dpv, atc, \
             purchases, units, sales, brb, commission FROM report_facts";
        let mut sql = Sql::default();
        sql.push(
            "SELECT f.day, f.link_id, f.asin, f.marketplace, f.brand_id, f.clicks, f.dpv, f.atc, f.purchases, \
             f.units, f.sales, f.brb, f.commission, l.link_name, l.url, l.active, l.asin AS link_asin, \
             l.marketplace AS link_marketplace, l.product_name AS link_product_name, \
             COALESCE(p.title, CASE WHEN f.asin = l.asin THEN l.product_name ELSE '' END) AS product_name, \
             COALESCE(b.name, '') AS brand_name \
             FROM (SELECT * FROM (",
        );
        sql.push(COLS);
        filter.push_where(&mut sql, "account_id", account_id);
        sql.push(" AND day = ")
            .arg(Arg::Day(after.day))
            .push(" AND (link_id, asin) > (")
            .arg(Arg::Text(after.link_id.clone()))
            .push(", ")
            .arg(Arg::Text(after.asin.clone()))
            .push(") ORDER BY link_id, asin LIMIT ")
            .arg(Arg::Int(limit))
            .push(") first_leg UNION ALL SELECT * FROM (")
            .push(COLS);
        filter.push_where(&mut sql, "account_id", account_id);
        sql.push(" AND day > ")
            .arg(Arg::Day(after.day))
            .push(" ORDER BY day, link_id, asin LIMIT ")
            .arg(Arg::Int(limit))
            .push(
                ") next_leg) f JOIN links l ON l.id = f.link_id \
                 LEFT JOIN products p ON p.asin = f.asin AND p.marketplace = f.marketplace \
                 LEFT JOIN brands b ON b.id = f.brand_id \
                 ORDER BY f.day, f.link_id, f.asin LIMIT ",
            )
            .arg(Arg::Int(limit));
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_as(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_all(pool).await)?,
        )
    }

    /// Rows matching the filter: from the per-day rollup when only dates and marketplaces
    /// filter, else counted from the facts.
    pub async fn publisher_report_count(
        &self,
        account_id: &str,
        filter: &ReportFilter,
    ) -> StoreResult<i64> {
        let mut sql = Sql::default();
        if filter.rollup_countable() {
            sql.push("SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM report_day_counts");
        } else {
            sql.push("SELECT COUNT(*) FROM report_facts");
        }
        filter.push_where(&mut sql, "account_id", account_id);
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_one(pool).await)?,
        )
    }

    // ---- seller report --------------------------------------------------------------

    /// One page of the seller report (day × product × marketplace × creator over the
    /// seller's brands) from the pre-aggregated rows, in primary-key order.
    pub async fn seller_report_page(
        &self,
        seller_id: &str,
        filter: &ReportFilter,
        after: &SellerKey,
        limit: i64,
    ) -> StoreResult<Vec<SellerFactRow>> {
        if !filter.link_ids.is_empty() {
            return self
                .seller_page_from_facts(seller_id, filter, after, limit)
                .await;
        }
        const COLS: &str = "SELECT day, asin, marketplace, account_id, brand_id, clicks, dpv, atc, purchases, units, \
             sales, brb, commission FROM seller_report_facts";
        // Two keyset legs, each one index range: the rest of the cursor's day, then later days.
        let mut sql = Sql::default();
        sql.push(
            "SELECT g.day, g.asin, g.marketplace, g.account_id, g.brand_id, g.clicks, g.dpv, g.atc, g.purchases, \
             g.units, g.sales, g.brb, g.commission, a.public_id AS creator, COALESCE(b.name, '') AS brand_name FROM \
             (SELECT * FROM (",
        )
        .push(COLS);
        filter.push_where(&mut sql, "seller_id", seller_id);
        sql.push(" AND day = ")
            .arg(Arg::Day(after.day))
            .push(" AND (asin, marketplace, account_id) > (")
            .arg(Arg::Text(after.asin.clone()))
            .push(", ")
            .arg(Arg::Text(after.marketplace.clone()))
            .push(", ")
            .arg(Arg::Text(after.account_id.clone()))
            .push(") ORDER BY asin, marketplace, account_id LIMIT ")
            .arg(Arg::Int(limit))
            .push(") first_leg UNION ALL SELECT * FROM (")
            .push(COLS);
        filter.push_where(&mut sql, "seller_id", seller_id);
        sql.push(" AND day > ")
            .arg(Arg::Day(after.day))
            .push(" ORDER BY day, asin, marketplace, account_id LIMIT ")
            .arg(Arg::Int(limit))
            .push(
                ") next_leg) g JOIN accounts a ON a.id = g.account_id LEFT JOIN brands b ON b.id = g.brand_id \
                 ORDER BY g.day, g.asin, g.marketplace, g.account_id LIMIT ",
            )
            .arg(Arg::Int(limit));
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_as(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_all(pool).await)?,
        )
    }

    /// The seller report summed from link facts, for a `link_ids` filter (the
    /// pre-aggregated rows have no link dimension).
    async fn seller_page_from_facts(
        &self,
        seller_id: &str,
        filter: &ReportFilter,
        after: &SellerKey,
        limit: i64,
    ) -> StoreResult<Vec<SellerFactRow>> {
        // Two keyset legs as in the publisher report: the rest of the cursor's day, then
        // the following days, each one range of the seller index read in group order.
        let mut sql = Sql::default();
        sql.push(
            "SELECT g.day, g.asin, g.marketplace, g.account_id, g.brand_id, g.clicks, g.dpv, g.atc, g.purchases, \
             g.units, g.sales, g.brb, g.commission, a.public_id AS creator, COALESCE(b.name, '') AS brand_name FROM \
             (SELECT * FROM (SELECT day, asin, marketplace, account_id, MIN(brand_id) AS brand_id, ",
        )
        .push(SUMS)
        .push(" FROM report_facts");
        filter.push_where(&mut sql, "seller_id", seller_id);
        sql.push(" AND day = ")
            .arg(Arg::Day(after.day))
            .push(" AND (asin, marketplace, account_id) > (")
            .arg(Arg::Text(after.asin.clone()))
            .push(", ")
            .arg(Arg::Text(after.marketplace.clone()))
            .push(", ")
            .arg(Arg::Text(after.account_id.clone()))
            .push(") GROUP BY day, asin, marketplace, account_id ORDER BY day, asin, marketplace, account_id LIMIT ")
            .arg(Arg::Int(limit))
            .push(") first_leg UNION ALL SELECT * FROM (SELECT day, asin, marketplace, account_id, MIN(brand_id) AS brand_id, ")
            .push(SUMS)
            .push(" FROM report_facts");
        filter.push_where(&mut sql, "seller_id", seller_id);
        sql.push(" AND day > ")
            .arg(Arg::Day(after.day))
            .push(" GROUP BY day, asin, marketplace, account_id ORDER BY day, asin, marketplace, account_id LIMIT ")
            .arg(Arg::Int(limit))
            .push(
                ") next_leg) g JOIN accounts a ON a.id = g.account_id LEFT JOIN brands b ON b.id = g.brand_id \
                 ORDER BY g.day, g.asin, g.marketplace, g.account_id LIMIT ",
            )
            .arg(Arg::Int(limit));
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_as(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_all(pool).await)?,
        )
    }

    pub async fn seller_report_count(
        &self,
        seller_id: &str,
        filter: &ReportFilter,
    ) -> StoreResult<i64> {
        let mut sql = Sql::default();
        if filter.rollup_countable() {
            sql.push("SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM seller_day_counts");
            filter.push_where(&mut sql, "seller_id", seller_id);
        } else if filter.link_ids.is_empty() {
            sql.push("SELECT COUNT(*) FROM seller_report_facts");
            filter.push_where(&mut sql, "seller_id", seller_id);
        } else {
            sql.push("SELECT COUNT(*) FROM (SELECT 1 AS one FROM report_facts");
            filter.push_where(&mut sql, "seller_id", seller_id);
            sql.push(" GROUP BY day, asin, marketplace, account_id) g");
        }
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_one(pool).await)?,
        )
    }

    /// Account ids of the given public (creator) ids; unknown ones are left out.
    pub async fn account_ids_by_public_ids(
        &self,
        public_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        if public_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::default();
        sql.push("SELECT id FROM accounts WHERE 1 = 1")
            .and_in("public_id", public_ids);
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_all(pool).await)?,
        )
    }

    // ---- legacy reports --------------------------------------------------------------

    /// Totals of a publisher's facts over the filter.
    pub async fn publisher_totals(
        &self,
        account_id: &str,
        filter: &ReportFilter,
    ) -> StoreResult<Totals> {
        let mut sql = Sql::default();
        sql.push("SELECT ").push(SUMS).push(" FROM report_facts");
        filter.push_where(&mut sql, "account_id", account_id);
        let args = &sql.args;
        Ok(
            read_pool!(self, pool => bind_args!(sqlx::query_as(AssertSqlSafe(sql.text.as_str())), args)
            .fetch_one(pool).await)?,
        )
    }

    /// Per day × ASIN × marketplace, with minimum clicks and sales; page by offset over the
    /// grouped rows (legacy page numbers, at most 100 rows a page).
    pub async fn product_day_rows(
        &self,
        account_id: &str,
        filter: &ReportFilter,
        min_clicks: i64,
        min_sales: i64,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(i64, Vec<ProductDayRow>)> {
        let mut inner = Sql::default();
        inner
            .push("SELECT day, asin, marketplace, MIN(link_id) AS link_id, ")
            .push(SUMS)
            .push(" FROM report_facts");
        filter.push_where(&mut inner, "account_id", account_id);
        inner.push(" GROUP BY day, asin, marketplace HAVING CAST(COALESCE(SUM(clicks), 0) AS BIGINT) >= ")
            .arg(Arg::Int(min_clicks))
            .push(" AND CAST(COALESCE(SUM(sales), 0) AS BIGINT) >= ")
            .arg(Arg::Int(min_sales));
        let mut count = Sql {
            text: String::new(),
            args: inner.args.clone(),
        };
        count
            .push("SELECT COUNT(*) FROM (")
            .push(&inner.text)
            .push(") g");
        let mut page = Sql {
            text: String::new(),
            args: inner.args.clone(),
        };
        page.push("SELECT g.day, g.asin, g.marketplace, COALESCE(p.title, '') AS product_name, COALESCE(l.link_name, '') AS link_name, \
             g.clicks, g.sales, g.purchases, g.units, g.commission FROM (")
            .push(&inner.text)
            .push(") g LEFT JOIN products p ON p.asin = g.asin AND p.marketplace = g.marketplace \
                  LEFT JOIN links l ON l.id = g.link_id ORDER BY g.day, g.asin, g.marketplace LIMIT ")
            .arg(Arg::Int(limit))
            .push(" OFFSET ")
            .arg(Arg::Int(offset));
        let (cargs, pargs) = (&count.args, &page.args);
        let (total, rows) = read_pool!(self, pool => {
            let total: i64 = bind_args!(sqlx::query_scalar(AssertSqlSafe(count.text.as_str())), cargs).fetch_one(pool).await?;
            let rows: Vec<ProductDayRow> = bind_args!(sqlx::query_as(AssertSqlSafe(page.text.as_str())), pargs).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((total, rows))
        })?;
        Ok((total, rows))
    }

    /// Every link of the publisher with its totals over the range (zero when it has no
    /// facts), filtered by minimums and sorted as `/link_data` asks.
    #[allow(clippy::too_many_arguments)]
    pub async fn link_totals(
        &self,
        account_id: &str,
        filter: &ReportFilter,
        min_clicks: i64,
        min_sales: i64,
        sort: LinkSort,
        ascending: bool,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(i64, Vec<LinkTotalsRow>)> {
        let mut inner = Sql::default();
        inner
            .push("SELECT link_id, ")
            .push(SUMS)
            .push(" FROM report_facts");
        filter.push_where(&mut inner, "account_id", account_id);
        inner.push(" GROUP BY link_id");
        let mut body = Sql {
            text: String::new(),
            args: inner.args.clone(),
        };
        body.push(" FROM links l LEFT JOIN (")
            .push(&inner.text)
            .push(") t ON t.link_id = l.id WHERE l.account_id = ")
            .arg(Arg::Text(account_id.to_owned()))
            .push(" AND COALESCE(t.clicks, 0) >= ")
            .arg(Arg::Int(min_clicks))
            .push(" AND COALESCE(t.sales, 0) >= ")
            .arg(Arg::Int(min_sales));
        let mut count = Sql {
            text: String::new(),
            args: body.args.clone(),
        };
        count.push("SELECT COUNT(*)").push(&body.text);
        let key = match sort {
            LinkSort::Clicks => "COALESCE(t.clicks, 0)",
            LinkSort::Sales => "COALESCE(t.sales, 0)",
            LinkSort::Units => "COALESCE(t.units, 0)",
            LinkSort::Purchases => "COALESCE(t.purchases, 0)",
            LinkSort::Created => "l.created_at",
        };
        let dir = if ascending { " ASC" } else { " DESC" };
        let mut page = Sql {
            text: String::new(),
            args: body.args.clone(),
        };
        page.push("SELECT l.id, l.link_name, l.asin, l.url, CAST(COALESCE(t.clicks, 0) AS BIGINT) AS clicks, \
             CAST(COALESCE(t.sales, 0) AS BIGINT) AS sales, CAST(COALESCE(t.units, 0) AS BIGINT) AS units, \
             CAST(COALESCE(t.purchases, 0) AS BIGINT) AS purchases, CAST(COALESCE(t.commission, 0) AS BIGINT) AS commission")
            .push(&body.text)
            .push(" ORDER BY ")
            .push(key)
            .push(dir)
            .push(", l.id")
            .push(dir)
            .push(" LIMIT ")
            .arg(Arg::Int(limit))
            .push(" OFFSET ")
            .arg(Arg::Int(offset));
        let (cargs, pargs) = (&count.args, &page.args);
        let (total, rows) = read_pool!(self, pool => {
            let total: i64 = bind_args!(sqlx::query_scalar(AssertSqlSafe(count.text.as_str())), cargs).fetch_one(pool).await?;
            let rows: Vec<LinkTotalsRow> = bind_args!(sqlx::query_as(AssertSqlSafe(page.text.as_str())), pargs).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((total, rows))
        })?;
        Ok((total, rows))
    }

    /// Per product and marketplace over the range, optionally by category or brand (id or
    /// name, case-insensitive).
    pub async fn product_totals(
        &self,
        account_id: &str,
        filter: &ReportFilter,
        category: Option<&str>,
        brand: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(i64, Vec<ProductTotalsRow>)> {
        let mut inner = Sql::default();
        inner
            .push("SELECT asin, marketplace, MIN(brand_id) AS brand_id, ")
            .push(SUMS)
            .push(" FROM report_facts");
        filter.push_where(&mut inner, "account_id", account_id);
        inner.push(" GROUP BY asin, marketplace");
        let mut body = Sql {
            text: String::new(),
            args: inner.args.clone(),
        };
        body.push(" FROM (").push(&inner.text).push(
            ") g LEFT JOIN products p ON p.asin = g.asin AND p.marketplace = g.marketplace \
                  LEFT JOIN brands b ON b.id = g.brand_id WHERE 1 = 1",
        );
        if let Some(c) = category {
            body.push(" AND LOWER(COALESCE(p.category, '')) = ")
                .arg(Arg::Text(c.trim().to_lowercase()));
        }
        if let Some(b) = brand {
            let b = b.trim().to_lowercase();
            body.push(" AND (g.brand_id = ")
                .arg(Arg::Text(b.clone()))
                .push(" OR LOWER(COALESCE(b.name, '')) = ")
                .arg(Arg::Text(b))
                .push(")");
        }
        let mut count = Sql {
            text: String::new(),
            args: body.args.clone(),
        };
        count.push("SELECT COUNT(*)").push(&body.text);
        let mut page = Sql {
            text: String::new(),
            args: body.args.clone(),
        };
        page.push("SELECT g.asin, g.marketplace, COALESCE(p.title, '') AS product_name, COALESCE(b.name, '') AS brand_name, \
             COALESCE(p.category, '') AS product_category, g.clicks, g.purchases, g.units, g.sales, g.commission")
            .push(&body.text)
            .push(" ORDER BY g.asin, g.marketplace LIMIT ")
            .arg(Arg::Int(limit))
            .push(" OFFSET ")
            .arg(Arg::Int(offset));
        let (cargs, pargs) = (&count.args, &page.args);
        let (total, rows) = read_pool!(self, pool => {
            let total: i64 = bind_args!(sqlx::query_scalar(AssertSqlSafe(count.text.as_str())), cargs).fetch_one(pool).await?;
            let rows: Vec<ProductTotalsRow> = bind_args!(sqlx::query_as(AssertSqlSafe(page.text.as_str())), pargs).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((total, rows))
        })?;
        Ok((total, rows))
    }
}
