//! Reading statements: listings for a seller or a creator, one statement with its lines,
//! adjustments and history, and a creator's payout details.

use super::{StatementState, currency_case, month_days};
use crate::store::sql::{Arg, Sql};
use crate::store::{Db, StoreResult, read_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementRow {
    pub id: String,
    pub seller_id: String,
    pub brand_id: String,
    pub brand_name: String,
    pub account_id: String,
    /// The creator's public affiliate id.
    pub creator: String,
    pub creator_email: String,
    pub month: i32,
    pub currency: String,
    #[sqlx(try_from = "String")]
    pub state: StatementState,
    /// Frozen once final; summed from the facts while open.
    pub commission: i64,
    pub adjustments_total: i64,
    pub payout_id: Option<String>,
    pub void_reason: Option<String>,
    pub paid_at: Option<i64>,
    pub payout_method: Option<String>,
    pub payout_reference: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl StatementRow {
    pub fn total(&self) -> i64 {
        self.commission + self.adjustments_total
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub day: i32,
    pub link_id: String,
    pub link_name: String,
    /// The linked product: a line with another `asin` is brand halo.
    pub link_asin: String,
    pub asin: String,
    pub marketplace: String,
    pub units: i64,
    pub sales: i64,
    pub commission: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub id: String,
    pub amount: i64,
    pub reason: String,
    pub actor_public_id: String,
    pub at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub state: String,
    pub actor_public_id: String,
    pub note: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayoutDetailsRow {
    pub method: String,
    pub paypal_email: Option<String>,
    pub reference: Option<String>,
    pub updated_at: i64,
}

/// Which statements a listing shows. `None`: no restriction.
#[derive(Debug, Clone, Default)]
pub struct StatementFilter {
    pub seller_id: Option<String>,
    pub account_id: Option<String>,
    pub month: Option<i32>,
    pub start_month: Option<i32>,
    pub end_month: Option<i32>,
    pub states: Option<Vec<String>>,
    /// Creators' public ids.
    pub creators: Option<Vec<String>>,
    pub ids: Option<Vec<String>>,
    pub payout_id: Option<String>,
}

/// The commission of an open statement, summed from its facts exactly as `/reports`
/// stores them per row.
pub(super) fn live_commission(s: &str) -> String {
    format!(
        "(SELECT CAST(COALESCE(SUM(f.commission), 0) AS BIGINT) FROM report_facts f \
         WHERE f.account_id = {s}.account_id AND f.brand_id = {s}.brand_id \
         AND f.day >= {s}.month * 100 + 1 AND f.day <= {s}.month * 100 + 31 \
         AND {} = {s}.currency)",
        currency_case("f.marketplace")
    )
}

fn head() -> String {
    format!(
        "SELECT s.id, s.seller_id, s.brand_id, COALESCE(b.name, '') AS brand_name, s.account_id, \
         a.public_id AS creator, a.email AS creator_email, s.month, s.currency, s.state, \
         CASE WHEN s.state = 'open' THEN {} ELSE s.commission END AS commission, \
         s.adjustments_total, s.payout_id, s.void_reason, p.paid_at, p.method AS payout_method, \
         p.reference AS payout_reference, s.created_at, s.updated_at \
         FROM statements s JOIN accounts a ON a.id = s.account_id \
         LEFT JOIN brands b ON b.id = s.brand_id LEFT JOIN payouts p ON p.id = s.payout_id \
         WHERE 1 = 1",
        live_commission("s")
    )
}

/// One statement by id, as `statements` reads it: for a transaction that has just
/// changed it.
pub(super) fn by_id(id: &str) -> Sql {
    let mut sql = Sql::new(&head());
    sql.and_eq("s.id", id);
    sql
}

impl Db {
    /// Statements matching `filter`, by month, brand, creator and currency; at most `limit`.
    pub async fn statements(
        &self,
        filter: &StatementFilter,
        limit: i64,
    ) -> StoreResult<Vec<StatementRow>> {
        let mut sql = Sql::new(&head());
        if let Some(v) = &filter.seller_id {
            sql.and_eq("s.seller_id", v);
        }
        if let Some(v) = &filter.account_id {
            sql.and_eq("s.account_id", v);
        }
        if let Some(m) = filter.month {
            sql.and_eq("s.month", m);
        }
        if let Some(m) = filter.start_month {
            sql.push(" AND s.month >= ").arg(m);
        }
        if let Some(m) = filter.end_month {
            sql.push(" AND s.month <= ").arg(m);
        }
        if let Some(v) = &filter.states {
            sql.and_in("s.state", v);
        }
        if let Some(v) = &filter.creators {
            sql.and_in("a.public_id", v);
        }
        if let Some(v) = &filter.ids {
            sql.and_in("s.id", v);
        }
        if let Some(v) = &filter.payout_id {
            sql.and_eq("s.payout_id", v);
        }
        sql.push(" ORDER BY s.month DESC, s.brand_id, a.public_id, s.currency, s.id LIMIT ")
            .arg(limit);
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    /// One statement, if `seller_id` (or `account_id`) owns it.
    pub async fn statement(
        &self,
        id: &str,
        seller_id: Option<&str>,
        account_id: Option<&str>,
    ) -> StoreResult<Option<StatementRow>> {
        let filter = StatementFilter {
            seller_id: seller_id.map(str::to_owned),
            account_id: account_id.map(str::to_owned),
            ids: Some(vec![id.to_owned()]),
            ..StatementFilter::default()
        };
        Ok(self.statements(&filter, 1).await?.into_iter().next())
    }

    /// The lines of a statement: frozen ones once final, else its facts as they stand.
    pub async fn statement_lines(&self, s: &StatementRow) -> StoreResult<Vec<LineRow>> {
        let mut sql = if s.state == StatementState::Open {
            let (first, last) = month_days(s.month);
            let mut sql = Sql::new(
                "SELECT f.day, f.link_id, COALESCE(l.link_name, '') AS link_name, COALESCE(l.asin, '') AS link_asin, \
                 f.asin, f.marketplace, f.units, f.sales, f.commission FROM report_facts f \
                 LEFT JOIN links l ON l.id = f.link_id WHERE f.account_id = ",
            );
            sql.arg(&s.account_id)
                .and_eq("f.brand_id", &s.brand_id)
                .push(" AND f.day >= ")
                .arg(first)
                .push(" AND f.day <= ")
                .arg(last)
                .push(" AND ")
                .push(&currency_case("f.marketplace"))
                .push(" = ")
                .arg(&s.currency);
            sql
        } else {
            let mut sql = Sql::new(
                "SELECT f.day, f.link_id, COALESCE(l.link_name, '') AS link_name, COALESCE(l.asin, '') AS link_asin, \
                 f.asin, f.marketplace, f.units, f.sales, f.commission FROM statement_lines f \
                 LEFT JOIN links l ON l.id = f.link_id WHERE f.statement_id = ",
            );
            sql.arg(&s.id);
            sql
        };
        sql.push(" ORDER BY f.day, f.link_id, f.asin");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    pub async fn statement_adjustments(&self, id: &str) -> StoreResult<Vec<AdjustmentRow>> {
        let mut sql = Sql::new(
            "SELECT id, amount, reason, actor_public_id, at FROM statement_adjustments WHERE statement_id = ",
        );
        sql.arg(id).push(" ORDER BY at, id");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    pub async fn statement_events(&self, id: &str) -> StoreResult<Vec<EventRow>> {
        let mut sql = Sql::new(
            "SELECT state, actor_public_id, note, at FROM statement_events WHERE statement_id = ",
        );
        sql.arg(id).push(" ORDER BY at, id");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }

    pub async fn payout_details(&self, account_id: &str) -> StoreResult<Option<PayoutDetailsRow>> {
        let mut sql = Sql::new(
            "SELECT method, paypal_email, reference, updated_at FROM payout_details WHERE account_id = ",
        );
        sql.arg(account_id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Sets (or replaces) where a creator is paid.
    pub async fn set_payout_details(
        &self,
        account_id: &str,
        method: &str,
        paypal_email: Option<&str>,
        reference: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        let mut sql = Sql::new(
            "INSERT INTO payout_details (account_id, method, paypal_email, reference, updated_at) VALUES (",
        );
        let values: [Arg; 5] = [
            account_id.into(),
            method.into(),
            paypal_email.into(),
            reference.into(),
            now.into(),
        ];
        sql.list(values).push(
            ") ON CONFLICT (account_id) DO UPDATE SET method = excluded.method, \
             paypal_email = excluded.paypal_email, reference = excluded.reference, updated_at = excluded.updated_at",
        );
        write_exec(self, sql).await
    }
}

/// Runs one write statement on the write pool.
pub(super) async fn write_exec(db: &Db, sql: Sql) -> StoreResult<()> {
    crate::store::write_pool!(db, pool => sql.query().execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// Amazon's Brand Referral Bonus of one brand, month and currency (the brand's, never a
/// creator's).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BonusRow {
    pub brand_id: String,
    pub month: i32,
    pub currency: String,
    pub brb: i64,
}

impl Db {
    /// The Brand Referral Bonus the seller's brands earned in `months`, from the seller
    /// report's rows.
    pub async fn brand_referral_bonus(
        &self,
        seller_id: &str,
        months: &[i32],
    ) -> StoreResult<Vec<BonusRow>> {
        let currency = currency_case("marketplace");
        let mut sql = Sql::new(&format!(
            "SELECT brand_id, month, currency, CAST(SUM(brb) AS BIGINT) AS brb FROM \
             (SELECT brand_id, day / 100 AS month, {currency} AS currency, brb FROM seller_report_facts \
             WHERE seller_id = "
        ));
        sql.arg(seller_id).push(" AND brb <> 0 AND (1 = 0");
        for m in months {
            let (first, last) = month_days(*m);
            sql.push(" OR (day >= ")
                .arg(first)
                .push(" AND day <= ")
                .arg(last)
                .push(")");
        }
        sql.push(")) t GROUP BY brand_id, month, currency ORDER BY month DESC, brand_id, currency");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }
}
