//! Brands' own Amazon authorisations (`amazon_connections`): the sealed refresh token per
//! brand and region. Sealing and opening happen outside the store (`crate::secret_key`);
//! the store only ever sees the sealed, base64 text.

use quiver_domain::Region;

use super::{BeginWrite, Db, StoreResult, now_ms, read_pool, write_pool};

/// One stored secret: which row, and its sealed value (base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedToken {
    pub brand_id: String,
    pub region: String,
    pub sealed: String,
}

impl SealedToken {
    /// The associated data its value is sealed with: brand and region, so a value moved
    /// onto another row does not open.
    pub fn aad(&self) -> Vec<u8> {
        aad(&self.brand_id, &self.region)
    }
}

pub fn aad(brand_id: &str, region: &str) -> Vec<u8> {
    format!("amazon-refresh-token:{brand_id}:{region}").into_bytes()
}

impl Db {
    /// Stores (or replaces, on reconnection) a brand's authorisation for `region` as
    /// connected. The chosen profile and advertiser are kept across a reconnection.
    pub async fn put_amazon_connection(
        &self,
        brand_id: &str,
        region: Region,
        sealed: &str,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO amazon_connections \
             (brand_id, region, status, refresh_token_sealed, connected_at) \
             VALUES ($1, $2, 'connected', $3, $4) \
             ON CONFLICT (brand_id, region) DO UPDATE SET status = 'connected', \
             refresh_token_sealed = excluded.refresh_token_sealed, \
             connected_at = excluded.connected_at, last_error = NULL, notified_at = NULL";
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(brand_id)
            .bind(region.as_str())
            .bind(sealed)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// How many sealed secrets are stored (the server refuses to start without a key then).
    pub async fn count_sealed_secrets(&self) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM amazon_connections";
        Ok(read_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await)?)
    }

    /// One sealed secret, if any: to check at start that the key opens what is stored.
    pub async fn any_sealed_secret(&self) -> StoreResult<Option<SealedToken>> {
        const SQL: &str = "SELECT brand_id, region, refresh_token_sealed FROM amazon_connections \
             ORDER BY brand_id, region LIMIT 1";
        let row: Option<(String, String, String)> =
            read_pool!(self, pool => sqlx::query_as(SQL).fetch_optional(pool).await)?;
        Ok(row.map(|(brand_id, region, sealed)| SealedToken {
            brand_id,
            region,
            sealed,
        }))
    }

    /// Re-seals every stored secret with `reseal` in one transaction: all rows change or
    /// none does. `reseal` returning `None` (a value the old key cannot open) aborts it.
    /// Returns how many rows were re-sealed, or `None` when aborted.
    pub async fn reseal_all(
        &self,
        reseal: impl Fn(&SealedToken) -> Option<String>,
    ) -> StoreResult<Option<usize>> {
        const SELECT: &str = "SELECT brand_id, region, refresh_token_sealed FROM amazon_connections \
             ORDER BY brand_id, region";
        const UPDATE: &str = "UPDATE amazon_connections SET refresh_token_sealed = $3 \
             WHERE brand_id = $1 AND region = $2";
        let done = write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows: Vec<(String, String, String)> =
                sqlx::query_as(SELECT).fetch_all(&mut *tx).await?;
            let mut n = 0;
            let mut aborted = false;
            for (brand_id, region, sealed) in rows {
                let row = SealedToken { brand_id, region, sealed };
                let Some(next) = reseal(&row) else {
                    aborted = true;
                    break;
                };
                sqlx::query(UPDATE)
                    .bind(&row.brand_id)
                    .bind(&row.region)
                    .bind(next)
                    .execute(&mut *tx)
                    .await?;
                n += 1;
            }
            if aborted {
                tx.rollback().await?;
                None
            } else {
                tx.commit().await?;
                Some(n)
            }
        });
        Ok(done)
    }
}
