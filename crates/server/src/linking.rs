//! Creating an attribution link: the checks of spec §4 in their order, the Amazon tag,
//! and one transaction that stores the link (and its idempotency key) or nothing.

use quiver_domain::{Asin, LinkName, Marketplace, fill_tag_template};
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::links::{IdempotencyRecord, InsertOutcome, LinkRow};
use crate::store::now_ms;
use crate::tags::{TagFailure, TagRequest};

/// A validated creation request.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub asin: Asin,
    pub marketplace: Marketplace,
    pub link_name: Option<LinkName>,
}

impl NewLink {
    /// The request's meaning, for comparing idempotent retries: the same ASIN in another
    /// case, or the same name with other padding, is the same request.
    pub fn fingerprint(&self) -> String {
        let name = self.link_name.as_ref().map(LinkName::as_str).unwrap_or("");
        crate::auth::token_hash(&format!(
            "{}\u{1f}{}\u{1f}{}",
            self.asin, self.marketplace, name
        ))
    }
}

/// The outcome of an idempotent creation.
pub enum Created {
    New(Box<LinkRow>, String),
    /// A retry of an earlier success: its original response body.
    Replayed(String),
}

/// Runs checks 2–4 of spec §4 (the caller has done 1) and stores the link.
pub async fn create_link(
    state: &AppState,
    who: &Principal,
    req: &NewLink,
    idempotency_key: Option<&str>,
    render: impl Fn(&LinkRow) -> String,
) -> Result<Created, ApiError> {
    if !who.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    let fingerprint = req.fingerprint();
    if let Some(key) = idempotency_key
        && let Some(replay) = replay(state, who, key, &fingerprint).await?
    {
        return Ok(Created::Replayed(replay));
    }

    let link = prepare_link(state, &who.account_id, &who.public_id, req).await?;
    // Once the checks of spec §4 have passed (their errors come first), before storing.
    crate::quotas::check_link(state, &who.account_id).await?;
    let body = render(&link);
    let record = idempotency_key.map(|key| IdempotencyRecord {
        key,
        request_hash: &fingerprint,
        response_body: &body,
    });
    match state.db.insert_link(&link, record, link.created_at).await? {
        InsertOutcome::Created => Ok(Created::New(Box::new(link), body)),
        // A concurrent request with the same key won: answer as it did.
        InsertOutcome::KeyTaken => match idempotency_key {
            Some(key) => replay(state, who, key, &fingerprint)
                .await?
                .map(Created::Replayed)
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("idempotency key vanished"))),
            None => Err(ApiError::Internal(anyhow::anyhow!(
                "key conflict without a key"
            ))),
        },
    }
}

/// Checks 2–4 of spec §4 for `account_id` (whose public id is `public_id`) and builds the
/// link row, without storing it: single creation and bulk jobs store it each in their
/// own transaction.
pub async fn prepare_link(
    state: &AppState,
    account_id: &str,
    public_id: &str,
    req: &NewLink,
) -> Result<LinkRow, ApiError> {
    let region = req.marketplace.region();
    let (product, amazon) = state
        .db
        .link_target(account_id, req.asin.as_str(), req.marketplace, region)
        .await?
        .ok_or_else(|| ApiError::ProductNotFound {
            asin: req.asin.to_string(),
            marketplace: req.marketplace.to_string(),
        })?;
    if !product.can_promote {
        return Err(ApiError::BrandAccessDenied {
            brand: product.brand_name.clone(),
        });
    }
    let (profile_id, advertiser_id) = amazon.ok_or_else(|| ApiError::BrandNotConnected {
        brand: product.brand_name.clone(),
        region: region.to_string(),
    })?;
    let tag_request = TagRequest {
        region,
        profile_id,
        advertiser_id,
        publisher_id: state.settings.publisher_id.clone(),
    };
    let deadline = Instant::now() + state.settings.link_deadline;
    let template = state.tags.template(&tag_request, deadline).await.map_err(|e| match e {
        TagFailure::Unavailable { retry_after, cause } => {
            tracing::warn!(%cause, "no tag template: Amazon unavailable");
            ApiError::AmazonUnavailable { retry_after }
        }
        TagFailure::Rejected(cause) => {
            tracing::error!(%cause, brand = %product.brand_id, "Amazon refused the tag request");
            ApiError::AmazonUnavailable { retry_after: std::time::Duration::from_secs(60) }
        }
    })?;

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
    .map_err(|e| ApiError::Internal(e.into()))?;
    let link = LinkRow {
        id: id.to_string(),
        account_id: account_id.to_owned(),
        asin: req.asin.to_string(),
        marketplace: req.marketplace.to_string(),
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
    };
    Ok(link)
}

async fn replay(
    state: &AppState,
    who: &Principal,
    key: &str,
    fingerprint: &str,
) -> Result<Option<String>, ApiError> {
    match state
        .db
        .idempotency_key(&who.account_id, key, now_ms())
        .await?
    {
        Some(row) if row.request_hash == fingerprint => Ok(Some(row.response_body)),
        Some(_) => Err(ApiError::IdempotencyKeyReused),
        None => Ok(None),
    }
}
