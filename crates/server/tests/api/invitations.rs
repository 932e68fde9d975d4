//! Brands' invitations (issue 17): e-mailed, accepted with a new or existing account,
//! expiring, withdrawn, and the grant they give in an approval-mode brand.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::mailbox::{Mailbox, token};
use crate::support::{CREATOR, SELLER, TestApp};

const STRONG: &str = "violet-harbour-tangent-42";
const BRAND: &str = "lumen-home";
const APPROVAL_ASIN: &str = "B0LMDESK01";

async fn with_mail(extra: &[&str]) -> (TestApp, Mailbox) {
    let mailbox = Mailbox::start().await;
    let url = mailbox.url();
    let mut args = vec!["--smtp-url", url.as_str()];
    args.extend_from_slice(extra);
    (TestApp::with_args(&args).await, mailbox)
}

async fn invite(app: &TestApp, seller: &str, email: &str, extra: Value) -> crate::support::Reply {
    let mut body = json!({"email": email});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.post_json(
        &format!("/sellers/brands/{BRAND}/invitations"),
        seller,
        body,
    )
    .await
}

async fn accept(app: &TestApp, bearer: Option<&str>, body: Value) -> crate::support::Reply {
    app.send(Method::POST, "/invitations/accept", bearer, |r| {
        r.json(&body)
    })
    .await
}

#[tokio::test]
async fn an_invited_creator_signs_up_in_invite_mode_and_may_promote_the_brand() {
    let (app, mail) = with_mail(&["--signup", "invite"]).await;
    let s = app.token(SELLER).await;
    let r = invite(
        &app,
        &s,
        "Invited@Example.net",
        json!({"commission": 17.5, "message": "We <3 your videos"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["commission"], 17.5);
    let message = mail.wait("invited@example.net", 1).await;
    assert!(message.contains("Lumen Home invites you"), "{message}");
    assert!(message.contains("We &lt;3 your videos"), "escaped in HTML");
    let link = token(&message, "invitation");

    let view = app
        .send(Method::POST, "/invitations/lookup", None, |r| {
            r.json(&json!({"token": link}))
        })
        .await;
    assert_eq!(view.body["brand_name"], "Lumen Home");
    assert_eq!(view.body["account_exists"], false);
    let weak = accept(
        &app,
        None,
        json!({"token": link, "password": "password", "display_name": "Inv"}),
    )
    .await;
    assert_eq!(weak.code(), "weak_password");
    let r = accept(
        &app,
        None,
        json!({"token": link, "password": STRONG, "display_name": "Invited"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["account_created"], true);
    let creator = r.body["creator"].as_str().unwrap().to_owned();

    let t = app
        .post_form(
            "/token",
            &[("username", "invited@example.net"), ("password", STRONG)],
        )
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.create_link(&t, APPROVAL_ASIN, "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let grants = app
        .get(&format!("/sellers/brands/{BRAND}/grants"), &s)
        .await;
    assert!(
        grants.body["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["creator"] == creator.as_str())
    );
    let id = app.account_id("invited@example.net").await;
    let history = app
        .running
        .state
        .db
        .creator_commissions(BRAND, &id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].1, Some(1750));

    let twice = accept(
        &app,
        None,
        json!({"token": link, "password": STRONG, "display_name": "Again"}),
    )
    .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::BAD_REQUEST, "invitation_used")
    );
    let list = app
        .get(&format!("/sellers/brands/{BRAND}/invitations"), &s)
        .await;
    assert_eq!(list.body["invitations"][0]["status"], "accepted");
}

#[tokio::test]
async fn an_existing_creator_logs_in_and_accepts() {
    let (app, mail) = with_mail(&[]).await;
    let s = app.token(SELLER).await;
    invite(&app, &s, CREATOR, json!({})).await;
    let link = token(&mail.wait(CREATOR, 1).await, "invitation");
    let t = app.token(CREATOR).await;
    assert_eq!(
        app.create_link(&t, APPROVAL_ASIN, "amazon.com")
            .await
            .code(),
        "brand_access_denied"
    );
    let anonymous = accept(
        &app,
        None,
        json!({"token": link, "password": STRONG, "display_name": "X"}),
    )
    .await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (StatusCode::CONFLICT, "account_exists")
    );
    let r = accept(&app, Some(&t), json!({"token": link})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["account_created"], false);
    assert_eq!(
        app.create_link(&t, APPROVAL_ASIN, "amazon.com")
            .await
            .status,
        StatusCode::CREATED
    );
    // A seller cannot accept.
    invite(&app, &s, "other@example.net", json!({})).await;
    let other = token(&mail.wait("other@example.net", 1).await, "invitation");
    assert_eq!(
        accept(&app, Some(&s), json!({"token": other})).await.code(),
        "wrong_account_type"
    );
}

#[tokio::test]
async fn withdrawn_and_expired_invitations_are_gone() {
    let (app, mail) = with_mail(&[]).await;
    let s = app.token(SELLER).await;
    let r = invite(&app, &s, "late@example.net", json!({})).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let withdrawn = token(&mail.wait("late@example.net", 1).await, "invitation");
    let r = app
        .send(
            Method::DELETE,
            &format!("/sellers/brands/{BRAND}/invitations/{id}"),
            Some(&s),
            |r| r,
        )
        .await;
    assert_eq!(r.body["status"], "revoked");
    let body = json!({"token": withdrawn, "password": STRONG, "display_name": "Late"});
    let r = accept(&app, None, body).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::GONE, "invitation_unavailable")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("withdrawn"));

    invite(&app, &s, "late@example.net", json!({})).await;
    let expired = token(&mail.wait("late@example.net", 2).await, "invitation");
    let sql = "UPDATE invitations SET expires_at = 0 WHERE revoked_at IS NULL";
    match &app.running.state.db {
        quiver::store::Db::Sqlite { write, .. } => {
            sqlx::query(sql).execute(write).await.map(|_| ())
        }
        quiver::store::Db::Postgres(pool, _) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    let r = accept(
        &app,
        None,
        json!({"token": expired, "password": STRONG, "display_name": "Late"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::GONE, "invitation_unavailable")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("expired"));
    let list = app
        .get(&format!("/sellers/brands/{BRAND}/invitations"), &s)
        .await;
    let statuses: Vec<&str> = list.body["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["expired", "revoked"]);
    assert!(
        app.running
            .state
            .db
            .account_by_email("late@example.net")
            .await
            .unwrap()
            .is_none()
    );
    let unknown = accept(
        &app,
        None,
        json!({"token": "made-up", "password": STRONG, "display_name": "X"}),
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::BAD_REQUEST, "invalid_link")
    );
}

#[tokio::test]
async fn only_the_brands_seller_sees_and_sends_its_invitations() {
    let app = TestApp::spawn().await;
    let c = app.token(CREATOR).await;
    assert_eq!(
        invite(&app, &c, "x@example.net", json!({})).await.code(),
        "wrong_account_type"
    );
    let s = app.token(SELLER).await;
    let r = app
        .post_json(
            "/sellers/brands/nope/invitations",
            &s,
            json!({"email": "x@example.net"}),
        )
        .await;
    assert_eq!(r.code(), "brand_not_found");
    let r = invite(&app, &s, "x@example.net", json!({"commission": 101})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for _ in 0..5 {
        assert_eq!(
            invite(&app, &s, "x@example.net", json!({})).await.status,
            StatusCode::CREATED
        );
    }
    let r = invite(&app, &s, "x@example.net", json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_emails")
    );
}

/// `quiver admin ...` against the database of a running server.
pub fn admin(db_url: &str, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_quiver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QUIVER_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("QUIVER_DATABASE_URL", db_url)
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_operator_invites_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let app = TestApp::on_database(&url, &["--signup", "closed"]).await;
    let out = admin(
        &url,
        &[
            "invite",
            "--brand",
            BRAND,
            "--email",
            "cli@example.net",
            "--commission",
            "9",
            "--public-url",
            &app.base,
        ],
    );
    let link = token(&out, "invitation");
    // Closed sign-up: the invitation is accepted by logging in to an account.
    let r = accept(
        &app,
        None,
        json!({"token": link, "password": STRONG, "display_name": "Cli"}),
    )
    .await;
    assert_eq!(r.code(), "signup_closed");
    let t = app.new_publisher("cli@example.net").await;
    let r = accept(&app, Some(&t), json!({"token": link})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.create_link(&t, APPROVAL_ASIN, "amazon.com")
            .await
            .status,
        StatusCode::CREATED
    );
}
