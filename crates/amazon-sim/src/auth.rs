//! Login with Amazon (`POST /auth/o2/token`) and the header checks every API call gets.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quiver_amazon::wire::{LwaError, LwaTokenResponse};
use rand::Rng;

use crate::error::ApiError;
use crate::state::SimState;
use crate::users;

pub const CLIENT_ID_HEADER: &str = "Amazon-Advertising-API-ClientId";
pub const SCOPE_HEADER: &str = "Amazon-Advertising-API-Scope";

/// Issued access tokens, when they expire, and the simulated user each was issued to
/// (`None`: the platform's all-seeing token).
#[derive(Default)]
pub struct Tokens {
    expiry: HashMap<String, (Instant, Option<String>)>,
}

/// Above this many live entries, expired tokens are swept on the next issue, so a client
/// that refreshes in a loop cannot grow the map without bound.
const SWEEP_ABOVE: usize = 10_000;

impl Tokens {
    fn issue(&mut self, token: String, expires: Instant, user: Option<String>) {
        if self.expiry.len() >= SWEEP_ABOVE {
            let now = Instant::now();
            self.expiry.retain(|_, (exp, _)| *exp > now);
        }
        self.expiry.insert(token, (expires, user));
    }

    /// `None` when invalid; else the user it was issued to, if any.
    fn holder(&self, token: &str) -> Option<Option<&str>> {
        self.expiry
            .get(token)
            .filter(|(exp, _)| *exp > Instant::now())
            .map(|(_, user)| user.as_deref())
    }

    /// Ends every access token issued to `login` (its grant was revoked).
    pub(crate) fn revoke_user(&mut self, login: &str) {
        self.expiry
            .retain(|_, (_, user)| user.as_deref() != Some(login));
    }
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = LwaError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// `POST /auth/o2/token`: grants `refresh_token` (the platform's token or one issued to a
/// simulated user) and `authorization_code` (see `oauth.rs`).
pub async fn token(State(state): State<SimState>, body: Bytes) -> Response {
    let mut form: HashMap<String, String> = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(&body) {
        form.entry(key.into_owned()).or_insert(value.into_owned());
    }
    let field = |k: &str| form.get(k).map(String::as_str);
    let cfg = state.config();
    let grant_type = match field("grant_type") {
        Some(g @ ("refresh_token" | "authorization_code")) => g,
        Some(_) => {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be refresh_token or authorization_code",
            );
        }
        None => {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            );
        }
    };
    if field("client_id") != Some(cfg.client_id.as_str())
        || field("client_secret") != Some(cfg.client_secret.as_str())
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let (refresh_token, user) = if grant_type == "authorization_code" {
        let Some(code) = field("code") else {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "code is required",
            );
        };
        let redeemed = state
            .oauth_mut()
            .redeem(code, &cfg.client_id, field("redirect_uri"));
        match redeemed {
            Ok((refresh, grant)) => (refresh, Some(grant.login)),
            Err((error, description)) => {
                return lwa_error(StatusCode::BAD_REQUEST, error, description);
            }
        }
    } else {
        let given = field("refresh_token").unwrap_or("");
        let user = state.oauth().grant(given).map(|g| g.login.clone());
        if user.is_none() && given != cfg.refresh_token {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The request has an invalid grant parameter : refresh_token",
            );
        }
        (given.to_owned(), user)
    };
    // OS-seeded on purpose: tokens must not survive a restart of the simulator.
    let access_token = format!("Atza|sim-{:032x}", rand::rng().random::<u128>());
    let ttl = cfg.access_token_ttl;
    state
        .tokens_mut()
        .issue(access_token.clone(), Instant::now() + ttl, user);
    Json(LwaTokenResponse {
        access_token,
        refresh_token: Some(refresh_token),
        token_type: "bearer".to_owned(),
        expires_in: ttl.as_secs(),
    })
    .into_response()
}

/// Who is calling: the scope header (profile id) when present, and the simulated user the
/// access token belongs to (`None` for the platform token).
pub struct Caller {
    pub scope: Option<String>,
    pub user: Option<String>,
}

/// Checks the bearer token and client id; returns the scope (profile id) when present.
/// A scope that is present must be numeric.
pub fn check(state: &SimState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    caller(state, headers).map(|c| c.scope)
}

/// Like [`check`], also naming the user; a user's token may only use that user's profiles.
pub fn caller(state: &SimState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("Missing bearer access token".to_owned()))?;
    let user = state.tokens().holder(bearer).map(|u| u.map(str::to_owned));
    let Some(user) = user else {
        return Err(ApiError::Unauthorized(
            "Invalid or expired access token".to_owned(),
        ));
    };
    let client_id = headers.get(CLIENT_ID_HEADER).and_then(|v| v.to_str().ok());
    if client_id != Some(state.config().client_id.as_str()) {
        return Err(ApiError::Unauthorized(format!(
            "{CLIENT_ID_HEADER} is missing or does not match the access token"
        )));
    }
    let scope = match headers.get(SCOPE_HEADER) {
        None => None,
        Some(v) => {
            let scope = v.to_str().unwrap_or("").trim();
            if scope.is_empty() || !scope.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::bad_request(format!(
                    "{SCOPE_HEADER} must be a numeric profile id"
                )));
            }
            Some(scope.to_owned())
        }
    };
    if let (Some(login), Some(scope)) = (&user, &scope)
        && users::user(state.seed(), login).is_none_or(|u| u.owns_profile(scope).is_none())
    {
        return Err(ApiError::Unauthorized(format!(
            "Not authorized to access scope {scope}"
        )));
    }
    Ok(Caller { scope, user })
}

/// Like [`check`], for the attribution operations, which all need a scope.
pub fn check_scoped(state: &SimState, headers: &HeaderMap) -> Result<String, ApiError> {
    check(state, headers)?
        .ok_or_else(|| ApiError::bad_request(format!("{SCOPE_HEADER} header is required")))
}

/// Like [`check_scoped`], with the user's profile (its advertisers) when the token is a
/// user's rather than the platform's.
pub fn check_scoped_user(
    state: &SimState,
    headers: &HeaderMap,
) -> Result<(String, Option<users::UserProfile>), ApiError> {
    let c = caller(state, headers)?;
    let scope = c
        .scope
        .ok_or_else(|| ApiError::bad_request(format!("{SCOPE_HEADER} header is required")))?;
    let profile = c
        .user
        .and_then(|login| users::user(state.seed(), &login))
        .and_then(|u| u.owns_profile(&scope).cloned());
    Ok((scope, profile))
}
