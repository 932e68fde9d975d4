//! Moving an SQLite deployment to PostgreSQL: every table, every row, verified.

use quiver::store::Db;
use quiver::store::copy;
use reqwest::StatusCode;
use sqlx::Connection;

use crate::support::*;

async fn empty_postgres() -> String {
    let admin = std::env::var("QUIVER_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("quiver_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL must be reachable (QUIVER_TEST_POSTGRES_URL)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    url.to_string()
}

#[tokio::test]
async fn sqlite_to_postgres_round_trips_every_table() {
    if std::env::var("QUIVER_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        // The PostgreSQL pass runs TestApp itself on PostgreSQL: the source must be SQLite,
        // which the SQLite pass of the same suite covers.
        return;
    }
    let app = TestApp::spawn().await;
    let t = app.token(CREATOR).await;
    for m in ["amazon.com", "amazon.de", "amazon.es"] {
        assert_eq!(
            app.create_link(&t, "B0D45KS7QM", m).await.status,
            StatusCode::CREATED
        );
    }
    // A failed login fills the identity-keyed table too.
    app.post_form(
        "/token",
        &[("username", CREATOR), ("password", "wrong-password")],
    )
    .await;
    let source = &app.running.state.db;
    let before = copy::sums(source).await.unwrap();
    assert!(
        before["links"].rows == 3
            && before["products"].rows >= 60
            && before["login_failures"].rows == 1
    );

    let target = Db::connect(&empty_postgres().await).await.unwrap();
    target.migrate().await.unwrap();
    let copied = copy::sqlite_to_postgres(source, &target, |_, _| {})
        .await
        .unwrap();
    assert_eq!(copied, before);
    let after = copy::sums(&target).await.unwrap();
    assert_eq!(after, before, "every table's count and checksum match");

    // A second copy into the now full target is refused, changing nothing.
    let again = copy::sqlite_to_postgres(source, &target, |_, _| {}).await;
    assert!(matches!(again, Err(copy::CopyError::TargetNotEmpty(_))));
    assert_eq!(copy::sums(&target).await.unwrap(), before);

    // The copied database serves the same data, and new rows get fresh identity values.
    target
        .record_login_failure("x@example.com", "127.0.0.1", 1)
        .await
        .unwrap();
    let creator = target.account_by_email(CREATOR).await.unwrap().unwrap();
    assert_eq!(target.count_links(&creator.id).await.unwrap(), 3);
}
