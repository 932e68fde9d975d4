//! Dynamic SQL: the one builder for every statement whose text depends on its input
//! (optional filters, `IN` lists, keyset bounds, multi-row inserts).
//!
//! Placeholders are numbered `$1, $2, ...` in the order values are added. PostgreSQL
//! reads that style natively and sqlx's SQLite driver maps `$n` to the n-th argument, so
//! the same text runs on both engines; nothing here emits `?`. Text is only ever joined
//! from constant fragments (and quoted schema identifiers) and placeholders, never from
//! values, which is what the `AssertSqlSafe` below vouches for.

use sqlx::postgres::PgRow;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Database, FromRow};

use super::{Db, StoreResult, read_pool};

/// A bind value of dynamically assembled SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    /// INTEGER columns (days `YYYYMMDD`, positions): 32-bit on PostgreSQL.
    Int32(i32),
    Bool(bool),
}

/// `impl From<$t> for Arg`, each by the given conversion.
macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr;)+) => {
        $(impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                $e
            }
        })+
    };
}

arg_from! {
    &str => |v| Arg::Text(v.to_owned());
    String => |v| Arg::Text(v);
    &String => |v| Arg::Text(v.clone());
    Option<&str> => |v| Arg::OptText(v.map(str::to_owned));
    Option<String> => |v| Arg::OptText(v);
    i64 => |v| Arg::Int(v);
    Option<i64> => |v| Arg::OptInt(v);
    i32 => |v| Arg::Int32(v);
    bool => |v| Arg::Bool(v);
    quiver_domain::Marketplace => |v| Arg::Text(v.as_str().to_owned());
}

/// SQL text with `$n` placeholders numbered as arguments are added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(head: &str) -> Self {
        Self {
            text: head.to_owned(),
            args: Vec::new(),
        }
    }

    /// An empty text that numbers on from `other`'s arguments (and binds them first): for
    /// a statement that embeds `other`'s text, such as a count around a sub-select.
    pub fn continuing(other: &Sql) -> Self {
        Self {
            text: String::new(),
            args: other.args.clone(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Appends SQL text: constant fragments, or identifiers read from the schema and
    /// quoted (the SQLite → PostgreSQL copy); never a value, which goes through `arg`.
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends the text of `other`, whose arguments this builder already starts with
    /// (it was made `continuing` from `other`), so `other`'s numbers still hold.
    pub fn push_continued(&mut self, other: &Sql) -> &mut Self {
        debug_assert!(
            self.args.starts_with(&other.args),
            "not continued from `other`"
        );
        self.text.push_str(&other.text);
        self
    }

    /// Appends a placeholder for `a`.
    pub fn arg(&mut self, a: impl Into<Arg>) -> &mut Self {
        self.args.push(a.into());
        let n = self.args.len();
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }

    /// Adds a value for a placeholder the text already has: for constant statements
    /// (`Sql::new(CONST)` with `$1..$n` in it), bound in order.
    pub fn bind(&mut self, a: impl Into<Arg>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    /// Placeholders for `values`, comma-separated.
    pub fn list<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.arg(v);
        }
        self
    }

    /// ` AND col = $n`.
    pub fn and_eq(&mut self, col: &str, a: impl Into<Arg>) -> &mut Self {
        self.push(" AND ").push(col).push(" = ").arg(a)
    }

    /// ` AND col = $n` when `a` is given; nothing otherwise.
    pub fn and_eq_opt<A: Into<Arg>>(&mut self, col: &str, a: Option<A>) -> &mut Self {
        match a {
            Some(a) => self.and_eq(col, a),
            None => self,
        }
    }

    /// ` AND col IN ($a, $b, ...)`; an empty list matches nothing.
    pub fn and_in<A: Into<Arg>>(
        &mut self,
        col: &str,
        values: impl IntoIterator<Item = A>,
    ) -> &mut Self {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return self.push(" AND 1 = 0");
        }
        self.push(" AND ").push(col).push(" IN (");
        self.list(values).push(")")
    }

    /// ` AND col IN (...)` when the list is not empty; nothing otherwise (any value).
    pub fn and_in_nonempty(&mut self, col: &str, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self;
        }
        self.and_in(col, values)
    }

    pub fn query<DB: Engine>(&self) -> Query<'_, DB, <DB as Database>::Arguments> {
        DB::query(self)
    }

    pub fn query_as<DB: Engine, O>(&self) -> QueryAs<'_, DB, O, <DB as Database>::Arguments>
    where
        O: for<'r> FromRow<'r, DB::Row>,
    {
        DB::query_as(self)
    }

    pub fn query_scalar<DB: Engine, O>(&self) -> QueryScalar<'_, DB, O, <DB as Database>::Arguments>
    where
        (O,): for<'r> FromRow<'r, DB::Row>,
    {
        DB::query_scalar(self)
    }
}

/// The engines a `Sql` binds on: each value binds with its own SQL type.
pub trait Engine: Database {
    fn query(sql: &Sql) -> Query<'_, Self, <Self as Database>::Arguments>;
    fn query_as<O>(sql: &Sql) -> QueryAs<'_, Self, O, <Self as Database>::Arguments>
    where
        O: for<'r> FromRow<'r, Self::Row>;
    fn query_scalar<O>(sql: &Sql) -> QueryScalar<'_, Self, O, <Self as Database>::Arguments>
    where
        (O,): for<'r> FromRow<'r, Self::Row>;
}

/// Binds every argument in order.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::OptText(s) => q.bind(s.as_deref()),
                Arg::Int(i) => q.bind(*i),
                Arg::OptInt(i) => q.bind(*i),
                Arg::Int32(i) => q.bind(*i),
                Arg::Bool(b) => q.bind(*b),
            };
        }
        q
    }};
}

/// `$text(sql)` is the statement's text for the engine.
macro_rules! engine {
    ($db:ty, $text:path) => {
        impl Engine for $db {
            fn query(sql: &Sql) -> Query<'_, Self, <Self as Database>::Arguments> {
                bind_all!(sqlx::query(AssertSqlSafe($text(&sql.text))), &sql.args)
            }

            fn query_as<O>(sql: &Sql) -> QueryAs<'_, Self, O, <Self as Database>::Arguments>
            where
                O: for<'r> FromRow<'r, Self::Row>,
            {
                bind_all!(sqlx::query_as(AssertSqlSafe($text(&sql.text))), &sql.args)
            }

            fn query_scalar<O>(sql: &Sql) -> QueryScalar<'_, Self, O, <Self as Database>::Arguments>
            where
                (O,): for<'r> FromRow<'r, Self::Row>,
            {
                bind_all!(
                    sqlx::query_scalar(AssertSqlSafe($text(&sql.text))),
                    &sql.args
                )
            }
        }
    };
}

engine!(sqlx::Sqlite, sqlite_text);
engine!(sqlx::Postgres, str::to_owned);

/// The text for SQLite: `$1, $2, ...` as anonymous `?` when every placeholder appears once,
/// in order (what `arg` writes), else unchanged. SQLite reads `$n` as a *named*
/// parameter, and each name lookup while binding (sqlx asks the name of every parameter)
/// scans the statement's whole list of names: a 500-row upsert with 8,000 values cost
/// 32 million steps to bind. Anonymous parameters bind by position.
fn sqlite_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i, mut expected) = (0, 0, 1usize);
    let mut in_quote = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            in_quote = !in_quote;
        } else if b == b'$' && !in_quote {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
            if digits > 0 {
                let n: usize = text[i + 1..i + 1 + digits].parse().unwrap_or(0);
                if n != expected {
                    return text.to_owned();
                }
                expected += 1;
                out.push_str(&text[copied..i]);
                out.push('?');
                i += 1 + digits;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

impl Db {
    /// A listing's total and one page of it, both read from the read pool.
    pub(crate) async fn count_and_rows<T>(
        &self,
        count: &Sql,
        page: &Sql,
    ) -> StoreResult<(i64, Vec<T>)>
    where
        T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>,
    {
        Ok(read_pool!(self, pool => {
            let total: i64 = count.query_scalar().fetch_one(pool).await?;
            let rows: Vec<T> = page.query_as().fetch_all(pool).await?;
            (total, rows)
        }))
    }
}

impl Db {
    /// A listing's total, then a page built from that total, both in one read snapshot,
    /// so a page placed by the total (counted from the far end) matches the total exactly
    /// even while links are being written.
    pub(crate) async fn count_then_rows<T>(
        &self,
        count: &Sql,
        page: impl Fn(i64) -> Sql,
    ) -> StoreResult<(i64, Vec<T>)>
    where
        T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>,
    {
        Ok(match self {
            Db::Sqlite { read, .. } => {
                let mut tx = read.begin().await?;
                let total: i64 = count.query_scalar().fetch_one(&mut *tx).await?;
                let rows: Vec<T> = page(total).query_as().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                (total, rows)
            }
            Db::Postgres(pool, _) => {
                let mut tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                let total: i64 = count.query_scalar().fetch_one(&mut *tx).await?;
                let rows: Vec<T> = page(total).query_as().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                (total, rows)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_the_order_values_are_added() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = ");
        sql.arg("x").and_eq("b", 2_i64).and_in("c", ["p", "q"]);
        assert_eq!(
            sql.text(),
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c IN ($3, $4)"
        );
        assert_eq!(
            sql.args(),
            [
                Arg::Text("x".into()),
                Arg::Int(2),
                Arg::Text("p".into()),
                Arg::Text("q".into())
            ]
        );
    }

    #[test]
    fn sqlite_gets_anonymous_placeholders_only_when_they_are_in_order() {
        assert_eq!(
            sqlite_text("SELECT $1, '$9', $2 WHERE a IN ($3, $4)"),
            "SELECT ?, '$9', ? WHERE a IN (?, ?)"
        );
        // Out of order or repeated: left as numbered (named) parameters.
        assert_eq!(sqlite_text("VALUES ($2, $1)"), "VALUES ($2, $1)");
        assert_eq!(sqlite_text("VALUES ($1, $2, $2)"), "VALUES ($1, $2, $2)");
        assert_eq!(sqlite_text("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn absent_filters_leave_no_trace() {
        let mut sql = Sql::new("SELECT 1 WHERE 1 = 1");
        sql.and_eq_opt("a", None::<&str>)
            .and_in_nonempty("b", &[])
            .and_eq_opt("c", Some(true));
        assert_eq!(sql.text(), "SELECT 1 WHERE 1 = 1 AND c = $1");
        assert_eq!(sql.args(), [Arg::Bool(true)]);
    }

    #[test]
    fn an_empty_in_list_matches_nothing() {
        let mut sql = Sql::new("SELECT 1 WHERE 1 = 1");
        sql.and_in("a", Vec::<String>::new());
        assert_eq!(sql.text(), "SELECT 1 WHERE 1 = 1 AND 1 = 0");
        assert!(sql.args().is_empty());
    }

    #[test]
    fn a_continued_statement_numbers_on_after_the_embedded_one() {
        let mut inner = Sql::new("SELECT x FROM t WHERE a = ");
        inner.arg(1_i64);
        let mut outer = Sql::continuing(&inner);
        outer
            .push("SELECT COUNT(*) FROM (")
            .push_continued(&inner)
            .push(") g WHERE g.x > ")
            .arg(5_i64);
        assert_eq!(
            outer.text(),
            "SELECT COUNT(*) FROM (SELECT x FROM t WHERE a = $1) g WHERE g.x > $2"
        );
        assert_eq!(outer.args(), [Arg::Int(1), Arg::Int(5)]);
        // The embedded builder is unchanged.
        assert_eq!(inner.args(), [Arg::Int(1)]);
    }

    #[test]
    fn lists_and_multi_row_values() {
        let mut sql = Sql::new("INSERT INTO t VALUES ");
        for row in 0..2_i64 {
            if row > 0 {
                sql.push(", ");
            }
            sql.push("(").list([row, row + 10]).push(", 0)");
        }
        assert_eq!(sql.text(), "INSERT INTO t VALUES ($1, $2, 0), ($3, $4, 0)");
    }

    /// A statement binding one value of every kind, where each placeholder's number says.
    fn every_kind() -> Sql {
        let mut sql = Sql::new("SELECT ");
        sql.arg("a")
            .push(" = 'a' AND ")
            .arg(Some("b"))
            .push(" = 'b' AND ")
            .arg(3_i64)
            .push(" = 3 AND ")
            .arg(4_i32)
            .push(" = 4 AND ")
            .arg(None::<&str>)
            .push(" IS NULL AND ")
            .arg(true)
            .push(" AND ")
            .arg(None::<i64>)
            .push(" IS NULL");
        sql
    }

    #[tokio::test]
    async fn binds_run_on_sqlite() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let all: bool = every_kind()
            .query_scalar()
            .fetch_one(&pool)
            .await
            .expect("query runs");
        assert!(all);
    }

    /// Only with `QUIVER_TEST_POSTGRES_URL` (a read-only query on that database).
    #[tokio::test]
    async fn binds_run_on_postgres() {
        let Some(url) = std::env::var("QUIVER_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return;
        };
        let pool = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
        let all: bool = every_kind()
            .query_scalar()
            .fetch_one(&pool)
            .await
            .expect("query runs");
        assert!(all);
    }
}
