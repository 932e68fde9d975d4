//! Per-call overhead of `AmazonClient` (token cache, breaker, retry loop, timeouts, stats)
//! compared with a bare reqwest GET of the same URL with the same headers.
//!
//! `cargo run --release -p quiver-amazon --example overhead [N]`
//!
//! Both sides run against the in-process simulator with no faults and no latency, both
//! read and deserialize the body, and the calls are interleaved so machine noise hits both.

use std::time::Duration;

use amazon_sim::SimConfig;
use quiver_amazon::wire::{AttributionTagResponse, LwaTokenResponse};
use quiver_amazon::{AmazonClient, ClientConfig, Credentials, Endpoints, Region};
use tokio::time::Instant;

const PROFILE: &str = "1234567890";

fn summary(name: &str, mut v: Vec<Duration>) -> f64 {
    v.sort();
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    let mean = v.iter().sum::<Duration>().as_secs_f64() / v.len() as f64;
    println!(
        "{name:<16} p50 {:>8.1} µs   p99 {:>8.1} µs   mean {:>8.1} µs",
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        mean * 1e6
    );
    mean
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2000);
    let sim_cfg = SimConfig::default();
    let sim = amazon_sim::spawn(sim_cfg.clone(), "127.0.0.1:0".parse()?).await?;
    let base = url::Url::parse(&sim.base_url())?;
    let creds = Credentials {
        client_id: sim_cfg.client_id.clone(),
        client_secret: sim_cfg.client_secret.clone(),
        refresh_token: sim_cfg.refresh_token.clone(),
    };
    let client = AmazonClient::new(ClientConfig::new(Endpoints::single_host(&base), creds))?;

    // The bare side gets its own token, the way any caller would.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let token: LwaTokenResponse = bare
        .post(format!("{}/auth/o2/token", sim.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", sim_cfg.refresh_token.as_str()),
            ("client_id", sim_cfg.client_id.as_str()),
            ("client_secret", sim_cfg.client_secret.as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    let bearer = format!("Bearer {}", token.access_token);
    let url = format!(
        "{}/attribution/tags/nonMacroTemplateTag?publisherIds={}&advertiserIds={PROFILE}",
        sim.base_url(),
        sim_cfg.publisher_id
    );
    let publishers = [sim_cfg.publisher_id.clone()];
    let advertisers = [PROFILE.to_owned()];

    let via_client = || async {
        let deadline = Instant::now() + Duration::from_secs(3);
        client
            .non_macro_template_tags(Region::Na, PROFILE, &publishers, &advertisers, deadline)
            .await
    };
    let via_bare = || async {
        let body = bare
            .get(&url)
            .header("Authorization", &bearer)
            .header("Amazon-Advertising-API-ClientId", &sim_cfg.client_id)
            .header("Amazon-Advertising-API-Scope", PROFILE)
            .send()
            .await?
            .bytes()
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(serde_json::from_slice::<AttributionTagResponse>(
            &body,
        )?)
    };

    // Warm both connection pools and the token cache; check they agree.
    for _ in 0..200 {
        let a = via_client().await?;
        let b = via_bare().await?;
        assert_eq!(a, b);
    }

    let (mut c, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        // Alternate which goes first so neither always gets the warmer cache line.
        if i % 2 == 0 {
            let t = Instant::now();
            via_client().await?;
            c.push(t.elapsed());
            let t = Instant::now();
            via_bare().await?;
            b.push(t.elapsed());
        } else {
            let t = Instant::now();
            via_bare().await?;
            b.push(t.elapsed());
            let t = Instant::now();
            via_client().await?;
            c.push(t.elapsed());
        }
    }
    let (c50, b50) = {
        let mut cs = c.clone();
        let mut bs = b.clone();
        cs.sort();
        bs.sort();
        (cs[n / 2], bs[n / 2])
    };
    println!("{n} sequential nonMacroTemplateTag calls each, simulator at 0 ms latency");
    let cm = summary("AmazonClient", c);
    let bm = summary("bare reqwest", b);
    println!(
        "overhead         p50 {:>+8.1} µs                     mean {:>+8.1} µs",
        (c50.as_secs_f64() - b50.as_secs_f64()) * 1e6,
        (cm - bm) * 1e6
    );

    // The cache's fast path, which link creation takes on nearly every request.
    let cache =
        quiver_amazon::TagCache::new(client.clone(), quiver_amazon::TagCacheConfig::default());
    let key = quiver_amazon::TagKey {
        region: Region::Na,
        profile_id: PROFILE.into(),
        advertiser_id: PROFILE.into(),
        publisher_id: sim_cfg.publisher_id.clone(),
    };
    cache
        .template(&key, Instant::now() + Duration::from_secs(3))
        .await?;
    let hits = 100_000u32;
    let t = Instant::now();
    for _ in 0..hits {
        cache
            .template(&key, Instant::now() + Duration::from_secs(3))
            .await?;
    }
    println!(
        "TagCache hit     mean {:>8.3} µs over {hits} lookups",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(hits)
    );
    let st = client.stats();
    println!(
        "client stats: calls {} ok {} attempts {} token refreshes {}",
        st.calls, st.ok, st.attempts, st.token_refreshes
    );
    sim.shutdown();
    Ok(())
}
