//! What one account has under way, for the per-account quotas.

use sqlx::FromRow;

use super::sql::Sql;
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

/// `$1` the account, `$2` the lowest link id of the window, `$3` the window's start (ms),
/// `$4` the first whole hour after the start (hours since the epoch), `$5` that hour's
/// start (ms), `$6` a link id bound a minute past it.
///
/// The window's links are those of its first, partial hour, counted from the links (an
/// index range: link ids are UUIDv7, which sort by creation time, and `created_at` makes it
/// exact; the id bound has a minute's slack for the two clock reads that make a link), plus
/// the whole hours after it, summed from the counters kept by triggers (`link_hours`,
/// migration 0026). A creation's check so costs at most an hour of links and 25 counters,
/// not the day's links.
pub(super) const LOAD_SQL: &str = "SELECT \
     (SELECT COUNT(*) FROM bulk_jobs WHERE account_id = $1 AND status <> 'done') AS open_jobs, \
     (SELECT COUNT(*) FROM bulk_items i JOIN bulk_jobs j ON j.id = i.job_id \
         WHERE j.account_id = $1 AND j.status <> 'done' AND i.status = 'pending') AS waiting_items, \
     CAST((SELECT COUNT(*) FROM links WHERE account_id = $1 AND id >= $2 AND id < $6 \
             AND created_at > $3 AND created_at < $5) \
         + (SELECT COALESCE(SUM(links), 0) FROM link_hours WHERE account_id = $1 AND hour >= $4) \
         AS BIGINT) AS recent_links, \
     (SELECT created_at FROM links WHERE account_id = $1 AND id >= $2 AND created_at > $3 \
         ORDER BY id LIMIT 1) AS oldest_recent_link";

const HOUR_MS: i64 = 3_600_000;

/// `LOAD_SQL` bound for the account's window from `since` (ms).
pub(super) fn load_sql(account_id: &str, since: i64) -> Sql {
    let next_hour = since.div_euclid(HOUR_MS) + 1;
    let boundary = next_hour * HOUR_MS;
    let mut sql = Sql::new(LOAD_SQL);
    sql.bind(account_id)
        .bind(lowest_id_since(since))
        .bind(since)
        .bind(next_hour)
        .bind(boundary)
        .bind(lowest_id_since(boundary + 60_000));
    sql
}

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
        let sql = load_sql(account_id, since);
        Ok(read_pool!(self, pool => sql.query_as().fetch_one(pool).await)?)
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
