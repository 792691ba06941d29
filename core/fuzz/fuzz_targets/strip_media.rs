//! Any bytes through the metadata strippers: the ISO base media box walker and its in-place
//! patching, the JPEG end-of-image scanner, and the JPEG/PNG/WebP strippers. None may panic;
//! a planned patch never changes a file's length.
#![no_main]

use std::io::{Cursor, Read};

use berani_core::strip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = strip::plan_iso_media(&mut Cursor::new(data), data.len() as u64) {
        let mut out = Vec::new();
        strip::Patched::new(data, plan)
            .read_to_end(&mut out)
            .expect("reading from memory");
        assert_eq!(out.len(), data.len());
    }
    let _ = strip::image_end(data);
    let _ = strip::strip_jpeg(data);
    let _ = strip::strip_png(data);
    let _ = strip::strip_webp(data);
});
