//! The age v1 header: parsing with the spec's strictness, and writing.
//!
//! ```text
//! age-encryption.org/v1
//! -> X25519 <base64 ephemeral share>
//! <base64 wrapped file key, 64 columns per line>
//! --- <base64 HMAC-SHA-256 of everything up to and including "---">
//! ```
//!
//! Parsing is strict because the header comes from untrusted files: canonical unpadded base64
//! only, LF line endings, bounded size.

use std::io::BufRead;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::AgeError;

const INTRO: &[u8] = b"age-encryption.org/v1\n";
const STANZA_PREFIX: &[u8] = b"-> ";
const MAC_PREFIX: &[u8] = b"--- ";
/// Base64 columns per body line.
const COLUMNS: usize = 64;
/// Headers larger than this are refused; a real header with a few recipients is < 1 KiB.
const MAX_HEADER: usize = 64 * 1024;

/// One recipient stanza: a type, arguments, and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    /// The first argument, e.g. `X25519`.
    pub tag: String,
    /// The remaining arguments.
    pub args: Vec<String>,
    /// The decoded body.
    pub body: Vec<u8>,
}

/// A parsed header.
#[derive(Debug)]
pub struct Header {
    /// The recipient stanzas, in file order.
    pub stanzas: Vec<Stanza>,
    /// The header bytes covered by the MAC: from the start up to and including `---`.
    pub mac_input: Vec<u8>,
    /// The 32-byte MAC.
    pub mac: [u8; 32],
}

fn b64(s: &[u8]) -> Result<Vec<u8>, AgeError> {
    STANDARD_NO_PAD
        .decode(s)
        .map_err(|_| AgeError::Header("invalid base64"))
}

fn is_arg(a: &[u8]) -> bool {
    !a.is_empty() && a.iter().all(|c| (33..=126).contains(c))
}

fn read_line<R: BufRead>(r: &mut R, all: &mut Vec<u8>) -> Result<Vec<u8>, AgeError> {
    let mut line = Vec::new();
    let mut limited =
        std::io::Read::take(&mut *r, (MAX_HEADER - all.len().min(MAX_HEADER)) as u64 + 1);
    limited.read_until(b'\n', &mut line)?;
    if all.len() + line.len() > MAX_HEADER {
        return Err(AgeError::Header("header too large"));
    }
    if line.last() != Some(&b'\n') {
        return Err(AgeError::Header("header ends early"));
    }
    all.extend_from_slice(&line);
    line.pop();
    Ok(line)
}

/// Reads a header from the start of `r`, leaving `r` at the first payload byte.
pub fn parse<R: BufRead>(r: &mut R) -> Result<Header, AgeError> {
    let mut all = Vec::new();
    let intro = read_line(r, &mut all)?;
    if all != INTRO || intro.is_empty() {
        return Err(AgeError::Header("not an age v1 file"));
    }
    let mut stanzas = Vec::new();
    let mut line = read_line(r, &mut all)?;
    loop {
        if let Some(rest) = line.strip_prefix(MAC_PREFIX) {
            if stanzas.is_empty() {
                return Err(AgeError::Header("no recipient stanzas"));
            }
            let mac_input = all[..all.len() - line.len() - 1 + 3].to_vec();
            let mac = b64(rest)?;
            let mac: [u8; 32] = mac
                .try_into()
                .map_err(|_| AgeError::Header("MAC has the wrong length"))?;
            return Ok(Header {
                stanzas,
                mac_input,
                mac,
            });
        }
        let Some(rest) = line.strip_prefix(STANZA_PREFIX) else {
            return Err(AgeError::Header("expected a stanza or the MAC line"));
        };
        let mut args = rest.split(|&c| c == b' ');
        let tag = args.next().filter(|a| is_arg(a));
        let Some(tag) = tag else {
            return Err(AgeError::Header("stanza has no type"));
        };
        let tag = String::from_utf8_lossy(tag).into_owned();
        let mut parsed = Vec::new();
        for a in args {
            if !is_arg(a) {
                return Err(AgeError::Header("invalid stanza argument"));
            }
            parsed.push(String::from_utf8_lossy(a).into_owned());
        }
        let mut body = Vec::new();
        loop {
            let l = read_line(r, &mut all)?;
            if l.len() > COLUMNS {
                return Err(AgeError::Header("stanza body line too long"));
            }
            body.extend_from_slice(&b64(&l)?);
            if l.len() < COLUMNS {
                break;
            }
        }
        stanzas.push(Stanza {
            tag,
            args: parsed,
            body,
        });
        line = read_line(r, &mut all)?;
    }
}

/// Writes the stanza lines of a header (without the MAC line) into `out`.
pub fn write_stanzas(out: &mut Vec<u8>, stanzas: &[Stanza]) {
    out.extend_from_slice(INTRO);
    for s in stanzas {
        out.extend_from_slice(STANZA_PREFIX);
        out.extend_from_slice(s.tag.as_bytes());
        for a in &s.args {
            out.push(b' ');
            out.extend_from_slice(a.as_bytes());
        }
        out.push(b'\n');
        let body = STANDARD_NO_PAD.encode(&s.body);
        for l in body.as_bytes().chunks(COLUMNS) {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        // The body ends at the first line shorter than 64 columns, which may be empty.
        if body.len() % COLUMNS == 0 {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"---");
}

/// Appends ` <base64 mac>\n` to a header written by [`write_stanzas`].
pub fn write_mac(out: &mut Vec<u8>, mac: &[u8; 32]) {
    out.push(b' ');
    out.extend_from_slice(STANDARD_NO_PAD.encode(mac).as_bytes());
    out.push(b'\n');
}

/// Encodes bytes as unpadded standard base64, as stanza arguments use.
pub fn encode_arg(bytes: &[u8]) -> String {
    STANDARD_NO_PAD.encode(bytes)
}

/// Decodes a stanza argument.
pub fn decode_arg(arg: &str) -> Result<Vec<u8>, AgeError> {
    b64(arg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(body_len: usize) {
        let st = Stanza {
            tag: "X25519".into(),
            args: vec!["abc".into()],
            body: vec![7u8; body_len],
        };
        let mut out = Vec::new();
        write_stanzas(&mut out, std::slice::from_ref(&st));
        let mac_input = out.clone();
        write_mac(&mut out, &[1u8; 32]);
        out.extend_from_slice(b"payload");
        let mut r = &out[..];
        let h = parse(&mut r).unwrap();
        assert_eq!(h.stanzas, vec![st]);
        assert_eq!(h.mac_input, mac_input);
        assert_eq!(h.mac, [1u8; 32]);
        assert_eq!(r, b"payload");
    }

    #[test]
    fn round_trips_bodies_of_every_line_shape() {
        for len in [0, 1, 32, 47, 48, 49, 96] {
            round_trip(len);
        }
    }

    #[test]
    fn rejects_malformed_headers() {
        let bad: &[&[u8]] = &[
            b"age-encryption.org/v2\n-> X25519 a\n\n--- AAAA\n",
            b"age-encryption.org/v1\r\n-> X25519 a\n\n--- AAAA\n",
            b"age-encryption.org/v1\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
            b"age-encryption.org/v1\n-> X25519  a\n\n",
            b"age-encryption.org/v1\n-> X25519 a\nAAA=\n",
            b"age-encryption.org/v1\n-> X25519 a\n",
            b"",
        ];
        for (i, h) in bad.iter().enumerate() {
            let mut r = *h;
            assert!(parse(&mut r).is_err(), "case {i}");
        }
    }

    #[test]
    fn refuses_endless_headers() {
        let mut h = b"age-encryption.org/v1\n-> X25519 a\n".to_vec();
        h.extend(
            std::iter::repeat_n(b'A', 64)
                .chain([b'\n'])
                .cycle()
                .take(70 * 1024),
        );
        let mut r = &h[..];
        assert!(matches!(parse(&mut r), Err(AgeError::Header(_))));
    }
}
