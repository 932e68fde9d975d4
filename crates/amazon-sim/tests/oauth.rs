//! Login with Amazon's authorisation-code grant in the simulator: consent page, decision,
//! code exchange, users' own profiles and advertisers, and revocation.
#![allow(clippy::unwrap_used)]

mod common;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const CLIENT_ID: &str = "quiver-sim-client";
const SECRET: &str = "quiver-sim-secret";
const REDIRECT: &str = "http://quiver.example/sellers/amazon/callback";
const SCOPE: &str = "advertising::campaign_management";

fn no_redirects() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// Approves (or denies) as `user` and returns the redirect's query pairs.
async fn decide(base: &str, user: &str, decision: &str, state: &str) -> Vec<(String, String)> {
    let resp = no_redirects()
        .post(format!("{base}/ap/oa"))
        .form(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("scope", SCOPE),
            ("user", user),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn exchange(base: &str, code: &str, redirect: &str, secret: &str) -> (StatusCode, Value) {
    let resp = Client::new()
        .post(format!("{base}/auth/o2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

async fn refresh(base: &str, refresh_token: &str) -> (StatusCode, Value) {
    let resp = Client::new()
        .post(format!("{base}/auth/o2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

async fn get(base: &str, path: &str, access: &str, scope: Option<&str>) -> reqwest::Response {
    let mut req = Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(access)
        .header("Amazon-Advertising-API-ClientId", CLIENT_ID);
    if let Some(s) = scope {
        req = req.header("Amazon-Advertising-API-Scope", s);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_consent_page_offers_approve_and_deny_and_refuses_unknown_clients() {
    let sim = common::sim().await;
    let base = sim.base_url();
    let page = Client::new()
        .get(format!("{base}/ap/oa"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("scope", SCOPE),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("state", "st<1>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(">Approve</button>") && html.contains(">Deny</button>"));
    assert!(html.contains("value=\"st&lt;1&gt;\""), "state is escaped");
    assert!(html.contains("user-bob"));
    for (k, v) in [
        ("client_id", "someone-else"),
        ("scope", "profile"),
        ("response_type", "token"),
        ("redirect_uri", "not a url"),
    ] {
        let mut q = vec![
            ("client_id", CLIENT_ID),
            ("scope", SCOPE),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
        ];
        q.retain(|(key, _)| *key != k);
        q.push((k, v));
        let resp = no_redirects()
            .get(format!("{base}/ap/oa"))
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{k}={v}");
    }
}

#[tokio::test]
async fn denying_redirects_with_access_denied_and_the_state() {
    let sim = common::sim().await;
    let pairs = decide(&sim.base_url(), "alice", "deny", "s-123").await;
    assert_eq!(param(&pairs, "error"), Some("access_denied"));
    assert_eq!(param(&pairs, "state"), Some("s-123"));
    assert_eq!(param(&pairs, "code"), None);
}

#[tokio::test]
async fn an_approved_code_is_exchanged_once_for_a_users_own_profiles_and_advertisers() {
    let sim = common::sim().await;
    let base = sim.base_url();
    let pairs = decide(&base, "bob", "allow", "s-9").await;
    assert_eq!(param(&pairs, "state"), Some("s-9"));
    assert_eq!(param(&pairs, "scope"), Some(SCOPE));
    let code = param(&pairs, "code").unwrap().to_owned();

    let (status, tok) = exchange(&base, &code, REDIRECT, SECRET).await;
    assert_eq!(status, StatusCode::OK, "{tok}");
    let refresh_token = tok["refresh_token"].as_str().unwrap().to_owned();
    let access = tok["access_token"].as_str().unwrap().to_owned();
    assert_eq!(tok["token_type"], "bearer");
    assert!(tok["expires_in"].as_u64().unwrap() > 0);

    // Single use.
    let (status, err) = exchange(&base, &code, REDIRECT, SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "invalid_grant");

    let bob = amazon_sim::users::user(sim.state().seed(), "bob").unwrap();
    let profiles: Vec<Value> = get(&base, "/v2/profiles", &access, None)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = profiles
        .iter()
        .map(|p| p["profileId"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = bob.profiles.iter().map(|p| p.profile.profile_id).collect();
    assert_eq!(ids, want);

    let own = bob.profiles[0].profile.profile_id.to_string();
    let adv: Value = get(&base, "/attribution/advertisers", &access, Some(&own))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = adv["advertisers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["advertiserId"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(names[0], bob.profiles[0].advertisers[0].advertiser_id);

    // Alice's profile is not Bob's to use.
    let alice = amazon_sim::users::user(sim.state().seed(), "alice").unwrap();
    let theirs = alice.profiles[0].profile.profile_id.to_string();
    let resp = get(&base, "/attribution/advertisers", &access, Some(&theirs)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // A tag for an advertiser of another user is refused; one of its own is served.
    let tags = |adv: &str| {
        format!("/attribution/tags/nonMacroTemplateTag?publisherIds=quiver&advertiserIds={adv}")
    };
    let resp = get(
        &base,
        &tags(&alice.profiles[0].advertisers[0].advertiser_id),
        &access,
        Some(&own),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let mine = &bob.profiles[0].advertisers[1].advertiser_id;
    let resp = get(&base, &tags(mine), &access, Some(&own)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["advertiserAttributionTagMap"][mine]["quiver"]
            .as_str()
            .unwrap()
            .contains(mine)
    );

    // The refresh token works until the user revokes the grant.
    let (status, _) = refresh(&base, &refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    let revoked: Value = no_redirects()
        .post(format!("{base}/_sim/users/bob/revoke"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["grants_revoked"], 1);
    let (status, err) = refresh(&base, &refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "invalid_grant");
    let resp = get(&base, "/v2/profiles", &access, None).await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "access tokens end too"
    );
}

#[tokio::test]
async fn codes_need_the_same_redirect_uri_the_client_secret_and_expire() {
    let sim = common::sim().await;
    let base = sim.base_url();

    let code = |p: Vec<(String, String)>| param(&p, "code").unwrap().to_owned();
    let c = code(decide(&base, "alice", "allow", "a").await);
    let (status, err) = exchange(&base, &c, "http://elsewhere.example/cb", SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "invalid_grant");
    // The failed attempt used the code up.
    let (status, _) = exchange(&base, &c, REDIRECT, SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let c = code(decide(&base, "alice", "allow", "b").await);
    let (status, err) = exchange(&base, &c, REDIRECT, "wrong-secret").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"], "invalid_client");

    let c = code(decide(&base, "alice", "allow", "c").await);
    let resp = Client::new()
        .post(format!("{base}/_sim/oauth/expire-codes"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, err) = exchange(&base, &c, REDIRECT, SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "invalid_grant");

    // A code issued after the switch works as usual.
    let c = code(decide(&base, "alice", "allow", "d").await);
    let (status, _) = exchange(&base, &c, REDIRECT, SECRET).await;
    assert_eq!(status, StatusCode::OK);

    let users: Value = Client::new()
        .get(format!("{base}/_sim/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().unwrap().len(), 3);
    let resp = Client::new()
        .post(format!("{base}/_sim/users/nobody/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_platform_token_still_sees_everything() {
    let sim = common::sim().await;
    let api = common::Api::new(sim).await;
    let resp = api.get("/attribution/advertisers").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["advertisers"][0]["advertiserId"], common::PROFILE);
}
