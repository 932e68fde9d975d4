//! The secret key behind brands' Amazon authorisations (#18): refresh tokens are stored
//! sealed, never in clear (the database file is searched); the server refuses to start
//! with sealed values and no key or the wrong key; `quiver admin rotate-secret-key`
//! re-encrypts everything under a new key, all or nothing.
//!
//! Most tests store a sealed token through the store the way the callback does; the last
//! one goes through the real consent flow against the simulator.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Parser;
use quiver::cli::serve;
use quiver::cli::{Cli, Command};
use quiver::secret_key::SecretKey;
use quiver::store::Db;
use quiver::store::amazon_connections::aad;
use quiver_domain::Region;

use crate::support::*;

/// Looks unlike anything else in the database, so finding it means a leak.
const CANARY: &str = "Atzr|IwEBIcanary-refresh-token-0123456789abcdef";

fn serve_config(extra: &[&str]) -> quiver::config::ServeConfig {
    let mut args = vec![
        "quiver",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--demo",
        "1",
        "--demo-links",
        "0",
        "--amazon",
        "sim",
        "--rate-limit",
        "0",
    ];
    args.extend_from_slice(extra);
    let Command::Serve(cfg) = Cli::try_parse_from(args).unwrap().command else {
        unreachable!()
    };
    cfg
}

async fn start(url: &str, extra: &[&str]) -> anyhow::Result<serve::Running> {
    serve::start(url, &serve_config(extra)).await
}

async fn some_brand(db: &Db) -> String {
    const SQL: &str = "SELECT id FROM brands ORDER BY id LIMIT 1";
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(SQL).fetch_one(read).await,
        Db::Postgres(pool, _) => sqlx::query_scalar(SQL).fetch_one(pool).await,
    }
    .unwrap()
}

async fn stored_sealed(db: &Db) -> Vec<String> {
    const SQL: &str = "SELECT refresh_token_sealed FROM amazon_connections ORDER BY brand_id";
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(SQL).fetch_all(read).await,
        Db::Postgres(pool, _) => sqlx::query_scalar(SQL).fetch_all(pool).await,
    }
    .unwrap()
}

/// Seals `token` for (brand, NA) with `key` and stores it, as the callback will.
async fn store_token(db: &Db, key: &SecretKey, brand: &str, token: &str) {
    let sealed = STANDARD.encode(key.seal(token.as_bytes(), &aad(brand, "NA")));
    db.put_amazon_connection(brand, Region::Na, &sealed)
        .await
        .unwrap();
}

fn opens(key: &SecretKey, sealed_b64: &str, brand: &str) -> Option<String> {
    let sealed = STANDARD.decode(sealed_b64).ok()?;
    let plain = key.open(&sealed, &aad(brand, "NA")).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Every byte of the SQLite database and its WAL, for searching.
fn sqlite_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("quiver.db") && !name.ends_with(".key") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn refresh_tokens_are_stored_sealed_and_never_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let key = SecretKey::generate();
    let running = start(&url, &["--secret-key", &key.to_base64()])
        .await
        .unwrap();
    let db = running.state.db.clone();
    let brand = some_brand(&db).await;
    store_token(&db, &key, &brand, CANARY).await;
    let sealed = stored_sealed(&db).await;
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].contains("canary"));
    assert_eq!(opens(&key, &sealed[0], &brand).as_deref(), Some(CANARY));
    // Bound to its row: the same value does not open as another brand's.
    assert_eq!(opens(&key, &sealed[0], "another-brand"), None);
    running.stop().await.unwrap();
    if is_sqlite(&url) {
        let bytes = sqlite_bytes(&dir);
        assert!(bytes.len() > 10_000, "the database was read");
        assert!(
            contains(&bytes, &sealed[0][..24]),
            "the search can find stored text"
        );
        assert!(
            !contains(&bytes, CANARY),
            "the refresh token is in the database in clear"
        );
        assert!(!contains(&bytes, "canary-refresh"));
    }
}

#[tokio::test]
async fn the_server_refuses_to_start_without_the_key_its_tokens_were_sealed_with() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let key = SecretKey::generate();
    let k = key.to_base64();
    // No sealed values yet: starting without a key is fine (on SQLite it makes a key file).
    let running = start(&url, &["--secret-key", &k]).await.unwrap();
    let brand = some_brand(&running.state.db).await;
    store_token(&running.state.db, &key, &brand, CANARY).await;
    running.stop().await.unwrap();

    let err = start(&url, &[]).await.err().expect("refused without a key");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("no secret key is configured") && msg.contains("QUIVER_SECRET_KEY"),
        "{msg}"
    );
    assert!(!msg.contains(CANARY) && !msg.contains(k.as_str()));
    if is_sqlite(&url) {
        assert!(
            !quiver::cli::secrets::key_file(&url).unwrap().exists(),
            "no new key file is made while sealed values exist"
        );
    }

    let wrong = SecretKey::generate();
    let err = start(&url, &["--secret-key", &wrong.to_base64()])
        .await
        .err()
        .expect("refused with the wrong key");
    assert!(format!("{err:#}").contains("does not open"), "{err:#}");

    let err = start(&url, &["--secret-key", "c2hvcnQ="])
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("32 bytes"), "{err:#}");

    let running = start(&url, &["--secret-key", &k]).await.unwrap();
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_new_sqlite_deployment_gets_an_owner_only_key_file_that_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("quiver.db").display());
    let running = start(&url, &[]).await.unwrap();
    let file = quiver::cli::secrets::key_file(&url).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = SecretKey::from_base64(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let brand = some_brand(&running.state.db).await;
    store_token(&running.state.db, &key, &brand, CANARY).await;
    running.stop().await.unwrap();
    // The second start reads the same file and its key opens what is stored.
    let running = start(&url, &[]).await.unwrap();
    running.stop().await.unwrap();
}

/// Runs `quiver admin rotate-secret-key ARGS` as the binary would.
async fn rotate(db: &Db, url: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["quiver", "admin", "rotate-secret-key"];
    argv.extend_from_slice(args);
    let Command::Admin(admin) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    quiver::cli::admin::run(db, url, admin).await
}

#[tokio::test]
async fn rotating_the_key_reencrypts_every_token_in_one_go() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let old = SecretKey::generate();
    let running = start(&url, &["--secret-key", &old.to_base64()])
        .await
        .unwrap();
    let db = running.state.db.clone();
    let brands: Vec<String> = {
        const SQL: &str = "SELECT id FROM brands ORDER BY id LIMIT 2";
        match &db {
            Db::Sqlite { read, .. } => sqlx::query_scalar(SQL).fetch_all(read).await,
            Db::Postgres(pool, _) => sqlx::query_scalar(SQL).fetch_all(pool).await,
        }
        .unwrap()
    };
    assert_eq!(brands.len(), 2);
    for b in &brands {
        store_token(&db, &old, b, &format!("{CANARY}-{b}")).await;
    }
    let before = stored_sealed(&db).await;

    // With the key from the environment, the new one must go to a file.
    let err = rotate(&db, &url, &["--secret-key", &old.to_base64()])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("--new-key-file"), "{err:#}");
    assert_eq!(stored_sealed(&db).await, before, "nothing changed");

    let new_file = dir.path().join("rotated.key");
    let nf = new_file.display().to_string();
    rotate(
        &db,
        &url,
        &["--secret-key", &old.to_base64(), "--new-key-file", &nf],
    )
    .await
    .unwrap();
    let new = SecretKey::from_base64(&std::fs::read_to_string(&new_file).unwrap()).unwrap();
    let after = stored_sealed(&db).await;
    assert_ne!(after, before);
    for (sealed, b) in after.iter().zip(&brands) {
        let want = format!("{CANARY}-{b}");
        assert_eq!(opens(&new, sealed, b).as_deref(), Some(want.as_str()));
        assert_eq!(
            opens(&old, sealed, b),
            None,
            "the old key no longer opens it"
        );
    }
    running.stop().await.unwrap();
    assert!(
        start(&url, &["--secret-key", &old.to_base64()])
            .await
            .is_err()
    );
    let running = start(&url, &["--secret-key", &new.to_base64()])
        .await
        .unwrap();
    let db = running.state.db.clone();

    // A value the current key cannot open stops the rotation before anything changes.
    let stray = SecretKey::generate();
    store_token(&db, &stray, &brands[1], "Atzr|stray").await;
    let mixed = stored_sealed(&db).await;
    let nf2 = dir.path().join("again.key").display().to_string();
    let err = rotate(
        &db,
        &url,
        &["--secret-key", &new.to_base64(), "--new-key-file", &nf2],
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("nothing was changed"),
        "{err:#}"
    );
    assert_eq!(stored_sealed(&db).await, mixed);
    assert!(!std::path::Path::new(&nf2).exists());
    running.stop().await.unwrap();
}

#[tokio::test]
async fn rotating_the_sqlite_key_file_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("quiver.db").display());
    let running = start(&url, &[]).await.unwrap();
    let file = quiver::cli::secrets::key_file(&url).unwrap();
    let old = SecretKey::from_base64(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let db = running.state.db.clone();
    let brand = some_brand(&db).await;
    store_token(&db, &old, &brand, CANARY).await;
    rotate(&db, &url, &[]).await.unwrap();
    let new = SecretKey::from_base64(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let sealed = stored_sealed(&db).await;
    assert_eq!(opens(&new, &sealed[0], &brand).as_deref(), Some(CANARY));
    assert_eq!(opens(&old, &sealed[0], &brand), None);
    running.stop().await.unwrap();
    let running = start(&url, &[]).await.unwrap();
    running.stop().await.unwrap();
}

#[tokio::test]
async fn copy_to_postgres_carries_the_token_sealed_and_prints_no_secret() {
    if std::env::var("QUIVER_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        // Needs an SQLite source: the SQLite pass covers it.
        return;
    }
    let Some(target_url) = fresh_postgres_url_for_copy().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("quiver.db").display());
    let key = SecretKey::generate();
    let running = start(&url, &["--secret-key", &key.to_base64()])
        .await
        .unwrap();
    let db = running.state.db.clone();
    let brand = some_brand(&db).await;
    store_token(&db, &key, &brand, CANARY).await;
    let target = Db::connect(&target_url).await.unwrap();
    target.migrate().await.unwrap();
    let mut printed = String::new();
    quiver::store::copy::sqlite_to_postgres(&db, &target, |table, n| {
        printed.push_str(&format!("{table}: {n}\n"));
    })
    .await
    .unwrap();
    for (table, sum) in quiver::store::copy::sums(&target).await.unwrap() {
        printed.push_str(&format!("{table} {} {}\n", sum.rows, sum.checksum));
    }
    assert!(printed.contains("amazon_connections"));
    assert!(!printed.contains(CANARY) && !printed.contains(key.to_base64().as_str()));
    let copied = stored_sealed(&target).await;
    assert_eq!(copied, stored_sealed(&db).await);
    assert!(!copied[0].contains("canary"));
    assert_eq!(opens(&key, &copied[0], &brand).as_deref(), Some(CANARY));
    running.stop().await.unwrap();
}

/// An empty PostgreSQL database when the default server answers (as the copy test uses).
async fn fresh_postgres_url_for_copy() -> Option<String> {
    use sqlx::Connection;
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let mut conn = sqlx::PgConnection::connect(admin).await.ok()?;
    let name = format!("quiver_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .ok()?;
    let mut u = url::Url::parse(admin).unwrap();
    u.set_path(&name);
    Some(u.to_string())
}

/// Every refresh token the simulator issues to a user starts so; the platform's does not.
const SIM_USER_TOKEN: &str = "Atzr|sim-";

#[tokio::test]
async fn a_token_from_the_real_flow_is_never_in_clear_and_survives_key_rotation() {
    use crate::amazon_connect::{BRAND, connect_as, region_of, sim_pick};
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let old = SecretKey::generate();
    // A simulator that outlives the server, so the grant is still known after a restart.
    let sim = amazon_sim::spawn(
        amazon_sim::SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let amazon = sim.base_url();
    let app = TestApp::on_database(
        &url,
        &["--secret-key", &old.to_base64(), "--amazon", &amazon],
    )
    .await;
    let seller = app.token(SELLER).await;
    connect_as(&app, &seller, BRAND, "NA", "alice").await;
    let (profile, advertiser) = sim_pick(&app, "alice", "US").await;
    let r = crate::amazon_connect::choose(&app, &seller, BRAND, "NA", &profile, &advertiser).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{:?}", r.body);
    let sealed = stored_sealed(&app.running.state.db).await;
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].contains("sim-") && !sealed[0].contains("Atzr"));
    // The token opens, and is the simulator's: alice's, as issued by the code exchange.
    let plain = opens(&old, &sealed[0], BRAND).unwrap();
    assert!(
        plain.starts_with(SIM_USER_TOKEN) && plain.contains("alice"),
        "a user's token"
    );
    // No response showed it.
    let shown = app.get("/sellers/brands/northwind/amazon", &seller).await;
    assert!(!shown.body.to_string().contains("Atzr"));

    let mut printed = String::new();
    if is_sqlite(&url)
        && let Some(target_url) = fresh_postgres_url_for_copy().await
    {
        let target = Db::connect(&target_url).await.unwrap();
        target.migrate().await.unwrap();
        quiver::store::copy::sqlite_to_postgres(&app.running.state.db, &target, |table, n| {
            printed.push_str(&format!("{table}: {n}\n"));
        })
        .await
        .unwrap();
        for (table, sum) in quiver::store::copy::sums(&target).await.unwrap() {
            printed.push_str(&format!("{table} {} {}\n", sum.rows, sum.checksum));
        }
        assert!(printed.contains("amazon_connections"), "{printed}");
        assert_eq!(stored_sealed(&target).await, sealed, "copied sealed");
        target.close().await;
    }
    assert!(!printed.contains(SIM_USER_TOKEN) && !printed.contains(&plain));
    let running = app.running;
    running.stop().await.unwrap();
    if is_sqlite(&url) {
        let bytes = sqlite_bytes(&dir);
        assert!(
            contains(&bytes, &sealed[0][..24]),
            "the search finds stored text"
        );
        assert!(
            !contains(&bytes, SIM_USER_TOKEN),
            "a refresh token is in the file in clear"
        );
        assert!(!contains(&bytes, &plain));
    }

    // Rotation: every token re-sealed under a new key, and the connection still works.
    let db = Db::connect(&url).await.unwrap();
    let new_file = dir.path().join("rotated.key");
    let nf = new_file.display().to_string();
    rotate(
        &db,
        &url,
        &["--secret-key", &old.to_base64(), "--new-key-file", &nf],
    )
    .await
    .unwrap();
    db.close().await;
    let new = SecretKey::from_base64(&std::fs::read_to_string(&new_file).unwrap()).unwrap();
    let app = TestApp::on_database(
        &url,
        &["--secret-key", &new.to_base64(), "--amazon", &amazon],
    )
    .await;
    let resealed = stored_sealed(&app.running.state.db).await;
    assert_ne!(resealed, sealed);
    assert_eq!(
        opens(&new, &resealed[0], BRAND).as_deref(),
        Some(plain.as_str())
    );
    let seller = app.token(SELLER).await;
    // Listing profiles calls Amazon with the token opened by the new key.
    let r = app
        .get("/sellers/brands/northwind/amazon/NA/profiles", &seller)
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{:?}", r.body);
    let na = region_of(&app, &seller, BRAND, "NA").await;
    assert_eq!(na["status"], "connected");
    let creator = app.token(CREATOR).await;
    let r = app.create_link(&creator, "B0NWBOTL03", "amazon.com").await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{:?}", r.body);
    assert!(crate::amazon_connect::carries_advertiser(
        r.body["url"].as_str().unwrap(),
        &advertiser
    ));
}

/// In the link of a queued account e-mail (the public URL): finding it stored is a leak.
const MAIL_CANARY: &str = "mail-link-canary-93ab";

async fn stored_mails(db: &Db) -> Vec<(String, String, String)> {
    const SQL: &str = "SELECT id, recipient, sealed FROM mail_outbox ORDER BY id";
    match db {
        Db::Sqlite { read, .. } => sqlx::query_as(SQL).fetch_all(read).await,
        Db::Postgres(pool, _) => sqlx::query_as(SQL).fetch_all(pool).await,
    }
    .unwrap()
}

fn mail_opens(key: &SecretKey, (id, to, sealed): &(String, String, String)) -> bool {
    let raw = STANDARD.decode(sealed).unwrap();
    key.open(&raw, &quiver::store::mail_outbox::aad(id, to))
        .is_ok_and(|plain| contains(&plain, MAIL_CANARY))
}

#[tokio::test]
async fn rotating_the_key_reseals_queued_mails_which_are_then_sent() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let old = SecretKey::generate();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let public = format!("http://{MAIL_CANARY}.example");
    let flags = |key: &SecretKey| {
        let key = key.to_base64().to_string();
        vec![
            "--secret-key".to_owned(),
            key,
            "--smtp-url".to_owned(),
            smtp.clone(),
            "--public-url".to_owned(),
            public.clone(),
            "--bulk-retry-base-ms".to_owned(),
            "100".to_owned(),
            "--bulk-poll-ms".to_owned(),
            "50".to_owned(),
        ]
    };
    let old_flags = flags(&old);
    let running = start(
        &url,
        &old_flags.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let db = running.state.db.clone();
    let brand = some_brand(&db).await;
    store_token(&db, &old, &brand, CANARY).await;
    // The SMTP server is down: the reset mail waits, sealed.
    let r = reqwest::Client::new()
        .post(format!("{}/password/forgot", running.base_url()))
        .json(&serde_json::json!({ "email": CREATOR }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
    let mails = stored_mails(&db).await;
    assert_eq!(mails.len(), 1);
    assert!(mail_opens(&old, &mails[0]));
    // Stopped first: a server still on the old key could not open the re-sealed mail.
    running.stop().await.unwrap();
    let db = Db::connect(&url).await.unwrap();
    let nf = dir.path().join("rotated.key").display().to_string();
    rotate(
        &db,
        &url,
        &["--secret-key", &old.to_base64(), "--new-key-file", &nf],
    )
    .await
    .unwrap();
    let new = SecretKey::from_base64(&std::fs::read_to_string(&nf).unwrap()).unwrap();
    let after = stored_mails(&db).await;
    assert_eq!(after.len(), 1);
    assert!(mail_opens(&new, &after[0]), "re-sealed under the new key");
    assert!(!mail_opens(&old, &after[0]));
    assert_eq!(
        opens(&new, &stored_sealed(&db).await[0], &brand).as_deref(),
        Some(CANARY)
    );

    let mailbox = crate::mailbox::Mailbox::on_port(port).await;
    let new_flags = flags(&new);
    let running = start(
        &url,
        &new_flags.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let message = mailbox.wait(CREATOR, 1).await;
    assert!(message.contains(MAIL_CANARY));
    let token = crate::mailbox::token(&message, "reset");
    running.stop().await.unwrap();
    db.close().await;
    if is_sqlite(&url) {
        let bytes = sqlite_bytes(&dir);
        assert!(
            !contains(&bytes, MAIL_CANARY),
            "a mail's link is stored in clear"
        );
        assert!(
            !contains(&bytes, &token),
            "a reset token is stored in clear"
        );
    }
}
