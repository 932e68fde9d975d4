//! The one place errors become HTTP responses: every handled error has a status, a stable
//! `code` and a `detail` a person understands (spec section 9).

use std::time::Duration;

use axum::Json;
use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quiver_domain::{InvalidAsin, UnsupportedMarketplace};
use serde::Serialize;

use crate::linking::LinkError;
use crate::quotas::QuotaError;
use crate::statements::StatementError;
use crate::store::StoreError;

/// One item of a FastAPI-style 422 validation body.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FieldError {
    /// Where the problem is: `["query", "limit"]`, `["body", "asin"]`, `["body", 12]`.
    #[schema(value_type = Vec<LocPart>, example = json!(["query", "limit"]))]
    pub loc: Vec<serde_json::Value>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    pub fn new(source: &str, field: &str, msg: impl Into<String>, kind: &str) -> Self {
        Self {
            loc: vec![source.into(), field.into()],
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }

    pub fn missing(source: &str, field: &str) -> Self {
        Self::new(source, field, "Field required", "missing")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    #[error("Incorrect username or password")]
    BadCredentials,
    #[error("Too many failed login attempts. Try again later.")]
    TooManyAttempts { retry_after: Duration },
    #[error("unsupported grant_type")]
    UnsupportedGrantType,
    #[error("invalid refresh token")]
    InvalidGrant,
    #[error("Not authenticated")]
    NotAuthenticated,
    #[error("Could not validate credentials")]
    InvalidToken,
    #[error("{0}")]
    WrongAccountType(&'static str),
    #[error(transparent)]
    UnsupportedMarketplace(#[from] UnsupportedMarketplace),
    #[error(transparent)]
    InvalidAsin(#[from] InvalidAsin),
    #[error("geo has been replaced with marketplace")]
    GeoRetired,
    #[error("Product not found: ASIN {asin} is not in the catalog for {marketplace}")]
    ProductNotFound { asin: String, marketplace: String },
    #[error(
        "Not allowed to promote this product: brand '{brand}' has not given your account access"
    )]
    BrandAccessDenied { brand: String },
    #[error("Couldn't reach Amazon to create the link. Retry in {} seconds.", retry_after.as_secs())]
    AmazonUnavailable { retry_after: Duration },
    #[error(
        "Brand '{brand}' has not connected an Amazon Attribution account for the {region} region"
    )]
    BrandNotConnected { brand: String, region: String },
    #[error(
        "The brand must reconnect its Amazon Ads account: '{brand}' has no working Amazon Ads \
         authorisation for the {region} region. Links can be created again once it has reconnected."
    )]
    BrandMustReconnect { brand: String, region: String },
    #[error("Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,
    #[error("ASIN not available for advertising")]
    NotAvailable,
    #[error("{0}")]
    NotFound(String),
    #[error("Brand not found: '{brand}' is not one of your brands")]
    BrandNotFound { brand: String },
    #[error("Brand not found: there is no brand '{brand}'")]
    UnknownBrand { brand: String },
    #[error("Creator not found: no publisher has the affiliate id '{creator}'")]
    CreatorNotFound { creator: String },
    #[error("Creator '{creator}' has no access grant on brand '{brand}'")]
    GrantNotFound { creator: String, brand: String },
    #[error("Access request not found: '{id}'")]
    AccessRequestNotFound { id: String },
    #[error("You may already promote brand '{brand}': no access request is needed")]
    AlreadyAllowed { brand: String },
    #[error("An access request for brand '{brand}' is already pending (id {id})")]
    AccessRequestPending { brand: String, id: String },
    #[error("Access request '{id}' was already {status}")]
    AccessRequestDecided { id: String, status: String },
    #[error("Not Found")]
    UnknownPath,
    #[error("Method {method} is not allowed here (allowed: {allowed})")]
    MethodNotAllowed { method: String, allowed: String },
    #[error("The request's headers are larger than the {limit}-byte limit")]
    HeadersTooLarge { limit: usize },
    /// An error a layer answered without a body: its reason phrase and a code made from it.
    #[error("{}", .0.canonical_reason().unwrap_or("Error"))]
    Bare(StatusCode),
    #[error("{detail}")]
    QuotaExceeded {
        detail: String,
        retry_after: Option<Duration>,
    },
    #[error("Request body is larger than the 2 MiB limit")]
    PayloadTooLarge,
    #[error("Rate limit exceeded. Try again later.")]
    RateLimited { retry_after: Duration },
    #[error("The request body did not arrive in time")]
    RequestTimeout,
    #[error("The server is busy. Try again in {} seconds.", retry_after_secs(*retry_after))]
    ServerBusy { retry_after: Duration },
    #[error(
        "Verify your e-mail address before creating links: follow the link we e-mailed you, or ask for a new one with POST /signup/resend"
    )]
    EmailNotVerified,
    #[error("{0}")]
    WeakPassword(String),
    #[error(
        "This API key is read-only: it may only make GET requests; create a write key for changes"
    )]
    InsufficientScope,
    #[error("{0}")]
    KeyNotAllowed(&'static str),
    #[error("{0}")]
    SignupClosed(&'static str),
    #[error("Too many e-mails asked for. Try again in {} seconds.", retry_after_secs(*retry_after))]
    TooManyEmails { retry_after: Duration },
    #[error("{0}")]
    BadLink(&'static str),
    #[error("{0}")]
    LinkExpired(&'static str),
    #[error("The current password is not correct")]
    WrongPassword,
    #[error("{0}")]
    InvitationGone(&'static str),
    #[error("{0}")]
    InvitationUsed(&'static str),
    #[error("{0}")]
    AccountExists(&'static str),
    #[error("{0}")]
    EmailTaken(&'static str),
    /// A named thing that does not exist (or is another tenant's): 404 with its own code.
    #[error("{detail}")]
    Missing { code: &'static str, detail: String },
    /// A change the resource's state refuses: 409 with its own code.
    #[error("{detail}")]
    StateConflict { code: &'static str, detail: String },
    /// A domain rule the request breaks: 422 with its own code.
    #[error("{detail}")]
    RuleBroken { code: &'static str, detail: String },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<StatementError> for ApiError {
    fn from(e: StatementError) -> Self {
        match e {
            StatementError::NotFound(_) => ApiError::Missing {
                code: "statement_not_found",
                detail: e.to_string(),
            },
            StatementError::PayoutNotFound(_) => ApiError::Missing {
                code: "payout_not_found",
                detail: e.to_string(),
            },
            StatementError::Refused { code, detail } => ApiError::StateConflict { code, detail },
            StatementError::Rule { code, detail } => ApiError::RuleBroken { code, detail },
            StatementError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<QuotaError> for ApiError {
    fn from(e: QuotaError) -> Self {
        ApiError::QuotaExceeded {
            detail: e.detail,
            retry_after: e.retry_after,
        }
    }
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::ProductNotFound { asin, marketplace } => {
                ApiError::ProductNotFound { asin, marketplace }
            }
            LinkError::BrandAccessDenied { brand } => ApiError::BrandAccessDenied { brand },
            LinkError::BrandNotConnected { brand, region } => {
                ApiError::BrandNotConnected { brand, region }
            }
            LinkError::BrandMustReconnect { brand, region } => {
                ApiError::BrandMustReconnect { brand, region }
            }
            LinkError::AmazonUnavailable { retry_after } => {
                ApiError::AmazonUnavailable { retry_after }
            }
            LinkError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            LinkError::EmailNotVerified => ApiError::EmailNotVerified,
            LinkError::QuotaExceeded(e) => e.into(),
            LinkError::Store(e) => e.into(),
            LinkError::Internal(e) => ApiError::Internal(e),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    detail: &'a str,
    code: &'a str,
}

/// The body of every handled error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"detail": "Product not found: ASIN B0D45KS7QM is not in the catalog for amazon.co.uk", "code": "product_not_found"}))]
pub struct Problem {
    /// A sentence a person understands.
    pub detail: String,
    /// A stable machine-readable code.
    pub code: String,
}

/// The body of a request-validation failure (422).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationProblem {
    pub detail: Vec<FieldError>,
}

/// One step of a `loc` path: a source or field name, or a position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LocPart {
    Name(String),
    Index(i64),
}

/// A 422 body: request validation (`detail` is a list), or a domain rule such as
/// `invalid_asin` (`detail` is a sentence, with a `code`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Unprocessable {
    Validation(ValidationProblem),
    Rule(Problem),
}

impl ApiError {
    pub fn validation(source: &str, field: &str, msg: impl Into<String>, kind: &str) -> Self {
        Self::Validation(vec![FieldError::new(source, field, msg, kind)])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use ApiError::*;
        match self {
            Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error"),
            BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            UnsupportedGrantType => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
            InvalidGrant => (StatusCode::BAD_REQUEST, "invalid_grant"),
            NotAuthenticated => (StatusCode::UNAUTHORIZED, "not_authenticated"),
            InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
            WrongAccountType(_) => (StatusCode::FORBIDDEN, "wrong_account_type"),
            UnsupportedMarketplace(_) => (StatusCode::BAD_REQUEST, "unsupported_marketplace"),
            InvalidAsin(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_asin"),
            GeoRetired => (StatusCode::BAD_REQUEST, "geo_retired"),
            ProductNotFound { .. } => (StatusCode::NOT_FOUND, "product_not_found"),
            BrandAccessDenied { .. } => (StatusCode::FORBIDDEN, "brand_access_denied"),
            AmazonUnavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "amazon_unavailable"),
            BrandNotConnected { .. } | BrandMustReconnect { .. } => {
                (StatusCode::CONFLICT, "brand_not_connected")
            }
            IdempotencyKeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            NotAvailable => (StatusCode::NOT_ACCEPTABLE, "not_available"),
            NotFound(_) | UnknownPath => (StatusCode::NOT_FOUND, "not_found"),
            BrandNotFound { .. } | UnknownBrand { .. } => {
                (StatusCode::NOT_FOUND, "brand_not_found")
            }
            CreatorNotFound { .. } => (StatusCode::NOT_FOUND, "creator_not_found"),
            GrantNotFound { .. } => (StatusCode::NOT_FOUND, "grant_not_found"),
            AccessRequestNotFound { .. } => (StatusCode::NOT_FOUND, "access_request_not_found"),
            AlreadyAllowed { .. } => (StatusCode::CONFLICT, "already_allowed"),
            AccessRequestPending { .. } => (StatusCode::CONFLICT, "access_request_pending"),
            AccessRequestDecided { .. } => (StatusCode::CONFLICT, "access_request_decided"),
            PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            HeadersTooLarge { .. } => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
            ),
            Bare(status) => (*status, bare_code(*status)),
            QuotaExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded"),
            RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ServerBusy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "server_busy"),
            EmailNotVerified => (StatusCode::FORBIDDEN, "email_not_verified"),
            WeakPassword(_) => (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
            InsufficientScope | KeyNotAllowed(_) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            SignupClosed(_) => (StatusCode::FORBIDDEN, "signup_closed"),
            TooManyEmails { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_emails"),
            BadLink(_) => (StatusCode::BAD_REQUEST, "invalid_link"),
            LinkExpired(_) => (StatusCode::GONE, "link_expired"),
            WrongPassword => (StatusCode::BAD_REQUEST, "wrong_password"),
            InvitationGone(_) => (StatusCode::GONE, "invitation_unavailable"),
            InvitationUsed(_) => (StatusCode::BAD_REQUEST, "invitation_used"),
            AccountExists(_) => (StatusCode::CONFLICT, "account_exists"),
            EmailTaken(_) => (StatusCode::CONFLICT, "email_taken"),
            Missing { code, .. } => (StatusCode::NOT_FOUND, *code),
            StateConflict { code, .. } => (StatusCode::CONFLICT, *code),
            RuleBroken { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, *code),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::TooManyAttempts { retry_after }
            | ApiError::AmazonUnavailable { retry_after }
            | ApiError::RateLimited { retry_after }
            | ApiError::ServerBusy { retry_after }
            | ApiError::TooManyEmails { retry_after } => Some(*retry_after),
            ApiError::QuotaExceeded { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Codes for statuses some layer (the router, a timeout) answers on its own.
fn bare_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        431 => "headers_too_large",
        500 => "internal_error",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ if status.is_server_error() => "server_error",
        _ => "client_error",
    }
}

/// Gives every error answered without a body (the router's 405, a nested service's 404)
/// the `{"detail", "code"}` body of spec §9, keeping its headers (`Allow`, ...).
pub async fn fill_bodiless(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status();
    let bodiless = response.body().size_hint().exact() == Some(0);
    if !bodiless || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, _) = response.into_parts();
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::UnknownPath,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed {
            method,
            allowed: parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        },
        other => ApiError::Bare(other),
    };
    let mut filled = error.into_response();
    let headers = filled.headers_mut();
    for name in parts.headers.keys() {
        if !headers.contains_key(name) && name != header::CONTENT_LENGTH {
            for value in parts.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    filled
}

/// The longest error text one log line carries; longer causes are cut.
const MAX_LOGGED_ERROR: usize = 512;

/// The error and its causes on one line (`outer: inner: ...`), cut to a bounded length.
fn log_line(e: &anyhow::Error) -> String {
    let mut line: String = format!("{e:#}")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > MAX_LOGGED_ERROR {
        let mut cut = MAX_LOGGED_ERROR;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str("...");
    }
    line
}

/// Whole seconds, rounded up and at least one, so a client never retries too early.
pub fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut response = match &self {
            ApiError::Validation(items) => {
                (status, Json(serde_json::json!({ "detail": items }))).into_response()
            }
            ApiError::Internal(e) => {
                // Logged here, never shown to the client: one bounded line (the request
                // span adds the request id), so a stream of failing requests cannot fill
                // the disk. The backtrace, captured only under RUST_BACKTRACE, is for
                // whoever turns on debug logging.
                tracing::error!(error = %log_line(e), "internal error");
                tracing::debug!(backtrace = %e.backtrace(), "internal error backtrace");
                let body = ErrorBody {
                    detail: "Internal server error",
                    code,
                };
                (status, Json(body)).into_response()
            }
            other => {
                let detail = other.to_string();
                (
                    status,
                    Json(ErrorBody {
                        detail: &detail,
                        code,
                    }),
                )
                    .into_response()
            }
        };
        let headers = response.headers_mut();
        if matches!(status, StatusCode::UNAUTHORIZED) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(d) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(d)));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
