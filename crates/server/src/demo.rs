//! The demo seed of spec §8: the same accounts, brands and catalog on every machine, so
//! examples and scripts can rely on them.

use std::time::Duration;

use quiver_domain::{AccountKind, Asin, LinkName, Marketplace, Money};
use tokio_util::sync::CancellationToken;

use crate::accounts::{AccountsError, create_account};
use crate::auth::Principal;
use crate::linking::{LinkError, NewLink, create_link};
use crate::state::AppState;
use crate::store::catalog::{NewBrand, NewProduct};
use crate::store::commission::beginning;
use crate::store::{Db, StoreError, now_ms};

mod brands;

use Marketplace::*;
use brands::{BRANDS, CatalogEntry, catalog, local_price};
pub use brands::{advertiser_ids, register_catalog};

pub const PASSWORD: &str = "quiver-demo";
pub const CREATOR: &str = "creator@example.com";
pub const CREATOR2: &str = "creator2@example.com";
pub const SELLER: &str = "brand@example.com";
/// The second demo seller (#18): its brand has no Amazon connection, to show the flow.
pub const SELLER2: &str = "brand2@example.com";
/// Its brand.
pub const CONNECT_BRAND: &str = "fjordline";

/// The seeded ASIN the docs and README use.
pub const EXAMPLE_ASIN: &str = "B0D45KS7QM";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

/// Seeds accounts, brands, Amazon ids, grants and catalog into an empty database.
/// Returns false (and changes nothing) when the database already has accounts.
pub async fn seed(db: &Db) -> Result<bool, DemoError> {
    if db.count_accounts().await? > 0 {
        return Ok(false);
    }
    let now = now_ms();
    let creator = match create_account(
        db,
        CREATOR,
        PASSWORD,
        AccountKind::Publisher,
        "Demo Creator",
        Some("aff_demo_creator"),
    )
    .await
    {
        Ok(id) => id,
        // Another process sharing the database is seeding it right now.
        Err(AccountsError::Exists(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let creator2 = create_account(
        db,
        CREATOR2,
        PASSWORD,
        AccountKind::Publisher,
        "Demo Creator Two",
        Some("aff_demo_creator2"),
    )
    .await?;
    let seller = create_account(
        db,
        SELLER,
        PASSWORD,
        AccountKind::Seller,
        "Demo Brands Inc.",
        Some("seller_demo_brand"),
    )
    .await?;
    let seller2 = create_account(
        db,
        SELLER2,
        PASSWORD,
        AccountKind::Seller,
        "Fjordline AS",
        Some("seller_demo_brand2"),
    )
    .await?;
    let _ = creator;
    for b in &BRANDS {
        db.insert_brand(&NewBrand {
            id: b.id,
            owner_account_id: if b.second_seller { &seller2 } else { &seller },
            name: b.name,
            company_name: b.name,
            logo_url: &format!("https://assets.quiver.example/brands/{}.png", b.id),
            program_mode: b.mode,
            default_commission_bps: b.commission_bps,
            created_at: now,
        })
        .await?;
        db.record_commission(b.id, None, Some(b.commission_bps), beginning())
            .await?;
        for &(region, profile, advertiser) in b.amazon {
            db.set_brand_amazon_account(b.id, region, profile, advertiser)
                .await?;
        }
        for (i, (asin, title, usd, category)) in b.products.iter().enumerate() {
            for (j, m) in b.marketplaces.iter().enumerate() {
                // One product is out of stock somewhere, and one runs a deal.
                let unavailable = b.id == "peak-audio" && i == 2 && *m == Us;
                let price = local_price(*usd, *m);
                let override_bps = (i == 0 && b.id == "peak-audio").then_some(1250);
                if override_bps.is_some() {
                    db.record_commission(b.id, Some((asin, *m)), override_bps, beginning())
                        .await?;
                }
                let deal = (b.id == "northwind" && i == 1).then(|| {
                    let sale = price * 80 / 100;
                    (price, sale, sale, 2000)
                });
                db.upsert_product(
                    &NewProduct {
                        asin: (*asin).to_owned(),
                        marketplace: *m,
                        brand_id: b.id.to_owned(),
                        title: (*title).to_owned(),
                        price_minor: price,
                        available: !unavailable,
                        status_reason: unavailable.then(|| "Temporarily out of stock".to_owned()),
                        image_url: format!("https://assets.quiver.example/products/{asin}.jpg"),
                        rating_centi: 400 + ((i * 17 + j * 7) % 100) as i32,
                        ratings_total: 120 + (i as i64) * 311 + (j as i64) * 41,
                        category: (*category).to_owned(),
                        sub_categories: vec![format!("{} Essentials", b.name)],
                        is_variant_of: None,
                        collection_name: Some(format!("{} 2026", b.name)),
                        commission_bps: override_bps,
                        deal,
                    },
                    now,
                )
                .await?;
            }
        }
    }
    // creator2 may promote the approval-mode brand; creator may not.
    db.seed_grant("lumen-home", &creator2, now).await?;
    Ok(true)
}

/// The demo creator's links, made through the normal creation path, then their report
/// history. Amazon may not answer yet; keeps trying until it does or `stop` is cancelled.
pub async fn seed_links(state: AppState, stop: CancellationToken) {
    let Ok(Some(account)) = state.db.account_by_email(CREATOR).await else {
        return;
    };
    if state.db.count_links(&account.id).await.unwrap_or(1) > 0 {
        return;
    }
    let who = Principal {
        account_id: account.id.clone(),
        public_id: account.public_id.clone(),
        email: account.email.clone(),
        kind: AccountKind::Publisher,
        token_hash: String::new(),
        email_verified: true,
        scope: crate::auth::Scope::Session,
        api_key_id: None,
    };
    let wanted = [
        (EXAMPLE_ASIN, Us, "backpack-youtube-review"),
        (EXAMPLE_ASIN, De, "rucksack-instagram"),
        ("B0NWBOTL03", Uk, "bottle-blog-post"),
        ("B0PKBUDS01", Us, "earbuds-tiktok"),
        ("B0PKSPKR02", Es, "altavoz-newsletter"),
    ];
    for (asin, marketplace, name) in wanted {
        if stop.is_cancelled() {
            return;
        }
        let Ok(asin) = Asin::parse(asin) else {
            continue;
        };
        let req = NewLink {
            asin,
            marketplace,
            link_name: LinkName::parse(name).ok(),
            source: None,
            sub_id: None,
        };
        let mut wait = Duration::from_secs(1);
        loop {
            match create_link(&state, &who, &req).await {
                Ok(_) => break,
                Err(LinkError::AmazonUnavailable { .. }) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = stop.cancelled() => return,
                    }
                    wait = (wait * 2).min(Duration::from_secs(60));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "demo link not created");
                    break;
                }
            }
        }
    }
    if !stop.is_cancelled() {
        seed_history(&state, &stop).await;
    }
}

/// Days of report history the demo creator gets.
pub const HISTORY_DAYS: i64 = 60;

/// Clicks on demo link `i` on the day `age` days ago: fixed, so every machine agrees,
/// with a weekly rhythm so charts look alive.
pub fn demo_clicks(i: usize, age: i64) -> u64 {
    let weekly = [0, 2, 3, 3, 4, 6, 5][(age % 7) as usize];
    4 + (i as u64 * 7 + age as u64 * 3) % 11 + weekly
}

/// Spec §7/§8: 60 days of report history for the demo creator, produced by the whole
/// pipeline: the catalog registered with the simulator (before any click, since prices and
/// halo products are fixed at a line's first click), visits on the demo links, then an
/// ingestion. Everything goes through the simulator's HTTP controls (`/_sim/*`), so an
/// in-process and a standalone simulator (`QUIVER_AMAZON=http://...`) give the same
/// history. Only once, and only when the Amazon host is a simulator.
async fn seed_history(state: &AppState, stop: &CancellationToken) {
    let Some(base) = &state.amazon.base_url else {
        return;
    };
    let sim = match SimControls::new(base) {
        Ok(sim) => sim,
        Err(e) => {
            tracing::warn!(error = %e, "demo history: no HTTP client");
            return;
        }
    };
    // Not every base URL is a simulator; one without `/_sim` controls gets no history.
    let today = match sim.today().await {
        Ok(today) => today,
        Err(e) => {
            tracing::info!(error = %e, %base, "demo history skipped: no simulator controls");
            return;
        }
    };
    let Ok(Some(account)) = state.db.account_by_email(CREATOR).await else {
        return;
    };
    let span = crate::store::reports::ReportFilter {
        start: crate::clock::day_number(today - time::Duration::days(365)),
        end: crate::clock::day_number(today + time::Duration::days(1)),
        ..Default::default()
    };
    if state
        .db
        .publisher_report_count(&account.id, &span)
        .await
        .unwrap_or(1)
        > 0
    {
        return;
    }
    for (advertiser, products) in catalog() {
        if let Err(e) = sim.register_products(advertiser, &products).await {
            tracing::warn!(error = %e, advertiser, "demo history: catalog not registered");
            return;
        }
    }
    let links = match state
        .db
        .list_links(
            &account.id,
            &crate::store::links::LinkFilter::default(),
            None,
            0,
            500,
        )
        .await
    {
        Ok((_, links)) => links,
        Err(e) => {
            tracing::warn!(error = %e, "demo history: could not list the demo links");
            return;
        }
    };
    let mut links = links;
    links.sort_by(|a, b| a.link_name.cmp(&b.link_name));
    for (i, link) in links.iter().enumerate() {
        for age in 0..HISTORY_DAYS {
            let day = today - time::Duration::days(age);
            if let Err(e) = sim.record_visit(&link.url, day, demo_clicks(i, age)).await {
                tracing::warn!(error = %e, link = %link.id, "demo history: visit not recorded");
            }
        }
    }
    let opts = crate::ingest::Options {
        full_backfill: true,
        stop: stop.clone(),
        secret_key: state.secret_key.clone(),
        ..crate::ingest::Options::default()
    };
    // A scheduled run may hold the lease for a moment; wait for it.
    for _ in 0..60 {
        match crate::ingest::run_once(&state.db, &state.amazon.client, &opts).await {
            Ok(crate::ingest::Outcome::Ran(s)) => {
                tracing::info!(facts = s.inserted, "demo report history ingested");
                // Statements follow at once: the demo's earlier months are final.
                if let Err(e) =
                    crate::statements::schedule::run_once(state, crate::clock::today()).await
                {
                    tracing::warn!(error = %e, "demo statements not refreshed");
                }
                return;
            }
            Ok(crate::ingest::Outcome::Busy) => tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = stop.cancelled() => return,
            },
            Err(e) => {
                tracing::warn!(error = %e, "demo history: ingestion failed");
                return;
            }
        }
    }
}

/// A simulator's `/_sim` controls, spoken to over HTTP.
struct SimControls {
    http: reqwest::Client,
    base: url::Url,
}

#[derive(Debug, thiserror::Error)]
enum SimControlError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Url(#[from] url::ParseError),
    #[error("the simulator's clock said '{0}'")]
    Clock(String),
}

#[derive(serde::Deserialize)]
struct SimClock {
    today: Option<String>,
}

impl SimControls {
    fn new(base: &url::Url) -> Result<Self, SimControlError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            base: base.clone(),
        })
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Result<(), SimControlError> {
        self.http
            .post(self.base.join(path)?)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The simulator's day, which tests and demos may have moved.
    async fn today(&self) -> Result<time::Date, SimControlError> {
        let clock: SimClock = self
            .http
            .get(self.base.join("/_sim/clock")?)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let text = clock.today.unwrap_or_default();
        quiver_domain::parse_report_date(&text).map_err(|_| SimControlError::Clock(text))
    }

    async fn register_products(
        &self,
        advertiser: &str,
        products: &[CatalogEntry],
    ) -> Result<(), SimControlError> {
        let products: Vec<_> = products
            .iter()
            .map(|(m, asin, p)| {
                serde_json::json!({
                    "asin": asin.as_str(),
                    "marketplace": m.as_str(),
                    "name": p.name,
                    "price": Money::new(p.price_minor, m.currency()).to_decimal_string(),
                })
            })
            .collect();
        let body = serde_json::json!({ "advertiserId": advertiser, "products": products });
        self.post("/_sim/catalog", body).await
    }

    async fn record_visit(
        &self,
        url: &str,
        day: time::Date,
        clicks: u64,
    ) -> Result<(), SimControlError> {
        let body = serde_json::json!({
            "url": url,
            "date": quiver_domain::format_iso(day),
            "clicks": clicks,
        });
        self.post("/_sim/visits", body).await
    }
}
