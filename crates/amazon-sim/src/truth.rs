//! `GET /_sim/truth`: the simulator's own per-ad-group daily figures, exactly what the
//! reports serve, so tests can check Quiver's numbers against the source.

use std::collections::BTreeMap;

use quiver_domain::format_iso;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::state::SimState;
use crate::traffic::{self, Funnel};

/// A money amount (minor units) as a JSON number with at most two decimals.
pub fn money(minor: i64) -> serde_json::Number {
    // `minor / 100` is the closest double to the decimal, and serde_json writes the
    // shortest text that reads back as that double: the decimal itself.
    serde_json::Number::from_f64(minor as f64 / 100.0)
        .unwrap_or_else(|| serde_json::Number::from(0))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelJson {
    pub dpv: i64,
    pub atc: i64,
    pub purchases: i64,
    pub units: i64,
    pub sales: serde_json::Number,
    pub ntb_purchases: i64,
    pub ntb_units: i64,
    pub ntb_sales: serde_json::Number,
}

impl From<Funnel> for FunnelJson {
    fn from(f: Funnel) -> Self {
        Self {
            dpv: f.dpv,
            atc: f.atc,
            purchases: f.purchases,
            units: f.units,
            sales: money(f.sales),
            ntb_purchases: f.ntb_purchases,
            ntb_units: f.ntb_units,
            ntb_sales: money(f.ntb_sales),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HaloAsin {
    pub asin: String,
    #[serde(flatten)]
    pub funnel: FunnelJson,
}

/// One ad group on one day. Top-level funnel fields are the promoted product's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthRow {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub campaign_id: String,
    pub ad_group_id: String,
    pub publisher: String,
    pub marketplace: String,
    /// The promoted ASIN.
    pub asin: String,
    pub clicks: i64,
    #[serde(flatten)]
    pub promoted: FunnelJson,
    /// Sum over `halo_by_asin`.
    pub halo: FunnelJson,
    pub halo_by_asin: Vec<HaloAsin>,
    /// Brand Referral Bonus, decimal.
    pub brb: serde_json::Number,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthResponse {
    pub advertiser_id: String,
    /// The simulated today these figures are as of, `YYYY-MM-DD`.
    pub today: String,
    pub rows: Vec<TruthRow>,
}

#[derive(Default)]
struct Acc {
    publisher: String,
    marketplace: String,
    asin: String,
    clicks: i64,
    promoted: Funnel,
    halo: BTreeMap<String, Funnel>,
    brb: i64,
}

/// Rows ordered by date, then campaign id, then ad group id.
pub fn truth(state: &SimState, advertiser_id: &str, start: Date, end: Date) -> TruthResponse {
    let today = state.today();
    let seed = state.seed();
    let mut acc: BTreeMap<(Date, String, String), Acc> = BTreeMap::new();
    {
        let traffic = state.traffic();
        for (date, key, day) in traffic.lines(start..=end) {
            if key.advertiser_id != advertiser_id {
                continue;
            }
            let m = traffic::derive(seed, today, date, key, day);
            let a = acc
                .entry((date, key.campaign_id.clone(), key.ad_group_id.clone()))
                .or_insert_with(|| Acc {
                    publisher: key.publisher.clone(),
                    marketplace: key.marketplace.as_str().to_owned(),
                    asin: key.asin.as_str().to_owned(),
                    ..Acc::default()
                });
            a.clicks = a.clicks.saturating_add(m.clicks);
            a.promoted += m.promoted;
            a.brb = a.brb.saturating_add(m.brb);
            for (asin, f) in m.halo {
                *a.halo.entry(asin.as_str().to_owned()).or_default() += f;
            }
        }
    }
    let rows = acc
        .into_iter()
        .map(|((date, campaign_id, ad_group_id), a)| {
            let mut halo_total = Funnel::default();
            for f in a.halo.values() {
                halo_total += *f;
            }
            TruthRow {
                date: format_iso(date),
                campaign_id,
                ad_group_id,
                publisher: a.publisher,
                marketplace: a.marketplace,
                asin: a.asin,
                clicks: a.clicks,
                promoted: a.promoted.into(),
                halo: halo_total.into(),
                halo_by_asin: a
                    .halo
                    .into_iter()
                    .map(|(asin, f)| HaloAsin {
                        asin,
                        funnel: f.into(),
                    })
                    .collect(),
                brb: money(a.brb),
            }
        })
        .collect();
    TruthResponse {
        advertiser_id: advertiser_id.to_owned(),
        today: format_iso(today),
        rows,
    }
}
