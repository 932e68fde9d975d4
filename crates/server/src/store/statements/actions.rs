//! The brand's changes to its statements and the payouts it records. Each is one
//! transaction whose first statement is a guarded UPDATE (`... AND state IN (...)`), so a
//! refused change writes nothing and two concurrent changes cannot both pass the check.

use serde_json::json;
use uuid::Uuid;

use super::StatementState;
use super::finalise::{audit_sql, both_sides, event_sql};
use super::read::{StatementRow, by_id};
use crate::store::emit::{Render, emit};
use crate::store::sellers::Actor;
use crate::store::sql::{Arg, Sql};
use crate::store::{BeginWrite, Db, StoreResult, write_pool};
use crate::webhooks::events::EventType;

/// How a guarded change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The statement was not in a state the change allows: nothing written.
    Refused,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayoutRow {
    pub id: String,
    pub seller_id: String,
    pub currency: String,
    pub total: i64,
    pub paid_at: i64,
    pub method: String,
    pub reference: String,
    pub created_by: String,
    pub created_at: i64,
}

/// `UPDATE statements SET <set> WHERE id AND seller AND state IN (from)`.
fn guarded(id: &str, seller_id: &str, from: &[StatementState], mut sql: Sql) -> Sql {
    sql.push(" WHERE id = ")
        .arg(id)
        .and_eq("seller_id", seller_id)
        .and_in("state", from.iter().map(|s| s.as_str()));
    sql
}

impl Db {
    /// Adds an adjustment to a final statement.
    pub async fn adjust_statement(
        &self,
        who: Actor<'_>,
        id: &str,
        brand_id: &str,
        amount: i64,
        reason: &str,
        now: i64,
    ) -> StoreResult<Outcome> {
        let mut set = Sql::new("UPDATE statements SET adjustments_total = adjustments_total + ");
        set.arg(amount).push(", updated_at = ").arg(now);
        let update = guarded(id, who.account_id, &[StatementState::Final], set);
        let values: [Arg; 6] = [
            Uuid::now_v7().to_string().into(),
            id.into(),
            amount.into(),
            reason.into(),
            who.public_id.into(),
            now.into(),
        ];
        let mut insert = Sql::new(
            "INSERT INTO statement_adjustments (id, statement_id, amount, reason, actor_public_id, at) VALUES (",
        );
        insert.list(values).push(")");
        let audit = audit_sql(
            Some(who.account_id),
            who.public_id,
            brand_id,
            "statement.adjust",
            id,
            Some(json!({"amount_minor": amount, "reason": reason}).to_string()),
            now,
        );
        self.guarded_tx(update, vec![insert, audit]).await
    }

    /// Moves a statement from one of `from` to `to`, with its history and audit entries.
    #[allow(clippy::too_many_arguments)]
    pub async fn transition_statement(
        &self,
        who: Actor<'_>,
        id: &str,
        brand_id: &str,
        from: &[StatementState],
        to: StatementState,
        note: Option<&str>,
        now: i64,
    ) -> StoreResult<Outcome> {
        let mut set = Sql::new("UPDATE statements SET state = ");
        set.arg(to.as_str()).push(", updated_at = ").arg(now);
        if to == StatementState::Void {
            set.push(", void_reason = ").arg(note);
        }
        let update = guarded(id, who.account_id, from, set);
        let event = event_sql(id, to, who.public_id, note, now);
        let audit = audit_sql(
            Some(who.account_id),
            who.public_id,
            brand_id,
            &format!("statement.{}", to.as_str()),
            id,
            note.map(|n| json!({ "reason": n }).to_string()),
            now,
        );
        self.guarded_tx(update, vec![event, audit]).await
    }

    /// Records a payment of approved statements: all of them move to `paid`, or none
    /// (one statement no longer approved rolls everything back). Each paid statement's
    /// seller and creator get `statement.paid` (`data`: the paid statement) with it.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_payout(
        &self,
        who: Actor<'_>,
        statements: &[(String, String)],
        currency: &str,
        total: i64,
        paid_at: i64,
        method: &str,
        reference: &str,
        now: i64,
        data: Render<'_, StatementRow>,
    ) -> StoreResult<Option<String>> {
        let payout_id = Uuid::now_v7().to_string();
        let values: [Arg; 9] = [
            (&payout_id).into(),
            who.account_id.into(),
            currency.into(),
            total.into(),
            paid_at.into(),
            method.into(),
            reference.into(),
            who.public_id.into(),
            now.into(),
        ];
        let mut insert = Sql::new(
            "INSERT INTO payouts (id, seller_id, currency, total, paid_at, method, reference, created_by, created_at) VALUES (",
        );
        insert.list(values).push(")");
        let mut steps = Vec::new();
        for (id, brand_id) in statements {
            let mut set = Sql::new("UPDATE statements SET state = 'paid', payout_id = ");
            set.arg(&payout_id).push(", updated_at = ").arg(now);
            steps.push((
                guarded(id, who.account_id, &[StatementState::Approved], set),
                vec![
                    event_sql(id, StatementState::Paid, who.public_id, Some(reference), now),
                    audit_sql(
                        Some(who.account_id),
                        who.public_id,
                        brand_id,
                        "statement.paid",
                        id,
                        Some(json!({"payout_id": payout_id, "method": method, "reference": reference}).to_string()),
                        now,
                    ),
                ],
            ));
        }
        let r: Result<bool, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            insert.query().execute(&mut *tx).await?;
            for (update, rest) in &steps {
                if update.query().execute(&mut *tx).await?.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                for s in rest {
                    s.query().execute(&mut *tx).await?;
                }
            }
            for (id, _) in statements {
                let row: StatementRow = by_id(id).query_as().fetch_one(&mut *tx).await?;
                for account in both_sides(&row) {
                    emit(&mut *tx, account, EventType::StatementPaid, data(&row)).await?;
                }
            }
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(r?.then_some(payout_id))
    }

    pub async fn payout(&self, seller_id: &str, id: &str) -> StoreResult<Option<PayoutRow>> {
        let mut sql = Sql::new(
            "SELECT id, seller_id, currency, total, paid_at, method, reference, created_by, created_at \
             FROM payouts WHERE id = ",
        );
        sql.arg(id).and_eq("seller_id", seller_id);
        Ok(crate::store::read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Runs `update`; if it changed one row, `rest` too, all in one transaction.
    async fn guarded_tx(&self, update: Sql, rest: Vec<Sql>) -> StoreResult<Outcome> {
        let r: Result<Outcome, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            if update.query().execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(Outcome::Refused);
            }
            for s in &rest {
                s.query().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Outcome::Done)
        }.await);
        Ok(r?)
    }
}
