use std::fmt;

use serde::Serialize;

/// An Amazon Standard Identification Number: ten ASCII letters or digits, kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Asin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid ASIN '{0}': expected 10 letters or digits")]
pub struct InvalidAsin(pub String);

impl Asin {
    /// Accepts any case and surrounding white space, as clients paste ASINs from anywhere.
    pub fn parse(input: &str) -> Result<Self, InvalidAsin> {
        let trimmed = input.trim();
        if trimmed.len() == 10 && trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(trimmed.to_ascii_uppercase()))
        } else {
            Err(InvalidAsin(input.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Asin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_lower_case_and_spaces() {
        assert_eq!(
            Asin::parse(" b0d45ks7qm ").map(|a| a.0),
            Ok("B0D45KS7QM".into())
        );
    }

    #[test]
    fn rejects_wrong_length_and_symbols() {
        for bad in [
            "",
            "B0D45KS7Q",
            "B0D45KS7QMX",
            "B0D45KS7Q-",
            "B0D45KS7QÉ",
            "B0D4 5KS7Q",
        ] {
            assert!(Asin::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn error_message_matches_the_spec() {
        assert_eq!(
            Asin::parse("x").unwrap_err().to_string(),
            "Invalid ASIN 'x': expected 10 letters or digits"
        );
    }

    proptest! {
        #[test]
        fn any_ten_alphanumerics_round_trip(s in "[A-Za-z0-9]{10}") {
            let asin = Asin::parse(&s).unwrap();
            prop_assert_eq!(asin.as_str(), s.to_ascii_uppercase());
            prop_assert_eq!(Asin::parse(asin.as_str()).unwrap(), asin.clone());
        }

        #[test]
        fn never_panics_and_accepts_only_valid(s in "\\PC{0,20}") {
            let ok = Asin::parse(&s).is_ok();
            let t = s.trim();
            prop_assert_eq!(ok, t.len() == 10 && t.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }
}
