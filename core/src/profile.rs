//! The agency profile: who receives reports, where, and under which keys.
//!
//! A profile is a JSON document signed with Ed25519, carried as a flattened JWS (RFC 7515,
//! `alg: EdDSA` per RFC 8037) so that any JOSE library can check it too. The core trusts one
//! profile-signing key; a hostile server cannot swap in its own recipient keys, roll the
//! profile back to an older version, or keep serving an expired one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::age::Recipient;
use crate::gazetteer::Gazetteer;
use crate::jws::{self, JwsError};

/// The JWS `typ` of a Berani profile.
const TYP: &str = "berani-profile+json";
/// The profile format this build reads and writes.
pub const PROFILE_SCHEMA_VERSION: u32 = 1;
/// Why a profile's TLS pin is refused.
pub(crate) const BAD_PIN: &str = "tls_spki_sha256 is not base64 of a SHA-256 digest";
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
    /// The key the intake server signs delivery receipts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_key: Option<ProfileKey>,
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
    /// A profile without a signature: a JWS whose signature was removed, or the bare profile
    /// JSON that was meant to be signed.
    #[error("profile is not signed; import the signed profile (.jws) the agency publishes")]
    Unsigned,
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
    /// The pinned profile-signing key or the installed profile on this phone does not open
    /// under the device key: it was changed outside the app. Neither is trusted until the
    /// profile is imported again with the agency's profile-signing key.
    #[error(
        "the profile data on this phone was changed outside the app; import the agency profile again with its profile-signing key"
    )]
    Tampered,
}

impl ProfileError {
    /// Plain Indonesian.
    pub fn message_id(&self) -> &'static str {
        match self {
            ProfileError::Malformed(_) => "profil rusak",
            ProfileError::Unsigned => {
                "profil tidak bertanda tangan; pakai profil bertanda tangan (.jws) dari lembaga"
            }
            ProfileError::BadSignature => "tanda tangan tidak sah",
            ProfileError::Expired => "profil sudah kedaluwarsa",
            ProfileError::Older { .. } => "profil lebih lama dari yang terpasang",
            ProfileError::NoTrustedKey => "belum ada kunci tepercaya",
            ProfileError::KeyMismatch => "kunci berbeda dari yang dipercaya",
            ProfileError::BadKey => "kunci tidak sah",
            ProfileError::NotInstalled => "belum ada profil lembaga",
            ProfileError::UnknownRegency => "wilayah profil tidak dikenal",
            ProfileError::Tampered => {
                "data profil diubah di luar aplikasi; pasang ulang profil lembaga dengan kuncinya"
            }
        }
    }
}

/// The public half of a profile-signing key.
pub type ProfileKey = crate::jws::PublicKey;
/// A profile-signing key pair.
pub type SigningKey = crate::jws::SigningKey;

impl From<JwsError> for ProfileError {
    fn from(e: JwsError) -> Self {
        match e {
            JwsError::Malformed => ProfileError::Malformed("not a signed profile"),
            JwsError::Unsigned => ProfileError::Unsigned,
            JwsError::BadSignature => ProfileError::BadSignature,
            JwsError::BadKey => ProfileError::BadKey,
        }
    }
}

/// Signs `profile`, returning the flattened JWS JSON.
pub fn sign(profile: &AgencyProfile, key: &SigningKey) -> Vec<u8> {
    jws::sign(TYP, &serde_json::to_vec(profile).expect("profile"), key)
}

/// Checks a signed profile against the trusted key and the time `now`, and returns it.
pub fn verify(
    signed: &[u8],
    trusted: &ProfileKey,
    now: OffsetDateTime,
) -> Result<AgencyProfile, ProfileError> {
    let payload = jws::verify(TYP, signed, trusted)?;
    // Only signed bytes are parsed from here on.
    parse_signed_payload(&payload, now)
}

/// Reads and checks the payload of a profile whose signature [`verify`] has checked.
pub(crate) fn parse_signed_payload(
    payload: &[u8],
    now: OffsetDateTime,
) -> Result<AgencyProfile, ProfileError> {
    let p: AgencyProfile =
        serde_json::from_slice(payload).map_err(|_| ProfileError::Malformed("profile fields"))?;
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
    // Plain http:// stays allowed, by decision: loopback tests, the demo and trial set-ups
    // without a certificate use it, and parts are age-sealed before they leave the phone.
    // What it exposes is written in README, "How a report is kept safe".
    if !(p.intake_url.starts_with("https://") || p.intake_url.starts_with("http://")) {
        return Err(ProfileError::Malformed("intake URL must be http(s)"));
    }
    if let Some(pin) = &p.tls_spki_sha256 {
        crate::upload::tls::parse_pin(pin).map_err(|_| ProfileError::Malformed(BAD_PIN))?;
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
            receipt_key: None,
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
        use base64::Engine;
        let mut jws: serde_json::Value = serde_json::from_slice(&signed).unwrap();
        let mut evil = p.clone();
        evil.recipients = vec![Identity::generate().to_public().to_string()];
        jws["payload"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&evil).unwrap())
            .into();
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
            verify(
                br#"{"protected":"e30","payload":"e30","signature":"!"}"#,
                &key.public(),
                now
            ),
            Err(ProfileError::Malformed(_))
        ));
        let mut unknown = p.clone();
        unknown.regency_code = "99.99".into();
        assert_eq!(
            verify(&sign(&unknown, &key), &key.public(), now),
            Err(ProfileError::UnknownRegency)
        );
    }
    #[test]
    fn refuses_unsigned_profiles_with_their_own_error() {
        let key = SigningKey::generate();
        let p = sample(1, &Identity::generate());
        let now = OffsetDateTime::now_utc();
        let mut jws: serde_json::Value = serde_json::from_slice(&sign(&p, &key)).unwrap();
        jws["signature"] = "".into();
        let empty = serde_json::to_vec(&jws).unwrap();
        jws.as_object_mut().unwrap().remove("signature");
        let stripped = serde_json::to_vec(&jws).unwrap();
        let bare = serde_json::to_vec(&p).unwrap();
        for (what, bytes) in [("empty", empty), ("stripped", stripped), ("bare", bare)] {
            assert_eq!(
                verify(&bytes, &key.public(), now),
                Err(ProfileError::Unsigned),
                "{what}"
            );
        }
        assert!(ProfileError::Unsigned.to_string().contains("not signed"));
        assert!(
            ProfileError::Unsigned
                .message_id()
                .contains("tidak bertanda tangan")
        );
        // Not JSON at all stays malformed.
        assert!(matches!(
            verify(b"not json", &key.public(), now),
            Err(ProfileError::Malformed(_))
        ));
    }

    #[test]
    fn a_tls_pin_must_be_base64_of_a_sha256_digest() {
        let key = SigningKey::generate();
        let now = OffsetDateTime::now_utc();
        let digest = [7u8; 32];
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let good = [
            STANDARD.encode(digest),
            STANDARD_NO_PAD.encode(digest),
            URL_SAFE_NO_PAD.encode([0xfbu8; 32]),
            format!("sha256/{}", STANDARD.encode(digest)),
        ];
        for pin in good {
            let mut p = sample(1, &Identity::generate());
            p.tls_spki_sha256 = Some(pin.clone());
            assert_eq!(verify(&sign(&p, &key), &key.public(), now), Ok(p), "{pin}");
        }
        let bad = [
            String::new(),
            "not a pin!".to_string(),
            STANDARD.encode([7u8; 31]),
            STANDARD.encode([7u8; 33]),
            crate::crypto::hex(&digest),
        ];
        for pin in bad {
            let mut p = sample(1, &Identity::generate());
            p.tls_spki_sha256 = Some(pin.clone());
            assert_eq!(
                verify(&sign(&p, &key), &key.public(), now),
                Err(ProfileError::Malformed(BAD_PIN)),
                "{pin:?}"
            );
        }
    }
}
