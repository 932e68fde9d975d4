//! Brands, their Amazon accounts, products and grants.

use std::sync::LazyLock;

use quiver_domain::{Marketplace, ProgramMode, Region};

use super::amazon_connections::ConnectionRow;
use super::sql::Sql;
use super::{Db, StoreError, StoreResult, like_contains, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrandRow {
    pub id: String,
    pub owner_account_id: String,
    pub name: String,
    pub company_name: String,
    pub logo_url: String,
    #[sqlx(try_from = "String")]
    pub program_mode: ProgramMode,
    pub default_commission_bps: i32,
    pub created_at: i64,
}

/// `BrandRow`'s columns, in order.
pub(crate) const BRAND_COLUMNS: &str = "id, owner_account_id, name, company_name, logo_url, program_mode, default_commission_bps, created_at";

/// A product with its brand, and whether the asking publisher may promote it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub asin: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
    pub brand_id: String,
    pub title: String,
    pub price_minor: i64,
    pub available: bool,
    pub status_reason: Option<String>,
    pub image_url: String,
    pub rating_centi: i32,
    pub ratings_total: i64,
    pub category: String,
    pub sub_categories: String,
    pub is_variant_of: Option<String>,
    pub collection_name: Option<String>,
    pub commission_bps: Option<i32>,
    pub deal_base_minor: Option<i64>,
    pub deal_sale_minor: Option<i64>,
    pub deal_final_minor: Option<i64>,
    pub deal_discount_bps: Option<i32>,
    pub brand_name: String,
    pub company_name: String,
    pub logo_url: String,
    pub default_commission_bps: i32,
    /// The brand is open to the caller, or granted them.
    pub has_access: bool,
    /// Access, and the brand's Amazon account in the product's region can make the link.
    pub can_promote: bool,
    /// The caller's own rate with the brand (an invitation's or a grant's), if any.
    pub creator_commission_bps: Option<i32>,
}

impl ProductRow {
    /// The rate in force for the caller: their own terms with the brand (which cover
    /// every product, overrides included, as `RateHistory::rate_for` counts them), else
    /// the product override, else the brand default.
    pub fn commission_bps(&self) -> u32 {
        let bps = self
            .creator_commission_bps
            .or(self.commission_bps)
            .unwrap_or(self.default_commission_bps);
        u32::try_from(bps).unwrap_or(0)
    }
}

/// The caller's (`$1`) latest own rate with the product's brand; NULL when they have none
/// or their terms were ended. The latest recorded, like the brand's and product's rates,
/// which the catalog shows as soon as they are set (reports count them from their
/// effective day).
const CREATOR_BPS: &str = "(SELECT c.bps FROM creator_commission_rates c \
     WHERE c.brand_id = p.brand_id AND c.account_id = $1 ORDER BY c.effective_day DESC LIMIT 1)";

/// Whether the caller has access to the brand: it is open, or granted them.
const HAS_ACCESS: &str = "(b.program_mode = 'open' OR g.account_id IS NOT NULL)";

/// Whether Quiver can make a link for the product now: the brand has an Amazon account in
/// the product's region, its own connection (connected, with an advertiser chosen) or, when
/// it has none of its own, the ids an operator set. `link_target` decides the same way.
/// The marketplace → region mapping is generated from the domain's, not repeated.
fn linkable() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let region = Marketplace::ALL
            .iter()
            .fold(String::from("CASE p.marketplace"), |sql, m| {
                format!("{sql} WHEN '{}' THEN '{}'", m.as_str(), m.region().as_str())
            })
            + " END";
        format!(
            "(CASE WHEN EXISTS (SELECT 1 FROM amazon_connections ac WHERE ac.brand_id = p.brand_id \
             AND ac.region = {region}) THEN EXISTS (SELECT 1 FROM amazon_connections ac \
             WHERE ac.brand_id = p.brand_id AND ac.region = {region} AND ac.status = 'connected' \
             AND ac.advertiser_id IS NOT NULL) ELSE EXISTS (SELECT 1 FROM brand_amazon_accounts baa \
             WHERE baa.brand_id = p.brand_id AND baa.region = {region}) END)"
        )
    });
    &SQL
}

/// `can_promote`: access, and a link can be made.
fn can_promote() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| format!("({HAS_ACCESS} AND {})", linkable()));
    &SQL
}

/// Everything needed to list one product for one publisher (`$1`: the publisher), after
/// `SELECT`.
fn product_columns_from() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "p.asin, p.marketplace, p.brand_id, p.title, p.price_minor, p.available, \
             p.status_reason, p.image_url, p.rating_centi, p.ratings_total, p.category, p.sub_categories, \
             p.is_variant_of, p.collection_name, p.commission_bps, p.deal_base_minor, p.deal_sale_minor, \
             p.deal_final_minor, p.deal_discount_bps, b.name AS brand_name, b.company_name, b.logo_url, \
             b.default_commission_bps, {HAS_ACCESS} AS has_access, {} AS can_promote, \
             {CREATOR_BPS} AS creator_commission_bps \
             FROM products p JOIN brands b ON b.id = p.brand_id \
             LEFT JOIN grants g ON g.brand_id = b.id AND g.account_id = $1 AND g.revoked_at IS NULL",
            can_promote()
        )
    });
    &SQL
}

/// The products as `account_id` sees them, with `extra` columns first (each followed by
/// a comma).
fn product_select(account_id: &str, extra: &str) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(extra)
        .push(product_columns_from())
        .bind(account_id);
    sql
}

/// Filters of `GET /getproducts`. `None` means "any".
#[derive(Debug, Default)]
pub struct ProductFilter<'a> {
    pub marketplace: Option<Marketplace>,
    pub brand_id: Option<&'a str>,
    /// Case-insensitive substring of the title, the brand name or the ASIN.
    pub search: Option<&'a str>,
    pub available: Option<bool>,
    /// Only products the publisher may (`true`) or may not (`false`) promote now.
    pub promotable: Option<bool>,
    pub sort: ProductSort,
}

/// The order of `GET /getproducts`. Every order ends in (brand, ASIN, marketplace), so it
/// is total and a keyset cursor can resume it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    #[default]
    Catalog,
    /// The rate in force for the caller, highest first.
    Commission,
    /// Price in minor units, lowest first (currencies are not converted).
    Price,
    /// Price, highest first.
    PriceDesc,
    /// Average stars, highest first.
    Rating,
}

impl ProductSort {
    /// The SQL of the sort key and whether it runs descending; `None` for catalog order.
    /// The listing binds the caller as `$1`, which the commission key reads.
    fn key(self) -> Option<(&'static str, bool)> {
        static COMMISSION: LazyLock<String> = LazyLock::new(|| {
            format!(
                "CAST(COALESCE({CREATOR_BPS}, p.commission_bps, b.default_commission_bps) AS BIGINT)"
            )
        });
        match self {
            Self::Catalog => None,
            Self::Commission => Some((COMMISSION.as_str(), true)),
            Self::Price => Some(("p.price_minor", false)),
            Self::PriceDesc => Some(("p.price_minor", true)),
            Self::Rating => Some(("CAST(p.rating_centi AS BIGINT)", true)),
        }
    }

    /// The key's value for a row, as the cursor records it.
    pub fn value_of(self, r: &ProductRow) -> Option<i64> {
        match self {
            Self::Catalog => None,
            Self::Commission => Some(i64::from(r.commission_bps())),
            Self::Price | Self::PriceDesc => Some(r.price_minor),
            Self::Rating => Some(i64::from(r.rating_centi)),
        }
    }
}

/// A keyset position in the listing order: the sort key (absent in catalog order), then
/// brand, ASIN, marketplace.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProductPosition {
    pub b: String,
    pub a: String,
    pub m: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<i64>,
}

impl ProductPosition {
    /// ` AND (p.brand_id, p.asin, p.marketplace) > (...)` when paging on from `after`.
    pub(crate) fn push_after(after: Option<&ProductPosition>, sql: &mut Sql) {
        if let Some(p) = after {
            sql.push(" AND (p.brand_id, p.asin, p.marketplace) > (")
                .list([p.b.as_str(), p.a.as_str(), p.m.as_str()])
                .push(")");
        }
    }
}

pub enum Page<P> {
    Offset(i64),
    After(Option<P>),
}

impl ProductFilter<'_> {
    /// ` WHERE` every filter in use (products `p` joined with brands `b`).
    fn push_where(&self, sql: &mut Sql) {
        sql.push(" WHERE 1 = 1")
            .and_eq_opt("p.marketplace", self.marketplace)
            .and_eq_opt("p.brand_id", self.brand_id);
        if let Some(search) = self.search {
            let like = like_contains(search);
            sql.push(" AND (");
            for (i, col) in ["p.title", "b.name", "p.asin"].into_iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push("LOWER(")
                    .push(col)
                    .push(") LIKE ")
                    .arg(&like)
                    .push(" ESCAPE '\\'");
            }
            sql.push(")");
        }
        sql.and_eq_opt("p.available", self.available);
        if let Some(promotable) = self.promotable {
            sql.push(" AND ")
                .push(can_promote())
                .push(" = ")
                .arg(promotable);
        }
    }
}

pub struct NewBrand<'a> {
    pub id: &'a str,
    pub owner_account_id: &'a str,
    pub name: &'a str,
    pub company_name: &'a str,
    pub logo_url: &'a str,
    pub program_mode: ProgramMode,
    pub default_commission_bps: u32,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewProduct {
    pub asin: String,
    pub marketplace: Marketplace,
    pub brand_id: String,
    pub title: String,
    pub price_minor: i64,
    pub available: bool,
    pub status_reason: Option<String>,
    pub image_url: String,
    pub rating_centi: i32,
    pub ratings_total: i64,
    pub category: String,
    pub sub_categories: Vec<String>,
    pub is_variant_of: Option<String>,
    pub collection_name: Option<String>,
    pub commission_bps: Option<u32>,
    pub deal: Option<(i64, i64, i64, u32)>,
}

/// What link creation reads about a product: the product, and how its brand reaches
/// Amazon in the link's region.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub product: ProductRow,
    /// (profile, advertiser) set by an operator, used with the platform's credentials.
    pub platform: Option<(String, String)>,
    /// The brand's own connection (its `last_ok_at` and `last_error` are not read).
    pub own: Option<ConnectionRow>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AmazonAccountRow {
    pub brand_id: String,
    #[sqlx(try_from = "String")]
    pub region: Region,
    pub profile_id: String,
    pub advertiser_id: String,
}

impl Db {
    pub async fn insert_brand(&self, b: &NewBrand<'_>) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO brands (id, owner_account_id, name, company_name, logo_url, program_mode, default_commission_bps, created_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(b.id)
            .bind(b.owner_account_id)
            .bind(b.name)
            .bind(b.company_name)
            .bind(b.logo_url)
            .bind(b.program_mode.as_str())
            .bind(b.default_commission_bps as i32)
            .bind(b.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    pub async fn brand(&self, id: &str) -> StoreResult<Option<BrandRow>> {
        let mut sql = Sql::new("SELECT ");
        sql.push(BRAND_COLUMNS)
            .push(" FROM brands WHERE id = ")
            .arg(id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Brands for the legacy `/brands` listing, with whether `account_id` may promote each.
    pub async fn list_brands(
        &self,
        account_id: &str,
        search: Option<&str>,
        brand_id: Option<&str>,
        skip: i64,
        limit: i64,
    ) -> StoreResult<(i64, Vec<(BrandRow, bool)>)> {
        let search_like = search.map(like_contains);
        let push_from = |sql: &mut Sql| {
            sql.push(
                " FROM brands b LEFT JOIN grants g ON g.brand_id = b.id AND g.account_id = $1 \
                 AND g.revoked_at IS NULL WHERE 1 = 1",
            );
            if let Some(like) = &search_like {
                sql.push(" AND (LOWER(b.name) LIKE ")
                    .arg(like)
                    .push(" ESCAPE '\\' OR LOWER(b.company_name) LIKE ")
                    .arg(like)
                    .push(" ESCAPE '\\')");
            }
            sql.and_eq_opt("b.id", brand_id);
        };
        let mut count = Sql::new("SELECT COUNT(*)");
        count.bind(account_id);
        push_from(&mut count);
        let mut page = Sql::new(
            "SELECT b.id, b.owner_account_id, b.name, b.company_name, b.logo_url, b.program_mode, \
             b.default_commission_bps, b.created_at, (b.program_mode = 'open' OR g.account_id IS NOT NULL) AS can_promote",
        );
        page.bind(account_id);
        push_from(&mut page);
        page.push(" ORDER BY b.id LIMIT ")
            .arg(limit)
            .push(" OFFSET ")
            .arg(skip);
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            brand: BrandRow,
            can_promote: bool,
        }
        let (total, rows): (i64, Vec<Row>) = self.count_and_rows(&count, &page).await?;
        Ok((
            total,
            rows.into_iter().map(|r| (r.brand, r.can_promote)).collect(),
        ))
    }

    pub async fn upsert_product(&self, p: &NewProduct, now: i64) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO products (asin, marketplace, brand_id, title, price_minor, available, status_reason, image_url, \
             rating_centi, ratings_total, category, sub_categories, is_variant_of, collection_name, commission_bps, \
             deal_base_minor, deal_sale_minor, deal_final_minor, deal_discount_bps, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
             ON CONFLICT (asin, marketplace) DO UPDATE SET brand_id = excluded.brand_id, title = excluded.title, \
             price_minor = excluded.price_minor, available = excluded.available, status_reason = excluded.status_reason, \
             image_url = excluded.image_url, rating_centi = excluded.rating_centi, ratings_total = excluded.ratings_total, \
             category = excluded.category, sub_categories = excluded.sub_categories, is_variant_of = excluded.is_variant_of, \
             collection_name = excluded.collection_name, commission_bps = excluded.commission_bps, \
             deal_base_minor = excluded.deal_base_minor, deal_sale_minor = excluded.deal_sale_minor, \
             deal_final_minor = excluded.deal_final_minor, deal_discount_bps = excluded.deal_discount_bps, \
             updated_at = excluded.updated_at";
        let subs = serde_json::to_string(&p.sub_categories).unwrap_or_else(|_| "[]".into());
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(&p.asin)
            .bind(p.marketplace.as_str())
            .bind(&p.brand_id)
            .bind(&p.title)
            .bind(p.price_minor)
            .bind(p.available)
            .bind(&p.status_reason)
            .bind(&p.image_url)
            .bind(p.rating_centi)
            .bind(p.ratings_total)
            .bind(&p.category)
            .bind(&subs)
            .bind(&p.is_variant_of)
            .bind(&p.collection_name)
            .bind(p.commission_bps.map(|b| b as i32))
            .bind(p.deal.map(|d| d.0))
            .bind(p.deal.map(|d| d.1))
            .bind(p.deal.map(|d| d.2))
            .bind(p.deal.map(|d| d.3 as i32))
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    /// What link creation needs in one round trip: the product as the caller sees it, and
    /// the brand's Amazon Attribution account for `region` (if it has one).
    /// The product a link would point at, with the brand's Amazon account in `region`:
    /// the ids an operator set (used with the platform's credentials) and the brand's own
    /// connection, which takes precedence when it exists.
    pub async fn link_target(
        &self,
        account_id: &str,
        asin: &str,
        marketplace: Marketplace,
        region: Region,
    ) -> StoreResult<Option<LinkTarget>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            product: ProductRow,
            amazon_profile_id: Option<String>,
            amazon_advertiser_id: Option<String>,
            own_status: Option<String>,
            own_sealed: Option<String>,
            own_profile_id: Option<String>,
            own_advertiser_id: Option<String>,
            own_connected_at: Option<i64>,
        }
        let mut sql = product_select(
            account_id,
            "baa.profile_id AS amazon_profile_id, baa.advertiser_id AS amazon_advertiser_id, \
             ac.status AS own_status, ac.refresh_token_sealed AS own_sealed, \
             ac.profile_id AS own_profile_id, ac.advertiser_id AS own_advertiser_id, \
             ac.connected_at AS own_connected_at, ",
        );
        sql.push(
            " LEFT JOIN brand_amazon_accounts baa ON baa.brand_id = p.brand_id AND baa.region = ",
        )
        .arg(region.as_str())
        .push(" LEFT JOIN amazon_connections ac ON ac.brand_id = p.brand_id AND ac.region = ")
        .arg(region.as_str())
        .push(" WHERE p.asin = ")
        .arg(asin)
        .and_eq("p.marketplace", marketplace);
        let row: Option<Row> = read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?;
        Ok(row.map(|r| {
            let own = match (r.own_status, r.own_sealed, r.own_connected_at) {
                (Some(status), Some(sealed), Some(connected_at)) => Some(ConnectionRow {
                    brand_id: r.product.brand_id.clone(),
                    region,
                    status,
                    refresh_token_sealed: sealed,
                    profile_id: r.own_profile_id,
                    advertiser_id: r.own_advertiser_id,
                    connected_at,
                    last_ok_at: None,
                    last_error: None,
                }),
                _ => None,
            };
            LinkTarget {
                platform: r.amazon_profile_id.zip(r.amazon_advertiser_id),
                own,
                product: r.product,
            }
        }))
    }

    pub async fn product_for(
        &self,
        account_id: &str,
        asin: &str,
        marketplace: Marketplace,
    ) -> StoreResult<Option<ProductRow>> {
        let mut sql = product_select(account_id, "");
        sql.push(" WHERE p.asin = ")
            .arg(asin)
            .and_eq("p.marketplace", marketplace);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// One page of the catalog and the total number of matching products.
    pub async fn list_products(
        &self,
        account_id: &str,
        filter: &ProductFilter<'_>,
        page: &Page<ProductPosition>,
        limit: i64,
    ) -> StoreResult<(i64, Vec<ProductRow>)> {
        // The grant join decides `promotable`; `$1` is the publisher, as in the listing.
        let mut count = Sql::new(
            "SELECT COUNT(*) FROM products p JOIN brands b ON b.id = p.brand_id \
             LEFT JOIN grants g ON g.brand_id = b.id AND g.account_id = $1 AND g.revoked_at IS NULL",
        );
        count.bind(account_id);
        filter.push_where(&mut count);
        let (offset, after) = match page {
            Page::Offset(n) => (*n, None),
            Page::After(pos) => (0, pos.as_ref()),
        };
        let mut list = product_select(account_id, "");
        filter.push_where(&mut list);
        match filter.sort.key() {
            None => {
                ProductPosition::push_after(after, &mut list);
                list.push(" ORDER BY p.brand_id, p.asin, p.marketplace");
            }
            Some((key, desc)) => {
                let (op, dir) = if desc {
                    (" < ", " DESC")
                } else {
                    (" > ", " ASC")
                };
                match after {
                    Some(p @ ProductPosition { k: Some(k), .. }) => {
                        let k = *k;
                        list.push(" AND (").push(key).push(op).arg(k);
                        list.push(" OR (").push(key).push(" = ").arg(k);
                        list.push(" AND (p.brand_id, p.asin, p.marketplace) > (")
                            .list([p.b.as_str(), p.a.as_str(), p.m.as_str()])
                            .push(")))");
                    }
                    other => ProductPosition::push_after(other, &mut list),
                }
                list.push(" ORDER BY ")
                    .push(key)
                    .push(dir)
                    .push(", p.brand_id, p.asin, p.marketplace");
            }
        }
        list.push(" LIMIT ").arg(limit).push(" OFFSET ").arg(offset);
        self.count_and_rows(&count, &list).await
    }

    pub async fn set_brand_amazon_account(
        &self,
        brand_id: &str,
        region: Region,
        profile_id: &str,
        advertiser_id: &str,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO brand_amazon_accounts (brand_id, region, profile_id, advertiser_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (brand_id, region) DO UPDATE SET profile_id = excluded.profile_id, advertiser_id = excluded.advertiser_id";
        write_pool!(self, pool => sqlx::query(SQL).bind(brand_id).bind(region.as_str()).bind(profile_id).bind(advertiser_id).execute(pool).await.map(|r| r.rows_affected()))
            .map_err(StoreError::from_write)?;
        Ok(())
    }

    pub async fn brand_amazon_account(
        &self,
        brand_id: &str,
        region: Region,
    ) -> StoreResult<Option<AmazonAccountRow>> {
        const SQL: &str = "SELECT brand_id, region, profile_id, advertiser_id FROM brand_amazon_accounts WHERE brand_id = $1 AND region = $2";
        Ok(
            read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).bind(region.as_str()).fetch_optional(pool).await)?,
        )
    }

    pub async fn count_products(&self) -> StoreResult<i64> {
        Ok(
            read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM products").fetch_one(pool).await)?,
        )
    }
}
