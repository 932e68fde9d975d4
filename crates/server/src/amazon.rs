//! Wires Quiver to Amazon Attribution: the client and tag cache for the configured mode,
//! and the in-process simulator for `QUIVER_AMAZON=sim`.

use quiver_amazon::{AmazonClient, ClientConfig, Credentials, Endpoints, TagCache, TagCacheConfig};

use crate::config::{AmazonMode, ServeConfig};
use crate::tags::Tags;

/// The Amazon side of a running Quiver.
pub struct Amazon {
    pub client: AmazonClient,
    pub tags: Tags,
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
        let tag_config = cfg.tag_cache();
        let tags = Tags::new(TagCache::new(client.clone(), tag_config.clone()));
        Ok(Self {
            client,
            tags,
            sim,
            base_url,
            tag_config,
        })
    }
}
