//! Any bytes as an age file: the header parser, the stanza unwrapping with the fuzzing
//! identity, the header MAC, the payload nonce and the STREAM opener behind them (the seeds
//! are real age files sealed to that identity, so mutations get past the MAC), and the ASCII
//! armor reader (a seed is armored). Nothing may panic; a file that opens must hold exactly
//! what a second opening yields; armor that decodes must be the one canonical encoding of
//! what it decodes to.
#![no_main]

use std::io::{BufReader, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berani_core::age::armor::{self, ArmoredReader};
use berani_core::age::{self, Decryptor, header};
use berani_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The header parser alone, as the desk and the CLI call it.
    let mut r = BufReader::new(data);
    if let Ok(h) = header::parse(&mut r) {
        assert!(!h.stanzas.is_empty());
        assert!(h.mac_input.ends_with(b"---"));
        assert!(h.mac_input.len() < data.len());
    }
    // The whole opener.
    let id = fuzzing::age_identity();
    if let Ok(mut d) = Decryptor::new(data, std::slice::from_ref(&id)) {
        let mut first = Vec::new();
        let whole = d.read_to_end(&mut first).is_ok();
        let mut second = Vec::new();
        let again = age::open(std::slice::from_ref(&id), data, &mut second);
        assert_eq!(whole, again.is_ok());
        if whole {
            assert_eq!(first, second);
            // The payload is at least the plaintext plus one tag per 64 KiB chunk.
            assert!(data.len() >= first.len() + age::stream::TAG);
        }
    }
    // The armor reader alone: what it accepts is, apart from the whitespace around it and the
    // choice of LF or CRLF, byte for byte what an encoder writes for the decoded bytes.
    let mut decoded = Vec::new();
    if ArmoredReader::new(data).read_to_end(&mut decoded).is_ok() {
        let inner = data.trim_ascii();
        let eol = if inner.get(armor::BEGIN.len()) == Some(&b'\r') {
            "\r\n"
        } else {
            "\n"
        };
        let mut canonical = format!("{}{eol}", armor::BEGIN);
        for line in decoded.chunks(48) {
            canonical.push_str(&STANDARD.encode(line));
            canonical.push_str(eol);
        }
        canonical.push_str(armor::END);
        assert!(
            inner == canonical.as_bytes(),
            "accepted armor is not canonical"
        );
    }
    // The detecting opener: armored or not, it agrees with opening the decoded binary file.
    let mut via_detect = Vec::new();
    let detected = age::open_detecting_armor(std::slice::from_ref(&id), data, &mut via_detect);
    if detected.is_ok() {
        let binary = if data.first().copied().is_some_and(armor::looks_armored) {
            &decoded[..]
        } else {
            data
        };
        let mut direct = Vec::new();
        age::open(std::slice::from_ref(&id), binary, &mut direct).expect("the same file opens");
        assert_eq!(via_detect, direct);
    }
});
