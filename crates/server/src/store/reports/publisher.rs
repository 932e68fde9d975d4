//! `GET /reports`: a publisher's facts, keyset-paged in (day, link, asin) order.

use quiver_domain::Marketplace;

use super::{Legs, ReportFilter};
use crate::store::sql::Sql;
use crate::store::{Db, StoreResult, read_pool};

/// Keyset position of the publisher report: (day, link id, asin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublisherKey {
    pub day: i32,
    pub link_id: String,
    pub asin: String,
}

/// One publisher report row with what the response shows of its link, product and brand.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublisherFactRow {
    pub day: i32,
    pub link_id: String,
    pub asin: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
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
    pub short_code: Option<String>,
    pub source: Option<String>,
    pub sub_id: Option<String>,
    pub link_asin: String,
    #[sqlx(try_from = "String")]
    pub link_marketplace: Marketplace,
    pub link_product_name: String,
    pub product_name: String,
    pub brand_name: String,
}

impl Db {
    /// One page of the publisher report after `after` (exclusive), in (day, link, asin)
    /// order: one index range read of the fact table, then joins for the page only.
    pub async fn publisher_report_page(
        &self,
        account_id: &str,
        filter: &ReportFilter,
        after: &PublisherKey,
        limit: i64,
    ) -> StoreResult<Vec<PublisherFactRow>> {
        let mut sql = Sql::new(
            "SELECT f.day, f.link_id, f.asin, f.marketplace, f.brand_id, f.clicks, f.dpv, f.atc, f.purchases, \
             f.units, f.sales, f.brb, f.commission, l.link_name, l.url, l.active, l.short_code, l.source, l.sub_id, l.asin AS link_asin, \
             l.marketplace AS link_marketplace, l.product_name AS link_product_name, \
             COALESCE(p.title, CASE WHEN f.asin = l.asin THEN l.product_name ELSE '' END) AS product_name, \
             COALESCE(b.name, '') AS brand_name \
             FROM (SELECT * FROM (",
        );
        Legs {
            select: "SELECT account_id, day, link_id, asin, marketplace, brand_id, clicks, dpv, atc, \
                 purchases, units, sales, brb, commission FROM report_facts",
            owner_col: "account_id",
            owner: account_id,
            filter,
            key: "link_id, asin",
            grouped: false,
        }
        .push(
            &mut sql,
            after.day,
            vec![after.link_id.as_str().into(), after.asin.as_str().into()],
            limit,
        );
        sql.push(
            ") next_leg) f JOIN links l ON l.id = f.link_id \
             LEFT JOIN products p ON p.asin = f.asin AND p.marketplace = f.marketplace \
             LEFT JOIN brands b ON b.id = f.brand_id \
             ORDER BY f.day, f.link_id, f.asin LIMIT ",
        )
        .arg(limit);
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// Rows matching the filter: from the per-day rollup when only dates and marketplaces
    /// filter, else counted from the facts.
    pub async fn publisher_report_count(
        &self,
        account_id: &str,
        filter: &ReportFilter,
    ) -> StoreResult<i64> {
        let mut sql = Sql::new(if filter.rollup_countable() {
            "SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM report_day_counts"
        } else {
            "SELECT COUNT(*) FROM report_facts"
        });
        filter.push_where(&mut sql, "account_id", account_id);
        Ok(read_pool!(self, pool => sql.query_scalar().fetch_one(pool).await)?)
    }
}
