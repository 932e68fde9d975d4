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
}
