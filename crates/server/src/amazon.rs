//! Wires Quiver to Amazon Attribution: the client and tag cache for the configured mode,
//! the in-process simulator for `QUIVER_AMAZON=sim`, and persistence of cached tags so a
//! restart keeps serving links through an Amazon outage.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use futures::future::BoxFuture;
use quiver_amazon::{
    AmazonClient, ClientConfig, Credentials, Endpoints, TagCache, TagCacheConfig, TagError, TagKey,
};
use tokio::time::Instant;

use crate::config::{AmazonMode, ServeConfig};
use crate::store::Db;
use crate::store::tags::TagTemplateRow;
use crate::tags::{TagFailure, TagRequest, TagSource};

/// The Amazon side of a running Quiver.
pub struct Amazon {
    pub client: AmazonClient,
    pub tags: TagCache,
    /// The in-process simulator, when `QUIVER_AMAZON=sim`.
    pub sim: Option<amazon_sim::SimHandle>,
    /// The one host every call goes to, in-process simulator or `QUIVER_AMAZON=http://...`
    /// (normally a standalone amazon-sim); `None` with Amazon's production hosts.
    pub base_url: Option<url::Url>,
    pub tag_config: TagCacheConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum AmazonSetupError {
    #[error(
        "QUIVER_AMAZON=amazon needs QUIVER_AMAZON_CLIENT_ID, QUIVER_AMAZON_CLIENT_SECRET and QUIVER_AMAZON_REFRESH_TOKEN"
    )]
    MissingCredentials,
    #[error("could not start the Amazon simulator: {0}")]
    Sim(#[from] std::io::Error),
    #[error("invalid simulator URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("could not build the Amazon client: {0}")]
    Client(#[from] quiver_amazon::AmazonError),
}

fn sim_credentials() -> Credentials {
    let sim = amazon_sim::SimConfig::default();
    Credentials {
        client_id: sim.client_id,
        client_secret: sim.client_secret,
        refresh_token: sim.refresh_token,
    }
}

impl Amazon {
    pub async fn start(mode: &AmazonMode, cfg: &ServeConfig) -> Result<Self, AmazonSetupError> {
        let given = match (
            &cfg.amazon_client_id,
            &cfg.amazon_client_secret,
            &cfg.amazon_refresh_token,
        ) {
            (Some(id), Some(secret), Some(refresh)) => Some(Credentials {
                client_id: id.clone(),
                client_secret: secret.clone(),
                refresh_token: refresh.clone(),
            }),
            _ => None,
        };
        let (endpoints, credentials, sim, base_url) = match mode {
            AmazonMode::Sim => {
                let config = amazon_sim::SimConfig {
                    publisher_id: cfg.amazon_publisher_id.clone(),
                    ..amazon_sim::SimConfig::default()
                };
                let sim = amazon_sim::spawn(
                    config,
                    "127.0.0.1:0"
                        .parse()
                        .map_err(|_| std::io::Error::other("loopback address"))?,
                )
                .await?;
                let base = url::Url::parse(&sim.base_url())?;
                (
                    Endpoints::single_host(&base),
                    sim_credentials(),
                    Some(sim),
                    Some(base),
                )
            }
            AmazonMode::BaseUrl(base) => (
                Endpoints::single_host(base),
                given.unwrap_or_else(sim_credentials),
                None,
                Some(base.clone()),
            ),
            AmazonMode::Amazon => (
                Endpoints::amazon(),
                given.ok_or(AmazonSetupError::MissingCredentials)?,
                None,
                None,
            ),
        };
        let client = AmazonClient::new(ClientConfig::new(endpoints, credentials))?;
        let tag_config = TagCacheConfig {
            ttl: Duration::from_secs(cfg.tag_ttl_secs),
            max_stale: Duration::from_secs(cfg.tag_max_stale_secs),
            refresh_ahead: Duration::from_secs(cfg.tag_ttl_secs / 24)
                .min(Duration::from_secs(3600)),
        };
        let tags = TagCache::new(client.clone(), tag_config.clone());
        Ok(Self {
            client,
            tags,
            sim,
            base_url,
            tag_config,
        })
    }

    /// Loads persisted templates young enough to be served, then keeps the copy on disk
    /// current and the cache refreshed ahead of expiry.
    pub async fn warm_and_maintain(&self, db: &Db) {
        let max_stale = self.tag_config.max_stale;
        let oldest = crate::store::now_ms() - max_stale.as_millis() as i64;
        match db.load_tag_templates(oldest).await {
            Ok(rows) => {
                for r in rows {
                    let key = TagKey {
                        region: r.region,
                        profile_id: r.profile_id,
                        advertiser_id: r.advertiser_id,
                        publisher_id: r.publisher_id,
                    };
                    let at = UNIX_EPOCH
                        + Duration::from_millis(u64::try_from(r.fetched_at).unwrap_or(0));
                    self.tags.insert(key, r.template, at);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not load cached tag templates"),
        }
        self.tags.spawn_refresher(Duration::from_secs(60));
        let (tags, db) = (self.tags.clone(), db.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(10));
            loop {
                every.tick().await;
                persist_tags(&tags, &db).await;
            }
        });
    }
}

/// Writes the cache's entries to the database (only newer ones replace stored rows).
pub async fn persist_tags(tags: &TagCache, db: &Db) {
    let rows: Vec<TagTemplateRow> = tags
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

impl TagSource for TagCache {
    fn template<'a>(
        &'a self,
        request: &'a TagRequest,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<String, TagFailure>> {
        async move {
            let key = TagKey {
                region: request.region,
                profile_id: request.profile_id.clone(),
                advertiser_id: request.advertiser_id.clone(),
                publisher_id: request.publisher_id.clone(),
            };
            match TagCache::template(self, &key, deadline).await {
                Ok(tag) => Ok(tag.template),
                Err(TagError::Unavailable { retry_after, cause }) => Err(TagFailure::Unavailable {
                    retry_after,
                    cause: cause.to_string(),
                }),
                Err(TagError::Rejected(e)) => Err(TagFailure::Rejected(e.to_string())),
                Err(TagError::Missing) => Err(TagFailure::Rejected(
                    "no tag for this advertiser and publisher".into(),
                )),
            }
        }
        .boxed()
    }
}

/// The tag source handed to the application state.
pub fn tag_source(amazon: &Amazon) -> Arc<dyn TagSource> {
    Arc::new(amazon.tags.clone())
}
