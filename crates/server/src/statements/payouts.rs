//! The brand's changes: adjust, approve, void, and recording a payout of approved
//! statements (all of them or none).

use super::mails;
use super::rules::{Action, StatementError, check, refusal};
use crate::clock::now_ms;
use crate::objects::statement;
use crate::state::AppState;
use crate::store::sellers::Actor;
use crate::store::statements::{Outcome, StatementFilter, StatementRow, StatementState};

/// At most this many statements in one payout.
pub const MAX_PAYOUT_STATEMENTS: usize = 500;

fn amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", m / 100, m % 100)
}

async fn own(state: &AppState, who: Actor<'_>, id: &str) -> Result<StatementRow, StatementError> {
    state
        .db
        .statement(id, Some(who.account_id), None)
        .await?
        .ok_or_else(|| StatementError::NotFound(id.to_owned()))
}

/// After a guarded change was refused: the error for the state it is in now.
async fn explain(state: &AppState, who: Actor<'_>, id: &str, action: Action) -> StatementError {
    match own(state, who, id).await {
        Ok(s) => refusal(action, id, s.state),
        Err(e) => e,
    }
}

pub async fn adjust(
    state: &AppState,
    who: Actor<'_>,
    id: &str,
    amount_minor: i64,
    reason: &str,
) -> Result<StatementRow, StatementError> {
    let s = own(state, who, id).await?;
    check(Action::Adjust, id, s.state)?;
    let done = state
        .db
        .adjust_statement(who, id, &s.brand_id, amount_minor, reason, now_ms())
        .await?;
    if done == Outcome::Refused {
        return Err(explain(state, who, id, Action::Adjust).await);
    }
    own(state, who, id).await
}

pub async fn approve(
    state: &AppState,
    who: Actor<'_>,
    id: &str,
) -> Result<StatementRow, StatementError> {
    let s = own(state, who, id).await?;
    check(Action::Approve, id, s.state)?;
    let done = state
        .db
        .transition_statement(
            who,
            id,
            &s.brand_id,
            Action::Approve.from_states(),
            StatementState::Approved,
            None,
            now_ms(),
        )
        .await?;
    if done == Outcome::Refused {
        return Err(explain(state, who, id, Action::Approve).await);
    }
    let s = own(state, who, id).await?;
    let link = format!("{}/app/#/earnings", state.joining.public_url());
    let mail = mails::approved(
        &s.brand_name,
        s.month,
        &amount(s.total(), &s.currency),
        &link,
    );
    state
        .joining
        .outbox
        .send(&state.db, &s.creator_email, mail)
        .await;
    Ok(s)
}

pub async fn void(
    state: &AppState,
    who: Actor<'_>,
    id: &str,
    reason: &str,
) -> Result<StatementRow, StatementError> {
    let s = own(state, who, id).await?;
    check(Action::Void, id, s.state)?;
    let done = state
        .db
        .transition_statement(
            who,
            id,
            &s.brand_id,
            Action::Void.from_states(),
            StatementState::Void,
            Some(reason),
            now_ms(),
        )
        .await?;
    if done == Outcome::Refused {
        return Err(explain(state, who, id, Action::Void).await);
    }
    own(state, who, id).await
}

/// A payment to record.
pub struct NewPayout<'a> {
    pub ids: &'a [String],
    pub paid_at: i64,
    pub method: &'a str,
    pub reference: &'a str,
}

/// Records a payment of `ids`, all approved statements of this seller in one currency:
/// returns the payout id. Any id refused refuses the whole payout and writes nothing.
pub async fn pay(
    state: &AppState,
    who: Actor<'_>,
    p: NewPayout<'_>,
) -> Result<String, StatementError> {
    let mut ids: Vec<String> = p.ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.len() != p.ids.len() {
        return Err(StatementError::Rule {
            code: "duplicate_statement",
            detail: "A statement is listed twice in statement_ids".into(),
        });
    }
    let rows = state
        .db
        .statements(
            &StatementFilter {
                seller_id: Some(who.account_id.to_owned()),
                ids: Some(ids.clone()),
                ..StatementFilter::default()
            },
            MAX_PAYOUT_STATEMENTS as i64,
        )
        .await?;
    // Another seller's statement reads as unknown: it is not yours to pay.
    if let Some(missing) = ids.iter().find(|id| !rows.iter().any(|r| &r.id == *id)) {
        return Err(StatementError::Rule {
            code: "statement_not_found",
            detail: format!("Statement '{missing}' is not one of your statements"),
        });
    }
    let currencies: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.currency.as_str()).collect();
    if currencies.len() > 1 {
        return Err(StatementError::Rule {
            code: "mixed_currencies",
            detail: format!(
                "A payout is in one currency; these statements are in {}: pay each currency separately",
                currencies.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    for r in &rows {
        check(Action::Pay, &r.id, r.state)?;
    }
    let currency = rows[0].currency.clone();
    let total: i64 = rows.iter().map(StatementRow::total).sum();
    let pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.id.clone(), r.brand_id.clone()))
        .collect();
    let recorded = state
        .db
        .record_payout(
            who,
            &pairs,
            &currency,
            total,
            p.paid_at,
            p.method,
            p.reference,
            now_ms(),
            &statement::data,
        )
        .await?;
    let Some(payout_id) = recorded else {
        // A statement changed state between the check and the write: say which.
        for r in &rows {
            let now = own(state, who, &r.id).await?;
            check(Action::Pay, &r.id, now.state)?;
        }
        return Err(refusal(Action::Pay, &rows[0].id, rows[0].state));
    };
    let link = format!("{}/app/#/earnings", state.joining.public_url());
    for r in &rows {
        let mail = mails::paid(
            &r.brand_name,
            r.month,
            &amount(r.total(), &r.currency),
            p.method,
            &link,
        );
        state
            .joining
            .outbox
            .send(&state.db, &r.creator_email, mail)
            .await;
    }
    Ok(payout_id)
}
