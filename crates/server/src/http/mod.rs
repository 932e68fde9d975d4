//! HTTP resources; each module owns its `router()`.

pub mod access;
pub mod auth;
pub mod bulk;
pub mod catalog;
pub mod docs;
pub mod extract;
pub mod health;
pub mod links;
pub mod metrics;
pub mod paging;
pub mod ratelimit;
pub mod reports;
pub mod sellers;
pub mod web;
