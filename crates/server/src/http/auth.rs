//! `POST /token`, `POST /sellers/token`, `POST /token/revoke`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Form;
use crate::login::{self, TokenResponse};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(token))
        .route("/sellers/token", post(token))
        .route("/token/revoke", post(revoke))
}

/// OAuth2 token request. `scope`, `client_id` and `client_secret` are accepted and ignored.
#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<TokenForm>,
) -> ApiResult<Json<TokenResponse>> {
    match form.grant_type.as_deref().map(str::trim) {
        None | Some("") | Some("password") => {
            let (username, password) = match (form.username, form.password) {
                (Some(u), Some(p)) => (u, p),
                (u, p) => {
                    let mut missing = Vec::new();
                    if u.is_none() {
                        missing.push(FieldError::missing("body", "username"));
                    }
                    if p.is_none() {
                        missing.push(FieldError::missing("body", "password"));
                    }
                    return Err(ApiError::Validation(missing));
                }
            };
            let ip = peer.ip().to_string();
            login::password_grant(&state, &username, &password, &ip)
                .await
                .map(Json)
        }
        Some("refresh_token") => {
            let token = form.refresh_token.ok_or_else(|| {
                ApiError::Validation(vec![FieldError::missing("body", "refresh_token")])
            })?;
            login::refresh_grant(&state, &token).await.map(Json)
        }
        Some(_) => Err(ApiError::UnsupportedGrantType),
    }
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    token: String,
}

async fn revoke(
    State(state): State<AppState>,
    Form(form): Form<RevokeForm>,
) -> ApiResult<Json<Value>> {
    login::revoke(&state, &form.token).await?;
    Ok(Json(json!({ "revoked": true })))
}
