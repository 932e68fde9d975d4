//! **(Quiver)** Joining without an operator: `POST /signup`, verifying the address, and
//! forgotten passwords. Every answer that could tell whether an address has an account
//! is the same either way.

use std::net::SocketAddr;

use axum::Json as JsonResponse;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use quiver_domain::AccountKind;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::new_public_id;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, authenticate};
use crate::http::params::{self, MAX_SECRET_CHARS, MAX_TEXT_CHARS, MAX_USERNAME_CHARS};
use crate::joining::{self, RESET_TTL, SignupMode, VERIFY_TTL, link_token};
use crate::mail::templates;
use crate::state::AppState;
use crate::store::accounts::NewAccount;
use crate::store::signup::{NewAccountToken, Purpose, TokenRefusal};
use crate::store::{StoreError, now_ms};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(verify))
        .routes(routes!(resend))
        .routes(routes!(forgot))
        .routes(routes!(reset))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignupBody {
    #[schema(example = "new.creator@example.com")]
    email: String,
    /// At least 10 characters, and not easy to guess.
    password: String,
    #[schema(example = "New Creator")]
    display_name: String,
    /// `publisher` (the default) or `seller`, when the operator allows sellers to sign up.
    kind: Option<String>,
}

/// The answer to every request that sends an e-mail: the same whoever the address is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    detail: &'static str,
}

const SIGNUP_SENT: Accepted = Accepted {
    detail: "Check your inbox: we sent a link to confirm the address. You can log in already.",
};

/// **(Quiver)** Create a publisher account and e-mail a link confirming the address.
///
/// An address that already has an account gets the same answer, and an e-mail saying so
/// instead. Allowed by `QUIVER_SIGNUP=open`; sellers also need `QUIVER_SIGNUP_SELLERS=1`.
#[utoipa::path(post, path = "/signup", tag = "accounts", request_body = SignupBody,
    responses(
        (status = 202, body = Accepted, description = "Verification e-mail sent"),
        (status = 403, body = Problem, description = "`signup_closed`: sign-up is closed, by invitation only, or not for sellers"),
        (status = 422, body = Unprocessable, description = "`weak_password` (with the reason), or a bad e-mail address or display name"),
        (status = 429, body = Problem, description = "`too_many_emails`, with Retry-After"),
        (status = 503, body = Problem, description = "`server_busy`: too many passwords are being checked or hashed at once; with Retry-After"),
    ))]
async fn signup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<SignupBody>,
) -> ApiResult<(StatusCode, JsonResponse<Accepted>)> {
    let settings = &state.joining.settings;
    match settings.mode {
        SignupMode::Open => {}
        SignupMode::Invite => {
            return Err(ApiError::SignupClosed(
                "Sign-up is by invitation only: accept a brand's invitation from its e-mail",
            ));
        }
        SignupMode::Closed => {
            return Err(ApiError::SignupClosed(
                "Sign-up is closed: ask the operator for an account",
            ));
        }
    }
    let kind = match body.kind.as_deref().map(str::trim) {
        None | Some("") | Some("publisher") => AccountKind::Publisher,
        Some("seller") if settings.sellers => AccountKind::Seller,
        Some("seller") => {
            return Err(ApiError::SignupClosed(
                "Seller accounts cannot sign up here: ask the operator",
            ));
        }
        Some(_) => {
            return Err(ApiError::validation(
                "body",
                "kind",
                "kind must be 'publisher' or 'seller'",
                "value_error",
            ));
        }
    };
    let email = params::at_most_chars("body", "email", &body.email, MAX_USERNAME_CHARS)?;
    let email = joining::email_address("email", email)?;
    let name = params::at_most_chars("body", "display_name", &body.display_name, MAX_TEXT_CHARS)?;
    let name = joining::display_name(name)?;
    params::at_most_chars("body", "password", &body.password, MAX_SECRET_CHARS)?;
    joining::check_password(&body.password, &[&email, &name])?;
    joining::throttle(&state, "signup", &peer.ip().to_string(), &email).await?;
    // Hashed whether or not the address is taken, so both take the same time.
    let hash = joining::hash(&state, &body.password).await?;
    if let Some(existing) = state.db.account_by_email(&email).await? {
        // A write, as a new account's insert is one: the timing stays alike on every engine.
        state
            .db
            .retire_account_tokens(&existing.id, Purpose::Verify, now_ms())
            .await?;
        already_registered(&state, &email).await;
        return Ok((StatusCode::ACCEPTED, JsonResponse(SIGNUP_SENT)));
    }
    let id = Uuid::now_v7().to_string();
    let public_id = new_public_id(kind);
    let now = now_ms();
    let created = state
        .db
        .insert_unverified_account(&NewAccount {
            id: &id,
            public_id: &public_id,
            email: &email,
            kind,
            display_name: &name,
            password_hash: &hash,
            created_at: now,
        })
        .await;
    match created {
        Ok(()) => send_verification(&state, &id, &email, &name).await?,
        // Signed up a moment ago by a concurrent request.
        Err(StoreError::Conflict) => already_registered(&state, &email).await,
        Err(e) => return Err(e.into()),
    }
    Ok((StatusCode::ACCEPTED, JsonResponse(SIGNUP_SENT)))
}

async fn already_registered(state: &AppState, email: &str) {
    let link = format!("{}/app/#/forgot", state.joining.public_url());
    let mail = templates::already_registered(&link);
    state.joining.outbox.send(&state.db, email, mail).await;
}

/// Stores a new verification link for `email` and sends it.
pub async fn send_verification(
    state: &AppState,
    account_id: &str,
    email: &str,
    name: &str,
) -> ApiResult<()> {
    let (token, hash) = link_token();
    let now = now_ms();
    let link = state.joining.app_link("verify", &token);
    let outbox = &state.joining.outbox;
    let out = outbox.prepare(email, templates::verify(name, &link));
    let t = NewAccountToken {
        hash: &hash,
        account_id,
        purpose: Purpose::Verify,
        email,
        expires_at: now + VERIFY_TTL.as_millis() as i64,
        now,
    };
    state.db.insert_account_token(&t, out.row()).await?;
    outbox.queued(out);
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    /// The token of the e-mailed link.
    token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verified {
    verified: bool,
    /// The account's address, now verified.
    email: String,
}

fn refused(r: TokenRefusal, expired: &'static str) -> ApiError {
    match r {
        TokenRefusal::Unknown => ApiError::BadLink("This link is not valid: ask for a new one"),
        TokenRefusal::Used => ApiError::BadLink("This link was already used"),
        TokenRefusal::Expired => ApiError::LinkExpired(expired),
    }
}

/// **(Quiver)** Verify an address with the token of the e-mailed link (single use, 48 h):
/// a new account's, or a new address given with `PATCH /account`.
#[utoipa::path(post, path = "/signup/verify", tag = "accounts", request_body = TokenBody,
    responses(
        (status = 200, body = Verified),
        (status = 400, body = Problem, description = "`invalid_link`: unknown or already used"),
        (status = 409, body = Problem, description = "`email_taken`: the new address got an account meanwhile"),
        (status = 410, body = Problem, description = "`link_expired`: ask for a new one with `POST /signup/resend`"),
        (status = 422, body = Unprocessable, description = "`token` is missing"),
    ))]
async fn verify(
    State(state): State<AppState>,
    Json(body): Json<TokenBody>,
) -> ApiResult<JsonResponse<Verified>> {
    params::at_most_chars("body", "token", &body.token, MAX_SECRET_CHARS)?;
    let hash = crate::auth::token_hash(body.token.trim());
    let used = state
        .db
        .use_account_token(&hash, &[Purpose::Verify, Purpose::EmailChange], now_ms())
        .await?
        .map_err(|r| {
            refused(
                r,
                "This link has expired: ask for a new one with POST /signup/resend",
            )
        })?;
    if used.purpose == Purpose::EmailChange {
        state
            .db
            .change_email(&used.account_id, &used.email)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => {
                    ApiError::EmailTaken("Another account has this address now")
                }
                other => other.into(),
            })?;
    } else {
        state.db.mark_email_verified(&used.account_id).await?;
    }
    joining::refresh_cached(&state, &used.account_id).await?;
    Ok(JsonResponse(Verified {
        verified: true,
        email: used.email,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EmailBody {
    /// The account's address. With a bearer token it may be left out.
    email: Option<String>,
}

const RESEND_SENT: Accepted = Accepted {
    detail: "If the address has an account waiting for verification, a new link is on its way.",
};

/// **(Quiver)** Send a new verification link (the older ones stop working). Always 202,
/// whether or not the address has an unverified account.
#[utoipa::path(post, path = "/signup/resend", tag = "accounts", request_body = EmailBody,
    responses(
        (status = 202, body = Accepted),
        (status = 401, body = Problem, description = "A bearer token was given and is not valid: `invalid_token`"),
        (status = 422, body = Unprocessable, description = "No `email` and no bearer token, or a bad address"),
        (status = 429, body = Problem, description = "`too_many_emails`, with Retry-After"),
    ))]
async fn resend(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    parts: Parts,
    Json(body): Json<EmailBody>,
) -> ApiResult<(StatusCode, JsonResponse<Accepted>)> {
    let email = match (&body.email, parts.headers.contains_key("authorization")) {
        (_, true) => authenticate(&state, &parts).await?.email,
        (Some(e), false) => joining::email_address(
            "email",
            params::at_most_chars("body", "email", e, MAX_USERNAME_CHARS)?,
        )?,
        (None, false) => {
            return Err(ApiError::Validation(vec![
                crate::error::FieldError::missing("body", "email"),
            ]));
        }
    };
    joining::throttle(&state, "resend", &peer.ip().to_string(), &email).await?;
    if let Some(a) = state.db.account_by_email(&email).await?
        && !a.email_verified
        && a.disabled_at.is_none()
    {
        state
            .db
            .retire_account_tokens(&a.id, Purpose::Verify, now_ms())
            .await?;
        send_verification(&state, &a.id, &a.email, &a.display_name).await?;
    }
    Ok((StatusCode::ACCEPTED, JsonResponse(RESEND_SENT)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForgotBody {
    email: String,
}

const RESET_SENT: Accepted = Accepted {
    detail: "If the address has an account, a link to choose a new password is on its way. It works for one hour.",
};

/// **(Quiver)** E-mail a single-use link (1 h) to choose a new password. Always 202.
#[utoipa::path(post, path = "/password/forgot", tag = "accounts", request_body = ForgotBody,
    responses(
        (status = 202, body = Accepted),
        (status = 422, body = Unprocessable, description = "A bad address"),
        (status = 429, body = Problem, description = "`too_many_emails`, with Retry-After"),
    ))]
async fn forgot(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<ForgotBody>,
) -> ApiResult<(StatusCode, JsonResponse<Accepted>)> {
    let email = params::at_most_chars("body", "email", &body.email, MAX_USERNAME_CHARS)?;
    let email = joining::email_address("email", email)?;
    joining::throttle(&state, "forgot", &peer.ip().to_string(), &email).await?;
    if let Some(a) = state.db.account_by_email(&email).await?
        && a.disabled_at.is_none()
    {
        let now = now_ms();
        state
            .db
            .retire_account_tokens(&a.id, Purpose::Reset, now)
            .await?;
        let (token, hash) = link_token();
        let link = state.joining.app_link("reset", &token);
        let outbox = &state.joining.outbox;
        let out = outbox.prepare(&a.email, templates::reset(&link));
        let t = NewAccountToken {
            hash: &hash,
            account_id: &a.id,
            purpose: Purpose::Reset,
            email: &a.email,
            expires_at: now + RESET_TTL.as_millis() as i64,
            now,
        };
        state.db.insert_account_token(&t, out.row()).await?;
        outbox.queued(out);
    }
    Ok((StatusCode::ACCEPTED, JsonResponse(RESET_SENT)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetBody {
    /// The token of the e-mailed link.
    token: String,
    /// The new password: at least 10 characters, and not easy to guess.
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordSet {
    /// Every session of the account was ended: log in with the new password.
    sessions_ended: bool,
}

/// **(Quiver)** Set a new password with the token of the e-mailed link. Ends every
/// session and refresh token of the account.
#[utoipa::path(post, path = "/password/reset", tag = "accounts", request_body = ResetBody,
    responses(
        (status = 200, body = PasswordSet),
        (status = 400, body = Problem, description = "`invalid_link`: unknown or already used"),
        (status = 410, body = Problem, description = "`link_expired`: ask for a new one with `POST /password/forgot`"),
        (status = 422, body = Unprocessable, description = "`weak_password` (with the reason), or a field is missing"),
        (status = 503, body = Problem, description = "`server_busy`: too many passwords are being checked or hashed at once; with Retry-After"),
    ))]
async fn reset(
    State(state): State<AppState>,
    Json(body): Json<ResetBody>,
) -> ApiResult<JsonResponse<PasswordSet>> {
    params::at_most_chars("body", "token", &body.token, MAX_SECRET_CHARS)?;
    params::at_most_chars("body", "password", &body.password, MAX_SECRET_CHARS)?;
    // Judged before the token is spent, so a weak choice can be retried with the same link.
    joining::check_password(&body.password, &[])?;
    let hash = crate::auth::token_hash(body.token.trim());
    let now = now_ms();
    let expired = "This link has expired: ask for a new one with POST /password/forgot";
    // Checked, then hashed, then spent: a made-up link costs no hashing, and a busy
    // server (503) leaves a real one usable.
    state
        .db
        .check_account_token(&hash, &[Purpose::Reset], now)
        .await?
        .map_err(|r| refused(r, expired))?;
    let password_hash = joining::hash(&state, &body.password).await?;
    let used = state
        .db
        .use_account_token(&hash, &[Purpose::Reset], now_ms())
        .await?
        .map_err(|r| refused(r, expired))?;
    state
        .db
        .set_password_hash(&used.account_id, &password_hash)
        .await?;
    // Following the link proved the address is theirs.
    state.db.mark_email_verified(&used.account_id).await?;
    joining::end_sessions(&state, &used.account_id).await?;
    Ok(JsonResponse(PasswordSet {
        sessions_ended: true,
    }))
}
