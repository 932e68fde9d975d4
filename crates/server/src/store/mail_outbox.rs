//! The outbox of account e-mails (issue #17): sealed mails waiting for the `account_mail`
//! job, claimed with a lease so several processes on one database never send one twice at
//! once, with the retry schedule kept in the row so it survives a restart.

use super::text_enum::text_enum;
use super::{Db, StoreResult, read_pool, write_pool};

text_enum! {
    /// Where a queued mail stands (a sent one is deleted).
    pub enum MailStatus ("mail status") {
        /// Waiting for its first or next attempt.
        Pending = "pending",
        /// Given up on: kept for the operator.
        Failed = "failed",
    }
}

/// A mail to store: its body already sealed by the caller (the store never sees it open).
#[derive(Debug, Clone)]
pub struct NewMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub sealed: String,
    pub created_at: i64,
}

/// A mail this process holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub sealed: String,
    pub attempts: i32,
}

/// One stored mail, as `quiver admin` and the tests see it (the body stays sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    #[sqlx(try_from = "String")]
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
}

/// A failed attempt: when to try again, or `None` to give up.
#[derive(Debug, Clone)]
pub struct MailFailure<'a> {
    pub error: &'a str,
    pub next_attempt_at: Option<i64>,
    pub at: i64,
}

/// The insert, for the stores that queue a mail inside their own transaction.
pub(super) const INSERT: &str = "INSERT INTO mail_outbox (id, kind, recipient, sealed, status, attempts, \
     next_attempt_at, last_error, lease_owner, lease_until, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, NULL, 0, $5, $5)";

/// Queues `$mail` (a `&NewMail`) on the executor `$exec` (a transaction, usually).
macro_rules! insert_mail {
    ($exec:expr, $mail:expr) => {{
        let m: &$crate::store::mail_outbox::NewMail = $mail;
        sqlx::query($crate::store::mail_outbox::INSERT)
            .bind(&m.id)
            .bind(&m.kind)
            .bind(&m.recipient)
            .bind(&m.sealed)
            .bind(m.created_at)
            .execute($exec)
    }};
}
pub(super) use insert_mail;

impl Db {
    /// Queues a mail on its own (the change that caused it is already committed).
    pub async fn insert_mail(&self, mail: &NewMail) -> StoreResult<()> {
        write_pool!(self, pool => insert_mail!(pool, mail).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Leases up to `limit` due mails to `owner` until `lease_until`, oldest first. On
    /// PostgreSQL rows another process is claiming are skipped (`SKIP LOCKED`), and the
    /// outer condition is checked again on the locked row, so two claims never both win;
    /// SQLite has one writer at a time.
    pub async fn claim_mails(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedMail>> {
        let lock = match self {
            Db::Sqlite { .. } => "",
            Db::Postgres(..) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE mail_outbox SET lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'pending' \
             AND next_attempt_at <= $3 AND lease_until < $3 \
             ORDER BY next_attempt_at, created_at, id LIMIT $4{lock}) \
             AND status = 'pending' AND lease_until < $3 \
             RETURNING id, kind, recipient, sealed, attempts"
        );
        let mut claimed: Vec<ClaimedMail> = write_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(owner).bind(lease_until).bind(now).bind(limit).fetch_all(pool).await)?;
        // RETURNING keeps no order: send the oldest first.
        claimed.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(claimed)
    }

    /// A mail `owner` holds was sent: its row (and the link in it) goes. False when the
    /// lease was lost meanwhile.
    pub async fn mail_sent(&self, owner: &str, id: &str) -> StoreResult<bool> {
        const SQL: &str = "DELETE FROM mail_outbox WHERE id = $1 AND lease_owner = $2";
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(owner).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records a failed attempt of a mail `owner` holds and releases it: pending again
    /// until `next_attempt_at`, or failed for good without one.
    pub async fn mail_failed(
        &self,
        owner: &str,
        id: &str,
        f: &MailFailure<'_>,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE mail_outbox SET status = $3, attempts = attempts + 1, \
             next_attempt_at = $4, last_error = $5, lease_owner = NULL, lease_until = 0, updated_at = $6 \
             WHERE id = $1 AND lease_owner = $2";
        let status = match f.next_attempt_at {
            Some(_) => MailStatus::Pending,
            None => MailStatus::Failed,
        };
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(owner).bind(status.as_str())
            .bind(f.next_attempt_at).bind(f.error).bind(f.at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Gives a lease back untried (the job is stopping).
    pub async fn release_mail(&self, owner: &str, id: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE mail_outbox SET lease_owner = NULL, lease_until = 0 \
             WHERE id = $1 AND lease_owner = $2";
        write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(owner).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every stored mail, oldest first.
    pub async fn mails(&self) -> StoreResult<Vec<MailRow>> {
        const SQL: &str = "SELECT id, kind, recipient, status, attempts, next_attempt_at, last_error \
             FROM mail_outbox ORDER BY created_at, id";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?)
    }
}

/// The associated data a mail's body is sealed with: its row and recipient, so a body
/// copied onto another row (or addressed to someone else) does not open.
pub fn aad(id: &str, recipient: &str) -> Vec<u8> {
    format!("account-mail:{id}:{recipient}").into_bytes()
}
