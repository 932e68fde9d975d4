//! Products the simulator knows per advertiser: prices for realistic sales, and the
//! brand's other ASINs that brand-halo purchases land on.

use std::collections::{BTreeMap, HashMap};

use quiver_domain::{Asin, Marketplace};

use crate::mix;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub price_minor: i64,
}

#[derive(Default)]
pub struct Catalog {
    by_advertiser: HashMap<String, BTreeMap<(Marketplace, Asin), Product>>,
}

/// At most this many other ASINs share an ad group's brand-halo purchases: enough to be
/// realistic, few enough that a large catalog costs nothing per report.
pub const MAX_HALO_ASINS: usize = 3;

impl Catalog {
    /// Adds or replaces products; returns how many the advertiser now has.
    pub fn register(
        &mut self,
        advertiser_id: &str,
        products: impl IntoIterator<Item = (Marketplace, Asin, Product)>,
    ) -> usize {
        let entry = self
            .by_advertiser
            .entry(advertiser_id.to_owned())
            .or_default();
        for (marketplace, asin, product) in products {
            entry.insert((marketplace, asin), product);
        }
        entry.len()
    }

    pub fn get(
        &self,
        advertiser_id: &str,
        marketplace: Marketplace,
        asin: &Asin,
    ) -> Option<&Product> {
        self.by_advertiser
            .get(advertiser_id)?
            .get(&(marketplace, asin.clone()))
    }

    /// The brand's other ASINs in `marketplace` that an ad group's halo purchases go to,
    /// chosen by a seeded ranking so each ad group has its own favourites.
    pub fn halo_candidates(
        &self,
        seed: u64,
        advertiser_id: &str,
        ad_group_id: &str,
        marketplace: Marketplace,
        promoted: &Asin,
    ) -> Vec<(Asin, Product)> {
        let Some(products) = self.by_advertiser.get(advertiser_id) else {
            return Vec::new();
        };
        let mut ranked: Vec<(u64, &Asin, &Product)> = products
            .iter()
            .filter(|((m, a), _)| *m == marketplace && a != promoted)
            .map(|((_, a), p)| {
                let rank = mix::hash(
                    seed,
                    &[b"halo", ad_group_id.as_bytes(), a.as_str().as_bytes()],
                );
                (rank, a, p)
            })
            .collect();
        ranked.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.cmp(y.1)));
        let mut chosen: Vec<(Asin, Product)> = ranked
            .into_iter()
            .take(MAX_HALO_ASINS)
            .map(|(_, a, p)| (a.clone(), p.clone()))
            .collect();
        chosen.sort_by(|x, y| x.0.cmp(&y.0));
        chosen
    }
}

/// A plausible price for an ASIN nobody registered: 5.99 to 149.99, always ending in .99.
pub fn synthetic_price_minor(seed: u64, marketplace: Marketplace, asin: &Asin) -> i64 {
    let h = mix::hash(
        seed,
        &[
            b"price",
            marketplace.as_str().as_bytes(),
            asin.as_str().as_bytes(),
        ],
    );
    (5 + (h % 145) as i64) * 100 + 99
}

pub fn synthetic_name(asin: &Asin) -> String {
    format!("Product {asin}")
}

/// (product group, category, subcategory) for an ASIN, from a small fixed taxonomy.
pub fn taxonomy(asin: &Asin) -> (&'static str, &'static str, &'static str) {
    const TAXONOMY: [(&str, &str, &str); 6] = [
        ("Home", "Kitchen", "Cookware"),
        ("Sports", "Outdoor Recreation", "Camping"),
        ("Beauty", "Skin Care", "Moisturizers"),
        ("Toys", "Games", "Board Games"),
        ("Electronics", "Accessories", "Cables"),
        ("Apparel", "Outerwear", "Jackets"),
    ];
    let h = mix::hash(0, &[b"taxonomy", asin.as_str().as_bytes()]);
    TAXONOMY[(h % TAXONOMY.len() as u64) as usize]
}
