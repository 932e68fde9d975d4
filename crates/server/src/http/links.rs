//! Attribution links: creation, listing, lookup, pause/resume and rename, plus the
//! legacy `GET /get_single_link` and `GET /get_affiliateID`.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quiver_domain::{Asin, Cursor, LinkName, Marketplace, MarketplaceSelector};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::auth::Publisher;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Json, Query};
use crate::http::catalog::marketplace_selector;
use crate::http::paging::{self, PaginationInfo};
use crate::linking::{Created, NewLink, create_link};
use crate::store::like_contains;
use crate::store::links::{LinkFilter, LinkRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/generate_attribution_link", post(generate))
        .route("/get_all_links", get(get_all_links))
        .route("/links/{id}", get(get_link).patch(patch_link))
        .route("/get_single_link", get(get_single_link))
        .route("/get_affiliateID", get(get_affiliate_id))
}

fn iso_utc(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The link object of spec §4.
pub fn link_json(l: &LinkRow) -> Value {
    let m = Marketplace::parse(&l.marketplace).unwrap_or(Marketplace::Us);
    json!({
        "id": l.id,
        "url": l.url,
        "attribution_link": l.url,
        "asin": l.asin,
        "marketplace": m.as_str(),
        "country_code": m.country_code(),
        "link_name": l.link_name,
        "type": "product",
        "active": l.active,
        "product_name": l.product_name,
        "brand_id": l.brand_id,
        "created_date_time": iso_utc(l.created_at),
    })
}

/// Validates a creation body in the order of spec §4 step 1: shape, retired `geo`,
/// ASIN and name (422), then marketplace (400).
pub fn parse_new_link(body: &Value) -> Result<NewLink, ApiError> {
    let obj = body.as_object().ok_or_else(|| {
        ApiError::validation(
            "body",
            "__root__",
            "Input should be a valid JSON object",
            "model_type",
        )
    })?;
    if obj.contains_key("geo") {
        return Err(ApiError::GeoRetired);
    }
    let mut errors = Vec::new();
    let text = |field: &str, errors: &mut Vec<FieldError>| -> Option<Option<String>> {
        match obj.get(field) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                errors.push(FieldError::new(
                    "body",
                    field,
                    "Input should be a valid string",
                    "string_type",
                ));
                None
            }
        }
    };
    let asin = text("asin", &mut errors);
    let name = text("link_name", &mut errors);
    let marketplace = text("marketplace", &mut errors);
    if matches!(asin, Some(None)) {
        errors.push(FieldError::missing("body", "asin"));
    }
    let link_name = match name.flatten() {
        Some(n) => match LinkName::parse(&n) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(FieldError::new(
                    "body",
                    "link_name",
                    e.to_string(),
                    "string_length",
                ));
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let asin = Asin::parse(asin.flatten().as_deref().unwrap_or_default())?;
    let marketplace = match marketplace.flatten() {
        Some(m) => Marketplace::parse(&m)?,
        None => Marketplace::Us,
    };
    Ok(NewLink {
        asin,
        marketplace,
        link_name,
    })
}

fn created_response(body: String) -> Response {
    let location = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
        v.get("id")
            .and_then(Value::as_str)
            .map(|id| format!("/links/{id}"))
    });
    let mut response = (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, loc);
    }
    response
}

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
    let render = |l: &LinkRow| link_json(l).to_string();
    match create_link(&state, &who, &req, key.as_deref(), render).await? {
        Created::New(_, body) | Created::Replayed(body) => Ok(created_response(body)),
    }
}

#[derive(Debug, Deserialize)]
struct LinksQuery {
    marketplace: Option<String>,
    country_code: Option<String>,
    limit: Option<i64>,
    page: Option<i64>,
    cursor: Option<String>,
    link_name: Option<String>,
    asin: Option<String>,
    active: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct LinkPosition {
    /// Id of the last link shown; links are ordered by id, newest first.
    after: String,
    /// How many links came before this page, for `pagination_info`.
    offset: i64,
}

#[derive(Serialize)]
struct LinksPage {
    total_count: i64,
    fetched_count: usize,
    all_links: Vec<Value>,
    pagination_info: PaginationInfo,
    next_cursor: Option<String>,
}

fn parse_bool(field: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(_) => Err(ApiError::validation(
            "query",
            field,
            "Input should be a valid boolean",
            "bool_parsing",
        )),
    }
}

async fn get_all_links(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<LinksQuery>,
) -> ApiResult<JsonResponse<LinksPage>> {
    let selector = marketplace_selector(q.marketplace.as_deref(), q.country_code.as_deref(), true)?;
    let limit = paging::limit(q.limit)?;
    let asin = match q.asin.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(a) => Some(Asin::parse(a)?),
        None => None,
    };
    let filter = LinkFilter {
        marketplace: match selector {
            MarketplaceSelector::All => None,
            MarketplaceSelector::One(m) => Some(m),
        },
        asin: asin.as_ref().map(Asin::as_str),
        active: parse_bool("active", q.active.as_deref())?,
        name_like: q
            .link_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_contains),
    };
    let (after, offset, skip) = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let pos: LinkPosition = Cursor::decode(c).map_err(|_| paging::bad_cursor())?;
            (Some(pos.after), pos.offset, 0)
        }
        None => {
            let offset = paging::offset(None, q.page, limit)?;
            (None, offset, offset)
        }
    };
    let (total, mut rows) = state
        .db
        .list_links(&who.account_id, &filter, after.as_deref(), skip, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let fetched = rows.len() as i64;
    let next_cursor = more.then(|| rows.last()).flatten().map(|last| {
        Cursor::encode(&LinkPosition {
            after: last.id.clone(),
            offset: offset + fetched,
        })
    });
    Ok(JsonResponse(LinksPage {
        total_count: total,
        fetched_count: rows.len(),
        all_links: rows.iter().map(link_json).collect(),
        pagination_info: PaginationInfo::new(offset, fetched, limit, total),
        next_cursor,
    }))
}

fn link_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Link not found: {id}"))
}

async fn get_link(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    let link = state
        .db
        .link_of(&who.account_id, &id)
        .await?
        .ok_or_else(|| link_not_found(&id))?;
    Ok(JsonResponse(link_json(&link)))
}

async fn patch_link(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<JsonResponse<Value>> {
    let obj = body.as_object().ok_or_else(|| {
        ApiError::validation(
            "body",
            "__root__",
            "Input should be a valid JSON object",
            "model_type",
        )
    })?;
    let active = match obj.get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::validation(
                "body",
                "active",
                "Input should be a valid boolean",
                "bool_type",
            ));
        }
    };
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
    if active.is_none() && link_name.is_none() {
        return Err(ApiError::validation(
            "body",
            "__root__",
            "Give at least one of active, link_name",
            "missing",
        ));
    }
    let now = crate::store::now_ms();
    let link = state
        .db
        .update_link(
            &who.account_id,
            &id,
            active,
            link_name.as_ref().map(LinkName::as_str),
            now,
        )
        .await?
        .ok_or_else(|| link_not_found(&id))?;
    Ok(JsonResponse(link_json(&link)))
}

#[derive(Debug, Deserialize)]
struct SingleLinkQuery {
    asin: Option<String>,
}

async fn get_single_link(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<SingleLinkQuery>,
) -> ApiResult<JsonResponse<Value>> {
    let raw = q
        .asin
        .ok_or_else(|| ApiError::Validation(vec![FieldError::missing("query", "asin")]))?;
    let asin = Asin::parse(&raw)?;
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
    Ok(JsonResponse(link_json(link)))
}

async fn get_affiliate_id(Publisher(who): Publisher) -> JsonResponse<Value> {
    JsonResponse(json!({ "affiliate_id": who.public_id }))
}
