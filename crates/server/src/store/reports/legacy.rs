//! The legacy report endpoints' aggregates: totals, per day × product, per link and per
//! product over a range, paged by offset (legacy page numbers).

use quiver_domain::Marketplace;

use super::{ReportFilter, SUMS};
use crate::store::sql::Sql;
use crate::store::{Db, StoreResult, read_pool};

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
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
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
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
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

impl Db {
    /// Totals of a publisher's facts over the filter.
    pub async fn publisher_totals(
        &self,
        account_id: &str,
        filter: &ReportFilter,
    ) -> StoreResult<Totals> {
        let mut sql = Sql::new("SELECT ");
        sql.push(SUMS).push(" FROM report_facts");
        filter.push_where(&mut sql, "account_id", account_id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_one(pool).await)?)
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
        let mut inner = Sql::new("SELECT day, asin, marketplace, MIN(link_id) AS link_id, ");
        inner.push(SUMS).push(" FROM report_facts");
        filter.push_where(&mut inner, "account_id", account_id);
        inner
            .push(" GROUP BY day, asin, marketplace HAVING CAST(COALESCE(SUM(clicks), 0) AS BIGINT) >= ")
            .arg(min_clicks)
            .push(" AND CAST(COALESCE(SUM(sales), 0) AS BIGINT) >= ")
            .arg(min_sales);
        let mut count = Sql::continuing(&inner);
        count
            .push("SELECT COUNT(*) FROM (")
            .push_continued(&inner)
            .push(") g");
        let mut page = Sql::continuing(&inner);
        page.push(
            "SELECT g.day, g.asin, g.marketplace, COALESCE(p.title, '') AS product_name, \
             COALESCE(l.link_name, '') AS link_name, g.clicks, g.sales, g.purchases, g.units, g.commission FROM (",
        )
        .push_continued(&inner)
        .push(
            ") g LEFT JOIN products p ON p.asin = g.asin AND p.marketplace = g.marketplace \
             LEFT JOIN links l ON l.id = g.link_id ORDER BY g.day, g.asin, g.marketplace LIMIT ",
        )
        .arg(limit)
        .push(" OFFSET ")
        .arg(offset);
        self.count_and_rows(&count, &page).await
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
        let mut inner = Sql::new("SELECT link_id, ");
        inner.push(SUMS).push(" FROM report_facts");
        filter.push_where(&mut inner, "account_id", account_id);
        inner.push(" GROUP BY link_id");
        let mut body = Sql::continuing(&inner);
        body.push(" FROM links l LEFT JOIN (")
            .push_continued(&inner)
            .push(") t ON t.link_id = l.id WHERE l.account_id = ")
            .arg(account_id)
            .push(" AND COALESCE(t.clicks, 0) >= ")
            .arg(min_clicks)
            .push(" AND COALESCE(t.sales, 0) >= ")
            .arg(min_sales);
        let mut count = Sql::continuing(&body);
        count.push("SELECT COUNT(*)").push_continued(&body);
        let key = match sort {
            LinkSort::Clicks => "COALESCE(t.clicks, 0)",
            LinkSort::Sales => "COALESCE(t.sales, 0)",
            LinkSort::Units => "COALESCE(t.units, 0)",
            LinkSort::Purchases => "COALESCE(t.purchases, 0)",
            LinkSort::Created => "l.created_at",
        };
        let dir = if ascending { " ASC" } else { " DESC" };
        let mut page = Sql::continuing(&body);
        page.push(
            "SELECT l.id, l.link_name, l.asin, l.url, CAST(COALESCE(t.clicks, 0) AS BIGINT) AS clicks, \
             CAST(COALESCE(t.sales, 0) AS BIGINT) AS sales, CAST(COALESCE(t.units, 0) AS BIGINT) AS units, \
             CAST(COALESCE(t.purchases, 0) AS BIGINT) AS purchases, \
             CAST(COALESCE(t.commission, 0) AS BIGINT) AS commission",
        )
        .push_continued(&body)
        .push(" ORDER BY ")
        .push(key)
        .push(dir)
        .push(", l.id")
        .push(dir)
        .push(" LIMIT ")
        .arg(limit)
        .push(" OFFSET ")
        .arg(offset);
        self.count_and_rows(&count, &page).await
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
        let mut inner = Sql::new("SELECT asin, marketplace, MIN(brand_id) AS brand_id, ");
        inner.push(SUMS).push(" FROM report_facts");
        filter.push_where(&mut inner, "account_id", account_id);
        inner.push(" GROUP BY asin, marketplace");
        let mut body = Sql::continuing(&inner);
        body.push(" FROM (").push_continued(&inner).push(
            ") g LEFT JOIN products p ON p.asin = g.asin AND p.marketplace = g.marketplace \
             LEFT JOIN brands b ON b.id = g.brand_id WHERE 1 = 1",
        );
        if let Some(c) = category {
            body.push(" AND LOWER(COALESCE(p.category, '')) = ")
                .arg(c.trim().to_lowercase());
        }
        if let Some(b) = brand {
            let b = b.trim().to_lowercase();
            body.push(" AND (g.brand_id = ")
                .arg(b.as_str())
                .push(" OR LOWER(COALESCE(b.name, '')) = ")
                .arg(b)
                .push(")");
        }
        let mut count = Sql::continuing(&body);
        count.push("SELECT COUNT(*)").push_continued(&body);
        let mut page = Sql::continuing(&body);
        page.push(
            "SELECT g.asin, g.marketplace, COALESCE(p.title, '') AS product_name, COALESCE(b.name, '') AS brand_name, \
             COALESCE(p.category, '') AS product_category, g.clicks, g.purchases, g.units, g.sales, g.commission",
        )
        .push_continued(&body)
        .push(" ORDER BY g.asin, g.marketplace LIMIT ")
        .arg(limit)
        .push(" OFFSET ")
        .arg(offset);
        self.count_and_rows(&count, &page).await
    }
}
