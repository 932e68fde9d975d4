//! The HTTP layer.
//!
//! Resources, each owning its `router()` (merged in `app.rs`) and importing no other
//! resource: `access`, `auth`, `bulk`, `catalog`, `health`, `legacy_reports`, `links`,
//! `reports`, `sellers` (a folder, one file per sub-resource), `webhooks`, plus `docs`, `metrics` and
//! `web`, which serve outside the JSON API.
//!
//! Shared by resources: `extract` (request extractors and the caller), `params` (parsing
//! query and body values), `control` (refusing control characters), `head` (limits on the
//! request head), `paging` (limits, cursors, page numbers), `format` (how stored
//! values are written) and `objects` (request and response objects used by more than one
//! resource).

pub mod access;
pub mod account;
pub mod auth;
pub mod bulk;
pub mod catalog;
pub mod clicks;
pub mod control;
pub mod docs;
pub mod extract;
pub mod head;
pub mod health;
pub mod invitations;
pub mod legacy_reports;
pub mod links;
pub mod metrics;
pub mod objects;
pub mod paging;
pub mod params;
pub mod profiles;
pub mod ratelimit;
pub mod report_sources;
pub mod reports;
pub mod sellers;
pub mod short;
pub mod signup;
pub mod statements;
pub mod summary;
pub mod web;
pub mod webhooks;
