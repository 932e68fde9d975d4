//! **(Quiver)** Opening and accepting a brand's invitation, with an account made on the
//! spot or the caller's own.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::request::Parts;
use quiver_domain::AccountKind;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, authenticate};
use crate::http::params::{self, MAX_SECRET_CHARS, MAX_TEXT_CHARS};
use crate::joining::{self, SignupMode};
use crate::state::AppState;
use crate::store::StoreError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lookup))
        .routes(routes!(accept))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LookupBody {
    /// The token of the e-mailed link.
    token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    brand_id: String,
    brand_name: String,
    /// The address invited.
    email: String,
    message: String,
    /// Whether that address already has an account (then: log in and accept).
    account_exists: bool,
}

/// **(Quiver)** What an invitation link is for, before accepting it.
#[utoipa::path(post, path = "/invitations/lookup", tag = "accounts", request_body = LookupBody,
    responses(
        (status = 200, body = InvitationView),
        (status = 400, body = Problem, description = "`invalid_link` or `invitation_used` (already accepted)"),
        (status = 410, body = Problem, description = "`invitation_unavailable`: expired or withdrawn"),
    ))]
async fn lookup(
    State(state): State<AppState>,
    Json(body): Json<LookupBody>,
) -> ApiResult<JsonResponse<InvitationView>> {
    params::at_most_chars("body", "token", &body.token, MAX_SECRET_CHARS)?;
    let row = crate::invitations::open(&state, &body.token).await?;
    let account_exists = state.db.account_by_email(&row.email).await?.is_some();
    Ok(JsonResponse(InvitationView {
        brand_id: row.brand_id,
        brand_name: row.brand_name,
        email: row.email,
        message: row.message,
        account_exists,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptBody {
    token: String,
    /// Without a bearer token: the password of the account created for the invited address.
    password: Option<String>,
    /// Without a bearer token: the new account's display name.
    display_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    brand_id: String,
    brand_name: String,
    /// The creator's public affiliate id.
    creator: String,
    /// True when the account was created by this request (log in with its password).
    account_created: bool,
}

/// **(Quiver)** Accept an invitation: as the logged-in publisher (bearer token), or by
/// creating an account for the invited address (`password`, `display_name`; works in
/// `invite` mode). Grants access to the brand, with the invitation's commission.
#[utoipa::path(post, path = "/invitations/accept", tag = "accounts", request_body = AcceptBody,
    responses(
        (status = 200, body = Accepted),
        (status = 400, body = Problem, description = "`invalid_link`, or `invitation_used` (accepted already)"),
        (status = 401, body = Problem, description = "`invalid_token`"),
        (status = 403, body = Problem, description = "`wrong_account_type` (sellers cannot accept), or `signup_closed`: log in to accept"),
        (status = 409, body = Problem, description = "`account_exists`: log in with that account, then accept"),
        (status = 503, body = Problem, description = "`server_busy`: too many passwords are being checked or hashed at once; with Retry-After"),
        (status = 410, body = Problem, description = "`invitation_unavailable`: expired or withdrawn"),
        (status = 422, body = Unprocessable, description = "`weak_password`, or a missing password or display name"),
    ))]
async fn accept(
    State(state): State<AppState>,
    parts: Parts,
    Json(body): Json<AcceptBody>,
) -> ApiResult<JsonResponse<Accepted>> {
    params::at_most_chars("body", "token", &body.token, MAX_SECRET_CHARS)?;
    let row = crate::invitations::open(&state, &body.token).await?;
    let (account_id, creator, created) = if parts.headers.contains_key("authorization") {
        let who = authenticate(&state, &parts).await?;
        if who.kind != AccountKind::Publisher {
            return Err(ApiError::WrongAccountType(
                "Invitations are for publisher accounts: log in as the creator",
            ));
        }
        (who.account_id, who.public_id, false)
    } else {
        if state.joining.settings.mode == SignupMode::Closed {
            return Err(ApiError::SignupClosed(
                "New accounts cannot be created here: log in to an existing account, then accept",
            ));
        }
        let (Some(password), Some(name)) = (&body.password, &body.display_name) else {
            let mut missing = Vec::new();
            if body.password.is_none() {
                missing.push(crate::error::FieldError::missing("body", "password"));
            }
            if body.display_name.is_none() {
                missing.push(crate::error::FieldError::missing("body", "display_name"));
            }
            return Err(ApiError::Validation(missing));
        };
        let name = params::at_most_chars("body", "display_name", name, MAX_TEXT_CHARS)?;
        let name = joining::display_name(name)?;
        params::at_most_chars("body", "password", password, MAX_SECRET_CHARS)?;
        joining::check_password(password, &[&row.email, &name])?;
        let exists =
            || ApiError::AccountExists("An account with this address exists: log in, then accept");
        if state.db.account_by_email(&row.email).await?.is_some() {
            return Err(exists());
        }
        let hash = joining::hash(&state, password).await?;
        // The link reached the address: the new account is verified.
        let id = crate::accounts::insert_account(
            &state.db,
            &crate::login::normalise_username(&row.email),
            &hash,
            AccountKind::Publisher,
            &name,
            None,
        )
        .await
        .map_err(|e| match e {
            crate::accounts::AccountsError::Exists(_)
            | crate::accounts::AccountsError::Store(StoreError::Conflict) => exists(),
            other => ApiError::Internal(other.into()),
        })?;
        let account = state.db.account_by_id(&id).await?.ok_or_else(exists)?;
        (id, account.public_id, true)
    };
    crate::invitations::accept(&state, &row, &account_id).await?;
    Ok(JsonResponse(Accepted {
        brand_id: row.brand_id,
        brand_name: row.brand_name,
        creator,
        account_created: created,
    }))
}
