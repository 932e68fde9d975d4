//! Brands' invitations to creators, and the per-creator commission an accepted one sets.

use super::mail_outbox::{NewMail, insert_mail};
use super::text_enum::text_enum;
use super::{Db, StoreResult, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub brand_id: String,
    pub brand_name: String,
    pub email: String,
    pub commission_bps: Option<i32>,
    pub message: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub accepted_by: Option<String>,
    pub revoked_at: Option<i64>,
}

text_enum! {
    /// Where an invitation stands. Not stored: it follows from the row's times.
    pub enum InvitationStatus ("invitation status") {
        Pending = "pending",
        Accepted = "accepted",
        Expired = "expired",
        Revoked = "revoked",
    }
}

impl InvitationRow {
    pub fn status(&self, now: i64) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub brand_id: &'a str,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub commission_bps: Option<u32>,
    pub message: &'a str,
    pub invited_by: Option<&'a str>,
    pub created_at: i64,
    pub expires_at: i64,
}

const SELECT: &str = "SELECT i.id, i.brand_id, b.name AS brand_name, i.email, i.commission_bps, i.message, \
     i.created_at, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at \
     FROM invitations i JOIN brands b ON b.id = i.brand_id";

impl Db {
    /// Stores an invitation and, in the same transaction, the e-mail that carries its
    /// link (when mails are stored).
    pub async fn insert_invitation(
        &self,
        i: &NewInvitation<'_>,
        mail: Option<&NewMail>,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO invitations (id, brand_id, email, token_hash, commission_bps, message, invited_by, created_at, expires_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        write_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            sqlx::query(SQL)
                .bind(i.id).bind(i.brand_id).bind(i.email).bind(i.token_hash)
                .bind(i.commission_bps.map(|b| b as i32)).bind(i.message).bind(i.invited_by)
                .bind(i.created_at).bind(i.expires_at)
                .execute(&mut *tx).await?;
            if let Some(mail) = mail {
                insert_mail!(&mut *tx, mail).await?;
            }
            tx.commit().await
        }.await)?;
        Ok(())
    }

    pub async fn brand_invitations(&self, brand_id: &str) -> StoreResult<Vec<InvitationRow>> {
        let sql = format!("{SELECT} WHERE i.brand_id = $1 ORDER BY i.created_at DESC, i.id DESC");
        Ok(
            read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(brand_id).fetch_all(pool).await)?,
        )
    }

    pub async fn invitation(&self, brand_id: &str, id: &str) -> StoreResult<Option<InvitationRow>> {
        let sql = format!("{SELECT} WHERE i.brand_id = $1 AND i.id = $2");
        Ok(
            read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(brand_id).bind(id).fetch_optional(pool).await)?,
        )
    }

    pub async fn invitation_by_token(&self, hash: &str) -> StoreResult<Option<InvitationRow>> {
        let sql = format!("{SELECT} WHERE i.token_hash = $1");
        Ok(
            read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(hash).fetch_optional(pool).await)?,
        )
    }

    /// Revokes a pending invitation; false when it was no longer pending.
    pub async fn revoke_invitation(&self, brand_id: &str, id: &str, now: i64) -> StoreResult<bool> {
        const SQL: &str = "UPDATE invitations SET revoked_at = $3 \
             WHERE brand_id = $1 AND id = $2 AND revoked_at IS NULL AND accepted_at IS NULL";
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(brand_id).bind(id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks a pending invitation accepted by `account_id`, once: false if another use, a
    /// revocation or its expiry came first.
    pub async fn accept_invitation(
        &self,
        id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE invitations SET accepted_at = $3, accepted_by = $2 \
             WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3";
        let n = write_pool!(self, pool => sqlx::query(SQL).bind(id).bind(account_id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records a brand's commission for one creator from `effective_day` (ISO date) on.
    pub async fn record_creator_commission(
        &self,
        brand_id: &str,
        account_id: &str,
        bps: u32,
        effective_day: &str,
        now: i64,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO creator_commission_rates (brand_id, account_id, effective_day, bps, recorded_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (brand_id, account_id, effective_day) DO UPDATE SET bps = excluded.bps, recorded_at = excluded.recorded_at";
        write_pool!(self, pool => sqlx::query(SQL).bind(brand_id).bind(account_id).bind(effective_day)
            .bind(bps as i32).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The creator's commission history with a brand: (effective day, bps), oldest first.
    pub async fn creator_commissions(
        &self,
        brand_id: &str,
        account_id: &str,
    ) -> StoreResult<Vec<(String, Option<i32>)>> {
        const SQL: &str = "SELECT effective_day, bps FROM creator_commission_rates WHERE brand_id = $1 AND account_id = $2 ORDER BY effective_day";
        Ok(
            read_pool!(self, pool => sqlx::query_as(SQL).bind(brand_id).bind(account_id).fetch_all(pool).await)?,
        )
    }
}
