//! API keys: long-lived bearer credentials of one account, stored only as SHA-256 hashes.

use super::text_enum::text_enum;
use super::{Db, StoreResult, read_pool, write_pool};

text_enum! {
    /// What a key may do: read only, or anything its account may.
    pub enum KeyScope ("API key scope") {
        Read = "read",
        Write = "write",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub prefix: String,
    #[sqlx(try_from = "String")]
    pub scope: KeyScope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub hash: &'a str,
    pub scope: KeyScope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

const COLUMNS: &str =
    "id, account_id, name, prefix, scope, created_at, expires_at, last_used_at, revoked_at";

impl Db {
    pub async fn insert_api_key(&self, k: &NewApiKey<'_>) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scope, created_at, expires_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(k.id).bind(k.account_id).bind(k.name).bind(k.prefix).bind(k.hash)
            .bind(k.scope.as_str()).bind(k.created_at).bind(k.expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRow>> {
        const SQL: &str = "SELECT id, account_id, name, prefix, scope, created_at, expires_at, last_used_at, revoked_at \
                           FROM api_keys WHERE key_hash = $1";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(hash).fetch_optional(pool).await)?)
    }

    /// The account's keys not revoked, newest first.
    pub async fn account_api_keys(&self, account_id: &str) -> StoreResult<Vec<ApiKeyRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC"
        );
        Ok(
            read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id).fetch_all(pool).await)?,
        )
    }

    /// Revokes one of the account's keys; its hash comes back for the cache, `None` when
    /// the account has no such live key.
    pub async fn revoke_api_key(
        &self,
        account_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        const SQL: &str = "UPDATE api_keys SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING key_hash";
        Ok(
            write_pool!(self, pool => sqlx::query_scalar(SQL).bind(account_id).bind(id).bind(now).fetch_optional(pool).await)?,
        )
    }

    pub async fn revoke_all_api_keys(
        &self,
        account_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        const SQL: &str = "UPDATE api_keys SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL RETURNING key_hash";
        Ok(
            write_pool!(self, pool => sqlx::query_scalar(SQL).bind(account_id).bind(now).fetch_all(pool).await)?,
        )
    }

    /// Records when keys were last used, one batch in one transaction.
    pub async fn record_api_key_use(&self, uses: &[(String, i64)]) -> StoreResult<()> {
        const SQL: &str = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";
        if uses.is_empty() {
            return Ok(());
        }
        write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (id, at) in uses {
                sqlx::query(SQL).bind(id).bind(at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
