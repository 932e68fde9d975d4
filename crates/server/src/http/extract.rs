//! Request extractors whose failures are API errors: FastAPI-style 422 bodies with the
//! location of the bad field, 413 for oversized bodies, and the caller resolved from its
//! bearer token (401/403).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use quiver_domain::AccountKind;
use serde::de::DeserializeOwned;

use crate::auth::{Principal, Scope, token_hash};
use crate::error::{ApiError, FieldError};
use crate::http::control;
use crate::state::AppState;
use crate::store::tokens::TokenKind;

/// Query string parsed into `T`; a bad value is a 422 naming the parameter.
pub struct Query<T>(pub T);

/// `application/x-www-form-urlencoded` body parsed into `T`.
pub struct Form<T>(pub T);

/// JSON body parsed into `T`.
pub struct Json<T>(pub T);

fn serde_error(source: &str, path: String, message: String) -> FieldError {
    // serde reports a missing field at the parent path, naming it only in the message.
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return FieldError::missing(source, name);
    }
    let field = if path == "." || path.is_empty() {
        "__root__".to_owned()
    } else {
        path
    };
    let kind = if message.contains("invalid type") {
        "type_error"
    } else if message.contains("invalid digit") || message.contains("number") {
        "int_parsing"
    } else {
        "value_error"
    };
    FieldError::new(source, &field, message, kind)
}

fn parse_urlencoded<T: DeserializeOwned>(source: &str, input: &[u8]) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(input));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Validation(vec![serde_error(source, path, e.into_inner().to_string())])
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        control::check_urlencoded("query", query.as_bytes())?;
        parse_urlencoded("query", query.as_bytes()).map(Query)
    }
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else if body_timed_out(&rejection) {
            ApiError::RequestTimeout
        } else {
            ApiError::validation("body", "__root__", rejection.body_text(), "body_error")
        }
    })
}

/// Whether the body stopped arriving (the body-read timeout of `app::Server`).
fn body_timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        control::check_urlencoded("body", &bytes)?;
        parse_urlencoded("body", &bytes).map(Form)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                json_invalid(&inner)
            } else {
                ApiError::Validation(vec![serde_error("body", path, inner.to_string())])
            }
        })?;
        de.end().map_err(|e| json_invalid(&e))?;
        control::check_json(&bytes)?;
        Ok(Json(value))
    }
}

/// A JSON body that may be left out: an empty body is `None`; anything else must parse
/// as [`Json`] would.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = body_bytes(Request::from_parts(parts.clone(), body), state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let Json(value) = Json::from_request(req, state).await?;
        Ok(OptionalJson(Some(value)))
    }
}

fn json_invalid(e: &serde_json::Error) -> ApiError {
    ApiError::Validation(vec![FieldError {
        loc: vec!["body".into(), e.column().into()],
        msg: format!("JSON decode error: {e}"),
        kind: "json_invalid".into(),
    }])
}

/// Parses an optional bounded integer query value, as FastAPI's `Query(ge=, le=)` does.
pub fn bounded(
    field: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let v = value.unwrap_or(default);
    if v < min {
        return Err(ApiError::validation(
            "query",
            field,
            format!("Input should be greater than or equal to {min}"),
            "greater_than_equal",
        ));
    }
    if v > max {
        return Err(ApiError::validation(
            "query",
            field,
            format!("Input should be less than or equal to {max}"),
            "less_than_equal",
        ));
    }
    Ok(v)
}

/// Resolves the bearer token of a request to its principal.
pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<Principal, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::NotAuthenticated)?;
    let value = header.to_str().map_err(|_| ApiError::InvalidToken)?;
    let token = match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            token.trim()
        }
        _ => return Err(ApiError::InvalidToken),
    };
    let principal = if crate::api_keys::is_key(token) {
        crate::api_keys::authenticate(state, token).await?
    } else {
        access_token(state, token).await?
    };
    // A read-only key may look but not change anything.
    if principal.scope == Scope::Read && !matches!(parts.method, Method::GET | Method::HEAD) {
        return Err(ApiError::InsufficientScope);
    }
    Ok(principal)
}

async fn access_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let hash = token_hash(token);
    let now = crate::clock::now_ms();
    if let Some(p) = state.tokens.get(&hash, now) {
        return Ok(p);
    }
    let row = state
        .db
        .token_by_hash(&hash)
        .await?
        .filter(|t| t.kind == TokenKind::Access && t.revoked_at.is_none() && t.expires_at > now)
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
        scope: Scope::Session,
        api_key_id: None,
    };
    state.tokens.put(principal.clone(), row.expires_at);
    Ok(principal)
}

/// A principal that must be a publisher (creator).
pub struct Publisher(pub Principal);

/// A principal that must be a seller (brand owner).
pub struct Seller(pub Principal);

impl FromRequestParts<AppState> for Publisher {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = authenticate(state, parts).await?;
        match p.kind {
            AccountKind::Publisher => Ok(Publisher(p)),
            _ => Err(ApiError::WrongAccountType(
                "This endpoint is for publisher accounts; use the /sellers endpoints with a seller account",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Seller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = authenticate(state, parts).await?;
        match p.kind {
            AccountKind::Seller => Ok(Seller(p)),
            _ => Err(ApiError::WrongAccountType(
                "This endpoint is for seller accounts; publishers use the publisher endpoints",
            )),
        }
    }
}
