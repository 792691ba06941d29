//! Any bytes as a signed agency profile (flattened JWS JSON) checked against the fuzzing key,
//! as the bare profile JSON behind a valid signature, and as a signed delivery receipt. The
//! seeds are real profiles signed with that key. Nothing may panic; an accepted profile passes
//! the checks the phone relies on.
#![no_main]

use berani_core::fuzzing;
use berani_core::jws::PublicKey;
use berani_core::profile::{self, PROFILE_SCHEMA_VERSION};
use berani_core::protocol::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = fuzzing::profile_signing_key().public();
    let now = fuzzing::now();
    for p in [
        profile::verify(data, &key, now),
        fuzzing::profile_payload(data),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(p.schema_version, PROFILE_SCHEMA_VERSION);
        assert!(!p.is_expired(now));
        let recipients = p
            .recipients()
            .expect("an accepted profile's recipients parse");
        assert!(!recipients.is_empty());
        assert!(p.intake_url.starts_with("http"));
    }
    let _ = Receipt::verify(data, &key);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<PublicKey>();
    }
});
