//! Page numbers in the older half of a link list are read from the list's far end
//! (issue #16): every page must hold the same links, in the same order, with the same
//! totals and next cursor as a walk from the newest link, for every filter.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn ids(body: &Value) -> Vec<String> {
    body["all_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_page_number_holds_the_same_links_as_the_whole_list() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let mut made = Vec::new();
    for i in 0..23 {
        let (asin, m) = [
            ("B0D45KS7QM", "amazon.com"),
            ("B0NWBOTL03", "amazon.com"),
            ("B0D45KS7QM", "amazon.de"),
        ][i % 3];
        let r = app
            .post_json(
                "/generate_attribution_link",
                &t,
                json!({"asin": asin, "marketplace": m, "link_name": format!("deep {i}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        made.push(r.body["id"].as_str().unwrap().to_owned());
    }
    // Archived links scattered through the list, so the default listing skips some.
    for id in made.iter().step_by(4) {
        let r = app
            .patch_json(&format!("/links/{id}"), &t, json!({"archived": true}))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }

    for filter in [
        "",
        "&archived=false",
        "&archived=true",
        "&archived=all",
        "&marketplace=amazon.com",
        "&asin=B0NWBOTL03&archived=all",
    ] {
        let whole = app
            .get(&format!("/get_all_links?limit=100{filter}"), &t)
            .await
            .body;
        let all = ids(&whole);
        let total = whole["total_count"].as_i64().unwrap();
        assert_eq!(total, all.len() as i64, "{filter}");
        assert!(total > 0, "{filter}");
        for limit in [4_usize, 5, 7] {
            let pages = all.len().div_ceil(limit);
            for page in 1..=pages + 1 {
                let r = app
                    .get(
                        &format!("/get_all_links?limit={limit}&page={page}{filter}"),
                        &t,
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{filter} {page}");
                let from = ((page - 1) * limit).min(all.len());
                let to = (page * limit).min(all.len());
                let want = &all[from..to];
                assert_eq!(ids(&r.body), want, "{filter} limit {limit} page {page}");
                assert_eq!(r.body["total_count"], total, "{filter} {page}");
                assert_eq!(r.body["fetched_count"], want.len());
                assert_eq!(
                    r.body["pagination_info"],
                    json!({
                        "current_page": page,
                        "total_pages": pages,
                        "items_start": if want.is_empty() { 0 } else { from + 1 },
                        // Past the end, the page's own offset (as before).
                        "items_end": (page - 1) * limit + want.len(),
                        "total_items": total,
                    }),
                    "{filter} limit {limit} page {page}"
                );
                // The cursor after a page continues right after it, and only a page
                // with links after it has one.
                match r.body["next_cursor"].as_str() {
                    Some(c) => {
                        assert!(to < all.len(), "{filter} {page}: a cursor after the end");
                        let next = app
                            .get(
                                &format!("/get_all_links?limit={limit}&cursor={c}{filter}"),
                                &t,
                            )
                            .await;
                        let want = &all[to..(to + limit).min(all.len())];
                        assert_eq!(ids(&next.body), want, "{filter} after page {page}");
                    }
                    None => assert!(
                        to == all.len(),
                        "{filter} limit {limit} page {page}: no cursor before the end"
                    ),
                }
            }
        }
    }
}

#[tokio::test]
async fn counts_stay_exact_across_servers_that_come_and_go() {
    // Each server's connections count in rows of their own (PostgreSQL); a later server
    // folds the rows of connections that have ended, and no link is counted twice or lost.
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let mut expected = 0_i64;
    let mut archived = 0_i64;
    for round in 0..3 {
        let app = TestApp::on_database(&url, &[]).await;
        let t = app.token(CREATOR2).await;
        let mut ids = Vec::new();
        for i in 0..4 {
            let r = app
                .post_json(
                    "/generate_attribution_link",
                    &t,
                    json!({"asin": "B0D45KS7QM", "marketplace": "amazon.com", "link_name": format!("r{round} {i}")}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            ids.push(r.body["id"].as_str().unwrap().to_owned());
        }
        expected += 4;
        let r = app
            .patch_json(&format!("/links/{}", ids[0]), &t, json!({"archived": true}))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        archived += 1;
        let all = app
            .get("/get_all_links?archived=all&limit=1", &t)
            .await
            .body;
        assert_eq!(all["total_count"], expected, "round {round}");
        let live = app.get("/get_all_links?limit=1", &t).await.body;
        assert_eq!(live["total_count"], expected - archived, "round {round}");
        let gone = app
            .get("/get_all_links?archived=true&limit=1", &t)
            .await
            .body;
        assert_eq!(gone["total_count"], archived, "round {round}");
        app.running.stop().await.unwrap();
    }
}
