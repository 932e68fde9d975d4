//! Joining Quiver (issue 17): who may sign up, the links e-mails carry, password strength,
//! single-use e-mail tokens and the throttle of the e-mails that send them.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::auth::{new_token, token_hash};
use crate::config::ServeConfig;
use crate::error::ApiError;
use crate::mail::Outbox;
use crate::state::AppState;
use crate::store::now_ms;
use crate::store::signup::Limit;

/// `QUIVER_SIGNUP`: who may create an account without an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupMode {
    /// Anyone (the demo default).
    Open,
    /// Only by accepting a brand's invitation (the default outside the demo).
    Invite,
    /// Nobody: accounts come from the CLI; invitations are accepted by existing accounts.
    Closed,
}

impl SignupMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            other => Err(format!(
                "QUIVER_SIGNUP must be open, invite or closed, not '{other}'"
            )),
        }
    }
}

/// The settings of joining, resolved from `quiver serve`'s configuration.
#[derive(Debug, Clone)]
pub struct JoinSettings {
    pub mode: SignupMode,
    pub sellers: bool,
    pub public_url: Option<String>,
}

impl JoinSettings {
    pub fn from_config(cfg: &ServeConfig, demo: bool) -> Result<Self, String> {
        let mode = match cfg.signup.as_deref() {
            Some(s) => SignupMode::parse(s)?,
            None if demo => SignupMode::Open,
            None => SignupMode::Invite,
        };
        let sellers = match cfg.signup_sellers.trim() {
            "1" | "true" => true,
            "0" | "false" | "" => false,
            other => {
                return Err(format!(
                    "QUIVER_SIGNUP_SELLERS must be 0 or 1, not '{other}'"
                ));
            }
        };
        let public_url = match cfg.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => {
                let parsed = url::Url::parse(u)
                    .ok()
                    .filter(|p| matches!(p.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        format!("QUIVER_PUBLIC_URL must be an http(s) URL, not '{u}'")
                    })?;
                Some(parsed.as_str().trim_end_matches('/').to_owned())
            }
        };
        Ok(Self {
            mode,
            sellers,
            public_url,
        })
    }
}

/// What joining needs at run time.
pub struct Joining {
    pub settings: JoinSettings,
    bound: OnceLock<String>,
    pub outbox: Outbox,
    pub key_usage: crate::api_keys::KeyUsage,
}

/// How long each kind of link works.
pub const VERIFY_TTL: Duration = Duration::from_secs(48 * 3600);
pub const RESET_TTL: Duration = Duration::from_secs(3600);
pub const INVITATION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// E-mails one client address, and one target address, may ask for per window.
const PER_CLIENT: i64 = 30;
const PER_TARGET: i64 = 5;
const WINDOW: Duration = Duration::from_secs(3600);

/// The shortest password accepted, and the least zxcvbn score (0–4).
pub const MIN_PASSWORD_CHARS: usize = 10;

impl Joining {
    pub fn new(settings: JoinSettings, outbox: Outbox) -> Self {
        Self {
            settings,
            bound: OnceLock::new(),
            outbox,
            key_usage: crate::api_keys::KeyUsage::default(),
        }
    }

    /// The listen address, once bound: the public URL's default.
    pub fn set_bound(&self, addr: SocketAddr) {
        let _ = self.bound.set(format!("http://{addr}"));
    }

    pub fn public_url(&self) -> &str {
        self.settings
            .public_url
            .as_deref()
            .or(self.bound.get().map(String::as_str))
            .unwrap_or("http://127.0.0.1:8080")
    }

    /// A link into the web app's `screen` carrying `token`. The token is in the fragment,
    /// which browsers never send, so it stays out of every access log on the way.
    pub fn app_link(&self, screen: &str, token: &str) -> String {
        format!("{}/app/#/{screen}?token={token}", self.public_url())
    }
}

/// A new single-use token and the hash stored for it.
pub fn link_token() -> (String, String) {
    let token = new_token();
    let hash = token_hash(&token);
    (token, hash)
}

/// Refuses short or guessable passwords with a reason a person understands. `inputs` are
/// words the password must not lean on (the address, the name).
pub fn check_password(password: &str, inputs: &[&str]) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::WeakPassword(format!(
            "The password must be at least {MIN_PASSWORD_CHARS} characters long"
        )));
    }
    if password.len() > 1024 {
        return Err(ApiError::WeakPassword(
            "The password must be at most 1024 bytes long".into(),
        ));
    }
    let entropy = zxcvbn::zxcvbn(password, inputs);
    if entropy.score() < zxcvbn::Score::Three {
        let mut reason = String::from("The password is too easy to guess");
        if let Some(fb) = entropy.feedback() {
            if let Some(w) = fb.warning() {
                reason = format!("The password is too easy to guess: {w}");
            }
            if let Some(s) = fb.suggestions().first() {
                reason.push_str(&format!(". {s}"));
            }
        }
        return Err(ApiError::WeakPassword(reason));
    }
    Ok(())
}

/// Counts an e-mail-sending `action` against the client address and the target address.
pub async fn throttle(
    state: &AppState,
    action: &str,
    client_ip: &str,
    target: &str,
) -> Result<(), ApiError> {
    let now = now_ms();
    let window = WINDOW.as_millis() as i64;
    let client = format!("ip:{client_ip}");
    let to = format!("to:{target}");
    let limits = [
        Limit {
            subject: &client,
            max: PER_CLIENT,
        },
        Limit {
            subject: &to,
            max: PER_TARGET,
        },
    ];
    match state
        .db
        .throttle_take(action, &limits, now - window, now)
        .await?
    {
        Ok(()) => Ok(()),
        Err(oldest) => {
            let wait = (oldest + window - now).max(1000);
            Err(ApiError::TooManyEmails {
                retry_after: Duration::from_millis(wait as u64),
            })
        }
    }
}

/// An address as accounts store it, or a 422 naming `field`.
pub fn email_address(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = crate::login::normalise_username(raw);
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(email)
    } else {
        Err(ApiError::validation(
            "body",
            field,
            "value is not a valid e-mail address",
            "value_error",
        ))
    }
}

/// A display name: 1 to 100 characters once trimmed.
pub fn display_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation(
            "body",
            "display_name",
            "The display name must be 1 to 100 characters",
            "value_error",
        ));
    }
    Ok(name.to_owned())
}

/// Hashes a password off the async threads (argon2 takes a core for a while).
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))
}

/// Ends every session of an account (its access and refresh tokens), here at once and in
/// other processes within the token cache's lifetime.
pub async fn end_sessions(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    let hashes = state.db.revoke_account_tokens(account_id, now_ms()).await?;
    state.tokens.evict(&hashes);
    Ok(())
}

/// Forgets the cached principals of an account after its details changed.
pub async fn refresh_cached(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    let hashes = state.db.live_token_hashes(account_id).await?;
    state.tokens.evict(&hashes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_common_passwords_are_refused_with_a_reason() {
        for weak in ["short", "password123", "qwertyuiop", "aaaaaaaaaaaa"] {
            let Err(ApiError::WeakPassword(reason)) = check_password(weak, &[]) else {
                panic!("{weak} was accepted");
            };
            assert!(reason.starts_with("The password"), "{reason}");
        }
        assert!(check_password("correct horse battery staple", &[]).is_ok());
    }

    #[test]
    fn the_mode_parses_and_refuses_other_words() {
        assert_eq!(SignupMode::parse("invite"), Ok(SignupMode::Invite));
        assert!(SignupMode::parse("maybe").is_err());
    }
}
