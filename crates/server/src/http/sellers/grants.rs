//! Who may promote a seller's brand: grants by creator, given and revoked by the seller.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quiver_domain::AccountKind;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::{actor, own_brand};
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Seller;
use crate::http::extract::{Json, Query};
use crate::http::paging::{self, Keyset};
use crate::http::params;
use crate::objects::grant::{self, Grant};
use crate::state::AppState;
use crate::store::sellers::Change;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_grants, post_grant))
        .routes(routes!(put_grant, delete_grant))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantsQuery {
    /// `true`: only grants in force; `false`: only revoked ones. Default: both.
    active: Option<String>,
    /// 1–500, default 100.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct GrantPosition {
    creator: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GrantsPage {
    total_count: i64,
    fetched_count: usize,
    grants: Vec<Grant>,
    next_cursor: Option<String>,
}

/// **(Quiver)** Who has been granted access to one of your brands (active and revoked), by creator id.
#[utoipa::path(get, path = "/sellers/brands/{brand_id}/grants", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands"), GrantsQuery),
    responses(
        (status = 200, body = GrantsPage),
        (status = 404, body = Problem, description = "`brand_not_found`"),
        (status = 422, body = Unprocessable, description = "Bad `active`, `limit` or `cursor`"),
    ))]
async fn list_grants(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
    Query(q): Query<GrantsQuery>,
) -> ApiResult<JsonResponse<GrantsPage>> {
    let limit = paging::limit(q.limit)?;
    let active = params::boolean("active", q.active.as_deref())?;
    let page = Keyset::<GrantPosition>::new(&state.cursor_key, limit, q.cursor.as_deref())?;
    let brand = own_brand(&state, &who, &brand_id).await?;
    let (total, mut rows) = state
        .db
        .brand_grants(
            &brand.id,
            active,
            page.after.as_ref().map(|p| p.creator.as_str()),
            page.fetch(),
        )
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |g| GrantPosition {
        creator: g.public_id.clone(),
    });
    Ok(JsonResponse(GrantsPage {
        total_count: total,
        fetched_count: rows.len(),
        grants: rows.iter().map(Grant::from_row).collect(),
        next_cursor,
    }))
}

/// A grant's address: one of the seller's brands and a creator.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GrantPath {
    /// One of your brands
    brand_id: String,
    /// The publisher's public affiliate id
    #[param(example = "aff_demo_creator2")]
    creator: String,
}

/// The account of the creator a grant is for, once the brand is known to be the
/// caller's; 404 for another seller's brand or an id no publisher has.
async fn grantee(state: &AppState, who: &Principal, path: &GrantPath) -> ApiResult<String> {
    own_brand(state, who, &path.brand_id).await?;
    state
        .db
        .account_by_public_id(path.creator.trim())
        .await?
        .filter(|a| a.kind == AccountKind::Publisher)
        .map(|a| a.id)
        .ok_or_else(|| ApiError::CreatorNotFound {
            creator: path.creator.clone(),
        })
}

/// **(Quiver)** Grant a creator access to one of your brands.
///
/// Idempotent: 201 when access is (re)granted, 200 when the creator already had it (nothing
/// written). A grant matters while the brand is in `approval` mode; it is kept if the brand
/// is open. Audited.
#[utoipa::path(put, path = "/sellers/brands/{brand_id}/grants/{creator}", tag = "sellers", security(("bearer" = [])),
    params(GrantPath),
    responses(
        (status = 200, body = Grant, description = "Already granted; unchanged"),
        (status = 201, body = Grant, description = "Granted"),
        (status = 404, body = Problem, description = "`brand_not_found`, or `creator_not_found` (no publisher has that id)"),
    ))]
async fn put_grant(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(path): Path<GrantPath>,
) -> ApiResult<(StatusCode, JsonResponse<Grant>)> {
    let account = grantee(&state, &who, &path).await?;
    match state
        .db
        .grant_access(actor(&who), &path.brand_id, &account, now_ms())
        .await?
    {
        Change::NotFound => Err(ApiError::BrandNotFound {
            brand: path.brand_id,
        }),
        Change::Unchanged(g) => Ok((StatusCode::OK, JsonResponse(Grant::from_row(&g)))),
        Change::Changed(g) => Ok((StatusCode::CREATED, JsonResponse(Grant::from_row(&g)))),
    }
}

/// **(Quiver)** Whom to grant: a creator named by exactly one of the two.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewGrant {
    /// The creator's public affiliate id.
    #[schema(example = "aff_demo_creator2", max_length = 200)]
    creator: Option<String>,
    /// The e-mail address the creator logs in with.
    #[schema(example = "creator2@example.com", max_length = 320)]
    email: Option<String>,
}

/// **(Quiver)** Grant a creator access to one of your brands by their affiliate id or their
/// e-mail address.
///
/// As `PUT /sellers/brands/{brand_id}/grants/{creator}`: 201 when access is (re)granted,
/// 200 when the creator already had it. An address no creator account has answers 404
/// `creator_not_found` (so a brand learns only whether a creator it names exists, which it
/// needs to grant them). Audited.
#[utoipa::path(post, path = "/sellers/brands/{brand_id}/grants", tag = "sellers", security(("bearer" = [])),
    params(("brand_id" = String, Path, description = "One of your brands")),
    request_body = NewGrant,
    responses(
        (status = 200, body = Grant, description = "Already granted; unchanged"),
        (status = 201, body = Grant, description = "Granted"),
        (status = 404, body = Problem, description = "`brand_not_found`, or `creator_not_found` (no creator has that id or address)"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "Neither or both of `creator` and `email`, one over its length limit, or a malformed body"),
    ))]
async fn post_grant(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(brand_id): Path<String>,
    Json(body): Json<NewGrant>,
) -> ApiResult<(StatusCode, JsonResponse<Grant>)> {
    let creator = params::text(body.creator.as_deref());
    let email = params::text(body.email.as_deref());
    let account = match (creator, email) {
        (Some(creator), None) => {
            params::at_most_chars("body", "creator", creator, params::MAX_TEXT_CHARS)?;
            state.db.account_by_public_id(creator).await?
        }
        (None, Some(email)) => {
            params::at_most_chars("body", "email", email, params::MAX_USERNAME_CHARS)?;
            state.db.account_by_email(&email.to_lowercase()).await?
        }
        _ => {
            return Err(ApiError::validation(
                "body",
                "creator",
                "Give exactly one of `creator` (affiliate id) and `email`",
                "value_error",
            ));
        }
    };
    own_brand(&state, &who, &brand_id).await?;
    let account = account
        .filter(|a| a.kind == AccountKind::Publisher && a.disabled_at.is_none())
        .map(|a| a.id)
        .ok_or_else(|| ApiError::CreatorNotFound {
            creator: creator.or(email).unwrap_or_default().to_owned(),
        })?;
    match state
        .db
        .grant_access(actor(&who), &brand_id, &account, now_ms())
        .await?
    {
        Change::NotFound => Err(ApiError::BrandNotFound { brand: brand_id }),
        Change::Unchanged(g) => Ok((StatusCode::OK, JsonResponse(Grant::from_row(&g)))),
        Change::Changed(g) => Ok((StatusCode::CREATED, JsonResponse(Grant::from_row(&g)))),
    }
}

/// **(Quiver)** Revoke a creator's access to one of your brands.
///
/// From now on the creator's new links for the brand are refused (403) while it is in
/// `approval` mode; links they already made keep working for shoppers and stay in their
/// listings. Revoking an already revoked grant answers 200 with it and writes nothing.
/// Audited.
#[utoipa::path(delete, path = "/sellers/brands/{brand_id}/grants/{creator}", tag = "sellers", security(("bearer" = [])),
    params(GrantPath),
    responses(
        (status = 200, body = Grant, description = "The grant, now revoked"),
        (status = 404, body = Problem, description = "`brand_not_found`, `creator_not_found`, or `grant_not_found` (the creator never had access)"),
    ))]
async fn delete_grant(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(path): Path<GrantPath>,
) -> ApiResult<JsonResponse<Grant>> {
    let account = grantee(&state, &who, &path).await?;
    match state
        .db
        .revoke_access(
            actor(&who),
            &path.brand_id,
            &account,
            now_ms(),
            &grant::data,
        )
        .await?
    {
        Change::NotFound => Err(ApiError::GrantNotFound {
            creator: path.creator,
            brand: path.brand_id,
        }),
        Change::Unchanged(g) | Change::Changed(g) => Ok(JsonResponse(Grant::from_row(&g))),
    }
}
