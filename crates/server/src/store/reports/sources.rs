//! **(Quiver)** The reports summed per link `source` and marketplace: which channel the
//! traffic came from (`/reports/sources`, `/sellers/reports/sources`).

use quiver_domain::Marketplace;

use super::{ReportFilter, SUMS};
use crate::store::sql::Sql;
use crate::store::{Db, StoreResult, read_pool};

/// Whose facts: a creator's own, or those of a seller's brands.
#[derive(Debug, Clone, Copy)]
pub enum SourceOwner<'a> {
    Publisher(&'a str),
    Seller(&'a str),
}

/// One source × marketplace (figures in the marketplace's currency). `source` is empty
/// for links without one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceRow {
    pub source: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
    pub clicks: i64,
    pub dpv: i64,
    pub atc: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: i64,
    pub brb: i64,
    pub commission: i64,
}

/// The outer sums, over the per-link sums of the inner query.
pub(in crate::store) const OUTER_SUMS: &str = "CAST(SUM(g.clicks) AS BIGINT) AS clicks, CAST(SUM(g.dpv) AS BIGINT) AS dpv, \
     CAST(SUM(g.atc) AS BIGINT) AS atc, CAST(SUM(g.purchases) AS BIGINT) AS purchases, \
     CAST(SUM(g.units) AS BIGINT) AS units, CAST(SUM(g.sales) AS BIGINT) AS sales, \
     CAST(SUM(g.brb) AS BIGINT) AS brb, CAST(SUM(g.commission) AS BIGINT) AS commission";

impl Db {
    /// The facts matching `filter` summed per link source and marketplace, in that order:
    /// first per link (one index range of the facts), then per source over the links.
    pub async fn report_by_source(
        &self,
        owner: SourceOwner<'_>,
        filter: &ReportFilter,
    ) -> StoreResult<Vec<SourceRow>> {
        let (col, id) = match owner {
            SourceOwner::Publisher(id) => ("account_id", id),
            SourceOwner::Seller(id) => ("seller_id", id),
        };
        let mut sql = Sql::new("SELECT COALESCE(l.source, '') AS source, g.marketplace, ");
        sql.push(OUTER_SUMS)
            .push(" FROM (SELECT link_id, marketplace, ")
            .push(SUMS)
            .push(" FROM report_facts");
        filter.push_where(&mut sql, col, id);
        sql.push(
            " GROUP BY link_id, marketplace) g JOIN links l ON l.id = g.link_id \
             GROUP BY COALESCE(l.source, ''), g.marketplace \
             ORDER BY COALESCE(l.source, ''), g.marketplace",
        );
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }
}
