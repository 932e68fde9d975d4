//! Creating an attribution link: the checks of spec §4 in their order, the Amazon tag,
//! and one transaction that stores the link (and its idempotency key) or nothing.
//!
//! An idempotent retry answers with the first response's exact bytes, so creation for an
//! API caller takes two steps: [`begin`] runs the checks and builds the row, the caller
//! renders its response from that row, and [`Pending::store`] stores the row together with
//! that response.

use std::time::Duration;

use quiver_domain::{Asin, LinkName, Marketplace, fill_tag_template};
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::Principal;
use crate::clicks::CODE_ATTEMPTS;
use crate::quotas::{self, QuotaError};
use crate::state::AppState;
use crate::store::links::{IdempotencyRecord, InsertOutcome, LinkRow};
use crate::store::{StoreError, now_ms};
use crate::tags::{TagFailure, TagRequest};

/// Why a link was not created; `error.rs` gives each its HTTP status and words.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("ASIN {asin} is not in the catalog for {marketplace}")]
    ProductNotFound { asin: String, marketplace: String },
    #[error("brand '{brand}' has not given this account access")]
    BrandAccessDenied { brand: String },
    #[error("brand '{brand}' has no Amazon Attribution account in the {region} region")]
    BrandNotConnected { brand: String, region: String },
    /// The brand connected its own Amazon Ads account there, but it needs a new consent,
    /// has no advertiser chosen yet, or was disconnected.
    #[error("brand '{brand}' must reconnect its Amazon Ads account in the {region} region")]
    BrandMustReconnect { brand: String, region: String },
    /// Amazon could not be reached in time and no usable cached tag exists.
    #[error("Amazon unavailable")]
    AmazonUnavailable { retry_after: Duration },
    #[error("the idempotency key was used with another request")]
    IdempotencyKeyReused,
    /// A self-service account whose address is not verified yet.
    #[error("the account's e-mail address is not verified")]
    EmailNotVerified,
    #[error(transparent)]
    QuotaExceeded(#[from] QuotaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl LinkError {
    /// Failures worth another attempt: Amazon could not be reached, or storage hiccuped.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::AmazonUnavailable { .. } | Self::Store(_) | Self::Internal(_)
        )
    }
}

/// A validated creation request.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub asin: Asin,
    pub marketplace: Marketplace,
    pub link_name: Option<LinkName>,
    /// **(Quiver)** Where the link is posted, and the creator's sub-identifier; validated.
    pub source: Option<String>,
    pub sub_id: Option<String>,
}

impl NewLink {
    /// The request's meaning, for comparing idempotent retries: the same ASIN in another
    /// case, or the same name with other padding, is the same request.
    pub fn fingerprint(&self) -> String {
        let name = self.link_name.as_ref().map(LinkName::as_str).unwrap_or("");
        let mut meaning = format!("{}\u{1f}{}\u{1f}{}", self.asin, self.marketplace, name);
        // Only when given, so keys stored before sources existed still replay.
        if self.source.is_some() || self.sub_id.is_some() {
            let (s, i) = (self.source.as_deref(), self.sub_id.as_deref());
            meaning.push_str(&format!(
                "\u{1f}{}\u{1f}{}",
                s.unwrap_or(""),
                i.unwrap_or("")
            ));
        }
        crate::auth::token_hash(&meaning)
    }
}

/// An idempotent retry of an earlier success: the link's id and the first response.
#[derive(Debug)]
pub struct Replay {
    pub link_id: String,
    pub body: String,
}

/// The first step of creating a link for an API caller.
pub enum Begun {
    /// Every check passed; the row is built but not stored.
    Ready(Box<Pending>),
    Replayed(Replay),
}

/// A link that passed every check, to be stored with the response the caller renders.
pub struct Pending {
    link: LinkRow,
    /// The idempotency key and the request's fingerprint.
    key: Option<(String, String)>,
}

/// What storing a pending link came to.
pub enum Stored {
    Created(Box<LinkRow>),
    /// A concurrent request with the same key committed first: answer as it did.
    Replayed(Replay),
}

/// Runs checks 2–4 of spec §4 for the caller (who has done 1) and builds the link, unless
/// `idempotency_key` replays an earlier creation.
pub async fn begin(
    state: &AppState,
    who: &Principal,
    req: &NewLink,
    idempotency_key: Option<&str>,
) -> Result<Begun, LinkError> {
    if !who.email_verified {
        return Err(LinkError::EmailNotVerified);
    }
    let key = idempotency_key.map(|k| (k.to_owned(), req.fingerprint()));
    if let Some((key, fingerprint)) = &key
        && let Some(replay) = replay(state, &who.account_id, key, fingerprint).await?
    {
        return Ok(Begun::Replayed(replay));
    }
    let link = prepare_link(state, &who.account_id, &who.public_id, req).await?;
    // Once the checks of spec §4 have passed (their errors come first), before storing.
    check_daily_quota(state, &who.account_id).await?;
    Ok(Begun::Ready(Box::new(Pending { link, key })))
}

/// Refuses a single link over the daily quota (one read; none when the quota is off).
async fn check_daily_quota(state: &AppState, account_id: &str) -> Result<(), LinkError> {
    let q = &state.settings.quotas;
    if q.quota_links_per_day == 0 {
        return Ok(());
    }
    let now = now_ms();
    let load = state
        .db
        .account_load(account_id, now - quotas::DAY_MS)
        .await?;
    Ok(quotas::admit_link(q, &load, now)?)
}

impl Pending {
    /// The link as it will be stored.
    pub fn link(&self) -> &LinkRow {
        &self.link
    }

    /// Stores the link, and its idempotency key with the response body `render` makes of
    /// it (to replay), in one transaction. A short code another link took meanwhile (in
    /// another process) is drawn again, at most `CODE_ATTEMPTS` times in all.
    pub async fn store(
        mut self,
        state: &AppState,
        render: impl Fn(&LinkRow) -> anyhow::Result<String>,
    ) -> Result<(Stored, String), LinkError> {
        let mut attempt = 1;
        let (outcome, body) = loop {
            let body = render(&self.link)?;
            let record = self
                .key
                .as_ref()
                .map(|(key, fingerprint)| IdempotencyRecord {
                    key,
                    request_hash: fingerprint,
                    response_body: &body,
                });
            match state
                .db
                .insert_link(&self.link, record, self.link.created_at, Some(body.clone()))
                .await
            {
                Err(StoreError::ShortCodeTaken) if attempt < CODE_ATTEMPTS => {
                    tracing::info!(attempt, "short code taken; drawing another");
                    attempt += 1;
                    self.link.short_code = Some(state.clicks.new_code());
                }
                other => break (other?, body),
            }
        };
        let stored = match outcome {
            InsertOutcome::Created => {
                state
                    .clicks
                    .add_links([short_entry(&self.link)].into_iter().flatten());
                Stored::Created(Box::new(self.link))
            }
            InsertOutcome::KeyTaken => {
                let Some((key, fingerprint)) = &self.key else {
                    return Err(anyhow::anyhow!("key conflict without a key").into());
                };
                replay(state, &self.link.account_id, key, fingerprint)
                    .await?
                    .map(Stored::Replayed)
                    .ok_or_else(|| anyhow::anyhow!("idempotency key vanished"))?
            }
        };
        Ok((stored, body))
    }
}

/// Creates a link without an idempotency key (the demo's sample links).
pub async fn create_link(
    state: &AppState,
    who: &Principal,
    req: &NewLink,
) -> Result<LinkRow, LinkError> {
    let link = prepare_link(state, &who.account_id, &who.public_id, req).await?;
    state
        .db
        .insert_link(&link, None, link.created_at, None)
        .await?;
    state
        .clicks
        .add_links([short_entry(&link)].into_iter().flatten());
    Ok(link)
}

/// The link's entry in the short-code map: its short URL redirects at once.
fn short_entry(link: &LinkRow) -> Option<(&str, &str, &str)> {
    Some((
        link.short_code.as_deref()?,
        link.id.as_str(),
        link.url.as_str(),
    ))
}

/// Checks 2–4 of spec §4 for `account_id` (whose public id is `public_id`) and builds the
/// link row, without storing it: single creation and bulk jobs store it each in their
/// own transaction.
pub async fn prepare_link(
    state: &AppState,
    account_id: &str,
    public_id: &str,
    req: &NewLink,
) -> Result<LinkRow, LinkError> {
    let region = req.marketplace.region();
    let target = state
        .db
        .link_target(account_id, req.asin.as_str(), req.marketplace, region)
        .await?
        .ok_or_else(|| LinkError::ProductNotFound {
            asin: req.asin.to_string(),
            marketplace: req.marketplace.to_string(),
        })?;
    let product = &target.product;
    if !product.has_access {
        return Err(LinkError::BrandAccessDenied {
            brand: product.brand_name.clone(),
        });
    }
    let must_reconnect = || LinkError::BrandMustReconnect {
        brand: product.brand_name.clone(),
        region: region.to_string(),
    };
    // The brand's own connection decides when there is one; operator-set ids (used with
    // the platform's credentials) only for brands that never connected.
    let (profile_id, advertiser_id, via) = match (&target.own, &target.platform) {
        (Some(own), _) => {
            let (Some(profile), Some(advertiser), true) =
                (&own.profile_id, &own.advertiser_id, own.is_connected())
            else {
                return Err(must_reconnect());
            };
            let client = crate::brand_amazon::client_for(state, own).ok_or_else(must_reconnect)?;
            (profile.clone(), advertiser.clone(), Some(client))
        }
        (None, Some((profile, advertiser))) => (profile.clone(), advertiser.clone(), None),
        (None, None) => {
            return Err(LinkError::BrandNotConnected {
                brand: product.brand_name.clone(),
                region: region.to_string(),
            });
        }
    };
    let tag_request = TagRequest {
        region,
        profile_id,
        advertiser_id,
        publisher_id: state.settings.publisher_id.clone(),
    };
    let deadline = Instant::now() + state.settings.link_deadline;
    let fetched = state
        .amazon
        .tags
        .template(&tag_request, via.as_ref(), deadline)
        .await;
    let template = match fetched {
        Ok(t) => t,
        Err(TagFailure::Unavailable { retry_after, cause }) => {
            tracing::warn!(%cause, "no tag template: Amazon unavailable");
            return Err(LinkError::AmazonUnavailable { retry_after });
        }
        Err(TagFailure::Rejected(cause)) => {
            tracing::error!(%cause, brand = %product.brand_id, "Amazon refused the tag request");
            return Err(LinkError::AmazonUnavailable {
                retry_after: Duration::from_secs(60),
            });
        }
        Err(TagFailure::Unauthorized(e)) => {
            if let Some(own) = &target.own {
                crate::brand_amazon::failed(state, own, &e).await;
            }
            return Err(must_reconnect());
        }
    };

    let id = Uuid::now_v7();
    // The ad group id is how report rows find their way back to this link.
    let ad_group_id = id.simple().to_string();
    let url = fill_tag_template(
        &template,
        req.marketplace,
        &req.asin,
        public_id,
        &ad_group_id,
        "quiver",
    )
    .map_err(anyhow::Error::from)?;
    let link = LinkRow {
        id: id.to_string(),
        account_id: account_id.to_owned(),
        asin: req.asin.to_string(),
        marketplace: req.marketplace,
        brand_id: product.brand_id.clone(),
        link_name: req
            .link_name
            .as_ref()
            .map_or_else(|| req.asin.to_string(), |n| n.as_str().to_owned()),
        url,
        ad_group_id,
        campaign_id: public_id.to_owned(),
        product_name: product.title.clone(),
        active: true,
        paused_at: None,
        created_at: now_ms(),
        archived_at: None,
        short_code: Some(state.clicks.new_code()),
        source: req.source.clone(),
        sub_id: req.sub_id.clone(),
    };
    Ok(link)
}

async fn replay(
    state: &AppState,
    account_id: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Replay>, LinkError> {
    match state.db.idempotency_key(account_id, key, now_ms()).await? {
        Some(row) if row.request_hash == fingerprint => Ok(Some(Replay {
            link_id: row.link_id,
            body: row.response_body,
        })),
        Some(_) => Err(LinkError::IdempotencyKeyReused),
        None => Ok(None),
    }
}
