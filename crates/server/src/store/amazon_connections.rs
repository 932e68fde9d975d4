//! Brands' own Amazon authorisations (`amazon_connections`): the sealed refresh token per
//! brand and region. Sealing and opening happen outside the store (`crate::secret_key`);
//! the store only ever sees the sealed, base64 text.

use quiver_domain::Region;

use super::emit::{Render, emit};
use super::{BeginWrite, Db, StoreResult, now_ms, read_pool, write_pool};
use crate::webhooks::events::EventType;

/// A brand's authorisation for one region, as stored (the token still sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionRow {
    pub brand_id: String,
    #[sqlx(try_from = "String")]
    pub region: Region,
    /// `connected` or `reconnect_needed`.
    pub status: String,
    pub refresh_token_sealed: String,
    pub profile_id: Option<String>,
    pub advertiser_id: Option<String>,
    pub connected_at: i64,
    pub last_ok_at: Option<i64>,
    pub last_error: Option<String>,
}

impl ConnectionRow {
    pub fn is_connected(&self) -> bool {
        self.status == "connected"
    }

    /// The token with the associated data it is sealed with.
    pub fn sealed(&self) -> SealedToken {
        SealedToken {
            brand_id: self.brand_id.clone(),
            region: self.region.as_str().to_owned(),
            sealed: self.refresh_token_sealed.clone(),
        }
    }
}

/// A consent in flight, as its callback finds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectState {
    pub account_id: String,
    pub brand_id: String,
    #[sqlx(try_from = "String")]
    pub region: Region,
    pub expires_at: i64,
}

/// A connection whose owner is to be told it needs reconnecting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrokenConnection {
    pub brand_id: String,
    pub brand_name: String,
    #[sqlx(try_from = "String")]
    pub region: Region,
    pub owner_email: String,
    pub owner_name: String,
    pub last_error: Option<String>,
}

/// A connection that has just become `reconnect_needed`, with what the
/// `amazon.connection_lost` event needs: the brand's name and whose endpoints get it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LostConnection {
    #[sqlx(flatten)]
    pub row: ConnectionRow,
    pub brand_name: String,
    pub owner_account_id: String,
}

/// The columns of a [`ConnectionRow`], then the rest of the statement.
macro_rules! select_connections {
    ($rest:literal) => {
        concat!(
            "SELECT brand_id, region, status, refresh_token_sealed, profile_id, advertiser_id, \
             connected_at, last_ok_at, last_error FROM amazon_connections ",
            $rest
        )
    };
}

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

    /// Records a consent about to start: `state_hash` (the state's SHA-256) is bound to the
    /// seller, brand and region until `expires_at`. Expired states are swept on the way.
    pub async fn create_connect_state(
        &self,
        state_hash: &str,
        account_id: &str,
        brand_id: &str,
        region: Region,
        expires_at: i64,
    ) -> StoreResult<()> {
        const SWEEP: &str = "DELETE FROM amazon_connect_states WHERE expires_at <= $1";
        const SQL: &str = "INSERT INTO amazon_connect_states \
             (state_hash, account_id, brand_id, region, expires_at) VALUES ($1, $2, $3, $4, $5)";
        let now = now_ms();
        write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SWEEP).bind(now).execute(&mut *tx).await?;
            sqlx::query(SQL)
                .bind(state_hash)
                .bind(account_id)
                .bind(brand_id)
                .bind(region.as_str())
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Consumes a state: deleted whatever comes next, so it is single use even when two
    /// callbacks race (only one delete returns the row). The caller checks `expires_at`.
    pub async fn take_connect_state(&self, state_hash: &str) -> StoreResult<Option<ConnectState>> {
        const SQL: &str = "DELETE FROM amazon_connect_states WHERE state_hash = $1 \
             RETURNING account_id, brand_id, region, expires_at";
        Ok(
            write_pool!(self, pool => sqlx::query_as(SQL).bind(state_hash).fetch_optional(pool).await)?,
        )
    }

    /// A brand's authorisation in one region.
    pub async fn amazon_connection(
        &self,
        brand_id: &str,
        region: Region,
    ) -> StoreResult<Option<ConnectionRow>> {
        const SQL: &str = select_connections!("WHERE brand_id = $1 AND region = $2");
        Ok(
            read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).bind(region.as_str()).fetch_optional(pool).await)?,
        )
    }

    /// Every authorisation of a brand.
    pub async fn amazon_connections_of(&self, brand_id: &str) -> StoreResult<Vec<ConnectionRow>> {
        const SQL: &str = select_connections!("WHERE brand_id = $1 ORDER BY region");
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).fetch_all(pool).await)?)
    }

    /// Records the profile and advertiser the brand chose; `false` when the connection is
    /// gone (disconnected meanwhile).
    pub async fn choose_amazon_advertiser(
        &self,
        brand_id: &str,
        region: Region,
        profile_id: &str,
        advertiser_id: &str,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE amazon_connections SET profile_id = $3, advertiser_id = $4, \
             last_ok_at = $5 WHERE brand_id = $1 AND region = $2";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(brand_id)
            .bind(region.as_str())
            .bind(profile_id)
            .bind(advertiser_id)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Forgets the chosen profile and advertiser (a new authorisation cannot see them).
    pub async fn clear_amazon_advertiser(&self, brand_id: &str, region: Region) -> StoreResult<()> {
        const SQL: &str = "UPDATE amazon_connections SET profile_id = NULL, advertiser_id = NULL \
             WHERE brand_id = $1 AND region = $2";
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(brand_id)
            .bind(region.as_str())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Disconnects: the sealed token is deleted with its row. `false` when there was none.
    pub async fn delete_amazon_connection(
        &self,
        brand_id: &str,
        region: Region,
    ) -> StoreResult<bool> {
        const SQL: &str = "DELETE FROM amazon_connections WHERE brand_id = $1 AND region = $2";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(brand_id)
            .bind(region.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Amazon answered a call made with this authorisation.
    pub async fn amazon_connection_ok(
        &self,
        brand_id: &str,
        region: Region,
        sealed: &str,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE amazon_connections SET last_ok_at = $4 \
             WHERE brand_id = $1 AND region = $2 AND refresh_token_sealed = $3 AND status = 'connected'";
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

    /// Marks the authorisation sealed as `sealed` as needing a new consent. Guarded by the
    /// token, so the failure of an old token cannot break a connection made since. `true`
    /// when this call changed it; then, in the same transaction, the brand's seller gets
    /// `amazon.connection_lost` (`data` renders the connection as it now is), so the event
    /// exists exactly once per breakage however many uses fail.
    pub async fn mark_amazon_reconnect_needed(
        &self,
        brand_id: &str,
        region: Region,
        sealed: &str,
        error: &str,
        data: Render<'_, LostConnection>,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE amazon_connections SET status = 'reconnect_needed', last_error = $4 \
             WHERE brand_id = $1 AND region = $2 AND refresh_token_sealed = $3 AND status = 'connected'";
        const LOST: &str = "SELECT c.brand_id, c.region, c.status, c.refresh_token_sealed, c.profile_id, \
             c.advertiser_id, c.connected_at, c.last_ok_at, c.last_error, b.name AS brand_name, \
             b.owner_account_id FROM amazon_connections c JOIN brands b ON b.id = c.brand_id \
             WHERE c.brand_id = $1 AND c.region = $2";
        let changed: Result<bool, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SQL)
                .bind(brand_id)
                .bind(region.as_str())
                .bind(sealed)
                .bind(error)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            let lost: LostConnection = sqlx::query_as(LOST)
                .bind(brand_id)
                .bind(region.as_str())
                .fetch_one(&mut *tx)
                .await?;
            emit(&mut *tx, &lost.owner_account_id, EventType::AmazonConnectionLost, data(&lost)).await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(changed?)
    }

    /// The broken connections whose owner has not been told yet.
    pub async fn unnotified_broken_connections(&self) -> StoreResult<Vec<BrokenConnection>> {
        const SQL: &str = "SELECT c.brand_id, b.name AS brand_name, c.region, a.email AS owner_email, \
             a.display_name AS owner_name, c.last_error FROM amazon_connections c \
             JOIN brands b ON b.id = c.brand_id JOIN accounts a ON a.id = b.owner_account_id \
             WHERE c.status = 'reconnect_needed' AND c.notified_at IS NULL ORDER BY c.brand_id, c.region";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?)
    }

    /// Claims the one e-mail of a breakage: only one caller (of any process) gets `true`.
    pub async fn claim_amazon_notice(&self, brand_id: &str, region: Region) -> StoreResult<bool> {
        const SQL: &str = "UPDATE amazon_connections SET notified_at = $3 \
             WHERE brand_id = $1 AND region = $2 AND status = 'reconnect_needed' AND notified_at IS NULL";
        let n = write_pool!(self, pool => sqlx::query(SQL)
            .bind(brand_id)
            .bind(region.as_str())
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// How many connections are in each status (`connected`, `reconnect_needed`).
    pub async fn amazon_connection_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        const SQL: &str =
            "SELECT status, COUNT(*) FROM amazon_connections GROUP BY status ORDER BY status";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?)
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
}
