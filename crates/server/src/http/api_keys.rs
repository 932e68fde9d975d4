//! **(Quiver)** `/account/api_keys`: long-lived keys for scripts, shown once.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Caller, LoggedIn};
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Json;
use crate::http::params;
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::api_keys::{ApiKeyRow, KeyScope, NewApiKey};
use crate::store::now_ms;

/// Keys one account may hold at once.
const MAX_KEYS: usize = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewKeyBody {
    /// What the key is for, 1–100 characters.
    #[schema(example = "nightly report script")]
    name: String,
    /// `read` (GET requests only) or `write`.
    #[schema(example = "read")]
    scope: String,
    /// ISO 8601 UTC; absent: the key never expires.
    #[schema(example = "2027-01-01T00:00:00Z")]
    expires_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    id: String,
    name: String,
    /// The key's first characters, to recognise it.
    #[schema(example = "qk_Ab3dE9xY")]
    prefix: String,
    scope: String,
    /// ISO 8601 UTC.
    created_at: String,
    /// ISO 8601 UTC, or null if never used (recorded within about 10 seconds).
    last_used_at: Option<String>,
    /// ISO 8601 UTC, or null for no expiry.
    expires_at: Option<String>,
}

impl ApiKey {
    fn from_row(k: &ApiKeyRow) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scope: k.scope.as_str().to_owned(),
            created_at: iso_utc(k.created_at),
            last_used_at: k.last_used_at.map(iso_utc),
            expires_at: k.expires_at.map(iso_utc),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    meta: ApiKey,
    /// The key itself: shown this once, never again. Send it as `Authorization: Bearer <key>`.
    key: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeys {
    api_keys: Vec<ApiKey>,
}

fn parse_expiry(raw: &str, now: i64) -> ApiResult<i64> {
    let bad = |msg: &str| ApiError::validation("body", "expires_at", msg, "value_error");
    let t = time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            bad("expires_at must be an ISO 8601 date and time, e.g. 2027-01-01T00:00:00Z")
        })?;
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
    if ms <= now {
        return Err(bad("expires_at must be in the future"));
    }
    Ok(ms)
}

/// **(Quiver)** Create an API key. The response is the only time the key is shown.
#[utoipa::path(post, path = "/account/api_keys", tag = "accounts", security(("bearer" = [])),
    request_body = NewKeyBody,
    responses(
        (status = 201, body = CreatedKey),
        (status = 403, body = Problem, description = "`insufficient_scope`: API keys cannot make keys"),
        (status = 422, body = Unprocessable, description = "A bad name, scope or expiry, or too many keys"),
    ))]
async fn create_key(
    State(state): State<AppState>,
    LoggedIn(who): LoggedIn,
    Json(body): Json<NewKeyBody>,
) -> ApiResult<(StatusCode, JsonResponse<CreatedKey>)> {
    let name = params::at_most_chars("body", "name", body.name.trim(), params::MAX_TEXT_CHARS)?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation(
            "body",
            "name",
            "The name must be 1 to 100 characters",
            "value_error",
        ));
    }
    let scope = match KeyScope::parse(body.scope.trim()) {
        Some(s) => s,
        None => {
            return Err(ApiError::validation(
                "body",
                "scope",
                "scope must be 'read' or 'write'",
                "value_error",
            ));
        }
    };
    let now = now_ms();
    let expires_at = body
        .expires_at
        .as_deref()
        .map(|e| parse_expiry(e, now))
        .transpose()?;
    if state.db.account_api_keys(&who.account_id).await?.len() >= MAX_KEYS {
        return Err(ApiError::validation(
            "body",
            "__root__",
            format!("An account may have at most {MAX_KEYS} API keys: revoke one first"),
            "value_error",
        ));
    }
    let (key, prefix, hash) = crate::api_keys::new_key();
    let id = Uuid::now_v7().to_string();
    state
        .db
        .insert_api_key(&NewApiKey {
            id: &id,
            account_id: &who.account_id,
            name,
            prefix: &prefix,
            hash: &hash,
            scope,
            created_at: now,
            expires_at,
        })
        .await?;
    let row = ApiKeyRow {
        id,
        account_id: who.account_id,
        name: name.to_owned(),
        prefix,
        scope,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((
        StatusCode::CREATED,
        JsonResponse(CreatedKey {
            meta: ApiKey::from_row(&row),
            key,
        }),
    ))
}

/// **(Quiver)** The account's API keys (never the keys themselves), newest first.
#[utoipa::path(get, path = "/account/api_keys", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = ApiKeys),
    ))]
async fn list_keys(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<JsonResponse<ApiKeys>> {
    let rows = state.db.account_api_keys(&who.account_id).await?;
    Ok(JsonResponse(ApiKeys {
        api_keys: rows.iter().map(ApiKey::from_row).collect(),
    }))
}

/// **(Quiver)** Revoke an API key: refused at once by this server, and within 5 seconds
/// by every other one sharing the database.
#[utoipa::path(delete, path = "/account/api_keys/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "A key id from `GET /account/api_keys`")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, body = Problem, description = "`insufficient_scope`: API keys cannot revoke keys"),
        (status = 404, body = Problem, description = "`not_found`: no such live key of yours"),
    ))]
async fn revoke_key(
    State(state): State<AppState>,
    LoggedIn(who): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let hash = state
        .db
        .revoke_api_key(&who.account_id, &id, now_ms())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("API key not found: '{id}'")))?;
    state.tokens.evict(&[hash]);
    Ok(StatusCode::NO_CONTENT)
}
