//! The delivery protocol between the phone and the intake server, in one place.
//!
//! Sealed parts travel as tus 1.0.0 uploads to `{intake}/v1/uploads`; `Upload-Metadata`
//! carries only what transport needs (see [`meta`]). When every part of a report has
//! arrived and matches its hash, the server signs a [`Receipt`] that the phone fetches with
//! the report's client token. `docs/PROTOCOL.md` describes the whole exchange.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::jws::{self, JwsError, PublicKey, SigningKey};

/// The tus version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// The tus extensions the intake server supports.
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,checksum,expiration,termination";
/// Path of the tus endpoint under the intake URL.
pub const UPLOADS_PATH: &str = "/v1/uploads";
/// Path of the signed profile under the intake URL.
pub const PROFILE_PATH: &str = "/v1/profile";
/// JWS `typ` of a receipt.
pub const RECEIPT_TYP: &str = "berani-receipt+json";
/// Most parts one report may have: the document plus the attachment limit.
pub const MAX_PARTS: u32 = crate::model::validate::MAX_ATTACHMENTS as u32 + 1;
/// Largest `Upload-Metadata` header the server accepts, in bytes.
pub const MAX_METADATA_BYTES: usize = 1024;

/// `Upload-Metadata` keys (values are base64, as tus requires).
pub mod meta {
    /// The report id: 32 lowercase hex characters.
    pub const REPORT: &str = "report";
    /// The part index, from 0.
    pub const PART: &str = "part";
    /// How many parts the report has.
    pub const PARTS: &str = "parts";
    /// `report` (part 0, the document) or `attachment`.
    pub const KIND: &str = "kind";
    /// Lowercase hex SHA-256 of the part's ciphertext.
    pub const SHA256: &str = "sha256";
    /// The report's client token (base64url, 32 bytes); the server keeps only its hash.
    pub const TOKEN: &str = "token";
    /// Part 0 only, optional: the follow-up lookup id (32 lowercase hex characters), derived
    /// from the receipt code (see [`crate::followup`]).
    pub const FOLLOWUP: &str = "followup";
    /// Part 0 only, with [`FOLLOWUP`]: the follow-up auth value (43 base64url characters);
    /// the server keeps only a slow-hash verifier of it.
    pub const FOLLOWUP_AUTH: &str = "followup_auth";
}

/// Path of a report's receipt under the intake URL.
pub fn receipt_path(report_id: &str) -> String {
    format!("/v1/reports/{report_id}/receipt")
}

/// True for a well-formed report id (32 lowercase hex characters).
pub fn is_report_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A new random client token.
pub fn new_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::crypto::random::<32>())
}

/// What the server keeps of a client token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    crate::crypto::hex(&crate::crypto::sha256(token.as_bytes()))
}

/// One part as the server received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPart {
    /// Part index.
    pub part: u32,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the ciphertext.
    pub sha256: String,
}

/// The server's signed statement that a whole report arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Format version, 1.
    pub schema_version: u32,
    /// The report id.
    pub report: String,
    /// When the last part was stored.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Every part, in order.
    pub parts: Vec<ReceiptPart>,
}

impl Receipt {
    /// Signs the receipt with the server's receipt key.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        jws::sign(
            RECEIPT_TYP,
            &serde_json::to_vec(self).expect("receipt serialises"),
            key,
        )
    }

    /// Verifies a signed receipt against the key from the agency profile.
    pub fn verify(signed: &[u8], key: &PublicKey) -> Result<Receipt, JwsError> {
        let payload = jws::verify(RECEIPT_TYP, signed, key)?;
        serde_json::from_slice(&payload).map_err(|_| JwsError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_sign_and_verify() {
        let key = SigningKey::generate();
        let r = Receipt {
            schema_version: 1,
            report: "0".repeat(32),
            received_at: OffsetDateTime::UNIX_EPOCH,
            parts: vec![ReceiptPart {
                part: 0,
                size: 10,
                sha256: "ab".repeat(32),
            }],
        };
        let signed = r.sign(&key);
        assert_eq!(Receipt::verify(&signed, &key.public()).unwrap(), r);
        let other = SigningKey::generate().public();
        assert_eq!(
            Receipt::verify(&signed, &other),
            Err(JwsError::BadSignature)
        );
        assert!(is_report_id(&"a1".repeat(16)));
        assert!(!is_report_id("../../etc/passwd"));
        assert!(!is_report_id(&"A1".repeat(16)));
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert_eq!(token_hash(&t).len(), 64);
    }
}
