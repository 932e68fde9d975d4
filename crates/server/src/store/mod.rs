//! Storage: one `Db` over SQLite (embedded default) or PostgreSQL (scale-out), with the
//! same SQL text on both wherever the dialects agree, and the only place with SQL.
//!
//! Each file (or folder) holds one aggregate: `accounts`, `tokens`, `catalog` (brands,
//! Amazon accounts, products), `links`, `commission`, `sellers/` (the seller side, one
//! file per sub-resource), `reports/` (facts and report queries, one file per concern),
//! `bulk` (the bulk job queue), `quotas` (an account's load, for its quotas), `summary`
//! (report summaries), `leases` (background work's named leases), `tags`, `ops`, `copy`
//! (SQLite → PostgreSQL), `signup` (sessions, e-mailed tokens, the e-mail throttle),
//! `api_keys`, `invitations`, `webhooks` (endpoints and the outbox of events),
//! `mail_outbox` (account e-mails waiting to be sent, sealed).
//!
//! How to write a query: a constant `&str` with `$1, $2, ...` when its text is fixed;
//! `sql::Sql` when its text depends on the input (optional filters, `IN` lists, keyset
//! bounds), which numbers placeholders as values are added and binds them on either
//! engine. Rows decode into typed fields (`Marketplace`, statuses): closed sets use
//! `#[sqlx(try_from = "String")]`, so a stored value outside the set is a decode error.
//! A schema change is a pair of migrations, `migrations/sqlite` and
//! `migrations/postgres`, under the same file name (tests/api/schema.rs holds them to it).

pub mod accounts;
pub mod amazon_connections;
pub mod api_keys;
pub mod bulk;
pub mod catalog;
pub mod clicks;
pub mod commission;
pub mod copy;
pub mod emit;
pub mod invitations;
pub mod leases;
pub mod links;
pub mod mail_outbox;
pub mod ops;
pub mod profiles;
pub mod quotas;
pub mod reports;
mod reseal;
pub mod secrets;
pub mod sellers;
pub mod signup;
pub mod sql;
pub mod statements;
pub mod summary;
pub mod tags;
mod text_enum;
pub mod tokens;
pub mod webhooks;
pub mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Storage failures. Constraint violations the caller can act on are told apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL '{0}': expected sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("a row with the same key already exists")]
    Conflict,
    /// Another link has this short code: the caller draws a new one and tries again.
    #[error("the short code is taken")]
    ShortCodeTaken,
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot take the migration lock: {0}")]
    Lock(String),
}

impl StoreError {
    /// Maps unique-constraint violations to `Conflict` (`ShortCodeTaken` for a link's
    /// short code), keeping every other error as is.
    pub fn from_write(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                // PostgreSQL names the index; SQLite names the column in its message.
                if db.constraint() == Some("links_short_code_idx")
                    || db.message().contains("links.short_code")
                {
                    Self::ShortCodeTaken
                } else {
                    Self::Conflict
                }
            }
            _ => Self::Sqlx(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored value of `column` that does not parse: the same error as a row field's
/// failed `try_from`, for values converted outside `FromRow`.
pub(crate) fn decode_error(
    column: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> StoreError {
    StoreError::Sqlx(sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The database. SQLite gets a many-connection read pool and a single-connection write
/// pool: SQLite admits one writer at a time, and queueing writers in the pool is cheaper
/// and more predictable than letting them collide on `SQLITE_BUSY`.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// Group commit of link creation (`writer`), on the `write` pool.
        writer: std::sync::Arc<writer::Writer>,
    },
    /// The pool, and the group commit of link creation on it.
    Postgres(PgPool, std::sync::Arc<writer::Writer>),
}

/// Runs `$body` with `$pool` bound to the pool for reads, once per engine.
macro_rules! read_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { read: $pool, .. } => $body,
            $crate::store::Db::Postgres($pool, _) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool for writes, once per engine.
macro_rules! write_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { write: $pool, .. } => $body,
            $crate::store::Db::Postgres($pool, _) => $body,
        }
    };
}

pub(crate) use {read_pool, write_pool};

/// A transaction that writes after it reads: on SQLite it takes the write lock at BEGIN
/// (`IMMEDIATE`), since upgrading a read transaction fails at once with
/// `SQLITE_BUSY_SNAPSHOT` when another process wrote in between.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`) and runs pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if !url.contains(":memory:") && !url.contains("mode=memory") {
                create_private(options.get_filename());
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            let writer = std::sync::Arc::new(writer::Writer::sqlite(write.clone()));
            Db::Sqlite {
                read,
                write,
                writer,
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            let writer = std::sync::Arc::new(writer::Writer::postgres(pool.clone()));
            Db::Postgres(pool, writer)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(db)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite { write, .. } => {
                // SQLite's migrator takes no lock, so processes starting together on one
                // file would both apply the same migration: serialise them on a lock file.
                let db_file = write.connect_options().get_filename().to_owned();
                let lock = tokio::task::spawn_blocking(move || {
                    let mut name = db_file.into_os_string();
                    name.push(".migrate-lock");
                    let file = private_file_options()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(name)?;
                    file.lock()?;
                    std::io::Result::Ok(file)
                })
                .await
                .map_err(|e| StoreError::Lock(e.to_string()))?
                .map_err(|e| StoreError::Lock(e.to_string()))?;
                let result = sqlx::migrate!("./migrations/sqlite").run(write).await;
                drop(lock);
                result?
            }
            // The migrator takes an advisory lock, so processes starting together are safe.
            Db::Postgres(pool, _) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres(..) => Engine::Postgres,
        }
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> StoreResult<()> {
        read_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                read,
                write,
                writer,
            } => {
                writer.stop().await;
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool, writer) => {
                writer.stop().await;
                pool.close().await
            }
        }
    }
}

/// Open options for files only their owner may read: the database holds password hashes
/// and refresh tokens.
fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates a missing SQLite database file as mode 0600 before SQLite opens it. SQLite
/// would create it 0644 (less the umask), and it gives the `-wal` and `-shm` files the
/// database file's mode, so this covers all three. Failures are left to SQLite, which
/// then reports them in its own words.
fn create_private(path: &std::path::Path) {
    let _ = private_file_options()
        .write(true)
        .create_new(true)
        .open(path);
}

// The clock is `crate::clock`; the store's callers keep reaching it through here.
pub use crate::clock::now_ms;

/// Escapes `%`, `_` and `\` so user text matches literally inside `LIKE ... ESCAPE '\'`.
fn like_contains(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
