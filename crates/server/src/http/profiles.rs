//! **(Quiver)** Creators' public profiles (#15): a creator edits theirs under
//! `/account/profile`; a brand reads any creator's under `/sellers/creators/{creator}`,
//! which is what it opens from an access request or a grant.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, Problem, Unprocessable};
use crate::http::extract::{Json, Publisher, Seller};
use crate::http::format::iso_utc;
use crate::http::params;
use crate::joining;
use crate::state::AppState;
use crate::store::profiles::{ProfileRow, ProfileUpdate};

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

/// **(Quiver)** A creator's public profile, by affiliate id: what a brand looks at before it
/// decides a request or grants access.
#[utoipa::path(get, path = "/sellers/creators/{creator}", tag = "sellers", security(("bearer" = [])),
    params(("creator" = String, Path, description = "The creator's public affiliate id")),
    responses(
        (status = 200, body = Profile),
        (status = 403, body = Problem, description = "`wrong_account_type`: a creator token"),
        (status = 404, body = Problem, description = "`creator_not_found`: no (enabled) creator has that id"),
        (status = 422, body = Unprocessable, description = "An id over 200 characters"),
    ))]
async fn get_creator_profile(
    State(state): State<AppState>,
    Seller(_who): Seller,
    Path(creator): Path<String>,
) -> ApiResult<JsonResponse<Profile>> {
    let id = params::at_most_chars("path", "creator", creator.trim(), params::MAX_TEXT_CHARS)?;
    let row =
        state
            .db
            .profile_by_public_id(id)
            .await?
            .ok_or_else(|| ApiError::CreatorNotFound {
                creator: id.to_owned(),
            })?;
    Ok(JsonResponse(Profile::from_row(&row)?))
}
