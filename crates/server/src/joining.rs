//! Joining Quiver (issue 17): who may sign up, the links e-mails carry, password strength,
//! single-use e-mail tokens and the throttle of the e-mails that send them.

use std::time::Duration;

use crate::auth::{new_token, token_hash};
pub use crate::config::{JoinSettings, SignupMode};
use crate::error::ApiError;
use crate::state::AppState;
pub use crate::state::Joining;
use crate::store::now_ms;
use crate::store::signup::Limit;

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

/// Hashes a new password on the bounded pool login's checks use (argon2 takes a core and
/// 19 MiB for a while), so a flood of sign-ups, resets or changes waits its turn with the
/// logins instead of running hundreds at once; past the queue: 503 `server_busy`.
pub async fn hash(state: &AppState, password: &str) -> Result<String, ApiError> {
    let busy = || ApiError::ServerBusy {
        retry_after: crate::login::BUSY_RETRY,
    };
    let ticket = state.login_throttle.checks.admit().ok_or_else(busy)?;
    ticket
        .hash(password.to_owned())
        .await
        .map_err(|_| busy())?
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
