//! A rough throughput check for the tag endpoint benchmarks hammer. Ignored by default:
//! run with `cargo test -p amazon-sim --release --test throughput -- --ignored --nocapture`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing-sensitive; run by hand"]
async fn serves_thousands_of_tag_requests_per_second() {
    let api = std::sync::Arc::new(Api::new(sim().await).await);
    let total = 5000;
    let workers = 32;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / workers {
                let r = api.get("/attribution/tags/nonMacroTemplateTag?publisherIds=quiver&advertiserIds=4242").await;
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = f64::from(total) / started.elapsed().as_secs_f64();
    println!("{rate:.0} requests/s");
    assert!(rate > 500.0, "{rate:.0} requests/s");
}
