//! Per-account quotas: bulk jobs open at once, bulk items waiting, links per 24 hours
//! (`QUIVER_QUOTA_*`). Beyond one: 429 `quota_exceeded`, with `Retry-After` where a wait
//! is enough (the daily window moves on); for the bulk limits the wait is for the
//! account's own jobs to progress, which the detail says.

use std::time::Duration;

use crate::config::Quotas;
use crate::store::quotas::AccountLoad;

/// The links-per-day window, in milliseconds.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// An account beyond one of its quotas; `error.rs` answers it as 429 `quota_exceeded`.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct QuotaError {
    pub detail: String,
    /// When waiting is enough (the daily window moves on).
    pub retry_after: Option<Duration>,
}

fn exceeded(detail: String, retry_after: Option<Duration>) -> QuotaError {
    QuotaError {
        detail,
        retry_after,
    }
}

/// Until the oldest link of the window leaves it.
fn window_wait(load: &AccountLoad, now: i64) -> Option<Duration> {
    let oldest = load.oldest_recent_link?;
    Some(Duration::from_millis(
        u64::try_from(oldest + DAY_MS - now).unwrap_or(0),
    ))
}

fn daily(q: &Quotas, load: &AccountLoad, adding: i64, now: i64) -> Result<(), QuotaError> {
    let limit = i64::from(q.quota_links_per_day);
    let used = load.recent_links + load.waiting_items;
    if limit == 0 || used + adding <= limit {
        return Ok(());
    }
    let detail = format!(
        "Quota exceeded: at most {limit} links per 24 hours; this account has created {} \
         and has {} waiting in bulk jobs, so {} more would be over the limit",
        load.recent_links, load.waiting_items, adding
    );
    // A request larger than the whole quota never fits: waiting would not help.
    let wait = (adding <= limit).then(|| window_wait(load, now)).flatten();
    Err(exceeded(detail, wait))
}

/// One more link now.
pub fn admit_link(q: &Quotas, load: &AccountLoad, now: i64) -> Result<(), QuotaError> {
    daily(q, load, 1, now)
}

/// A bulk job of `new_items` items that will need a link (error rows need none).
pub fn admit_bulk(
    q: &Quotas,
    load: &AccountLoad,
    new_items: i64,
    now: i64,
) -> Result<(), QuotaError> {
    let jobs = i64::from(q.quota_bulk_jobs);
    if jobs > 0 && load.open_jobs >= jobs {
        return Err(exceeded(
            format!(
                "Quota exceeded: this account already has {} bulk jobs queued or running \
                 (the limit is {jobs}); submit again when one is done",
                load.open_jobs
            ),
            None,
        ));
    }
    let items = i64::from(q.quota_bulk_items);
    if items > 0 && load.waiting_items + new_items > items {
        return Err(exceeded(
            format!(
                "Quota exceeded: at most {items} bulk items may wait at once; this account \
                 has {} waiting, and this job would add {new_items}",
                load.waiting_items
            ),
            None,
        ));
    }
    daily(q, load, new_items, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Quotas = Quotas {
        quota_bulk_jobs: 2,
        quota_bulk_items: 100,
        quota_links_per_day: 150,
    };

    fn load(open_jobs: i64, waiting_items: i64, recent_links: i64) -> AccountLoad {
        AccountLoad {
            open_jobs,
            waiting_items,
            recent_links,
            oldest_recent_link: (recent_links > 0).then_some(1_000),
        }
    }

    fn retry_after(r: Result<(), QuotaError>) -> Option<Duration> {
        match r {
            Err(QuotaError { retry_after, .. }) => retry_after,
            Ok(()) => panic!("admitted"),
        }
    }

    #[test]
    fn each_limit_refuses_only_beyond_itself() {
        assert!(admit_bulk(&Q, &load(1, 60, 0), 40, 0).is_ok());
        assert!(admit_bulk(&Q, &load(2, 0, 0), 1, 0).is_err(), "jobs");
        assert!(admit_bulk(&Q, &load(1, 60, 0), 41, 0).is_err(), "items");
        assert!(admit_bulk(&Q, &load(0, 0, 100), 50, 0).is_ok());
        assert!(admit_bulk(&Q, &load(0, 0, 101), 50, 0).is_err(), "per day");
        assert!(admit_link(&Q, &load(0, 10, 139), 0).is_ok());
        assert!(admit_link(&Q, &load(0, 10, 140), 0).is_err());
        let off = Quotas {
            quota_bulk_jobs: 0,
            quota_bulk_items: 0,
            quota_links_per_day: 0,
        };
        assert!(admit_bulk(&off, &load(99, 99_999, 99_999), 5_000, 0).is_ok());
    }

    #[test]
    fn the_daily_limit_says_when_the_window_frees_a_link() {
        let now = 1_000 + DAY_MS - 90_000;
        assert_eq!(
            retry_after(admit_link(&Q, &load(0, 0, 150), now)),
            Some(Duration::from_secs(90))
        );
        // More than the whole quota at once: no wait would help.
        assert_eq!(retry_after(admit_bulk(&Q, &load(0, 0, 1), 151, now)), None);
        assert_eq!(retry_after(admit_bulk(&Q, &load(2, 0, 0), 1, now)), None);
    }
}
