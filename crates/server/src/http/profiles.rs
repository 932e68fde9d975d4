//! **(Quiver)** Creators' public profiles (#15): a creator edits theirs under
//! `/account/profile`; a brand reads any creator's under `/sellers/creators/{creator}`,
//! which is what it opens from an access request or a grant, with the creator's history with
//! that seller's brands.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, Publisher, Seller};
use crate::http::params;
use crate::joining;
use crate::objects::format::iso_utc;
use crate::state::AppState;
use crate::store::profiles::{ProfileRow, ProfileUpdate};
use crate::store::sellers::{CreatorHistory, HISTORY_ROWS};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_own_profile, put_own_profile))
        .routes(routes!(get_creator_profile))
}

/// At most this many channels on a profile.
pub const MAX_CHANNELS: usize = 10;
/// The longest channel URL accepted.
pub const MAX_URL_CHARS: usize = 2000;

/// **(Quiver)** Where a creator publishes.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Channel {
    /// What the channel is, as the creator calls it, 1–100 characters.
    #[schema(example = "YouTube: Desk Setups", max_length = 100)]
    pub name: String,
    /// An `http` or `https` address, up to 2000 characters.
    #[schema(example = "https://youtube.com/@desksetups", max_length = 2000)]
    pub url: String,
}

/// **(Quiver)** A creator's public profile, as brands see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// The creator's public affiliate id.
    #[schema(example = "aff_demo_creator")]
    pub creator: String,
    pub display_name: String,
    /// A short pitch to brands (may be empty).
    pub pitch: String,
    pub channels: Vec<Channel>,
    /// ISO 8601 UTC, or null if the creator never saved a profile.
    pub updated_at: Option<String>,
}

impl Profile {
    fn from_row(r: &ProfileRow) -> ApiResult<Self> {
        let channels = serde_json::from_str(&r.channels_json)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored channels: {e}")))?;
        Ok(Self {
            creator: r.public_id.clone(),
            display_name: r.display_name.clone(),
            pitch: r.pitch.clone(),
            channels,
            updated_at: r.updated_at.map(iso_utc),
        })
    }
}

/// **(Quiver)** What a creator saves as their profile; every field is replaced.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProfileInput {
    /// 1–100 characters; left as it is when absent.
    #[schema(max_length = 100)]
    display_name: Option<String>,
    /// Up to 1000 characters; empty when absent.
    #[schema(max_length = 1000)]
    pitch: Option<String>,
    /// Up to 10; none when absent.
    #[serde(default)]
    channels: Vec<Channel>,
}

/// The channels as stored: trimmed, each a name and an http(s) URL, else a 422 naming it.
fn channels(input: &[Channel]) -> ApiResult<Vec<Channel>> {
    if input.len() > MAX_CHANNELS {
        return Err(ApiError::validation(
            "body",
            "channels",
            format!("List should have at most {MAX_CHANNELS} items"),
            "too_long",
        ));
    }
    let bad = |i: usize, field: &str, msg: String| {
        ApiError::Validation(vec![crate::error::FieldError {
            loc: vec!["body".into(), "channels".into(), i.into(), field.into()],
            msg,
            kind: "value_error".into(),
        }])
    };
    let mut out = Vec::with_capacity(input.len());
    for (i, c) in input.iter().enumerate() {
        let name = c.name.trim();
        if name.is_empty() || name.chars().nth(100).is_some() {
            return Err(bad(
                i,
                "name",
                "The channel name must be 1 to 100 characters".into(),
            ));
        }
        let raw = c.url.trim();
        if raw.chars().nth(MAX_URL_CHARS).is_some() {
            return Err(bad(
                i,
                "url",
                format!("String should have at most {MAX_URL_CHARS} characters"),
            ));
        }
        match url::Url::parse(raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                out.push(Channel {
                    name: name.to_owned(),
                    url: u.to_string(),
                });
            }
            _ => {
                return Err(bad(
                    i,
                    "url",
                    "Enter a full http:// or https:// address".into(),
                ));
            }
        }
    }
    Ok(out)
}

async fn own(state: &AppState, account_id: &str) -> ApiResult<Profile> {
    let row = state
        .db
        .profile_of_account(account_id)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("the caller's account has no profile row"))
        })?;
    Profile::from_row(&row)
}

/// **(Quiver)** Your public profile, as brands see it.
#[utoipa::path(get, path = "/account/profile", tag = "access", security(("bearer" = [])),
    responses(
        (status = 200, body = Profile),
        (status = 403, body = Problem, description = "`wrong_account_type`: a seller token"),
    ))]
async fn get_own_profile(
    State(state): State<AppState>,
    Publisher(who): Publisher,
) -> ApiResult<JsonResponse<Profile>> {
    Ok(JsonResponse(own(&state, &who.account_id).await?))
}

/// **(Quiver)** Save your public profile (display name, pitch, channels). Brands see it on
/// your access requests and grants. Nothing is saved when any field is refused.
#[utoipa::path(put, path = "/account/profile", tag = "access", security(("bearer" = [])),
    request_body = ProfileInput,
    responses(
        (status = 200, body = Profile, description = "Saved"),
        (status = 403, body = Problem, description = "`wrong_account_type`: a seller token"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = Unprocessable, description = "A display name outside 1–100 characters, a pitch over 1000, more than 10 channels, or a channel without a name or an http(s) URL; `loc` names it"),
    ))]
async fn put_own_profile(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Json(body): Json<ProfileInput>,
) -> ApiResult<JsonResponse<Profile>> {
    let display_name = body
        .display_name
        .as_deref()
        .map(joining::display_name)
        .transpose()?;
    let pitch = body.pitch.as_deref().unwrap_or_default().trim();
    let pitch = params::at_most_chars("body", "pitch", pitch, params::MAX_MESSAGE_CHARS)?;
    let channels = channels(&body.channels)?;
    let channels_json = serde_json::to_string(&channels)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("channels: {e}")))?;
    state
        .db
        .save_profile(
            &who.account_id,
            &ProfileUpdate {
                display_name: display_name.as_deref(),
                pitch,
                channels_json: &channels_json,
            },
            now_ms(),
        )
        .await?;
    Ok(JsonResponse(own(&state, &who.account_id).await?))
}

/// **(Quiver)** A creator's profile as a brand sees it: the public profile and the creator's
/// history with the brand's own brands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatorProfile {
    #[serde(flatten)]
    pub profile: Profile,
    /// Newest first, at most 200: the creator's requests and the decisions on them, grants
    /// given and revoked, their own commission terms, and the commission changes of the brands
    /// they asked for or were granted, from the start of that relationship on. Only the calling
    /// seller's brands.
    pub history: Vec<HistoryEvent>,
}

/// **(Quiver)** One step of a creator's relationship with one of the seller's brands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEvent {
    /// ISO 8601 UTC.
    pub at: String,
    pub brand_id: String,
    pub brand_name: String,
    /// `requested`, `approved`, `declined`, `granted`, `revoked`, `commission` (a rate of
    /// the brand's, for every creator) or `creator_commission` (the rate of this creator alone).
    #[schema(example = "requested")]
    pub event: String,
    /// `requested`: the creator's own message; `declined`: the brand's reason; else empty.
    pub message: String,
    /// `commission`: the product (`marketplace/ASIN`), or null for the brand's default.
    #[schema(example = "amazon.com/B0D45KS7QM")]
    pub product: Option<String>,
    /// `commission`, `creator_commission`: the percentage before the change (null: the
    /// creator had no rate of their own yet).
    pub commission_before: Option<f64>,
    /// `commission`, `creator_commission`: the percentage after the change (null: back to
    /// the brand's rates).
    pub commission_after: Option<f64>,
    /// `creator_commission`: the first day (ISO date, UTC) the rate applies to.
    pub effective_day: Option<String>,
}

/// An event before it gets its ISO time.
struct Step {
    at: i64,
    brand_id: String,
    brand_name: String,
    event: &'static str,
    message: String,
    product: Option<String>,
    commission: (Option<f64>, Option<f64>),
    effective_day: Option<String>,
}

impl Step {
    fn new(at: i64, brand_id: &str, brand_name: &str, event: &'static str) -> Self {
        Self {
            at,
            brand_id: brand_id.to_owned(),
            brand_name: brand_name.to_owned(),
            event,
            message: String::new(),
            product: None,
            commission: (None, None),
            effective_day: None,
        }
    }
}

/// A percentage out of an audit snapshot (`{"commission": 8.5}`).
fn percent(json: Option<&str>, key: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json?).ok()?;
    v.get(key)?.as_f64()
}

/// The rows of a creator's relationship as events, newest first.
fn history(h: &CreatorHistory) -> Vec<HistoryEvent> {
    let mut steps = Vec::new();
    for r in &h.requests {
        let mut asked = Step::new(r.created_at, &r.brand_id, &r.brand_name, "requested");
        asked.message.clone_from(&r.message);
        steps.push(asked);
        if let Some(at) = r.decided_at {
            let decided = match r.status.as_str() {
                "approved" => "approved",
                "declined" => "declined",
                _ => continue,
            };
            let mut d = Step::new(at, &r.brand_id, &r.brand_name, decided);
            d.message.clone_from(&r.decision_reason);
            steps.push(d);
        }
    }
    // The grants table holds each brand's latest grant; the audit log holds the earlier
    // ones (and not the operator's seeds): both, each step once.
    let mut seen = std::collections::HashSet::new();
    let mut grant =
        |steps: &mut Vec<Step>, at: i64, brand_id: &str, brand_name: &str, event: &'static str| {
            if seen.insert((at, brand_id.to_owned(), event)) {
                steps.push(Step::new(at, brand_id, brand_name, event));
            }
        };
    for g in &h.grants {
        grant(
            &mut steps,
            g.granted_at,
            &g.brand_id,
            &g.brand_name,
            "granted",
        );
        if let Some(at) = g.revoked_at {
            grant(&mut steps, at, &g.brand_id, &g.brand_name, "revoked");
        }
    }
    for a in &h.audit {
        let e = &a.entry;
        match e.action.as_str() {
            "grant.create" => grant(&mut steps, e.at, &e.brand_id, &a.brand_name, "granted"),
            "grant.revoke" => grant(&mut steps, e.at, &e.brand_id, &a.brand_name, "revoked"),
            _ => {}
        }
    }
    // Commission changes count from the relationship's first step with that brand on.
    let mut since = std::collections::HashMap::<String, i64>::new();
    for s in &steps {
        let first = since.entry(s.brand_id.clone()).or_insert(s.at);
        *first = (*first).min(s.at);
    }
    for a in &h.audit {
        let e = &a.entry;
        let (key, product) = match e.action.as_str() {
            "product.commission" => (
                "commission",
                e.target.strip_prefix("product:").map(str::to_owned),
            ),
            "brand.update" => ("default_commission", None),
            _ => continue,
        };
        if since.get(&e.brand_id).is_none_or(|first| e.at < *first) {
            continue;
        }
        let (Some(before), Some(after)) = (
            percent(e.before_json.as_deref(), key),
            percent(e.after_json.as_deref(), key),
        ) else {
            continue;
        };
        // A brand update that left the default commission alone (a program mode switch).
        if before == after {
            continue;
        }
        let mut c = Step::new(e.at, &e.brand_id, &a.brand_name, "commission");
        c.product = product;
        c.commission = (Some(before), Some(after));
        steps.push(c);
    }
    let mut previous: Option<(&str, Option<i32>)> = None;
    for r in &h.rates {
        let before = previous
            .filter(|(brand, _)| *brand == r.brand_id)
            .and_then(|(_, bps)| bps);
        previous = Some((&r.brand_id, r.bps));
        let mut c = Step::new(
            r.recorded_at,
            &r.brand_id,
            &r.brand_name,
            "creator_commission",
        );
        let pct = |bps: i32| f64::from(bps) / 100.0;
        c.commission = (before.map(pct), r.bps.map(pct));
        c.effective_day = Some(r.effective_day.clone());
        steps.push(c);
    }
    // Newest first; a step and what it caused at the same instant (an approval and its
    // grant) keep their order.
    steps.sort_by_key(|s| std::cmp::Reverse(s.at));
    steps.truncate(usize::try_from(HISTORY_ROWS).unwrap_or(usize::MAX));
    steps
        .into_iter()
        .map(|s| HistoryEvent {
            at: iso_utc(s.at),
            brand_id: s.brand_id,
            brand_name: s.brand_name,
            event: s.event.to_owned(),
            message: s.message,
            product: s.product,
            commission_before: s.commission.0,
            commission_after: s.commission.1,
            effective_day: s.effective_day,
        })
        .collect()
}

/// **(Quiver)** A creator's public profile, by affiliate id, with their history with your
/// brands: what a brand looks at before it decides a request or grants access.
#[utoipa::path(get, path = "/sellers/creators/{creator}", tag = "sellers", security(("bearer" = [])),
    params(("creator" = String, Path, description = "The creator's public affiliate id")),
    responses(
        (status = 200, body = CreatorProfile),
        (status = 403, body = Problem, description = "`wrong_account_type`: a creator token"),
        (status = 404, body = Problem, description = "`creator_not_found`: no (enabled) creator has that id"),
        (status = 422, body = Unprocessable, description = "An id over 200 characters"),
    ))]
async fn get_creator_profile(
    State(state): State<AppState>,
    Seller(who): Seller,
    Path(creator): Path<String>,
) -> ApiResult<JsonResponse<CreatorProfile>> {
    let id = params::at_most_chars("path", "creator", creator.trim(), params::MAX_TEXT_CHARS)?;
    let row =
        state
            .db
            .profile_by_public_id(id)
            .await?
            .ok_or_else(|| ApiError::CreatorNotFound {
                creator: id.to_owned(),
            })?;
    let rows = state
        .db
        .creator_history(&who.account_id, &row.account_id, &row.public_id)
        .await?;
    Ok(JsonResponse(CreatorProfile {
        profile: Profile::from_row(&row)?,
        history: history(&rows),
    }))
}
