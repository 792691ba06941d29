//! Any bytes as an `Upload-Metadata` value: the strict parser of the only part of a report
//! that travels in clear.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| berani_server::fuzzing::tus_metadata(data));
