//! Attribution links: names and the Amazon tag template they are built from.

use crate::{Asin, Marketplace};

/// A link's display name: 1 to 200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("link_name must be 1 to 200 characters")]
pub struct InvalidLinkName;

impl LinkName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, InvalidLinkName> {
        let trimmed = input.trim();
        let n = trimmed.chars().count();
        if n == 0 || n > Self::MAX_CHARS {
            return Err(InvalidLinkName);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Amazon returned a tag template without the {0} placeholder")]
pub struct InvalidTemplate(&'static str);

const CAMPAIGN: &str = "{insertCampaignId}";
const AD_GROUP: &str = "{insertAdGroupId}";
const CREATIVE: &str = "{insertAdId}";

/// Fills a non-macro tag template (`?maas=...&aa_campaignid={insertCampaignId}&...`) and
/// appends it to the product page URL. Amazon spells the creative placeholder with
/// varying case (`{insertAdiD}` appears in its own docs), so placeholders match
/// case-insensitively.
pub fn fill_tag_template(
    template: &str,
    marketplace: Marketplace,
    asin: &Asin,
    campaign_id: &str,
    ad_group_id: &str,
    creative_id: &str,
) -> Result<String, InvalidTemplate> {
    let mut query = template.trim().trim_start_matches('?').to_owned();
    for (placeholder, value) in [
        (CAMPAIGN, campaign_id),
        (AD_GROUP, ad_group_id),
        (CREATIVE, creative_id),
    ] {
        let lower = query.to_ascii_lowercase();
        let at = lower
            .find(&placeholder.to_ascii_lowercase())
            .ok_or(InvalidTemplate(placeholder))?;
        query.replace_range(at..at + placeholder.len(), value);
    }
    Ok(format!("{}?{query}", marketplace.product_url(asin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_amazons_documented_template() {
        let t = "?maas=maas_adg_api_123456789_static_9_99&ref_=aa_maas&tag=maas&aa_campaignid={insertCampaignId}&aa_adgroupid={insertAdGroupId}&aa_creativeid={insertAdiD}";
        let asin = Asin::parse("B0D45KS7QM").unwrap();
        let url = fill_tag_template(t, Marketplace::De, &asin, "C1", "G2", "R3").unwrap();
        assert_eq!(
            url,
            "https://www.amazon.de/dp/B0D45KS7QM?maas=maas_adg_api_123456789_static_9_99&ref_=aa_maas&tag=maas&aa_campaignid=C1&aa_adgroupid=G2&aa_creativeid=R3"
        );
    }

    #[test]
    fn missing_placeholder_is_an_error() {
        let asin = Asin::parse("B0D45KS7QM").unwrap();
        assert!(fill_tag_template("?maas=x", Marketplace::Us, &asin, "a", "b", "c").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(
            LinkName::parse("  spring  ").map(LinkName::into_inner),
            Ok("spring".into())
        );
        assert!(LinkName::parse("   ").is_err());
        assert!(LinkName::parse(&"é".repeat(200)).is_ok());
        assert!(LinkName::parse(&"é".repeat(201)).is_err());
    }
}
