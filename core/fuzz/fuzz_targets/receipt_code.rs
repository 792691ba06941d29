//! Any text as a receipt code typed by a reporter, and any bytes as the JSON bodies of the
//! follow-up requests with their id and auth checks. Nothing may panic; a code that parses
//! reads back from its display form as the same code.
#![no_main]

use berani_core::followup::{self, AuthBody, ReceiptCode, SendBody};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(code) = ReceiptCode::parse(text) {
            let shown = code.display();
            assert_eq!(shown.len(), 26);
            let again = ReceiptCode::parse(&shown).expect("a shown code parses");
            assert_eq!(*again.display(), *shown);
        }
        let _ = followup::check_text(text);
    }
    if let Ok(b) = serde_json::from_slice::<AuthBody>(data) {
        let _ = followup::is_lookup_id(&b.lookup) && followup::is_auth_value(&b.auth);
    }
    if let Ok(b) = serde_json::from_slice::<SendBody>(data) {
        let _ = followup::is_message_id(&b.message_id);
    }
});
