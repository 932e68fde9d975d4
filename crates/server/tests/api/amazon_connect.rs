//! A brand connects its own Amazon Ads account (#18), over HTTP against the real server and
//! the simulator's Login with Amazon: the consent page, the callback's code exchange, the
//! choice of profile and advertiser, links carrying that advertiser's tag, an advertiser
//! the authorisation cannot see, disconnecting and reconnecting. The failures of the
//! consent itself are in `amazon_connect_failures.rs`; the helpers here serve all of them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use url::Url;

use crate::support::*;

pub const BRAND: &str = "northwind";

/// A server with a secret key (PostgreSQL has no key file) and, when given, an SMTP sink.
pub async fn app_with(extra: &[&str]) -> TestApp {
    let key = quiver::secret_key::SecretKey::generate().to_base64();
    let mut args = vec!["--secret-key", key.as_str()];
    args.extend_from_slice(extra);
    TestApp::with_args(&args).await
}

/// Where the server's Amazon is: its in-process simulator or a standalone one.
pub fn sim_base(app: &TestApp) -> String {
    let base = app.running.amazon.base_url.as_ref().unwrap();
    base.as_str().trim_end_matches('/').to_owned()
}

/// `GET /sellers/amazon/connect`: the consent page's URL from the 303.
pub async fn connect(app: &TestApp, seller: &str, brand: &str, region: &str) -> Url {
    let r = app
        .get(
            &format!("/sellers/amazon/connect?brand_id={brand}&region={region}"),
            seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{:?}", r.body);
    Url::parse(r.header("location").unwrap()).unwrap()
}

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The simulated user's decision on the consent page: where the simulator redirects the
/// browser (Quiver's callback with `code` and `state`, or `error`).
pub async fn decide(app: &TestApp, consent: &Url, user: &str, decision: &str) -> Url {
    let page = app.client.get(consent.clone()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Approve") && html.contains("Deny"), "{html}");
    let mut action = consent.clone();
    action.set_query(None);
    let form = [
        ("client_id", param(consent, "client_id").unwrap()),
        ("redirect_uri", param(consent, "redirect_uri").unwrap()),
        ("state", param(consent, "state").unwrap()),
        ("scope", param(consent, "scope").unwrap()),
        ("user", user.to_owned()),
        ("decision", decision.to_owned()),
    ];
    let r = app.client.post(action).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
}

/// The browser arriving at Quiver's callback: status, `Location` and the body text.
pub async fn arrive(app: &TestApp, url: &Url) -> (StatusCode, Option<String>, String) {
    let r = app.client.get(url.clone()).send().await.unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, location, r.text().await.unwrap())
}

/// Connect → approve as `user` → callback; asserts the redirect into the web app.
pub async fn connect_as(app: &TestApp, seller: &str, brand: &str, region: &str, user: &str) {
    let consent = connect(app, seller, brand, region).await;
    let back = decide(app, &consent, user, "allow").await;
    let (status, location, body) = arrive(app, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/app#/amazon?brand_id={brand}&region={region}&connected=1").as_str())
    );
}

/// The simulator's user `login`, with its profiles and advertisers.
pub async fn sim_user(app: &TestApp, login: &str) -> Value {
    let users: Value = app
        .client
        .get(format!("{}/_sim/users", sim_base(app)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == login)
        .unwrap()
        .clone()
}

/// `login`'s profile in `country`: (profile id, its first advertiser id).
pub async fn sim_pick(app: &TestApp, login: &str, country: &str) -> (String, String) {
    let user = sim_user(app, login).await;
    let p = user["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"]["countryCode"] == country)
        .unwrap_or_else(|| panic!("{login} has no {country} profile: {user}"));
    (
        p["profile"]["profileId"].as_i64().unwrap().to_string(),
        p["advertisers"][0]["advertiser_id"]
            .as_str()
            .or(p["advertisers"][0]["advertiserId"].as_str())
            .unwrap()
            .to_owned(),
    )
}

pub async fn region_of(app: &TestApp, seller: &str, brand: &str, region: &str) -> Value {
    let r = app
        .get(&format!("/sellers/brands/{brand}/amazon"), seller)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["brand_id"], brand);
    let regions = r.body["regions"].as_array().unwrap();
    assert_eq!(
        regions
            .iter()
            .map(|r| r["region"].clone())
            .collect::<Vec<_>>(),
        vec![json!("NA"), json!("EU"), json!("FE")]
    );
    regions
        .iter()
        .find(|r| r["region"] == region)
        .unwrap()
        .clone()
}

pub async fn choose(
    app: &TestApp,
    seller: &str,
    brand: &str,
    region: &str,
    profile: &str,
    advertiser: &str,
) -> Reply {
    app.send(
        Method::PUT,
        &format!("/sellers/brands/{brand}/amazon/{region}"),
        Some(seller),
        |r| r.json(&json!({"profile_id": profile, "advertiser_id": advertiser})),
    )
    .await
}

/// The full flow in one region: connected through consent as `user`, `country`'s profile
/// and its first advertiser chosen. Returns the advertiser id.
pub async fn connect_and_choose(
    app: &TestApp,
    seller: &str,
    brand: &str,
    region: &str,
    user: &str,
    country: &str,
) -> String {
    connect_as(app, seller, brand, region, user).await;
    let (profile, advertiser) = sim_pick(app, user, country).await;
    let r = choose(app, seller, brand, region, &profile, &advertiser).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    advertiser
}

/// The ad-group-less part of a link's `maas` value names the advertiser (simulator tags).
pub fn carries_advertiser(link_url: &str, advertiser: &str) -> bool {
    link_url.contains(&format!("maas=maas_adg_api_{advertiser}_"))
}

async fn full_flow(region: &str, country: &str, marketplace: Option<&str>) {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let consent = connect(&app, &seller, BRAND, region).await;
    // The simulator's consent page, with what Login with Amazon requires.
    assert_eq!(
        consent.as_str().split('?').next().unwrap(),
        format!("{}/ap/oa", app.sim().base_url())
    );
    assert_eq!(
        param(&consent, "client_id").as_deref(),
        Some("quiver-sim-client")
    );
    assert_eq!(
        param(&consent, "scope").as_deref(),
        Some("advertising::campaign_management")
    );
    assert_eq!(param(&consent, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&consent, "redirect_uri"),
        Some(format!("{}/sellers/amazon/callback", app.base))
    );
    let state = param(&consent, "state").unwrap();
    assert!(state.len() >= 32, "{state}");

    let back = decide(&app, &consent, "alice", "allow").await;
    assert!(
        back.as_str()
            .starts_with(&format!("{}/sellers/amazon/callback?", app.base))
    );
    assert_eq!(param(&back, "state").as_deref(), Some(state.as_str()));
    let (status, location, _) = arrive(&app, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.unwrap(),
        format!("/app#/amazon?brand_id={BRAND}&region={region}&connected=1")
    );

    let now = region_of(&app, &seller, BRAND, region).await;
    assert_eq!(now["status"], "connected", "{now}");
    assert_eq!(now["via"], "brand");
    assert_eq!(now["profile_id"], Value::Null);
    assert!(now["connected_at"].as_str().unwrap().ends_with('Z'));

    // Before an advertiser is chosen, links for the brand there are refused.
    let creator = app.token(CREATOR).await;
    if let Some(m) = marketplace {
        let r = app.create_link(&creator, "B0D45KS7QM", m).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
        assert_eq!(r.code(), "brand_not_connected");
    }

    let r = app
        .get(
            &format!("/sellers/brands/{BRAND}/amazon/{region}/profiles"),
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (profile, advertiser) = sim_pick(&app, "alice", country).await;
    let profiles = r.body["profiles"].as_array().unwrap();
    let alice = sim_user(&app, "alice").await;
    assert_eq!(profiles.len(), alice["profiles"].as_array().unwrap().len());
    let listed = profiles
        .iter()
        .find(|p| p["profile_id"] == profile)
        .unwrap();
    assert_eq!(listed["country_code"], country);
    assert!(
        listed["advertisers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["advertiser_id"] == advertiser.as_str())
    );
    // Only what alice's authorisation sees: none of bob's profiles.
    let bob = sim_user(&app, "bob").await;
    for p in bob["profiles"].as_array().unwrap() {
        let id = p["profile"]["profileId"].as_i64().unwrap().to_string();
        assert!(!profiles.iter().any(|l| l["profile_id"] == id.as_str()));
    }

    let r = choose(&app, &seller, BRAND, region, &profile, &advertiser).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["profile_id"], profile.as_str());
    assert_eq!(r.body["advertiser_id"], advertiser.as_str());
    assert_eq!(r.body["status"], "connected");
    assert!(r.body["last_ok_at"].as_str().is_some());
    assert_eq!(region_of(&app, &seller, BRAND, region).await, r.body);
    // The seller's overview says the brand is connected through its own account.
    let r = app
        .get(
            "/sellers/reports/summary?start=2026-01-01&end=2026-01-02",
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let nw = r.body["brands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["brand_id"] == BRAND)
        .unwrap()
        .clone();
    assert_eq!(nw["amazon"], "brand", "{nw}");
    let want = if region == "FE" { 3 } else { 2 };
    assert_eq!(nw["amazon_accounts"], want, "{nw}");

    if let Some(m) = marketplace {
        let r = app.create_link(&creator, "B0D45KS7QM", m).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let url = r.body["url"].as_str().unwrap();
        assert!(carries_advertiser(url, &advertiser), "{url}");
    }
    // The token was used with alice's authorisation: the simulator saw a code exchange.
    let stats = app.running.amazon.client.stats();
    assert!(stats.calls > 0);
}

#[tokio::test]
async fn a_brand_connects_in_na_and_its_new_links_carry_its_advertisers_tag() {
    full_flow("NA", "US", Some("amazon.com")).await;
}

#[tokio::test]
async fn a_brand_connects_in_eu_and_its_new_links_carry_its_advertisers_tag() {
    full_flow("EU", "DE", Some("amazon.de")).await;
}

#[tokio::test]
async fn a_brand_connects_in_fe_and_chooses_its_japanese_advertiser() {
    // Quiver has no FE marketplace yet, so no link; the connection itself is complete.
    full_flow("FE", "JP", None).await;
}

#[tokio::test]
async fn the_web_app_gets_the_consent_url_as_json() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let r = app
        .send(
            Method::GET,
            "/sellers/amazon/connect?brand_id=northwind&region=eu",
            Some(&seller),
            |r| r.header("accept", "application/json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let url = Url::parse(r.body["authorize_url"].as_str().unwrap()).unwrap();
    assert!(param(&url, "state").is_some());
    let expires = r.body["expires_at"].as_str().unwrap();
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(9) && left <= time::Duration::minutes(10),
        "{left}"
    );
}

#[tokio::test]
async fn connect_names_what_is_wrong_and_keeps_to_the_sellers_own_brands() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let r = app.get("/sellers/amazon/connect?region=NA", &seller).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "brand_id"]));
    let r = app
        .get(
            "/sellers/amazon/connect?brand_id=northwind&region=XX",
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "region"]));
    let r = app
        .get("/sellers/amazon/connect?brand_id=northwind", &seller)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "region"]));
    let r = app
        .get("/sellers/amazon/connect?brand_id=nope&region=NA", &seller)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "brand_not_found");
    // A publisher cannot start one; nor can anyone without a token.
    let creator = app.token(CREATOR).await;
    let r = app
        .get(
            "/sellers/amazon/connect?brand_id=northwind&region=NA",
            &creator,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(
            Method::GET,
            "/sellers/amazon/connect?brand_id=northwind&region=NA",
            None,
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for path in [
        "/sellers/brands/nope/amazon",
        "/sellers/brands/nope/amazon/NA/profiles",
    ] {
        let r = app.get(path, &seller).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .get("/sellers/brands/northwind/amazon/XX/profiles", &seller)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["path", "region"]));
}

#[tokio::test]
async fn demo_brands_show_the_platform_connection_until_they_connect_their_own() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let na = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(na["status"], "connected");
    assert_eq!(na["via"], "platform");
    assert_eq!(na["advertiser_id"], "4000000001");
    let fe = region_of(&app, &seller, BRAND, "FE").await;
    assert_eq!(fe["status"], "not_connected");
    assert_eq!(fe["via"], Value::Null);
    let r = app
        .get("/sellers/brands/northwind/amazon/NA/profiles", &seller)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "brand_not_connected");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("The brand must reconnect its Amazon Ads account")
    );
}

/// How many authorisations are stored, behind the API's back.
pub async fn stored_connections(app: &TestApp) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM amazon_connections";
    match &app.running.state.db {
        quiver::store::Db::Sqlite { read, .. } => sqlx::query_scalar(SQL).fetch_one(read).await,
        quiver::store::Db::Postgres(pool, _) => sqlx::query_scalar(SQL).fetch_one(pool).await,
    }
    .unwrap()
}

#[tokio::test]
async fn choosing_an_advertiser_the_authorisation_cannot_see_is_a_422_naming_the_field() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    connect_as(&app, &seller, BRAND, "NA", "alice").await;
    let (alice_profile, alice_adv) = sim_pick(&app, "alice", "US").await;
    let (bob_profile, bob_adv) = sim_pick(&app, "bob", "US").await;
    let r = choose(&app, &seller, BRAND, "NA", &bob_profile, &bob_adv).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "profile_id"]));
    let r = choose(&app, &seller, BRAND, "NA", &alice_profile, &bob_adv).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "advertiser_id"]));
    let r = app
        .send(
            Method::PUT,
            "/sellers/brands/northwind/amazon/NA",
            Some(&seller),
            |r| r.json(&json!({"profile_id": alice_profile})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "advertiser_id"]));
    // Nothing was chosen by the refusals; the right pair (as numbers, too) is taken.
    assert_eq!(
        region_of(&app, &seller, BRAND, "NA").await["advertiser_id"],
        Value::Null
    );
    let r = app
        .send(
            Method::PUT,
            "/sellers/brands/northwind/amazon/NA",
            Some(&seller),
            |r| {
                r.json(&json!({
                    "profile_id": alice_profile.parse::<u64>().unwrap(),
                    "advertiser_id": alice_adv,
                }))
            },
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["advertiser_id"], alice_adv.as_str());
}

#[tokio::test]
async fn reconnecting_as_another_amazon_user_asks_for_the_advertiser_again() {
    let app = app_with(&[]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let alice_adv = connect_and_choose(&app, &seller, BRAND, "NA", "alice", "US").await;
    // Reconnecting as alice keeps the choice (checked with her new authorisation)...
    connect_as(&app, &seller, BRAND, "NA", "alice").await;
    assert_eq!(
        region_of(&app, &seller, BRAND, "NA").await["advertiser_id"],
        alice_adv.as_str()
    );
    // ...as bob, who cannot see alice's advertiser, it is cleared: links wait for a choice.
    connect_as(&app, &seller, BRAND, "NA", "bob").await;
    let na = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(na["status"], "connected");
    assert_eq!(na["advertiser_id"], Value::Null, "{na}");
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "brand_not_connected");
    let (profile, bob_adv) = sim_pick(&app, "bob", "US").await;
    let r = choose(&app, &seller, BRAND, "NA", &profile, &bob_adv).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.create_link(&creator, "B0D45KS7QM", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(carries_advertiser(
        r.body["url"].as_str().unwrap(),
        &bob_adv
    ));
}
