//! What the schedule does after ingestion: a statement for every brand × creator × month
//! × currency with facts, and freezing the months Amazon no longer restates.

use std::collections::BTreeSet;

use quiver_domain::Marketplace;
use uuid::Uuid;

use super::read::{StatementRow, by_id, live_commission};
use super::{StatementState, currency_case, month_days};
use crate::store::emit::{Render, emit};
use crate::store::sql::{Arg, Sql};
use crate::store::{BeginWrite, Db, StoreResult, read_pool, write_pool};
use crate::webhooks::events::EventType;

/// The actor of what the schedule does, in statement history and the audit log.
pub const SYSTEM: &str = "system";

/// A statement this run moved to `final`.
#[derive(Debug, Clone)]
pub struct Finalised {
    pub id: String,
    pub seller_id: String,
    pub brand_id: String,
    pub month: i32,
}

#[derive(Debug, Clone, Default)]
pub struct RefreshSummary {
    pub created: usize,
    pub finalised: Vec<Finalised>,
    /// Final statements whose facts Amazon restated afterwards (logged, ignored).
    pub restated: usize,
}

impl Db {
    /// Creates the missing statements for facts from `first_day` on. Two processes doing
    /// this at once make one row per key (`ON CONFLICT DO NOTHING`).
    pub async fn create_statements(&self, first_day: i32, now: i64) -> StoreResult<usize> {
        let mut sql = Sql::new(
            "SELECT DISTINCT seller_id, brand_id, account_id, day / 100 AS month, marketplace \
             FROM report_facts WHERE day >= ",
        );
        sql.arg(first_day);
        let rows: Vec<(String, String, String, i32, String)> =
            read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?;
        let keys: BTreeSet<(String, String, String, i32, &'static str)> = rows
            .into_iter()
            .filter_map(|(seller, brand, account, month, m)| {
                let currency = Marketplace::try_from(m).ok()?.currency().as_str();
                Some((seller, brand, account, month, currency))
            })
            .collect();
        let mut created = 0;
        for (seller, brand, account, month, currency) in keys {
            let id = Uuid::now_v7().to_string();
            let values: [Arg; 8] = [
                (&id).into(),
                seller.into(),
                brand.into(),
                account.into(),
                month.into(),
                currency.into(),
                now.into(),
                now.into(),
            ];
            let mut insert = Sql::new(
                "INSERT INTO statements (id, seller_id, brand_id, account_id, month, currency, state, \
                 commission, adjustments_total, created_at, updated_at) VALUES (",
            );
            // Lists the first six, then the fixed state and zeros, then the two times.
            let [a, b, c, d, e, f, g, h] = values;
            insert
                .list([a, b, c, d, e, f])
                .push(", 'open', 0, 0, ")
                .list([g, h])
                .push(") ON CONFLICT (brand_id, account_id, month, currency) DO NOTHING");
            let event = event_sql(&id, StatementState::Open, SYSTEM, None, now);
            let r: Result<bool, sqlx::Error> = write_pool!(self, pool => async {
                let mut tx = pool.begin_write().await?;
                let made = insert.query().execute(&mut *tx).await?.rows_affected() == 1;
                if made {
                    event.query().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(made)
            }.await);
            if r? {
                created += 1;
            }
        }
        Ok(created)
    }

    /// Freezes every open statement of a month up to `last_month`: copies its facts into
    /// its lines and their sum into its commission, in one transaction per statement.
    /// The `state = 'open'` guard makes a second process that gets there too do nothing.
    /// Both sides get `statement.final` (`data`: the frozen statement) in that transaction.
    pub async fn finalise_statements(
        &self,
        last_month: i32,
        now: i64,
        data: Render<'_, StatementRow>,
    ) -> StoreResult<Vec<Finalised>> {
        let mut sql = Sql::new(
            "SELECT id, seller_id, brand_id, month FROM statements WHERE state = 'open' AND month <= ",
        );
        sql.arg(last_month).push(" ORDER BY month, id");
        let open: Vec<(String, String, String, i32)> =
            read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?;
        let mut done = Vec::new();
        for (id, seller_id, brand_id, month) in open {
            if self.finalise_one(&id, &brand_id, month, now, data).await? {
                done.push(Finalised {
                    id,
                    seller_id,
                    brand_id,
                    month,
                });
            }
        }
        Ok(done)
    }

    async fn finalise_one(
        &self,
        id: &str,
        brand_id: &str,
        month: i32,
        now: i64,
        data: Render<'_, StatementRow>,
    ) -> StoreResult<bool> {
        let (first, last) = month_days(month);
        let mut claim = Sql::new("UPDATE statements SET state = 'final', updated_at = ");
        claim
            .arg(now)
            .push(" WHERE id = ")
            .arg(id)
            .push(" AND state = 'open'");
        let mut copy = Sql::new(
            "INSERT INTO statement_lines (statement_id, day, link_id, asin, marketplace, units, sales, commission) \
             SELECT s.id, f.day, f.link_id, f.asin, f.marketplace, f.units, f.sales, f.commission \
             FROM statements s JOIN report_facts f ON f.account_id = s.account_id AND f.brand_id = s.brand_id \
             WHERE s.id = ",
        );
        copy.arg(id)
            .push(" AND f.day >= ")
            .arg(first)
            .push(" AND f.day <= ")
            .arg(last)
            .push(" AND ")
            .push(&currency_case("f.marketplace"))
            .push(" = s.currency");
        let mut total = Sql::new(
            "UPDATE statements SET commission = (SELECT CAST(COALESCE(SUM(commission), 0) AS BIGINT) \
             FROM statement_lines WHERE statement_id = ",
        );
        total.arg(id).push(") WHERE id = ").arg(id);
        let event = event_sql(id, StatementState::Final, SYSTEM, None, now);
        let audit = system_audit(brand_id, "statement.final", id, now);
        let select = by_id(id);
        let r: Result<bool, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            if claim.query().execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            copy.query().execute(&mut *tx).await?;
            total.query().execute(&mut *tx).await?;
            event.query().execute(&mut *tx).await?;
            audit.query().execute(&mut *tx).await?;
            let row: StatementRow = select.query_as().fetch_one(&mut *tx).await?;
            for account in both_sides(&row) {
                emit(&mut *tx, account, EventType::StatementFinal, data(&row)).await?;
            }
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(r?)
    }

    /// Frozen statements from `first_month` on whose facts now sum differently: Amazon
    /// restated a day after the month was final. Returns (id, frozen, now summed).
    pub async fn restated_statements(
        &self,
        first_month: i32,
    ) -> StoreResult<Vec<(String, i64, i64)>> {
        let mut sql = Sql::new(&format!(
            "SELECT id, commission, live FROM (SELECT s.id, s.commission, {} AS live FROM statements s \
             WHERE s.state <> 'open' AND s.month >= ",
            live_commission("s")
        ));
        sql.arg(first_month).push(") t WHERE commission <> live");
        Ok(read_pool!(self, pool => sql.query_as().fetch_all(pool).await)?)
    }
}

/// The accounts an event about statement `row` goes to: its brand's seller and its
/// creator.
pub(super) fn both_sides(row: &StatementRow) -> [&str; 2] {
    [row.seller_id.as_str(), row.account_id.as_str()]
}

/// A history entry of statement `id`.
pub(super) fn event_sql(
    id: &str,
    state: StatementState,
    actor: &str,
    note: Option<&str>,
    now: i64,
) -> Sql {
    let values: [Arg; 6] = [
        Uuid::now_v7().to_string().into(),
        id.into(),
        state.as_str().into(),
        actor.into(),
        note.into(),
        now.into(),
    ];
    let mut sql = Sql::new(
        "INSERT INTO statement_events (id, statement_id, state, actor_public_id, note, at) VALUES (",
    );
    sql.list(values).push(")");
    sql
}

/// The audit entry of something the schedule did to a brand's statement.
fn system_audit(brand_id: &str, action: &str, target: &str, now: i64) -> Sql {
    audit_sql(None, SYSTEM, brand_id, action, target, None, now)
}

/// An entry in the brand's audit log (`GET /sellers/audit`).
pub(super) fn audit_sql(
    actor_account_id: Option<&str>,
    actor_public_id: &str,
    brand_id: &str,
    action: &str,
    target: &str,
    after: Option<String>,
    now: i64,
) -> Sql {
    let values: [Arg; 8] = [
        Uuid::now_v7().to_string().into(),
        actor_account_id.into(),
        actor_public_id.into(),
        brand_id.into(),
        action.into(),
        format!("statement:{target}").into(),
        after.into(),
        now.into(),
    ];
    let mut sql = Sql::new(
        "INSERT INTO seller_audit (id, actor_account_id, actor_public_id, brand_id, action, target, \
         after_json, at) VALUES (",
    );
    sql.list(values).push(")");
    sql
}
