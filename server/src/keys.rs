//! Key custody: the admin credential, the wrapped intake identity and the Ed25519 key files.
//!
//! A stolen disk must hold nothing that opens a report. The intake identity (the age X25519
//! secret) is therefore stored only wrapped: ChaCha20-Poly1305 under a key derived from a
//! user's password with Argon2id, one wrapping per user (table `key_wrappers`). Passwords are
//! kept only as Argon2id PHC hashes. The generated admin password is Crockford base32 in
//! groups, easy to read aloud and type; [`normalise_password`] forgives case, dashes and the
//! letters people confuse with digits.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use berani_core::age::Identity;
use berani_core::crypto::{self, RecordKey};
use berani_core::jws::SigningKey;
use zeroize::Zeroizing;

use crate::error::{Result, ServerError};

/// Argon2id cost: 64 MiB, 3 passes, 1 lane (the RFC 9106 second recommendation).
pub const KDF_M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const KDF_T: u32 = 3;
/// Argon2id lanes.
pub const KDF_P: u32 = 1;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a generated password: 25 × 5 bits = 125 bits.
const PASSWORD_CHARS: usize = 25;

/// A fresh random password, e.g. `7K2QD-M9XRT-…` (five groups of five, 125 bits).
pub fn generate_password() -> Zeroizing<String> {
    let bytes = Zeroizing::new(crypto::random::<16>());
    let mut out = Zeroizing::new(String::with_capacity(PASSWORD_CHARS + 4));
    for i in 0..PASSWORD_CHARS {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        let bit = i * 5;
        let pair =
            u16::from(bytes[bit / 8]) << 8 | u16::from(*bytes.get(bit / 8 + 1).unwrap_or(&0));
        let idx = (pair >> (11 - bit % 8)) & 0x1f;
        out.push(CROCKFORD[idx as usize] as char);
    }
    out
}

/// The canonical form of a typed password: letters and digits only, upper case, with `O`
/// read as zero and `I`/`L` as one (Crockford base32's rules).
pub fn normalise_password(typed: &str) -> Zeroizing<String> {
    Zeroizing::new(
        typed
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect(),
    )
}

fn argon2(m_kib: u32, t: u32, p: u32) -> Result<Argon2<'static>> {
    let params = Params::new(m_kib, t, p, Some(32))
        .map_err(|_| ServerError::Key("invalid Argon2id parameters".into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The form a password is hashed and derived in: a generated password (Crockford base32,
/// see [`generate_password`]) in its normalised form, so that case and dashes do not matter;
/// a password the user chose exactly as typed.
pub fn password_form(password: &str, generated: bool) -> Zeroizing<String> {
    if generated {
        normalise_password(password)
    } else {
        Zeroizing::new(password.to_string())
    }
}

/// The Argon2id PHC string of a password (stored in `users.password_hash`).
pub fn hash_password(password: &str, generated: bool) -> Result<String> {
    let pw = password_form(password, generated);
    let salt = SaltString::encode_b64(&crypto::random::<16>())
        .map_err(|_| ServerError::Key("salt".into()))?;
    let hash = argon2(KDF_M_KIB, KDF_T, KDF_P)?
        .hash_password(pw.as_bytes(), &salt)
        .map_err(|_| ServerError::Key("password hashing failed".into()))?;
    Ok(hash.to_string())
}

/// True when `password` matches the PHC string.
pub fn verify_password(password: &str, phc: &str, generated: bool) -> bool {
    let pw = password_form(password, generated);
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// The intake identity wrapped for one user, as stored in `key_wrappers`.
pub struct Wrapped {
    /// Random 16-byte Argon2id salt.
    pub salt: Vec<u8>,
    /// `argon2id,v=19,m=…,t=…,p=…`, so that costs can rise without breaking old rows.
    pub params: String,
    /// ChaCha20-Poly1305 of the `AGE-SECRET-KEY-1…` string (nonce first).
    pub wrapped: Vec<u8>,
}

fn aad(user: &str) -> Vec<u8> {
    // Binding the user name stops one user's wrapping from being copied onto another row.
    format!("berani-server key_wrappers v1 user={user}").into_bytes()
}

fn wrapping_key(password: &str, generated: bool, salt: &[u8], params: &str) -> Result<RecordKey> {
    let bad = || ServerError::Key("unreadable key wrapping parameters".into());
    let mut fields = params.split(',');
    if fields.next() != Some("argon2id") || fields.next() != Some("v=19") {
        return Err(bad());
    }
    let mut cost = [0u32; 3];
    for (slot, name) in cost.iter_mut().zip(["m=", "t=", "p="]) {
        *slot = fields
            .next()
            .and_then(|f| f.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .ok_or_else(bad)?;
    }
    let pw = password_form(password, generated);
    let mut key = Zeroizing::new([0u8; 32]);
    argon2(cost[0], cost[1], cost[2])?
        .hash_password_into(pw.as_bytes(), salt, key.as_mut())
        .map_err(|_| ServerError::Key("key derivation failed".into()))?;
    Ok(RecordKey::new(&key))
}

/// Wraps the intake identity for `user` under `password` (`generated`: see
/// [`password_form`]).
pub fn wrap_identity(
    identity: &Identity,
    user: &str,
    password: &str,
    generated: bool,
) -> Result<Wrapped> {
    let salt = crypto::random::<16>().to_vec();
    let params = format!("argon2id,v=19,m={KDF_M_KIB},t={KDF_T},p={KDF_P}");
    let key = wrapping_key(password, generated, &salt, &params)?;
    let secret = identity.to_secret_string();
    let wrapped = key.seal(&aad(user), secret.as_bytes());
    Ok(Wrapped {
        salt,
        params,
        wrapped,
    })
}

/// Unwraps the intake identity; [`ServerError::WrongPassword`] when the password is wrong.
pub fn unwrap_identity(
    w: &Wrapped,
    user: &str,
    password: &str,
    generated: bool,
) -> Result<Identity> {
    let key = wrapping_key(password, generated, &w.salt, &w.params)?;
    let plain = key
        .open(&aad(user), &w.wrapped)
        .ok_or(ServerError::WrongPassword)?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| ServerError::Key("stored identity is malformed".into()))?;
    text.parse()
        .map_err(|_| ServerError::Key("stored identity is malformed".into()))
}

/// Writes a secret file readable only by its owner (mode 0600), fsynced.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| ServerError::io(path.display(), e))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| ServerError::io(path.display(), e))
}

/// Reads an Ed25519 PKCS#8 PEM key file.
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let pem =
        Zeroizing::new(fs::read_to_string(path).map_err(|e| ServerError::io(path.display(), e))?);
    SigningKey::from_pem(&pem).map_err(|_| {
        ServerError::Key(format!(
            "{} is not an Ed25519 PKCS#8 PEM key",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_typable_and_forgiving() {
        let pw = generate_password();
        assert_eq!(pw.len(), 29);
        assert_eq!(pw.matches('-').count(), 4);
        assert!(
            pw.chars()
                .all(|c| c == '-' || CROCKFORD.contains(&(c as u8)))
        );
        assert_ne!(*pw, *generate_password());
        assert_eq!(*normalise_password(" ab-o1 il "), "AB0111");
        let phc = hash_password(&pw, true).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"));
        assert!(!phc.contains(pw.as_str()));
        assert!(verify_password(
            &pw.to_lowercase().replace('-', " "),
            &phc,
            true
        ));
        assert!(!verify_password("WRONG", &phc, true));
        // A chosen password counts exactly as typed.
        let chosen = hash_password("Kopi tubruk, 3 gelas!", false).unwrap();
        assert!(verify_password("Kopi tubruk, 3 gelas!", &chosen, false));
        assert!(!verify_password("kopi tubruk 3 gelas", &chosen, false));
    }

    #[test]
    fn identity_wraps_per_user() {
        let id = Identity::generate();
        let w = wrap_identity(&id, "admin", "PASS-WORD", true).unwrap();
        let back = unwrap_identity(&w, "admin", "pass word", true).unwrap();
        assert_eq!(back.to_public(), id.to_public());
        assert!(matches!(
            unwrap_identity(&w, "admin", "other", true),
            Err(ServerError::WrongPassword)
        ));
        assert!(matches!(
            unwrap_identity(&w, "caseworker", "PASS-WORD", true),
            Err(ServerError::WrongPassword)
        ));
        assert!(!w.wrapped.windows(15).any(|s| s == b"AGE-SECRET-KEY-"));
    }
}
