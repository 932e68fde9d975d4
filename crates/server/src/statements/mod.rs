//! The earnings lifecycle (issue #20): statements move `open` → `final` (the schedule,
//! once Amazon no longer restates any day of the month) → `approved` (the brand) → `paid`
//! (the brand records a payment); a brand may adjust a final statement before approving
//! it and void any statement not yet paid, with a reason. Quiver moves no money: it keeps
//! exact statements and writes the payout file a brand uploads to PayPal.
//!
//! - `rules`: which change each state allows, and the error a refused one gets.
//! - `schedule`: what runs after ingestion (create, finalise, log restatements).
//! - `payouts`: recording a payment and its export files.
//! - `mails`: the e-mails to brand and creator.

pub mod mails;
pub mod payouts;
pub mod rules;
pub mod schedule;

pub use rules::StatementError;
