//! Catalog import from CSV or JSON: every row is validated first, and nothing is written
//! unless all rows are valid.

use std::path::Path;

use quiver_domain::{Asin, Bps, Marketplace, Money};
use serde::Deserialize;

use crate::store::catalog::NewProduct;
use crate::store::commission::beginning;
use crate::store::{Db, now_ms};

/// A JSON value that may be given as a number or as text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
}

impl Text {
    fn as_string(&self) -> String {
        match self {
            Text::Str(s) => s.clone(),
            Text::Num(n) => n.to_string(),
            Text::Bool(b) => b.to_string(),
        }
    }
}

/// One catalog row. CSV headers use these names; `sub_category` is `;`-separated in CSV.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogRecord {
    pub brand_id: String,
    pub asin: String,
    pub marketplace: String,
    pub title: String,
    pub price: Text,
    #[serde(default)]
    pub available: Option<Text>,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub rating: Option<Text>,
    #[serde(default)]
    pub ratings_total: Option<Text>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub is_variant_of: Option<String>,
    #[serde(default)]
    pub collection_name: Option<String>,
    #[serde(default)]
    pub commission: Option<Text>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl CatalogRecord {
    pub fn validate(&self) -> Result<NewProduct, String> {
        let asin = Asin::parse(&self.asin).map_err(|e| e.to_string())?;
        let marketplace = Marketplace::parse(&self.marketplace).map_err(|e| e.to_string())?;
        let title = self.title.trim();
        if title.is_empty() {
            return Err("title is empty".into());
        }
        let price = Money::parse_amount(&self.price.as_string()).map_err(|e| e.to_string())?;
        let available = match self
            .available
            .as_ref()
            .map(|t| t.as_string().trim().to_ascii_lowercase())
        {
            None => true,
            Some(v) if v.is_empty() || matches!(v.as_str(), "true" | "yes" | "1" | "available") => {
                true
            }
            Some(v) if matches!(v.as_str(), "false" | "no" | "0" | "unavailable") => false,
            Some(v) => return Err(format!("available must be true or false, not '{v}'")),
        };
        let rating_centi = match self
            .rating
            .as_ref()
            .map(Text::as_string)
            .filter(|s| !s.trim().is_empty())
        {
            None => 0,
            Some(r) => Money::parse_amount(&r)
                .ok()
                .filter(|v| *v <= 500)
                .map(|v| v as i32)
                .ok_or_else(|| format!("rating must be between 0 and 5, not '{r}'"))?,
        };
        let ratings_total = match self
            .ratings_total
            .as_ref()
            .map(Text::as_string)
            .filter(|s| !s.trim().is_empty())
        {
            None => 0,
            Some(r) => r
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| format!("ratings_total must be a whole number, not '{r}'"))?,
        };
        let commission_bps = match self
            .commission
            .as_ref()
            .map(Text::as_string)
            .filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(c) => Some(Bps::parse_percent(&c).map_err(|e| e.to_string())?.0),
        };
        Ok(NewProduct {
            asin: asin.to_string(),
            marketplace,
            brand_id: self.brand_id.trim().to_owned(),
            title: title.to_owned(),
            price_minor: price,
            available,
            status_reason: if available {
                None
            } else {
                non_empty(&self.status_reason)
            },
            image_url: non_empty(&self.image_url).unwrap_or_default(),
            rating_centi,
            ratings_total,
            category: non_empty(&self.category).unwrap_or_default(),
            sub_categories: self
                .sub_category
                .as_deref()
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            is_variant_of: non_empty(&self.is_variant_of),
            collection_name: non_empty(&self.collection_name),
            commission_bps,
            deal: None,
        })
    }
}

/// Reads records from a `.json` (array of objects) or any other file as CSV with headers.
pub fn read_records(path: &Path) -> anyhow::Result<Vec<CatalogRecord>> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let text = std::fs::read_to_string(path)?;
        Ok(serde_json::from_str(&text)?)
    } else {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)?;
        let mut out = Vec::new();
        for (i, row) in reader.deserialize().enumerate() {
            out.push(row.map_err(|e| anyhow::anyhow!("row {}: {e}", i + 2))?);
        }
        Ok(out)
    }
}

/// Validates every record, then writes them all. Returns how many were written.
pub async fn import(db: &Db, records: &[CatalogRecord]) -> anyhow::Result<usize> {
    let mut products = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match r.validate() {
            Ok(p) => products.push(p),
            Err(e) => errors.push(format!("record {}: {e}", i + 1)),
        }
    }
    for p in &products {
        if db.brand(&p.brand_id).await?.is_none() {
            errors.push(format!(
                "{} {}: unknown brand '{}'",
                p.asin, p.marketplace, p.brand_id
            ));
        }
    }
    if !errors.is_empty() {
        anyhow::bail!(
            "nothing imported; fix these rows first:\n  {}",
            errors.join("\n  ")
        );
    }
    let now = now_ms();
    let today = time::OffsetDateTime::now_utc().date();
    for p in &products {
        // A new product's override applies from the start; a changed one from tomorrow.
        let existing = db.product_for("", &p.asin, p.marketplace).await?;
        let changed = existing
            .as_ref()
            .map(|e| e.commission_bps.map(|b| b as u32))
            != Some(p.commission_bps);
        db.upsert_product(p, now).await?;
        if changed {
            let from = if existing.is_some() {
                quiver_domain::effective_from(today)
            } else {
                beginning()
            };
            db.record_commission(
                &p.brand_id,
                Some((&p.asin, p.marketplace)),
                p.commission_bps,
                from,
            )
            .await?;
        }
    }
    Ok(products.len())
}
