//! `GET /sellers/reports`: day × product × marketplace × creator over a seller's brands,
//! keyset-paged, from the pre-aggregated rows (or summed from facts for a link filter).

use quiver_domain::Marketplace;

use super::{Legs, ReportFilter};
use crate::store::sql::{Arg, Sql};
use crate::store::{Db, StoreResult, read_pool};

/// Keyset position of the seller report: (day, asin, marketplace, creator account id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SellerKey {
    pub day: i32,
    pub asin: String,
    pub marketplace: String,
    pub account_id: String,
}

impl SellerKey {
    fn after_day(&self) -> Vec<Arg> {
        vec![
            self.asin.as_str().into(),
            self.marketplace.as_str().into(),
            self.account_id.as_str().into(),
        ]
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SellerFactRow {
    pub day: i32,
    pub asin: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
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

/// The page's rows with the creator's public id and the brand name.
const PAGE_HEAD: &str = "SELECT g.day, g.asin, g.marketplace, g.account_id, g.brand_id, g.clicks, g.dpv, g.atc, \
     g.purchases, g.units, g.sales, g.brb, g.commission, a.public_id AS creator, COALESCE(b.name, '') AS brand_name \
     FROM (SELECT * FROM (";
const PAGE_TAIL: &str = ") next_leg) g JOIN accounts a ON a.id = g.account_id LEFT JOIN brands b ON b.id = g.brand_id \
     ORDER BY g.day, g.asin, g.marketplace, g.account_id LIMIT ";
const KEY: &str = "asin, marketplace, account_id";
const FROM_GROUPS: &str = "SELECT day, asin, marketplace, account_id, brand_id, clicks, dpv, atc, purchases, units, \
     sales, brb, commission FROM seller_report_facts";
const FROM_FACTS: &str = concat!(
    "SELECT day, asin, marketplace, account_id, MIN(brand_id) AS brand_id, ",
    sums!(),
    " FROM report_facts"
);

impl ReportFilter {
    /// Whether the filter needs each row's link, which only the link facts have.
    fn by_link(&self) -> bool {
        !self.link_ids.is_empty() || self.source.is_some()
    }
}

impl Db {
    /// One page of the seller report in primary-key order: from the pre-aggregated rows,
    /// or for a `link_ids` or `source` filter summed from link facts (the pre-aggregated
    /// rows have no link dimension).
    pub async fn seller_report_page(
        &self,
        seller_id: &str,
        filter: &ReportFilter,
        after: &SellerKey,
        limit: i64,
    ) -> StoreResult<Vec<SellerFactRow>> {
        let from_facts = filter.by_link();
        let select = if from_facts { FROM_FACTS } else { FROM_GROUPS };
        let mut sql = Sql::new(PAGE_HEAD);
        Legs {
            select,
            owner_col: "seller_id",
            owner: seller_id,
            filter,
            key: KEY,
            grouped: from_facts,
        }
        .push(&mut sql, after.day, after.after_day(), limit);
        sql.push(PAGE_TAIL).arg(limit);
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
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
        } else if !filter.by_link() {
            sql.push("SELECT COUNT(*) FROM seller_report_facts");
            filter.push_where(&mut sql, "seller_id", seller_id);
        } else {
            sql.push("SELECT COUNT(*) FROM (SELECT 1 AS one FROM report_facts");
            filter.push_where(&mut sql, "seller_id", seller_id);
            sql.push(" GROUP BY day, asin, marketplace, account_id) g");
        }
        Ok(read_pool!(self, pool => sql.query_scalar().fetch_one(pool).await)?)
    }
}
