//! age X25519 recipients (`age1…`) and identities (`AGE-SECRET-KEY-1…`).
//!
//! Sealing uses only the recipient's public key, with ring's ephemeral agreement. Opening needs
//! a static secret, which ring cannot hold, so identities use `x25519-dalek`.

use std::fmt;
use std::str::FromStr;

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::AgeError;

const RECIPIENT_HRP: &str = "age";
const IDENTITY_HRP: &str = "AGE-SECRET-KEY-";

fn decode(s: &str, hrp: &str) -> Option<[u8; 32]> {
    let parsed = CheckedHrpstring::new::<Bech32>(s).ok()?;
    if !parsed.hrp().as_str().eq_ignore_ascii_case(hrp) {
        return None;
    }
    let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(parsed.byte_iter().collect());
    <[u8; 32]>::try_from(bytes.as_slice()).ok()
}

/// A public key that sealed parts are encrypted to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Recipient(pub(crate) [u8; 32]);

impl Recipient {
    /// The raw X25519 public key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for Recipient {
    type Err = AgeError;

    /// Parses an `age1…` string; both the all-lowercase and all-uppercase forms are accepted.
    fn from_str(s: &str) -> Result<Self, AgeError> {
        decode(s.trim(), RECIPIENT_HRP)
            .map(Recipient)
            .ok_or(AgeError::InvalidRecipient)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(RECIPIENT_HRP);
        let s = bech32::encode_lower::<Bech32>(hrp, &self.0).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

/// A secret key that opens parts sealed to its [`Recipient`].
#[derive(Clone)]
pub struct Identity(StaticSecret);

impl Identity {
    /// A fresh random identity.
    pub fn generate() -> Self {
        Self::from_bytes(crate::crypto::random::<32>())
    }

    /// An identity from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(StaticSecret::from(bytes))
    }

    /// The matching recipient.
    pub fn to_public(&self) -> Recipient {
        Recipient(PublicKey::from(&self.0).to_bytes())
    }

    /// The `AGE-SECRET-KEY-1…` encoding, in a buffer wiped on drop.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let hrp = Hrp::parse_unchecked(IDENTITY_HRP);
        let bytes = Zeroizing::new(self.0.to_bytes());
        Zeroizing::new(
            bech32::encode_upper::<Bech32>(hrp, bytes.as_ref())
                .expect("32 bytes fit a bech32 string"),
        )
    }

    /// X25519 with a peer's public key; `None` when the result is all zeros (a low-order
    /// point), which the age spec requires rejecting.
    pub(crate) fn agree(&self, peer: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        let shared = self.0.diffie_hellman(&PublicKey::from(*peer));
        if !shared.was_contributory() {
            return None;
        }
        Some(Zeroizing::new(shared.to_bytes()))
    }
}

impl FromStr for Identity {
    type Err = AgeError;

    /// Parses an `AGE-SECRET-KEY-1…` string.
    fn from_str(s: &str) -> Result<Self, AgeError> {
        decode(s.trim(), IDENTITY_HRP)
            .map(Identity::from_bytes)
            .ok_or(AgeError::InvalidIdentity)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.to_public())
    }
}

/// Reads identities from the text of an identity file: one `AGE-SECRET-KEY-1…` per line,
/// with blank lines and `#` comments ignored, as the `age` tool writes them.
pub fn parse_identity_file(text: &str) -> Result<Vec<Identity>, AgeError> {
    let ids = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(Identity::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(AgeError::InvalidIdentity);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    // From the age specification's test keys (age-keygen output, widely published).
    const SECRET: &str =
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
    const PUBLIC: &str = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

    #[test]
    fn parses_and_prints_keys() {
        let id: Identity = SECRET.parse().unwrap();
        assert_eq!(id.to_secret_string().as_str(), SECRET);
        assert_eq!(id.to_public().to_string(), PUBLIC);
        let r: Recipient = PUBLIC.parse().unwrap();
        assert_eq!(r, id.to_public());
        assert_eq!(PUBLIC.to_uppercase().parse::<Recipient>().unwrap(), r);
    }

    #[test]
    fn rejects_bad_keys() {
        assert!("age1xyz".parse::<Recipient>().is_err());
        assert!(SECRET.parse::<Recipient>().is_err(), "wrong hrp");
        assert!(PUBLIC.parse::<Identity>().is_err(), "wrong hrp");
        let mut flipped = PUBLIC.to_string();
        flipped.replace_range(10..11, if &PUBLIC[10..11] == "q" { "p" } else { "q" });
        assert!(flipped.parse::<Recipient>().is_err(), "checksum");
        assert!(parse_identity_file("# only a comment\n").is_err());
        assert_eq!(
            parse_identity_file(&format!("# c\n\n{SECRET}\n"))
                .unwrap()
                .len(),
            1
        );
    }
}
