//! The agency profile: who receives reports, where, and under which keys.
//!
//! A profile is a JSON document signed with Ed25519, carried as a flattened JWS (RFC 7515,
//! `alg: EdDSA` per RFC 8037) so that any JOSE library can check it too. The core trusts one
//! profile-signing key; a hostile server cannot swap in its own recipient keys, roll the
//! profile back to an older version, or keep serving an expired one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::age::Recipient;
use crate::gazetteer::Gazetteer;

/// The JWS `typ` of a Berani profile.
const TYP: &str = "berani-profile+json";
/// The profile format this build reads and writes.
pub const PROFILE_SCHEMA_VERSION: u32 = 1;
/// Upper bound on `max_attachment_bytes` a profile may set (2 GiB).
const MAX_ATTACHMENT_CAP: u64 = 2 << 30;

/// A hotline the reporter can call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotline {
    /// Its name, e.g. "Dinsos P3A Blora".
    pub name: String,
    /// The number to call.
    pub number: String,
    /// A WhatsApp number, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
}

/// What an agency publishes for the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyProfile {
    /// Format version; see [`PROFILE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Increases with every new profile; the core refuses to go back.
    pub version: u64,
    /// The agency's name.
    pub agency_name: String,
    /// The regency it serves, e.g. `33.16` (Kabupaten Blora).
    pub regency_code: String,
    /// Base URL of the intake server, e.g. `https://lapor.example.go.id`.
    pub intake_url: String,
    /// The age recipients (`age1…`) every report is sealed to.
    pub recipients: Vec<String>,
    /// Base64 SHA-256 of the intake server's TLS SubjectPublicKeyInfo, when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_spki_sha256: Option<String>,
    /// Hotlines shown beside the national emergency numbers.
    pub hotlines: Vec<Hotline>,
    /// Largest attachment accepted, in bytes.
    pub max_attachment_bytes: u64,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// After this the profile is refused, and reports are not sealed under it.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Where the app can be downloaded, for sharing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
}

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// Not a signed profile, or a field is malformed.
    #[error("profile is malformed: {0}")]
    Malformed(&'static str),
    /// The signature does not verify under the trusted key (tampered, or signed by another key).
    #[error("profile signature is not valid for the trusted key")]
    BadSignature,
    /// The profile has expired.
    #[error("profile has expired")]
    Expired,
    /// The profile is older than the one installed.
    #[error("profile version {offered} is older than the installed version {installed}")]
    Older {
        /// Version offered.
        offered: u64,
        /// Version installed.
        installed: u64,
    },
    /// No profile-signing key is trusted yet.
    #[error("no profile-signing key is trusted yet")]
    NoTrustedKey,
    /// A different profile-signing key is already pinned.
    #[error("a different profile-signing key is already trusted")]
    KeyMismatch,
    /// A key string is malformed.
    #[error("profile-signing key is malformed")]
    BadKey,
    /// No profile is installed.
    #[error("no agency profile is installed")]
    NotInstalled,
    /// The profile's regency is not in this build's gazetteer.
    #[error("this build has no map data for the profile's regency")]
    UnknownRegency,
}

impl ProfileError {
    /// Plain Indonesian.
    pub fn message_id(&self) -> &'static str {
        match self {
            ProfileError::Malformed(_) => "profil rusak",
            ProfileError::BadSignature => "tanda tangan tidak sah",
            ProfileError::Expired => "profil sudah kedaluwarsa",
            ProfileError::Older { .. } => "profil lebih lama dari yang terpasang",
            ProfileError::NoTrustedKey => "belum ada kunci tepercaya",
            ProfileError::KeyMismatch => "kunci berbeda dari yang dipercaya",
            ProfileError::BadKey => "kunci tidak sah",
            ProfileError::NotInstalled => "belum ada profil lembaga",
            ProfileError::UnknownRegency => "wilayah profil tidak dikenal",
        }
    }
}

/// The public half of a profile-signing key: base64url of the raw Ed25519 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileKey(pub [u8; 32]);

impl std::str::FromStr for ProfileKey {
    type Err = ProfileError;
    /// Parses the base64url form, optionally prefixed with `ed25519:`.
    fn from_str(s: &str) -> Result<Self, ProfileError> {
        let s = s.trim();
        let s = s.strip_prefix("ed25519:").unwrap_or(s);
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| ProfileError::BadKey)?;
        Ok(ProfileKey(
            bytes.try_into().map_err(|_| ProfileError::BadKey)?,
        ))
    }
}

impl std::fmt::Display for ProfileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ed25519:{}", URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// A profile-signing key pair, kept as PKCS#8 (PEM `PRIVATE KEY`).
pub struct SigningKey(Ed25519KeyPair, zeroize::Zeroizing<Vec<u8>>);

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

impl SigningKey {
    /// A fresh key.
    pub fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key generation");
        Self::from_pkcs8(pkcs8.as_ref()).expect("fresh key parses")
    }

    /// A key from PKCS#8 v1 or v2 DER.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, ProfileError> {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| ProfileError::BadKey)?;
        Ok(Self(pair, zeroize::Zeroizing::new(der.to_vec())))
    }

    /// A key from its PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, ProfileError> {
        let body: String = pem
            .trim()
            .strip_prefix(PEM_BEGIN)
            .and_then(|s| s.strip_suffix(PEM_END))
            .ok_or(ProfileError::BadKey)?
            .split_whitespace()
            .collect();
        let der = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| ProfileError::BadKey)?,
        );
        Self::from_pkcs8(&der)
    }

    /// The PEM text, for storing the key.
    pub fn to_pem(&self) -> zeroize::Zeroizing<String> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.1);
        let mut out = format!("{PEM_BEGIN}\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("base64 is ascii"));
            out.push('\n');
        }
        out.push_str(PEM_END);
        out.push('\n');
        zeroize::Zeroizing::new(out)
    }

    /// The public key.
    pub fn public(&self) -> ProfileKey {
        ProfileKey(self.0.public_key().as_ref().try_into().expect("32 bytes"))
    }
}

#[derive(Serialize, Deserialize)]
struct Jws {
    protected: String,
    payload: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
struct JwsHeader {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

/// Signs `profile`, returning the flattened JWS JSON.
pub fn sign(profile: &AgencyProfile, key: &SigningKey) -> Vec<u8> {
    let header = JwsHeader {
        alg: "EdDSA".into(),
        typ: Some(TYP.into()),
    };
    let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header"));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(profile).expect("profile"));
    let sig = key.0.sign(format!("{protected}.{payload}").as_bytes());
    let jws = Jws {
        protected,
        payload,
        signature: URL_SAFE_NO_PAD.encode(sig.as_ref()),
    };
    serde_json::to_vec_pretty(&jws).expect("jws")
}

/// Checks a signed profile against the trusted key and the time `now`, and returns it.
pub fn verify(
    signed: &[u8],
    trusted: &ProfileKey,
    now: OffsetDateTime,
) -> Result<AgencyProfile, ProfileError> {
    let jws: Jws = serde_json::from_slice(signed)
        .map_err(|_| ProfileError::Malformed("not a signed profile"))?;
    let header = URL_SAFE_NO_PAD
        .decode(&jws.protected)
        .ok()
        .and_then(|h| serde_json::from_slice::<JwsHeader>(&h).ok())
        .ok_or(ProfileError::Malformed("signature header"))?;
    if header.alg != "EdDSA" {
        return Err(ProfileError::Malformed("signature algorithm must be EdDSA"));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(&jws.signature)
        .map_err(|_| ProfileError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, trusted.0)
        .verify(
            format!("{}.{}", jws.protected, jws.payload).as_bytes(),
            &sig,
        )
        .map_err(|_| ProfileError::BadSignature)?;
    // Only signed bytes are parsed from here on.
    let payload = URL_SAFE_NO_PAD
        .decode(&jws.payload)
        .map_err(|_| ProfileError::Malformed("payload encoding"))?;
    let p: AgencyProfile =
        serde_json::from_slice(&payload).map_err(|_| ProfileError::Malformed("profile fields"))?;
    check(&p)?;
    if p.expires_at <= now {
        return Err(ProfileError::Expired);
    }
    Ok(p)
}

fn check(p: &AgencyProfile) -> Result<(), ProfileError> {
    if p.schema_version != PROFILE_SCHEMA_VERSION {
        return Err(ProfileError::Malformed(
            "unsupported profile schema version",
        ));
    }
    if p.recipients.is_empty() {
        return Err(ProfileError::Malformed("no recipients"));
    }
    if p.recipients().is_none() {
        return Err(ProfileError::Malformed("invalid recipient key"));
    }
    if !(p.intake_url.starts_with("https://") || p.intake_url.starts_with("http://")) {
        return Err(ProfileError::Malformed("intake URL must be http(s)"));
    }
    if p.max_attachment_bytes == 0 || p.max_attachment_bytes > MAX_ATTACHMENT_CAP {
        return Err(ProfileError::Malformed("attachment limit out of range"));
    }
    if Gazetteer::for_regency(&p.regency_code).is_none() {
        return Err(ProfileError::UnknownRegency);
    }
    Ok(())
}

impl AgencyProfile {
    /// The recipients, parsed; `None` if any is malformed.
    pub fn recipients(&self) -> Option<Vec<Recipient>> {
        self.recipients.iter().map(|r| r.parse().ok()).collect()
    }

    /// True once the profile has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::age::Identity;
    use time::Duration;

    /// A valid profile for tests, issued now and valid for 30 days.
    pub fn sample(version: u64, recipient: &Identity) -> AgencyProfile {
        let now = OffsetDateTime::now_utc();
        AgencyProfile {
            schema_version: PROFILE_SCHEMA_VERSION,
            version,
            agency_name: "Dinsos P3A Kabupaten Blora".into(),
            regency_code: "33.16".into(),
            intake_url: "https://lapor.example.invalid".into(),
            recipients: vec![recipient.to_public().to_string()],
            tls_spki_sha256: None,
            hotlines: vec![Hotline {
                name: "SAPA".into(),
                number: "129".into(),
                whatsapp: Some("08111129129".into()),
            }],
            max_attachment_bytes: 50_000_000,
            issued_at: now,
            expires_at: now + Duration::days(30),
            download_url: None,
        }
    }

    #[test]
    fn signs_and_verifies() {
        let key = SigningKey::generate();
        let again = SigningKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.public(), key.public());
        let p = sample(1, &Identity::generate());
        let signed = sign(&p, &key);
        let now = OffsetDateTime::now_utc();
        assert_eq!(verify(&signed, &key.public(), now).unwrap(), p);
        let text = key.public().to_string();
        assert_eq!(text.parse::<ProfileKey>().unwrap(), key.public());
    }

    #[test]
    fn refuses_wrong_key_tampering_and_expiry() {
        let key = SigningKey::generate();
        let p = sample(1, &Identity::generate());
        let signed = sign(&p, &key);
        let now = OffsetDateTime::now_utc();
        let other = SigningKey::generate().public();
        assert_eq!(
            verify(&signed, &other, now),
            Err(ProfileError::BadSignature)
        );

        // Swap in another recipient while keeping the old signature.
        let mut jws: Jws = serde_json::from_slice(&signed).unwrap();
        let mut evil = p.clone();
        evil.recipients = vec![Identity::generate().to_public().to_string()];
        jws.payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap());
        let tampered = serde_json::to_vec(&jws).unwrap();
        assert_eq!(
            verify(&tampered, &key.public(), now),
            Err(ProfileError::BadSignature)
        );

        assert_eq!(
            verify(&signed, &key.public(), p.expires_at),
            Err(ProfileError::Expired)
        );
        assert!(matches!(
            verify(b"{}", &key.public(), now),
            Err(ProfileError::Malformed(_))
        ));
        let mut unknown = p.clone();
        unknown.regency_code = "99.99".into();
        assert_eq!(
            verify(&sign(&unknown, &key), &key.public(), now),
            Err(ProfileError::UnknownRegency)
        );
    }
}
