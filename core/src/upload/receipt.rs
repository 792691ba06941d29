//! Reading and checking the server's signed receipt.
//!
//! A receipt is accepted when it names the report, lists exactly the report's parts with the
//! sizes and hashes the phone sealed, and (when the profile has a `receipt_key`) verifies
//! under that key.
//!
//! **A profile without `receipt_key`:** the receipt cannot be verified, so it proves no more
//! than the TLS connection it came over (and the SPKI pin, if any). The uploader still
//! requires every part's size and hash to match and then marks the report delivered, keeping
//! the receipt as received; [`read_receipt`] reports it as unverified, and front ends say so.
//! Refusing instead would leave such a report `sending` for ever, with nothing the reporter
//! could do about it; deployments are expected to publish a `receipt_key`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::jws::{JwsError, PublicKey};
use crate::outbox::OutboxReport;
use crate::protocol::{RECEIPT_TYP, Receipt};

/// A receipt as read: its content, and whether its signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// True when it verified under the profile's `receipt_key`; false when the profile
    /// has none.
    pub verified: bool,
}

/// Why a receipt was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not a receipt, a bad signature, or another report's: ask again later.
    #[error("the receipt is not valid: {0}")]
    Invalid(&'static str),
    /// A valid receipt whose parts differ from what the phone sealed: the server holds
    /// something else, and the report fails.
    #[error("the receipt's parts do not match what this phone sealed")]
    Mismatch,
}

/// Reads a signed receipt; with `key`, its signature must verify.
pub fn read_receipt(signed: &[u8], key: Option<&PublicKey>) -> Result<ReadReceipt, JwsError> {
    match key {
        Some(k) => Ok(ReadReceipt {
            receipt: Receipt::verify(signed, k)?,
            verified: true,
        }),
        None => Ok(ReadReceipt {
            receipt: unverified(signed)?,
            verified: false,
        }),
    }
}

/// The payload of a flattened JWS receipt, without checking its signature.
fn unverified(signed: &[u8]) -> Result<Receipt, JwsError> {
    #[derive(Deserialize)]
    struct Jws {
        protected: String,
        payload: String,
    }
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        typ: String,
    }
    let jws: Jws = serde_json::from_slice(signed).map_err(|_| JwsError::Malformed)?;
    let header: Header = URL_SAFE_NO_PAD
        .decode(&jws.protected)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(JwsError::Malformed)?;
    if header.alg != "EdDSA" || header.typ != RECEIPT_TYP {
        return Err(JwsError::Malformed);
    }
    let payload = URL_SAFE_NO_PAD
        .decode(&jws.payload)
        .map_err(|_| JwsError::Malformed)?;
    serde_json::from_slice(&payload).map_err(|_| JwsError::Malformed)
}

/// Checks a receipt against the report as queued on this phone.
pub fn check_receipt(
    signed: &[u8],
    key: Option<&PublicKey>,
    report: &OutboxReport,
) -> Result<ReadReceipt, ReceiptError> {
    let read = read_receipt(signed, key).map_err(|e| match e {
        JwsError::BadSignature => ReceiptError::Invalid("bad signature"),
        _ => ReceiptError::Invalid("malformed"),
    })?;
    let r = &read.receipt;
    if r.report != report.id {
        return Err(ReceiptError::Invalid("another report's receipt"));
    }
    if r.schema_version != 1 {
        return Err(ReceiptError::Invalid("unknown receipt version"));
    }
    let same = r.parts.len() == report.parts.len()
        && r.parts.iter().zip(&report.parts).all(|(got, ours)| {
            got.part == ours.idx && got.size == ours.size && got.sha256 == ours.sha256
        });
    if !same {
        return Err(ReceiptError::Mismatch);
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::SigningKey;
    use crate::outbox::{PartKind, PartStatus, ReportState};
    use crate::protocol::ReceiptPart;
    use time::OffsetDateTime;

    fn report() -> OutboxReport {
        let part = |idx: u32, size: u64, c: char| PartStatus {
            idx,
            kind: if idx == 0 {
                PartKind::Report
            } else {
                PartKind::Attachment
            },
            size,
            sha256: c.to_string().repeat(64),
            sent: size,
            done: true,
            upload_url: None,
        };
        OutboxReport {
            id: "0123456789abcdef0123456789abcdef".into(),
            state: ReportState::Sending,
            queued_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            category: None,
            drafted_at: OffsetDateTime::UNIX_EPOCH,
            parts: vec![part(0, 900, 'a'), part(1, 70_000, 'b')],
            failure: None,
            receipt: None,
            carried: false,
        }
    }

    fn receipt_for(r: &OutboxReport) -> Receipt {
        Receipt {
            schema_version: 1,
            report: r.id.clone(),
            received_at: OffsetDateTime::UNIX_EPOCH,
            parts: r
                .parts
                .iter()
                .map(|p| ReceiptPart {
                    part: p.idx,
                    size: p.size,
                    sha256: p.sha256.clone(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_signed_matching_receipt_is_accepted_and_others_are_not() {
        let key = SigningKey::generate();
        let rep = report();
        let good = receipt_for(&rep);
        let signed = good.sign(&key);
        let read = check_receipt(&signed, Some(&key.public()), &rep).unwrap();
        assert!(read.verified);
        assert_eq!(read.receipt, good);

        // Another key's signature, or garbage: ask again later.
        let other = SigningKey::generate();
        assert_eq!(
            check_receipt(&good.sign(&other), Some(&key.public()), &rep),
            Err(ReceiptError::Invalid("bad signature"))
        );
        assert!(matches!(
            check_receipt(b"Welcome to tusd", Some(&key.public()), &rep),
            Err(ReceiptError::Invalid(_))
        ));
        let mut another = good.clone();
        another.report = "f".repeat(32);
        assert!(matches!(
            check_receipt(&another.sign(&key), Some(&key.public()), &rep),
            Err(ReceiptError::Invalid(_))
        ));

        // Signed, but the parts are not what this phone sealed: the report fails.
        for tamper in [
            |r: &mut Receipt| r.parts[1].sha256 = "c".repeat(64),
            |r: &mut Receipt| r.parts[0].size += 1,
            |r: &mut Receipt| {
                r.parts.pop();
            },
            |r: &mut Receipt| r.parts.swap(0, 1),
        ] {
            let mut bad = good.clone();
            tamper(&mut bad);
            assert_eq!(
                check_receipt(&bad.sign(&key), Some(&key.public()), &rep),
                Err(ReceiptError::Mismatch)
            );
        }
    }

    #[test]
    fn without_a_receipt_key_a_matching_receipt_is_accepted_unverified() {
        let key = SigningKey::generate();
        let rep = report();
        let signed = receipt_for(&rep).sign(&key);
        let read = check_receipt(&signed, None, &rep).unwrap();
        assert!(!read.verified);
        let mut bad = receipt_for(&rep);
        bad.parts[0].sha256 = "0".repeat(64);
        assert_eq!(
            check_receipt(&bad.sign(&key), None, &rep),
            Err(ReceiptError::Mismatch)
        );
        // Still a receipt: another JWS type is refused.
        let profile_like = crate::jws::sign("berani-profile+json", b"{}", &key);
        assert!(read_receipt(&profile_like, None).is_err());
    }
}
