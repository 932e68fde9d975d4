//! Advertisers, publishers and attribution tags.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use quiver_amazon::wire::{
    Advertiser, AdvertiserResponse, AttributionTagResponse, Publisher, PublishersResponse,
};

use crate::auth;
use crate::error::ApiError;
use crate::state::SimState;

/// The macro-enabled publishers every account sees, with the click-URL macros their ad
/// platforms fill in: (id, name, campaign macro, ad group macro, creative macro).
const MACRO_PUBLISHERS: [(&str, &str, &str, &str, &str); 4] = [
    (
        "1",
        "Google Ads",
        "{campaignid}",
        "{adgroupid}",
        "ad-{creative}_{targetid}",
    ),
    (
        "2",
        "Facebook",
        "{{campaign.id}}",
        "{{adset.id}}",
        "{{ad.id}}",
    ),
    (
        "3",
        "Microsoft Ads",
        "{CampaignId}",
        "{AdGroupId}",
        "{AdId}",
    ),
    ("4", "Pinterest", "{campaignid}", "{adgroupid}", "{adid}"),
];

/// The display name of Quiver's own publisher, as reports show it.
pub const QUIVER_PUBLISHER_NAME: &str = "Quiver";

pub fn advertiser_name(advertiser_id: &str) -> String {
    format!("Advertiser {advertiser_id}")
}

pub fn publishers(own_id: &str) -> Vec<Publisher> {
    let mut list = vec![Publisher {
        id: own_id.to_owned(),
        name: QUIVER_PUBLISHER_NAME.to_owned(),
        macro_enabled: false,
    }];
    list.extend(MACRO_PUBLISHERS.iter().map(|(id, name, ..)| Publisher {
        id: (*id).to_owned(),
        name: (*name).to_owned(),
        macro_enabled: true,
    }));
    list
}

/// Which publisher a `maas` value's suffix (after the advertiser id) names.
pub fn publisher_for_maas_suffix(own_id: &str, suffix: &str) -> Option<String> {
    if suffix.starts_with("static_") {
        return Some(QUIVER_PUBLISHER_NAME.to_owned());
    }
    let id = suffix.split('_').next()?;
    if id == own_id {
        return Some(QUIVER_PUBLISHER_NAME.to_owned());
    }
    MACRO_PUBLISHERS
        .iter()
        .find(|(pid, ..)| *pid == id)
        .map(|(_, name, ..)| (*name).to_owned())
}

/// The non-macro template for advertiser `a`: the `maas` value carries the advertiser, so
/// a filled URL alone identifies it.
pub fn non_macro_tag(advertiser_id: &str) -> String {
    format!(
        "?maas=maas_adg_api_{advertiser_id}_static_9_99&ref_=aa_maas&tag=maas\
         &aa_campaignid={{insertCampaignId}}&aa_adgroupid={{insertAdGroupId}}&aa_creativeid={{insertAdId}}"
    )
}

fn macro_tag(advertiser_id: &str, publisher_id: &str) -> Option<String> {
    MACRO_PUBLISHERS
        .iter()
        .find(|(id, ..)| *id == publisher_id)
        .map(|(id, _, campaign, ad_group, creative)| {
            format!(
                "?maas=maas_adg_api_{advertiser_id}_{id}_99&ref_=aa_maas&tag=maas\
                 &aa_campaignid={campaign}&aa_adgroupid={ad_group}&aa_creativeid={creative}"
            )
        })
}

pub async fn advertisers(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> Result<Json<AdvertiserResponse>, ApiError> {
    let (profile, own) = auth::check_scoped_user(&state, &headers)?;
    if let Some(own) = own {
        return Ok(Json(AdvertiserResponse {
            advertisers: own.advertisers,
        }));
    }
    Ok(Json(AdvertiserResponse {
        advertisers: vec![Advertiser {
            advertiser_name: advertiser_name(&profile),
            advertiser_id: profile,
        }],
    }))
}

pub async fn list_publishers(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> Result<Json<PublishersResponse>, ApiError> {
    auth::check_scoped(&state, &headers)?;
    Ok(Json(PublishersResponse {
        publisher: publishers(&state.config().publisher_id),
    }))
}

/// Values of `key`, whether sent repeated (`k=a&k=b`, the spec's form/explode style) or
/// comma-separated (`k=a,b`), blanks dropped.
fn query_list(query: Option<&str>, key: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The advertiser ids a tag request is about: the listed ones (numeric), else the
/// profile's own advertiser(s). A user's token may only name that profile's advertisers.
fn requested_advertisers(
    query: Option<&str>,
    profile: &str,
    own: Option<&crate::users::UserProfile>,
) -> Result<Vec<String>, ApiError> {
    let ids = query_list(query, "advertiserIds");
    if let Some(own) = own {
        let mine: Vec<String> = own
            .advertisers
            .iter()
            .map(|a| a.advertiser_id.clone())
            .collect();
        if ids.is_empty() {
            return Ok(mine);
        }
        if let Some(other) = ids.iter().find(|id| !mine.contains(id)) {
            return Err(ApiError::bad_request(format!(
                "Invalid advertiser identifier '{other}'"
            )));
        }
        return Ok(ids);
    }
    if ids.is_empty() {
        return Ok(vec![profile.to_owned()]);
    }
    for id in &ids {
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_request(format!(
                "Invalid advertiser identifier '{id}'"
            )));
        }
    }
    Ok(ids)
}

fn requested_publishers(query: Option<&str>) -> Result<Vec<String>, ApiError> {
    let ids = query_list(query, "publisherIds");
    if ids.is_empty() {
        return Err(ApiError::bad_request("publisherIds is required"));
    }
    Ok(ids)
}

pub async fn non_macro_template_tags(
    State(state): State<SimState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<AttributionTagResponse>, ApiError> {
    let (profile, own) = auth::check_scoped_user(&state, &headers)?;
    let publishers = requested_publishers(query.as_deref())?;
    let own_publisher = &state.config().publisher_id;
    if let Some(other) = publishers.iter().find(|p| *p != own_publisher) {
        return Err(ApiError::bad_request(format!(
            "Publisher '{other}' is not supported for non-macro tags"
        )));
    }
    let advertisers = requested_advertisers(query.as_deref(), &profile, own.as_ref())?;
    let map = advertisers
        .into_iter()
        .map(|a| {
            let tag = non_macro_tag(&a);
            let per_publisher = publishers
                .iter()
                .map(|p| (p.clone(), tag.clone()))
                .collect();
            (a, per_publisher)
        })
        .collect();
    Ok(Json(AttributionTagResponse {
        advertiser_attribution_tag_map: map,
    }))
}

pub async fn macro_tags(
    State(state): State<SimState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<AttributionTagResponse>, ApiError> {
    let (profile, own) = auth::check_scoped_user(&state, &headers)?;
    let publishers = requested_publishers(query.as_deref())?;
    let advertisers = requested_advertisers(query.as_deref(), &profile, own.as_ref())?;
    let mut map = BTreeMap::new();
    for a in advertisers {
        let mut per_publisher = BTreeMap::new();
        for p in &publishers {
            let tag = macro_tag(&a, p).ok_or_else(|| {
                ApiError::bad_request(format!("Publisher '{p}' is not supported for macro tags"))
            })?;
            per_publisher.insert(p.clone(), tag);
        }
        map.insert(a, per_publisher);
    }
    Ok(Json(AttributionTagResponse {
        advertiser_attribution_tag_map: map,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maas_suffix_names_the_publisher() {
        assert_eq!(
            publisher_for_maas_suffix("quiver", "static_9_99").as_deref(),
            Some("Quiver")
        );
        assert_eq!(
            publisher_for_maas_suffix("quiver", "1_99").as_deref(),
            Some("Google Ads")
        );
        assert_eq!(publisher_for_maas_suffix("quiver", "77_99"), None);
    }

    #[test]
    fn lists_accept_both_styles() {
        let q = Some("publisherIds=a&publisherIds=b,c&advertiserIds=");
        assert_eq!(query_list(q, "publisherIds"), vec!["a", "b", "c"]);
        assert!(query_list(q, "advertiserIds").is_empty());
    }
}
