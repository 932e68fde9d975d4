//! Several Quiver servers on one database, as behind a load balancer: migrations racing at
//! start, revocation, login throttling and page cursors seen by every server.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn servers_started_together_share_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    // Both migrate and seed at once; exactly one seed wins, neither fails.
    let (a, b) = tokio::join!(
        TestApp::on_database(&url, &[]),
        TestApp::on_database(&url, &[])
    );
    let t = a.token(CREATOR).await;
    // A token issued by one server is valid on the other.
    assert_eq!(b.get("/get_affiliateID", &t).await.status, StatusCode::OK);
    let accounts = a.running.state.db.count_accounts().await.unwrap();
    assert_eq!(accounts, 4, "the demo was seeded once");

    // A revocation through A reaches B within the cache's 5 seconds.
    assert_eq!(
        a.post_form("/token/revoke", &[("token", &t)]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        a.get("/get_affiliateID", &t).await.status,
        StatusCode::UNAUTHORIZED,
        "at once where revoked"
    );
    let started = Instant::now();
    loop {
        let r = b.get("/get_affiliateID", &t).await;
        if r.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "B still accepts a revoked token"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Failed logins counted on A throttle the same username on B.
    for _ in 0..10 {
        a.post_form(
            "/token",
            &[("username", CREATOR2), ("password", "wrong-password")],
        )
        .await;
    }
    let r = b
        .post_form("/token", &[("username", CREATOR2), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_cursor_from_one_server_pages_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let (a, b) = tokio::join!(
        TestApp::on_database(&url, &[]),
        TestApp::on_database(&url, &[])
    );
    let t = a.token(CREATOR).await;
    let first = a.get("/getproducts?marketplace=all&limit=3", &t).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let path = format!("/getproducts?marketplace=all&limit=3&cursor={cursor}");
    let on_a = a.get(&path, &t).await;
    let on_b = b.get(&path, &t).await;
    assert_eq!(on_b.status, StatusCode::OK, "{:?}", on_b.body);
    assert_eq!(on_b.body, on_a.body);
    assert_ne!(on_b.body["product_catalog"], first.body["product_catalog"]);

    // A server started later on the same database reads it too, and a server on another
    // database does not.
    let c = TestApp::on_database(&url, &[]).await;
    assert_eq!(c.get(&path, &t).await.body, on_a.body);
    let elsewhere = TestApp::spawn().await;
    let t2 = elsewhere.token(CREATOR).await;
    let r = elsewhere.get(&path, &t2).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
}
