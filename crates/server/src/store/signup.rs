//! The account lifecycle: self-service accounts, single-use e-mail tokens (verification,
//! password reset, change of address), sessions, disabling, and the throttle of e-mails.

use sha2::{Digest, Sha256};

use super::accounts::NewAccount;
use super::mail_outbox::{NewMail, insert_mail};
use super::text_enum::text_enum;
use super::tokens::TokenKind;
use super::{Db, Engine, StoreError, StoreResult, read_pool, write_pool};

text_enum! {
    /// What a single-use e-mail token is for.
    pub enum Purpose ("token purpose") {
        Verify = "verify",
        Reset = "reset",
        EmailChange = "email_change",
    }
}

/// A token found by its hash, still unused and unexpired, now marked used.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsedToken {
    pub account_id: String,
    #[sqlx(try_from = "String")]
    pub purpose: Purpose,
    pub email: String,
}

/// A single-use e-mail token to store (its hash only).
pub struct NewAccountToken<'a> {
    pub hash: &'a str,
    pub account_id: &'a str,
    pub purpose: Purpose,
    pub email: &'a str,
    pub expires_at: i64,
    pub now: i64,
}

/// Why a token could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Used,
    Expired,
}

/// One login's details, for the account's list of sessions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub family: String,
    pub client_ip: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// A throttle over a window: at most `max` actions per subject.
pub struct Limit<'a> {
    pub subject: &'a str,
    pub max: i64,
}

fn lock_key(s: &str) -> i64 {
    let d = Sha256::digest(s.as_bytes());
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl Db {
    /// A self-service account: like the CLI's, but its address is not yet verified.
    pub async fn insert_unverified_account(&self, a: &NewAccount<'_>) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO accounts (id, public_id, email, kind, display_name, password_hash, created_at, email_verified) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE)";
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(a.id).bind(a.public_id).bind(a.email).bind(a.kind.as_str())
            .bind(a.display_name).bind(a.password_hash).bind(a.created_at)
            .execute(pool).await.map(|r| r.rows_affected()))
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    /// Stores a single-use token and, in the same transaction, the e-mail that carries
    /// its link (when mails are stored): neither exists without the other.
    pub async fn insert_account_token(
        &self,
        t: &NewAccountToken<'_>,
        mail: Option<&NewMail>,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO account_tokens (token_hash, account_id, purpose, email, expires_at, used_at, created_at) \
                           VALUES ($1, $2, $3, $4, $5, NULL, $6)";
        write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            sqlx::query(SQL)
                .bind(t.hash).bind(t.account_id).bind(t.purpose.as_str()).bind(t.email)
                .bind(t.expires_at).bind(t.now)
                .execute(&mut *tx).await?;
            if let Some(mail) = mail {
                insert_mail!(&mut *tx, mail).await?;
            }
            tx.commit().await
        }.await)?;
        Ok(())
    }

    /// Whether a link would be accepted now, without spending it: a reset checks this
    /// before the slow hashing, so made-up tokens cost no password-pool time.
    pub async fn check_account_token(
        &self,
        hash: &str,
        purposes: &[Purpose],
        now: i64,
    ) -> StoreResult<Result<(), TokenRefusal>> {
        const SEL: &str =
            "SELECT purpose, used_at, expires_at FROM account_tokens WHERE token_hash = $1";
        let found: Option<(String, Option<i64>, i64)> =
            write_pool!(self, pool => sqlx::query_as(SEL).bind(hash).fetch_optional(pool).await)?;
        let Some((purpose, used_at, expires_at)) = found else {
            return Ok(Err(TokenRefusal::Unknown));
        };
        let purpose = Purpose::try_from(purpose).map_err(|e| super::decode_error("purpose", e))?;
        if !purposes.contains(&purpose) {
            return Ok(Err(TokenRefusal::Unknown));
        }
        if used_at.is_some() {
            return Ok(Err(TokenRefusal::Used));
        }
        if expires_at <= now {
            return Ok(Err(TokenRefusal::Expired));
        }
        Ok(Ok(()))
    }

    /// Uses a token of one of `purposes` once: concurrent uses cannot both succeed.
    pub async fn use_account_token(
        &self,
        hash: &str,
        purposes: &[Purpose],
        now: i64,
    ) -> StoreResult<Result<UsedToken, TokenRefusal>> {
        const USE: &str = "UPDATE account_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING account_id, purpose, email";
        if let Err(refused) = self.check_account_token(hash, purposes, now).await? {
            return Ok(Err(refused));
        }
        let used: Option<UsedToken> = write_pool!(self, pool => sqlx::query_as(USE).bind(hash).bind(now).fetch_optional(pool).await)?;
        Ok(used.ok_or(TokenRefusal::Used))
    }

    /// Ends the other links of one purpose (a new reset link replaces the old ones).
    pub async fn retire_account_tokens(
        &self,
        account_id: &str,
        purpose: Purpose,
        now: i64,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE account_tokens SET used_at = $3 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL";
        write_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(purpose.as_str()).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn mark_email_verified(&self, account_id: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET email_verified = TRUE WHERE id = $1";
        write_pool!(self, pool => sqlx::query(SQL).bind(account_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A verified change of address; `Conflict` when another account has it by now.
    pub async fn change_email(&self, account_id: &str, email: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET email = $2, email_verified = TRUE WHERE id = $1";
        write_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(email).execute(pool).await.map(|r| r.rows_affected()))
            .map_err(StoreError::from_write)?;
        Ok(())
    }

    pub async fn set_display_name(&self, account_id: &str, name: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET display_name = $2 WHERE id = $1";
        write_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(name).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_password_hash(&self, account_id: &str, hash: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET password_hash = $2 WHERE id = $1";
        write_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(hash).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn disable_account(&self, account_id: &str, now: i64) -> StoreResult<()> {
        const SQL: &str =
            "UPDATE accounts SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL";
        write_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Revokes every access and refresh token of an account; their hashes come back so the
    /// caller can evict them from its cache.
    pub async fn revoke_account_tokens(
        &self,
        account_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        const SEL: &str =
            "SELECT token_hash FROM tokens WHERE account_id = $1 AND revoked_at IS NULL";
        const SQL: &str =
            "UPDATE tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL";
        let hashes = write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let hashes: Vec<String> = sqlx::query_scalar(SEL).bind(account_id).fetch_all(&mut *tx).await?;
            sqlx::query(SQL).bind(account_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            hashes
        });
        Ok(hashes)
    }

    /// The hashes of an account's live tokens, to evict after its details change.
    pub async fn live_token_hashes(&self, account_id: &str) -> StoreResult<Vec<String>> {
        const SQL: &str =
            "SELECT token_hash FROM tokens WHERE account_id = $1 AND revoked_at IS NULL";
        Ok(
            read_pool!(self, pool => sqlx::query_scalar(SQL).bind(account_id).fetch_all(pool).await)?,
        )
    }

    pub async fn insert_session(
        &self,
        family: &str,
        account_id: &str,
        client_ip: &str,
        user_agent: &str,
        now: i64,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO sessions (family, account_id, client_ip, user_agent, created_at, last_used_at) \
                           VALUES ($1, $2, $3, $4, $5, $5)";
        write_pool!(self, pool => sqlx::query(SQL).bind(family).bind(account_id).bind(client_ip).bind(user_agent).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn touch_session(&self, family: &str, now: i64) -> StoreResult<()> {
        const SQL: &str = "UPDATE sessions SET last_used_at = $2 WHERE family = $1";
        write_pool!(self, pool => sqlx::query(SQL).bind(family).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sessions whose refresh token still works, newest first.
    pub async fn live_sessions(&self, account_id: &str, now: i64) -> StoreResult<Vec<SessionRow>> {
        const SQL: &str = "SELECT s.family, s.client_ip, s.user_agent, s.created_at, s.last_used_at FROM sessions s \
             WHERE s.account_id = $1 AND EXISTS (SELECT 1 FROM tokens t WHERE t.family = s.family \
               AND t.kind = $3 AND t.revoked_at IS NULL AND t.expires_at > $2) \
             ORDER BY s.created_at DESC, s.family DESC";
        let refresh = TokenKind::Refresh.as_str();
        Ok(
            read_pool!(self, pool => sqlx::query_as(SQL).bind(account_id).bind(now).bind(refresh).fetch_all(pool).await)?,
        )
    }

    pub async fn session_of(&self, account_id: &str, family: &str) -> StoreResult<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM sessions WHERE account_id = $1 AND family = $2";
        let n: i64 = read_pool!(self, pool => sqlx::query_scalar(SQL).bind(account_id).bind(family).fetch_one(pool).await)?;
        Ok(n > 0)
    }

    /// Counts one `action` against every limit, atomically: over any limit nothing is
    /// recorded and the oldest counted time of the fullest subject comes back.
    pub async fn throttle_take(
        &self,
        action: &str,
        limits: &[Limit<'_>],
        since: i64,
        now: i64,
    ) -> StoreResult<Result<(), i64>> {
        const LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
        const COUNT: &str = "SELECT COUNT(*), COALESCE(MIN(at), 0) FROM mail_throttle WHERE action = $1 AND subject = $2 AND at > $3";
        const INSERT: &str =
            "INSERT INTO mail_throttle (id, action, subject, at) VALUES ($1, $2, $3, $4)";
        const PRUNE: &str = "DELETE FROM mail_throttle WHERE action = $1 AND at <= $2";
        let postgres = self.engine() == Engine::Postgres;
        write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            if postgres {
                let mut keys: Vec<i64> = limits.iter().map(|l| lock_key(&format!("{action}\u{1f}{}", l.subject))).collect();
                // Always in one order, so two requests cannot wait on each other.
                keys.sort_unstable();
                for key in keys {
                    sqlx::query(LOCK).bind(key).execute(&mut *tx).await?;
                }
            }
            for l in limits {
                let (n, oldest): (i64, i64) = sqlx::query_as(COUNT).bind(action).bind(l.subject).bind(since).fetch_one(&mut *tx).await?;
                if n >= l.max {
                    tx.rollback().await?;
                    return Ok(Err(oldest));
                }
            }
            for l in limits {
                sqlx::query(INSERT).bind(uuid::Uuid::now_v7().to_string()).bind(action).bind(l.subject).bind(now)
                    .execute(&mut *tx).await?;
            }
            sqlx::query(PRUNE).bind(action).bind(since).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(Ok(()))
        }.await)
    }
}
