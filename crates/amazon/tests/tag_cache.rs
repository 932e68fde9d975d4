//! The tag-template cache against the simulator: fresh, stale, outage, single-flight.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use quiver_amazon::{BreakerConfig, Region, TagCache, TagCacheConfig, TagError, TagKey};
use tokio::time::Instant;

fn key(advertiser: &str) -> TagKey {
    TagKey {
        region: Region::Eu,
        profile_id: PROFILE.into(),
        advertiser_id: advertiser.into(),
        publisher_id: PUBLISHER.into(),
    }
}

fn expected(advertiser: &str) -> String {
    format!(
        "?maas=maas_adg_api_{advertiser}_static_9_99&ref_=aa_maas&tag=maas\
         &aa_campaignid={{insertCampaignId}}&aa_adgroupid={{insertAdGroupId}}&aa_creativeid={{insertAdId}}"
    )
}

const HOUR: Duration = Duration::from_secs(3600);

fn cfg(ttl: Duration, max_stale: Duration) -> TagCacheConfig {
    TagCacheConfig {
        ttl,
        max_stale,
        refresh_ahead: Duration::ZERO,
    }
}

#[tokio::test]
async fn fresh_entries_are_served_from_memory() {
    let sim = default_sim().await;
    let cache = TagCache::new(client(&sim), TagCacheConfig::default());
    let first = cache.template(&key("42"), secs(3)).await.unwrap();
    assert_eq!(first.template, expected("42"));
    assert!(!first.stale);
    let before = sim.request_count();
    for _ in 0..100 {
        let t = cache.template(&key("42"), secs(3)).await.unwrap();
        assert_eq!(t, first);
    }
    assert_eq!(sim.request_count(), before);
    assert_eq!((cache.hits(), cache.misses()), (100, 1));
}

#[tokio::test]
async fn warm_cache_serves_through_a_full_outage() {
    let sim = default_sim().await;
    let cache = TagCache::new(client(&sim), cfg(HOUR, 7 * 24 * HOUR));
    cache.template(&key("7"), secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.outage = true));
    let t0 = Instant::now();
    let t = cache.template(&key("7"), secs(3)).await.unwrap();
    assert!(!t.stale);
    assert!(t0.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn stale_entry_is_used_when_amazon_fails() {
    let sim = default_sim().await;
    let cache = TagCache::new(client(&sim), cfg(Duration::from_millis(200), HOUR));
    let fresh = cache.template(&key("7"), secs(3)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    sim.set_faults(faults(|f| f.outage = true));
    let t = cache
        .template(&key("7"), within(Duration::from_millis(500)))
        .await
        .unwrap();
    assert!(t.stale);
    assert_eq!(t.template, fresh.template);
    assert_eq!(t.fetched_at, fresh.fetched_at);
    assert_eq!(cache.stale_served(), 1);
    // Amazon is back: the entry is renewed once the breaker (which the outage may have
    // opened, depending on how many retries fitted) lets a probe through.
    sim.set_faults(faults(|_| {}));
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    let t = loop {
        let t = cache.template(&key("7"), secs(3)).await.unwrap();
        if !t.stale || std::time::Instant::now() > give_up {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!t.stale && t.fetched_at > fresh.fetched_at);
}

#[tokio::test]
async fn cold_cache_in_an_outage_is_unavailable_with_retry_after() {
    let sim = default_sim().await;
    let c = client_with(&sim, |cfg| {
        cfg.breaker = BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(4),
        }
    });
    c.profiles(Region::Eu, secs(3)).await.unwrap();
    let cache = TagCache::new(c, TagCacheConfig::default());
    sim.set_faults(faults(|f| f.outage = true));
    let t0 = Instant::now();
    let err = cache.template(&key("9"), secs(3)).await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(3) + MARGIN);
    match err {
        // The breaker opened during the retries: Retry-After is its remaining open time.
        TagError::Unavailable { retry_after, cause } => {
            assert!(retry_after >= Duration::from_secs(1), "{retry_after:?}");
            assert!(retry_after <= Duration::from_secs(4), "{retry_after:?}");
            assert!(cause.is_transient(), "{cause:?}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Now the breaker is open: fast failure, still a sane Retry-After.
    let t0 = Instant::now();
    let err = cache.template(&key("10"), secs(3)).await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_millis(250));
    assert!(
        matches!(err, TagError::Unavailable { retry_after, .. } if retry_after >= Duration::from_secs(1))
    );
}

#[tokio::test]
async fn short_deadline_in_an_outage_still_gives_at_least_one_second() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Eu, secs(3)).await.unwrap();
    let cache = TagCache::new(c, TagCacheConfig::default());
    sim.set_faults(faults(|f| f.timeout_rate = 1.0));
    let err = cache
        .template(&key("9"), within(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TagError::Unavailable { retry_after, .. } if retry_after >= Duration::from_secs(1)),
        "{err:?}"
    );
    sim.shutdown();
}

#[tokio::test]
async fn entries_beyond_max_stale_are_not_used() {
    let sim = default_sim().await;
    let cache = TagCache::new(client(&sim), TagCacheConfig::default());
    let eight_days_ago = SystemTime::now() - 8 * 24 * HOUR;
    cache.insert(key("5"), expected("5"), eight_days_ago);
    let six_days_ago = SystemTime::now() - 6 * 24 * HOUR;
    cache.insert(key("6"), expected("6"), six_days_ago);
    sim.set_faults(faults(|f| f.outage = true));
    let err = cache
        .template(&key("5"), within(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert!(matches!(err, TagError::Unavailable { .. }), "{err:?}");
    let t = cache
        .template(&key("6"), within(Duration::from_millis(500)))
        .await
        .unwrap();
    assert!(t.stale);
    assert_eq!(t.fetched_at, six_days_ago);
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Eu, secs(3)).await.unwrap();
    sim.set_faults(faults(|f| f.latency_ms = 200));
    let cache = TagCache::new(c, TagCacheConfig::default());
    let before = sim.request_count();
    let calls = (0..32).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.template(&key("77"), secs(3)).await })
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap().template, expected("77"));
    }
    assert_eq!(sim.request_count() - before, 1);
    assert_eq!(cache.misses(), 32);
}

#[tokio::test]
async fn rejected_publisher_is_not_retried_nor_served_stale() {
    let sim = default_sim().await;
    let cache = TagCache::new(client(&sim), cfg(Duration::ZERO, HOUR));
    let k = TagKey {
        publisher_id: "not-a-publisher".into(),
        ..key("1")
    };
    cache.insert(k.clone(), "?old".into(), SystemTime::now());
    let err = cache.template(&k, secs(3)).await.unwrap_err();
    assert!(matches!(err, TagError::Rejected(_)), "{err:?}");
}

#[tokio::test]
async fn insert_and_snapshot_round_trip_and_keep_the_newest() {
    let sim = default_sim().await;
    let cache = TagCache::new(client(&sim), TagCacheConfig::default());
    let now = SystemTime::now();
    cache.insert(key("1"), "?new".into(), now);
    cache.insert(key("1"), "?older".into(), now - HOUR);
    let snap = cache.snapshot();
    assert_eq!(snap, vec![(key("1"), "?new".to_string(), now)]);
    // Warmed entries are served without asking Amazon.
    let before = sim.request_count();
    assert_eq!(
        cache.template(&key("1"), secs(3)).await.unwrap().template,
        "?new"
    );
    assert_eq!(sim.request_count(), before);
}

#[tokio::test]
async fn refresh_due_renews_entries_before_they_expire() {
    let sim = default_sim().await;
    let cfg = TagCacheConfig {
        ttl: HOUR,
        max_stale: 2 * HOUR,
        refresh_ahead: Duration::from_secs(600),
    };
    let cache = TagCache::new(client(&sim), cfg);
    let old = SystemTime::now() - Duration::from_secs(3100); // 500 s before expiry: due
    let young = SystemTime::now() - Duration::from_secs(60); // not due
    cache.insert(key("1"), "?outdated".into(), old);
    cache.insert(key("2"), "?young".into(), young);
    assert_eq!(cache.refresh_due().await, 1, "only the due entry");
    let snap = cache.snapshot();
    let one = snap.iter().find(|(k, ..)| *k == key("1")).unwrap();
    assert_eq!(one.1, expected("1"));
    assert!(one.2 > old);
    let snap = cache.snapshot();
    let two = snap.iter().find(|(k, ..)| *k == key("2")).unwrap();
    assert_eq!((two.1.as_str(), two.2), ("?young", young));
    // Refreshes are not counted as caller misses.
    assert_eq!(cache.misses(), 0);
}

#[tokio::test]
async fn no_tag_in_the_answer_is_missing() {
    let base = fake_server(|req| {
        if req.starts_with("POST /auth/o2/token") {
            (200, FAKE_TOKEN.to_string())
        } else {
            (200, r#"{"advertiserAttributionTagMap":{}}"#.to_string())
        }
    })
    .await;
    let c = quiver_amazon::AmazonClient::new(config_for(&base)).unwrap();
    let cache = TagCache::new(c, TagCacheConfig::default());
    let err = cache.template(&key("3"), secs(3)).await.unwrap_err();
    assert_eq!(err, TagError::Missing);
}
