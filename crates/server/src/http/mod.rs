//! HTTP resources; each module owns its `router()`.

pub mod auth;
pub mod catalog;
pub mod health;
pub mod links;
pub mod paging;
