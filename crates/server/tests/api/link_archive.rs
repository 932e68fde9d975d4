//! Archiving links (Quiver addition): `archived` in `PATCH /links/{id}` and on the link,
//! and the `archived=true|false|all` filter of `/get_all_links`.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn archived_links_leave_the_default_list_and_come_back_on_restore() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let kept = app.create_link(&t, "B0D45KS7QM", "amazon.com").await.body;
    let old = app.create_link(&t, "B0NWBOTL03", "amazon.com").await.body;
    assert_eq!(kept["archived"], false, "a new link is in use");
    let path = format!("/links/{}", old["id"].as_str().unwrap());

    let r = app.patch_json(&path, &t, json!({"archived": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["archived"], true);
    assert_eq!(r.body["active"], true, "archiving does not pause");
    assert_eq!(r.body["url"], old["url"], "the URL never changes");
    assert_eq!(app.get(&path, &t).await.body["archived"], true);

    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["all_links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let default = app.get("/get_all_links", &t).await.body;
    assert_eq!(default["total_count"], 1);
    assert_eq!(ids(&default), [kept["id"].as_str().unwrap()]);
    assert_eq!(
        app.get("/get_all_links?archived=false", &t).await.body["total_count"],
        1
    );
    let archived = app.get("/get_all_links?archived=true", &t).await.body;
    assert_eq!(ids(&archived), [old["id"].as_str().unwrap()]);
    assert_eq!(archived["all_links"][0]["archived"], true);
    let both = app.get("/get_all_links?archived=all", &t).await.body;
    assert_eq!(both["total_count"], 2);
    // Archived links still answer the legacy lookup by ASIN: they keep working.
    assert_eq!(
        app.get("/get_single_link?asin=B0NWBOTL03", &t).await.body["id"],
        old["id"]
    );

    // Archiving again is a no-op; restoring puts the link back in the default list.
    let again = app.patch_json(&path, &t, json!({"archived": true})).await;
    assert_eq!(again.body["archived"], true);
    let r = app
        .patch_json(&path, &t, json!({"archived": false, "link_name": "back"}))
        .await;
    assert_eq!(r.body["archived"], false);
    assert_eq!(r.body["link_name"], "back");
    assert_eq!(app.get("/get_all_links", &t).await.body["total_count"], 2);
    assert_eq!(
        app.get("/get_all_links?archived=true", &t).await.body["total_count"],
        0
    );
}

#[tokio::test]
async fn archive_values_are_validated_and_scoped_to_the_owner() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let link = app.create_link(&t, "B0D45KS7QM", "amazon.com").await.body;
    let path = format!("/links/{}", link["id"].as_str().unwrap());
    for bad in [json!({"archived": "yes"}), json!({"archived": 1})] {
        let r = app.patch_json(&path, &t, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(r.body["detail"][0]["loc"], json!(["body", "archived"]));
    }
    let r = app.get("/get_all_links?archived=maybe", &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "archived"]));

    let other = app.token(CREATOR2).await;
    let r = app
        .patch_json(&path, &other, json!({"archived": true}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, &t).await.body["archived"], false);
}

#[tokio::test]
async fn the_openapi_document_describes_archiving() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(reqwest::Method::GET, "/openapi.json", None, |r| r)
        .await
        .body;
    let params = doc["paths"]["/get_all_links"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params.iter().any(|p| p["name"] == "archived"), "{params:?}");
    assert!(doc["components"]["schemas"]["Link"]["properties"]["archived"].is_object());
    assert!(doc["components"]["schemas"]["PatchLinkBody"]["properties"]["archived"].is_object());
}
