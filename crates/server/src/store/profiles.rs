//! Creators' public profiles (#15): the pitch and channels a creator shows brands, next
//! to the display name kept on the account.

use crate::store::sql::Sql;
use crate::store::{BeginWrite, Db, StoreError, StoreResult, read_pool, write_pool};

/// A publisher's profile; `pitch` is empty and `channels_json` is `[]` until they save one.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProfileRow {
    pub account_id: String,
    pub public_id: String,
    pub display_name: String,
    pub pitch: String,
    pub channels_json: String,
    pub updated_at: Option<i64>,
}

const SELECT: &str = "SELECT a.id AS account_id, a.public_id, a.display_name, \
     COALESCE(p.pitch, '') AS pitch, COALESCE(p.channels_json, '[]') AS channels_json, p.updated_at \
     FROM accounts a LEFT JOIN creator_profiles p ON p.account_id = a.id \
     WHERE a.kind = 'publisher' AND a.disabled_at IS NULL";

/// What a creator saves; `display_name` is left alone when `None`.
pub struct ProfileUpdate<'a> {
    pub display_name: Option<&'a str>,
    pub pitch: &'a str,
    pub channels_json: &'a str,
}

impl Db {
    /// The profile of the publisher with this account id.
    pub async fn profile_of_account(&self, account_id: &str) -> StoreResult<Option<ProfileRow>> {
        let mut sql = Sql::new(SELECT);
        sql.push(" AND a.id = ").arg(account_id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// The profile of the (enabled) publisher with this public affiliate id.
    pub async fn profile_by_public_id(&self, public_id: &str) -> StoreResult<Option<ProfileRow>> {
        let mut sql = Sql::new(SELECT);
        sql.push(" AND a.public_id = ").arg(public_id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Saves a profile and, when given, the display name, in one transaction.
    pub async fn save_profile(
        &self,
        account_id: &str,
        update: &ProfileUpdate<'_>,
        now: i64,
    ) -> StoreResult<()> {
        const NAME: &str = "UPDATE accounts SET display_name = $2 WHERE id = $1";
        const UPSERT: &str = "INSERT INTO creator_profiles (account_id, pitch, channels_json, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET \
             pitch = excluded.pitch, channels_json = excluded.channels_json, updated_at = excluded.updated_at";
        let result: Result<(), sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            if let Some(name) = update.display_name {
                sqlx::query(NAME).bind(account_id).bind(name).execute(&mut *tx).await?;
            }
            sqlx::query(UPSERT)
                .bind(account_id).bind(update.pitch).bind(update.channels_json).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await
        }.await);
        result.map_err(StoreError::from_write)
    }
}
