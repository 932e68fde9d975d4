//! The two migration folders stay twins: every migration exists for both engines under
//! the same name, and migrating each engine yields the same schema (tables, columns,
//! constraints and indexes, by name).
//!
//! Both schemas are read into one description, entry by entry, so a difference names
//! what differs. Normalisation, so that the same intent reads the same on both engines:
//! - Types: SQLite's declared type, lower-cased, must be PostgreSQL's
//!   `information_schema.columns.data_type` (`TEXT` ~ `text`, `BIGINT` ~ `bigint`,
//!   `INTEGER` ~ `integer`, `BOOLEAN` ~ `boolean`); there are no other aliases.
//! - A primary-key column counts as NOT NULL on both (PostgreSQL enforces it; SQLite
//!   reports 0 for a `TEXT PRIMARY KEY` of a rowid table although the code never stores
//!   NULL there).
//! - Constraints are named as PostgreSQL names unnamed ones: `{table}_pkey`,
//!   `{table}_{column}_fkey`, `{table}_{column}_check`, `{table}_{columns}_key`. SQLite
//!   keeps no names, so its constraints get those names from their structure (CHECKs are
//!   found in the stored `CREATE TABLE`). CHECK expressions and partial-index predicates
//!   are compared by presence only: each engine prints them in its own syntax.
//! - Defaults are compared by presence.
//!
//! Intentional differences are listed in `ALLOWED`, each with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use quiver::store::Db;
use sqlx::Row;

/// (entry, SQLite's description, PostgreSQL's description, why they differ).
const ALLOWED: &[(&str, &str, &str, &str)] = &[(
    "login_failures.column.id",
    "#0 integer not null",
    "#0 bigint not null",
    "SQLite makes a column its 64-bit rowid only when spelled INTEGER PRIMARY KEY; \
     PostgreSQL's counterpart is a BIGINT identity",
)];

/// Entry → description: `t` (table), `t.column.c`, `t.constraint.name`, `t.index.name`.
type Schema = BTreeMap<String, String>;

fn migration_files(engine: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_migration_exists_for_both_engines() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty());
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migrations without a twin: only in sqlite/ {only_sqlite:?}, only in postgres/ {only_postgres:?}"
    );
}

fn column_entry(position: i64, ty: &str, not_null: bool, has_default: bool) -> String {
    let mut d = format!("#{position} {}", ty.to_lowercase());
    if not_null {
        d.push_str(" not null");
    }
    if has_default {
        d.push_str(" default");
    }
    d
}

fn fkey_entry(from: &[String], table: &str, to: &[String]) -> String {
    format!(
        "foreign key ({}) references {table} ({})",
        from.join(", "),
        to.join(", ")
    )
}

fn index_entry(unique: bool, columns: &[String], partial: bool) -> String {
    format!(
        "{}({}){}",
        if unique { "unique " } else { "" },
        columns.join(", "),
        if partial { " partial" } else { "" }
    )
}

/// The column definitions of a `CREATE TABLE` statement, split at top-level commas.
fn table_parts(create: &str) -> Vec<String> {
    // `--` comments may hold any text, commas and parentheses included.
    let create: String = create
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    let body =
        &create[create.find('(').expect("CREATE TABLE (") + 1..create.rfind(')').expect(")")];
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

async fn sqlite_schema(db: &Db) -> Schema {
    let Db::Sqlite { read: pool, .. } = db else {
        unreachable!()
    };
    let mut schema = Schema::new();
    let tables = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for t in tables {
        let table: String = t.get("name");
        let create: String = t.get("sql");
        schema.insert(table.clone(), "table".into());

        let columns = sqlx::query(
            "SELECT cid, name, type, \"notnull\" AS nn, dflt_value IS NOT NULL AS has_default, pk \
             FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &columns {
            let name: String = c.get("name");
            let pk_pos: i64 = c.get("pk");
            if pk_pos > 0 {
                pk.push((pk_pos, name.clone()));
            }
            let not_null = c.get::<i64, _>("nn") != 0 || pk_pos > 0;
            schema.insert(
                format!("{table}.column.{name}"),
                column_entry(
                    c.get("cid"),
                    c.get("type"),
                    not_null,
                    c.get::<bool, _>("has_default"),
                ),
            );
        }
        if !pk.is_empty() {
            pk.sort();
            let cols: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
            schema.insert(
                format!("{table}.constraint.{table}_pkey"),
                format!("primary key ({})", cols.join(", ")),
            );
        }

        let fks = sqlx::query(
            "SELECT id, \"table\" AS target, \"from\" AS col, \"to\" AS target_col \
             FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, (String, Vec<String>, Vec<String>)> = BTreeMap::new();
        for f in fks {
            let e = by_id
                .entry(f.get("id"))
                .or_insert_with(|| (f.get("target"), Vec::new(), Vec::new()));
            e.1.push(f.get("col"));
            e.2.push(f.get("target_col"));
        }
        for (target, from, to) in by_id.into_values() {
            schema.insert(
                format!("{table}.constraint.{table}_{}_fkey", from.join("_")),
                fkey_entry(&from, &target, &to),
            );
        }

        for part in table_parts(&create) {
            if !part.to_uppercase().contains("CHECK") {
                continue;
            }
            let first = part.split_whitespace().next().unwrap_or_default();
            assert!(
                !["CHECK", "CONSTRAINT"].contains(&first.to_uppercase().as_str()),
                "{table}: name table-level constraints explicitly so both engines agree: {part}"
            );
            schema.insert(
                format!(
                    "{table}.constraint.{table}_{}_check",
                    first.trim_matches('"')
                ),
                "check".into(),
            );
        }

        let indexes = sqlx::query(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list($1)",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        for i in indexes {
            let name: String = i.get("name");
            let origin: String = i.get("origin");
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            match origin.as_str() {
                // The primary key's own index: compared as the constraint.
                "pk" => {}
                "u" => {
                    schema.insert(
                        format!("{table}.constraint.{table}_{}_key", columns.join("_")),
                        format!("unique ({})", columns.join(", ")),
                    );
                }
                _ => {
                    schema.insert(
                        format!("{table}.index.{name}"),
                        index_entry(
                            i.get::<bool, _>("is_unique"),
                            &columns,
                            i.get::<bool, _>("partial"),
                        ),
                    );
                }
            }
        }
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let Db::Postgres(pool, _) = db else {
        unreachable!()
    };
    let mut schema = Schema::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for t in &tables {
        schema.insert(t.clone(), "table".into());
    }
    let columns = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, \
         is_nullable = 'NO' AS not_null, column_default IS NOT NULL AS has_default, \
         (ordinal_position - 1)::bigint AS position \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for c in columns {
        let (t, name): (String, String) = (c.get("t"), c.get("c"));
        schema.insert(
            format!("{t}.column.{name}"),
            column_entry(
                c.get("position"),
                c.get("ty"),
                c.get("not_null"),
                c.get("has_default"),
            ),
        );
    }
    // Columns of constraints in key order; NOT NULL constraints are the columns' own.
    let constraints = sqlx::query(
        "SELECT c.conrelid::regclass::text AS t, c.conname::text AS name, c.contype::text AS kind, \
         ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols, \
         c.confrelid::regclass::text AS target, \
         ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS target_cols \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'f', 'c', 'u') \
         AND c.conrelid::regclass::text <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for c in constraints {
        let (t, name, kind): (String, String, String) = (c.get("t"), c.get("name"), c.get("kind"));
        let cols: Vec<String> = c.get("cols");
        let d = match kind.as_str() {
            "p" => format!("primary key ({})", cols.join(", ")),
            "f" => fkey_entry(
                &cols,
                &c.get::<String, _>("target"),
                &c.get::<Vec<String>, _>("target_cols"),
            ),
            "u" => format!("unique ({})", cols.join(", ")),
            _ => "check".into(),
        };
        schema.insert(format!("{t}.constraint.{name}"), d);
    }
    // Indexes that back no constraint (those are compared as constraints).
    let indexes = sqlx::query(
        "SELECT t.relname::text AS t, i.relname::text AS name, x.indisunique AS is_unique, \
         x.indpred IS NOT NULL AS partial, \
         ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, o) \
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) AS cols \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations' \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for i in indexes {
        let (t, name): (String, String) = (i.get("t"), i.get("name"));
        let cols: Vec<String> = i.get("cols");
        schema.insert(
            format!("{t}.index.{name}"),
            index_entry(i.get("is_unique"), &cols, i.get("partial")),
        );
    }
    schema
}

/// Every entry that differs and is not allowed, as readable lines.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let keys: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (s, p) = (sqlite.get(k), postgres.get(k));
        if s == p {
            continue;
        }
        let allowed = ALLOWED.iter().any(|(entry, sv, pv, _)| {
            entry == k && s.map(String::as_str) == Some(*sv) && p.map(String::as_str) == Some(*pv)
        });
        if !allowed {
            out.push(format!(
                "{k}: sqlite {}, postgres {}",
                s.map_or("(missing)", String::as_str),
                p.map_or("(missing)", String::as_str)
            ));
        }
    }
    out
}

#[test]
fn differences_name_what_differs_and_the_allow_list_is_exact() {
    let mut sqlite = Schema::new();
    let mut postgres = Schema::new();
    sqlite.insert("t".into(), "table".into());
    postgres.insert("t".into(), "table".into());
    sqlite.insert("t.column.a".into(), column_entry(0, "TEXT", true, false));
    postgres.insert("t.column.a".into(), column_entry(0, "text", false, false));
    postgres.insert(
        "t.index.t_a_idx".into(),
        index_entry(false, &["a".into()], false),
    );
    assert_eq!(
        differences(&sqlite, &postgres),
        [
            "t.column.a: sqlite #0 text not null, postgres #0 text",
            "t.index.t_a_idx: sqlite (missing), postgres (a)",
        ]
    );
    let (entry, s, p, _) = ALLOWED[0];
    let one = |d: &str| Schema::from([(entry.to_owned(), d.to_owned())]);
    assert!(differences(&one(s), &one(p)).is_empty());
    assert_eq!(differences(&one(s), &one("#0 text not null")).len(), 1);
}

#[test]
fn check_constraints_are_found_in_the_create_statement() {
    let parts = table_parts(
        "CREATE TABLE t (\n  a TEXT NOT NULL CHECK (a IN ('x', 'y')), -- one, two\n  b INTEGER,\n  PRIMARY KEY (a, b)\n)",
    );
    assert_eq!(
        parts,
        [
            "a TEXT NOT NULL CHECK (a IN ('x', 'y'))",
            "b INTEGER",
            "PRIMARY KEY (a, b)"
        ]
    );
}

#[tokio::test]
async fn both_engines_migrate_to_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let sqlite = Db::connect(&sqlite_url).await.unwrap();
    sqlite.migrate().await.unwrap();
    let sqlite = sqlite_schema(&sqlite).await;
    // The reading itself works: every table, with its key and indexes.
    assert_eq!(
        sqlite
            .get("accounts.constraint.accounts_pkey")
            .map(String::as_str),
        Some("primary key (id)")
    );
    assert_eq!(
        sqlite
            .get("accounts.constraint.accounts_kind_check")
            .map(String::as_str),
        Some("check")
    );
    assert_eq!(
        sqlite
            .get("access_requests.index.access_requests_pending_key")
            .map(String::as_str),
        Some("unique (brand_id, account_id) partial")
    );

    // Only the SQLite half runs without a PostgreSQL server.
    let Some(pg_url) = crate::support::fresh_postgres_url().await else {
        return;
    };
    let postgres = Db::connect(&pg_url).await.unwrap();
    postgres.migrate().await.unwrap();
    let postgres = postgres_schema(&postgres).await;
    let diff = differences(&sqlite, &postgres);
    assert!(
        diff.is_empty(),
        "the engines' schemas differ:\n{}",
        diff.join("\n")
    );
}
