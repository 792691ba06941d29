//! Small, misuse-resistant wrappers around `ring` used across the core.
//!
//! All symmetric crypto in the core goes through here or through [`crate::age::stream`], so that
//! key sizes, nonce handling and the source of randomness are decided in one place.

use ring::aead::{self, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hkdf, hmac};
use zeroize::Zeroizing;

/// Fills `out` with bytes from the operating system's secure random source.
pub fn fill_random(out: &mut [u8]) {
    // SystemRandom only fails when the OS has no entropy source at all, which no supported
    // platform lacks; there is nothing a caller could do about it either.
    SystemRandom::new()
        .fill(out)
        .expect("the operating system's random source failed");
}

/// Returns `N` fresh random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill_random(&mut out);
    out
}

/// A fresh random identifier: 128 bits, lowercase hex.
pub fn random_id() -> String {
    hex(&random::<16>())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// An incremental SHA-256, for data that is streamed.
pub struct Sha256(digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }
}

impl Sha256 {
    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    /// The digest of everything fed so far.
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA-256 (RFC 5869) of `ikm` with `salt` and `info`, filling `out` (at most 8160 bytes).
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    let info = [info];
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(ikm)
        .expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output length is within 255 blocks");
}

/// A 32-byte key derived with HKDF-SHA-256, wiped from memory when dropped.
pub fn derive_key(ikm: &[u8], salt: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    hkdf_sha256(ikm, salt, info, out.as_mut());
    out
}

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&k, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Constant-time check of an HMAC-SHA-256 tag.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, data, tag).is_ok()
}

/// ChaCha20-Poly1305 under a 32-byte key.
pub fn chacha_key(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).expect("32-byte key"))
}

/// Authenticated encryption of small records (draft bodies, summaries) at rest.
///
/// Each record gets a fresh random 96-bit nonce, stored in front of the ciphertext. The
/// associated data binds a record to its table and row, so that rows cannot be swapped.
pub struct RecordKey(LessSafeKey);

/// Size of the nonce stored before each sealed record.
pub const RECORD_NONCE_LEN: usize = aead::NONCE_LEN;

impl RecordKey {
    /// A record key from 32 bytes of key material.
    pub fn new(key: &[u8; 32]) -> Self {
        Self(chacha_key(key))
    }

    /// Encrypts `plaintext`, returning `nonce || ciphertext || tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = random::<RECORD_NONCE_LEN>();
        let mut out = Vec::with_capacity(RECORD_NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[RECORD_NONCE_LEN..],
            )
            .expect("record fits ChaCha20-Poly1305 limits");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Decrypts a record written by [`RecordKey::seal`]; `None` if it was altered, belongs to
    /// another row, or was written under another key.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < RECORD_NONCE_LEN + 16 {
            return None;
        }
        let mut nonce = [0u8; RECORD_NONCE_LEN];
        nonce.copy_from_slice(&sealed[..RECORD_NONCE_LEN]);
        let mut buf = Zeroizing::new(sealed[RECORD_NONCE_LEN..].to_vec());
        let len = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_binding() {
        let key = RecordKey::new(&[7u8; 32]);
        let sealed = key.seal(b"drafts:1", b"hello");
        assert_eq!(key.open(b"drafts:1", &sealed).unwrap().as_slice(), b"hello");
        assert!(key.open(b"drafts:2", &sealed).is_none(), "row binding");
        let other = RecordKey::new(&[8u8; 32]);
        assert!(other.open(b"drafts:1", &sealed).is_none(), "wrong key");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(b"drafts:1", &tampered).is_none(), "tamper");
        assert!(key.open(b"drafts:1", &sealed[..10]).is_none(), "truncated");
    }

    #[test]
    fn hkdf_matches_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let mut okm = [0u8; 42];
        hkdf_sha256(&ikm, &salt, &info, &mut okm);
        assert_eq!(
            hex(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }
}
