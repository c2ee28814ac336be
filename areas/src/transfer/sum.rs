//! The checksums a transfer can be asked to match (TR-181's `CheckSumAlgorithm`: SHA-1,
//! SHA-224, SHA-256, SHA-384, SHA-512), computed while the file streams: ring's digests, and
//! RustCrypto's `sha2` for SHA-224, which ring lacks.
//!
//! Never does: read files; the caller feeds the bytes.

use sha2::Digest as _;

/// A `CheckSumAlgorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// Every name, as TR-181 spells them (the enumeration of `CheckSumAlgorithm`).
    pub const NAMES: &'static [&'static str] =
        &["SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512"];

    /// The algorithm TR-181 names `name`; `None` for another name.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "SHA-1" => Some(Algorithm::Sha1),
            "SHA-224" => Some(Algorithm::Sha224),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-384" => Some(Algorithm::Sha384),
            "SHA-512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// A hasher of this algorithm.
    pub fn hasher(self) -> Hasher {
        let ring = |a| Hasher(Inner::Ring(ring::digest::Context::new(a)));
        match self {
            Algorithm::Sha1 => ring(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            Algorithm::Sha224 => Hasher(Inner::Sha224(sha2::Sha224::new())),
            Algorithm::Sha256 => ring(&ring::digest::SHA256),
            Algorithm::Sha384 => ring(&ring::digest::SHA384),
            Algorithm::Sha512 => ring(&ring::digest::SHA512),
        }
    }
}

/// A running checksum.
pub struct Hasher(Inner);

enum Inner {
    Ring(ring::digest::Context),
    Sha224(sha2::Sha224),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            Inner::Ring(c) => c.update(bytes),
            Inner::Sha224(h) => h.update(bytes),
        }
    }

    /// The digest, lowercase hex.
    pub fn finish_hex(self) -> String {
        match self.0 {
            Inner::Ring(c) => hex(c.finish().as_ref()),
            Inner::Sha224(h) => hex(&h.finalize()),
        }
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: Algorithm, data: &[u8]) -> String {
        let mut h = a.hasher();
        // In two pieces, as a stream arrives.
        let (x, y) = data.split_at(data.len() / 2);
        h.update(x);
        h.update(y);
        h.finish_hex()
    }

    /// FIPS 180-4's examples for "abc".
    #[test]
    fn every_algorithm_matches_the_fips_examples() {
        assert_eq!(sum(Algorithm::Sha1, b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sum(Algorithm::Sha224, b"abc"),
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
        );
        assert_eq!(
            sum(Algorithm::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sum(Algorithm::Sha384, b"abc").starts_with("cb00753f45a35e8bb5a03d699ac65007"));
        assert!(sum(Algorithm::Sha512, b"abc").starts_with("ddaf35a193617abacc417349ae204131"));
        for name in Algorithm::NAMES {
            assert!(Algorithm::from_name(name).is_some(), "{name}");
        }
        assert_eq!(Algorithm::from_name("MD5"), None);
    }
}
