//! Recorded clicks, and the deterministic shopping activity derived from them.
//!
//! Only clicks are stored. Everything downstream (detail page views, carts, purchases,
//! units, sales, brand halo, Brand Referral Bonus) is recomputed on demand from the
//! seed, the line, the day and "today", which keeps memory small and makes restatement
//! a pure function of the clock.

use std::collections::BTreeMap;
use std::ops::{AddAssign, RangeInclusive};
use std::sync::Arc;

use quiver_domain::{Asin, Bps, Marketplace, format_compact};
use time::Date;

use crate::catalog::Product;
use crate::mix::{self, Stream};

/// Days whose figures still move: the last 28 days up to and including today.
pub const RESTATEMENT_DAYS: i64 = 28;

/// Clicks per line-day beyond which figures stop growing.
pub const MAX_CLICKS: i64 = 1_000_000_000_000;

/// Brand Referral Bonus credited on promoted plus halo sales.
pub const BRB_RATE: Bps = Bps(1000);

/// One tagged URL's identity: everything a click on it is credited to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    pub advertiser_id: String,
    pub campaign_id: String,
    pub ad_group_id: String,
    pub creative_id: String,
    pub publisher: String,
    pub marketplace: Marketplace,
    pub asin: Asin,
}

/// A line's clicks on one day, and the catalog as it was when they were first recorded
/// (so a later catalog change cannot rewrite finished days).
#[derive(Debug, Clone)]
pub struct LineDay {
    pub clicks: u64,
    pub product: Product,
    pub halo: Arc<[(Asin, Product)]>,
}

#[derive(Default)]
pub struct Traffic {
    days: BTreeMap<Date, BTreeMap<LineKey, LineDay>>,
}

impl Traffic {
    /// Adds clicks; `snapshot` supplies the product data the first time a line-day is seen.
    /// Returns the line-day's click total.
    pub fn record(
        &mut self,
        date: Date,
        key: LineKey,
        clicks: u64,
        snapshot: impl FnOnce() -> (Product, Vec<(Asin, Product)>),
    ) -> u64 {
        let day = self.days.entry(date).or_default();
        let line = day.entry(key).or_insert_with(|| {
            let (product, halo) = snapshot();
            LineDay {
                clicks: 0,
                product,
                halo: halo.into(),
            }
        });
        line.clicks = line.clicks.saturating_add(clicks);
        line.clicks
    }

    /// A line-day's clicks so far.
    pub fn clicks(&self, date: Date, key: &LineKey) -> u64 {
        self.days
            .get(&date)
            .and_then(|d| d.get(key))
            .map_or(0, |l| l.clicks)
    }

    /// Line-days in `range`, by date then line.
    pub fn lines(
        &self,
        range: RangeInclusive<Date>,
    ) -> impl Iterator<Item = (Date, &LineKey, &LineDay)> {
        self.days
            .range(range)
            .flat_map(|(date, lines)| lines.iter().map(move |(k, d)| (*date, k, d)))
    }
}

/// One conversion funnel. Money is in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Funnel {
    pub dpv: i64,
    pub atc: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: i64,
    pub ntb_purchases: i64,
    pub ntb_units: i64,
    pub ntb_sales: i64,
}

impl AddAssign for Funnel {
    fn add_assign(&mut self, o: Self) {
        // Saturating: absurd click counts must not crash a report.
        self.dpv = self.dpv.saturating_add(o.dpv);
        self.atc = self.atc.saturating_add(o.atc);
        self.purchases = self.purchases.saturating_add(o.purchases);
        self.units = self.units.saturating_add(o.units);
        self.sales = self.sales.saturating_add(o.sales);
        self.ntb_purchases = self.ntb_purchases.saturating_add(o.ntb_purchases);
        self.ntb_units = self.ntb_units.saturating_add(o.ntb_units);
        self.ntb_sales = self.ntb_sales.saturating_add(o.ntb_sales);
    }
}

/// Everything Amazon reports about one line on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMetrics {
    pub clicks: i64,
    pub promoted: Funnel,
    pub halo: Vec<(Asin, Funnel)>,
    pub brb: i64,
}

impl LineMetrics {
    pub fn halo_total(&self) -> Funnel {
        let mut total = Funnel::default();
        for (_, f) in &self.halo {
            total += *f;
        }
        total
    }
}

/// Conversion rates in per mille, as (low, high) bounds a line draws its rate from.
struct Rates {
    dpv: (i64, i64),
    atc: (i64, i64),
    purchase: (i64, i64),
    extra_units: (i64, i64),
    ntb: (i64, i64),
}

const PROMOTED: Rates = Rates {
    dpv: (550, 900),
    atc: (150, 400),
    purchase: (300, 700),
    extra_units: (0, 400),
    ntb: (350, 750),
};

/// Halo shoppers mostly browse the promoted product, so few reach another ASIN.
const HALO: Rates = Rates {
    dpv: (20, 90),
    atc: (150, 400),
    purchase: (300, 700),
    extra_units: (0, 300),
    ntb: (350, 750),
};

/// How far (per mille) a rate may move while a day is still being restated.
const JITTER: i64 = 40;

/// Draws from the base stream (fixed per line and day) and, while restating, nudges the
/// rate with the jitter stream (which also depends on today). Both streams are consumed
/// identically whatever the values, so every stage stays aligned run after run.
struct Drawer {
    base: Stream,
    jitter: Option<Stream>,
}

impl Drawer {
    /// `n × rate`, with stochastic rounding so small counts still convert sometimes.
    /// Never exceeds `n`.
    fn scale(&mut self, n: i64, (lo, hi): (i64, i64)) -> i64 {
        let mut rate = self.base.range(lo, hi);
        if let Some(j) = self.jitter.as_mut() {
            rate += j.range(-JITTER, JITTER);
        }
        let rate = rate.clamp(0, 1000);
        let fraction = self.base.range(0, 999);
        (n * rate + fraction) / 1000
    }

    fn funnel(&mut self, top: i64, rates: &Rates, price_minor: i64) -> Funnel {
        let dpv = self.scale(top, rates.dpv);
        let atc = self.scale(dpv, rates.atc);
        let purchases = self.scale(atc, rates.purchase);
        let units = purchases + self.scale(purchases, rates.extra_units);
        let ntb_purchases = self.scale(purchases, rates.ntb);
        let ntb_units = ntb_purchases + self.scale(units - purchases, rates.ntb);
        Funnel {
            dpv,
            atc,
            purchases,
            units,
            sales: units.saturating_mul(price_minor),
            ntb_purchases,
            ntb_units,
            ntb_sales: ntb_units.saturating_mul(price_minor),
        }
    }
}

pub fn is_restating(date: Date, today: Date) -> bool {
    (today - date).whole_days() <= RESTATEMENT_DAYS
}

fn line_seed(seed: u64, key: &LineKey, date: Date, extra: &[u8]) -> u64 {
    mix::hash(
        seed,
        &[
            key.advertiser_id.as_bytes(),
            key.ad_group_id.as_bytes(),
            key.campaign_id.as_bytes(),
            key.creative_id.as_bytes(),
            key.marketplace.as_str().as_bytes(),
            key.asin.as_str().as_bytes(),
            format_compact(date).as_bytes(),
            extra,
        ],
    )
}

/// The figures for one line-day as of `today`.
pub fn derive(seed: u64, today: Date, date: Date, key: &LineKey, day: &LineDay) -> LineMetrics {
    // Capped so `n × rate` in `scale` cannot overflow; nobody simulates a trillion clicks.
    let clicks = i64::try_from(day.clicks)
        .unwrap_or(i64::MAX)
        .min(MAX_CLICKS);
    let today_tag = format_compact(today);
    let drawer = |extra: &[u8]| Drawer {
        base: Stream::new(line_seed(seed, key, date, extra)),
        jitter: is_restating(date, today).then(|| {
            Stream::new(line_seed(
                seed,
                key,
                date,
                &[extra, b"@", today_tag.as_bytes()].concat(),
            ))
        }),
    };
    let promoted = drawer(b"promoted").funnel(clicks, &PROMOTED, day.product.price_minor);
    let halo: Vec<(Asin, Funnel)> = day
        .halo
        .iter()
        .map(|(asin, product)| {
            let f = drawer(asin.as_str().as_bytes()).funnel(clicks, &HALO, product.price_minor);
            (asin.clone(), f)
        })
        .collect();
    let halo_sales = halo
        .iter()
        .fold(0i64, |acc, (_, f)| acc.saturating_add(f.sales));
    LineMetrics {
        clicks,
        brb: BRB_RATE.commission_on(promoted.sales.saturating_add(halo_sales)),
        promoted,
        halo,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn key() -> LineKey {
        LineKey {
            advertiser_id: "1".into(),
            campaign_id: "c".into(),
            ad_group_id: "g".into(),
            creative_id: "r".into(),
            publisher: "Quiver".into(),
            marketplace: Marketplace::Us,
            asin: Asin::parse("B000000001").unwrap(),
        }
    }

    fn day(clicks: u64) -> LineDay {
        let p = |price| Product {
            name: "x".into(),
            price_minor: price,
        };
        LineDay {
            clicks,
            product: p(1999),
            halo: vec![(Asin::parse("B000000002").unwrap(), p(500))].into(),
        }
    }

    #[test]
    fn funnel_invariants_hold() {
        for clicks in [0, 1, 2, 7, 50, 1000, 123_456] {
            for offset in 0..40 {
                let d = date!(2026 - 01 - 01) + time::Duration::days(offset);
                let m = derive(42, date!(2026 - 02 - 01), d, &key(), &day(clicks));
                for f in std::iter::once(&m.promoted).chain(m.halo.iter().map(|(_, f)| f)) {
                    assert!(f.dpv <= clicks as i64 && f.atc <= f.dpv && f.purchases <= f.atc);
                    assert!(f.units >= f.purchases && f.ntb_purchases <= f.purchases);
                    assert!(f.ntb_units <= f.units && f.ntb_units >= f.ntb_purchases);
                }
                assert_eq!(m.promoted.sales, m.promoted.units * 1999);
                assert_eq!(
                    m.brb,
                    BRB_RATE.commission_on(m.promoted.sales + m.halo_total().sales)
                );
            }
        }
    }

    #[test]
    fn old_days_are_final_and_recent_days_restate() {
        let old = date!(2026 - 01 - 01);
        let a = derive(42, date!(2026 - 03 - 01), old, &key(), &day(5000));
        let b = derive(42, date!(2026 - 03 - 02), old, &key(), &day(5000));
        assert_eq!(a, b);
        let recent = date!(2026 - 02 - 25);
        let c = derive(42, date!(2026 - 03 - 01), recent, &key(), &day(5000));
        let d = derive(42, date!(2026 - 03 - 02), recent, &key(), &day(5000));
        assert_ne!(c, d);
        // "A little": within the jitter's reach.
        assert!((c.promoted.dpv - d.promoted.dpv).abs() <= 5000 * 2 * JITTER / 1000 + 1);
    }

    #[test]
    fn seed_changes_the_numbers() {
        let d = date!(2026 - 01 - 01);
        let today = date!(2026 - 03 - 01);
        assert_eq!(
            derive(1, today, d, &key(), &day(500)),
            derive(1, today, d, &key(), &day(500))
        );
        assert_ne!(
            derive(1, today, d, &key(), &day(500)),
            derive(2, today, d, &key(), &day(500))
        );
    }
}
