//! Creating accounts (admin CLI and demo seed).

use quiver_domain::AccountKind;
use rand::Rng;
use uuid::Uuid;

use crate::auth::{HashError, hash_password};
use crate::login::normalise_username;
use crate::store::accounts::NewAccount;
use crate::store::{Db, StoreError, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("'{0}' is not an e-mail address")]
    InvalidEmail(String),
    #[error("the password must be at least 8 characters")]
    WeakPassword,
    #[error("an account with e-mail '{0}' already exists")]
    Exists(String),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Store(StoreError),
}

/// A public id that is safe to show other parties (brands see it in reports).
pub fn new_public_id(kind: AccountKind) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let suffix: String = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let prefix = match kind {
        AccountKind::Publisher => "aff",
        AccountKind::Seller => "sel",
        AccountKind::Admin => "adm",
    };
    format!("{prefix}_{suffix}")
}

/// Creates an account and returns its id.
pub async fn create_account(
    db: &Db,
    email: &str,
    password: &str,
    kind: AccountKind,
    display_name: &str,
    public_id: Option<&str>,
) -> Result<String, AccountsError> {
    let email = normalise_username(email);
    if !email.contains('@') || email.len() < 3 || email.chars().any(char::is_whitespace) {
        return Err(AccountsError::InvalidEmail(email));
    }
    if password.chars().count() < 8 {
        return Err(AccountsError::WeakPassword);
    }
    let hash = hash_password(password)?;
    insert_account(db, &email, &hash, kind, display_name, public_id).await
}

/// Inserts an account whose password is hashed already (the HTTP paths hash on the
/// bounded password pool); `email` is normalised and valid.
pub async fn insert_account(
    db: &Db,
    email: &str,
    hash: &str,
    kind: AccountKind,
    display_name: &str,
    public_id: Option<&str>,
) -> Result<String, AccountsError> {
    let id = Uuid::now_v7().to_string();
    let public_id = public_id.map_or_else(|| new_public_id(kind), str::to_owned);
    db.insert_account(&NewAccount {
        id: &id,
        public_id: &public_id,
        email,
        kind,
        display_name,
        password_hash: hash,
        created_at: now_ms(),
    })
    .await
    .map_err(|e| match e {
        StoreError::Conflict => AccountsError::Exists(email.to_owned()),
        other => AccountsError::Store(other),
    })?;
    Ok(id)
}
