//! Entry points for the fuzz targets in `server/fuzz`, behind the `fuzzing` feature, which the
//! server binary never switches on. Each calls the checks that the request handlers run, in
//! the modules that own them; nothing here copies a parser.

use axum::body::Body;
use axum::extract::{Form, FromRequest, Query};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Uri, header};
use futures_util::FutureExt;
use serde::de::DeserializeOwned;

/// A form body read as the desk's `Form` extractor reads a `POST`.
pub(crate) fn form<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let req = Request::builder()
        .method("POST")
        .uri("/desk")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_vec()))
        .ok()?;
    let Form(t) = Form::<T>::from_request(req, &())
        .now_or_never()
        .expect("a body held in memory is read at once")
        .ok()?;
    Some(t)
}

/// A query string read as the desk's `Query` extractor reads it.
pub(crate) fn query<T: DeserializeOwned>(q: &[u8]) -> Option<T> {
    let uri: Uri = format!("/desk?{}", std::str::from_utf8(q).ok()?)
        .parse()
        .ok()?;
    Query::<T>::try_from_uri(&uri).ok().map(|Query(t)| t)
}

/// `desk_forms`: `input` as the body or query of every desk form and filter, through the
/// checks their handlers run.
pub fn desk_forms(input: &[u8]) {
    crate::desk::auth::fuzz_forms(input);
    crate::desk::users::fuzz_forms(input);
    crate::desk::cases::fuzz_forms(input);
    crate::desk::followup::fuzz_forms(input);
    crate::desk::stats::fuzz_forms(input);
    crate::desk::audit_page::fuzz_forms(input);
    crate::desk::page::fuzz_forms(input);
}

/// `tus_headers`: `input` as a request head, one `Name: value` per line, the first line being
/// the upload id of the request path; through every header check of the tus handlers.
pub fn tus_headers(input: &[u8]) {
    let mut lines = input.split(|&b| b == b'\n');
    let id = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            headers.append(n, v);
        }
    }
    crate::tus::fuzz_headers(&headers, &id);
}

/// `tus_metadata`: `input` as an `Upload-Metadata` value. An accepted value names a report
/// id, a part below the count, both hashes, and the follow-up pair on part 0 only.
pub fn tus_metadata(input: &[u8]) {
    use crate::tus::metadata;
    let Ok(m) = metadata::parse(input) else {
        return;
    };
    assert!(berani_core::protocol::is_report_id(&m.report));
    assert!(m.part < m.parts && m.parts <= berani_core::protocol::MAX_PARTS);
    assert!(m.sha256.len() == 64 && m.token_hash.len() == 64);
    if m.followup.is_some() {
        assert_eq!(m.part, 0, "the follow-up pair rides on part 0 only");
    }
}
