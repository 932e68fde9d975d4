//! The marketplace table of spec section 2, and the regions Amazon Ads serves them from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An Amazon Ads API region: each has its own host and its own profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Region {
    #[serde(rename = "NA")]
    Na,
    #[serde(rename = "EU")]
    Eu,
    #[serde(rename = "FE")]
    Fe,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Na, Region::Eu, Region::Fe];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Na => "NA",
            Self::Eu => "EU",
            Self::Fe => "FE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NA" => Some(Self::Na),
            "EU" => Some(Self::Eu),
            "FE" => Some(Self::Fe),
            _ => None,
        }
    }

    /// Amazon's production Advertising API host for this region.
    pub const fn amazon_api_host(self) -> &'static str {
        match self {
            Self::Na => "https://advertising-api.amazon.com",
            Self::Eu => "https://advertising-api-eu.amazon.com",
            Self::Fe => "https://advertising-api-fe.amazon.com",
        }
    }
}

crate::unknown::try_from_name!(Region, "region");

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ISO 4217 currencies of the supported marketplaces. All have two minor digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "CAD")]
    Cad,
    #[serde(rename = "MXN")]
    Mxn,
    #[serde(rename = "GBP")]
    Gbp,
    #[serde(rename = "EUR")]
    Eur,
}

impl Currency {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Usd => "USD",
            Self::Cad => "CAD",
            Self::Mxn => "MXN",
            Self::Gbp => "GBP",
            Self::Eur => "EUR",
        }
    }
}

/// One Amazon marketplace Quiver can create links for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Marketplace {
    #[serde(rename = "amazon.com")]
    Us,
    #[serde(rename = "amazon.ca")]
    Ca,
    #[serde(rename = "amazon.com.mx")]
    Mx,
    #[serde(rename = "amazon.co.uk")]
    Uk,
    #[serde(rename = "amazon.de")]
    De,
    #[serde(rename = "amazon.fr")]
    Fr,
    #[serde(rename = "amazon.it")]
    It,
    #[serde(rename = "amazon.es")]
    Es,
    #[serde(rename = "amazon.nl")]
    Nl,
}

/// The 400 body every endpoint gives for a marketplace outside the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported marketplace '{0}'. Supported: {list}", list = Marketplace::supported_list())]
pub struct UnsupportedMarketplace(pub String);

impl Marketplace {
    pub const ALL: [Marketplace; 9] = [
        Self::Us,
        Self::Ca,
        Self::Mx,
        Self::Uk,
        Self::De,
        Self::Fr,
        Self::It,
        Self::Es,
        Self::Nl,
    ];

    /// The lower-case domain clients send and receive, e.g. `amazon.co.uk`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Us => "amazon.com",
            Self::Ca => "amazon.ca",
            Self::Mx => "amazon.com.mx",
            Self::Uk => "amazon.co.uk",
            Self::De => "amazon.de",
            Self::Fr => "amazon.fr",
            Self::It => "amazon.it",
            Self::Es => "amazon.es",
            Self::Nl => "amazon.nl",
        }
    }

    pub const fn country_code(self) -> &'static str {
        match self {
            Self::Us => "US",
            Self::Ca => "CA",
            Self::Mx => "MX",
            Self::Uk => "UK",
            Self::De => "DE",
            Self::Fr => "FR",
            Self::It => "IT",
            Self::Es => "ES",
            Self::Nl => "NL",
        }
    }

    pub const fn currency(self) -> Currency {
        match self {
            Self::Us => Currency::Usd,
            Self::Ca => Currency::Cad,
            Self::Mx => Currency::Mxn,
            Self::Uk => Currency::Gbp,
            Self::De | Self::Fr | Self::It | Self::Es | Self::Nl => Currency::Eur,
        }
    }

    pub const fn region(self) -> Region {
        match self {
            Self::Us | Self::Ca | Self::Mx => Region::Na,
            _ => Region::Eu,
        }
    }

    /// The public detail-page host, e.g. `www.amazon.de`.
    pub fn product_host(self) -> String {
        format!("www.{}", self.as_str())
    }

    /// The plain detail-page URL, without attribution parameters.
    pub fn product_url(self, asin: &crate::Asin) -> String {
        format!("https://www.{}/dp/{}", self.as_str(), asin)
    }

    fn supported_list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    /// Parses the `marketplace` parameter: case-insensitive, trimmed, optional `www.`.
    pub fn parse(input: &str) -> Result<Self, UnsupportedMarketplace> {
        let lowered = input.trim().to_ascii_lowercase();
        let bare = lowered.strip_prefix("www.").unwrap_or(&lowered);
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == bare)
            .ok_or_else(|| UnsupportedMarketplace(input.to_owned()))
    }

    /// Parses the legacy `country_code` parameter (`GB` is an alias of `UK`).
    pub fn from_country_code(input: &str) -> Result<Self, UnsupportedMarketplace> {
        let code = input.trim().to_ascii_uppercase();
        let code = if code == "GB" { "UK".to_owned() } else { code };
        Self::ALL
            .into_iter()
            .find(|m| m.country_code() == code)
            .ok_or_else(|| UnsupportedMarketplace(input.to_owned()))
    }
}

impl TryFrom<String> for Marketplace {
    type Error = UnsupportedMarketplace;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl fmt::Display for Marketplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `marketplace` query value on endpoints that also accept `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketplaceSelector {
    All,
    One(Marketplace),
}

impl MarketplaceSelector {
    pub fn parse(input: &str) -> Result<Self, UnsupportedMarketplace> {
        if input.trim().eq_ignore_ascii_case("all") {
            Ok(Self::All)
        } else {
            Marketplace::parse(input).map(Self::One)
        }
    }

    /// The marketplaces selected, in table order.
    pub fn marketplaces(self) -> Vec<Marketplace> {
        match self {
            Self::All => Marketplace::ALL.to_vec(),
            Self::One(m) => vec![m],
        }
    }
}

/// The legacy `geo` value of the report endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geo {
    Us,
    Region(Region),
}

impl Geo {
    pub fn parse(input: &str) -> Result<Self, UnsupportedMarketplace> {
        match input.trim().to_ascii_uppercase().as_str() {
            "US" => Ok(Self::Us),
            other => Region::parse(other)
                .map(Self::Region)
                .ok_or_else(|| UnsupportedMarketplace(input.to_owned())),
        }
    }

    /// `FE` selects nothing: Quiver serves no Far East marketplace, so its reports are empty.
    pub fn marketplaces(self) -> Vec<Marketplace> {
        match self {
            Self::Us => vec![Marketplace::Us],
            Self::Region(r) => Marketplace::ALL
                .into_iter()
                .filter(|m| m.region() == r)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_marketplace_in_any_case_with_www() {
        for m in Marketplace::ALL {
            assert_eq!(Marketplace::parse(m.as_str()), Ok(m));
            assert_eq!(Marketplace::parse(&m.as_str().to_uppercase()), Ok(m));
            assert_eq!(Marketplace::parse(&format!("  www.{m} ")), Ok(m));
            assert_eq!(Marketplace::from_country_code(m.country_code()), Ok(m));
        }
        assert_eq!(Marketplace::from_country_code("gb"), Ok(Marketplace::Uk));
    }

    #[test]
    fn unsupported_marketplace_lists_the_supported_ones() {
        let err = Marketplace::parse("amazon.jp").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unsupported marketplace 'amazon.jp'. Supported: amazon.com, amazon.ca, amazon.com.mx, \
             amazon.co.uk, amazon.de, amazon.fr, amazon.it, amazon.es, amazon.nl"
        );
        assert!(Marketplace::parse("all").is_err());
        assert!(Marketplace::from_country_code("JP").is_err());
    }

    #[test]
    fn stored_names_convert_back_or_fail() {
        for m in Marketplace::ALL {
            assert_eq!(Marketplace::try_from(m.as_str().to_owned()), Ok(m));
        }
        for r in Region::ALL {
            assert_eq!(Region::try_from(r.as_str().to_owned()), Ok(r));
        }
        assert!(Marketplace::try_from("amazon.jp".to_owned()).is_err());
        assert_eq!(
            Region::try_from("XX".to_owned()).unwrap_err().to_string(),
            "'XX' is not a valid region"
        );
    }

    #[test]
    fn selector_and_geo() {
        assert_eq!(
            MarketplaceSelector::parse(" ALL "),
            Ok(MarketplaceSelector::All)
        );
        assert_eq!(
            Geo::parse("na").map(Geo::marketplaces).map(|v| v.len()),
            Ok(3)
        );
        assert_eq!(
            Geo::parse("EU").map(Geo::marketplaces).map(|v| v.len()),
            Ok(6)
        );
        assert_eq!(Geo::parse("FE").map(Geo::marketplaces), Ok(vec![]));
        assert_eq!(
            Geo::parse("US").map(Geo::marketplaces),
            Ok(vec![Marketplace::Us])
        );
        assert!(Geo::parse("XX").is_err());
    }

    #[test]
    fn serde_uses_the_domain_names() {
        assert_eq!(
            serde_json::to_string(&Marketplace::Uk).unwrap(),
            "\"amazon.co.uk\""
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_output_round_trips(s in "\\PC{0,24}") {
            if let Ok(m) = Marketplace::parse(&s) {
                prop_assert_eq!(Marketplace::parse(m.as_str()), Ok(m));
            }
        }

        #[test]
        fn decorated_names_parse(idx in 0usize..9, upper in any::<bool>(), www in any::<bool>(), pad in " {0,3}") {
            let m = Marketplace::ALL[idx];
            let mut s = if www { format!("www.{m}") } else { m.to_string() };
            if upper { s = s.to_uppercase(); }
            let s = format!("{pad}{s}{pad}");
            prop_assert_eq!(Marketplace::parse(&s), Ok(m));
        }
    }
}
