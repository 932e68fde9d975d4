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

pub const CLIENT_ID_HEADER: &str = "Amazon-Advertising-API-ClientId";
pub const SCOPE_HEADER: &str = "Amazon-Advertising-API-Scope";

/// Issued access tokens and when they expire.
#[derive(Default)]
pub struct Tokens {
    expiry: HashMap<String, Instant>,
}

/// Above this many live entries, expired tokens are swept on the next issue, so a client
/// that refreshes in a loop cannot grow the map without bound.
const SWEEP_ABOVE: usize = 10_000;

impl Tokens {
    fn issue(&mut self, token: String, expires: Instant) {
        if self.expiry.len() >= SWEEP_ABOVE {
            let now = Instant::now();
            self.expiry.retain(|_, exp| *exp > now);
        }
        self.expiry.insert(token, expires);
    }

    fn is_valid(&self, token: &str) -> bool {
        self.expiry
            .get(token)
            .is_some_and(|exp| *exp > Instant::now())
    }
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = LwaError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// `POST /auth/o2/token`, grant `refresh_token` only (the one Quiver uses).
pub async fn token(State(state): State<SimState>, body: Bytes) -> Response {
    let mut grant_type = None;
    let mut refresh_token = None;
    let mut client_id = None;
    let mut client_secret = None;
    for (key, value) in url::form_urlencoded::parse(&body) {
        match key.as_ref() {
            "grant_type" => grant_type = Some(value.into_owned()),
            "refresh_token" => refresh_token = Some(value.into_owned()),
            "client_id" => client_id = Some(value.into_owned()),
            "client_secret" => client_secret = Some(value.into_owned()),
            _ => {}
        }
    }
    let cfg = state.config();
    match grant_type.as_deref() {
        Some("refresh_token") => {}
        Some(_) => {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only grant_type=refresh_token is supported",
            );
        }
        None => {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            );
        }
    }
    if client_id.as_deref() != Some(cfg.client_id.as_str())
        || client_secret.as_deref() != Some(cfg.client_secret.as_str())
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if refresh_token.as_deref() != Some(cfg.refresh_token.as_str()) {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    // OS-seeded on purpose: tokens must not survive a restart of the simulator.
    let access_token = format!("Atza|sim-{:032x}", rand::rng().random::<u128>());
    let ttl = cfg.access_token_ttl;
    state
        .tokens_mut()
        .issue(access_token.clone(), Instant::now() + ttl);
    Json(LwaTokenResponse {
        access_token,
        refresh_token: Some(cfg.refresh_token.clone()),
        token_type: "bearer".to_owned(),
        expires_in: ttl.as_secs(),
    })
    .into_response()
}

/// Checks the bearer token and client id; returns the scope (profile id) when present.
/// A scope that is present must be numeric.
pub fn check(state: &SimState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("Missing bearer access token".to_owned()))?;
    if !state.tokens().is_valid(bearer) {
        return Err(ApiError::Unauthorized(
            "Invalid or expired access token".to_owned(),
        ));
    }
    let client_id = headers.get(CLIENT_ID_HEADER).and_then(|v| v.to_str().ok());
    if client_id != Some(state.config().client_id.as_str()) {
        return Err(ApiError::Unauthorized(format!(
            "{CLIENT_ID_HEADER} is missing or does not match the access token"
        )));
    }
    match headers.get(SCOPE_HEADER) {
        None => Ok(None),
        Some(v) => {
            let scope = v.to_str().unwrap_or("").trim();
            if !scope.is_empty() && scope.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Some(scope.to_owned()))
            } else {
                Err(ApiError::bad_request(format!(
                    "{SCOPE_HEADER} must be a numeric profile id"
                )))
            }
        }
    }
}

/// Like [`check`], for the attribution operations, which all need a scope.
pub fn check_scoped(state: &SimState, headers: &HeaderMap) -> Result<String, ApiError> {
    check(state, headers)?
        .ok_or_else(|| ApiError::bad_request(format!("{SCOPE_HEADER} header is required")))
}
