//! Copying an SQLite deployment into PostgreSQL, table by table, and the per-table counts
//! and checksums that prove nothing was lost.
//!
//! The copy is generic over the schema (both engines run the same migrations), so tables
//! added later are copied without changes here. Values travel as text and are cast to the
//! target column's type by PostgreSQL itself. Identifiers come from the schemas (quoted);
//! values are always bound (`Sql`).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, Row};

use super::sql::Sql;
use super::{Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("copy from SQLite to PostgreSQL: give an sqlite:// source and a postgres:// target")]
    Engines,
    #[error(
        "the two databases are at different migrations ({0} vs {1}): run `quiver migrate` on both"
    )]
    Migrations(String, String),
    #[error("the target is not empty: table {0} has rows")]
    TargetNotEmpty(String),
    #[error("table {0} exists in the source but not in the target")]
    MissingTable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// Rows and an order-independent checksum of one table's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSum {
    pub rows: u64,
    pub checksum: u128,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Every column of `table` as text, in the given order.
fn select_as_text(table: &str, cols: &[String]) -> String {
    let exprs: Vec<String> = cols
        .iter()
        .map(|c| format!("CAST({} AS TEXT)", quote(c)))
        .collect();
    format!("SELECT {} FROM {}", exprs.join(", "), quote(table))
}

fn row_hash(values: &[Option<String>]) -> u128 {
    let mut h = Sha256::new();
    for v in values {
        match v {
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    let digest = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

/// Source tables in an order where every table comes after the tables it references.
async fn sqlite_tables(pool: &SqlitePool) -> Result<Vec<(String, Vec<String>)>, CopyError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut columns = BTreeMap::new();
    for t in &names {
        let fks: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT \"table\" FROM pragma_foreign_key_list({})",
            quote_literal(t)
        )))
        .fetch_all(pool)
        .await?;
        deps.insert(t.clone(), fks.into_iter().filter(|f| f != t).collect());
        let cols: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info({}) ORDER BY cid",
            quote_literal(t)
        )))
        .fetch_all(pool)
        .await?;
        columns.insert(t.clone(), cols);
    }
    let mut ordered = Vec::new();
    let mut done = BTreeSet::new();
    while ordered.len() < names.len() {
        let before = ordered.len();
        for t in &names {
            if !done.contains(t)
                && deps[t]
                    .iter()
                    .all(|d| done.contains(d) || !deps.contains_key(d))
            {
                done.insert(t.clone());
                ordered.push((t.clone(), columns[t].clone()));
            }
        }
        if ordered.len() == before {
            // A reference cycle: copy the rest in name order (constraints are checked at
            // commit for deferrable keys; ours have no cycles).
            for t in &names {
                if done.insert(t.clone()) {
                    ordered.push((t.clone(), columns[t].clone()));
                }
            }
        }
    }
    Ok(ordered)
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `name → (data_type, is_identity)` of a PostgreSQL table's columns.
async fn pg_columns(
    pool: &PgPool,
    table: &str,
) -> Result<BTreeMap<String, (String, bool)>, CopyError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_identity::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, t, id)| (c, (t, id == "YES")))
        .collect())
}

async fn migrations(db: &Db) -> Result<String, CopyError> {
    const SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
    let versions: Vec<i64> = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(SQL).fetch_all(read).await?,
        Db::Postgres(pool, _) => sqlx::query_scalar(SQL).fetch_all(pool).await?,
    };
    Ok(versions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(","))
}

/// Copies every table of an SQLite database into an empty, migrated PostgreSQL database.
/// Returns the source's per-table sums, which the target then matches.
pub async fn sqlite_to_postgres(
    from: &Db,
    to: &Db,
    mut progress: impl FnMut(&str, u64),
) -> Result<BTreeMap<String, TableSum>, CopyError> {
    let (Db::Sqlite { read: src, .. }, Db::Postgres(dst, _)) = (from, to) else {
        return Err(CopyError::Engines);
    };
    let (a, b) = (migrations(from).await?, migrations(to).await?);
    if a != b {
        return Err(CopyError::Migrations(a, b));
    }
    let tables = sqlite_tables(src).await?;
    for (t, _) in &tables {
        let n: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", quote(t))))
                .fetch_one(dst)
                .await
                .map_err(|_| CopyError::MissingTable(t.clone()))?;
        if n > 0 {
            return Err(CopyError::TargetNotEmpty(t.clone()));
        }
    }
    let mut tx = dst.begin().await?;
    // The counters (`link_counts`, `link_hours`) are copied as they are, so the triggers
    // that keep them (the only user triggers on links) must not count the copied links a
    // second time.
    sqlx::query("ALTER TABLE links DISABLE TRIGGER USER")
        .execute(&mut *tx)
        .await?;
    for (table, cols) in &tables {
        let pg = pg_columns(dst, table).await?;
        let mut types = Vec::with_capacity(cols.len());
        for c in cols {
            let (ty, _) = pg
                .get(c)
                .ok_or_else(|| CopyError::MissingTable(format!("{table}.{c}")))?;
            types.push(ty.clone());
        }
        let identity = cols.iter().any(|c| pg.get(c).is_some_and(|(_, id)| *id));
        let rows = sqlx::query(AssertSqlSafe(select_as_text(table, cols)))
            .fetch_all(src)
            .await?;
        // Several rows per statement, within PostgreSQL's 65,535 parameters.
        let per_batch = (60_000 / cols.len().max(1)).clamp(1, 1000);
        let mut copied = 0u64;
        let head = format!(
            "INSERT INTO {} ({}){} VALUES ",
            quote(table),
            cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
            if identity {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            },
        );
        for chunk in rows.chunks(per_batch) {
            let mut insert = Sql::new(&head);
            for (r, row) in chunk.iter().enumerate() {
                insert.push(if r == 0 { "(" } else { ", (" });
                for (i, ty) in types.iter().enumerate() {
                    if i > 0 {
                        insert.push(", ");
                    }
                    insert
                        .push("CAST(")
                        .arg(row.try_get::<Option<String>, _>(i)?)
                        .push(" AS ")
                        .push(ty)
                        .push(")");
                }
                insert.push(")");
            }
            insert.query().execute(&mut *tx).await?;
            copied += chunk.len() as u64;
            progress(table, copied);
        }
        if identity {
            for (c, (_, is_id)) in &pg {
                if *is_id {
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
                        quote_literal(table),
                        quote_literal(c),
                        quote(c),
                        quote(table)
                    );
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
                }
            }
        }
    }
    sqlx::query("ALTER TABLE links ENABLE TRIGGER USER")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sums(from).await
}

/// Per-table row counts and checksums, computed the same way on either engine (booleans
/// as 0/1, every other value as its text), so two databases can be compared.
pub async fn sums(db: &Db) -> Result<BTreeMap<String, TableSum>, CopyError> {
    let mut out = BTreeMap::new();
    match db {
        Db::Sqlite { read, .. } => {
            for (table, cols) in sqlite_tables(read).await? {
                let rows = sqlx::query(AssertSqlSafe(select_as_text(&table, &cols)))
                    .fetch_all(read)
                    .await?;
                out.insert(table, sum_rows(&rows, cols.len())?);
            }
        }
        Db::Postgres(pool, _) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
                 AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY 1",
            )
            .fetch_all(pool)
            .await?;
            for table in tables {
                // Column order as SQLite declares it: the migrations create them alike.
                let cols: Vec<(String, String)> = sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(&table)
                .fetch_all(pool)
                .await?;
                let exprs: Vec<String> = cols
                    .iter()
                    .map(|(c, ty)| match ty.as_str() {
                        "boolean" => format!(
                            "CASE WHEN {q} IS NULL THEN NULL WHEN {q} THEN '1' ELSE '0' END",
                            q = quote(c)
                        ),
                        _ => format!("CAST({} AS TEXT)", quote(c)),
                    })
                    .collect();
                let select = format!("SELECT {} FROM {}", exprs.join(", "), quote(&table));
                let rows = sqlx::query(AssertSqlSafe(select)).fetch_all(pool).await?;
                out.insert(table, sum_rows(&rows, cols.len())?);
            }
        }
    }
    Ok(out)
}

fn sum_rows<R: Row>(rows: &[R], width: usize) -> Result<TableSum, CopyError>
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let mut checksum = 0u128;
    for row in rows {
        let values = (0..width)
            .map(|i| row.try_get::<Option<String>, _>(i))
            .collect::<Result<Vec<_>, _>>()?;
        checksum = checksum.wrapping_add(row_hash(&values));
    }
    Ok(TableSum {
        rows: rows.len() as u64,
        checksum,
    })
}
