//! Time as Quiver keeps it: instants as milliseconds since the Unix epoch, report days as
//! `YYYYMMDD` day numbers (both sort like the time they stand for), and the clock that
//! reads now. A leaf: the store, the HTTP layer and background work all use it.

use time::{Date, Month, OffsetDateTime};

/// Milliseconds since the Unix epoch: how every timestamp is stored.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Today's date in UTC, the calendar reports and commission changes follow.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// The UTC instant of a stored timestamp; `None` outside the calendar `time` knows.
pub fn instant(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// `2026-03-09` → `20260309`, how report days are stored.
pub fn day_number(d: Date) -> i32 {
    d.year() * 10000 + i32::from(u8::from(d.month())) * 100 + i32::from(d.day())
}

/// The date of a stored day number; `None` for a number that names no calendar day.
pub fn day_of_number(v: i32) -> Option<Date> {
    if v < 0 {
        return None;
    }
    let month = Month::try_from(u8::try_from(v / 100 % 100).ok()?).ok()?;
    let day = u8::try_from(v % 100).ok()?;
    Date::from_calendar_date(v / 10000, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn day_numbers() {
        assert_eq!(day_number(date!(2026 - 03 - 09)), 20260309);
        assert_eq!(day_of_number(20260309), Some(date!(2026 - 03 - 09)));
        assert_eq!(day_of_number(20260230), None);
        assert_eq!(day_of_number(20261301), None);
        assert_eq!(day_of_number(20260100), None);
        assert_eq!(day_of_number(-20260101), None);
        assert_eq!(day_of_number(100_000_101), None);
    }

    #[test]
    fn instants() {
        assert_eq!(
            instant(0).map(OffsetDateTime::date),
            Some(date!(1970 - 01 - 01))
        );
        assert_eq!(instant(i64::MAX), None);
        assert!(now_ms() > 1_700_000_000_000);
    }

    proptest! {
        /// Every date of the years reports can name survives the round trip, and day
        /// numbers sort as their dates do.
        #[test]
        fn day_numbers_round_trip_and_sort(a in 0i32..3_652_059, b in 0i32..3_652_059) {
            let epoch = date!(0000 - 01 - 01);
            let da = epoch + time::Duration::days(i64::from(a));
            let db = epoch + time::Duration::days(i64::from(b));
            prop_assert_eq!(day_of_number(day_number(da)), Some(da));
            prop_assert_eq!(day_number(da).cmp(&day_number(db)), da.cmp(&db));
        }
    }
}
