//! Joining Quiver (issue 17): sign-up, verification, passwords, sessions and API keys,
//! over HTTP with a real SMTP server reading what Quiver sends.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::mailbox::{Mailbox, token};
use crate::support::{CREATOR, PASSWORD, SELLER, TestApp};

const STRONG: &str = "violet-harbour-tangent-42";
const STRONGER: &str = "copper kettle whistles at dawn";

async fn with_mail(extra: &[&str]) -> (TestApp, Mailbox) {
    let mailbox = Mailbox::start().await;
    let url = mailbox.url();
    let mut args = vec!["--smtp-url", url.as_str(), "--bulk-retry-base-ms", "50"];
    args.extend_from_slice(extra);
    (TestApp::with_args(&args).await, mailbox)
}

async fn post(app: &TestApp, path: &str, body: Value) -> crate::support::Reply {
    app.send(Method::POST, path, None, |r| r.json(&body)).await
}

async fn signup(app: &TestApp, email: &str) -> crate::support::Reply {
    post(
        app,
        "/signup",
        json!({"email": email, "password": STRONG, "display_name": "New Creator"}),
    )
    .await
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> crate::support::Reply {
    app.post_form("/token", &[("username", email), ("password", password)])
        .await
}

async fn access(app: &TestApp, email: &str, password: &str) -> String {
    let r = login(app, email, password).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_creator_signs_up_verifies_and_only_then_creates_links() {
    let (app, mail) = with_mail(&[]).await;
    let r = signup(&app, "New.Creator@Example.com ").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let message = mail.wait("new.creator@example.com", 1).await;
    assert!(message.contains("Confirm your e-mail address"), "{message}");
    assert!(message.contains("text/html"), "an HTML part too");
    let verify = token(&message, "verify");
    assert!(message.contains(&format!("{}/app/#/verify?token=", app.base)));

    // Logged in and browsing before verifying, but no links.
    let t = access(&app, "new.creator@example.com", STRONG).await;
    let me = app.get("/account", &t).await;
    assert_eq!(me.body["email_verified"], false);
    assert_eq!(app.get("/get_all_links", &t).await.status, StatusCode::OK);
    let r = app
        .create_link(&t, quiver::demo::EXAMPLE_ASIN, "amazon.de")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "email_not_verified");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("POST /signup/resend")
    );

    let r = post(&app, "/signup/verify", json!({"token": verify})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // The same token, now effective at once for the token already held.
    let r = app
        .create_link(&t, quiver::demo::EXAMPLE_ASIN, "amazon.de")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let again = post(&app, "/signup/verify", json!({"token": verify})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.code(), "invalid_link");
    let made_up = post(&app, "/signup/verify", json!({"token": "nope"})).await;
    assert_eq!(made_up.code(), "invalid_link");
}

#[tokio::test]
async fn cli_and_demo_accounts_stay_verified() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    assert_eq!(app.get("/account", &t).await.body["email_verified"], true);
    let t = app.new_publisher("cli-made@example.com").await;
    let r = app
        .create_link(&t, quiver::demo::EXAMPLE_ASIN, "amazon.de")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

#[tokio::test]
async fn a_taken_address_answers_like_a_new_one_and_is_told_by_mail() {
    let (app, mail) = with_mail(&[]).await;
    let fresh = signup(&app, "someone.new@example.com").await;
    let taken = signup(&app, CREATOR).await;
    assert_eq!(fresh.status, taken.status);
    assert_eq!(fresh.body, taken.body);
    let message = mail.wait(CREATOR, 1).await;
    assert!(message.contains("already has an account"), "{message}");
    assert!(!message.contains("#/verify"));
    // The demo password still works: nothing changed for the existing account.
    access(&app, CREATOR, PASSWORD).await;

    // Similar timing: both hash the password and write. Medians of interleaved tries, so a
    // busy machine slows both alike (each address its own, below the per-address limit).
    let (mut new, mut dup) = (Vec::new(), Vec::new());
    for i in 0..7 {
        let taken = format!("taken{i}@example.com");
        quiver::accounts::create_account(
            &app.running.state.db,
            &taken,
            STRONG,
            quiver_domain::AccountKind::Publisher,
            "Taken",
            None,
        )
        .await
        .unwrap();
        for (times, email) in [
            (&mut new, format!("timing{i}@example.com")),
            (&mut dup, taken),
        ] {
            let start = Instant::now();
            assert_eq!(signup(&app, &email).await.status, StatusCode::ACCEPTED);
            times.push(start.elapsed().as_secs_f64());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (new, dup) = (median(&mut new), median(&mut dup));
    assert!(
        dup > new * 0.5 && dup < new * 2.0,
        "new {new:.3}s, duplicate {dup:.3}s"
    );
}

#[tokio::test]
async fn weak_passwords_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    for weak in ["short1", "password1234", "aaaaaaaaaaaaaa"] {
        let r = post(
            &app,
            "/signup",
            json!({"email": "weak@example.com", "password": weak, "display_name": "W"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert_eq!(r.code(), "weak_password");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .starts_with("The password")
        );
    }
    assert!(
        app.running
            .state
            .db
            .account_by_email("weak@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sign_up_follows_the_mode() {
    let invite = TestApp::with_args(&["--signup", "invite"]).await;
    let r = signup(&invite, "x@example.com").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "signup_closed")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("invitation"));
    let closed = TestApp::with_args(&["--signup", "closed"]).await;
    assert_eq!(
        signup(&closed, "x@example.com").await.status,
        StatusCode::FORBIDDEN
    );

    let open = TestApp::spawn().await;
    let seller = json!({"email": "new-seller@example.com", "password": STRONG, "display_name": "B", "kind": "seller"});
    let r = post(&open, "/signup", seller.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "signup_closed")
    );
    let sellers = TestApp::with_args(&["--signup-sellers", "1"]).await;
    assert_eq!(
        post(&sellers, "/signup", seller).await.status,
        StatusCode::ACCEPTED
    );
    let t = access(&sellers, "new-seller@example.com", STRONG).await;
    assert_eq!(sellers.get("/account", &t).await.body["kind"], "seller");
}

#[tokio::test]
async fn an_expired_verification_link_is_gone_and_a_resent_one_works() {
    let (app, mail) = with_mail(&[]).await;
    signup(&app, "late@example.com").await;
    let first = token(&mail.wait("late@example.com", 1).await, "verify");
    // 48 hours later.
    let db = &app.running.state.db;
    age_tokens(db, "late@example.com", 48 * 3600 * 1000 + 1).await;
    let r = post(&app, "/signup/verify", json!({"token": first})).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "link_expired"));
    let r = post(&app, "/signup/resend", json!({"email": "late@example.com"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let second = token(&mail.wait("late@example.com", 2).await, "verify");
    assert_eq!(
        post(&app, "/signup/verify", json!({"token": second}))
            .await
            .status,
        StatusCode::OK
    );
    // An unknown address gets the same answer and no mail.
    let r = post(
        &app,
        "/signup/resend",
        json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(mail.to("nobody@example.com").is_empty());
}

/// Moves every e-mailed link of an account `ms` into the past.
async fn age_tokens(db: &quiver::store::Db, email: &str, ms: i64) {
    let id = db.account_by_email(email).await.unwrap().unwrap().id;
    let sql = "UPDATE account_tokens SET expires_at = expires_at - $1 WHERE account_id = $2";
    match db {
        quiver::store::Db::Sqlite { write, .. } => {
            sqlx::query(sql)
                .bind(ms)
                .bind(&id)
                .execute(write)
                .await
                .unwrap();
        }
        quiver::store::Db::Postgres(pool, _) => {
            sqlx::query(sql)
                .bind(ms)
                .bind(&id)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_reset_ends_every_old_session() {
    let (app, mail) = with_mail(&[]).await;
    let old = login(&app, CREATOR, PASSWORD).await.body;
    let old_access = old["access_token"].as_str().unwrap();
    let old_refresh = old["refresh_token"].as_str().unwrap();
    let r = post(&app, "/password/forgot", json!({"email": CREATOR})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let unknown = post(
        &app,
        "/password/forgot",
        json!({"email": "ghost@example.com"}),
    )
    .await;
    assert_eq!((unknown.status, &unknown.body), (r.status, &r.body));
    let reset = token(&mail.wait(CREATOR, 1).await, "reset");

    let weak = post(
        &app,
        "/password/reset",
        json!({"token": reset, "password": "password"}),
    )
    .await;
    assert_eq!(weak.code(), "weak_password");
    let r = post(
        &app,
        "/password/reset",
        json!({"token": reset, "password": STRONG}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get("/get_all_links", old_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", old_refresh),
            ],
        )
        .await;
    assert_eq!(refresh.code(), "invalid_grant");
    assert_eq!(
        login(&app, CREATOR, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    access(&app, CREATOR, STRONG).await;
    let twice = post(
        &app,
        "/password/reset",
        json!({"token": reset, "password": STRONGER}),
    )
    .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::BAD_REQUEST, "invalid_link")
    );
    assert!(mail.to("ghost@example.com").is_empty());
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    let other = app.token(CREATOR).await;
    let wrong = app
        .post_json(
            "/account/password",
            &t,
            json!({"current_password": "nope", "new_password": STRONG}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::BAD_REQUEST, "wrong_password")
    );
    let r = app
        .post_json(
            "/account/password",
            &t,
            json!({"current_password": PASSWORD, "new_password": STRONG}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["other_sessions_ended"], 1);
    assert_eq!(app.get("/account", &t).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/account", &other).await.status,
        StatusCode::UNAUTHORIZED
    );
    access(&app, CREATOR, STRONG).await;
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_by_one() {
    let app = TestApp::spawn().await;
    let a = app
        .send(Method::POST, "/token", None, |r| {
            r.header("user-agent", "Laptop/1.0")
                .form(&[("username", CREATOR), ("password", PASSWORD)])
        })
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.token(CREATOR).await;
    let list = app.get("/account/sessions", &a).await;
    let sessions = list.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{:?}", list.body);
    let mine = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(mine["user_agent"], "Laptop/1.0");
    assert_eq!(mine["client_address"], "127.0.0.1");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let id = other["id"].as_str().unwrap();
    let r = app
        .send(
            Method::DELETE,
            &format!("/account/sessions/{id}"),
            Some(&a),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/account", &b).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/account/sessions", &a).await.body["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Another account's session is not found.
    let s = app.token(SELLER).await;
    let r = app
        .send(
            Method::DELETE,
            &format!("/account/sessions/{id}"),
            Some(&s),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_profile_changes_and_a_new_address_waits_for_its_link() {
    let (app, mail) = with_mail(&[]).await;
    let t = app.token(CREATOR).await;
    let r = app
        .patch_json(
            "/account",
            &t,
            json!({"display_name": "Renamed", "email": "moved@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["display_name"], "Renamed");
    assert_eq!(r.body["email"], CREATOR, "unchanged until verified");
    assert_eq!(r.body["email_change_pending"], true);
    let link = token(&mail.wait("moved@example.com", 1).await, "verify");
    assert_eq!(
        post(&app, "/signup/verify", json!({"token": link}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/account", &t).await.body["email"],
        "moved@example.com"
    );
    access(&app, "moved@example.com", PASSWORD).await;
}

#[tokio::test]
async fn e_mails_are_throttled_per_target_and_per_client() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let r = post(&app, "/password/forgot", json!({"email": CREATOR})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = post(&app, "/password/forgot", json!({"email": CREATOR})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_emails")
    );
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    // Another address from the same client is still fine, up to the client's limit.
    let mut last = StatusCode::ACCEPTED;
    for i in 0..40 {
        last = post(
            &app,
            "/password/forgot",
            json!({"email": format!("p{i}@example.com")}),
        )
        .await
        .status;
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert!(i >= 20, "the client limit came after {i}");
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn every_joining_endpoint_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(Method::GET, "/openapi.json", None, |r| r)
        .await
        .body;
    for path in [
        "/signup",
        "/signup/verify",
        "/signup/resend",
        "/password/forgot",
        "/password/reset",
        "/account",
        "/account/password",
        "/account/sessions",
        "/account/sessions/{id}",
        "/account/api_keys",
        "/account/api_keys/{id}",
        "/invitations/lookup",
        "/invitations/accept",
        "/sellers/brands/{brand_id}/invitations",
        "/sellers/brands/{brand_id}/invitations/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}
