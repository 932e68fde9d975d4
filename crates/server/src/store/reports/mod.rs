//! Report facts (one row per day × link × sold ASIN), the seller report's pre-aggregated
//! rows, the row-count rollups that make `total_count` cheap, and ingestion progress.
//!
//! Days are integers `YYYYMMDD`. Facts are inserted or updated in place, never deleted,
//! so the rollups only grow and a keyset cursor never skips a row.
//!
//! - `facts`: what ingestion writes (facts, pre-aggregated rows, rollups).
//! - `ingest`: what ingestion reads and checkpoints (advertisers, links, cursors).
//! - `publisher`, `seller`: the two keyset-paged report listings.
//! - `sources`: the reports summed per link source (Quiver addition).
//! - `legacy`: the aggregates of the legacy endpoints (totals, per product, per link).

/// Every figure summed, as the row types name them: a literal, so statements that use it
/// stay constants (`concat!`).
macro_rules! sums {
    () => {
        "CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS clicks, CAST(COALESCE(SUM(dpv), 0) AS BIGINT) AS dpv, \
         CAST(COALESCE(SUM(atc), 0) AS BIGINT) AS atc, CAST(COALESCE(SUM(purchases), 0) AS BIGINT) AS purchases, \
         CAST(COALESCE(SUM(units), 0) AS BIGINT) AS units, CAST(COALESCE(SUM(sales), 0) AS BIGINT) AS sales, \
         CAST(COALESCE(SUM(brb), 0) AS BIGINT) AS brb, CAST(COALESCE(SUM(commission), 0) AS BIGINT) AS commission"
    };
}

mod facts;
mod ingest;
mod legacy;
mod publisher;
mod seller;
mod sources;

pub use facts::{ApplyOutcome, FactValues, FactWrite, ReportChange};
pub use ingest::{AdvertiserRow, IngestLink, IngestStateRow, Pull};
pub use legacy::{LinkSort, LinkTotalsRow, ProductDayRow, ProductTotalsRow, Totals};
pub use publisher::{PublisherFactRow, PublisherKey};
pub use seller::{SellerFactRow, SellerKey};
pub(in crate::store) use sources::OUTER_SUMS;
pub use sources::{SourceOwner, SourceRow};

use super::sql::{Arg, Sql};

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
    /// **(Quiver)** Rows of links with this `source`.
    pub source: Option<String>,
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
            && self.source.is_none()
    }

    /// ` WHERE owner_col = owner AND day BETWEEN ...` and every filter in use.
    pub(in crate::store) fn push_where(&self, sql: &mut Sql, owner_col: &str, owner: &str) {
        sql.push(" WHERE ")
            .push(owner_col)
            .push(" = ")
            .arg(owner)
            .push(" AND day >= ")
            .arg(self.start)
            .push(" AND day <= ")
            .arg(self.end);
        if let Some(ms) = &self.marketplaces {
            sql.and_in("marketplace", ms);
        }
        sql.and_in_nonempty("asin", &self.asins)
            .and_in_nonempty("link_id", &self.link_ids)
            .and_in_nonempty("brand_id", &self.brand_ids);
        if let Some(c) = &self.creators {
            sql.and_in("account_id", c);
        }
        let owner_links = " AND link_id IN (SELECT id FROM links WHERE account_id = ";
        if let Some(s) = &self.source {
            sql.push(" AND link_id IN (SELECT id FROM links WHERE source = ")
                .arg(s);
            // A seller's rows are already only its brands'; their links are creators'.
            if owner_col == "account_id" {
                sql.push(" AND account_id = ").arg(owner);
            }
            sql.push(")");
        }
        if let Some(a) = &self.link_asin {
            sql.push(owner_links)
                .arg(owner)
                .push(" AND asin = ")
                .arg(a)
                .push(")");
        }
        if let Some(n) = &self.link_name {
            sql.push(owner_links)
                .arg(owner)
                .push(" AND LOWER(link_name) = ")
                .arg(n.to_lowercase())
                .push(")");
        }
    }
}

/// Every figure summed, as the row types name them.
pub(in crate::store) const SUMS: &str = sums!();

/// One keyset-paged read of a report table in `(day, key...)` order.
struct Legs<'a> {
    /// `SELECT ... FROM table` of one leg.
    select: &'a str,
    owner_col: &'a str,
    owner: &'a str,
    filter: &'a ReportFilter,
    /// The key columns after `day`, e.g. `link_id, asin`.
    key: &'a str,
    /// Whether a leg groups its rows by `(day, key)`.
    grouped: bool,
}

impl Legs<'_> {
    /// Two keyset legs, each a single index range: the rest of the cursor's day (an
    /// equality on day lets the row-value bound seek), then the following days, as
    /// `(first) first_leg UNION ALL SELECT * FROM (next) next_leg`. One
    /// `(day, key) > (...)` bound would seek on `day` alone and scan the cursor's whole
    /// day first. `after` is the cursor's key after its day.
    fn push(&self, sql: &mut Sql, day: i32, after: Vec<Arg>, limit: i64) {
        let group = if self.grouped { " GROUP BY day, " } else { "" };
        sql.push(self.select);
        self.filter.push_where(sql, self.owner_col, self.owner);
        sql.push(" AND day = ")
            .arg(day)
            .push(" AND (")
            .push(self.key)
            .push(") > (")
            .list(after)
            .push(")");
        if self.grouped {
            sql.push(group).push(self.key);
        }
        sql.push(" ORDER BY ")
            .push(self.key)
            .push(" LIMIT ")
            .arg(limit)
            .push(") first_leg UNION ALL SELECT * FROM (")
            .push(self.select);
        self.filter.push_where(sql, self.owner_col, self.owner);
        sql.push(" AND day > ").arg(day);
        if self.grouped {
            sql.push(group).push(self.key);
        }
        sql.push(" ORDER BY day, ")
            .push(self.key)
            .push(" LIMIT ")
            .arg(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_filters_reach_no_sql() {
        let filter = ReportFilter {
            start: 20260101,
            end: 20260131,
            ..ReportFilter::default()
        };
        let mut sql = Sql::new("SELECT 1 FROM report_facts");
        filter.push_where(&mut sql, "account_id", "acc");
        assert_eq!(
            sql.text(),
            "SELECT 1 FROM report_facts WHERE account_id = $1 AND day >= $2 AND day <= $3"
        );
        assert!(filter.rollup_countable());
    }

    #[test]
    fn filters_in_use_number_on() {
        let filter = ReportFilter {
            start: 1,
            end: 2,
            marketplaces: Some(vec!["amazon.de".into()]),
            asins: vec!["A".into(), "B".into()],
            link_name: Some("Spring".into()),
            ..ReportFilter::default()
        };
        let mut sql = Sql::default();
        filter.push_where(&mut sql, "account_id", "acc");
        assert_eq!(
            sql.text(),
            " WHERE account_id = $1 AND day >= $2 AND day <= $3 AND marketplace IN ($4) \
             AND asin IN ($5, $6) AND link_id IN (SELECT id FROM links WHERE account_id = $7 \
             AND LOWER(link_name) = $8)"
        );
        assert_eq!(sql.args()[7], Arg::Text("spring".into()));
        assert!(!filter.rollup_countable());
    }

    #[test]
    fn legs_read_the_rest_of_the_day_then_later_days() {
        let filter = ReportFilter::default();
        let legs = Legs {
            select: "SELECT * FROM f",
            owner_col: "o",
            owner: "x",
            filter: &filter,
            key: "a, b",
            grouped: true,
        };
        let mut sql = Sql::default();
        legs.push(&mut sql, 7, vec!["p".into(), "q".into()], 10);
        assert_eq!(
            sql.text(),
            "SELECT * FROM f WHERE o = $1 AND day >= $2 AND day <= $3 AND day = $4 AND (a, b) > ($5, $6) \
             GROUP BY day, a, b ORDER BY a, b LIMIT $7) first_leg UNION ALL SELECT * FROM (\
             SELECT * FROM f WHERE o = $8 AND day >= $9 AND day <= $10 AND day > $11 \
             GROUP BY day, a, b ORDER BY day, a, b LIMIT $12"
        );
    }
}
