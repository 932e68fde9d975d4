//! Accounts and the login-failure log that throttling counts.

use quiver_domain::AccountKind;

use sha2::{Digest, Sha256};

use super::sql::Sql;
use super::{Db, Engine, StoreError, StoreResult, read_pool, write_pool};

/// Advisory-lock key spaces (PostgreSQL's two-key form) for login attempts.
const LOCK_USERNAME: i32 = 0x5155_0001;
const LOCK_CLIENT: i32 = 0x5155_0002;

fn lock_key(s: &str) -> i32 {
    let d = Sha256::digest(s.as_bytes());
    i32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub public_id: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub kind: AccountKind,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: i64,
    /// False for a self-service account until its address is verified.
    pub email_verified: bool,
    pub disabled_at: Option<i64>,
}

pub struct NewAccount<'a> {
    pub id: &'a str,
    pub public_id: &'a str,
    pub email: &'a str,
    pub kind: AccountKind,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub created_at: i64,
}

const COLUMNS: &str = "id, public_id, email, kind, display_name, password_hash, created_at, email_verified, disabled_at";

impl AccountRow {
    /// The account whose `col` is `value`.
    fn select(col: &str, value: &str) -> Sql {
        let mut sql = Sql::new("SELECT ");
        sql.push(COLUMNS)
            .push(" FROM accounts WHERE ")
            .push(col)
            .push(" = ")
            .arg(value);
        sql
    }
}

impl Db {
    pub async fn insert_account(&self, a: &NewAccount<'_>) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO accounts (id, public_id, email, kind, display_name, password_hash, created_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7)";
        write_pool!(self, pool => sqlx::query(SQL)
            .bind(a.id)
            .bind(a.public_id)
            .bind(a.email)
            .bind(a.kind.as_str())
            .bind(a.display_name)
            .bind(a.password_hash)
            .bind(a.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    pub async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
        self.account_where("email", email).await
    }

    pub async fn account_by_id(&self, id: &str) -> StoreResult<Option<AccountRow>> {
        self.account_where("id", id).await
    }

    pub async fn account_by_public_id(&self, public_id: &str) -> StoreResult<Option<AccountRow>> {
        self.account_where("public_id", public_id).await
    }

    async fn account_where(&self, col: &str, value: &str) -> StoreResult<Option<AccountRow>> {
        let sql = AccountRow::select(col, value);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Account ids of the given public (creator) ids; unknown ones are left out.
    pub async fn account_ids_by_public_ids(
        &self,
        public_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        if public_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT id FROM accounts WHERE 1 = 1");
        sql.and_in("public_id", public_ids);
        Ok(read_pool!(self, pool => sql.query_scalar().fetch_all(pool).await)?)
    }

    pub async fn count_accounts(&self) -> StoreResult<i64> {
        Ok(
            read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(pool).await)?,
        )
    }

    /// Counts a login attempt as a failure before its password is checked, atomically
    /// with counting the failures before it: concurrent attempts each see the ones ahead
    /// of them, so no more than the limits ever reach the check. Over a limit nothing is
    /// recorded and the counts (this attempt included) come back; within them the
    /// reserved row's id does, for [`Db::release_login_attempt`] or the clear on success.
    pub async fn reserve_login_attempt(
        &self,
        a: &LoginAttempt<'_>,
    ) -> StoreResult<Result<i64, LoginFailures>> {
        const INSERT: &str =
            "INSERT INTO login_failures (username, client_ip, at) VALUES ($1, $2, $3) RETURNING id";
        const COUNT: &str = "SELECT \
             (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $3), \
             (SELECT COALESCE(MIN(at), 0) FROM login_failures WHERE username = $1 AND at > $3), \
             (SELECT COUNT(*) FROM login_failures WHERE client_ip = $2 AND at > $3), \
             (SELECT COALESCE(MIN(at), 0) FROM login_failures WHERE client_ip = $2 AND at > $3)";
        // SQLite holds its one write lock from the INSERT to the commit. PostgreSQL's read
        // committed would let two transactions miss each other's row, so they queue on
        // advisory locks for the username and the address, always taken in that order.
        const LOCK: &str = "SELECT pg_advisory_xact_lock($1, $2)";
        let postgres = self.engine() == Engine::Postgres;
        write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            if postgres {
                for (space, key) in [(LOCK_USERNAME, a.username), (LOCK_CLIENT, a.client_ip)] {
                    sqlx::query(LOCK).bind(space).bind(lock_key(key)).execute(&mut *tx).await?;
                }
            }
            let id: i64 = sqlx::query_scalar(INSERT)
                .bind(a.username).bind(a.client_ip).bind(a.at)
                .fetch_one(&mut *tx).await?;
            let (by_user, oldest_user, by_ip, oldest_ip): (i64, i64, i64, i64) = sqlx::query_as(COUNT)
                .bind(a.username).bind(a.client_ip).bind(a.since)
                .fetch_one(&mut *tx).await?;
            if by_user > a.max_by_user || by_ip > a.max_by_ip {
                tx.rollback().await?;
                return Ok(Err(LoginFailures { by_user, oldest_user, by_ip, oldest_ip }));
            }
            tx.commit().await?;
            Ok::<_, StoreError>(Ok(id))
        }.await)
    }

    /// Takes back a reserved attempt that never reached the password check.
    pub async fn release_login_attempt(&self, id: i64) -> StoreResult<()> {
        const SQL: &str = "DELETE FROM login_failures WHERE id = $1";
        write_pool!(self, pool => sqlx::query(SQL).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn record_login_failure(
        &self,
        username: &str,
        client_ip: &str,
        at: i64,
    ) -> StoreResult<()> {
        const SQL: &str =
            "INSERT INTO login_failures (username, client_ip, at) VALUES ($1, $2, $3)";
        write_pool!(self, pool => sqlx::query(SQL).bind(username).bind(client_ip).bind(at).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A success clears this username's failures from this address only: another address
    /// guessing the same account keeps its count.
    pub async fn clear_login_failures(&self, username: &str, client_ip: &str) -> StoreResult<()> {
        const SQL: &str = "DELETE FROM login_failures WHERE username = $1 AND client_ip = $2";
        write_pool!(self, pool => sqlx::query(SQL).bind(username).bind(client_ip).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every failure of `username`, from any address: an operator unlocking the account.
    pub async fn clear_all_login_failures(&self, username: &str) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM login_failures WHERE username = $1";
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(username).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    pub async fn prune_login_failures(&self, before: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM login_failures WHERE at <= $1";
        let r = write_pool!(self, pool => sqlx::query(SQL).bind(before).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(r)
    }
}

/// One login attempt and the limits it must stay within, failures counted after `since`.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub client_ip: &'a str,
    pub at: i64,
    pub since: i64,
    pub max_by_user: i64,
    pub max_by_ip: i64,
}

/// Failures in the window, this username's and this address's, with the oldest of each.
#[derive(Debug, Clone, Copy)]
pub struct LoginFailures {
    pub by_user: i64,
    pub oldest_user: i64,
    pub by_ip: i64,
    pub oldest_ip: i64,
}
