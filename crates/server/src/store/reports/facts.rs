//! What ingestion writes: facts, the seller report's pre-aggregated rows and the
//! row-count rollups, kept consistent in one transaction per batch.

use std::collections::HashMap;

use quiver_domain::Marketplace;

use crate::store::{Db, StoreResult, write_pool};

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
    pub marketplace: Marketplace,
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

impl Db {
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

        type GroupKey = (String, i32, String, Marketplace, String);
        let result: Result<ApplyOutcome, sqlx::Error> = write_pool!(self, pool => async {
            let mut out = ApplyOutcome::default();
            let mut account_bumps: HashMap<(String, i32, Marketplace), i64> = HashMap::new();
            let mut seller_bumps: HashMap<(String, i32, Marketplace), i64> = HashMap::new();
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
                            .bind(&f.account_id).bind(f.day).bind(&f.link_id).bind(&f.asin).bind(f.marketplace.as_str())
                            .bind(&f.brand_id).bind(&f.seller_id)
                            .bind(m[0]).bind(m[1]).bind(m[2]).bind(m[3]).bind(m[4]).bind(m[5]).bind(m[6]).bind(m[7])
                            .bind(now)
                            .execute(&mut *tx).await?.rows_affected();
                        if inserted == 0 {
                            out.unchanged += 1;
                            continue;
                        }
                        out.inserted += 1;
                        *account_bumps.entry((f.account_id.clone(), f.day, f.marketplace)).or_default() += 1;
                        new
                    }
                };
                let key: GroupKey = (f.seller_id.clone(), f.day, f.asin.clone(), f.marketplace, f.account_id.clone());
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
                    .bind(seller).bind(*day).bind(asin).bind(m.as_str()).bind(account)
                    .fetch_one(&mut *tx).await?;
                if exists == 0 {
                    *seller_bumps.entry((seller.clone(), *day, *m)).or_default() += 1;
                }
                let v = d.0;
                sqlx::query(ADD_GROUP)
                    .bind(seller).bind(*day).bind(asin).bind(m.as_str()).bind(account).bind(brand)
                    .bind(v[0]).bind(v[1]).bind(v[2]).bind(v[3]).bind(v[4]).bind(v[5]).bind(v[6]).bind(v[7])
                    .bind(now)
                    .execute(&mut *tx).await?;
            }
            for ((account, day, m), n) in &account_bumps {
                sqlx::query(BUMP_ACCOUNT).bind(account).bind(*day).bind(m.as_str()).bind(*n).execute(&mut *tx).await?;
            }
            for ((seller, day, m), n) in &seller_bumps {
                sqlx::query(BUMP_SELLER).bind(seller).bind(*day).bind(m.as_str()).bind(*n).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(out)
        }.await);
        Ok(result?)
    }
}
