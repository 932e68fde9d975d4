//! `quiver admin`, `quiver migrate` and the configuration file, run as the binary.

use std::process::{Command, Output};

use quiver::store::Db;

fn quiver(db_url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quiver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QUIVER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("QUIVER_DATABASE_URL", db_url)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn admin_commands_manage_accounts_brands_grants_and_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    ok(&quiver(&url, &["migrate"]));
    ok(&quiver(
        &url,
        &[
            "admin",
            "create-account",
            "--email",
            "Owner@Shop.example",
            "--password",
            "long-enough",
            "--kind",
            "seller",
        ],
    ));
    let out = ok(&quiver(
        &url,
        &[
            "admin",
            "create-account",
            "--email",
            "maker@example.com",
            "--password",
            "long-enough",
        ],
    ));
    assert!(out.contains("public id aff_"), "{out}");
    // Duplicates and bad input are refused with a message, not a panic.
    let dup = quiver(
        &url,
        &[
            "admin",
            "create-account",
            "--email",
            "maker@example.com",
            "--password",
            "long-enough",
        ],
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    assert!(
        !quiver(
            &url,
            &[
                "admin",
                "create-account",
                "--email",
                "x@y.z",
                "--password",
                "short"
            ]
        )
        .status
        .success()
    );

    ok(&quiver(
        &url,
        &[
            "admin",
            "create-brand",
            "--id",
            "acme",
            "--name",
            "Acme",
            "--owner",
            "owner@shop.example",
            "--mode",
            "approval",
            "--commission",
            "12.5",
        ],
    ));
    assert!(
        !quiver(
            &url,
            &[
                "admin",
                "create-brand",
                "--id",
                "x",
                "--name",
                "X",
                "--owner",
                "maker@example.com"
            ]
        )
        .status
        .success(),
        "owner must be a seller"
    );
    ok(&quiver(
        &url,
        &[
            "admin",
            "set-amazon",
            "--brand",
            "acme",
            "--region",
            "eu",
            "--profile-id",
            "11",
            "--advertiser-id",
            "22",
        ],
    ));
    ok(&quiver(
        &url,
        &[
            "admin",
            "grant",
            "--brand",
            "acme",
            "--creator",
            "maker@example.com",
        ],
    ));

    // A CSV with one bad row imports nothing; fixed, it imports everything.
    let csv = dir.path().join("catalog.csv");
    std::fs::write(
        &csv,
        "brand_id,asin,marketplace,title,price,available,commission,sub_category\n\
        acme,B0ACME0001,amazon.de,\"Widget, large\",19.99,true,15,Tools;Garden\n\
        acme,BAD,amazon.de,Broken,1.00,true,,\n",
    )
    .unwrap();
    let bad = quiver(&url, &["admin", "import-catalog", csv.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("record 2"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(db.count_products().await.unwrap(), 0);
    std::fs::write(
        &csv,
        "brand_id,asin,marketplace,title,price,available,commission,sub_category\n\
        acme,B0ACME0001,amazon.de,\"Widget, large\",19.99,true,15,Tools;Garden\n\
        acme,b0acme0002,WWW.AMAZON.FR,Gadget,5,no,,\n",
    )
    .unwrap();
    let out = ok(&quiver(
        &url,
        &["admin", "import-catalog", csv.to_str().unwrap()],
    ));
    assert!(out.contains("imported 2 products"), "{out}");
    let json = dir.path().join("catalog.json");
    std::fs::write(&json, r#"[{"brand_id": "acme", "asin": "B0ACME0003", "marketplace": "amazon.it", "title": "Thing", "price": 7.5}]"#).unwrap();
    ok(&quiver(
        &url,
        &["admin", "import-catalog", json.to_str().unwrap()],
    ));
    assert_eq!(db.count_products().await.unwrap(), 3);

    let maker = db
        .account_by_email("maker@example.com")
        .await
        .unwrap()
        .unwrap();
    let p = db
        .product_for(&maker.id, "B0ACME0001", quiver_domain::Marketplace::De)
        .await
        .unwrap()
        .unwrap();
    assert!(p.can_promote, "granted");
    assert_eq!(p.price_minor, 1999);
    assert_eq!(p.commission_bps(), 1500);
    assert_eq!(p.title, "Widget, large");
    let gadget = db
        .product_for(&maker.id, "B0ACME0002", quiver_domain::Marketplace::Fr)
        .await
        .unwrap()
        .unwrap();
    assert!(!gadget.available);
    assert_eq!(gadget.commission_bps(), 1250, "the brand default");
    let amazon = db
        .brand_amazon_account("acme", quiver_domain::Region::Eu)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (amazon.profile_id.as_str(), amazon.advertiser_id.as_str()),
        ("11", "22")
    );
    ok(&quiver(
        &url,
        &[
            "admin",
            "revoke",
            "--brand",
            "acme",
            "--creator",
            &maker.public_id,
        ],
    ));
    let p = db
        .product_for(&maker.id, "B0ACME0001", quiver_domain::Marketplace::De)
        .await
        .unwrap()
        .unwrap();
    assert!(!p.can_promote, "revoked");
}

#[test]
fn the_configuration_file_sets_defaults_and_refuses_typos() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-file.db");
    let file = dir.path().join("quiver.toml");
    std::fs::write(
        &file,
        format!("database_url = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quiver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QUIVER_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());

    std::fs::write(&file, "databse_url = \"x\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quiver"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown key 'databse_url'"));
}

#[test]
fn serve_refuses_to_guess_amazon_with_a_non_default_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("prod.db").display());
    let out = quiver(&url, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("QUIVER_AMAZON must be set"));
    let help = ok(&quiver(&url, &["serve", "--help"]));
    for var in [
        "QUIVER_LISTEN",
        "QUIVER_AMAZON",
        "QUIVER_DEMO",
        "QUIVER_RATE_LIMIT",
        "QUIVER_SMTP_URL",
        "QUIVER_LINK_DEADLINE_MS",
        "QUIVER_QUOTA_BULK_JOBS",
        "QUIVER_QUOTA_BULK_ITEMS",
        "QUIVER_QUOTA_LINKS_PER_DAY",
    ] {
        assert!(help.contains(var), "--help names {var}");
    }
}

/// The lock after repeated failed logins (spec §1) holds until the window passes, or until
/// an operator lifts it with `quiver admin unlock`.
#[tokio::test]
async fn admin_unlock_lifts_the_lock_after_failed_logins() {
    use crate::support::{CREATOR, PASSWORD, TestApp};
    use reqwest::StatusCode;

    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::fresh_database_url(&dir).await;
    let app = TestApp::on_database(&url, &[]).await;
    for _ in 0..10 {
        let r = app
            .post_form("/token", &[("username", CREATOR), ("password", "wrong")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .post_form("/token", &[("username", CREATOR), ("password", PASSWORD)])
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.code(), "too_many_attempts");

    let run = |args: Vec<&'static str>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || quiver(&url, &args))
    };
    let out = run(vec!["admin", "unlock", "Creator@Example.com"])
        .await
        .unwrap();
    assert!(ok(&out).contains("unlocked creator@example.com (cleared 10 failed logins)"));
    app.login(CREATOR).await;

    let again = run(vec!["admin", "unlock", CREATOR]).await.unwrap();
    assert!(ok(&again).contains("was not locked"));
    let unknown = run(vec!["admin", "unlock", "nobody@example.com"])
        .await
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account"));
}

#[tokio::test]
async fn admin_grants_and_revokes_are_in_the_brands_audit_log() {
    use crate::support::{CREATOR, SELLER, TestApp, fresh_database_url};

    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let app = TestApp::on_database(&url, &[]).await;
    let seller = app.token(SELLER).await;
    let audit = || app.get("/sellers/audit?brand_id=lumen-home", &seller);
    assert_eq!(audit().await.body["total_count"], 0);

    let grant = [
        "admin",
        "grant",
        "--brand",
        "lumen-home",
        "--creator",
        CREATOR,
    ];
    ok(&quiver(&url, &grant));
    let r = audit().await;
    assert_eq!(r.body["total_count"], 1, "{:?}", r.body);
    let entry = &r.body["entries"][0];
    assert_eq!(entry["action"], "grant.create");
    assert_eq!(entry["actor"], "admin-cli");
    assert_eq!(entry["brand_id"], "lumen-home");
    assert_eq!(entry["target"], "creator:aff_demo_creator");
    assert_eq!(entry["before"]["active"], false);
    assert_eq!(entry["after"]["active"], true);
    let grants = app
        .get("/sellers/brands/lumen-home/grants?active=true", &seller)
        .await;
    assert!(
        grants.body["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["creator"] == "aff_demo_creator"),
        "{:?}",
        grants.body
    );

    // Granting what is already granted changes nothing and is not audited again.
    ok(&quiver(&url, &grant));
    assert_eq!(audit().await.body["total_count"], 1);

    let out = ok(&quiver(
        &url,
        &[
            "admin",
            "revoke",
            "--brand",
            "lumen-home",
            "--creator",
            CREATOR,
        ],
    ));
    assert!(out.contains("revoked"), "{out}");
    let r = audit().await;
    assert_eq!(r.body["total_count"], 2);
    assert_eq!(r.body["entries"][0]["action"], "grant.revoke");
    assert_eq!(r.body["entries"][0]["actor"], "admin-cli");
    assert_eq!(r.body["entries"][0]["after"]["active"], false);
}

/// Every `QUIVER_*` variable `serve --help` lists (the global ones included) may be set in
/// the configuration file, and its value arrives as that variable.
#[test]
fn every_variable_serve_lists_is_accepted_in_the_configuration_file() {
    let help = ok(&quiver("sqlite://unused.db", &["serve", "--help"]));
    let mut vars: Vec<&str> = help
        .match_indices("QUIVER_")
        .map(|(i, _)| {
            let rest = &help[i..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|v| v.len() > "QUIVER_".len() && *v != "QUIVER_CONFIG")
        .collect();
    vars.sort_unstable();
    vars.dedup();
    for expected in [
        "QUIVER_DATABASE_URL",
        "QUIVER_BULK_CONCURRENCY",
        "QUIVER_SMTP_FROM",
    ] {
        assert!(
            vars.contains(&expected),
            "--help lists {expected}: {vars:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quiver.toml");
    let key = |var: &str| var["QUIVER_".len()..].to_lowercase();
    let text: String = vars
        .iter()
        .map(|v| format!("{} = \"from-file-{}\"\n", key(v), key(v)))
        .collect();
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quiver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QUIVER_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(["--config", file.to_str().unwrap(), "serve", "--help"])
        .output()
        .unwrap();
    let shown = ok(&out);
    for var in vars {
        // Secrets are listed without their value.
        if !shown.contains(&format!("env: {var}]")) {
            let set = format!("env: {var}=from-file-{}]", key(var));
            assert!(shown.contains(&set), "{var} from the file: {shown}");
        }
    }
}
