//! The commission-rate history reports compute earnings from.

use quiver_domain::{CreatorRateChange, Marketplace, RateChange, RateHistory};
use time::Date;

use super::{Db, StoreResult, decode_error, now_ms, read_pool, write_pool};

fn day_text(d: Date) -> String {
    quiver_domain::format_iso(d)
}

impl Db {
    /// Records a rate from `effective` on: the brand default when `product` is `None`,
    /// else that product's override (`bps` `None` clears it). A second change for the same
    /// day replaces the first.
    pub async fn record_commission(
        &self,
        brand_id: &str,
        product: Option<(&str, Marketplace)>,
        bps: Option<u32>,
        effective: Date,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO commission_rates (brand_id, asin, marketplace, effective_day, bps, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (brand_id, asin, marketplace, effective_day) DO UPDATE SET bps = excluded.bps, recorded_at = excluded.recorded_at";
        let (asin, marketplace) = product.map_or(("", ""), |(a, m)| (a, m.as_str()));
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(brand_id).bind(asin).bind(marketplace).bind(day_text(effective))
            .bind(bps.map(|b| b as i32)).bind(now_ms())
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every recorded rate of a brand, its per-creator terms included: the one history
    /// every commission is computed from (ingestion writes `commission` into each fact
    /// with it, and every report, summary and statement sums those facts).
    pub async fn commission_history(&self, brand_id: &str) -> StoreResult<RateHistory> {
        const SQL: &str = "SELECT asin, marketplace, effective_day, bps FROM commission_rates WHERE brand_id = $1";
        const CREATORS: &str = "SELECT account_id, effective_day, bps FROM creator_commission_rates WHERE brand_id = $1";
        let rows: Vec<(String, String, String, Option<i32>)> =
            read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).fetch_all(pool).await)?;
        let creator_rows: Vec<(String, String, Option<i32>)> = read_pool!(self, pool => sqlx::query_as(CREATORS).bind(brand_id).fetch_all(pool).await)?;
        let creators = creator_rows
            .into_iter()
            .map(|(account_id, day, bps)| {
                Ok(CreatorRateChange {
                    account_id,
                    effective: quiver_domain::parse_report_date(&day)
                        .map_err(|e| decode_error("effective_day", e))?,
                    bps: bps
                        .map(u32::try_from)
                        .transpose()
                        .map_err(|e| decode_error("bps", e))?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let changes = rows.into_iter().map(|(asin, m, day, bps)| {
            // '' is the brand default's marketplace; anything else must be one.
            let marketplace = (!m.is_empty())
                .then(|| Marketplace::try_from(m))
                .transpose()
                .map_err(|e| decode_error("marketplace", e))?;
            let effective = quiver_domain::parse_report_date(&day)
                .map_err(|e| decode_error("effective_day", e))?;
            Ok(RateChange {
                asin: (!asin.is_empty()).then_some(asin),
                marketplace,
                effective,
                bps: bps.and_then(|b| u32::try_from(b).ok()),
            })
        });
        Ok(RateHistory::new(changes.collect::<StoreResult<Vec<_>>>()?).with_creators(creators))
    }
}

/// The day every initial rate is effective from, so backfilled history has a rate.
pub fn beginning() -> Date {
    time::macros::date!(1970 - 01 - 01)
}
