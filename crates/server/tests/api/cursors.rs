//! Page cursors are tamper-evident: only a cursor a server gave out is read, so a crafted
//! one (a negative offset, made-up keyset values) is a 422, never a page numbered -1.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quiver_domain::{Cursor, CursorKey};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn assert_bad_cursor(r: &Reply, what: &str) {
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {:?}",
        r.body
    );
    assert_eq!(
        r.body["detail"][0]["loc"],
        json!(["query", "cursor"]),
        "{what}"
    );
    assert_eq!(
        r.body["detail"][0]["msg"], "Invalid cursor: pass next_cursor back unchanged",
        "{what}"
    );
}

/// `cursor` with the character at `i` replaced by another base64url character.
fn with_char_changed(cursor: &str, i: usize) -> String {
    let mut chars: Vec<char> = cursor.chars().collect();
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

async fn links_page(app: &TestApp, t: &str, cursor: &str) -> Reply {
    app.get(&format!("/get_all_links?limit=2&cursor={cursor}"), t)
        .await
}

#[tokio::test]
async fn a_cursor_changed_anywhere_is_refused() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    for _ in 0..3 {
        assert_eq!(
            app.create_link(&creator, "B0D45KS7QM", "amazon.com")
                .await
                .status,
            StatusCode::CREATED
        );
    }
    for (path, token) in [
        ("/get_all_links?limit=2", &creator),
        ("/getproducts?marketplace=all&limit=2", &creator),
        ("/sellers/brands?limit=2", &seller),
        ("/sellers/products?marketplace=all&limit=2", &seller),
    ] {
        let first = app.get(path, token).await;
        let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
        // Passed back unchanged, it pages on.
        let next = app.get(&format!("{path}&cursor={cursor}"), token).await;
        assert_eq!(next.status, StatusCode::OK, "{path}: {:?}", next.body);
        for i in 0..cursor.len() {
            let tampered = with_char_changed(&cursor, i);
            let r = app.get(&format!("{path}&cursor={tampered}"), token).await;
            assert_bad_cursor(&r, &format!("{path}, character {i} changed"));
        }
    }
}

#[tokio::test]
async fn a_forged_cursor_with_a_negative_offset_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    for _ in 0..3 {
        app.create_link(&t, "B0D45KS7QM", "amazon.com").await;
    }
    let all = app.get("/get_all_links", &t).await;
    let newest = all.body["all_links"][0]["id"].as_str().unwrap().to_owned();
    let forged = json!({"after": newest, "offset": -4});

    // As the cursors were before they were signed: the position in base64.
    let unsigned = URL_SAFE_NO_PAD.encode(forged.to_string());
    assert_bad_cursor(&links_page(&app, &t, &unsigned).await, "unsigned");
    // Signed with a guessed key.
    let guessed = Cursor::encode(&CursorKey::derive(b"quiver"), &forged);
    assert_bad_cursor(&links_page(&app, &t, &guessed).await, "a guessed key");
    // Even signed with the server's own key, an offset out of range is refused.
    let key = &app.running.state.cursor_key;
    for offset in [-4, i64::from(i32::MAX) + 1] {
        let own = Cursor::encode(key, &json!({"after": newest, "offset": offset}));
        assert_bad_cursor(
            &links_page(&app, &t, &own).await,
            &format!("offset {offset}"),
        );
    }
    let fine = Cursor::encode(key, &json!({"after": newest, "offset": 1}));
    let r = links_page(&app, &t, &fine).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["pagination_info"]["current_page"], 1);
    assert_eq!(r.body["fetched_count"], 2);

    // A cursor of one listing is not read by another with a different position.
    let products = app.get("/getproducts?limit=2", &t).await;
    let theirs = products.body["next_cursor"].as_str().unwrap();
    assert_bad_cursor(&links_page(&app, &t, theirs).await, "a catalog cursor");
}
