//! Where link creation gets Amazon tag templates from.

use std::time::Duration;

use futures::future::BoxFuture;
use quiver_domain::Region;
use tokio::time::Instant;

/// Identifies one tag template: a brand's advertiser, in one region, for Quiver's publisher id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagRequest {
    pub region: Region,
    pub profile_id: String,
    pub advertiser_id: String,
    pub publisher_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TagFailure {
    /// Amazon could not be reached in time and no usable cached template exists.
    #[error("Amazon unavailable: {cause}")]
    Unavailable {
        retry_after: Duration,
        cause: String,
    },
    /// Amazon answered, but refused or had no template for this advertiser.
    #[error("Amazon refused the tag request: {0}")]
    Rejected(String),
}

/// A source of non-macro tag templates. The real one is the Amazon client's tag cache.
pub trait TagSource: Send + Sync {
    fn template<'a>(
        &'a self,
        request: &'a TagRequest,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<String, TagFailure>>;
}
