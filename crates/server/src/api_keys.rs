//! API keys: `qk_` and 256 random bits, accepted as bearer tokens with the account's kind
//! and the key's scope. When a key was last used is kept in memory and written in batches,
//! so using a key never costs a database write.

use crate::auth::{Principal, Scope, new_token, token_hash};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::api_keys::KeyScope;

pub const PREFIX: &str = "qk_";

/// A new key and what is stored of it: (key, shown prefix, hash).
pub fn new_key() -> (String, String, String) {
    let key = format!("{PREFIX}{}", new_token());
    let shown = key[..PREFIX.len() + 8].to_owned();
    let hash = token_hash(&key);
    (key, shown, hash)
}

pub fn is_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// Writes the pending last-used times; a failed batch goes back for the next flush.
pub async fn flush(state: &AppState) {
    let batch = state.joining.key_usage.take();
    if let Err(e) = state.db.record_api_key_use(&batch).await {
        tracing::warn!(error = %e, keys = batch.len(), "could not record API key use");
        for (id, at) in batch {
            state.joining.key_usage.record(&id, at);
        }
    }
}

/// Resolves an API key to its account's principal, with the key's scope.
pub async fn authenticate(state: &AppState, key: &str) -> Result<Principal, ApiError> {
    let hash = token_hash(key);
    let now = crate::clock::now_ms();
    if let Some(p) = state.tokens.get(&hash, now) {
        if let Some(id) = &p.api_key_id {
            state.joining.key_usage.record(id, now);
        }
        return Ok(p);
    }
    let row = state
        .db
        .api_key_by_hash(&hash)
        .await?
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now))
        .ok_or(ApiError::InvalidToken)?;
    let account = state
        .db
        .account_by_id(&row.account_id)
        .await?
        .filter(|a| a.disabled_at.is_none())
        .ok_or(ApiError::InvalidToken)?;
    let principal = Principal {
        kind: account.kind,
        account_id: account.id,
        public_id: account.public_id,
        email: account.email,
        token_hash: hash,
        email_verified: account.email_verified,
        scope: match row.scope {
            KeyScope::Read => Scope::Read,
            KeyScope::Write => Scope::Write,
        },
        api_key_id: Some(row.id.clone()),
    };
    state
        .tokens
        .put(principal.clone(), row.expires_at.unwrap_or(i64::MAX));
    state.joining.key_usage.record(&row.id, now);
    Ok(principal)
}
