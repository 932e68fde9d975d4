//! The demo's brands and their catalog: ids, program modes, Amazon ids, products and
//! local prices, which the seed writes and the simulator is told about.

use quiver_domain::{Asin, Marketplace, ProgramMode, Region};

use super::{CONNECT_BRAND, EXAMPLE_ASIN};

pub(super) struct DemoBrand {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) mode: ProgramMode,
    pub(super) commission_bps: u32,
    /// Profile and advertiser ids in Amazon Attribution, used with the platform's
    /// credentials; empty for the brand that connects its own account.
    pub(super) amazon: &'static [(Region, &'static str, &'static str)],
    /// Owned by the second demo seller.
    pub(super) second_seller: bool,
    pub(super) marketplaces: &'static [Marketplace],
    /// (ASIN, title, USD price in cents, category)
    pub(super) products: &'static [(&'static str, &'static str, i64, &'static str)],
}

use Marketplace::*;

pub(super) const BRANDS: [DemoBrand; 4] = [
    DemoBrand {
        id: "northwind",
        name: "Northwind Outdoor",
        mode: ProgramMode::Open,
        commission_bps: 1200,
        amazon: &[
            (Region::Na, "3000000001", "4000000001"),
            (Region::Eu, "3000000002", "4000000002"),
        ],
        second_seller: false,
        marketplaces: &[Us, Ca, Mx, Uk, De, Fr, It, Es, Nl],
        products: &[
            (
                EXAMPLE_ASIN,
                "Northwind Trail Backpack 30L",
                8999,
                "Sports & Outdoors",
            ),
            (
                "B0NWTENT02",
                "Northwind Ultralight Tent, 2 Person",
                24900,
                "Sports & Outdoors",
            ),
            (
                "B0NWBOTL03",
                "Northwind Insulated Bottle 750ml",
                2999,
                "Sports & Outdoors",
            ),
            (
                "B0NWLAMP04",
                "Northwind Rechargeable Head Lamp",
                3499,
                "Sports & Outdoors",
            ),
        ],
    },
    DemoBrand {
        id: "lumen-home",
        name: "Lumen Home",
        mode: ProgramMode::Approval,
        commission_bps: 1500,
        amazon: &[
            (Region::Na, "3000000011", "4000000011"),
            (Region::Eu, "3000000012", "4000000012"),
        ],
        second_seller: false,
        marketplaces: &[Us, Ca, Uk, De, Fr],
        products: &[
            (
                "B0LMDESK01",
                "Lumen Smart Desk Lamp",
                5999,
                "Home & Kitchen",
            ),
            (
                "B0LMSTRP02",
                "Lumen LED Light Strip 5m",
                3999,
                "Home & Kitchen",
            ),
            (
                "B0LMBULB03",
                "Lumen Smart Bulb, 4 Pack",
                4499,
                "Home & Kitchen",
            ),
        ],
    },
    DemoBrand {
        id: "peak-audio",
        name: "Peak Audio",
        mode: ProgramMode::Open,
        commission_bps: 1000,
        amazon: &[
            (Region::Na, "3000000021", "4000000021"),
            (Region::Eu, "3000000022", "4000000022"),
        ],
        second_seller: false,
        marketplaces: &[Us, Mx, It, Es],
        products: &[
            (
                "B0PKBUDS01",
                "Peak Wireless Earbuds Pro",
                12999,
                "Electronics",
            ),
            ("B0PKSPKR02", "Peak Portable Speaker", 7999, "Electronics"),
            ("B0PKHDPH03", "Peak Studio Headphones", 19999, "Electronics"),
        ],
    },
    // No Amazon ids: its seller connects it through Login with Amazon (#18).
    DemoBrand {
        id: CONNECT_BRAND,
        name: "Fjordline Outdoor",
        mode: ProgramMode::Open,
        commission_bps: 1100,
        amazon: &[],
        second_seller: true,
        marketplaces: &[Us, Ca],
        products: &[
            (
                "B0FJPACK01",
                "Fjordline Day Pack 22L",
                6999,
                "Sports & Outdoors",
            ),
            (
                "B0FJJACK02",
                "Fjordline Rain Shell Jacket",
                14999,
                "Sports & Outdoors",
            ),
        ],
    },
];

/// Local price from the USD price: a fixed, rounded conversion so every machine agrees.
pub(super) fn local_price(usd_cents: i64, m: Marketplace) -> i64 {
    let (num, den) = match m {
        Us => (1, 1),
        Ca => (135, 100),
        Mx => (17, 1),
        Uk => (80, 100),
        _ => (92, 100),
    };
    // Round to .99 endings as shops do.
    let raw = usd_cents * num / den;
    (raw / 100) * 100 + 99
}

/// One product as the simulator's catalog knows it.
pub(super) type CatalogEntry = (Marketplace, Asin, amazon_sim::catalog::Product);

/// The demo catalog per advertiser (names and local prices), so the simulator's sales and
/// brand-halo purchases use real products.
pub(super) fn catalog() -> Vec<(&'static str, Vec<CatalogEntry>)> {
    let mut out = Vec::new();
    for b in &BRANDS {
        for &(region, _profile, advertiser) in b.amazon {
            let products: Vec<_> = b
                .products
                .iter()
                .flat_map(|(asin, title, usd, _)| {
                    b.marketplaces
                        .iter()
                        .filter(move |m| m.region() == region)
                        .filter_map(move |m| {
                            let asin = Asin::parse(asin).ok()?;
                            let product = amazon_sim::catalog::Product {
                                name: (*title).to_owned(),
                                price_minor: local_price(*usd, *m),
                            };
                            Some((*m, asin, product))
                        })
                })
                .collect();
            out.push((advertiser, products));
        }
    }
    out
}

/// Tells an in-process simulator the demo catalog directly, as `seed_history` does over
/// HTTP (tests that record their own visits).
pub fn register_catalog(sim: &amazon_sim::SimHandle) {
    for (advertiser, products) in catalog() {
        sim.register_products(advertiser, products);
    }
}

/// The demo brands' Amazon advertiser ids, every region.
pub fn advertiser_ids() -> Vec<&'static str> {
    BRANDS
        .iter()
        .flat_map(|b| b.amazon.iter().map(|(_, _, a)| *a))
        .collect()
}
