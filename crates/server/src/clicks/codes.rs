//! Short codes and the in-memory map that resolves them: the redirect reads no database.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::HeaderValue;
use rand::Rng;
use uuid::Uuid;

/// Every code is this long: 62^8 ≈ 2.2 × 10^14 codes, so a million links leave a guess
/// one chance in 200 million.
pub const CODE_LEN: usize = 8;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh random code. `rand::rng()` is a CSPRNG (ChaCha) seeded from the OS, so codes
/// cannot be predicted from earlier ones.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A code as the map keys it: exactly `CODE_LEN` ASCII letters and digits, else `None`.
pub fn parse(raw: &[u8]) -> Option<[u8; CODE_LEN]> {
    let code: [u8; CODE_LEN] = raw.try_into().ok()?;
    code.iter().all(u8::is_ascii_alphanumeric).then_some(code)
}

/// Where a code sends its shopper, and the link its clicks count for.
#[derive(Debug, Clone)]
pub struct Target {
    pub link_id: Uuid,
    pub url: Box<str>,
}

/// Every link's code, loaded at start, added to at once by this process's creations and
/// by the poll job for other processes' (`jobs::short_codes`).
#[derive(Debug, Default)]
pub struct CodeMap {
    map: RwLock<HashMap<[u8; CODE_LEN], Target>>,
}

impl CodeMap {
    /// The link `code` belongs to and its URL as a `Location` value, made under the read
    /// lock: one copy of the URL per redirect, none kept (a `HeaderValue` per link would
    /// hold more memory than the URL itself). `None` for an unknown code, and for a stored
    /// URL that is no header value (it cannot be followed; never redirect elsewhere).
    pub fn resolve(&self, code: &[u8; CODE_LEN]) -> Option<(Uuid, HeaderValue)> {
        let map = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = map.get(code)?;
        Some((t.link_id, HeaderValue::from_str(&t.url).ok()?))
    }

    /// Adds (or replaces) links; rows with a code that is not well formed are skipped.
    pub fn insert_many<'a>(&self, rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) {
        let parsed: Vec<([u8; CODE_LEN], Target)> = rows
            .into_iter()
            .filter_map(|(code, id, url)| {
                Some((
                    parse(code.as_bytes())?,
                    Target {
                        link_id: Uuid::parse_str(id).ok()?,
                        url: url.into(),
                    },
                ))
            })
            .collect();
        if parsed.is_empty() {
            return;
        }
        let mut map = self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.extend(parsed);
    }

    pub fn contains(&self, code: &str) -> bool {
        let Some(code) = parse(code.as_bytes()) else {
            return false;
        };
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(&code)
    }

    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_letters_or_digits_and_differ() {
        let a = new_code();
        let b = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(parse(a.as_bytes()).is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_codes_do_not_parse() {
        for raw in ["", "abc", "abcdefghi", "abcd-fgh", "abcdéfg", "abc\0defg"] {
            assert!(parse(raw.as_bytes()).is_none(), "{raw:?}");
        }
    }

    /// Resident memory of this process in bytes (each nextest test is its own process).
    #[cfg(target_os = "linux")]
    fn rss() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    }

    /// The redirect's memory per million links, with a typical 250-byte attribution URL.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_million_links_take_about_a_third_of_a_gigabyte() {
        let map = CodeMap::default();
        let url = format!("https://www.amazon.de/dp/B0D45KS7QM?{}", "x".repeat(214));
        let rows: Vec<(String, String)> = (0..1_000_000)
            .map(|_| (new_code(), Uuid::now_v7().to_string()))
            .collect();
        let before = rss();
        for chunk in rows.chunks(10_000) {
            map.insert_many(
                chunk
                    .iter()
                    .map(|(c, i)| (c.as_str(), i.as_str(), url.as_str())),
            );
        }
        let per_link = (rss() - before) / 1_000_000;
        eprintln!(
            "code map: {per_link} bytes per link, {} MB per million links",
            per_link
        );
        assert_eq!(map.len(), 1_000_000);
        assert!((250..600).contains(&per_link), "{per_link} bytes per link");
    }
}
