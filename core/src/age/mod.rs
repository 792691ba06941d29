//! The age v1 file format (C2SP age spec), on ring's primitives.
//!
//! Every sealed part of a report is an ordinary age file with one X25519 stanza per agency
//! recipient, so any officer holding the agency identity can open it with the stock `age`
//! tool. Sealing uses ring (ChaCha20-Poly1305, HKDF-SHA-256, HMAC-SHA-256, ephemeral X25519),
//! which is fast on low-end ARM phones; opening uses `x25519-dalek` for the static identity.
//! Both directions stream in 64 KiB chunks, so memory stays bounded for any file size.
//!
//! Sealing writes binary files only. Opening reads binary files, and through
//! [`Decryptor::new_detecting_armor`] / [`open_detecting_armor`] also files in the spec's ASCII
//! armor (`age -a`), decoded as a stream by [`armor::ArmoredReader`].

pub mod armor;
pub mod header;
pub mod keys;
pub mod stream;

use std::io::{self, BufRead, BufReader, Read, Write};

use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::rand::SystemRandom;
use zeroize::Zeroizing;

use crate::crypto::{self, chacha_key};
pub use header::Stanza;
pub use keys::{Identity, Recipient, parse_identity_file};
use ring::aead::{Aad, Nonce};
pub use stream::{StreamError, StreamReader, StreamWriter};

const X25519_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
const FILE_KEY_LEN: usize = 16;
const PAYLOAD_NONCE_LEN: usize = 16;

/// Why an age file could not be written or opened. None of these carry file content or keys.
#[derive(Debug, thiserror::Error)]
pub enum AgeError {
    /// The header, or the payload nonce that follows it, is malformed.
    #[error("age header is invalid: {0}")]
    Header(&'static str),
    /// No stanza could be opened with the identities given.
    #[error("the file is not encrypted to this key")]
    NoMatch,
    /// The header MAC did not verify: the header was altered.
    #[error("age header MAC is invalid")]
    HeaderMac,
    /// The payload is corrupted or truncated.
    #[error("age payload is corrupted or truncated: {0}")]
    Payload(#[from] StreamError),
    /// The ASCII armor around the file is malformed or not canonical.
    #[error("age armor is invalid: {0}")]
    Armor(&'static str),
    /// A recipient string is not a valid `age1…` key.
    #[error("invalid age recipient")]
    InvalidRecipient,
    /// An identity string is not a valid `AGE-SECRET-KEY-1…` key.
    #[error("invalid age identity")]
    InvalidIdentity,
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(io::Error),
}

impl AgeError {
    /// Unwraps the payload or armor error carried inside an I/O error by the streaming
    /// readers; any other I/O error stays [`AgeError::Io`].
    pub fn from_io(e: io::Error) -> Self {
        if let Some(&armor::ArmorError(why)) = e.get_ref().and_then(|i| i.downcast_ref()) {
            return AgeError::Armor(why);
        }
        if let Some(&s) = e.get_ref().and_then(|i| i.downcast_ref::<StreamError>()) {
            return AgeError::Payload(s);
        }
        AgeError::Io(e)
    }
}

impl From<io::Error> for AgeError {
    fn from(e: io::Error) -> Self {
        AgeError::from_io(e)
    }
}

fn payload_key(file_key: &[u8], nonce: &[u8]) -> Zeroizing<[u8; 32]> {
    crypto::derive_key(file_key, nonce, b"payload")
}

fn header_mac_key(file_key: &[u8]) -> Zeroizing<[u8; 32]> {
    crypto::derive_key(file_key, b"", b"header")
}

fn wrap_key(shared: &[u8], share: &[u8; 32], recipient: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(share);
    salt[32..].copy_from_slice(recipient);
    crypto::derive_key(shared, &salt, X25519_LABEL)
}

/// Wraps the file key to one recipient with a fresh ephemeral X25519 key (ring).
fn x25519_stanza(file_key: &[u8; FILE_KEY_LEN], to: &Recipient) -> Result<Stanza, AgeError> {
    let rng = SystemRandom::new();
    let eph = EphemeralPrivateKey::generate(&X25519, &rng)
        .map_err(|_| io::Error::other("key generation failed"))?;
    let share: [u8; 32] = eph
        .compute_public_key()
        .map_err(|_| io::Error::other("key generation failed"))?
        .as_ref()
        .try_into()
        .expect("X25519 public keys are 32 bytes");
    // ring refuses an all-zero shared secret, as the age spec requires.
    let wrap = agreement::agree_ephemeral(eph, &UnparsedPublicKey::new(&X25519, to.0), |s| {
        wrap_key(s, &share, &to.0)
    })
    .map_err(|_| AgeError::InvalidRecipient)?;
    let mut body = file_key.to_vec();
    let tag = chacha_key(&wrap)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::empty(),
            &mut body,
        )
        .map_err(|_| io::Error::other("wrapping failed"))?;
    body.extend_from_slice(tag.as_ref());
    Ok(Stanza {
        tag: "X25519".into(),
        args: vec![header::encode_arg(&share)],
        body,
    })
}

/// Writes an age file to `inner`: everything written to the [`Encryptor`] is the plaintext.
///
/// The header and payload nonce are written at creation; call [`Encryptor::finish`] to write
/// the final chunk.
pub struct Encryptor<W: Write>(StreamWriter<W>);

impl<W: Write> Encryptor<W> {
    /// Starts an age file encrypted to every one of `recipients` (at least one).
    pub fn new(recipients: &[Recipient], mut inner: W) -> Result<Self, AgeError> {
        if recipients.is_empty() {
            return Err(AgeError::InvalidRecipient);
        }
        let file_key = Zeroizing::new(crypto::random::<FILE_KEY_LEN>());
        let stanzas = recipients
            .iter()
            .map(|r| x25519_stanza(&file_key, r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut head = Vec::with_capacity(128 + 120 * stanzas.len());
        header::write_stanzas(&mut head, &stanzas);
        let mac = crypto::hmac_sha256(header_mac_key(file_key.as_ref()).as_ref(), &head);
        header::write_mac(&mut head, &mac);
        let nonce = crypto::random::<PAYLOAD_NONCE_LEN>();
        head.extend_from_slice(&nonce);
        inner.write_all(&head)?;
        let key = payload_key(file_key.as_ref(), &nonce);
        Ok(Self(StreamWriter::new(&key, inner)))
    }

    /// Writes the final chunk and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.0.finish()
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Finds the file key in `stanzas` for one of `identities`.
fn unwrap_file_key(
    stanzas: &[Stanza],
    identities: &[Identity],
) -> Result<Zeroizing<[u8; FILE_KEY_LEN]>, AgeError> {
    // An scrypt stanza must be alone; a file that mixes it with others is malformed.
    if stanzas.len() > 1 && stanzas.iter().any(|s| s.tag == "scrypt") {
        return Err(AgeError::Header("scrypt stanza must be the only one"));
    }
    for s in stanzas.iter().filter(|s| s.tag == "X25519") {
        if s.args.len() != 1 {
            return Err(AgeError::Header("X25519 stanza needs one argument"));
        }
        let share: [u8; 32] = header::decode_arg(&s.args[0])?
            .try_into()
            .map_err(|_| AgeError::Header("X25519 share has the wrong length"))?;
        if s.body.len() != FILE_KEY_LEN + 16 {
            return Err(AgeError::Header("X25519 body has the wrong length"));
        }
        for id in identities {
            let shared = id
                .agree(&share)
                .ok_or(AgeError::Header("X25519 share is a low-order point"))?;
            let wrap = wrap_key(shared.as_ref(), &share, &id.to_public().0);
            let mut body = Zeroizing::new(s.body.clone());
            let key = chacha_key(&wrap);
            if let Ok(pt) = key.open_in_place(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::empty(),
                &mut body,
            ) {
                let mut out = Zeroizing::new([0u8; FILE_KEY_LEN]);
                out.copy_from_slice(pt);
                return Ok(out);
            }
        }
    }
    Err(AgeError::NoMatch)
}

/// Where a [`Decryptor`] reads the binary age file from.
enum Source<R: Read> {
    Binary(BufReader<R>),
    Armored(BufReader<armor::ArmoredReader<BufReader<R>>>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Binary(r) => r.read(buf),
            Source::Armored(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Binary(r) => r.fill_buf(),
            Source::Armored(r) => r.fill_buf(),
        }
    }
    fn consume(&mut self, amt: usize) {
        match self {
            Source::Binary(r) => r.consume(amt),
            Source::Armored(r) => r.consume(amt),
        }
    }
}

/// Opens an age file: reading from the [`Decryptor`] yields the authenticated plaintext.
pub struct Decryptor<R: Read>(StreamReader<Source<R>>);

impl<R: Read> Decryptor<R> {
    /// Parses and authenticates the header of the binary age file in `inner` with
    /// `identities`. Armor is not accepted here: report parts travel as binary files.
    pub fn new(inner: R, identities: &[Identity]) -> Result<Self, AgeError> {
        let r = BufReader::with_capacity(stream::SEALED_CHUNK + 1, inner);
        Self::start(Source::Binary(r), identities)
    }

    /// Like [`Decryptor::new`], but a file that starts like ASCII armor (with `-` or
    /// whitespace, which a binary age file never does) is read through
    /// [`armor::ArmoredReader`], so files written with `age -a` open too.
    pub fn new_detecting_armor(inner: R, identities: &[Identity]) -> Result<Self, AgeError> {
        let mut r = BufReader::with_capacity(stream::SEALED_CHUNK + 1, inner);
        let armored = r
            .fill_buf()?
            .first()
            .copied()
            .is_some_and(armor::looks_armored);
        let source = if armored {
            Source::Armored(BufReader::with_capacity(
                stream::SEALED_CHUNK + 1,
                armor::ArmoredReader::new(r),
            ))
        } else {
            Source::Binary(r)
        };
        Self::start(source, identities)
    }

    fn start(mut r: Source<R>, identities: &[Identity]) -> Result<Self, AgeError> {
        let head = header::parse(&mut r)?;
        let file_key = unwrap_file_key(&head.stanzas, identities)?;
        if !crypto::hmac_sha256_verify(
            header_mac_key(file_key.as_ref()).as_ref(),
            &head.mac_input,
            &head.mac,
        ) {
            return Err(AgeError::HeaderMac);
        }
        let mut nonce = [0u8; PAYLOAD_NONCE_LEN];
        let mut got = 0;
        while got < nonce.len() {
            let buf = r.fill_buf()?;
            // The nonce is read with the header, and the C2SP test vectors (`stream_no_nonce`,
            // `stream_short_nonce`) class a missing or short one as a header failure.
            if buf.is_empty() {
                return Err(AgeError::Header("payload nonce is missing or short"));
            }
            let n = buf.len().min(nonce.len() - got);
            nonce[got..got + n].copy_from_slice(&buf[..n]);
            r.consume(n);
            got += n;
        }
        let key = payload_key(file_key.as_ref(), &nonce);
        Ok(Self(StreamReader::new(&key, r)))
    }
}

impl<R: Read> Read for Decryptor<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Seals everything from `input` into `output` as an age file; returns the plaintext length.
pub fn seal<R: Read, W: Write>(
    recipients: &[Recipient],
    mut input: R,
    output: W,
) -> Result<(u64, W), AgeError> {
    let mut enc = Encryptor::new(recipients, output)?;
    let n = io::copy(&mut input, &mut enc)?;
    Ok((n, enc.finish()?))
}

/// Opens the age file in `input` into `output`; returns the plaintext length.
///
/// On a payload error, `output` may already hold the authenticated chunks before the damage.
pub fn open<R: Read, W: Write>(
    identities: &[Identity],
    input: R,
    mut output: W,
) -> Result<u64, AgeError> {
    let mut dec = Decryptor::new(input, identities)?;
    io::copy(&mut dec, &mut output).map_err(AgeError::from_io)
}

/// Like [`open`], for a binary or an ASCII-armored age file (see
/// [`Decryptor::new_detecting_armor`]).
pub fn open_detecting_armor<R: Read, W: Write>(
    identities: &[Identity],
    input: R,
    mut output: W,
) -> Result<u64, AgeError> {
    let mut dec = Decryptor::new_detecting_armor(input, identities)?;
    io::copy(&mut dec, &mut output).map_err(AgeError::from_io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_with_several_recipients() {
        let a = Identity::generate();
        let b = Identity::generate();
        let data = vec![0x42u8; 150_000];
        let (n, sealed) = seal(&[a.to_public(), b.to_public()], &data[..], Vec::new()).unwrap();
        assert_eq!(n, data.len() as u64);
        for id in [&a, &b] {
            let mut out = Vec::new();
            open(std::slice::from_ref(id), &sealed[..], &mut out).unwrap();
            assert_eq!(out, data);
        }
        let c = Identity::generate();
        assert!(matches!(
            open(&[c], &sealed[..], Vec::new()),
            Err(AgeError::NoMatch)
        ));
    }

    #[test]
    fn armored_files_open_only_through_the_detecting_entry_point() {
        use base64::Engine;
        let id = Identity::generate();
        let data = vec![7u8; 70_000];
        let (_, sealed) = seal(&[id.to_public()], &data[..], Vec::new()).unwrap();
        let mut text = format!("{}\n", armor::BEGIN);
        for line in sealed.chunks(48) {
            text.push_str(&base64::engine::general_purpose::STANDARD.encode(line));
            text.push('\n');
        }
        text.push_str(armor::END);
        let ids = std::slice::from_ref(&id);
        for file in [text.as_bytes(), &sealed[..]] {
            let mut out = Vec::new();
            open_detecting_armor(ids, file, &mut out).unwrap();
            assert_eq!(out, data);
        }
        assert!(matches!(
            open(ids, text.as_bytes(), Vec::new()),
            Err(AgeError::Header("not an age v1 file"))
        ));
        // A damaged line is an armor error, not an i/o or header error.
        let bad = text.replacen("\n", "\n\n", 3);
        assert!(matches!(
            open_detecting_armor(ids, bad.as_bytes(), Vec::new()),
            Err(AgeError::Armor(_))
        ));
        // Damage deep in the payload surfaces while streaming, still as an armor error.
        let mut bad = text.clone().into_bytes();
        let at = bad.len() - 200;
        bad[at] = b'*';
        assert!(matches!(
            open_detecting_armor(ids, &bad[..], Vec::new()),
            Err(AgeError::Armor(_))
        ));
    }

    #[test]
    fn detects_header_and_payload_tampering() {
        let id = Identity::generate();
        let (_, sealed) = seal(&[id.to_public()], &b"isi laporan"[..], Vec::new()).unwrap();
        let mut bad = sealed.clone();
        // Change the stanza argument's first character: the MAC or the unwrap must fail.
        let pos = sealed.windows(7).position(|w| w == b"X25519 ").unwrap() + 10;
        bad[pos] = if bad[pos] == b'A' { b'B' } else { b'A' };
        assert!(open(std::slice::from_ref(&id), &bad[..], Vec::new()).is_err());
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            open(std::slice::from_ref(&id), &bad[..], Vec::new()),
            Err(AgeError::Payload(_))
        ));
        let truncated = &sealed[..sealed.len() - 20];
        assert!(open(&[id], truncated, Vec::new()).is_err());
    }
}
