//! Account e-mails: their text (`templates`), and the queue they go through
//! ([`crate::outbox`], drained by the `account_mail` job).

pub mod templates;

pub use crate::outbox::{Mail, Outbox};
