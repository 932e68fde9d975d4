//! Password and refresh grants, revocation, and login throttling (spec §1).

use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use crate::auth::{ChecksBusy, new_token, token_hash};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::accounts::LoginAttempt;
use crate::store::now_ms;
use crate::store::tokens::{NewToken, TokenKind};

/// How long a login turned away for want of password-check capacity is told to wait.
pub(crate) const BUSY_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    /// **(Quiver)** On the password grant: `publisher`, `seller` or `admin`, so a client
    /// knows which screens to offer without a probing request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_type: Option<&'static str>,
}

/// Usernames are e-mail addresses, matched without regard to case or padding.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase()
}

pub async fn password_grant(
    state: &AppState,
    username: &str,
    password: &str,
    client_ip: &str,
    user_agent: &str,
) -> Result<TokenResponse, ApiError> {
    let username = normalise_username(username);
    let now = now_ms();
    let t = &state.login_throttle;
    // Turned away before anything is counted: a busy server is no failed attempt.
    let ticket = t.checks.admit().ok_or(ApiError::ServerBusy {
        retry_after: BUSY_RETRY,
    })?;
    let window_ms = t.window.as_millis() as i64;
    let attempt = LoginAttempt {
        username: &username,
        client_ip,
        at: now,
        since: now - window_ms,
        max_by_user: t.per_username,
        max_by_ip: t.per_client,
    };
    // Reserved before the (slow) password check, so concurrent guesses count each other.
    let reserved = match state.db.reserve_login_attempt(&attempt).await? {
        Ok(id) => id,
        Err(f) => {
            let until = [
                (f.by_user > t.per_username).then_some(f.oldest_user + window_ms),
                (f.by_ip > t.per_client).then_some(f.oldest_ip + window_ms),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(now + window_ms);
            let wait = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
            return Err(ApiError::TooManyAttempts { retry_after: wait });
        }
    };

    // A disabled account is checked like an unknown one: same work, same answer.
    let account = state
        .db
        .account_by_email(&username)
        .await?
        .filter(|a| a.disabled_at.is_none());
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let ok = match ticket.verify(password.to_owned(), stored).await {
        Ok(ok) => ok,
        Err(ChecksBusy) => {
            // The password was never checked: take the attempt back.
            state.db.release_login_attempt(reserved).await?;
            return Err(ApiError::ServerBusy {
                retry_after: BUSY_RETRY,
            });
        }
    };
    let account = match (ok, account) {
        (true, Some(a)) => a,
        // The reserved row stays: it is this failure.
        _ => return Err(ApiError::BadCredentials),
    };
    state.db.clear_login_failures(&username, client_ip).await?;
    let family = Uuid::now_v7().to_string();
    let agent: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    state
        .db
        .insert_session(&family, &account.id, client_ip, &agent, now)
        .await?;
    let mut tokens = issue(state, &account.id, &family).await?;
    tokens.account_type = Some(account.kind.as_str());
    Ok(tokens)
}

pub async fn refresh_grant(
    state: &AppState,
    refresh_token: &str,
) -> Result<TokenResponse, ApiError> {
    let hash = token_hash(refresh_token.trim());
    let now = now_ms();
    let row = state
        .db
        .token_by_hash(&hash)
        .await?
        .filter(|t| t.kind == TokenKind::Refresh)
        .ok_or(ApiError::InvalidGrant)?;
    if row.revoked_at.is_some() {
        // A used refresh token presented again means it leaked: end the whole session.
        let hashes = state.db.revoke_family(&row.family, now).await?;
        state.tokens.evict(&hashes);
        return Err(ApiError::InvalidGrant);
    }
    if !state.db.consume_refresh_token(&hash, now).await? {
        return Err(ApiError::InvalidGrant);
    }
    state.db.touch_session(&row.family, now).await?;
    issue(state, &row.account_id, &row.family).await
}

/// Revokes an access token, or a refresh token and every token of its session.
/// Unknown tokens are accepted silently, as RFC 7009 asks.
pub async fn revoke(state: &AppState, token: &str) -> Result<(), ApiError> {
    let hash = token_hash(token.trim());
    let now = now_ms();
    if let Some(row) = state.db.token_by_hash(&hash).await? {
        if row.kind == TokenKind::Refresh {
            let hashes = state.db.revoke_family(&row.family, now).await?;
            state.tokens.evict(&hashes);
        } else {
            state.db.revoke_token(&hash, now).await?;
            state.tokens.evict(&[hash]);
        }
    }
    Ok(())
}

async fn issue(
    state: &AppState,
    account_id: &str,
    family: &str,
) -> Result<TokenResponse, ApiError> {
    let now = now_ms();
    let access = new_token();
    let refresh = new_token();
    let ttl = state.settings.token_ttl;
    let (access_hash, refresh_hash) = (token_hash(&access), token_hash(&refresh));
    state
        .db
        .insert_tokens(
            &[
                NewToken {
                    hash: &access_hash,
                    account_id,
                    kind: TokenKind::Access,
                    family,
                    expires_at: now + ttl.as_millis() as i64,
                },
                NewToken {
                    hash: &refresh_hash,
                    account_id,
                    kind: TokenKind::Refresh,
                    family,
                    expires_at: now + state.settings.refresh_ttl.as_millis() as i64,
                },
            ],
            now,
        )
        .await?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "bearer",
        expires_in: ttl.as_secs(),
        refresh_token: refresh,
        account_type: None,
    })
}
