//! The server's secret key: encrypts values that must be readable again later (brands'
//! Amazon refresh tokens; later webhook signing secrets), unlike passwords and API keys,
//! which are only ever compared and so are hashed.
//!
//! AES-256-GCM (`aes-gcm`), a fresh random 96-bit nonce per value, and associated data
//! given by the caller, so a sealed value copied onto another row (another brand or
//! region) does not open there. A sealed value is `version (1) || nonce (12) || ciphertext
//! and tag`, so a later format can be told apart.
//!
//! The key comes from `QUIVER_SECRET_KEY` (32 bytes, base64). With the embedded SQLite
//! engine and no variable, a key file is created beside the database on first start,
//! readable by its owner only. The key never appears in `Debug` output or logs.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use zeroize::Zeroizing;

/// The first byte of every sealed value.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// The GCM tag at the end of the ciphertext.
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretKeyError {
    #[error("QUIVER_SECRET_KEY must be 32 bytes in base64 (for example `openssl rand -base64 32`)")]
    BadKey,
    #[error("the key file {0} could not be read or created: {1}")]
    KeyFile(String, String),
    #[error("the stored value cannot be opened with this key (wrong key, or damaged)")]
    Open,
}

/// The key. Cloning copies the key bytes, which are wiped when each copy is dropped.
#[derive(Clone)]
pub struct SecretKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A new random key (from the operating system's generator).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        Self { bytes }
    }

    /// Parses the base64 form (`QUIVER_SECRET_KEY`, the key file).
    pub fn from_base64(text: &str) -> Result<Self, SecretKeyError> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| SecretKeyError::BadKey)?,
        );
        let array: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| SecretKeyError::BadKey)?;
        Ok(Self {
            bytes: Zeroizing::new(array),
        })
    }

    /// The base64 form, for writing the key file or printing a rotated key once.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.bytes.as_ref()))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.bytes))
    }

    /// Encrypts `plaintext`, bound to `aad` (which must be given again to open it).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and in-memory buffers cannot fail; an empty result
        // would be refused by `open`, never silently accepted.
        let ciphertext = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts a value from [`seal`](Self::seal) with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretKeyError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(SecretKeyError::Open);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretKeyError::Open)?;
        self.cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretKeyError::Open)
    }
}

/// The key file that goes with a SQLite database file: `quiver.db` → `quiver.db.key`.
pub fn key_file_for(sqlite_path: &Path) -> PathBuf {
    let mut name = sqlite_path.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Where the key comes from, in order: the variable's value, else (SQLite only) the key
/// file beside the database, created when `create` is set and it is missing.
pub fn load(
    from_env: Option<&str>,
    key_file: Option<&Path>,
    create: bool,
) -> Result<Option<SecretKey>, SecretKeyError> {
    if let Some(text) = from_env.filter(|t| !t.trim().is_empty()) {
        return SecretKey::from_base64(text).map(Some);
    }
    let Some(path) = key_file else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::from_base64(&Zeroizing::new(text)).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let key = SecretKey::generate();
            write_key_file(path, &key)
                .map_err(|e| SecretKeyError::KeyFile(shown, e.to_string()))?;
            Ok(Some(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SecretKeyError::KeyFile(shown, e.to_string())),
    }
}

/// Writes a new key file, owner-only, refusing to replace an existing one (two servers
/// starting together: the loser reads the winner's key instead).
pub fn write_key_file(path: &Path, key: &SecretKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(key.to_base64().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Replaces the key file's contents with `key` (rotation), owner-only, via a temporary
/// file renamed over the old one so a crash leaves either the old or the new key.
pub fn replace_key_file(path: &Path, key: &SecretKey) -> std::io::Result<()> {
    let tmp = {
        let mut name = path.as_os_str().to_owned();
        name.push(".new");
        PathBuf::from(name)
    };
    let _ = std::fs::remove_file(&tmp);
    write_key_file(&tmp, key)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_and_associated_data_only() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"Atzr|refresh", b"brand:1/NA");
        assert_eq!(
            key.open(&sealed, b"brand:1/NA").unwrap().as_slice(),
            b"Atzr|refresh"
        );
        assert_eq!(key.open(&sealed, b"brand:2/NA"), Err(SecretKeyError::Open));
        assert_eq!(
            SecretKey::generate().open(&sealed, b"brand:1/NA"),
            Err(SecretKeyError::Open)
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(key.open(&flipped, b"brand:1/NA"), Err(SecretKeyError::Open));
        assert_eq!(
            key.open(&sealed[..10], b"brand:1/NA"),
            Err(SecretKeyError::Open)
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce_and_hides_the_plaintext() {
        let key = SecretKey::generate();
        let a = key.seal(b"same secret value", b"x");
        let b = key.seal(b"same secret value", b"x");
        assert_ne!(a, b);
        assert_ne!(a[1..13], b[1..13]);
        assert!(!a.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn keys_parse_from_32_bytes_of_base64_only() {
        let key = SecretKey::generate();
        let again = SecretKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.bytes.as_ref(), key.bytes.as_ref());
        assert_eq!(
            SecretKey::from_base64("c2hvcnQ=").unwrap_err(),
            SecretKeyError::BadKey
        );
        assert_eq!(
            SecretKey::from_base64("not base64!").unwrap_err(),
            SecretKeyError::BadKey
        );
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn the_key_file_is_created_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_file_for(&dir.path().join("quiver.db"));
        assert_eq!(load(None, Some(&path), false).unwrap().map(|_| ()), None);
        let first = load(None, Some(&path), true).unwrap().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = load(None, Some(&path), true).unwrap().unwrap();
        assert_eq!(first.bytes.as_ref(), second.bytes.as_ref());
        let env = SecretKey::generate();
        let chosen = load(Some(&env.to_base64()), Some(&path), true)
            .unwrap()
            .unwrap();
        assert_eq!(chosen.bytes.as_ref(), env.bytes.as_ref());
        let rotated = SecretKey::generate();
        replace_key_file(&path, &rotated).unwrap();
        let read = load(None, Some(&path), false).unwrap().unwrap();
        assert_eq!(read.bytes.as_ref(), rotated.bytes.as_ref());
    }
}
