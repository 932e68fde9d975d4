//! Report summaries: the facts of a filter summed per group and marketplace in SQL, in
//! integer minor units, so totals are exact sums of the same rows `/reports` returns.

use quiver_domain::Marketplace;

use super::reports::{OUTER_SUMS, ReportFilter, SUMS};
use super::sql::Sql;
use super::{Db, StoreResult, read_pool};

/// What a summary is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryGroup {
    Day,
    Link,
    Product,
    Marketplace,
    Brand,
    /// Seller summaries only.
    Creator,
    /// **(Quiver)** The links' `source` (empty for links without one).
    Source,
}

impl SummaryGroup {
    /// The fact column grouped by.
    fn column(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Link => "link_id",
            Self::Product => "asin",
            Self::Marketplace => "marketplace",
            Self::Brand => "brand_id",
            Self::Creator => "account_id",
            // Summed per link first, then per the link's source (`report_summary`).
            Self::Source => "link_id",
        }
    }

    /// Key, label and detail of a group, and the join that names it.
    fn naming(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Day => ("CAST(g.k AS TEXT)", "''", "''", ""),
            Self::Link => (
                "g.k",
                "COALESCE(l.link_name, '')",
                "COALESCE(l.url, '')",
                " LEFT JOIN links l ON l.id = g.k",
            ),
            Self::Product => (
                "g.k",
                "COALESCE(p.title, '')",
                "''",
                " LEFT JOIN products p ON p.asin = g.k AND p.marketplace = g.marketplace",
            ),
            Self::Marketplace => ("g.k", "''", "''", ""),
            Self::Brand => (
                "g.k",
                "COALESCE(b.name, '')",
                "''",
                " LEFT JOIN brands b ON b.id = g.k",
            ),
            // Brands know creators by their public affiliate id, never the account id.
            Self::Creator => (
                "COALESCE(a.public_id, '')",
                "COALESCE(a.display_name, '')",
                "''",
                " LEFT JOIN accounts a ON a.id = g.k",
            ),
            Self::Source => (
                "COALESCE(l.source, '')",
                "''",
                "''",
                " JOIN links l ON l.id = g.k",
            ),
        }
    }
}

/// One group in one marketplace, money in minor units.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryFactRow {
    pub key: String,
    pub label: String,
    pub detail: String,
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

/// Whose facts a summary reads.
#[derive(Debug, Clone, Copy)]
pub enum SummaryOwner<'a> {
    Publisher(&'a str),
    Seller(&'a str),
}

impl Db {
    /// The filter's facts summed per group and marketplace.
    pub async fn report_summary(
        &self,
        owner: SummaryOwner<'_>,
        filter: &ReportFilter,
        group: SummaryGroup,
    ) -> StoreResult<Vec<SummaryFactRow>> {
        let (table, owner_col, owner_id) = match owner {
            SummaryOwner::Publisher(id) => ("report_facts", "account_id", id),
            // The pre-aggregated rows have no link dimension; a link or source filter, or
            // a breakdown by source, reads facts.
            SummaryOwner::Seller(id)
                if filter.link_ids.is_empty()
                    && filter.source.is_none()
                    && group != SummaryGroup::Source =>
            {
                ("seller_report_facts", "seller_id", id)
            }
            SummaryOwner::Seller(id) => ("report_facts", "seller_id", id),
        };
        let col = group.column();
        let (key, label, detail, join) = group.naming();
        let figures = if group == SummaryGroup::Source {
            OUTER_SUMS
        } else {
            "g.clicks, g.dpv, g.atc, g.purchases, g.units, g.sales, g.brb, g.commission"
        };
        let mut sql = Sql::new("SELECT ");
        sql.push(key)
            .push(" AS key, ")
            .push(label)
            .push(" AS label, ")
            .push(detail)
            .push(" AS detail, g.marketplace, ")
            .push(figures)
            .push(" FROM (SELECT ")
            .push(col)
            .push(" AS k, marketplace, ")
            .push(SUMS)
            .push(" FROM ")
            .push(table);
        filter.push_where(&mut sql, owner_col, owner_id);
        sql.push(" GROUP BY ").push(col);
        if group != SummaryGroup::Marketplace {
            sql.push(", marketplace");
        }
        sql.push(") g").push(join);
        if group == SummaryGroup::Source {
            // Many links share a source: their per-link sums add up per source.
            sql.push(" GROUP BY COALESCE(l.source, ''), g.marketplace");
        }
        sql.push(" ORDER BY 1, g.marketplace");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// When the last ingestion run that covers the owner's brands finished (epoch ms).
    pub async fn data_as_of(&self, owner: SummaryOwner<'_>) -> StoreResult<Option<i64>> {
        // Operator-set ids and brands' own connections (#18) alike.
        const PUBLISHER: &str = "SELECT MAX(s.last_success_at) FROM ingest_state s WHERE s.advertiser_id IN \
             (SELECT a.advertiser_id FROM brand_amazon_accounts a WHERE a.brand_id IN \
             (SELECT brand_id FROM links WHERE account_id = $1) \
             UNION SELECT c.advertiser_id FROM amazon_connections c WHERE c.advertiser_id IS NOT NULL \
             AND c.brand_id IN (SELECT brand_id FROM links WHERE account_id = $1))";
        const SELLER: &str = "SELECT MAX(s.last_success_at) FROM ingest_state s WHERE s.advertiser_id IN \
             (SELECT a.advertiser_id FROM brand_amazon_accounts a WHERE a.brand_id IN \
             (SELECT id FROM brands WHERE owner_account_id = $1) \
             UNION SELECT c.advertiser_id FROM amazon_connections c WHERE c.advertiser_id IS NOT NULL \
             AND c.brand_id IN (SELECT id FROM brands WHERE owner_account_id = $1))";
        let (sql, id) = match owner {
            SummaryOwner::Publisher(id) => (PUBLISHER, id),
            SummaryOwner::Seller(id) => (SELLER, id),
        };
        Ok(
            read_pool!(self, pool => sqlx::query_scalar::<_, Option<i64>>(sql).bind(id).fetch_one(pool).await)?,
        )
    }

    /// Each of a seller's brands with how many Amazon accounts it has (operator-set ids
    /// used with the platform's credentials, and its own connections, which replace them
    /// in their region) and when the last ingestion of those accounts finished.
    pub async fn brand_ingestion(&self, seller: &str) -> StoreResult<Vec<BrandIngestionRow>> {
        const SQL: &str = "SELECT b.id AS brand_id, b.name AS brand_name, \
             (SELECT COUNT(*) FROM brand_amazon_accounts a WHERE a.brand_id = b.id AND NOT EXISTS \
              (SELECT 1 FROM amazon_connections c WHERE c.brand_id = a.brand_id AND c.region = a.region)) AS accounts, \
             (SELECT COUNT(*) FROM amazon_connections c WHERE c.brand_id = b.id) AS own_accounts, \
             (SELECT MAX(s.last_success_at) FROM ingest_state s WHERE s.advertiser_id IN \
              (SELECT a.advertiser_id FROM brand_amazon_accounts a WHERE a.brand_id = b.id \
               UNION SELECT c.advertiser_id FROM amazon_connections c \
               WHERE c.brand_id = b.id AND c.advertiser_id IS NOT NULL)) AS last_success_at \
             FROM brands b WHERE b.owner_account_id = $1 ORDER BY b.id";
        Ok(
            read_pool!(self, pool => sqlx::query_as::<_, BrandIngestionRow>(SQL).bind(seller).fetch_all(pool).await)?,
        )
    }
}

/// One brand's Amazon accounts and last ingestion.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrandIngestionRow {
    pub brand_id: String,
    pub brand_name: String,
    /// Regions served through operator-set ids.
    pub accounts: i64,
    /// Regions the brand connected itself (#18), in any status.
    pub own_accounts: i64,
    pub last_success_at: Option<i64>,
}
