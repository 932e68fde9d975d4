//! `account_type` on the password grant's token response (Quiver addition), so the web app
//! knows the account kind without a probing request.

use crate::support::*;

#[tokio::test]
async fn the_password_grant_names_the_account_kind_and_refresh_leaves_it_out() {
    let app = TestApp::spawn().await;
    let creator = app.login(CREATOR).await;
    assert_eq!(creator["account_type"], "publisher");
    assert_eq!(app.login(SELLER).await["account_type"], "seller");
    let refresh = creator["refresh_token"].as_str().unwrap();
    let r = app
        .post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert!(r.body.get("account_type").is_none(), "{:?}", r.body);
    assert!(r.body["access_token"].is_string());
}
