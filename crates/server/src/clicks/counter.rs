//! Click counters accumulated in memory between flushes, and the repeat window.
//!
//! A flush takes everything counted so far ([`Counter::take`]) and writes it in one
//! transaction; if the write fails the batch is put back ([`Counter::restore`]) so the
//! next flush writes it. A kill -9 loses what was counted since the last flush.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Mutex;

use uuid::Uuid;

use super::classify::{Device, Reason};

pub const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Distinct referrer hosts kept per link and hour; clicks from further hosts are filed
/// under [`OTHER_REFERRER`]. Referrers are whatever clients send, so without a cap one
/// link could be made to grow a row per invented host. Counted per process: with several
/// processes a link-hour may keep up to this many hosts from each.
pub const MAX_REFERRERS: usize = 50;
pub const OTHER_REFERRER: &str = "other";

/// The UTC hour a moment falls in, as the epoch milliseconds of its start.
pub fn hour_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR_MS)
}

/// One counted row's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClickKey {
    pub link_id: Uuid,
    pub hour_start: i64,
    pub device: Device,
    pub referrer: String,
    /// Two upper-case letters, or `None` for `unknown`.
    pub country: Option<[u8; 2]>,
}

impl ClickKey {
    pub fn country_str(&self) -> String {
        self.country.map_or_else(
            || "unknown".to_owned(),
            |c| String::from_utf8_lossy(&c).into_owned(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilteredKey {
    pub link_id: Uuid,
    pub hour_start: i64,
    pub reason: Reason,
}

/// What one flush writes.
#[derive(Debug, Default)]
pub struct Batch {
    pub clicks: HashMap<ClickKey, i64>,
    pub filtered: HashMap<FilteredKey, i64>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.clicks.is_empty() && self.filtered.is_empty()
    }

    pub fn counted(&self) -> i64 {
        self.clicks.values().sum()
    }
}

/// The repeat window's keyed hash: its key is random and replaced every UTC day, so a
/// client's hash cannot be linked from one day to the next, and no address or user agent
/// is kept at all, only the hash and when it was last seen.
struct Repeats {
    day: i64,
    key: RandomState,
    last_seen: HashMap<u64, i64>,
}

pub struct Counter {
    batch: Mutex<Batch>,
    repeats: Mutex<Repeats>,
    /// The referrer hosts seen per (link, hour) this hour and the last, for the cap; kept
    /// across flushes, so the cap holds for the whole hour.
    referrers: Mutex<HashMap<(Uuid, i64), HashSet<String>>>,
    window_ms: i64,
}

impl Counter {
    pub fn new(window_ms: i64) -> Self {
        Self {
            batch: Mutex::new(Batch::default()),
            repeats: Mutex::new(Repeats {
                day: i64::MIN,
                key: RandomState::new(),
                last_seen: HashMap::new(),
            }),
            referrers: Mutex::new(HashMap::new()),
            window_ms,
        }
    }

    /// True when the same client (address and user agent) requested the same link within
    /// the window; either way, this request starts the window anew.
    pub fn is_repeat(&self, link_id: Uuid, client: &str, user_agent: &str, now: i64) -> bool {
        if self.window_ms <= 0 {
            return false;
        }
        let mut r = self
            .repeats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let day = now.div_euclid(DAY_MS);
        if r.day != day {
            r.day = day;
            r.key = RandomState::new();
            r.last_seen.clear();
        }
        let h = r.key.hash_one((link_id.as_u128(), client, user_agent));
        let previous = r.last_seen.insert(h, now);
        previous.is_some_and(|t| now - t < self.window_ms)
    }

    /// Forgets clients last seen longer ago than the window, so the map stays as small as
    /// the traffic of the last window.
    pub fn sweep(&self, now: i64) {
        let mut r = self
            .repeats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = self.window_ms;
        r.last_seen.retain(|_, t| now - *t < window);
        drop(r);
        let previous_hour = hour_start(now) - HOUR_MS;
        self.referrers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(_, hour), _| *hour >= previous_hour);
    }

    /// Counts a click; its referrer becomes `other` once the link has
    /// [`MAX_REFERRERS`] other hosts in the hour.
    pub fn count(&self, mut key: ClickKey) {
        if key.referrer != "direct" {
            let mut seen = self
                .referrers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let hosts = seen.entry((key.link_id, key.hour_start)).or_default();
            if !hosts.contains(&key.referrer) {
                if hosts.len() < MAX_REFERRERS {
                    hosts.insert(key.referrer.clone());
                } else {
                    key.referrer = OTHER_REFERRER.to_owned();
                }
            }
        }
        let mut b = self
            .batch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *b.clicks.entry(key).or_default() += 1;
    }

    pub fn filter(&self, key: FilteredKey) {
        let mut b = self
            .batch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *b.filtered.entry(key).or_default() += 1;
    }

    /// Everything counted since the last take.
    pub fn take(&self) -> Batch {
        let mut b = self
            .batch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *b)
    }

    /// Puts back a batch that could not be written, added to what came in meanwhile.
    pub fn restore(&self, batch: Batch) {
        let mut b = self
            .batch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (k, n) in batch.clicks {
            *b.clicks.entry(k).or_default() += n;
        }
        for (k, n) in batch.filtered {
            *b.filtered.entry(k).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_is_within_the_window_of_the_last_request() {
        let c = Counter::new(30_000);
        let id = Uuid::now_v7();
        let t = 1_000_000_000;
        assert!(!c.is_repeat(id, "1.2.3.4", "ua", t));
        assert!(c.is_repeat(id, "1.2.3.4", "ua", t + 29_999));
        assert!(!c.is_repeat(id, "1.2.3.4", "other ua", t + 29_999));
        assert!(!c.is_repeat(id, "1.2.3.4", "ua", t + 29_999 + 30_000));
        assert!(!c.is_repeat(Uuid::now_v7(), "1.2.3.4", "ua", t));
    }

    #[test]
    fn referrers_past_the_cap_are_other_for_the_rest_of_the_hour() {
        let c = Counter::new(0);
        let id = Uuid::now_v7();
        let key = |host: &str, hour: i64| ClickKey {
            link_id: id,
            hour_start: hour,
            device: Device::Desktop,
            referrer: host.into(),
            country: None,
        };
        for i in 0..MAX_REFERRERS {
            c.count(key(&format!("h{i}.example"), 0));
        }
        // Across a flush the cap still holds; a known host and `direct` stay themselves.
        assert_eq!(c.take().clicks.len(), MAX_REFERRERS);
        c.count(key("late.example", 0));
        c.count(key("h3.example", 0));
        c.count(key("direct", 0));
        c.count(key("late.example", HOUR_MS));
        let b = c.take();
        assert_eq!(b.clicks[&key(OTHER_REFERRER, 0)], 1);
        assert_eq!(b.clicks[&key("h3.example", 0)], 1);
        assert_eq!(b.clicks[&key("direct", 0)], 1);
        assert_eq!(b.clicks[&key("late.example", HOUR_MS)], 1);
        // Sets of hours before the last are forgotten.
        c.sweep(3 * HOUR_MS);
        assert!(c.referrers.lock().unwrap().is_empty());
    }

    #[test]
    fn a_restored_batch_adds_to_new_counts() {
        let c = Counter::new(0);
        let key = ClickKey {
            link_id: Uuid::now_v7(),
            hour_start: 0,
            device: Device::Mobile,
            referrer: "direct".into(),
            country: None,
        };
        c.count(key.clone());
        let b = c.take();
        c.count(key.clone());
        c.restore(b);
        assert_eq!(c.take().clicks[&key], 2);
    }
}
