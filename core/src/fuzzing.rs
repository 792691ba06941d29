//! Entry points and fixed keys for the fuzz targets in `core/fuzz`, behind the `fuzzing`
//! feature, which the app, the CLI and the server never switch on.
//!
//! The fuzzer mutates files that were made with these keys (the seed corpora, written by the
//! `fuzz-seeds` example), so a mutated file still reaches the code behind a MAC or a
//! signature: the age payload behind the header MAC, the profile fields behind the JWS
//! signature. The keys are public test values and protect nothing.

use time::OffsetDateTime;

use crate::age::Identity;
use crate::jws::SigningKey;
use crate::profile::{AgencyProfile, ProfileError};

/// The age identity the `age_file` corpus is sealed to.
pub fn age_identity() -> Identity {
    Identity::from_bytes([0x42; 32])
}

/// The key the `age_stream` corpus is sealed under (the STREAM payload key).
pub const STREAM_KEY: [u8; 32] = [0x17; 32];

/// The profile-signing key the `profile` corpus is signed with: Ed25519 from a fixed seed
/// (PKCS#8 v1).
pub fn profile_signing_key() -> SigningKey {
    const PKCS8_V1_ED25519: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PKCS8_V1_ED25519.to_vec();
    der.extend_from_slice(&[0x5a; 32]);
    SigningKey::from_pkcs8(&der).expect("a fixed Ed25519 seed is a valid key")
}

/// The time the profile target checks expiry against: 2026-06-01T00:00:00Z.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_272_000).expect("a valid time")
}

/// Reads a profile's JSON payload the way [`crate::profile::verify`] does once the signature
/// has checked out, so the fuzzer reaches the field checks without forging signatures.
pub fn profile_payload(payload: &[u8]) -> Result<AgencyProfile, ProfileError> {
    crate::profile::parse_signed_payload(payload, now())
}

/// The `Upload-Metadata` the phone sends for one part (for the server's `tus_metadata` and
/// `tus_headers` seeds).
pub fn part_metadata(
    p: &crate::outbox::PendingPart,
    token: &str,
    followup: Option<(&str, &str)>,
) -> Option<String> {
    crate::upload::tus::part_metadata(p, token, followup)
}

/// The `Upload-Checksum` the phone sends for a chunk.
pub fn checksum(chunk: &[u8]) -> String {
    crate::upload::tus::checksum(chunk)
}
