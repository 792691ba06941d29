//! Any bytes as a tus request head (first line: the upload id of the path; then one
//! `Name: value` per line) through every header check of the tus handlers: Upload-Length,
//! Upload-Offset, Content-Length, Content-Type, Upload-Checksum, Upload-Metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| berani_server::fuzzing::tus_headers(data));
