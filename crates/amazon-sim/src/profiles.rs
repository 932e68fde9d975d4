//! `GET /v2/profiles`: a fixed, seed-derived set of profiles, a few per region.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use quiver_amazon::wire::{AccountInfo, Profile};

use crate::auth;
use crate::error::ApiError;
use crate::mix;
use crate::state::SimState;

/// (country, currency, timezone, Amazon's marketplace string id).
const MARKETPLACES: [(&str, &str, &str, &str); 10] = [
    ("US", "USD", "America/Los_Angeles", "ATVPDKIKX0DER"),
    ("CA", "CAD", "America/Los_Angeles", "A2EUQ1WTGCTBG2"),
    ("MX", "MXN", "America/Los_Angeles", "A1AM78C64UM0Y8"),
    ("UK", "GBP", "Europe/London", "A1F83G8C2ARO7P"),
    ("DE", "EUR", "Europe/Paris", "A1PA6795UKMFR9"),
    ("FR", "EUR", "Europe/Paris", "A13V1IB3VIYZZH"),
    ("IT", "EUR", "Europe/Paris", "APJ6JRA9NG5V4"),
    ("ES", "EUR", "Europe/Paris", "A1RKKUPIHCS9HS"),
    ("NL", "EUR", "Europe/Amsterdam", "A1805IZSGTT6HS"),
    ("JP", "JPY", "Asia/Tokyo", "A1VC38T7YXB528"),
];

/// The same list for the same seed, so scripts can rely on it.
pub fn profiles(seed: u64) -> Vec<Profile> {
    MARKETPLACES
        .iter()
        .map(|(country, currency, tz, marketplace_id)| {
            let h = mix::hash(seed, &[b"profile", country.as_bytes()]);
            // Real profile ids are large positive integers; keep them within 15 digits.
            let profile_id = 1_000_000_000_000 + (h % 9_000_000_000_000) as i64;
            Profile {
                profile_id,
                country_code: (*country).to_owned(),
                currency_code: (*currency).to_owned(),
                timezone: (*tz).to_owned(),
                account_info: AccountInfo {
                    marketplace_string_id: (*marketplace_id).to_owned(),
                    id: format!("A{:012X}", h >> 16),
                    kind: "seller".to_owned(),
                    name: format!("Simulated seller {country}"),
                },
            }
        })
        .collect()
}

pub async fn list(
    State(state): State<SimState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Profile>>, ApiError> {
    let caller = auth::caller(&state, &headers)?;
    Ok(Json(match caller.user {
        None => profiles(state.seed()),
        Some(login) => crate::users::user(state.seed(), &login)
            .map(|u| u.profiles.into_iter().map(|p| p.profile).collect())
            .unwrap_or_default(),
    }))
}
