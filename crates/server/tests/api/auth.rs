//! `POST /token`, `/sellers/token`, refresh, revocation, bearer checks and throttling.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn password_grant_returns_an_opaque_bearer_token() {
    let app = TestApp::spawn().await;
    for path in ["/token", "/sellers/token"] {
        for email in [CREATOR, SELLER] {
            let r = app
                .post_form(path, &[("username", email), ("password", PASSWORD)])
                .await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(r.body["token_type"], "bearer");
            assert_eq!(r.body["expires_in"], 3600);
            let access = r.body["access_token"].as_str().unwrap();
            assert!(access.len() >= 43, "at least 256 bits");
            assert!(r.body["refresh_token"].as_str().unwrap().len() >= 43);
        }
    }
    // grant_type=password, ignored OAuth fields, and any case of the username.
    let r = app
        .post_form(
            "/token",
            &[
                ("grant_type", "password"),
                ("username", "  Creator@Example.com "),
                ("password", PASSWORD),
                ("scope", "x"),
                ("client_id", "y"),
                ("client_secret", "z"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::spawn().await;
    let wrong = app
        .post_form(
            "/token",
            &[("username", CREATOR), ("password", "nope-nope")],
        )
        .await;
    let unknown = app
        .post_form(
            "/token",
            &[("username", "ghost@example.com"), ("password", "nope-nope")],
        )
        .await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["detail"], "Incorrect username or password");
        assert_eq!(r.code(), "bad_credentials");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn missing_fields_and_unsupported_grants() {
    let app = TestApp::spawn().await;
    let r = app.post_form("/token", &[("username", CREATOR)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["detail"][0]["loc"],
        serde_json::json!(["body", "password"])
    );
    assert_eq!(r.body["detail"][0]["type"], "missing");

    let r = app.post_form("/token", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"].as_array().unwrap().len(), 2);

    let r = app
        .post_form("/token", &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["detail"], "unsupported grant_type");
    assert_eq!(r.code(), "unsupported_grant_type");

    let r = app
        .post_form("/token", &[("grant_type", "refresh_token")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_session() {
    let app = TestApp::spawn().await;
    let first = app.login(CREATOR).await;
    let refresh = first["refresh_token"].as_str().unwrap();

    let second = app
        .post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let new_access = second.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/get_affiliateID", &new_access).await.status,
        StatusCode::OK
    );

    // The old refresh token is spent: using it again is refused, and (as it may have
    // leaked) every token of the session stops working.
    let again = app
        .post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body["detail"], "invalid refresh token");
    assert_eq!(again.code(), "invalid_grant");
    let r = app.get("/get_affiliateID", &new_access).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_token");

    let unknown = app
        .post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", "nope")],
        )
        .await;
    assert_eq!(unknown.code(), "invalid_grant");
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused() {
    let app = TestApp::with_args(&["--token-ttl", "1"]).await;
    let token = app.token(CREATOR).await;
    assert_eq!(
        app.get("/get_affiliateID", &token).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = app.get("/get_affiliateID", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["detail"], "Could not validate credentials");

    let app = TestApp::spawn().await;
    let token = app.token(CREATOR).await;
    assert_eq!(
        app.get("/get_affiliateID", &token).await.status,
        StatusCode::OK
    );
    let r = app.post_form("/token/revoke", &[("token", &token)]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/get_affiliateID", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_token");
    // Unknown tokens are accepted silently (RFC 7009).
    assert_eq!(
        app.post_form("/token/revoke", &[("token", "whatever")])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn missing_malformed_and_wrong_kind_of_token() {
    let app = TestApp::spawn().await;
    let r = app.send(Method::GET, "/get_all_links", None, |r| r).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        serde_json::json!({"detail": "Not authenticated", "code": "not_authenticated"})
    );
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));

    for header in ["Basic abc", "Bearer", "Bearer not-a-real-token", "token"] {
        let r = app
            .send(Method::GET, "/get_all_links", None, |r| {
                r.header("authorization", header)
            })
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(r.code(), "invalid_token", "{header}");
    }

    let seller = app.token(SELLER).await;
    for path in ["/get_all_links", "/getproducts", "/get_affiliateID"] {
        let r = app.get(path, &seller).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.code(), "wrong_account_type");
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_username() {
    let app = TestApp::spawn().await;
    for _ in 0..10 {
        let r = app
            .post_form(
                "/token",
                &[("username", CREATOR), ("password", "wrong-password")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while throttled.
    let r = app
        .post_form("/token", &[("username", CREATOR), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "too_many_attempts");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Another account from the same address is not affected by this username's count.
    assert_eq!(
        app.post_form("/token", &[("username", CREATOR2), ("password", PASSWORD)])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failures_are_throttled_per_client_address() {
    let app = TestApp::spawn().await;
    for i in 0..50 {
        let user = format!("user{i}@example.com");
        let r = app
            .post_form(
                "/token",
                &[("username", &user), ("password", "wrong-password")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .post_form("/token", &[("username", CREATOR2), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
}
