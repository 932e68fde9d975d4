//! Opaque pagination cursors: a keyset position that clients hand back unchanged.
//!
//! A cursor is the position's JSON followed by a truncated HMAC-SHA256 of it, in URL-safe
//! base64. The tag makes cursors tamper-evident: a client can only hand back what the
//! server gave out, so a listing never reads a position it did not write itself.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC-SHA256 tag kept in a cursor: 128 bits, the truncation RFC 2104 and
/// NIST SP 800-107 allow, keeping cursors short enough for a query string.
const TAG_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct InvalidCursor;

/// The key cursors are signed with. Every server that may receive a cursor must hold the
/// same key, so it is derived from a secret they share.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    /// A key for cursors from `secret`, labelled so the secret may key other things too.
    pub fn derive(secret: &[u8]) -> Self {
        Self(tag(secret, b"quiver cursor key v1"))
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` fails for none.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn tag(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = mac(key);
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Encodes and decodes a keyset position. The position type is private to each
/// listing, so a cursor from one listing fails to decode in another.
pub struct Cursor;

impl Cursor {
    pub fn encode<T: Serialize>(key: &CursorKey, position: &T) -> String {
        // Serialising plain keyset structs cannot fail; an empty payload would only be
        // refused on the way back, never skip rows.
        let mut bytes = serde_json::to_vec(position).unwrap_or_default();
        let t = tag(&key.0, &bytes);
        bytes.extend_from_slice(&t[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode<T: DeserializeOwned>(key: &CursorKey, cursor: &str) -> Result<T, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor.trim())
            .map_err(|_| InvalidCursor)?;
        let split = bytes.len().checked_sub(TAG_BYTES).ok_or(InvalidCursor)?;
        let (payload, t) = bytes.split_at(split);
        let mut m = mac(&key.0);
        m.update(payload);
        m.verify_truncated_left(t).map_err(|_| InvalidCursor)?;
        serde_json::from_slice(payload).map_err(|_| InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pos {
        t: i64,
        id: String,
    }

    fn key() -> CursorKey {
        CursorKey::derive(b"test secret")
    }

    #[test]
    fn unsigned_and_foreign_cursors_are_refused() {
        let p = Pos {
            t: -1,
            id: "x".into(),
        };
        let bare = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&p).unwrap_or_default());
        assert_eq!(Cursor::decode::<Pos>(&key(), &bare), Err(InvalidCursor));
        let other = Cursor::encode(&CursorKey::derive(b"another secret"), &p);
        assert_eq!(Cursor::decode::<Pos>(&key(), &other), Err(InvalidCursor));
        assert_eq!(Cursor::decode::<Pos>(&key(), ""), Err(InvalidCursor));
        assert_eq!(format!("{:?}", key()), "CursorKey(..)");
    }

    proptest! {
        #[test]
        fn round_trip(t in any::<i64>(), id in "\\PC{0,30}") {
            let p = Pos { t, id };
            let c = Cursor::encode(&key(), &p);
            prop_assert_eq!(Cursor::decode::<Pos>(&key(), &c), Ok(p));
        }

        /// Changing any one bit of a cursor's bytes makes it invalid.
        #[test]
        fn any_flipped_bit_is_refused(t in any::<i64>(), id in "\\PC{0,30}", at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let c = Cursor::encode(&key(), &Pos { t, id });
            let mut bytes = URL_SAFE_NO_PAD.decode(&c).unwrap_or_default();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            let tampered = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert_eq!(Cursor::decode::<Pos>(&key(), &tampered), Err(InvalidCursor));
        }

        #[test]
        fn garbage_is_rejected_not_panicking(s in "\\PC{0,40}") {
            let _ = Cursor::decode::<Pos>(&key(), &s);
        }
    }
}
