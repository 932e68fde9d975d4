//! Report dates: clients send `YYYY-MM-DD` or the legacy `YYYYMMDD`.

use time::{Date, Month};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date in YYYY-MM-DD or YYYYMMDD form")]
pub struct InvalidDate(pub String);

/// Parses `YYYY-MM-DD` or `YYYYMMDD` into a calendar date, rejecting impossible dates.
pub fn parse_report_date(input: &str) -> Result<Date, InvalidDate> {
    let err = || InvalidDate(input.to_owned());
    let s = input.trim();
    let compact: String = match s.len() {
        10 if s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' => {
            [&s[0..4], &s[5..7], &s[8..10]].concat()
        }
        8 => s.to_owned(),
        _ => return Err(err()),
    };
    if !compact.bytes().all(|b| b.is_ascii_digit()) || compact.len() != 8 {
        return Err(err());
    }
    let year: i32 = compact[0..4].parse().map_err(|_| err())?;
    let month: u8 = compact[4..6].parse().map_err(|_| err())?;
    let day: u8 = compact[6..8].parse().map_err(|_| err())?;
    let month = Month::try_from(month).map_err(|_| err())?;
    Date::from_calendar_date(year, month, day).map_err(|_| err())
}

/// `YYYY-MM-DD`.
pub fn format_iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYYMMDD`, the form Amazon's report API uses.
pub fn format_compact(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn both_forms() {
        assert_eq!(parse_report_date("2026-02-28"), Ok(date!(2026 - 02 - 28)));
        assert_eq!(parse_report_date("20260228"), Ok(date!(2026 - 02 - 28)));
        for bad in [
            "2026-02-30",
            "20261301",
            "2026-2-28",
            "2026/02/28",
            "",
            "abcdefgh",
            "+2026-01-01",
            "2026-0a-01",
        ] {
            assert!(parse_report_date(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(y in 1900i32..2200, doy in 1u16..=365) {
            let d = Date::from_ordinal_date(y, doy).unwrap();
            prop_assert_eq!(parse_report_date(&format_iso(d)), Ok(d));
            prop_assert_eq!(parse_report_date(&format_compact(d)), Ok(d));
        }

        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = parse_report_date(&s);
        }
    }
}
