use serde::{Deserialize, Serialize};

/// What an account is, which decides the endpoints its tokens may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// A creator who shares links and earns commission.
    Publisher,
    /// A brand owner who pays commission.
    Seller,
    /// An operator.
    Admin,
}

impl AccountKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Seller => "seller",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "publisher" => Some(Self::Publisher),
            "seller" => Some(Self::Seller),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

crate::unknown::try_from_name!(AccountKind, "account kind");
