//! The creator–brand relationship (#15): creators' public profiles, grants by e-mail or
//! affiliate id, declines with a reason the creator sees, and the list of bulk jobs.

use quiver::store::catalog::NewBrand;
use quiver_domain::{AccountKind, ProgramMode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn put_json(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.send(Method::PUT, path, Some(token), |r| r.json(&body))
        .await
}

/// A second seller owning the approval-mode brand `acme`; returns its token.
async fn other_seller(app: &TestApp) -> String {
    let db = &app.running.state.db;
    let owner = quiver::accounts::create_account(
        db,
        "other-seller@example.com",
        PASSWORD,
        AccountKind::Seller,
        "Other Seller",
        Some("sel_other"),
    )
    .await
    .unwrap();
    db.insert_brand(&NewBrand {
        id: "acme",
        owner_account_id: &owner,
        name: "Acme Tools",
        company_name: "Acme Tools",
        logo_url: "https://assets.quiver.example/brands/acme.png",
        program_mode: ProgramMode::Approval,
        default_commission_bps: 1000,
        created_at: 1,
    })
    .await
    .unwrap();
    app.token("other-seller@example.com").await
}

fn loc(r: &Reply) -> Value {
    r.body["detail"][0]["loc"].clone()
}

#[tokio::test]
async fn a_creator_saves_a_profile_that_brands_read() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;

    let r = app.get("/account/profile", &creator).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["creator"], "aff_demo_creator");
    assert_eq!(r.body["pitch"], "");
    assert_eq!(r.body["channels"], json!([]));
    assert_eq!(r.body["updated_at"], Value::Null);

    let r = put_json(
        &app,
        "/account/profile",
        &creator,
        json!({
            "display_name": "  Desk Setups  ",
            "pitch": " I review desks and lamps for 40k subscribers. ",
            "channels": [{"name": "YouTube", "url": " https://youtube.com/@desksetups "}],
        }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["display_name"], "Desk Setups");
    assert_eq!(
        r.body["pitch"],
        "I review desks and lamps for 40k subscribers."
    );
    assert_eq!(
        r.body["channels"],
        json!([{"name": "YouTube", "url": "https://youtube.com/@desksetups"}])
    );
    assert!(r.body["updated_at"].as_str().unwrap().ends_with('Z'));

    let seen = app.get("/sellers/creators/aff_demo_creator", &seller).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    // The public profile, plus the creator's history with this brand's brands.
    let mut profile = seen.body.clone();
    assert!(
        profile
            .as_object_mut()
            .unwrap()
            .remove("history")
            .unwrap()
            .is_array()
    );
    assert_eq!(profile, r.body);
    // The new name is the one brands see on requests too.
    let req = app
        .post_json(
            "/access_requests",
            &creator,
            json!({"brand_id": "lumen-home"}),
        )
        .await;
    assert_eq!(req.body["creator_name"], "Desk Setups", "{:?}", req.body);

    // Saving without a display name keeps it.
    let r = put_json(&app, "/account/profile", &creator, json!({"pitch": "x"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["display_name"], "Desk Setups");
    assert_eq!(r.body["channels"], json!([]));
}

#[tokio::test]
async fn a_refused_profile_names_the_field_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let good =
        json!({"pitch": "kept", "channels": [{"name": "Blog", "url": "https://blog.example/"}]});
    assert_eq!(
        put_json(&app, "/account/profile", &creator, good)
            .await
            .status,
        StatusCode::OK
    );
    let channel = |name: &str, url: &str| json!({"name": name, "url": url});
    let eleven: Vec<Value> = (0..11)
        .map(|i| channel(&format!("c{i}"), "https://a.example/"))
        .collect();
    let cases = [
        (
            json!({"display_name": "  "}),
            json!(["body", "display_name"]),
        ),
        (
            json!({"display_name": "x".repeat(101)}),
            json!(["body", "display_name"]),
        ),
        (json!({"pitch": "p".repeat(1001)}), json!(["body", "pitch"])),
        (json!({"channels": eleven}), json!(["body", "channels"])),
        (
            json!({"channels": [channel("ok", "https://a.example/"), channel(" ", "https://b.example/")]}),
            json!(["body", "channels", 1, "name"]),
        ),
        (
            json!({"channels": [channel("x", "javascript:alert(1)")]}),
            json!(["body", "channels", 0, "url"]),
        ),
        (
            json!({"channels": [channel("x", "ftp://files.example/")]}),
            json!(["body", "channels", 0, "url"]),
        ),
        (
            json!({"channels": [channel("x", "youtube.com/@me")]}),
            json!(["body", "channels", 0, "url"]),
        ),
        (
            json!({"channels": [channel("x", &format!("https://a.example/{}", "p".repeat(2000)))]}),
            json!(["body", "channels", 0, "url"]),
        ),
    ];
    for (body, want) in cases {
        let r = put_json(&app, "/account/profile", &creator, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(loc(&r), want, "{body}");
    }
    let r = app
        .send(Method::PUT, "/account/profile", Some(&creator), |r| {
            r.header("content-type", "application/json")
                .body("{\"pitch\":")
        })
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get("/account/profile", &creator).await;
    assert_eq!(r.body["pitch"], "kept");
    assert_eq!(r.body["display_name"], "Demo Creator");
    assert_eq!(r.body["channels"][0]["name"], "Blog");
}

#[tokio::test]
async fn profiles_keep_to_their_account_kinds() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let seller = app.token(SELLER).await;
    let r = app.get("/account/profile", &seller).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "wrong_account_type");
    let r = put_json(&app, "/account/profile", &seller, json!({"pitch": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get("/sellers/creators/aff_demo_creator2", &creator)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "wrong_account_type");
    // A seller's own public id is not a creator's.
    for id in ["nobody", "seller_demo_brand"] {
        let r = app.get(&format!("/sellers/creators/{id}"), &seller).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(r.code(), "creator_not_found");
    }
    let r = app
        .get(&format!("/sellers/creators/{}", "a".repeat(201)), &seller)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.send(Method::GET, "/account/profile", None, |r| r).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_brand_grants_by_email_or_affiliate_id() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let newcomer = app.new_publisher("newcomer@example.com").await;
    let newcomer_id = app.get("/account/profile", &newcomer).await.body["creator"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not allowed before the grant.
    let r = app.create_link(&newcomer, "B0LMDESK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    let r = app
        .post_json(
            "/sellers/brands/lumen-home/grants",
            &seller,
            json!({"email": " NewComer@Example.com "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["creator"], newcomer_id.as_str());
    assert_eq!(r.body["active"], true);
    let r = app.create_link(&newcomer, "B0LMDESK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Again: unchanged.
    let r = app
        .post_json(
            "/sellers/brands/lumen-home/grants",
            &seller,
            json!({"email": "newcomer@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // By affiliate id.
    let r = app
        .post_json(
            "/sellers/brands/lumen-home/grants",
            &seller,
            json!({"creator": "aff_demo_creator"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let audit = app.get("/sellers/audit?brand_id=lumen-home", &seller).await;
    let creates = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "grant.create")
        .count();
    assert_eq!(creates, 2, "{:?}", audit.body);
}

#[tokio::test]
async fn a_grant_that_cannot_be_made_says_why_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let other = other_seller(&app).await;
    let grants = "/sellers/brands/lumen-home/grants";
    let cases = [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, None),
        (
            json!({"email": " ", "creator": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"email": "creator@example.com", "creator": "aff_demo_creator"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"email": format!("{}@example.com", "a".repeat(320))}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"creator": "a".repeat(201)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"email": "nobody@example.com"}),
            StatusCode::NOT_FOUND,
            Some("creator_not_found"),
        ),
        (
            json!({"creator": "aff_nobody"}),
            StatusCode::NOT_FOUND,
            Some("creator_not_found"),
        ),
        // A seller account is not a creator.
        (
            json!({"email": "other-seller@example.com"}),
            StatusCode::NOT_FOUND,
            Some("creator_not_found"),
        ),
        (
            json!({"creator": "seller_demo_brand"}),
            StatusCode::NOT_FOUND,
            Some("creator_not_found"),
        ),
    ];
    for (body, status, code) in cases {
        let r = app.post_json(grants, &seller, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
        if let Some(code) = code {
            assert_eq!(r.code(), code, "{body}");
        }
    }
    // Another seller's brand, and an unknown one, are not found (before any creator lookup).
    for path in ["/sellers/brands/acme/grants", "/sellers/brands/nope/grants"] {
        let r = app
            .post_json(path, &seller, json!({"email": "creator@example.com"}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.code(), "brand_not_found");
    }
    let r = app
        .post_json(
            "/sellers/brands/lumen-home/grants",
            &other,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(r.code(), "brand_not_found");
    let r = app
        .post_json(grants, &creator, json!({"creator": "aff_demo_creator"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "wrong_account_type");
    // Nothing was granted: creator still cannot link, and the audit has no grant.
    let r = app.create_link(&creator, "B0LMDESK01", "amazon.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = app.get(&format!("{grants}?active=true"), &seller).await;
    let names: Vec<&str> = r.body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["creator"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["aff_demo_creator2"]);
}

async fn pending_request(app: &TestApp, creator: &str) -> String {
    let r = app
        .post_json(
            "/access_requests",
            creator,
            json!({"brand_id": "lumen-home", "message": "Please"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_creator_sees_a_decline_and_its_reason() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let id = pending_request(&app, &creator).await;
    assert_eq!(
        app.get(&format!("/access_requests/{id}"), &creator)
            .await
            .body["decision_reason"],
        Value::Null
    );
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{id}/decline"),
            &seller,
            json!({"reason": "  We only work with lighting reviewers.  "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["decision_reason"],
        "We only work with lighting reviewers."
    );
    let mine = app.get("/access_requests?status=all", &creator).await;
    let a = &mine.body["access_requests"][0];
    assert_eq!(a["status"], "declined");
    assert_eq!(
        a["decision_reason"],
        "We only work with lighting reviewers."
    );
    assert!(a["decided_at"].as_str().is_some());

    // Asking again, then a decline with no body at all: no reason.
    let again = pending_request(&app, &creator).await;
    let r = app
        .send(
            Method::POST,
            &format!("/sellers/access_requests/{again}/decline"),
            Some(&seller),
            |r| r,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["decision_reason"], Value::Null);
    // An approval carries no reason.
    let third = pending_request(&app, &creator).await;
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{third}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["decision_reason"], Value::Null);
}

#[tokio::test]
async fn a_refused_decline_leaves_the_request_pending() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let id = pending_request(&app, &creator).await;
    let path = format!("/sellers/access_requests/{id}/decline");
    let r = app
        .post_json(&path, &seller, json!({"reason": "r".repeat(1001)}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(loc(&r), json!(["body", "reason"]));
    let r = app
        .send(Method::POST, &path, Some(&seller), |r| {
            r.header("content-type", "application/json")
                .body("{\"reason\": ")
        })
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post_json(&path, &seller, json!({"reason": 5})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&format!("/access_requests/{id}"), &creator).await;
    assert_eq!(r.body["status"], "pending");
    // Decided once, a second decline is a conflict and keeps the first reason.
    let r = app
        .post_json(&path, &seller, json!({"reason": "first"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .post_json(&path, &seller, json!({"reason": "second"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "access_request_decided");
    let r = app.get(&format!("/access_requests/{id}"), &creator).await;
    assert_eq!(r.body["decision_reason"], "first");
    let r = app
        .post_json(
            "/sellers/access_requests/nope/decline",
            &seller,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "access_request_not_found");
}

#[tokio::test]
async fn a_creator_lists_their_own_bulk_jobs_newest_first() {
    let app = TestApp::spawn().await;
    let creator = app.token(CREATOR).await;
    let creator2 = app.token(CREATOR2).await;
    let mut ids = Vec::new();
    for name in ["first", "second"] {
        let r = app
            .post_json(
                "/bulk_generate_attribution_links",
                &creator,
                json!({"links": [{"asin": "B0NWBOTL03", "link_name": name}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        ids.push(r.body["job_id"].as_str().unwrap().to_owned());
    }
    let r = app.get("/bulk_jobs", &creator).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let listed: Vec<&str> = r.body["bulk_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[1].as_str(), ids[0].as_str()]);
    assert_eq!(r.body["bulk_jobs"][0]["total"], 1);
    let r = app.get("/bulk_jobs?limit=1", &creator).await;
    assert_eq!(r.body["bulk_jobs"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/bulk_jobs", &creator2).await.body["bulk_jobs"],
        json!([])
    );
    for bad in ["0", "101", "x"] {
        let r = app.get(&format!("/bulk_jobs?limit={bad}"), &creator).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let seller = app.token(SELLER).await;
    assert_eq!(
        app.get("/bulk_jobs", &seller).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_creator_is_emailed_each_decision_once_and_never_a_failed_one() {
    let mailbox = crate::mailbox::Mailbox::start().await;
    let url = mailbox.url();
    let app = TestApp::with_args(&["--smtp-url", url.as_str()]).await;
    let seller = app.token(SELLER).await;
    let creator = app.token(CREATOR).await;
    let first = pending_request(&app, &creator).await;

    // Refused decisions: too long a reason, an unknown request. Neither may send anything;
    // the queue is in order, so a mail they sent would arrive before the next real one.
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{first}/decline"),
            &seller,
            json!({"reason": "r".repeat(1001)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = app
        .post_json("/sellers/access_requests/nope/approve", &seller, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app
        .post_json(
            &format!("/sellers/access_requests/{first}/decline"),
            &seller,
            json!({"reason": "We only work with lighting reviewers & <DIY> channels."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let declined = mailbox.wait(CREATOR, 1).await;
    assert_eq!(
        mailbox.to(CREATOR).len(),
        1,
        "the refused decisions sent nothing"
    );
    assert!(
        declined.contains("Subject: Lumen Home declined your access request"),
        "{declined}"
    );
    assert!(
        declined.contains("Their reason: We only work with lighting reviewers & <DIY> channels."),
        "the reason, as written, in the text part: {declined}"
    );
    assert!(
        declined.contains("&lt;DIY&gt;"),
        "escaped in HTML: {declined}"
    );
    assert!(declined.contains("/app/#/access"), "{declined}");

    // Deciding it again is a conflict and sends nothing.
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{first}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let second = pending_request(&app, &creator).await;
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{second}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let approved = mailbox.wait(CREATOR, 2).await;
    assert_eq!(mailbox.to(CREATOR).len(), 2, "the conflict sent nothing");
    assert!(
        approved.contains("Subject: Lumen Home approved your access request"),
        "{approved}"
    );
    assert!(!approved.contains("Their reason"), "{approved}");

    let r = app
        .post_json(
            &format!("/sellers/access_requests/{second}/decline"),
            &seller,
            json!({"reason": "changed our mind"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Give a wrongly queued mail time to arrive, generously, before counting.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mailbox.to(CREATOR).len(), 2, "the conflict sent nothing");
    assert!(mailbox.to(SELLER).is_empty(), "only the creator is told");
}

#[tokio::test]
async fn the_brand_summary_says_each_brands_amazon_connection_and_data_as_of() {
    let app = TestApp::with_args(&["--ingest-interval-secs", "0"]).await;
    quiver::demo::seed_links(app.running.state.clone(), Default::default()).await;
    let seller = app.token(SELLER).await;
    let t = time::OffsetDateTime::now_utc().date();
    let q = format!(
        "start={}&end={}",
        quiver_domain::format_iso(t - time::Duration::days(6)),
        quiver_domain::format_iso(t)
    );
    let r = app
        .get(
            &format!("/sellers/reports/summary?{q}&group_by=creator"),
            &seller,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let brands = r.body["brands"].as_array().expect("brands").clone();
    assert!(!brands.is_empty(), "{}", r.body);
    let lumen = brands
        .iter()
        .find(|b| b["brand_id"] == "lumen-home")
        .expect("lumen-home listed");
    assert_eq!(lumen["brand_name"], "Lumen Home");
    assert_eq!(lumen["amazon"], "platform");
    assert!(lumen["amazon_accounts"].as_i64().unwrap() >= 1);
    // Ingestion may still be running for some brands, so only some have a date yet.
    let latest = brands
        .iter()
        .filter_map(|b| b["data_as_of"].as_str())
        .max()
        .expect("some brand ingested")
        .to_owned();
    assert!(
        time::OffsetDateTime::parse(&latest, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{latest}"
    );
    assert!(r.body["data_as_of"].as_str().is_some(), "{}", r.body);

    // A brand without an Amazon account: listed, not connected, no data; only its owner's.
    let other = other_seller(&app).await;
    let r = app
        .get(&format!("/sellers/reports/summary?{q}"), &other)
        .await;
    assert_eq!(
        r.body["brands"],
        json!([{"brand_id": "acme", "brand_name": "Acme Tools", "amazon": "none",
                "amazon_accounts": 0, "data_as_of": null}])
    );
    assert_eq!(r.body["data_as_of"], Value::Null);
    // Creators' summaries do not carry it.
    let creator = app.token(CREATOR).await;
    let r = app.get(&format!("/reports/summary?{q}"), &creator).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("brands").is_none(), "{}", r.body);
}

#[tokio::test]
async fn the_creator_profile_carries_their_history_with_the_brands_own_brands_only() {
    let app = TestApp::spawn().await;
    let seller = app.token(SELLER).await;
    let creator = app.new_publisher("history@example.com").await;
    let me = app.get("/account/profile", &creator).await.body;
    let aff = me["creator"].as_str().unwrap().to_owned();
    let path = format!("/sellers/creators/{aff}");
    // Steps a few milliseconds apart, so their order is the order they were taken in.
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
    assert_eq!(app.get(&path, &seller).await.body["history"], json!([]));

    let ask = |message: &'static str| {
        let (app, creator) = (&app, &creator);
        async move {
            let r = app
                .post_json(
                    "/access_requests",
                    creator,
                    json!({"brand_id": "lumen-home", "message": message}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        }
    };
    // A commission change before the relationship began is not part of it.
    let r = app
        .patch_json(
            "/sellers/products/amazon.com/B0LMDESK01",
            &seller,
            json!({"commission": 16}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    pause().await;
    let first = ask("Lamps are my whole channel.").await;
    pause().await;
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{first}/decline"),
            &seller,
            json!({"reason": "Not this season."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    pause().await;
    let second = ask("Second try: 40k subscribers now.").await;
    pause().await;
    let r = app
        .post_json(
            &format!("/sellers/access_requests/{second}/approve"),
            &seller,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    pause().await;
    let r = app
        .patch_json(
            "/sellers/products/amazon.com/B0LMDESK01",
            &seller,
            json!({"commission": 9.5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    pause().await;
    // The brand default changes too; a brand the creator never dealt with is not part of it.
    let r = app
        .patch_json(
            "/sellers/brands/lumen-home",
            &seller,
            json!({"default_commission": 14}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .patch_json(
            "/sellers/products/amazon.com/B0PKSPKR02",
            &seller,
            json!({"commission": 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    pause().await;
    let account = app.account_id("history@example.com").await;
    app.running
        .state
        .db
        .record_creator_commission(
            "lumen-home",
            &account,
            1200,
            "2026-01-02",
            quiver::clock::now_ms(),
        )
        .await
        .unwrap();
    pause().await;
    let r = app
        .send(
            Method::DELETE,
            &format!("/sellers/brands/lumen-home/grants/{aff}"),
            Some(&seller),
            |r| r,
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);

    let r = app.get(&path, &seller).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["creator"], aff.as_str());
    let history = r.body["history"].as_array().unwrap();
    let steps: Vec<(&str, &str)> = history
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    // The approval and the grant it made share their instant: either may come first.
    let (decided, rest) = steps.split_at(6);
    assert_eq!(
        decided,
        [
            ("revoked", ""),
            ("creator_commission", ""),
            ("commission", ""),
            ("commission", ""),
            (decided[4].0, ""),
            (decided[5].0, ""),
        ]
    );
    let mut pair = [decided[4].0, decided[5].0];
    pair.sort_unstable();
    assert_eq!(pair, ["approved", "granted"]);
    assert_eq!(
        rest,
        [
            ("requested", "Second try: 40k subscribers now."),
            ("declined", "Not this season."),
            ("requested", "Lamps are my whole channel."),
        ]
    );
    for e in history {
        assert_eq!(e["brand_id"], "lumen-home", "{e}");
        assert_eq!(e["brand_name"], "Lumen Home", "{e}");
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
    }
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let ats: Vec<time::OffsetDateTime> = history
        .iter()
        .map(|e| time::OffsetDateTime::parse(e["at"].as_str().unwrap(), rfc3339).unwrap())
        .collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {ats:?}"
    );
    let rate = &history[1];
    assert_eq!(
        (
            &rate["commission_before"],
            &rate["commission_after"],
            &rate["effective_day"],
            &rate["product"]
        ),
        (
            &Value::Null,
            &json!(12.0),
            &json!("2026-01-02"),
            &Value::Null
        )
    );
    // Newest first: the brand default (15 → 14), then the product (16 → 9.5).
    assert_eq!(
        (
            &history[2]["product"],
            &history[2]["commission_before"],
            &history[2]["commission_after"]
        ),
        (&Value::Null, &json!(15.0), &json!(14.0))
    );
    assert_eq!(
        (
            &history[3]["product"],
            &history[3]["commission_before"],
            &history[3]["commission_after"]
        ),
        (&json!("amazon.com/B0LMDESK01"), &json!(16.0), &json!(9.5))
    );

    // Another seller sees the same public profile and none of this brand's history.
    let other = other_seller(&app).await;
    let r = app.get(&path, &other).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["history"], json!([]));
}
