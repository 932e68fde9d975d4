//! Webhooks (issue #21): signed events, sent by the `webhook_delivery` job from the
//! outbox that `store::webhooks` writes in the same transaction as each change.

pub mod events;
