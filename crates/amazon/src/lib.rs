//! Amazon Attribution: wire types, the client, and the tag-template cache.
//!
//! Every call takes a deadline (`tokio::time::Instant`): the client retries transient
//! failures with backoff inside it and never sleeps past it. A per-region circuit breaker
//! makes calls fail fast during an outage.

mod breaker;
mod client;
mod config;
mod error;
mod lwa;
mod retry;
mod tags;
pub mod wire;

pub use breaker::BreakerState;
pub use client::{AmazonClient, CallEvent, ClientStats, Observer, Operation, ReportPage};
pub use config::{BreakerConfig, ClientConfig, Credentials, Endpoints, RetryPolicy};
pub use error::AmazonError;
pub use lwa::Grant;
pub use quiver_domain::Region;
pub use tags::{CachedTag, TagCache, TagCacheConfig, TagError, TagKey};
