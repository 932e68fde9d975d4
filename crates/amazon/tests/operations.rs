//! Contract tests of every operation against the simulator over HTTP.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use amazon_sim::{SimConfig, SimHandle};
use common::*;
use futures::StreamExt;
use quiver_amazon::wire::{GroupBy, ReportRequestBody, ReportType, metric};
use quiver_amazon::{AmazonError, Region};
use time::macros::date;

#[tokio::test]
async fn profiles_in_every_region() {
    let sim = default_sim().await;
    let c = client(&sim);
    for region in Region::ALL {
        let profiles = c.profiles(region, secs(3)).await.unwrap();
        assert!(!profiles.is_empty(), "{region}: no profiles");
        assert!(
            profiles
                .iter()
                .all(|p| p.profile_id > 0 && !p.currency_code.is_empty())
        );
    }
    let st = c.stats();
    assert_eq!(st.calls, 3);
    assert_eq!(st.ok, 3);
    // One token serves every call.
    assert_eq!(st.token_refreshes, 1);
}

#[tokio::test]
async fn advertisers_and_publishers() {
    let sim = default_sim().await;
    let c = client(&sim);
    let advertisers = c.advertisers(Region::Eu, PROFILE, secs(3)).await.unwrap();
    assert_eq!(advertisers.len(), 1);
    assert_eq!(advertisers[0].advertiser_id, PROFILE);
    let publishers = c.publishers(Region::Eu, PROFILE, secs(3)).await.unwrap();
    let quiver = publishers
        .iter()
        .find(|p| p.id == PUBLISHER)
        .expect("Quiver is a publisher");
    assert!(!quiver.macro_enabled);
    assert!(publishers.iter().any(|p| p.macro_enabled));
}

#[tokio::test]
async fn non_macro_template_tag() {
    let sim = default_sim().await;
    let c = client(&sim);
    let resp = c
        .non_macro_template_tags(
            Region::Na,
            PROFILE,
            &[PUBLISHER.into()],
            &["111".into(), "222".into()],
            secs(3),
        )
        .await
        .unwrap();
    let map = &resp.advertiser_attribution_tag_map;
    assert_eq!(map.len(), 2, "{map:?}");
    let tag = &map["111"][PUBLISHER];
    assert!(
        tag.starts_with("?maas=maas_adg_api_111_static_9_99&"),
        "{tag}"
    );
    assert!(tag.contains("aa_adgroupid={insertAdGroupId}"), "{tag}");
    assert!(map["222"][PUBLISHER].contains("maas_adg_api_222_"));
}

#[tokio::test]
async fn macro_tags_for_several_publishers() {
    let sim = default_sim().await;
    let c = client(&sim);
    let publishers = c.publishers(Region::Na, PROFILE, secs(3)).await.unwrap();
    let macro_ids: Vec<String> = publishers
        .iter()
        .filter(|p| p.macro_enabled)
        .map(|p| p.id.clone())
        .collect();
    assert!(macro_ids.len() >= 2);
    let resp = c
        .macro_tags(
            Region::Na,
            PROFILE,
            &macro_ids,
            &[ADVERTISER.into()],
            secs(3),
        )
        .await
        .unwrap();
    let tags = &resp.advertiser_attribution_tag_map[ADVERTISER];
    for id in &macro_ids {
        assert!(
            tags[id].starts_with("?maas=maas_adg_api_"),
            "{id}: {}",
            tags[id]
        );
    }
}

#[tokio::test]
async fn unknown_publisher_is_a_bad_request_not_retried() {
    let sim = default_sim().await;
    let c = client(&sim);
    c.profiles(Region::Na, secs(3)).await.unwrap();
    let before = sim.request_count();
    let err = c
        .non_macro_template_tags(
            Region::Na,
            PROFILE,
            &["no-such-publisher".into()],
            &[ADVERTISER.into()],
            secs(3),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AmazonError::BadRequest { status: 400, .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert_eq!(sim.request_count() - before, 1);
}

const TODAY: time::Date = date!(2026 - 03 - 01);

/// A simulator with clicks on 3 ad groups × 2 creatives over 4 days.
async fn sim_with_traffic() -> SimHandle {
    let sim = sim(SimConfig {
        today: Some(TODAY),
        ..SimConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    for day in 1..=4 {
        for group in 1..=3 {
            for creative in 1..=2 {
                let url = format!(
                    "https://www.amazon.com/dp/B0D45KS7QM?maas=maas_adg_api_{ADVERTISER}_static_9_99&ref_=aa_maas\
                     &tag=maas&aa_campaignid=c1&aa_adgroupid=g{group}&aa_creativeid=r{creative}"
                );
                let body = serde_json::json!({"url": url, "date": format!("2026-02-{:02}", 20 + day), "clicks": 50 + group * 10 + creative});
                let resp = http
                    .post(format!("{}/_sim/visits", sim.base_url()))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
            }
        }
    }
    sim
}

fn body(report_type: Option<ReportType>, group_by: Option<GroupBy>) -> ReportRequestBody {
    ReportRequestBody {
        advertiser_ids: Some(ADVERTISER.into()),
        count: Some(5000),
        cursor_id: None,
        start_date: "20260215".into(),
        end_date: "20260301".into(),
        group_by,
        metrics: None,
        report_type,
    }
}

#[tokio::test]
async fn performance_report_every_group_by() {
    let sim = sim_with_traffic().await;
    let c = client(&sim);
    let mut sizes = Vec::new();
    for group_by in [
        None,
        Some(GroupBy::Creative),
        Some(GroupBy::Adgroup),
        Some(GroupBy::Campaign),
    ] {
        let resp = c
            .report(
                Region::Na,
                PROFILE,
                &body(Some(ReportType::Performance), group_by),
                secs(5),
            )
            .await
            .unwrap();
        assert!(!resp.reports.is_empty(), "{group_by:?}");
        assert!(
            resp.cursor_id.as_deref().unwrap_or("").is_empty(),
            "one page expected"
        );
        let clicks: i64 = resp
            .reports
            .iter()
            .map(|e| e.count(metric::CLICK_THROUGHS))
            .sum();
        assert_eq!(clicks, 4 * (2 * (60 + 70 + 80) + 3 * 3), "{group_by:?}");
        for e in &resp.reports {
            assert!(e.campaign_id.is_some() && e.date.is_some());
            match group_by {
                None | Some(GroupBy::Creative) => {
                    assert!(e.creative_id.is_some() && e.ad_group_id.is_some())
                }
                Some(GroupBy::Adgroup) => {
                    assert!(e.creative_id.is_none() && e.ad_group_id.is_some())
                }
                Some(GroupBy::Campaign) => assert!(e.ad_group_id.is_none()),
            }
        }
        sizes.push(resp.reports.len());
    }
    // Default is CREATIVE; coarser groupings have fewer rows.
    assert_eq!(sizes[0], sizes[1]);
    assert!(sizes[1] > sizes[2] && sizes[2] > sizes[3], "{sizes:?}");
}

#[tokio::test]
async fn products_report() {
    let sim = sim_with_traffic().await;
    let c = client(&sim);
    let resp = c
        .report(
            Region::Na,
            PROFILE,
            &body(Some(ReportType::Products), None),
            secs(5),
        )
        .await
        .unwrap();
    assert!(!resp.reports.is_empty());
    for e in &resp.reports {
        assert!(
            e.product_asin.is_some() && e.product_conversion_type.is_some(),
            "{e:?}"
        );
        assert!(e.creative_id.is_none());
    }
    assert!(
        resp.reports
            .iter()
            .any(|e| e.product_asin.as_deref() == Some("B0D45KS7QM"))
    );
}

#[tokio::test]
async fn products_report_with_group_by_is_rejected() {
    let sim = default_sim().await;
    let c = client(&sim);
    let err = c
        .report(
            Region::Na,
            PROFILE,
            &body(Some(ReportType::Products), Some(GroupBy::Campaign)),
            secs(3),
        )
        .await
        .unwrap_err();
    match err {
        AmazonError::BadRequest {
            status: 400,
            details,
        } => assert!(details.contains("groupBy"), "{details}"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn cursor_paging_end_to_end_and_resume() {
    let sim = sim_with_traffic().await;
    let c = client(&sim);
    let whole = c
        .report(
            Region::Na,
            PROFILE,
            &body(None, Some(GroupBy::Creative)),
            secs(5),
        )
        .await
        .unwrap()
        .reports;
    assert!(whole.len() > 7);

    let mut paged_body = body(None, Some(GroupBy::Creative));
    paged_body.count = Some(3);
    let mut pages = Vec::new();
    let all = c
        .report_all(
            Region::Na,
            PROFILE,
            &paged_body,
            Duration::from_secs(3),
            |p| pages.push(p.clone()),
        )
        .await
        .unwrap();
    assert_eq!(all, whole);
    assert_eq!(pages.len(), whole.len().div_ceil(3));
    assert_eq!(pages[0].cursor, None);
    assert!(pages.last().unwrap().next_cursor.is_none());
    for w in pages.windows(2) {
        assert_eq!(w[0].next_cursor, w[1].cursor);
    }

    // Resume after a "crash" following page 2, from the checkpointed cursor.
    paged_body.cursor_id = pages[1].next_cursor.clone();
    let rest: Vec<_> = c
        .report_pages(Region::Na, PROFILE, &paged_body, Duration::from_secs(3))
        .map(|p| p.unwrap().entries)
        .concat()
        .await;
    assert_eq!(rest, whole[6..].to_vec());
}

#[tokio::test]
async fn paging_stops_at_the_first_error() {
    let sim = default_sim().await;
    let c = client(&sim);
    let mut b = body(None, None);
    b.cursor_id = Some("zz".into()); // not a cursor the simulator issued
    let pages: Vec<_> = c
        .report_pages(Region::Na, PROFILE, &b, Duration::from_secs(3))
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    assert!(
        matches!(pages[0], Err(AmazonError::BadRequest { .. })),
        "{pages:?}"
    );
}
