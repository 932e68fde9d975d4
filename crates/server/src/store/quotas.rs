//! What one account has under way, for the per-account quotas.

use sqlx::FromRow;

use super::{Db, StoreResult, read_pool};

/// One account's bulk work and recent links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct AccountLoad {
    /// Bulk jobs queued or running.
    pub open_jobs: i64,
    /// Items of those jobs still waiting for their link.
    pub waiting_items: i64,
    /// Links created since the window's start.
    pub recent_links: i64,
    /// When the oldest of those was created (ms), if any.
    pub oldest_recent_link: Option<i64>,
}

/// `$1` the account, `$2` the lowest link id of the window, `$3` the window's start (ms).
/// Link ids are UUIDv7, which sort by creation time, so `id >= $2` keeps the count to an
/// index range of the account's recent links instead of all of them; `created_at` then
/// makes it exact.
pub(super) const LOAD_SQL: &str = "SELECT \
     (SELECT COUNT(*) FROM bulk_jobs WHERE account_id = $1 AND status <> 'done') AS open_jobs, \
     (SELECT COUNT(*) FROM bulk_items i JOIN bulk_jobs j ON j.id = i.job_id \
         WHERE j.account_id = $1 AND j.status <> 'done' AND i.status = 'pending') AS waiting_items, \
     (SELECT COUNT(*) FROM links WHERE account_id = $1 AND id >= $2 AND created_at > $3) AS recent_links, \
     (SELECT MIN(created_at) FROM links WHERE account_id = $1 AND id >= $2 AND created_at > $3) \
         AS oldest_recent_link";

/// Serialises quota checks of one account on PostgreSQL; it does not block link inserts,
/// whose foreign key takes only a key-share lock. (SQLite has a single writer already.)
pub(super) const LOCK_ACCOUNT_PG: &str = "SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE";

/// The smallest UUIDv7 text of a millisecond: a bound below every id created from then on.
pub(super) fn lowest_id_since(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0).to_be_bytes();
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms[2..]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

impl Db {
    /// The account's open bulk work, and its links created after `since` (ms).
    pub async fn account_load(&self, account_id: &str, since: i64) -> StoreResult<AccountLoad> {
        let lowest = lowest_id_since(since);
        Ok(read_pool!(self, pool => sqlx::query_as(LOAD_SQL)
            .bind(account_id).bind(&lowest).bind(since)
            .fetch_one(pool).await)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_id_sorts_below_later_ids_and_above_earlier_ones() {
        let ms = 1_760_000_000_123_i64;
        let at = |ms: i64| {
            let ts = uuid::Timestamp::from_unix(
                uuid::NoContext,
                (ms / 1000) as u64,
                ((ms % 1000) * 1_000_000) as u32,
            );
            uuid::Uuid::new_v7(ts).to_string()
        };
        let bound = lowest_id_since(ms);
        assert!(at(ms) >= bound && at(ms + 1) > bound, "{bound}");
        assert!(at(ms - 1) < bound, "{bound}");
    }
}
