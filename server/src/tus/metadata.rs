//! The strict parser of `Upload-Metadata`.
//!
//! The header is the only thing about a report that travels in clear, so the server accepts
//! exactly the six keys of the protocol, plus on part 0 the optional follow-up pair
//! (`followup`, `followup_auth`), and nothing more: a client that tried to add a file
//! name or a description would be refused (400), not silently stored. Every value is
//! checked; a report id must be 32 lowercase hex characters, which also rules out anything
//! that could look like a path. The client token is hashed at once and never kept.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, general_purpose};
use berani_core::protocol::{self, MAX_METADATA_BYTES, MAX_PARTS, meta};

/// What the metadata says about one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMeta {
    /// The report id.
    pub report: String,
    /// The part index.
    pub part: u32,
    /// How many parts the report has.
    pub parts: u32,
    /// Lowercase hex SHA-256 of the whole part.
    pub sha256: String,
    /// Lowercase hex SHA-256 of the client token.
    pub token_hash: String,
    /// The follow-up registration (part 0 only, optional).
    pub followup: Option<FollowupMeta>,
}

/// A follow-up registration from part 0's metadata: the lookup id and the auth value. The
/// auth value is only hashed (Argon2id) and then dropped; it is never stored or printed.
#[derive(Clone, PartialEq, Eq)]
pub struct FollowupMeta {
    /// The lookup id (32 lowercase hex characters).
    pub lookup: String,
    /// The auth value (43 base64url characters).
    pub auth: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for FollowupMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FollowupMeta(…)")
    }
}

/// Why the metadata was refused; the message names the header or key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaError(pub &'static str);

/// Standard base64, as tus specifies, with or without padding.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decimal(s: &str) -> Option<u32> {
    // No sign, no leading zeros, no spaces: one spelling per number.
    let ok = !s.is_empty()
        && s.len() <= 9
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

fn is_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses an `Upload-Metadata` header value.
pub fn parse(header: &[u8]) -> Result<UploadMeta, MetaError> {
    if header.len() > MAX_METADATA_BYTES {
        return Err(MetaError("Upload-Metadata is longer than 1024 bytes"));
    }
    let header =
        std::str::from_utf8(header).map_err(|_| MetaError("Upload-Metadata is not ASCII"))?;
    let mut seen = HashSet::new();
    let (mut report, mut part, mut parts, mut kind, mut sha256, mut token) =
        (None, None, None, None, None, None);
    let (mut lookup, mut auth) = (None, None);
    for pair in header.split(',') {
        let (key, value) = pair
            .split_once(' ')
            .ok_or(MetaError("Upload-Metadata: every key needs a base64 value"))?;
        if !seen.insert(key) {
            return Err(MetaError("Upload-Metadata: a key appears twice"));
        }
        let value = B64
            .decode(value)
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .filter(|v| v.is_ascii())
            .ok_or(MetaError(
                "Upload-Metadata: a value is not base64 of ASCII text",
            ))?;
        let slot = match key {
            meta::REPORT => &mut report,
            meta::PART => &mut part,
            meta::PARTS => &mut parts,
            meta::KIND => &mut kind,
            meta::SHA256 => &mut sha256,
            meta::TOKEN => &mut token,
            meta::FOLLOWUP => &mut lookup,
            meta::FOLLOWUP_AUTH => &mut auth,
            _ => return Err(MetaError("Upload-Metadata: unknown key")),
        };
        *slot = Some(value);
    }
    let report = report.ok_or(MetaError("metadata: report is missing"))?;
    if !protocol::is_report_id(&report) {
        return Err(MetaError("metadata: report is not a report id"));
    }
    let parts = parts
        .as_deref()
        .ok_or(MetaError("metadata: parts is missing"))
        .map(decimal)?
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or(MetaError("metadata: parts must be 1 to 21"))?;
    let part = part
        .as_deref()
        .ok_or(MetaError("metadata: part is missing"))
        .map(decimal)?
        .filter(|n| *n < parts)
        .ok_or(MetaError("metadata: part must be below parts"))?;
    let expected_kind = if part == 0 { "report" } else { "attachment" };
    match kind.as_deref() {
        None => return Err(MetaError("metadata: kind is missing")),
        Some(k) if k != expected_kind => {
            return Err(MetaError("metadata: kind does not match the part"));
        }
        Some(_) => {}
    }
    let sha256 = sha256.ok_or(MetaError("metadata: sha256 is missing"))?;
    if !is_sha256_hex(&sha256) {
        return Err(MetaError(
            "metadata: sha256 must be 64 lowercase hex characters",
        ));
    }
    let token = token.ok_or(MetaError("metadata: token is missing"))?;
    if !is_token(&token) {
        return Err(MetaError("metadata: token must be 43 base64url characters"));
    }
    let followup = match (lookup, auth) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return Err(MetaError(
                "metadata: followup and followup_auth go together",
            ));
        }
        (Some(_), Some(_)) if part != 0 => {
            return Err(MetaError("metadata: followup is for part 0 only"));
        }
        (Some(lookup), Some(auth)) => {
            let auth = zeroize::Zeroizing::new(auth);
            if !berani_core::followup::is_lookup_id(&lookup) {
                return Err(MetaError(
                    "metadata: followup must be 32 lowercase hex characters",
                ));
            }
            if !berani_core::followup::is_auth_value(&auth) {
                return Err(MetaError(
                    "metadata: followup_auth must be 43 base64url characters",
                ));
            }
            Some(FollowupMeta { lookup, auth })
        }
    };
    Ok(UploadMeta {
        report,
        part,
        parts,
        sha256,
        token_hash: protocol::token_hash(&token),
        followup,
    })
}

/// Encodes metadata pairs the way clients send them (for tests and tools).
pub fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", general_purpose::STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Vec<(&'static str, String)> {
        vec![
            ("report", "ab".repeat(16)),
            ("part", "1".into()),
            ("parts", "3".into()),
            ("kind", "attachment".into()),
            ("sha256", "0f".repeat(32)),
            ("token", protocol::new_token()),
        ]
    }

    fn with(key: &str, value: Option<&str>) -> String {
        let pairs: Vec<(&str, String)> = good()
            .into_iter()
            .filter_map(|(k, v)| match (k == key, value) {
                (true, Some(nv)) => Some((k, nv.to_owned())),
                (true, None) => None,
                (false, _) => Some((k, v)),
            })
            .collect();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        encode(&refs)
    }

    #[test]
    fn accepts_the_six_keys() {
        let m = parse(with("", None).as_bytes()).unwrap();
        assert_eq!(m.part, 1);
        assert_eq!(m.parts, 3);
        assert_eq!(m.token_hash.len(), 64);
    }

    #[test]
    fn takes_the_follow_up_pair_on_part_0_only() {
        let base = |part: &str, kind: &str| {
            let token = protocol::new_token();
            vec![
                ("report", "ab".repeat(16)),
                ("part", part.to_string()),
                ("parts", "2".into()),
                ("kind", kind.to_string()),
                ("sha256", "0f".repeat(32)),
                ("token", token),
            ]
        };
        let enc = |pairs: &[(&str, String)]| {
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            encode(&refs)
        };
        let auth = protocol::new_token();
        let mut p0 = base("0", "report");
        p0.push(("followup", "cd".repeat(16)));
        p0.push(("followup_auth", auth.clone()));
        let m = parse(enc(&p0).as_bytes()).unwrap();
        let f = m.followup.unwrap();
        assert_eq!(f.lookup, "cd".repeat(16));
        assert_eq!(f.auth.as_str(), auth);
        assert!(
            !format!("{f:?}").contains(&auth),
            "Debug never shows the auth value"
        );
        assert!(
            parse(enc(&base("0", "report")).as_bytes())
                .unwrap()
                .followup
                .is_none()
        );
        let mut p1 = base("1", "attachment");
        p1.push(("followup", "cd".repeat(16)));
        p1.push(("followup_auth", auth.clone()));
        assert!(parse(enc(&p1).as_bytes()).is_err(), "not on attachments");
        let mut half = base("0", "report");
        half.push(("followup", "cd".repeat(16)));
        assert!(parse(enc(&half).as_bytes()).is_err(), "both or neither");
        let mut bad = base("0", "report");
        bad.push(("followup", "CD".repeat(16)));
        bad.push(("followup_auth", auth));
        assert!(parse(enc(&bad).as_bytes()).is_err());
    }

    #[test]
    fn refuses_every_malformed_value() {
        let cases: &[(&str, Option<&str>)] = &[
            ("report", None),
            ("report", Some("../../../../etc/passwd")),
            ("report", Some(&"AB".repeat(16))),
            ("report", Some(&"ab".repeat(17))),
            ("part", None),
            ("part", Some("3")),
            ("part", Some("01")),
            ("part", Some("-1")),
            ("parts", Some("0")),
            ("parts", Some("22")),
            ("kind", Some("report")),
            ("kind", None),
            ("sha256", Some(&"0F".repeat(32))),
            ("sha256", Some("abc")),
            ("token", Some("short")),
            ("token", Some(&"a".repeat(42))),
            ("token", Some(&"+".repeat(43))),
        ];
        for (key, value) in cases {
            assert!(
                parse(with(key, *value).as_bytes()).is_err(),
                "{key} {value:?}"
            );
        }
        let ok = with("", None);
        assert!(parse(format!("{ok},filename ZXZpbC5qcGc=").as_bytes()).is_err());
        assert!(parse(format!("{ok},part MQ==").as_bytes()).is_err());
        assert!(parse(format!("{ok},").as_bytes()).is_err());
        assert!(parse(b"report !!!").is_err());
        assert!(parse(format!("{ok},{}", "x".repeat(1100)).as_bytes()).is_err());
    }
}
