//! Simulated Amazon users: each has its own Ads profiles and Attribution advertisers, and
//! can grant (and have revoked) a Login with Amazon authorisation.
//!
//! The platform refresh token (`SimConfig::refresh_token`) stays all-seeing, as before:
//! every profile and any numeric advertiser. A user's token sees only that user's own.

use quiver_amazon::wire::{AccountInfo, Advertiser, Profile};

use crate::mix;

/// The simulated users, by login name: (login, display name, countries of its profiles).
const USERS: [(&str, &str, &[&str]); 3] = [
    (
        "alice",
        "Alice Example (Acme Outdoor)",
        &["US", "CA", "UK", "DE", "JP"],
    ),
    ("bob", "Bob Example (Bright Kitchen)", &["US", "FR", "JP"]),
    ("carol", "Carol Example (no Attribution)", &["US"]),
];

/// (country, currency, timezone, marketplace id) for the countries above.
fn marketplace(country: &str) -> (&'static str, &'static str, &'static str) {
    match country {
        "CA" => ("CAD", "America/Los_Angeles", "A2EUQ1WTGCTBG2"),
        "UK" => ("GBP", "Europe/London", "A1F83G8C2ARO7P"),
        "DE" => ("EUR", "Europe/Paris", "A1PA6795UKMFR9"),
        "FR" => ("EUR", "Europe/Paris", "A13V1IB3VIYZZH"),
        "JP" => ("JPY", "Asia/Tokyo", "A1VC38T7YXB528"),
        _ => ("USD", "America/Los_Angeles", "ATVPDKIKX0DER"),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SimUser {
    pub login: String,
    pub name: String,
    pub profiles: Vec<UserProfile>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct UserProfile {
    pub profile: Profile,
    /// Empty for a profile without Amazon Attribution.
    pub advertisers: Vec<Advertiser>,
}

/// Every simulated user, the same for the same seed.
pub fn users(seed: u64) -> Vec<SimUser> {
    USERS
        .iter()
        .map(|(login, name, countries)| SimUser {
            login: (*login).to_owned(),
            name: (*name).to_owned(),
            profiles: countries
                .iter()
                .map(|country| profile(seed, login, country))
                .collect(),
        })
        .collect()
}

pub fn user(seed: u64, login: &str) -> Option<SimUser> {
    users(seed).into_iter().find(|u| u.login == login)
}

fn profile(seed: u64, login: &str, country: &str) -> UserProfile {
    let (currency, tz, marketplace_id) = marketplace(country);
    let h = mix::hash(
        seed,
        &[b"user-profile", login.as_bytes(), country.as_bytes()],
    );
    // Apart from the platform's profiles (which start at 1e12), within 15 digits.
    let profile_id = 200_000_000_000_000 + (h % 90_000_000_000_000) as i64;
    let advertisers = if login == "carol" {
        Vec::new()
    } else {
        (0..2u8)
            .map(|i| {
                let a = mix::hash(seed, &[b"user-advertiser", &profile_id.to_be_bytes(), &[i]]);
                let id = 500_000_000_000 + a % 400_000_000_000;
                Advertiser {
                    advertiser_id: id.to_string(),
                    advertiser_name: format!("{} brand {} {country}", login_title(login), i + 1),
                }
            })
            .collect()
    };
    UserProfile {
        profile: Profile {
            profile_id,
            country_code: country.to_owned(),
            currency_code: currency.to_owned(),
            timezone: tz.to_owned(),
            account_info: AccountInfo {
                marketplace_string_id: marketplace_id.to_owned(),
                id: format!("A{:012X}", h >> 16),
                kind: "vendor".to_owned(),
                name: format!("{} {country}", login_title(login)),
            },
        },
        advertisers,
    }
}

fn login_title(login: &str) -> String {
    let mut c = login.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl SimUser {
    pub fn owns_profile(&self, profile_id: &str) -> Option<&UserProfile> {
        self.profiles
            .iter()
            .find(|p| p.profile.profile_id.to_string() == profile_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_stable_and_distinct() {
        let a = users(42);
        let b = users(42);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let ids: std::collections::BTreeSet<_> = a
            .iter()
            .flat_map(|u| u.profiles.iter().map(|p| p.profile.profile_id))
            .collect();
        assert_eq!(ids.len(), 5 + 3 + 1);
        assert!(
            user(42, "carol").unwrap().profiles[0]
                .advertisers
                .is_empty()
        );
    }
}
