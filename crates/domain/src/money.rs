//! Exact money: integer minor units and rates in basis points. Floats appear only
//! when a value is written to JSON.

use std::fmt;

use crate::Currency;

/// An amount in minor units (cents) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// A commission rate in basis points: 1500 is 15%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bps(pub u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    #[error("'{0}' is not a decimal amount with at most 2 decimal places")]
    Amount(String),
    #[error("'{0}' is not a percentage between 0 and 100 with at most 2 decimal places")]
    Rate(String),
}

/// Parses a non-negative decimal with at most `scale` fraction digits into an integer
/// scaled by 10^scale: `"19.9"` at scale 2 is 1990.
fn parse_scaled(input: &str, scale: u32) -> Option<i64> {
    let s = input.trim();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(int) || !digits_only(frac) || frac.len() > scale as usize || int.len() > 15 {
        return None;
    }
    let int_val: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_val: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..scale as usize {
        frac_val *= 10;
    }
    int_val
        .checked_mul(10_i64.pow(scale))?
        .checked_add(frac_val)
}

fn format_scaled(value: i64, scale: u32) -> String {
    let unit = 10_i64.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let unit = unit.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = scale as usize
    )
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a price such as `"19.99"`.
    pub fn parse_amount(input: &str) -> Result<i64, InvalidMoney> {
        parse_scaled(input, 2).ok_or_else(|| InvalidMoney::Amount(input.to_owned()))
    }

    /// The value as a JSON number: the one place money becomes a float.
    pub fn to_f64(self) -> f64 {
        self.minor as f64 / 100.0
    }

    /// The value as a string-number with two decimals, e.g. `"19.99"`.
    pub fn to_decimal_string(self) -> String {
        format_scaled(self.minor, 2)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency.as_str())
    }
}

impl Bps {
    pub const MAX: Bps = Bps(10_000);

    /// Parses a percentage such as `"15"` or `"12.5"` (optionally ending in `%`).
    pub fn parse_percent(input: &str) -> Result<Self, InvalidMoney> {
        let s = input.trim();
        let s = s.strip_suffix('%').unwrap_or(s);
        parse_scaled(s, 2)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v <= Self::MAX.0)
            .map(Bps)
            .ok_or_else(|| InvalidMoney::Rate(input.to_owned()))
    }

    /// Converts a JSON percentage (15 means 15%) exactly, refusing more than 2 decimals.
    pub fn from_percent_f64(pct: f64) -> Result<Self, InvalidMoney> {
        let scaled = (pct * 100.0).round();
        if !pct.is_finite()
            || (pct * 100.0 - scaled).abs() > 1e-6
            || !(0.0..=10_000.0).contains(&scaled)
        {
            return Err(InvalidMoney::Rate(pct.to_string()));
        }
        Ok(Bps(scaled as u32))
    }

    /// The rate in percent as a JSON number (15 for 15%).
    pub fn percent_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// The legacy `"15%"` / `"12.5%"` form, without trailing zeros.
    pub fn percent_label(self) -> String {
        let s = format_scaled(i64::from(self.0), 2);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s}%")
    }

    /// Commission on `sales` minor units, rounded half-up to the minor unit.
    pub fn commission_on(self, sales_minor: i64) -> i64 {
        let product = i128::from(sales_minor) * i128::from(self.0);
        let rounded = if product >= 0 {
            (product + 5_000) / 10_000
        } else {
            (product - 5_000) / 10_000
        };
        rounded as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(Money::parse_amount("19.99"), Ok(1999));
        assert_eq!(Money::parse_amount("19.9"), Ok(1990));
        assert_eq!(Money::parse_amount("20"), Ok(2000));
        assert_eq!(Money::parse_amount(".5"), Ok(50));
        for bad in ["", ".", "1.999", "-1", "1e3", "abc", "1,00"] {
            assert!(Money::parse_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(Money::new(1990, Currency::Eur).to_decimal_string(), "19.90");
        assert_eq!(Money::new(-5, Currency::Eur).to_decimal_string(), "-0.05");
    }

    #[test]
    fn rates() {
        assert_eq!(Bps::parse_percent("15"), Ok(Bps(1500)));
        assert_eq!(Bps::parse_percent("12.5%"), Ok(Bps(1250)));
        assert!(Bps::parse_percent("100.01").is_err());
        assert_eq!(Bps(1500).percent_label(), "15%");
        assert_eq!(Bps(1250).percent_label(), "12.5%");
        assert_eq!(Bps(5).percent_label(), "0.05%");
        assert_eq!(Bps(0).percent_label(), "0%");
        assert_eq!(Bps::from_percent_f64(12.34), Ok(Bps(1234)));
        assert!(Bps::from_percent_f64(12.345).is_err());
        assert!(Bps::from_percent_f64(-1.0).is_err());
        assert!(Bps::from_percent_f64(f64::NAN).is_err());
    }

    #[test]
    fn commission_rounds_half_up() {
        // 0.33 * 15% = 0.0495 -> 0.05
        assert_eq!(Bps(1500).commission_on(33), 5);
        // 0.10 * 15% = 0.015 -> 0.02 (half up)
        assert_eq!(Bps(1500).commission_on(10), 2);
        // 0.09 * 15% = 0.0135 -> 0.01
        assert_eq!(Bps(1500).commission_on(9), 1);
        assert_eq!(Bps(1000).commission_on(1999), 200);
    }

    proptest! {
        #[test]
        fn amount_round_trips(minor in 0i64..1_000_000_000_000) {
            let s = Money::new(minor, Currency::Usd).to_decimal_string();
            prop_assert_eq!(Money::parse_amount(&s), Ok(minor));
        }

        #[test]
        fn parse_amount_never_panics(s in "\\PC{0,24}") {
            let _ = Money::parse_amount(&s);
            let _ = Bps::parse_percent(&s);
        }

        #[test]
        fn commission_is_within_half_a_unit(sales in 0i64..10_000_000_000, bps in 0u32..=10_000) {
            let c = Bps(bps).commission_on(sales);
            let exact = sales as f64 * f64::from(bps) / 10_000.0;
            prop_assert!((c as f64 - exact).abs() <= 0.5 + 1e-6);
        }
    }
}
