use serde::{Deserialize, Serialize};

/// Who may promote a brand's products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgramMode {
    /// Every publisher may create links.
    Open,
    /// Only publishers the brand has granted access.
    Approval,
}

impl ProgramMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approval => "approval",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Some(Self::Open),
            "approval" => Some(Self::Approval),
            _ => None,
        }
    }
}

crate::unknown::try_from_name!(ProgramMode, "program mode");
