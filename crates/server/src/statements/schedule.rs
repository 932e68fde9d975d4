//! After each ingestion run: a statement for every brand × creator × month × currency
//! with facts, and `final` for the months Amazon no longer restates. A final statement's
//! lines never change: a later restatement Amazon reports for one of its days is logged
//! here (`restatement after final ignored`) and ignored.

use std::collections::BTreeMap;

use time::{Date, Duration, Month};

use super::mails;
use crate::clock::{day_number, now_ms};
use crate::objects::statement;
use crate::state::AppState;
use crate::store::StoreResult;
use crate::store::statements::RefreshSummary;

/// How far back statements are created: further than the 90 days a first ingestion run
/// reads, so every month ingestion can still write has its statements.
pub const LOOKBACK_DAYS: i64 = 120;

/// `YYYYMM` of a date.
pub fn month_of(d: Date) -> i32 {
    d.year() * 100 + i32::from(u8::from(d.month()))
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

/// Days Amazon may still restate (the same window `/reports` marks `final` by).
const RESTATEMENT_DAYS: i64 = 28;

fn is_final(last_day: Date, today: Date) -> bool {
    (today - last_day).whole_days() > RESTATEMENT_DAYS
}

/// The latest month whose every day is final on `today` (its last day is older than the
/// restatement window).
pub fn last_final_month(today: Date) -> i32 {
    let mut last_day = first_of_month(today) - Duration::days(1);
    while !is_final(last_day, today) {
        last_day = first_of_month(last_day) - Duration::days(1);
    }
    month_of(last_day)
}

/// One pass: create, finalise, check for restatements, tell brands.
pub async fn run_once(state: &AppState, today: Date) -> StoreResult<RefreshSummary> {
    let db = &state.db;
    let now = now_ms();
    let since = first_of_month(today - Duration::days(LOOKBACK_DAYS));
    let created = db.create_statements(day_number(since), now).await?;
    let finalised = db
        .finalise_statements(last_final_month(today), now, &statement::data)
        .await?;
    let restated = db.restated_statements(month_of(since)).await?;
    for (id, frozen, now_summed) in &restated {
        tracing::warn!(statement = %id, frozen, now_summed, "restatement after final ignored");
    }
    // One e-mail per seller and month, naming the brands.
    let mut by_seller: BTreeMap<(String, i32), Vec<String>> = BTreeMap::new();
    for f in &finalised {
        by_seller
            .entry((f.seller_id.clone(), f.month))
            .or_default()
            .push(f.brand_id.clone());
    }
    for ((seller, month), mut brands) in by_seller {
        brands.sort();
        brands.dedup();
        if let Some(a) = db.account_by_id(&seller).await? {
            let link = format!("{}/app/#/statements", state.joining.public_url());
            state
                .joining
                .outbox
                .send(db, &a.email, mails::month_final(month, &brands, &link))
                .await;
        }
    }
    if created > 0 || !finalised.is_empty() {
        tracing::info!(created, finalised = finalised.len(), "statements refreshed");
    }
    Ok(RefreshSummary {
        created,
        finalised,
        restated: restated.len(),
    })
}

/// `YYYY-MM` → `YYYYMM`; `None` when it names no month.
pub fn parse_month(s: &str) -> Option<i32> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    Month::try_from(m).ok()?;
    Some(y * 100 + i32::from(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::format::month_label;
    use time::macros::date;

    #[test]
    fn a_month_is_final_once_its_last_day_is_past_the_window() {
        // 2026-11-30 + 28 days = 2026-12-28: final from 2026-12-29.
        assert_eq!(last_final_month(date!(2026 - 12 - 03)), 202610);
        assert_eq!(last_final_month(date!(2026 - 12 - 28)), 202610);
        assert_eq!(last_final_month(date!(2026 - 12 - 29)), 202611);
        assert_eq!(last_final_month(date!(2027 - 01 - 01)), 202611);
    }

    #[test]
    fn months_parse_only_as_yyyy_mm() {
        assert_eq!(parse_month("2026-02"), Some(202602));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-2"), None);
        assert_eq!(parse_month("202602"), None);
        assert_eq!(month_label(202602), "2026-02");
    }
}
