//! Which change each state allows. A refused change is a typed error with a sentence;
//! the store's guarded UPDATE is what makes the check hold under concurrency.

use crate::store::StoreError;
use crate::store::statements::StatementState;

/// The changes a brand makes to a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Adjust,
    Approve,
    Void,
    Pay,
}

impl Action {
    /// The states the change may start from.
    pub fn from_states(self) -> &'static [StatementState] {
        use StatementState::*;
        match self {
            Action::Adjust | Action::Approve => &[Final],
            Action::Void => &[Open, Final, Approved],
            Action::Pay => &[Approved],
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Action::Adjust => "adjusted",
            Action::Approve => "approved",
            Action::Void => "voided",
            Action::Pay => "paid",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("Statement not found: '{0}'")]
    NotFound(String),
    #[error("Payout not found: '{0}'")]
    PayoutNotFound(String),
    /// A change the statement's state does not allow (409).
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    /// A rule of the request itself (422): mixed currencies, another seller's statement.
    #[error("{detail}")]
    Rule { code: &'static str, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why `action` may not happen to statement `id` in `state`.
pub fn refusal(action: Action, id: &str, state: StatementState) -> StatementError {
    use StatementState::*;
    let (code, why) = match (action, state) {
        (_, Open) => (
            "statement_open",
            "it is still open: Amazon may restate a day of its month, so it becomes final first",
        ),
        (Action::Pay, Final) => (
            "statement_not_approved",
            "it is not approved yet: approve it first",
        ),
        (_, Approved) => (
            "statement_approved",
            "it is already approved, so its amounts can no longer change",
        ),
        (_, Paid) => ("statement_paid", "it is already paid"),
        (_, Void) => ("statement_void", "it was voided"),
        (_, Final) => ("statement_final", "it is final"),
    };
    StatementError::Refused {
        code,
        detail: format!("Statement '{id}' cannot be {}: {why}", action.verb()),
    }
}

/// Checks `action` against the state a statement was read in.
pub fn check(action: Action, id: &str, state: StatementState) -> Result<(), StatementError> {
    if action.from_states().contains(&state) {
        Ok(())
    } else {
        Err(refusal(action, id, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_starts_only_from_its_states() {
        use StatementState::*;
        assert!(check(Action::Approve, "s", Final).is_ok());
        assert!(check(Action::Adjust, "s", Final).is_ok());
        assert!(check(Action::Pay, "s", Approved).is_ok());
        assert!(check(Action::Void, "s", Open).is_ok());
        for (a, s, code) in [
            (Action::Approve, Open, "statement_open"),
            (Action::Pay, Final, "statement_not_approved"),
            (Action::Adjust, Approved, "statement_approved"),
            (Action::Void, Paid, "statement_paid"),
            (Action::Approve, Void, "statement_void"),
        ] {
            match check(a, "s", s) {
                Err(StatementError::Refused { code: c, .. }) => assert_eq!(c, code),
                other => panic!("{a:?} from {s:?}: {other:?}"),
            }
        }
    }
}
