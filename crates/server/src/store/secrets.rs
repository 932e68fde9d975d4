//! Secrets shared by every server on one database, created by whichever needs one first.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use super::{Db, StoreError, StoreResult, now_ms, write_pool};

impl Db {
    /// The secret called `name`: 32 random bytes, created on first use. Servers starting
    /// together may each try to create it; the first insert wins and all read that one.
    pub async fn shared_secret(&self, name: &str) -> StoreResult<Vec<u8>> {
        const INSERT: &str = "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING";
        const SELECT: &str = "SELECT value FROM server_secrets WHERE name = $1";
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let fresh = STANDARD.encode(fresh);
        let stored: String = write_pool!(self, pool => {
            sqlx::query(INSERT)
                .bind(name)
                .bind(&fresh)
                .bind(now_ms())
                .execute(pool)
                .await?;
            sqlx::query_scalar(SELECT).bind(name).fetch_one(pool).await
        })?;
        STANDARD
            .decode(stored.trim())
            .map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(Box::new(e))))
    }
}
