//! **(Quiver)** A brand connects its own Amazon Ads account (#18): Login with Amazon's
//! authorisation-code grant. `connect` sends the seller to the region's consent page with a
//! `state` (random, single use, 10 minutes, bound to seller, brand and region, stored
//! hashed); `callback` is where Amazon sends the browser back, with a `code` to exchange
//! for the brand's refresh token, which is stored sealed.

use std::time::Duration;

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenancy::own_brand;
use crate::auth::{new_token, token_hash};
use crate::brand_amazon;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, FieldError, Problem, Unprocessable};
use crate::http::extract::{Query, Seller};
use crate::http::params;
use crate::objects::format::iso_utc;
use crate::state::AppState;

/// The one scope Amazon Ads grants through Login with Amazon.
pub const ADS_SCOPE: &str = "advertising::campaign_management";
pub const CALLBACK_PATH: &str = "/sellers/amazon/callback";
/// A code exchange is one request; Amazon answers it in well under a second.
const EXCHANGE_BUDGET: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connect))
        .routes(routes!(callback))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectQuery {
    /// One of your brands.
    brand_id: Option<String>,
    /// `NA`, `EU` or `FE`.
    region: Option<String>,
}

/// Where to send the browser for consent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectStart {
    /// The region's Login with Amazon consent page, with every parameter filled in.
    #[schema(
        example = "https://www.amazon.com/ap/oa?client_id=amzn1.application-oa2-client.x&scope=advertising%3A%3Acampaign_management&response_type=code&redirect_uri=https%3A%2F%2Fquiver.example%2Fsellers%2Famazon%2Fcallback&state=..."
    )]
    authorize_url: String,
    /// When the `state` in it stops being accepted (RFC 3339).
    expires_at: String,
}

/// **(Quiver)** Start connecting a brand's Amazon Ads account in one region.
///
/// Answers 303 to the region's Login with Amazon consent page (NA
/// `https://www.amazon.com/ap/oa`, EU `https://eu.account.amazon.com/ap/oa`, FE
/// `https://apac.account.amazon.com/ap/oa`; the simulator's `/ap/oa` with
/// `QUIVER_AMAZON=sim` or a URL) with `client_id`, `scope=advertising::campaign_management`,
/// `response_type=code`, `redirect_uri` (`QUIVER_PUBLIC_URL` + `/sellers/amazon/callback`)
/// and a `state` that is single use, expires after 10 minutes and is bound to you, the
/// brand and the region. With `Accept: application/json` the same URL comes back in a
/// 200 body instead, for a web app that navigates itself.
#[utoipa::path(get, path = "/sellers/amazon/connect", tag = "sellers", params(ConnectQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ConnectStart, description = "With `Accept: application/json`"),
        (status = 303, description = "To the consent page (`Location`)"),
        (status = 404, body = Problem, description = "`brand_not_found`: no such brand among yours"),
        (status = 409, body = Problem, description = "`secret_key_missing`: this server has no secret key to store authorisations with"),
        (status = 422, body = Unprocessable, description = "`brand_id` missing, or `region` missing or not NA/EU/FE"),
    ))]
async fn connect(
    State(state): State<AppState>,
    Seller(who): Seller,
    headers: HeaderMap,
    Query(q): Query<ConnectQuery>,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let brand_id = q
        .brand_id
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty());
    if brand_id.is_none() {
        errors.push(FieldError::missing("query", "brand_id"));
    }
    let region = params::region("query", q.region.as_deref()).map_err(|e| errors.push(e));
    let (Some(brand_id), Ok(region), true) = (brand_id, region, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let brand = own_brand(&state, &who, brand_id).await?;
    if state.secret_key.is_none() {
        return Err(ApiError::StateConflict {
            code: "secret_key_missing",
            detail: "This Quiver has no secret key (QUIVER_SECRET_KEY), so it cannot store \
                     Amazon authorisations; ask its operator to configure one"
                .into(),
        });
    }
    let consent_state = new_token();
    let expires_at = now_ms() + state.settings.connect_state_ttl.as_millis() as i64;
    state
        .db
        .create_connect_state(
            &token_hash(&consent_state),
            &who.account_id,
            &brand.id,
            region,
            expires_at,
        )
        .await?;
    let endpoints = &state.amazon.client.config().endpoints;
    let mut url = endpoints.authorize_url(region).clone();
    url.query_pairs_mut()
        .append_pair(
            "client_id",
            &state.amazon.client.config().credentials.client_id,
        )
        .append_pair("scope", ADS_SCOPE)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &redirect_uri(&state))
        .append_pair("state", &consent_state);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return Ok(JsonResponse(ConnectStart {
            authorize_url: url.to_string(),
            expires_at: iso_utc(expires_at),
        })
        .into_response());
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response())
}

/// Where Login with Amazon sends the browser back: registered with the application.
pub fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}{CALLBACK_PATH}",
        state.joining.public_url().trim_end_matches('/')
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorisation code, after consent.
    code: Option<String>,
    /// The `state` the consent was started with.
    state: Option<String>,
    /// `access_denied` when the user refused.
    error: Option<String>,
}

/// **(Quiver)** Login with Amazon's redirect back after consent (no bearer: the `state` is
/// the binding).
///
/// After approval the code is exchanged at the region's token endpoint
/// (`grant_type=authorization_code`) and the brand's refresh token is stored encrypted; the
/// browser goes on (303) to `/app#/amazon?brand_id=B&region=R&connected=1`. A refusal
/// (`error=access_denied`) goes (303) to `/app#/amazon?brand_id=B&region=R&error=access_denied`.
/// A wrong, replayed or expired `state`, or a code Amazon does not accept (reused, expired),
/// is a 400 page saying so; nothing is stored.
#[utoipa::path(get, path = "/sellers/amazon/callback", tag = "sellers", params(CallbackQuery),
    responses(
        (status = 303, description = "Into the web app's Amazon screen (`Location`)"),
        (status = 400, content_type = "text/html", description = "The sign-in cannot be completed: bad, used or expired state, or a code Amazon refused"),
        (status = 502, content_type = "text/html", description = "Amazon could not be reached to complete the sign-in"),
    ))]
async fn callback(State(state): State<AppState>, Query(q): Query<CallbackQuery>) -> Response {
    let Some(given) = q.state.as_deref().filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is incomplete",
            "Amazon's answer did not say which connection it belongs to. Start again from Quiver.",
        );
    };
    let pending = match state.db.take_connect_state(&token_hash(given)).await {
        Ok(p) => p,
        Err(e) => return internal(e.into()),
    };
    let Some(pending) = pending else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid any more",
            "It was already used, or it does not come from Quiver. Nothing was changed. \
             Start connecting again from Quiver.",
        );
    };
    if pending.expires_at <= now_ms() {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in took too long",
            "A connection must be completed within 10 minutes of starting it. Nothing was \
             changed. Start connecting again from Quiver.",
        );
    }
    let back = |outcome: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("brand_id", &pending.brand_id)
            .append_pair("region", pending.region.as_str())
            .finish();
        (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/app#/amazon?{query}&{outcome}"))],
        )
            .into_response()
    };
    if let Some(error) = q.error.as_deref() {
        if error == "access_denied" {
            return back("error=access_denied");
        }
        return page(
            StatusCode::BAD_REQUEST,
            "Amazon did not complete the sign-in",
            "Login with Amazon answered with an error instead of an authorisation. Nothing \
             was changed. Start connecting again from Quiver.",
        );
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is incomplete",
            "Amazon's answer carried no authorisation code. Nothing was changed. Start \
             connecting again from Quiver.",
        );
    };
    // The seller may have lost the brand (or the account) since starting.
    match state
        .db
        .seller_brand(&pending.account_id, &pending.brand_id)
        .await
    {
        Ok(Some(_)) => {}
        Ok(None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This brand is not yours any more",
                "Nothing was changed.",
            );
        }
        Err(e) => return internal(e.into()),
    }
    let Some(key) = &state.secret_key else {
        return page(
            StatusCode::BAD_REQUEST,
            "Quiver cannot store the authorisation",
            "This Quiver has no secret key configured. Ask its operator to set QUIVER_SECRET_KEY.",
        );
    };
    let grant = state
        .amazon
        .client
        .exchange_code(
            pending.region,
            code,
            &redirect_uri(&state),
            Instant::now() + EXCHANGE_BUDGET,
        )
        .await;
    let grant = match grant {
        Ok(g) => g,
        Err(e) if e.is_transient() => {
            tracing::warn!(error = %e, "Login with Amazon code exchange failed");
            return page(
                StatusCode::BAD_GATEWAY,
                "Amazon could not be reached",
                "The sign-in could not be completed because Amazon did not answer. Nothing \
                 was changed. Start connecting again from Quiver in a moment.",
            );
        }
        Err(e) => {
            tracing::info!(error = %e, "Login with Amazon refused the authorisation code");
            return page(
                StatusCode::BAD_REQUEST,
                "Amazon did not accept this sign-in",
                "The authorisation code was already used or has expired. Nothing was \
                 changed. Start connecting again from Quiver.",
            );
        }
    };
    let sealed = brand_amazon::seal(
        key,
        &pending.brand_id,
        pending.region,
        grant.refresh_token(),
    );
    if let Err(e) = state
        .db
        .put_amazon_connection(&pending.brand_id, pending.region, &sealed)
        .await
    {
        return internal(e.into());
    }
    // Any access token of the previous grant is of no use any more.
    state
        .amazon
        .client
        .forget_authorization(&brand_amazon::authorization_key(
            &pending.brand_id,
            pending.region,
        ));
    keep_choice_if_visible(&state, &pending.brand_id, pending.region).await;
    tracing::info!(brand = %pending.brand_id, region = %pending.region, "a brand connected its Amazon Ads account");
    back("connected=1")
}

/// After a reconnection (perhaps as another Amazon user), the profile and advertiser
/// chosen before are kept only if the new authorisation can see them; otherwise the brand
/// chooses again. When Amazon cannot be asked now, the choice stays and its first use
/// tells.
async fn keep_choice_if_visible(state: &AppState, brand_id: &str, region: quiver_domain::Region) {
    let row = match state.db.amazon_connection(brand_id, region).await {
        Ok(Some(row)) => row,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the new Amazon connection");
            return;
        }
    };
    let (Some(profile), Some(advertiser)) = (&row.profile_id, &row.advertiser_id) else {
        return;
    };
    let Some(client) = brand_amazon::client_for(state, &row) else {
        return;
    };
    let deadline = Instant::now() + EXCHANGE_BUDGET;
    match brand_amazon::can_see(&client, region, profile, advertiser, deadline).await {
        Ok(true) => brand_amazon::succeeded(&state.db, &row).await,
        Ok(false) => {
            tracing::info!(brand = %brand_id, %region, "the new authorisation cannot see the advertiser chosen before; the brand chooses again");
            if let Err(e) = state.db.clear_amazon_advertiser(brand_id, region).await {
                tracing::warn!(error = %e, "could not clear the Amazon advertiser choice");
            }
        }
        Err(e) => tracing::info!(error = %e, "could not check the kept Amazon advertiser now"),
    }
}

fn internal(e: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{e:#}"), "internal error in the Amazon callback");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Quiver could not complete the sign-in. Nothing was changed. Try again.",
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A small page a person reads in the browser Amazon sent back.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} — Quiver</title></head><body><main><h1>{t}</h1><p>{x}</p>\
         <p><a href=\"/app#/amazon\">Back to Quiver</a></p></main></body></html>",
        t = escape(title),
        x = escape(text),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}
