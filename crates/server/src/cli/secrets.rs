//! The secret key at start and its rotation (`quiver admin rotate-secret-key`).
//!
//! Start: the key is `QUIVER_SECRET_KEY`, else (SQLite) the key file beside the database,
//! created only while nothing sealed is stored — a new key could not open older values,
//! so with sealed values and no key the server refuses to start rather than lose them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::secret_key::{self, SecretKey};
use crate::store::Db;

/// The key file of an SQLite file database (`None` for PostgreSQL and in-memory SQLite).
pub fn key_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite:")?;
    if rest.contains(":memory:") || rest.contains("mode=memory") {
        return None;
    }
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty()).then(|| secret_key::key_file_for(Path::new(path)))
}

fn open_sealed(
    key: &SecretKey,
    sealed_b64: &str,
    aad: &[u8],
) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let sealed = STANDARD.decode(sealed_b64.trim()).ok()?;
    key.open(&sealed, aad).ok()
}

/// The key to run with, after checking it opens what is stored.
pub async fn open_at_start(
    db: &Db,
    database_url: &str,
    from_env: Option<&str>,
) -> anyhow::Result<Option<SecretKey>> {
    let sealed = db
        .count_sealed_secrets()
        .await
        .context("counting the encrypted values")?;
    let file = key_file(database_url);
    let key = secret_key::load(from_env, file.as_deref(), sealed == 0)?;
    let Some(key) = key else {
        anyhow::ensure!(
            sealed == 0,
            "{sealed} Amazon refresh tokens are stored encrypted, but no secret key is \
             configured: set QUIVER_SECRET_KEY to the key they were encrypted with{}",
            file.map(|f| format!(" (or restore the key file {})", f.display()))
                .unwrap_or_default()
        );
        return Ok(None);
    };
    if let Some(row) = db.any_sealed_secret().await? {
        anyhow::ensure!(
            open_sealed(&key, &row.sealed, &row.aad()).is_some(),
            "the configured secret key does not open the stored Amazon refresh tokens: \
             QUIVER_SECRET_KEY (or the key file) is not the key they were encrypted with"
        );
    }
    Ok(Some(key))
}

/// Re-encrypts every sealed value under a new key in one transaction, then installs the
/// new key: the key file is replaced (SQLite), or the new key is written to
/// `new_key_file` for the operator to put into QUIVER_SECRET_KEY. The key is never
/// printed.
pub async fn rotate(
    db: &Db,
    database_url: &str,
    from_env: Option<&str>,
    new_key_file: Option<&Path>,
) -> anyhow::Result<String> {
    let file = key_file(database_url);
    let env_given = from_env.is_some_and(|k| !k.trim().is_empty());
    let target = match (env_given, new_key_file, &file) {
        (_, Some(path), _) => path.to_path_buf(),
        (false, None, Some(f)) => f.clone(),
        _ => anyhow::bail!(
            "the key comes from QUIVER_SECRET_KEY: give --new-key-file PATH to receive the \
             new key (written owner-only; the key is never printed)"
        ),
    };
    let old = secret_key::load(from_env, file.as_deref(), false)?;
    let new = SecretKey::generate();
    let count = db.count_sealed_secrets().await?;
    anyhow::ensure!(
        old.is_some() || count == 0,
        "no secret key is configured, so the {count} stored values cannot be re-encrypted"
    );
    // The new key is on disk before the database changes, so a crash in between leaves
    // both keys available.
    let staged = {
        let mut name = target.as_os_str().to_owned();
        name.push(".new");
        PathBuf::from(name)
    };
    let _ = std::fs::remove_file(&staged);
    secret_key::write_key_file(&staged, &new)
        .with_context(|| format!("writing {}", staged.display()))?;
    let resealed = match &old {
        None => Some(0),
        Some(old) => {
            db.reseal_all(|aad, sealed| {
                let plain = open_sealed(old, sealed, aad)?;
                Some(STANDARD.encode(new.seal(&plain, aad)))
            })
            .await?
        }
    };
    let Some(n) = resealed else {
        let _ = std::fs::remove_file(&staged);
        anyhow::bail!("a stored value does not open with the current key; nothing was changed");
    };
    std::fs::rename(&staged, &target)
        .with_context(|| format!("installing the new key at {}", target.display()))?;
    Ok(if env_given || new_key_file.is_some() {
        format!(
            "re-encrypted {n} values; the new key is in {} (owner-only): put it into \
             QUIVER_SECRET_KEY before the next start",
            target.display()
        )
    } else {
        format!(
            "re-encrypted {n} values; the key file {} holds the new key",
            target.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_sit_beside_sqlite_files_only() {
        assert_eq!(
            key_file("sqlite://quiver.db"),
            Some(PathBuf::from("quiver.db.key"))
        );
        assert_eq!(
            key_file("sqlite:///var/lib/q/x.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/q/x.db.key"))
        );
        assert_eq!(key_file("sqlite::memory:"), None);
        assert_eq!(key_file("postgres://db/quiver"), None);
    }
}
