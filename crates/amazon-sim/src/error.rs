//! Errors as Amazon answers them: a status and a `MaaSError {code, details}` body whose
//! `code` is the status as a string.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quiver_amazon::wire::MaaSError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("Too many requests. Retry later.")]
    Throttled { retry_after_secs: u64 },
    #[error("Internal Server Error. Something went wrong on the server. Retry later.")]
    Internal,
    #[error("Service unavailable.")]
    Unavailable { retry_after_secs: u64 },
    #[error("Gateway timeout.")]
    Timeout,
}

impl ApiError {
    pub fn bad_request(details: impl Into<String>) -> Self {
        Self::BadRequest(details.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = MaaSError {
            code: status.as_u16().to_string(),
            details: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let Self::Throttled { retry_after_secs } | Self::Unavailable { retry_after_secs } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
