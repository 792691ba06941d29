//! Any bytes as the body or query string of every case-desk form and filter (login,
//! password, second factor, users, cases, stages, notes, replies, statistics, audit log,
//! language switch), read by the same extractors and checked by the same functions as the
//! handlers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| berani_server::fuzzing::desk_forms(data));
