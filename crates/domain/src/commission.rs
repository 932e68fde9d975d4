//! Which commission rate applied on which day. A change takes effect from the next UTC
//! day, so reports for past days never change when a brand edits its rates today.

use std::collections::HashMap;

use time::Date;

use crate::{Bps, Marketplace};

/// One recorded rate: a brand default (`asin` is `None`) or a product override, in force
/// from `effective` until the next change. An override of `None` clears the override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateChange {
    pub asin: Option<String>,
    pub marketplace: Option<Marketplace>,
    pub effective: Date,
    pub bps: Option<u32>,
}

/// A product's overrides, oldest first; `None` clears the override from that day.
type Overrides = Vec<(Date, Option<u32>)>;

/// All changes of one brand, answering "what rate did this product earn on that day".
#[derive(Debug, Clone, Default)]
pub struct RateHistory {
    brand: Vec<(Date, u32)>,
    products: HashMap<(String, Marketplace), Overrides>,
    /// Per-creator terms (from an accepted invitation), by account id; `None` ends them.
    creators: HashMap<String, Overrides>,
}

/// One recorded per-creator rate: the creator's terms with the brand from `effective` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorRateChange {
    pub account_id: String,
    pub effective: Date,
    pub bps: Option<u32>,
}

/// The first day a change made at `now` applies to.
pub fn effective_from(today: Date) -> Date {
    today.next_day().unwrap_or(today)
}

impl RateHistory {
    pub fn new(changes: impl IntoIterator<Item = RateChange>) -> Self {
        let mut h = Self::default();
        for c in changes {
            match (c.asin, c.marketplace) {
                (Some(asin), Some(m)) => h
                    .products
                    .entry((asin, m))
                    .or_default()
                    .push((c.effective, c.bps)),
                _ => {
                    if let Some(bps) = c.bps {
                        h.brand.push((c.effective, bps));
                    }
                }
            }
        }
        h.brand.sort_unstable();
        for v in h.products.values_mut() {
            v.sort_unstable();
        }
        h
    }

    /// Adds the brand's per-creator terms.
    pub fn with_creators(mut self, changes: impl IntoIterator<Item = CreatorRateChange>) -> Self {
        for c in changes {
            self.creators
                .entry(c.account_id)
                .or_default()
                .push((c.effective, c.bps));
        }
        for v in self.creators.values_mut() {
            v.sort_unstable();
        }
        self
    }

    fn latest<T: Copy>(entries: &[(Date, T)], day: Date) -> Option<T> {
        let idx = entries.partition_point(|(d, _)| *d <= day);
        idx.checked_sub(1).map(|i| entries[i].1)
    }

    /// The rate in force on `day`: the product override, else the brand default, else 0.
    pub fn rate_on(&self, asin: &str, marketplace: Marketplace, day: Date) -> Bps {
        let product = self
            .products
            .get(&(asin.to_owned(), marketplace))
            .and_then(|v| Self::latest(v, day))
            .flatten();
        Bps(product
            .or_else(|| Self::latest(&self.brand, day))
            .unwrap_or(0))
    }

    /// The rate `account` earned on `day`: its own terms with the brand when they are in
    /// force (they were agreed with that person, so they apply to every product of the
    /// brand, overrides included), else [`Self::rate_on`].
    pub fn rate_for(&self, account: &str, asin: &str, marketplace: Marketplace, day: Date) -> Bps {
        self.creators
            .get(account)
            .and_then(|v| Self::latest(v, day))
            .flatten()
            .map_or_else(|| self.rate_on(asin, marketplace, day), Bps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn rates_follow_their_effective_days() {
        let change = |asin: Option<&str>, effective, bps| RateChange {
            asin: asin.map(str::to_owned),
            marketplace: asin.map(|_| Marketplace::Us),
            effective,
            bps,
        };
        let h = RateHistory::new([
            change(None, date!(1970 - 01 - 01), Some(1000)),
            change(None, date!(2026 - 03 - 01), Some(1200)),
            change(Some("A"), date!(2026 - 02 - 01), Some(2000)),
            change(Some("A"), date!(2026 - 04 - 01), None),
        ]);
        assert_eq!(
            h.rate_on("B", Marketplace::Us, date!(2026 - 02 - 28)),
            Bps(1000)
        );
        assert_eq!(
            h.rate_on("B", Marketplace::Us, date!(2026 - 03 - 01)),
            Bps(1200)
        );
        assert_eq!(
            h.rate_on("A", Marketplace::Us, date!(2026 - 01 - 31)),
            Bps(1000)
        );
        assert_eq!(
            h.rate_on("A", Marketplace::Us, date!(2026 - 02 - 01)),
            Bps(2000)
        );
        assert_eq!(
            h.rate_on("A", Marketplace::De, date!(2026 - 02 - 01)),
            Bps(1000)
        );
        assert_eq!(
            h.rate_on("A", Marketplace::Us, date!(2026 - 04 - 01)),
            Bps(1200),
            "cleared override"
        );
        assert_eq!(
            RateHistory::default().rate_on("A", Marketplace::Us, date!(2026 - 04 - 01)),
            Bps(0)
        );
        assert_eq!(effective_from(date!(2026 - 12 - 31)), date!(2027 - 01 - 01));
    }

    #[test]
    fn a_creators_terms_apply_from_their_day_to_every_product_until_ended() {
        let h = RateHistory::new([
            RateChange {
                asin: None,
                marketplace: None,
                effective: date!(1970 - 01 - 01),
                bps: Some(1000),
            },
            RateChange {
                asin: Some("A".into()),
                marketplace: Some(Marketplace::Us),
                effective: date!(1970 - 01 - 01),
                bps: Some(1250),
            },
        ])
        .with_creators([
            CreatorRateChange {
                account_id: "c".into(),
                effective: date!(2026 - 05 - 02),
                bps: Some(1200),
            },
            CreatorRateChange {
                account_id: "c".into(),
                effective: date!(2026 - 06 - 01),
                bps: None,
            },
        ]);
        let rate = |acc: &str, asin: &str, day| h.rate_for(acc, asin, Marketplace::Us, day);
        assert_eq!(
            rate("c", "B", date!(2026 - 05 - 01)),
            Bps(1000),
            "the day before"
        );
        assert_eq!(rate("c", "B", date!(2026 - 05 - 02)), Bps(1200));
        assert_eq!(rate("c", "A", date!(2026 - 05 - 02)), Bps(1200));
        assert_eq!(rate("other", "B", date!(2026 - 05 - 02)), Bps(1000));
        assert_eq!(rate("other", "A", date!(2026 - 05 - 02)), Bps(1250));
        assert_eq!(
            rate("c", "A", date!(2026 - 06 - 01)),
            Bps(1250),
            "terms ended"
        );
    }
}
