//! Any bytes as part 0's report document JSON, as the desk reads it after opening a report.
//! Nothing may panic; an accepted document serialises and reads back unchanged.
#![no_main]

use berani_core::model::{REPORT_SCHEMA_VERSION, ReportDocument};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = ReportDocument::from_json(data) {
        assert!(doc.schema_version <= REPORT_SCHEMA_VERSION);
        let again = ReportDocument::from_json(&doc.to_json()).expect("own output reads back");
        assert_eq!(again, doc);
    }
});
