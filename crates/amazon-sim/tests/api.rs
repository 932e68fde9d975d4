//! Login with Amazon, profiles, advertisers, publishers and tags over real HTTP.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use amazon_sim::SimConfig;
use common::*;
use quiver_amazon::wire::{
    AdvertiserResponse, AttributionTagResponse, LwaError, Profile, PublishersResponse,
};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn token_endpoint_issues_tokens_and_refuses_bad_credentials() {
    let sim = sim().await;
    let http = reqwest::Client::new();
    let url = format!("{}/auth/o2/token", sim.base_url());
    let ok = http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "quiver-sim-refresh"),
            ("client_id", "quiver-sim-client"),
            ("client_secret", "quiver-sim-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().starts_with("Atza|"));

    let cases = [
        (
            "refresh_token",
            "wrong",
            "quiver-sim-client",
            "quiver-sim-secret",
            400,
            "invalid_grant",
        ),
        (
            "refresh_token",
            "quiver-sim-refresh",
            "quiver-sim-client",
            "wrong",
            401,
            "invalid_client",
        ),
        (
            "refresh_token",
            "quiver-sim-refresh",
            "wrong",
            "quiver-sim-secret",
            401,
            "invalid_client",
        ),
        (
            "client_credentials",
            "quiver-sim-refresh",
            "quiver-sim-client",
            "quiver-sim-secret",
            400,
            "unsupported_grant_type",
        ),
    ];
    for (grant, refresh, id, secret, status, error) in cases {
        let r = http
            .post(&url)
            .form(&[
                ("grant_type", grant),
                ("refresh_token", refresh),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{error}");
        let e: LwaError = r.json().await.unwrap();
        assert_eq!(e.error, error);
    }
}

#[tokio::test]
async fn api_calls_check_bearer_client_id_and_scope() {
    let api = Api::new(sim().await).await;
    let path = "/attribution/advertisers";

    let no_bearer = api
        .http
        .get(api.url(path))
        .header("Amazon-Advertising-API-ClientId", "quiver-sim-client")
        .header("Amazon-Advertising-API-Scope", "1");
    assert_maas(no_bearer.send().await.unwrap(), 401).await;

    let bad_bearer = api
        .http
        .get(api.url(path))
        .bearer_auth("Atza|forged")
        .header("Amazon-Advertising-API-ClientId", "quiver-sim-client")
        .header("Amazon-Advertising-API-Scope", "1");
    assert_maas(bad_bearer.send().await.unwrap(), 401).await;

    let wrong_client = api
        .http
        .get(api.url(path))
        .bearer_auth(&api.token)
        .header("Amazon-Advertising-API-ClientId", "other")
        .header("Amazon-Advertising-API-Scope", "1");
    assert_maas(wrong_client.send().await.unwrap(), 401).await;

    let no_scope = api
        .http
        .get(api.url(path))
        .bearer_auth(&api.token)
        .header("Amazon-Advertising-API-ClientId", "quiver-sim-client");
    assert_maas(no_scope.send().await.unwrap(), 400).await;

    let bad_scope = api
        .http
        .get(api.url(path))
        .bearer_auth(&api.token)
        .header("Amazon-Advertising-API-ClientId", "quiver-sim-client")
        .header("Amazon-Advertising-API-Scope", "abc");
    assert_maas(bad_scope.send().await.unwrap(), 400).await;

    assert_eq!(api.get(path).await.status(), 200);
}

#[tokio::test]
async fn access_tokens_expire() {
    let sim = sim_with(SimConfig {
        access_token_ttl: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let api = Api::new(sim).await;
    assert_eq!(api.get("/attribution/publishers").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_maas(api.get("/attribution/publishers").await, 401).await;
}

#[tokio::test]
async fn profiles_are_deterministic_and_need_no_scope() {
    let a = Api::new(sim().await).await;
    let r = a
        .http
        .get(a.url("/v2/profiles"))
        .bearer_auth(&a.token)
        .header("Amazon-Advertising-API-ClientId", "quiver-sim-client")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let profiles: Vec<Profile> = r.json().await.unwrap();
    let countries: Vec<&str> = profiles.iter().map(|p| p.country_code.as_str()).collect();
    for c in ["US", "CA", "UK", "DE", "JP"] {
        assert!(countries.contains(&c), "{c}");
    }
    let de = profiles.iter().find(|p| p.country_code == "DE").unwrap();
    assert_eq!(de.currency_code, "EUR");
    assert_eq!(de.account_info.marketplace_string_id, "A1PA6795UKMFR9");

    let b = Api::new(sim().await).await;
    let again: Vec<Profile> = b.get("/v2/profiles").await.json().await.unwrap();
    assert_eq!(profiles, again);
    let other = Api::new(
        sim_with(SimConfig {
            seed: 7,
            ..SimConfig::default()
        })
        .await,
    )
    .await;
    let other: Vec<Profile> = other.get("/v2/profiles").await.json().await.unwrap();
    assert_ne!(profiles, other);
}

#[tokio::test]
async fn advertisers_and_publishers() {
    let api = Api::new(sim().await).await;
    let adv: AdvertiserResponse = api
        .get("/attribution/advertisers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(adv.advertisers.len(), 1);
    assert_eq!(adv.advertisers[0].advertiser_id, PROFILE);
    assert_eq!(
        adv.advertisers[0].advertiser_name,
        format!("Advertiser {PROFILE}")
    );

    let pubs: PublishersResponse = api
        .get("/attribution/publishers")
        .await
        .json()
        .await
        .unwrap();
    let quiver = pubs.publisher.iter().find(|p| p.id == "quiver").unwrap();
    assert_eq!(quiver.name, "Quiver");
    assert!(!quiver.macro_enabled);
    assert!(
        pubs.publisher
            .iter()
            .any(|p| p.name == "Google Ads" && p.macro_enabled)
    );
    assert!(
        pubs.publisher
            .iter()
            .any(|p| p.name == "Facebook" && p.macro_enabled)
    );
}

#[tokio::test]
async fn non_macro_tags_encode_the_advertiser() {
    let api = Api::new(sim().await).await;
    let tags: AttributionTagResponse = api
        .get("/attribution/tags/nonMacroTemplateTag?publisherIds=quiver&advertiserIds=4242&advertiserIds=77")
        .await
        .json()
        .await
        .unwrap();
    let map = &tags.advertiser_attribution_tag_map;
    assert_eq!(map.len(), 2);
    assert_eq!(
        map["4242"]["quiver"],
        "?maas=maas_adg_api_4242_static_9_99&ref_=aa_maas&tag=maas&aa_campaignid={insertCampaignId}&aa_adgroupid={insertAdGroupId}&aa_creativeid={insertAdId}"
    );
    assert!(map["77"]["quiver"].contains("maas_adg_api_77_"));

    // Comma-separated lists work too, and without advertiserIds the profile's advertiser is used.
    let tags: AttributionTagResponse = api
        .get("/attribution/tags/nonMacroTemplateTag?publisherIds=quiver")
        .await
        .json()
        .await
        .unwrap();
    assert!(tags.advertiser_attribution_tag_map.contains_key(PROFILE));

    // The raw JSON uses Amazon's field name.
    let raw: Value = api
        .get("/attribution/tags/nonMacroTemplateTag?publisherIds=quiver&advertiserIds=1,2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        raw["advertiserAttributionTagMap"]
            .as_object()
            .unwrap()
            .len(),
        2
    );

    for bad in [
        "/attribution/tags/nonMacroTemplateTag?publisherIds=unknown&advertiserIds=1",
        "/attribution/tags/nonMacroTemplateTag?publisherIds=1&advertiserIds=1",
        "/attribution/tags/nonMacroTemplateTag?advertiserIds=1",
        "/attribution/tags/nonMacroTemplateTag?publisherIds=quiver&advertiserIds=abc",
    ] {
        assert_maas(api.get(bad).await, 400).await;
    }
}

#[tokio::test]
async fn macro_tags_for_macro_publishers_only() {
    let api = Api::new(sim().await).await;
    let tags: AttributionTagResponse = api
        .get("/attribution/tags/macroTag?publisherIds=1,2&advertiserIds=4242")
        .await
        .json()
        .await
        .unwrap();
    let m = &tags.advertiser_attribution_tag_map["4242"];
    assert!(m["1"].contains("aa_adgroupid={adgroupid}"));
    assert!(m["2"].contains("{{adset.id}}"));
    assert_maas(
        api.get("/attribution/tags/macroTag?publisherIds=quiver&advertiserIds=1")
            .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn unknown_paths_are_404_maas_errors() {
    let api = Api::new(sim().await).await;
    assert_maas(
        api.authed(Method::GET, "/attribution/nothing")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn catalog_and_clock_admin() {
    let api = Api::new(sim().await).await;
    let r = api
        .sim_post(
            "/_sim/catalog",
            json!({"advertiserId": "4242", "products": [
                {"asin": "B000000001", "marketplace": "amazon.com", "name": "Tent", "price": "19.99"},
                {"asin": "B000000002", "marketplace": "amazon.com", "name": "Stove", "price": 5}
            ]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["total"], 2);
    for bad in [
        json!({"advertiserId": "x", "products": []}),
        json!({"advertiserId": "1", "products": [{"asin": "short", "marketplace": "amazon.com", "price": "1"}]}),
        json!({"advertiserId": "1", "products": [{"asin": "B000000001", "marketplace": "amazon.jp", "price": "1"}]}),
        json!({"advertiserId": "1", "products": [{"asin": "B000000001", "marketplace": "amazon.com", "price": "1.999"}]}),
    ] {
        assert_maas(api.sim_post("/_sim/catalog", bad).await, 400).await;
    }

    let clock: Value = api
        .http
        .get(api.url("/_sim/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["today"], "2026-03-01");
    let r = api
        .sim_put("/_sim/clock", json!({"today": "2026-04-02"}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(api.sim.today(), time::macros::date!(2026 - 04 - 02));
    assert_maas(
        api.sim_put("/_sim/clock", json!({"today": "2026-02-30"}))
            .await,
        400,
    )
    .await;
}
