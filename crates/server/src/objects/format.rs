//! How stored values are written in responses: instants as ISO 8601 UTC, report days as
//! `YYYY-MM-DD`, money and commission rates as JSON numbers.

use quiver_domain::{Bps, format_iso};
use time::format_description::well_known::Rfc3339;

use crate::clock::{day_of_number, instant};

/// A stored timestamp (ms) as RFC 3339 UTC, e.g. `2026-03-09T12:00:00Z`.
pub fn iso_utc(ms: i64) -> String {
    instant(ms)
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A stored day number as `YYYY-MM-DD`.
pub fn iso_day(day: i32) -> String {
    day_of_number(day).map(format_iso).unwrap_or_default()
}

/// Minor units (cents) as a number with two decimals.
pub fn money(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// A stored rate in basis points as percent (1500 → 15.0).
pub fn percent(bps: i32) -> f64 {
    Bps(u32::try_from(bps).unwrap_or(0)).percent_f64()
}

/// `2026-10` for a month number.
pub fn month_label(month: i32) -> String {
    format!("{:04}-{:02}", month / 100, month % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_773_057_600_123), "2026-03-09T12:00:00.123Z");
        assert_eq!(iso_utc(i64::MAX), "");
        assert_eq!(iso_day(20260309), "2026-03-09");
        assert_eq!(iso_day(20260230), "");
        assert_eq!(money(1999), 19.99);
        assert_eq!(percent(1250), 12.5);
        assert_eq!(percent(-1), 0.0);
    }
}
