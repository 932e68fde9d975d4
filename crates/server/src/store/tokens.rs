//! Bearer and refresh tokens, stored only as SHA-256 hashes.

use super::text_enum::text_enum;
use super::{Db, StoreResult, read_pool, write_pool};

text_enum! {
    pub enum TokenKind ("token kind") {
        Access = "access",
        Refresh = "refresh",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub token_hash: String,
    pub account_id: String,
    #[sqlx(try_from = "String")]
    pub kind: TokenKind,
    pub family: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub hash: &'a str,
    pub account_id: &'a str,
    pub kind: TokenKind,
    pub family: &'a str,
    pub expires_at: i64,
}

impl Db {
    /// Stores the access and refresh token of one grant together.
    pub async fn insert_tokens(&self, tokens: &[NewToken<'_>], now: i64) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO tokens (token_hash, account_id, kind, family, expires_at, revoked_at, created_at) \
                           VALUES ($1, $2, $3, $4, $5, NULL, $6)";
        write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for t in tokens {
                sqlx::query(SQL)
                    .bind(t.hash)
                    .bind(t.account_id)
                    .bind(t.kind.as_str())
                    .bind(t.family)
                    .bind(t.expires_at)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        const SQL: &str = "SELECT token_hash, account_id, kind, family, expires_at, revoked_at FROM tokens WHERE token_hash = $1";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(hash).fetch_optional(pool).await)?)
    }

    /// Marks a refresh token used, atomically: returns false if it was already used or
    /// revoked, so two concurrent refreshes cannot both succeed.
    pub async fn consume_refresh_token(&self, hash: &str, now: i64) -> StoreResult<bool> {
        const SQL: &str = "UPDATE tokens SET revoked_at = $2 \
                           WHERE token_hash = $1 AND kind = $3 AND revoked_at IS NULL AND expires_at > $2";
        let refresh = TokenKind::Refresh.as_str();
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(hash).bind(now).bind(refresh).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Revokes every token of a grant family (a login and all its refreshes).
    pub async fn revoke_family(&self, family: &str, now: i64) -> StoreResult<Vec<String>> {
        const SEL: &str = "SELECT token_hash FROM tokens WHERE family = $1";
        const SQL: &str =
            "UPDATE tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL";
        let hashes = write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let hashes: Vec<String> = sqlx::query_scalar(SEL).bind(family).fetch_all(&mut *tx).await?;
            sqlx::query(SQL).bind(family).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            hashes
        });
        Ok(hashes)
    }

    pub async fn revoke_token(&self, hash: &str, now: i64) -> StoreResult<()> {
        const SQL: &str =
            "UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL";
        write_pool!(self, pool => sqlx::query(SQL).bind(hash).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn prune_tokens(&self, before: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM tokens WHERE expires_at <= $1";
        Ok(
            write_pool!(self, pool => sqlx::query(SQL).bind(before).execute(pool).await.map(|r| r.rows_affected()))?,
        )
    }
}
