//! The statement objects of `/statements` (creator) and `/sellers/statements` (brand), which
//! the `statement.*` webhook events carry too.

use serde::Serialize;

use crate::objects::format::{iso_day, iso_utc, money, month_label};
use crate::store::statements::{AdjustmentRow, EventRow, LineRow, StatementRow};

/// Where a statement's payment went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentInfo {
    pub payout_id: String,
    /// ISO 8601 UTC.
    pub paid_at: String,
    pub method: String,
    pub reference: String,
}

/// One brand × creator × UTC month × currency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub id: String,
    pub brand_id: String,
    pub brand_name: String,
    /// The creator's public affiliate id.
    pub creator: String,
    /// `YYYY-MM` (UTC).
    #[schema(example = "2026-10")]
    pub month: String,
    pub currency: String,
    /// `open`, `final`, `approved`, `paid` or `void`.
    pub state: String,
    /// The sum of the lines' rounded commissions: `/reports` `commissionEarned` for the same
    /// creator, brand, month and currency.
    pub commission: f64,
    pub adjustments_total: f64,
    /// `commission` + `adjustments_total`.
    pub total: f64,
    pub payment: Option<PaymentInfo>,
    pub void_reason: Option<String>,
    /// ISO 8601 UTC.
    pub updated_at: String,
}

impl Statement {
    pub fn from_row(s: &StatementRow) -> Self {
        let payment = match (&s.payout_id, s.paid_at) {
            (Some(id), Some(at)) => Some(PaymentInfo {
                payout_id: id.clone(),
                paid_at: iso_utc(at),
                method: s.payout_method.clone().unwrap_or_default(),
                reference: s.payout_reference.clone().unwrap_or_default(),
            }),
            _ => None,
        };
        Self {
            id: s.id.clone(),
            brand_id: s.brand_id.clone(),
            brand_name: s.brand_name.clone(),
            creator: s.creator.clone(),
            month: month_label(s.month),
            currency: s.currency.clone(),
            state: s.state.as_str().to_owned(),
            commission: money(s.commission),
            adjustments_total: money(s.adjustments_total),
            total: money(s.total()),
            payment,
            void_reason: s.void_reason.clone(),
            updated_at: iso_utc(s.updated_at),
        }
    }
}

/// The `data` of the `statement.final` and `statement.paid` webhook events: the statement
/// as the API shows it.
pub fn data(s: &StatementRow) -> serde_json::Value {
    serde_json::to_value(Statement::from_row(s)).unwrap_or_default()
}

/// One report row of the statement's month.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub link_id: String,
    pub link_name: String,
    /// The sold product; a line whose `asin` is not the link's is brand halo.
    pub asin: String,
    pub halo: bool,
    pub marketplace: String,
    pub units: i64,
    pub sales: f64,
    pub commission: f64,
}

impl StatementLine {
    pub fn from_row(l: &LineRow) -> Self {
        Self {
            date: iso_day(l.day),
            link_id: l.link_id.clone(),
            link_name: l.link_name.clone(),
            asin: l.asin.clone(),
            halo: l.asin != l.link_asin,
            marketplace: l.marketplace.clone(),
            units: l.units,
            sales: money(l.sales),
            commission: money(l.commission),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub id: String,
    /// Positive or negative, in the statement's currency.
    pub amount: f64,
    pub reason: String,
    /// Who added it (the brand's account id).
    pub by: String,
    /// ISO 8601 UTC.
    pub at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// The state the statement entered.
    pub state: String,
    /// Who moved it (`system` for the schedule).
    pub by: String,
    pub note: Option<String>,
    /// ISO 8601 UTC.
    pub at: String,
}

/// A statement with its lines, adjustments and history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatementDetail {
    #[serde(flatten)]
    pub statement: Statement,
    pub lines: Vec<StatementLine>,
    pub adjustments: Vec<Adjustment>,
    pub history: Vec<HistoryEntry>,
    /// Brand view only: whether the creator has left payout details (a statement without
    /// them is flagged and left out of payout files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_details_missing: Option<bool>,
}

impl StatementDetail {
    pub fn new(
        s: &StatementRow,
        lines: &[LineRow],
        adjustments: &[AdjustmentRow],
        events: &[EventRow],
    ) -> Self {
        Self {
            statement: Statement::from_row(s),
            lines: lines.iter().map(StatementLine::from_row).collect(),
            adjustments: adjustments
                .iter()
                .map(|a| Adjustment {
                    id: a.id.clone(),
                    amount: money(a.amount),
                    reason: a.reason.clone(),
                    by: a.actor_public_id.clone(),
                    at: iso_utc(a.at),
                })
                .collect(),
            history: events
                .iter()
                .map(|e| HistoryEntry {
                    state: e.state.clone(),
                    by: e.actor_public_id.clone(),
                    note: e.note.clone(),
                    at: iso_utc(e.at),
                })
                .collect(),
            payout_details_missing: None,
        }
    }
}

/// Minor units as `12.34` / `-0.05`, exactly.
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}
