//! The error of reading a closed set's name (`"seller"`, `"EU"`, ...) that is none of its
//! values: what a stored value that no longer parses becomes, instead of a default.

/// `value` is not one of the names of `kind`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

impl UnknownValue {
    pub fn new(kind: &'static str, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }
}

/// `TryFrom<String>` through the type's `parse`, for reading stored names (sqlx's
/// `#[sqlx(try_from = "String")]` uses it at the row boundary).
macro_rules! try_from_name {
    ($ty:ty, $kind:literal) => {
        impl TryFrom<String> for $ty {
            type Error = $crate::UnknownValue;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s).ok_or_else(|| $crate::UnknownValue::new($kind, s))
            }
        }
    };
}

pub(crate) use try_from_name;
