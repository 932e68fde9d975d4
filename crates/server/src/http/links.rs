//! Attribution links: creation, listing, lookup, pause/resume and rename, plus the
//! legacy `GET /get_single_link` and `GET /get_affiliateID`.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quiver_domain::{Asin, LinkName};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::Publisher;
use crate::http::extract::{Json, Query};
use crate::http::objects::new_link::parse_new_link;
use crate::http::objects::source::{body_label, query_label};
use crate::http::paging::{self, Keyset, Numbered, PaginationInfo};
use crate::http::params::{self, marketplace_selector, required_asin};
use crate::linking::{self, Begun, Replay, Stored};
use crate::objects::link::Link;
use crate::state::AppState;
use crate::store::links::{LinkChange, LinkFilter, LinkRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(generate))
        .routes(routes!(get_all_links))
        .routes(routes!(get_link, patch_link))
        .routes(routes!(get_single_link))
        .routes(routes!(get_affiliate_id))
}

/// 201 with the link's JSON as stored for replays, and its `Location`.
fn created_response(link_id: &str, body: String) -> Response {
    let mut response = (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("/links/{link_id}")) {
        response.headers_mut().insert(header::LOCATION, loc);
    }
    response
}

/// The body of `POST /generate_attribution_link`. Unknown fields are ignored, except the
/// retired `geo` (400 `geo_retired`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GenerateLinkBody {
    /// The product's ASIN; case does not matter.
    #[schema(example = "B0D45KS7QM", pattern = "^[A-Za-z0-9]{10}$")]
    pub asin: String,
    /// 1–200 characters after trimming; defaults to the ASIN.
    #[schema(
        example = "spring-2026-yt-campaign",
        min_length = 1,
        max_length = 200,
        pattern = "\\S"
    )]
    pub link_name: Option<String>,
    /// Where the link sends shoppers. Default `amazon.com`.
    #[schema(
        example = "amazon.de",
        pattern = "^amazon\\.(com|ca|com\\.mx|co\\.uk|de|fr|it|es|nl)$"
    )]
    pub marketplace: Option<String>,
    /// **(Quiver)** Where the link is posted: 1–64 letters, digits, `.`, `_`, `-`.
    #[schema(
        example = "youtube",
        max_length = 64,
        pattern = "^[A-Za-z0-9._-]{1,64}$"
    )]
    pub source: Option<String>,
    /// **(Quiver)** Your own sub-identifier, same rule as `source`.
    #[schema(
        example = "video-2026-12",
        max_length = 64,
        pattern = "^[A-Za-z0-9._-]{1,64}$"
    )]
    pub sub_id: Option<String>,
}

/// Create an attribution link for one ASIN on one marketplace.
///
/// Checks, in order: malformed body or ASIN (422), unsupported marketplace (400), product
/// not in the catalog for that marketplace (404), brand not giving this account access
/// (403), Amazon unreachable with no valid cached tag (503 with Retry-After; nothing is
/// stored). **(Quiver)** `Idempotency-Key`: a retry with the same key and body within 24 h
/// returns the first response; the same key with another body is 422.
#[utoipa::path(post, path = "/generate_attribution_link", tag = "links", security(("bearer" = [])),
    request_body = GenerateLinkBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1–255 characters, scoped to your account, kept 24 hours")),
    responses(
        (status = 201, body = Link, description = "Created", headers(("Location" = String, description = "/links/{id}"))),
        (status = 400, body = Problem, description = "`unsupported_marketplace` or `geo_retired`"),
        (status = 403, body = Problem, description = "`brand_access_denied`, `wrong_account_type`, **(Quiver)** `email_not_verified` (verify the address first; `POST /signup/resend` sends a new link) or `insufficient_scope` (a read-only API key)"),
        (status = 404, body = Problem, description = "`product_not_found`"),
        (status = 409, body = Problem, description = "**(Quiver)** `brand_not_connected`: the brand has no Amazon Attribution account in that region"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "Malformed body, `invalid_asin` or `idempotency_key_reused` (these two as `{detail, code}`)"),
        (status = 429, body = Problem, description = "`quota_exceeded`: the account's links per 24 hours are used up, with Retry-After"),
        (status = 503, body = Problem, description = "`amazon_unavailable`, with Retry-After"),
    ))]
async fn generate(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let req = parse_new_link(&body)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str().map(str::trim) {
            Ok(k) if !k.is_empty() && k.len() <= 255 => Some(k.to_owned()),
            _ => {
                return Err(ApiError::validation(
                    "header",
                    "Idempotency-Key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    "value_error",
                ));
            }
        },
    };
    let pending = match linking::begin(&state, &who, &req, key.as_deref()).await? {
        Begun::Ready(pending) => *pending,
        Begun::Replayed(Replay { link_id, body }) => return Ok(created_response(&link_id, body)),
    };
    // Rendered as stored: this is also what a retry with the same key gets back.
    let render = |l: &LinkRow| Ok(serde_json::to_string(&Link::from_row(l, &state, (0, 0)))?);
    match pending.store(&state, render).await? {
        (Stored::Created(link), body) => {
            state.webhooks.wake.notify_one();
            Ok(created_response(&link.id, body))
        }
        (Stored::Replayed(Replay { link_id, body }), _) => Ok(created_response(&link_id, body)),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinksQuery {
    /// A marketplace, or `all`. Default `amazon.com`.
    #[param(pattern = "^(all|amazon\\.(com|ca|com\\.mx|co\\.uk|de|fr|it|es|nl))$")]
    marketplace: Option<String>,
    /// Legacy alternative to `marketplace`.
    #[param(pattern = "^(US|CA|MX|UK|GB|DE|FR|IT|ES|NL)$")]
    country_code: Option<String>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// 1-based page.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<i64>,
    /// `next_cursor` of the previous page (takes precedence over `page`).
    cursor: Option<String>,
    /// Case-insensitive substring of the link name (at most 200 characters).
    #[param(max_length = 200)]
    link_name: Option<String>,
    #[param(pattern = "^[A-Za-z0-9]{10}$")]
    asin: Option<String>,
    /// `true` or `false`.
    #[param(pattern = "^(true|false)$")]
    active: Option<String>,
    /// **(Quiver)** `false` (default): links in use; `true`: archived links only; `all`: both.
    #[param(pattern = "^(true|false|all)$")]
    archived: Option<String>,
    /// **(Quiver)** Links with this `source` only.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    source: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct LinkPosition {
    /// Id of the last link shown; links are ordered by id, newest first.
    after: String,
    /// How many links came before this page, for `pagination_info`.
    offset: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LinksPage {
    total_count: i64,
    fetched_count: usize,
    all_links: Vec<Link>,
    pagination_info: PaginationInfo,
    next_cursor: Option<String>,
}

/// The caller's links, newest first. A page past the end is an empty list, never an error.
#[utoipa::path(get, path = "/get_all_links", tag = "links", params(LinksQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = LinksPage),
        (status = 400, body = Problem, description = "`unsupported_marketplace`"),
        (status = 422, body = Unprocessable, description = "Bad `limit`, `page`, `cursor`, `active`, `link_name` over 200 characters, or `invalid_asin`"),
    ))]
async fn get_all_links(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<LinksQuery>,
) -> ApiResult<JsonResponse<LinksPage>> {
    let selector = marketplace_selector(q.marketplace.as_deref(), q.country_code.as_deref(), true)?;
    let limit = paging::limit(q.limit)?;
    let asin = params::text(q.asin.as_deref())
        .map(Asin::parse)
        .transpose()?;
    let source = query_label("source", q.source.as_deref())?;
    let filter = LinkFilter {
        source: source.as_deref(),
        marketplace: params::only(selector),
        asin: asin.as_ref().map(Asin::as_str),
        active: params::boolean("active", q.active.as_deref())?,
        name_contains: params::filter(
            "link_name",
            q.link_name.as_deref(),
            params::MAX_LINK_NAME_CHARS,
        )?,
        archived: archived_filter(q.archived.as_deref())?,
    };
    let mut keyset = Keyset::<LinkPosition>::new(&state.cursor_key, limit, q.cursor.as_deref())?;
    let (after, offset, skip) = match keyset.after.take() {
        Some(pos) => (Some(pos.after), paging::cursor_offset(pos.offset)?, 0),
        None => {
            let offset = paging::offset(None, q.page, limit)?;
            (None, offset, offset)
        }
    };
    let (total, mut rows) = state
        .db
        .list_links(
            &who.account_id,
            &filter,
            after.as_deref(),
            skip,
            keyset.fetch(),
        )
        .await?;
    // A next page exists only after a full one, so it starts `limit` rows further on.
    let next_cursor = keyset.next_cursor(&mut rows, |last| LinkPosition {
        after: last.id.clone(),
        offset: offset + limit,
    });
    Ok(JsonResponse(LinksPage {
        total_count: total,
        fetched_count: rows.len(),
        all_links: Link::from_rows(&rows, &state).await?,
        pagination_info: Numbered { limit, offset }.info(rows.len(), total),
        next_cursor,
    }))
}

/// `archived=` of `/get_all_links`: absent means links in use only.
fn archived_filter(raw: Option<&str>) -> ApiResult<Option<bool>> {
    match params::text(raw) {
        Some(v) if v.eq_ignore_ascii_case("all") => Ok(None),
        Some(v) => Ok(Some(params::boolean("archived", Some(v))?.unwrap_or(false))),
        None => Ok(Some(false)),
    }
}

fn link_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Link not found: {id}"))
}

/// **(Quiver)** One of the caller's links (another account's id is a 404).
#[utoipa::path(get, path = "/links/{id}", tag = "links", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Link),
        (status = 404, body = Problem, description = "`not_found`"),
    ))]
async fn get_link(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<Link>> {
    let link = state
        .db
        .link_of(&who.account_id, &id)
        .await?
        .ok_or_else(|| link_not_found(&id))?;
    Ok(JsonResponse(Link::one(&link, &state).await?))
}

/// Give at least one of the three.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PatchLinkBody {
    /// `false` pauses reporting for the link after today (UTC); `true` resumes.
    pub active: Option<bool>,
    /// 1–200 characters after trimming.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub link_name: Option<String>,
    /// `true` archives the link (hidden from `/get_all_links` by default; it keeps working
    /// and reporting), `false` restores it.
    pub archived: Option<bool>,
    /// **(Quiver)** Sets the link's source (1–64 letters, digits, `.`, `_`, `-`); `null`
    /// clears it.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub source: Option<String>,
    /// **(Quiver)** Sets or (`null`) clears the sub-identifier.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub sub_id: Option<String>,
}

/// **(Quiver)** Pause or resume a link, rename it, archive and restore it, or set its
/// `source` and `sub_id`. The URL and the short URL never change.
#[utoipa::path(patch, path = "/links/{id}", tag = "links", params(("id" = String, Path)), security(("bearer" = [])),
    request_body = PatchLinkBody,
    responses(
        (status = 200, body = Link),
        (status = 404, body = Problem, description = "`not_found`"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable),
    ))]
async fn patch_link(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<JsonResponse<Link>> {
    let obj = params::object(&body)?;
    let flag = |name: &str| match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::validation(
            "body",
            name,
            "Input should be a valid boolean",
            "bool_type",
        )),
    };
    let active = flag("active")?;
    let archived = flag("archived")?;
    let link_name = match obj.get("link_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(LinkName::parse(s).map_err(|e| {
            ApiError::validation("body", "link_name", e.to_string(), "string_length")
        })?),
        Some(_) => {
            return Err(ApiError::validation(
                "body",
                "link_name",
                "Input should be a valid string",
                "string_type",
            ));
        }
    };
    // Present (even null) means change: null clears the label.
    let source = obj
        .contains_key("source")
        .then(|| body_label(obj, "source"))
        .transpose()?;
    let sub_id = obj
        .contains_key("sub_id")
        .then(|| body_label(obj, "sub_id"))
        .transpose()?;
    if active.is_none()
        && link_name.is_none()
        && archived.is_none()
        && source.is_none()
        && sub_id.is_none()
    {
        return Err(ApiError::validation(
            "body",
            "__root__",
            "Give at least one of active, link_name, archived, source, sub_id",
            "missing",
        ));
    }
    let change = LinkChange {
        active,
        link_name: link_name.as_ref().map(LinkName::as_str),
        archived,
        source: source.as_ref().map(Option::as_deref),
        sub_id: sub_id.as_ref().map(Option::as_deref),
    };
    // Clicks do not change with the update: read first, so the webhook event carries the
    // same object this answer does.
    let clicks = state
        .db
        .click_totals(
            std::slice::from_ref(&id),
            crate::store::clicks::day_ago(now_ms()),
        )
        .await?
        .get(&id)
        .copied()
        .unwrap_or_default();
    let render =
        |l: &LinkRow| serde_json::to_value(Link::from_row(l, &state, clicks)).unwrap_or_default();
    let link = state
        .db
        .update_link(&who.account_id, &id, &change, now_ms(), render)
        .await?
        .ok_or_else(|| link_not_found(&id))?;
    state.webhooks.wake.notify_one();
    Ok(JsonResponse(Link::from_row(&link, &state, clicks)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SingleLinkQuery {
    #[param(required = true, pattern = "^[A-Za-z0-9]{10}$")]
    asin: Option<String>,
}

/// Legacy: the caller's newest link for an ASIN.
#[utoipa::path(get, path = "/get_single_link", tag = "links", params(SingleLinkQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Link),
        (status = 404, body = Problem, description = "`not_found`"),
        (status = 422, body = Unprocessable, description = "`invalid_asin`, or a validation body when `asin` is missing"),
    ))]
async fn get_single_link(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<SingleLinkQuery>,
) -> ApiResult<JsonResponse<Link>> {
    let asin = required_asin(q.asin.as_deref())?;
    let filter = LinkFilter {
        asin: Some(asin.as_str()),
        ..LinkFilter::default()
    };
    let (_, rows) = state
        .db
        .list_links(&who.account_id, &filter, None, 0, 1)
        .await?;
    let link = rows
        .first()
        .ok_or_else(|| ApiError::NotFound(format!("No link found for ASIN {asin}")))?;
    Ok(JsonResponse(Link::one(link, &state).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AffiliateId {
    #[schema(example = "aff_demo_creator")]
    affiliate_id: String,
}

/// Legacy: the caller's public affiliate id (brands see it in their reports).
#[utoipa::path(get, path = "/get_affiliateID", tag = "links", security(("bearer" = [])),
    responses(
        (status = 200, body = AffiliateId),
    ))]
async fn get_affiliate_id(Publisher(who): Publisher) -> JsonResponse<AffiliateId> {
    JsonResponse(AffiliateId {
        affiliate_id: who.public_id,
    })
}
