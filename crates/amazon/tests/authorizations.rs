//! Brands' own Login with Amazon authorisations: the code exchange, calls made with a
//! brand's refresh token, one access-token cache per authorisation, and a revoked grant.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use amazon_sim::SimHandle;
use common::*;
use quiver_amazon::{AmazonError, Region};

const REDIRECT: &str = "http://quiver.example/sellers/amazon/callback";

/// A code approved on the simulator's consent page by `user`.
async fn approve(sim: &SimHandle, user: &str) -> String {
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/ap/oa", sim.base_url()))
        .form(&[
            ("client_id", "quiver-sim-client"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("scope", "advertising::campaign_management"),
            ("user", user),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn a_code_is_exchanged_for_a_refresh_token_that_sees_only_its_users_accounts() {
    let sim = default_sim().await;
    let client = client(&sim);
    let code = approve(&sim, "alice").await;
    let grant = client
        .exchange_code(Region::Eu, &code, REDIRECT, secs(5))
        .await
        .unwrap();
    assert_eq!(format!("{grant:?}"), "Grant(<redacted>)");
    let again = client
        .exchange_code(Region::Eu, &code, REDIRECT, secs(5))
        .await
        .unwrap_err();
    assert!(again.is_invalid_grant(), "{again:?}");

    let brand = client.authorized("conn-1", Region::Eu, grant.refresh_token());
    let profiles = brand.profiles(Region::Eu, secs(5)).await.unwrap();
    let alice = amazon_sim::users::user(sim.state().seed(), "alice").unwrap();
    assert_eq!(profiles.len(), alice.profiles.len());
    let uk = alice
        .profiles
        .iter()
        .find(|p| p.profile.country_code == "UK")
        .unwrap();
    let advertisers = brand
        .advertisers(Region::Eu, &uk.profile.profile_id.to_string(), secs(5))
        .await
        .unwrap();
    assert_eq!(advertisers, uk.advertisers);
    let tags = brand
        .non_macro_template_tags(
            Region::Eu,
            &uk.profile.profile_id.to_string(),
            &[PUBLISHER.to_owned()],
            &[uk.advertisers[0].advertiser_id.clone()],
            secs(5),
        )
        .await
        .unwrap();
    assert!(
        tags.advertiser_attribution_tag_map
            .contains_key(&uk.advertisers[0].advertiser_id)
    );
    // The platform token was never needed.
    assert_eq!(client.stats().token_refreshes, 0);
    assert_eq!(brand.stats().authorization_refreshes, 1);
}

#[tokio::test]
async fn concurrent_callers_of_one_authorisation_share_one_refresh() {
    let sim = default_sim().await;
    let client = client(&sim);
    let grant = client
        .exchange_code(Region::Na, &approve(&sim, "bob").await, REDIRECT, secs(5))
        .await
        .unwrap();
    let calls = (0..24).map(|_| {
        // A fresh handle per caller, as a server builds one per request.
        let brand = client.authorized("conn-7", Region::Na, grant.refresh_token());
        async move { brand.profiles(Region::Na, secs(5)).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    let brand = client.authorized("conn-7", Region::Na, grant.refresh_token());
    assert_eq!(brand.stats().authorization_refreshes, 1);

    // Another authorisation has its own cache.
    let other = client.authorized("conn-8", Region::Na, grant.refresh_token());
    other.profiles(Region::Na, secs(5)).await.unwrap();
    assert_eq!(other.stats().authorization_refreshes, 1);
    assert_eq!(brand.stats().authorization_refreshes, 1);
}

#[tokio::test]
async fn a_revoked_grant_is_reported_as_invalid_grant_not_as_an_outage() {
    let sim = default_sim().await;
    let client = client(&sim);
    let grant = client
        .exchange_code(Region::Na, &approve(&sim, "bob").await, REDIRECT, secs(5))
        .await
        .unwrap();
    let brand = client.authorized("conn-3", Region::Na, grant.refresh_token());
    brand.profiles(Region::Na, secs(5)).await.unwrap();
    assert_eq!(sim.state().revoke_user("bob"), 1);
    let started = tokio::time::Instant::now();
    let err = brand.profiles(Region::Na, secs(5)).await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    assert!(!err.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "not retried until the deadline"
    );
    // A refresh token nobody issued is just as final.
    let err = client
        .authorized("conn-4", Region::Na, "Atzr|made-up")
        .profiles(Region::Na, secs(5))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    assert!(matches!(
        AmazonError::Auth("invalid_client: x".into()),
        e if !e.is_invalid_grant()
    ));
}

#[tokio::test]
async fn codes_with_another_redirect_uri_or_expired_are_refused() {
    let sim = default_sim().await;
    let client = client(&sim);
    let err = client
        .exchange_code(
            Region::Fe,
            &approve(&sim, "alice").await,
            "http://other/cb",
            secs(5),
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    let code = approve(&sim, "alice").await;
    sim.state().expire_codes();
    let err = client
        .exchange_code(Region::Fe, &code, REDIRECT, secs(5))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
}
