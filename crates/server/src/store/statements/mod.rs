//! Monthly statements (issue #20): one per brand × creator × UTC month × currency, their
//! lines, adjustments, history and the payouts that pay them.
//!
//! While a statement is `open` its lines and commission are read from `report_facts`,
//! the same stored per-row commission `/reports` shows, so the two always agree. On
//! `final` the lines are copied into `statement_lines` and never change again.
//!
//! - `finalise`: what the schedule does (create statements, freeze finished months).
//! - `read`: listings and single statements for either side.
//! - `actions`: the brand's changes (adjust, approve, void) and payouts.

mod actions;
mod finalise;
mod read;

pub use actions::{Outcome, PayoutRow};
pub use finalise::{Finalised, RefreshSummary};
pub use read::{
    AdjustmentRow, BonusRow, EventRow, LineRow, PayoutDetailsRow, StatementFilter, StatementRow,
};

use quiver_domain::Marketplace;

use super::text_enum::text_enum;

text_enum! {
    /// Where a statement is in its life.
    pub enum StatementState ("statement state") {
        /// Amazon may still restate a day of the month.
        Open = "open",
        /// Every day is final; lines frozen.
        Final = "final",
        Approved = "approved",
        Paid = "paid",
        Void = "void",
    }
}

/// `CASE col WHEN 'amazon.com' THEN 'USD' ... END`: a fact's currency in SQL, from the
/// marketplace table, so statements group marketplaces that share a currency.
fn currency_case(col: &str) -> String {
    let mut s = format!("CASE {col}");
    for m in Marketplace::ALL {
        s.push_str(&format!(
            " WHEN '{}' THEN '{}'",
            m.as_str(),
            m.currency().as_str()
        ));
    }
    s.push_str(" END");
    s
}

/// The first and last day numbers a `YYYYMM` month can hold (day 31 of a shorter month
/// matches no fact).
pub fn month_days(month: i32) -> (i32, i32) {
    (month * 100 + 1, month * 100 + 31)
}
