//! Any bytes as an age STREAM payload under the fuzzing key (the seeds are real payloads
//! sealed under it): chunk splitting, the last-chunk flag, truncation and trailing data.
//! Nothing may panic; whatever opens must seal back to the same bytes.
#![no_main]

use std::io::{Read, Write};

use berani_core::age::{StreamReader, StreamWriter};
use berani_core::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut plain = Vec::new();
    if StreamReader::new(&fuzzing::STREAM_KEY, data)
        .read_to_end(&mut plain)
        .is_ok()
    {
        // STREAM is deterministic for a key, so an authentic payload is the only encoding of
        // its plaintext: sealing it again must give the input back.
        let mut w = StreamWriter::new(&fuzzing::STREAM_KEY, Vec::new());
        w.write_all(&plain).expect("memory");
        assert_eq!(w.finish().expect("memory"), data);
    }
});
