//! Any bytes as an age file: the header parser, the stanza unwrapping with the fuzzing
//! identity, the header MAC, the payload nonce and the STREAM opener behind them (the seeds
//! are real age files sealed to that identity, so mutations get past the MAC). Nothing may
//! panic; a file that opens must hold exactly what a second opening yields.
#![no_main]

use std::io::{BufReader, Read};

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
});
