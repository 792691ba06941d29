//! `Upload-Checksum` (tus checksum extension): sha1 and sha256 of one PATCH body.
//!
//! With a checksum the chunk counts only after it verifies, so a body damaged on a flaky
//! 2G link is refused (460) instead of becoming part of the report. SHA-256 comes from ring,
//! SHA-1 (for stock tus clients) from the `sha1` crate.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::digest;
use sha1::Digest;

/// The `Tus-Checksum-Algorithm` list.
pub const ALGORITHMS: &str = "sha1,sha256";

/// A checksum a client announced for its PATCH body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    algorithm: Algorithm,
    digest: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha1,
    Sha256,
}

/// Why an `Upload-Checksum` header was refused (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksumError(pub &'static str);

/// Parses `Upload-Checksum: <algorithm> <base64 digest>`.
pub fn parse(header: &[u8]) -> Result<Expected, ChecksumError> {
    let text =
        std::str::from_utf8(header).map_err(|_| ChecksumError("Upload-Checksum is malformed"))?;
    let (name, value) = text
        .split_once(' ')
        .ok_or(ChecksumError("Upload-Checksum is malformed"))?;
    let (algorithm, len) = match name {
        "sha1" => (Algorithm::Sha1, 20),
        "sha256" => (Algorithm::Sha256, 32),
        _ => {
            return Err(ChecksumError(
                "Upload-Checksum algorithm is not supported (sha1, sha256)",
            ));
        }
    };
    let digest = STANDARD
        .decode(value.trim())
        .ok()
        .filter(|d| d.len() == len)
        .ok_or(ChecksumError("Upload-Checksum digest is malformed"))?;
    Ok(Expected { algorithm, digest })
}

/// A running hash of a PATCH body.
pub enum Hasher {
    /// SHA-1.
    Sha1(Box<sha1::Sha1>),
    /// SHA-256.
    Sha256(Box<digest::Context>),
}

impl Expected {
    /// A hasher for the announced algorithm.
    pub fn hasher(&self) -> Hasher {
        match self.algorithm {
            Algorithm::Sha1 => Hasher::Sha1(Box::default()),
            Algorithm::Sha256 => Hasher::Sha256(Box::new(digest::Context::new(&digest::SHA256))),
        }
    }

    /// True when `hasher`'s digest is the announced one.
    pub fn matches(&self, hasher: Hasher) -> bool {
        let got = match hasher {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finish().as_ref().to_vec(),
        };
        got == self.digest
    }
}

impl Hasher {
    /// Feeds more body bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_both_algorithms() {
        // SHA-1("abc") and SHA-256("abc") from FIPS 180-2.
        let e = parse(b"sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").unwrap();
        let mut h = e.hasher();
        h.update(b"ab");
        h.update(b"c");
        assert!(e.matches(h));
        let e = parse(b"sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=").unwrap();
        let mut h = e.hasher();
        h.update(b"abc");
        assert!(e.matches(h));
        let mut h = e.hasher();
        h.update(b"abd");
        assert!(!e.matches(h));
        assert!(parse(b"md5 AAAA").is_err());
        assert!(parse(b"sha256 AAAA").is_err());
        assert!(parse(b"sha256").is_err());
    }
}
