//! Brands' own Amazon authorisations in use (#18): sealing and opening their refresh
//! tokens, the client handle that calls with one, telling which failures mean the brand
//! must consent again, and the one e-mail per breakage.
//!
//! A connection breaks when Login with Amazon answers `invalid_grant` (the user withdrew
//! the grant) or an API call is refused with 401 even after a fresh access token. Either
//! way only a new consent helps, so the row becomes `reconnect_needed`; it stays that way
//! until the brand reconnects (which replaces the token) or disconnects.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use quiver_amazon::{AmazonClient, AmazonError};
use quiver_domain::Region;
use zeroize::Zeroizing;

use crate::mail::templates;
use crate::objects::amazon_connection;
use crate::secret_key::SecretKey;
use crate::state::AppState;
use crate::store::amazon_connections::{ConnectionRow, aad};
use crate::store::{Db, StoreResult};

/// The client's cache key of a brand authorisation: one access-token cache per brand and
/// region, replaced when a reconnection brings a new refresh token.
pub fn authorization_key(brand_id: &str, region: Region) -> String {
    format!("brand:{brand_id}:{region}")
}

/// Seals a refresh token for (brand, region), as stored in `amazon_connections`.
pub fn seal(key: &SecretKey, brand_id: &str, region: Region, refresh_token: &str) -> String {
    STANDARD.encode(key.seal(refresh_token.as_bytes(), &aad(brand_id, region.as_str())))
}

/// The refresh token of a stored connection, or `None` when the key does not open it.
pub fn open(key: &SecretKey, row: &ConnectionRow) -> Option<Zeroizing<String>> {
    let sealed = STANDARD.decode(row.refresh_token_sealed.trim()).ok()?;
    let plain = key.open(&sealed, &row.sealed().aad()).ok()?;
    String::from_utf8(plain.to_vec()).ok().map(Zeroizing::new)
}

/// A handle calling Amazon with the connection's own authorisation; `None` without a key
/// or when the stored value does not open (both are logged, never the value).
pub fn client_for(state: &AppState, row: &ConnectionRow) -> Option<AmazonClient> {
    let Some(key) = &state.secret_key else {
        tracing::warn!(brand = %row.brand_id, region = %row.region, "no secret key: the brand's Amazon authorisation cannot be used");
        return None;
    };
    client_with(&state.amazon.client, key, row)
}

/// Like [`client_for`], from the platform client and the key.
pub fn client_with(
    platform: &AmazonClient,
    key: &SecretKey,
    row: &ConnectionRow,
) -> Option<AmazonClient> {
    let Some(refresh) = open(key, row) else {
        tracing::warn!(brand = %row.brand_id, region = %row.region, "the brand's stored Amazon authorisation does not open with the secret key");
        return None;
    };
    Some(platform.authorized(
        &authorization_key(&row.brand_id, row.region),
        row.region,
        &refresh,
    ))
}

/// Whether the authorisation `client` calls with can see `advertiser_id` under
/// `profile_id` (`/v2/profiles`, then that profile's `/attribution/advertisers`).
pub async fn can_see(
    client: &AmazonClient,
    region: Region,
    profile_id: &str,
    advertiser_id: &str,
    deadline: tokio::time::Instant,
) -> Result<bool, AmazonError> {
    let profiles = client.profiles(region, deadline).await?;
    if !profiles
        .iter()
        .any(|p| p.profile_id.to_string() == profile_id)
    {
        return Ok(false);
    }
    match client.advertisers(region, profile_id, deadline).await {
        Ok(list) => Ok(list.iter().any(|a| a.advertiser_id == advertiser_id)),
        Err(e) if e.is_transient() || breaks_connection(&e) => Err(e),
        Err(_) => Ok(false),
    }
}

/// Whether `e` means the authorisation itself is gone: only a new consent can fix it.
pub fn breaks_connection(e: &AmazonError) -> bool {
    e.is_invalid_grant() || matches!(e.root(), AmazonError::Unauthorized(_))
}

/// Records that the connection failed with `e`, when `e` breaks it. Returns `true` when
/// the connection became `reconnect_needed` by this call. Only the database is touched
/// (the webhook event is enqueued there); the owner's e-mail follows from [`notify_broken`].
pub async fn record_failure(db: &Db, row: &ConnectionRow, e: &AmazonError) -> StoreResult<bool> {
    if !breaks_connection(e) {
        return Ok(false);
    }
    let error = last_error(e);
    // The brand's seller is told by webhook (`amazon.connection_lost`) in the same
    // transaction as the change, so once per breakage.
    let changed = db
        .mark_amazon_reconnect_needed(
            &row.brand_id,
            row.region,
            &row.refresh_token_sealed,
            &error,
            &amazon_connection::lost_data,
        )
        .await?;
    if changed {
        tracing::warn!(brand = %row.brand_id, region = %row.region, error = %error, "a brand's Amazon connection needs reconnecting");
    }
    Ok(changed)
}

/// What the brand is shown as the reason: Amazon's words, without anything secret (LwA
/// errors carry only the error code and description).
fn last_error(e: &AmazonError) -> String {
    let text = match e.root() {
        AmazonError::Auth(d) => format!("Login with Amazon refused the authorisation: {d}"),
        AmazonError::Unauthorized(d) => format!("Amazon refused the access token: {d}"),
        other => other.to_string(),
    };
    text.chars().take(300).collect()
}

/// Records a failure and, when it broke the connection, e-mails the owner at once.
pub async fn failed(state: &AppState, row: &ConnectionRow, e: &AmazonError) {
    match record_failure(&state.db, row, e).await {
        Ok(true) => {
            state.webhooks.wake.notify_one();
            notify_broken(state).await
        }
        Ok(false) => {}
        Err(err) => {
            tracing::warn!(error = %err, brand = %row.brand_id, "could not record the Amazon connection's failure")
        }
    }
}

/// Amazon answered a call made with the connection: `last_ok_at` moves on.
pub async fn succeeded(db: &Db, row: &ConnectionRow) {
    if let Err(e) = db
        .amazon_connection_ok(&row.brand_id, row.region, &row.refresh_token_sealed)
        .await
    {
        tracing::debug!(error = %e, "could not record the Amazon connection's success");
    }
}

/// E-mails the owner of every broken connection not yet told, once per breakage: the
/// claim is a guarded update, so two processes (or a request and the ingestion job)
/// cannot both send it.
pub async fn notify_broken(state: &AppState) {
    let broken = match state.db.unnotified_broken_connections().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the broken Amazon connections");
            return;
        }
    };
    for b in broken {
        match state.db.claim_amazon_notice(&b.brand_id, b.region).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim an Amazon connection notice");
                continue;
            }
        }
        let link = format!(
            "{}/app/#/amazon?brand_id={}&region={}",
            state.joining.public_url(),
            url::form_urlencoded::byte_serialize(b.brand_id.as_bytes()).collect::<String>(),
            b.region
        );
        let mail = templates::amazon_reconnect(
            &b.owner_name,
            &b.brand_name,
            b.region.as_str(),
            b.last_error.as_deref().unwrap_or(""),
            &link,
        );
        state
            .joining
            .outbox
            .send(&state.db, &b.owner_email, mail)
            .await;
    }
}
