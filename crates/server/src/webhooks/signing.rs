//! Endpoint secrets and Standard Webhooks signatures.
//!
//! A secret is `whsec_` and 32 random bytes in base64, the form the official libraries
//! take. The server must sign, so it stores secrets encrypted (sealed with the server's
//! secret key, bound to the endpoint's id), never hashed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use standardwebhooks::Webhook;
use zeroize::Zeroizing;

use crate::secret_key::SecretKey;

const PREFIX: &str = "whsec_";

/// A new signing secret.
pub fn new_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut());
    Zeroizing::new(format!("{PREFIX}{}", STANDARD.encode(bytes.as_ref())))
}

/// The associated data an endpoint's secrets are sealed with: a secret copied onto
/// another endpoint does not open.
pub fn aad(endpoint_id: &str) -> Vec<u8> {
    format!("webhook-secret:{endpoint_id}").into_bytes()
}

/// The secret sealed for storage, in base64.
pub fn seal(key: &SecretKey, endpoint_id: &str, secret: &str) -> String {
    STANDARD.encode(key.seal(secret.as_bytes(), &aad(endpoint_id)))
}

/// A stored secret, opened; `None` when the key does not open it.
pub fn open(key: &SecretKey, endpoint_id: &str, sealed: &str) -> Option<Zeroizing<String>> {
    let raw = STANDARD.decode(sealed.trim()).ok()?;
    let plain = key.open(&raw, &aad(endpoint_id)).ok()?;
    String::from_utf8(plain.to_vec()).ok().map(Zeroizing::new)
}

/// The `webhook-signature` header: one `v1,<base64>` per secret, space-separated, as the
/// specification allows while a rotated-out secret is still honoured.
pub fn signature(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, standardwebhooks::WebhookError> {
    let mut parts = Vec::with_capacity(secrets.len());
    for s in secrets {
        parts.push(Webhook::new(s)?.sign(msg_id, timestamp, body)?);
    }
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secret_opens_only_for_its_endpoint_and_signs_verifiably() {
        let key = SecretKey::generate();
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
        let sealed = seal(&key, "ep1", &secret);
        assert_eq!(open(&key, "ep1", &sealed).as_deref(), Some(&*secret));
        assert!(open(&key, "ep2", &sealed).is_none());
        assert!(open(&SecretKey::generate(), "ep1", &sealed).is_none());

        let other = new_secret();
        let ts = time::OffsetDateTime::now_utc().unix_timestamp();
        let sig = signature(&[&secret, &other], "msg_1", ts, b"{}").unwrap();
        assert_eq!(sig.split(' ').count(), 2);
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-id", "msg_1".parse().unwrap());
        headers.insert("webhook-timestamp", ts.to_string().parse().unwrap());
        headers.insert("webhook-signature", sig.parse().unwrap());
        for s in [&secret, &other] {
            Webhook::new(s).unwrap().verify(b"{}", &headers).unwrap();
        }
        assert!(
            Webhook::new(&new_secret())
                .unwrap()
                .verify(b"{}", &headers)
                .is_err()
        );
        assert!(
            Webhook::new(&secret)
                .unwrap()
                .verify(b"{ }", &headers)
                .is_err()
        );
    }
}
