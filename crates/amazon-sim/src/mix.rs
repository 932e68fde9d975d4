//! Stable hashing and a tiny deterministic generator for the synthetic numbers.
//!
//! Hand-rolled on purpose: the numbers must be identical across platforms, Rust
//! releases and `rand` versions, which neither `std` hashing nor `rand`'s generators
//! promise.

/// SplitMix64's finaliser: spreads every input bit over the whole output.
pub const fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes `seed` and the parts; parts are length-prefixed so `["ab","c"]` ≠ `["a","bc"]`.
pub fn hash(seed: u64, parts: &[&[u8]]) -> u64 {
    // FNV-1a over the parts, then the avalanche so nearby inputs give unrelated outputs.
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ avalanche(seed);
    for part in parts {
        for b in (part.len() as u64).to_le_bytes().iter().chain(part.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    avalanche(h)
}

/// A SplitMix64 stream.
#[derive(Debug, Clone)]
pub struct Stream(u64);

impl Stream {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        avalanche(self.0)
    }

    /// Uniform in `lo..=hi` (the tiny modulo bias is irrelevant here).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next_u64() % span) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_separates_parts() {
        assert_eq!(hash(1, &[b"a"]), hash(1, &[b"a"]));
        assert_ne!(hash(1, &[b"a"]), hash(2, &[b"a"]));
        assert_ne!(hash(1, &[b"ab", b"c"]), hash(1, &[b"a", b"bc"]));
    }

    #[test]
    fn range_stays_in_bounds() {
        let mut s = Stream::new(7);
        for _ in 0..1000 {
            let v = s.range(-3, 5);
            assert!((-3..=5).contains(&v));
        }
    }
}
