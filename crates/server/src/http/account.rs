//! **(Quiver)** The caller's own account, for both kinds: profile, password, sessions and
//! (in `api_keys`) API keys.

use std::net::SocketAddr;

use axum::Json as JsonResponse;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, authenticate};
use crate::http::params::{self, MAX_SECRET_CHARS, MAX_TEXT_CHARS, MAX_USERNAME_CHARS};
use crate::joining::{self, VERIFY_TTL, link_token};
use crate::mail::templates;
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::now_ms;
use crate::store::signup::{NewAccountToken, Purpose};

#[path = "api_keys.rs"]
mod api_keys;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_account, patch_account))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .merge(api_keys::router())
}

/// Any authenticated caller, publisher or seller.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, parts).await.map(Caller)
    }
}

/// A caller logged in with a password: API keys may not manage the account.
pub struct LoggedIn(pub Principal);

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = authenticate(state, parts).await?;
        if p.api_key_id.is_some() {
            return Err(ApiError::KeyNotAllowed(
                "API keys cannot manage the account: log in with your password to do this",
            ));
        }
        Ok(LoggedIn(p))
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// The public id (affiliate id for publishers).
    id: String,
    email: String,
    display_name: String,
    /// `publisher` or `seller`.
    kind: String,
    email_verified: bool,
    /// ISO 8601 UTC.
    created_at: String,
}

async fn load(state: &AppState, who: &Principal) -> ApiResult<Account> {
    let a = state
        .db
        .account_by_id(&who.account_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(Account {
        id: a.public_id,
        email: a.email,
        display_name: a.display_name,
        kind: a.kind.as_str().to_owned(),
        email_verified: a.email_verified,
        created_at: iso_utc(a.created_at),
    })
}

/// **(Quiver)** The caller's account.
#[utoipa::path(get, path = "/account", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = Account),
    ))]
async fn get_account(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<JsonResponse<Account>> {
    load(&state, &who).await.map(JsonResponse)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AccountPatch {
    display_name: Option<String>,
    /// A new address: it replaces the current one only once the link e-mailed to it is
    /// followed (`POST /signup/verify`).
    email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatchedAccount {
    #[serde(flatten)]
    account: Account,
    /// True when a link was e-mailed to the new address.
    email_change_pending: bool,
}

/// **(Quiver)** Change the display name, or ask to change the address.
#[utoipa::path(patch, path = "/account", tag = "accounts", security(("bearer" = [])),
    request_body = AccountPatch,
    responses(
        (status = 200, body = PatchedAccount),
        (status = 403, body = Problem, description = "`insufficient_scope`: API keys cannot change the account"),
        (status = 422, body = Unprocessable, description = "A bad display name or address"),
        (status = 429, body = Problem, description = "`too_many_emails`, with Retry-After"),
    ))]
async fn patch_account(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    LoggedIn(who): LoggedIn,
    Json(body): Json<AccountPatch>,
) -> ApiResult<JsonResponse<PatchedAccount>> {
    let name = body
        .display_name
        .as_deref()
        .map(|n| {
            joining::display_name(params::at_most_chars(
                "body",
                "display_name",
                n,
                MAX_TEXT_CHARS,
            )?)
        })
        .transpose()?;
    let email = body
        .email
        .as_deref()
        .map(|e| {
            joining::email_address(
                "email",
                params::at_most_chars("body", "email", e, MAX_USERNAME_CHARS)?,
            )
        })
        .transpose()?
        .filter(|e| *e != who.email);
    if let Some(name) = &name {
        state.db.set_display_name(&who.account_id, name).await?;
    }
    let mut pending = false;
    if let Some(email) = email {
        joining::throttle(&state, "email_change", &peer.ip().to_string(), &email).await?;
        pending = true;
        // A taken address gets the same answer and no link: the change could never succeed.
        if state.db.account_by_email(&email).await?.is_none() {
            let now = now_ms();
            state
                .db
                .retire_account_tokens(&who.account_id, Purpose::EmailChange, now)
                .await?;
            let (token, hash) = link_token();
            let current = load(&state, &who).await?;
            let link = state.joining.app_link("verify", &token);
            let outbox = &state.joining.outbox;
            let out = outbox.prepare(
                &email,
                templates::email_change(&current.display_name, &link),
            );
            let t = NewAccountToken {
                hash: &hash,
                account_id: &who.account_id,
                purpose: Purpose::EmailChange,
                email: &email,
                expires_at: now + VERIFY_TTL.as_millis() as i64,
                now,
            };
            state.db.insert_account_token(&t, out.row()).await?;
            outbox.queued(out);
        }
    }
    Ok(JsonResponse(PatchedAccount {
        account: load(&state, &who).await?,
        email_change_pending: pending,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    current_password: String,
    /// At least 10 characters, and not easy to guess.
    new_password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// How many other sessions were ended (this one stays).
    other_sessions_ended: usize,
}

/// **(Quiver)** Change the password, knowing the current one. Every other session ends.
#[utoipa::path(post, path = "/account/password", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, body = PasswordChanged),
        (status = 400, body = Problem, description = "`wrong_password`"),
        (status = 403, body = Problem, description = "`insufficient_scope`: API keys cannot change the password"),
        (status = 422, body = Unprocessable, description = "`weak_password` (with the reason), or a field is missing"),
        (status = 503, body = Problem, description = "`server_busy`, with Retry-After"),
    ))]
async fn change_password(
    State(state): State<AppState>,
    LoggedIn(who): LoggedIn,
    Json(body): Json<PasswordChange>,
) -> ApiResult<JsonResponse<PasswordChanged>> {
    let account = state
        .db
        .account_by_id(&who.account_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    params::at_most_chars(
        "body",
        "current_password",
        &body.current_password,
        MAX_SECRET_CHARS,
    )?;
    params::at_most_chars("body", "new_password", &body.new_password, MAX_SECRET_CHARS)?;
    joining::check_password(&body.new_password, &[&account.email, &account.display_name])?;
    let busy = || ApiError::ServerBusy {
        retry_after: std::time::Duration::from_secs(1),
    };
    let ticket = state.login_throttle.checks.admit().ok_or_else(busy)?;
    let ok = ticket
        .verify(body.current_password, Some(account.password_hash))
        .await
        .map_err(|_| busy())?;
    if !ok {
        return Err(ApiError::WrongPassword);
    }
    let hash = joining::hash(&state, &body.new_password).await?;
    state.db.set_password_hash(&who.account_id, &hash).await?;
    let current = state
        .db
        .token_by_hash(&who.token_hash)
        .await?
        .map(|t| t.family);
    let now = now_ms();
    let mut ended = 0;
    for s in state.db.live_sessions(&who.account_id, now).await? {
        if Some(&s.family) != current.as_ref() {
            let hashes = state.db.revoke_family(&s.family, now).await?;
            state.tokens.evict(&hashes);
            ended += 1;
        }
    }
    Ok(JsonResponse(PasswordChanged {
        other_sessions_ended: ended,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// Use with `DELETE /account/sessions/{id}`.
    id: String,
    /// ISO 8601 UTC: the login.
    created_at: String,
    /// ISO 8601 UTC: the login or the latest refresh.
    last_used_at: String,
    client_address: String,
    user_agent: String,
    /// The session of the token this request came with.
    current: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Sessions {
    sessions: Vec<Session>,
}

/// **(Quiver)** The account's sessions (one per login), newest first.
#[utoipa::path(get, path = "/account/sessions", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = Sessions),
    ))]
async fn list_sessions(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<JsonResponse<Sessions>> {
    let current = state
        .db
        .token_by_hash(&who.token_hash)
        .await?
        .map(|t| t.family);
    let rows = state.db.live_sessions(&who.account_id, now_ms()).await?;
    Ok(JsonResponse(Sessions {
        sessions: rows
            .into_iter()
            .map(|s| Session {
                current: Some(&s.family) == current.as_ref(),
                id: s.family,
                created_at: iso_utc(s.created_at),
                last_used_at: iso_utc(s.last_used_at),
                client_address: s.client_ip,
                user_agent: s.user_agent,
            })
            .collect(),
    }))
}

/// **(Quiver)** End one session: its access and refresh tokens stop working at once.
#[utoipa::path(delete, path = "/account/sessions/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "A session id from `GET /account/sessions`")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, body = Problem, description = "`insufficient_scope`: API keys cannot end sessions"),
        (status = 404, body = Problem, description = "`not_found`: no such session of yours"),
    ))]
async fn end_session(
    State(state): State<AppState>,
    LoggedIn(who): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state.db.session_of(&who.account_id, &id).await? {
        return Err(ApiError::NotFound(format!("Session not found: '{id}'")));
    }
    let hashes = state.db.revoke_family(&id, now_ms()).await?;
    state.tokens.evict(&hashes);
    Ok(StatusCode::NO_CONTENT)
}
