//! Ed25519-signed JSON documents as flattened JWS (RFC 7515, `alg: EdDSA` per RFC 8037).
//!
//! The agency profile and the server's delivery receipts use this one format, so that any
//! JOSE library can check them too. Keys are raw Ed25519: private keys in PKCS#8 PEM, public
//! keys as `ed25519:` + base64url.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Why a signed document or key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not a flattened JWS, or the wrong algorithm or type.
    #[error("not a signed document of the expected type")]
    Malformed,
    /// A JSON document without a signature: a JWS whose `signature` is missing or empty, or
    /// a bare document that was never signed.
    #[error("the document is not signed")]
    Unsigned,
    /// The signature does not verify under the key.
    #[error("signature is not valid for the trusted key")]
    BadSignature,
    /// A key is malformed.
    #[error("key is malformed")]
    BadKey,
}

/// An Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl std::str::FromStr for PublicKey {
    type Err = JwsError;
    /// Parses the base64url form, optionally prefixed with `ed25519:`.
    fn from_str(s: &str) -> Result<Self, JwsError> {
        let s = s.trim();
        let s = s.strip_prefix("ed25519:").unwrap_or(s);
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwsError::BadKey)?;
        Ok(PublicKey(bytes.try_into().map_err(|_| JwsError::BadKey)?))
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ed25519:{}", URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 key pair, kept as PKCS#8 (PEM `PRIVATE KEY`).
pub struct SigningKey(Ed25519KeyPair, Zeroizing<Vec<u8>>);

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
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, JwsError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| JwsError::BadKey)?;
        Ok(Self(pair, Zeroizing::new(der.to_vec())))
    }

    /// A key from its PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, JwsError> {
        let body: String = pem
            .trim()
            .strip_prefix(PEM_BEGIN)
            .and_then(|s| s.strip_suffix(PEM_END))
            .ok_or(JwsError::BadKey)?
            .split_whitespace()
            .collect();
        let der = Zeroizing::new(STANDARD.decode(body).map_err(|_| JwsError::BadKey)?);
        Self::from_pkcs8(&der)
    }

    /// The PEM text, for storing the key.
    pub fn to_pem(&self) -> Zeroizing<String> {
        let b64 = STANDARD.encode(&self.1);
        let mut out = format!("{PEM_BEGIN}\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("base64 is ascii"));
            out.push('\n');
        }
        out.push_str(PEM_END);
        out.push('\n');
        Zeroizing::new(out)
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.public_key().as_ref().try_into().expect("32 bytes"))
    }
}

#[derive(Serialize, Deserialize)]
struct Jws {
    protected: String,
    payload: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
}

/// Signs `payload` (JSON bytes) as a flattened JWS of type `typ`.
pub fn sign(typ: &str, payload: &[u8], key: &SigningKey) -> Vec<u8> {
    let header = Header {
        alg: "EdDSA".into(),
        typ: typ.into(),
    };
    let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header"));
    let payload = URL_SAFE_NO_PAD.encode(payload);
    let sig = key.0.sign(format!("{protected}.{payload}").as_bytes());
    let jws = Jws {
        protected,
        payload,
        signature: URL_SAFE_NO_PAD.encode(sig.as_ref()),
    };
    serde_json::to_vec_pretty(&jws).expect("jws")
}

/// Checks a flattened JWS of type `typ` against `key` and returns its payload bytes. A JSON
/// object with no signature (missing, `null` or empty) is [`JwsError::Unsigned`].
pub fn verify(typ: &str, signed: &[u8], key: &PublicKey) -> Result<Vec<u8>, JwsError> {
    let doc: serde_json::Value = serde_json::from_slice(signed).map_err(|_| JwsError::Malformed)?;
    let unsigned = doc.as_object().is_some_and(|o| match o.get("signature") {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::String(s)) => s.is_empty(),
        Some(_) => false,
    });
    if unsigned {
        return Err(JwsError::Unsigned);
    }
    let jws: Jws = serde_json::from_value(doc).map_err(|_| JwsError::Malformed)?;
    let header = URL_SAFE_NO_PAD
        .decode(&jws.protected)
        .ok()
        .and_then(|h| serde_json::from_slice::<Header>(&h).ok())
        .ok_or(JwsError::Malformed)?;
    if header.alg != "EdDSA" || header.typ != typ {
        return Err(JwsError::Malformed);
    }
    let sig = URL_SAFE_NO_PAD
        .decode(&jws.signature)
        .map_err(|_| JwsError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, key.0)
        .verify(
            format!("{}.{}", jws.protected, jws.payload).as_bytes(),
            &sig,
        )
        .map_err(|_| JwsError::BadSignature)?;
    URL_SAFE_NO_PAD
        .decode(&jws.payload)
        .map_err(|_| JwsError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses() {
        let key = SigningKey::generate();
        let again = SigningKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.public(), key.public());
        let pk: PublicKey = key.public().to_string().parse().unwrap();
        assert_eq!(pk, key.public());
        let signed = sign("t+json", b"{\"a\":1}", &key);
        assert_eq!(verify("t+json", &signed, &pk).unwrap(), b"{\"a\":1}");
        assert_eq!(verify("other+json", &signed, &pk), Err(JwsError::Malformed));
        let other = SigningKey::generate().public();
        assert_eq!(
            verify("t+json", &signed, &other),
            Err(JwsError::BadSignature)
        );
        assert_eq!(verify("t+json", b"{}", &pk), Err(JwsError::Unsigned));
        assert_eq!(verify("t+json", b"[]", &pk), Err(JwsError::Malformed));
        assert_eq!(verify("t+json", b"not json", &pk), Err(JwsError::Malformed));
        let mut stripped: serde_json::Value = serde_json::from_slice(&signed).unwrap();
        stripped["signature"] = "".into();
        let empty = serde_json::to_vec(&stripped).unwrap();
        assert_eq!(verify("t+json", &empty, &pk), Err(JwsError::Unsigned));
        stripped["signature"] = serde_json::Value::Null;
        let null = serde_json::to_vec(&stripped).unwrap();
        assert_eq!(verify("t+json", &null, &pk), Err(JwsError::Unsigned));
        stripped.as_object_mut().unwrap().remove("signature");
        let missing = serde_json::to_vec(&stripped).unwrap();
        assert_eq!(verify("t+json", &missing, &pk), Err(JwsError::Unsigned));
        stripped["signature"] = 7.into();
        let number = serde_json::to_vec(&stripped).unwrap();
        assert_eq!(verify("t+json", &number, &pk), Err(JwsError::Malformed));
        assert!("ed25519:xyz".parse::<PublicKey>().is_err());
        assert!(
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
    }
}
