//! Amazon tag templates for link creation: the Amazon client's cache, with its failures in
//! the words link creation needs, and its copy in the database so a restart keeps serving
//! links through an Amazon outage.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quiver_amazon::{AmazonClient, TagCache, TagError, TagKey};
use quiver_domain::Region;
use tokio::time::Instant;

use crate::store::Db;
use crate::store::tags::TagTemplateRow;

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
    /// The brand's own authorisation was refused: it must consent again.
    #[error("Amazon refused the brand's authorisation: {0}")]
    Unauthorized(quiver_amazon::AmazonError),
}

/// The tag-template cache of a running Quiver. Clones share one cache.
#[derive(Clone)]
pub struct Tags {
    cache: TagCache,
}

impl Tags {
    pub fn new(cache: TagCache) -> Self {
        Self { cache }
    }

    /// The cache itself, for its counters and its refresh.
    pub fn cache(&self) -> &TagCache {
        &self.cache
    }

    /// The non-macro template for `request`, from the cache or from Amazon by `deadline`,
    /// fetched with `via` (a brand's own authorisation) or else the platform's.
    pub async fn template(
        &self,
        request: &TagRequest,
        via: Option<&AmazonClient>,
        deadline: Instant,
    ) -> Result<String, TagFailure> {
        let key = TagKey {
            region: request.region,
            profile_id: request.profile_id.clone(),
            advertiser_id: request.advertiser_id.clone(),
            publisher_id: request.publisher_id.clone(),
        };
        let found = match via {
            Some(client) => self.cache.template_via(client, &key, deadline).await,
            None => self.cache.template(&key, deadline).await,
        };
        match found {
            Ok(tag) => Ok(tag.template),
            Err(TagError::Unavailable { retry_after, cause }) => Err(TagFailure::Unavailable {
                retry_after,
                cause: cause.to_string(),
            }),
            Err(TagError::Rejected(e)) => Err(TagFailure::Rejected(e.to_string())),
            Err(TagError::Missing) => Err(TagFailure::Rejected(
                "no tag for this advertiser and publisher".into(),
            )),
            Err(TagError::Unauthorized(e)) => Err(TagFailure::Unauthorized(e)),
        }
    }

    /// Loads the stored templates young enough to be served (at most `max_stale` old).
    pub async fn load(&self, db: &Db, max_stale: Duration) {
        let oldest = crate::store::now_ms() - max_stale.as_millis() as i64;
        let rows = match db.load_tag_templates(oldest).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not load cached tag templates");
                return;
            }
        };
        for r in rows {
            let key = TagKey {
                region: r.region,
                profile_id: r.profile_id,
                advertiser_id: r.advertiser_id,
                publisher_id: r.publisher_id,
            };
            let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(r.fetched_at).unwrap_or(0));
            self.cache.insert(key, r.template, at);
        }
    }

    /// Writes the cache's entries to the database (only newer ones replace stored rows).
    pub async fn persist(&self, db: &Db) {
        let rows: Vec<TagTemplateRow> = self
            .cache
            .snapshot()
            .into_iter()
            .map(|(k, template, at)| TagTemplateRow {
                region: k.region,
                profile_id: k.profile_id,
                advertiser_id: k.advertiser_id,
                publisher_id: k.publisher_id,
                template,
                fetched_at: at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        if let Err(e) = db.save_tag_templates(&rows).await {
            tracing::warn!(error = %e, "could not persist tag templates");
        }
    }
}
