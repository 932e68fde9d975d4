//! Reading a clicked attribution URL the way Amazon does: the host names the marketplace,
//! the path the ASIN, and the query the advertiser (inside `maas`) and the ids.

use quiver_domain::{Asin, Marketplace};
use url::Url;

use crate::tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionUrl {
    pub marketplace: Marketplace,
    pub asin: Asin,
    pub advertiser_id: String,
    /// The publisher's display name, as reports show it.
    pub publisher: String,
    pub campaign_id: String,
    pub ad_group_id: String,
    pub creative_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("'{0}' is not an absolute URL")]
    NotAUrl(String),
    #[error("'{0}' is not an Amazon marketplace host")]
    Host(String),
    #[error("the URL path has no /dp/<ASIN>")]
    NoAsin,
    #[error("'{0}' is not an ASIN (10 letters or digits)")]
    InvalidAsin(String),
    #[error("the query has no {0} parameter")]
    Missing(&'static str),
    #[error("maas '{0}' is not of the form maas_adg_api_<advertiserId>_...")]
    Maas(String),
    #[error("maas '{0}' names no known publisher")]
    UnknownPublisher(String),
    #[error("{0} '{1}' is not a filled-in id (placeholders must be replaced)")]
    BadId(&'static str, String),
}

/// Ids are opaque to Amazon, but an unreplaced `{placeholder}`, white space or an
/// absurd length means the caller built the URL wrong.
fn check_id(name: &'static str, value: &str) -> Result<String, UrlError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '{' || c == '}');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(UrlError::BadId(name, value.to_owned()))
    }
}

pub fn parse(input: &str, own_publisher_id: &str) -> Result<AttributionUrl, UrlError> {
    let url = Url::parse(input.trim()).map_err(|_| UrlError::NotAUrl(input.to_owned()))?;
    let host = url
        .host_str()
        .ok_or_else(|| UrlError::NotAUrl(input.to_owned()))?;
    let marketplace = Marketplace::parse(host).map_err(|_| UrlError::Host(host.to_owned()))?;

    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let asin_segment = segments
        .windows(2)
        .find(|w| w[0] == "dp" || w[0] == "product")
        .map(|w| w[1])
        .ok_or(UrlError::NoAsin)?;
    let asin =
        Asin::parse(asin_segment).map_err(|_| UrlError::InvalidAsin(asin_segment.to_owned()))?;

    let mut maas = None;
    let mut campaign = None;
    let mut ad_group = None;
    let mut creative = None;
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "maas" => &mut maas,
            "aa_campaignid" => &mut campaign,
            "aa_adgroupid" => &mut ad_group,
            "aa_creativeid" => &mut creative,
            _ => continue,
        };
        // The first occurrence wins, as with most web servers.
        slot.get_or_insert_with(|| value.into_owned());
    }
    let maas = maas.ok_or(UrlError::Missing("maas"))?;
    let rest = maas
        .strip_prefix("maas_adg_api_")
        .ok_or_else(|| UrlError::Maas(maas.clone()))?;
    let (advertiser_id, suffix) = rest.split_once('_').unwrap_or((rest, ""));
    if advertiser_id.is_empty() || !advertiser_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Maas(maas.clone()));
    }
    let publisher = tags::publisher_for_maas_suffix(own_publisher_id, suffix)
        .ok_or_else(|| UrlError::UnknownPublisher(maas.clone()))?;

    Ok(AttributionUrl {
        marketplace,
        asin,
        advertiser_id: advertiser_id.to_owned(),
        publisher,
        campaign_id: check_id(
            "aa_campaignid",
            &campaign.ok_or(UrlError::Missing("aa_campaignid"))?,
        )?,
        ad_group_id: check_id(
            "aa_adgroupid",
            &ad_group.ok_or(UrlError::Missing("aa_adgroupid"))?,
        )?,
        creative_id: check_id(
            "aa_creativeid",
            &creative.ok_or(UrlError::Missing("aa_creativeid"))?,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use quiver_domain::fill_tag_template;

    const OWN: &str = "quiver";

    #[test]
    fn parses_a_filled_quiver_tag() {
        let asin = Asin::parse("B0D45KS7QM").unwrap();
        let url = fill_tag_template(
            &tags::non_macro_tag("1234"),
            Marketplace::De,
            &asin,
            "C1",
            "G2",
            "R3",
        )
        .unwrap();
        let parsed = parse(&url, OWN).unwrap();
        assert_eq!(
            parsed,
            AttributionUrl {
                marketplace: Marketplace::De,
                asin,
                advertiser_id: "1234".into(),
                publisher: "Quiver".into(),
                campaign_id: "C1".into(),
                ad_group_id: "G2".into(),
                creative_id: "R3".into(),
            }
        );
    }

    #[test]
    fn accepts_a_product_slug_and_other_parameters() {
        let url = "https://www.amazon.co.uk/Some-Thing/dp/b0d45ks7qm/ref=x?th=1&maas=maas_adg_api_9_1_99&aa_campaignid=c&aa_adgroupid=g&aa_creativeid=ad-1_2";
        let parsed = parse(url, OWN).unwrap();
        assert_eq!(parsed.marketplace, Marketplace::Uk);
        assert_eq!(parsed.asin.as_str(), "B0D45KS7QM");
        assert_eq!(parsed.publisher, "Google Ads");
    }

    #[test]
    fn explains_what_is_wrong() {
        let ok = "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_1_static_9_99&aa_campaignid=c&aa_adgroupid=g&aa_creativeid=r";
        assert!(parse(ok, OWN).is_ok());
        let cases = [
            ("not a url", UrlError::NotAUrl("not a url".into())),
            (
                "https://www.amazon.jp/dp/B0D45KS7QM?maas=x",
                UrlError::Host("www.amazon.jp".into()),
            ),
            ("https://www.amazon.com/B0D45KS7QM?maas=x", UrlError::NoAsin),
            (
                "https://www.amazon.com/dp/B0D45?maas=x",
                UrlError::InvalidAsin("B0D45".into()),
            ),
            (
                "https://www.amazon.com/dp/B0D45KS7QM?aa_adgroupid=g",
                UrlError::Missing("maas"),
            ),
            (
                "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_x_static",
                UrlError::Maas("maas_adg_api_x_static".into()),
            ),
            (
                "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_1_77_99",
                UrlError::UnknownPublisher("maas_adg_api_1_77_99".into()),
            ),
            (
                "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_1_static_9_99&aa_campaignid=c&aa_adgroupid={insertAdGroupId}&aa_creativeid=r",
                UrlError::BadId("aa_adgroupid", "{insertAdGroupId}".into()),
            ),
            (
                "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_1_static_9_99&aa_campaignid=c&aa_adgroupid=g",
                UrlError::Missing("aa_creativeid"),
            ),
        ];
        for (url, want) in cases {
            assert_eq!(parse(url, OWN), Err(want), "{url}");
        }
    }

    proptest! {
        #[test]
        fn filled_templates_round_trip(
            market in 0usize..9,
            asin in "[A-Z0-9]{10}",
            advertiser in "[0-9]{1,15}",
            campaign in "[A-Za-z0-9._~-]{1,40}",
            ad_group in "[A-Za-z0-9._~-]{1,40}",
            creative in "[A-Za-z0-9._~-]{1,40}",
        ) {
            let marketplace = Marketplace::ALL[market];
            let asin = Asin::parse(&asin).unwrap();
            let url = fill_tag_template(&tags::non_macro_tag(&advertiser), marketplace, &asin, &campaign, &ad_group, &creative).unwrap();
            let parsed = parse(&url, OWN).unwrap();
            prop_assert_eq!(parsed.marketplace, marketplace);
            prop_assert_eq!(parsed.asin, asin);
            prop_assert_eq!(parsed.advertiser_id, advertiser);
            prop_assert_eq!(parsed.campaign_id, campaign);
            prop_assert_eq!(parsed.ad_group_id, ad_group);
            prop_assert_eq!(parsed.creative_id, creative);
        }

        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s, OWN);
            let _ = parse(&format!("https://www.amazon.com/dp/{s}"), OWN);
            let _ = parse(&format!("https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_{s}&aa_campaignid={s}"), OWN);
        }
    }
}
