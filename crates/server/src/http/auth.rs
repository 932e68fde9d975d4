//! `POST /token`, `POST /sellers/token`, `POST /token/revoke`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, FieldError, Problem, Unprocessable};
use crate::http::extract::Form;
use crate::http::params;
use crate::login::{self, TokenResponse};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(seller_token))
        .routes(routes!(revoke))
}

/// OAuth2 token request. `scope`, `client_id` and `client_secret` are accepted and ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// `password` (the default when absent) or `refresh_token`.
    grant_type: Option<String>,
    /// The account's e-mail address (password grant).
    #[schema(example = "creator@example.com")]
    #[schema(max_length = 320)]
    username: Option<String>,
    #[schema(example = "quiver-demo")]
    #[schema(max_length = 1024)]
    password: Option<String>,
    /// The refresh token (refresh grant); it is rotated.
    #[schema(max_length = 1024)]
    refresh_token: Option<String>,
    /// Accepted and ignored.
    #[allow(
        dead_code,
        reason = "read by no one: listed so the document shows OAuth2 clients may send it"
    )]
    scope: Option<String>,
    /// Accepted and ignored.
    #[allow(dead_code, reason = "documented, accepted and ignored")]
    client_id: Option<String>,
    /// Accepted and ignored.
    #[allow(dead_code, reason = "documented, accepted and ignored")]
    client_secret: Option<String>,
}

/// Log in (OAuth2 password grant) or refresh a token. Publisher and seller accounts are
/// both accepted; the token's account kind decides which endpoints it may call.
#[utoipa::path(post, path = "/token", tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse, description = "Tokens issued"),
        (status = 400, body = Problem, description = "`unsupported_grant_type`, or `invalid_grant` for an unknown, expired or used refresh token"),
        (status = 401, body = Problem, description = "`bad_credentials`"),
        (status = 422, body = Unprocessable, description = "A required field is missing, or one is over its limit"),
        (status = 429, body = Problem, description = "`too_many_attempts`, with Retry-After"),
        (status = 503, body = Problem, description = "`server_busy`: too many logins are being checked at once; with Retry-After"),
    ))]
async fn token(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Form<TokenForm>,
) -> ApiResult<Response> {
    grant(state, peer, &headers, form).await.map(uncacheable)
}

/// The same as `POST /token`, at the path seller clients use.
#[utoipa::path(post, path = "/sellers/token", tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse, description = "Tokens issued"),
        (status = 400, body = Problem, description = "`unsupported_grant_type` or `invalid_grant`"),
        (status = 401, body = Problem, description = "`bad_credentials`"),
        (status = 422, body = Unprocessable, description = "A required field is missing, or one is over its limit"),
        (status = 429, body = Problem, description = "`too_many_attempts`, with Retry-After"),
        (status = 503, body = Problem, description = "`server_busy`: too many logins are being checked at once; with Retry-After"),
    ))]
async fn seller_token(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Form<TokenForm>,
) -> ApiResult<Response> {
    grant(state, peer, &headers, form).await.map(uncacheable)
}

/// Tokens must not be kept by caches on the way (RFC 6749 §5.1).
fn uncacheable(tokens: TokenResponse) -> Response {
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(tokens),
    )
        .into_response()
}

async fn grant(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: &HeaderMap,
    Form(form): Form<TokenForm>,
) -> ApiResult<TokenResponse> {
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
            let username =
                params::at_most_chars("body", "username", &username, params::MAX_USERNAME_CHARS)?;
            let password =
                params::at_most_chars("body", "password", &password, params::MAX_SECRET_CHARS)?;
            let ip = peer.ip().to_string();
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            login::password_grant(&state, username, password, &ip, agent).await
        }
        Some("refresh_token") => {
            let token = form.refresh_token.ok_or_else(|| {
                ApiError::Validation(vec![FieldError::missing("body", "refresh_token")])
            })?;
            let token =
                params::at_most_chars("body", "refresh_token", &token, params::MAX_SECRET_CHARS)?;
            login::refresh_grant(&state, token).await
        }
        Some(_) => Err(ApiError::UnsupportedGrantType),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevokeForm {
    /// An access or refresh token. Revoking a refresh token ends its whole session.
    #[schema(max_length = 1024)]
    token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    revoked: bool,
}

/// **(Quiver)** Revoke a token (RFC 7009). Unknown tokens are accepted silently.
#[utoipa::path(post, path = "/token/revoke", tag = "auth",
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = Revoked),
        (status = 422, body = Unprocessable, description = "`token` is missing or over 1024 characters"),
    ))]
async fn revoke(
    State(state): State<AppState>,
    Form(form): Form<RevokeForm>,
) -> ApiResult<Json<Revoked>> {
    let token = params::at_most_chars("body", "token", &form.token, params::MAX_SECRET_CHARS)?;
    login::revoke(&state, token).await?;
    Ok(Json(Revoked { revoked: true }))
}
