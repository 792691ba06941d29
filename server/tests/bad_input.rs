//! The bad-input matrix: a real server process on loopback gets every kind of broken,
//! hostile or oversized request the intake, the follow-up API and the profile can meet, each
//! sent as raw bytes over TCP (so that headers no HTTP client would write can be sent too).
//!
//! For each one the test checks the exact status, that the answer says what is wrong (or, for
//! requests the HTTP layer itself refuses before any handler runs, that it is hyper's bare
//! status line), that no answer carries report content, and that nothing stored changed: the
//! rows of every intake and follow-up table, the name, size and SHA-256 of every blob, no new
//! file anywhere under the data folder, and `PRAGMA integrity_check`. A good upload left half
//! way before the matrix still completes afterwards, byte for byte, and its receipt verifies.
//!
//! Beside the table: a slow-loris body (cut off, while other clients are served) and
//! thousands of abandoned uploads that expiry must clear.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use reqwest::StatusCode;

/// A marker that lives in the good report's plaintext: it must never come back in an answer.
const MARKER: &str = "ISI-LAPORAN-RAHASIA-5KQ2";

/// What a request got back.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// Sends `raw` on a fresh connection and reads until the server closes it.
fn send_raw(addr: std::net::SocketAddr, raw: &[u8]) -> Answer {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer (and close) before it has read everything; a write error then
    // is part of the refusal, not a test failure.
    let _ = c.write_all(raw);
    let _ = c.flush();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// A request as bytes: `Host`, `Connection: close` and a `Content-Length` for the body are
/// added unless `headers` brings its own framing.
fn req(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: berani.test\r\nConnection: close\r\n")
        .into_bytes();
    let framed = headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    });
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !framed && (!body.is_empty() || matches!(method, "POST" | "PATCH")) {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
const OCTETS: (&str, &str) = ("Content-Type", "application/offset+octet-stream");

/// One bad request and what it must get.
struct Bad {
    what: String,
    raw: Vec<u8>,
    status: u16,
    /// A phrase the answer's body must hold; `None` for refusals by the HTTP layer itself
    /// (hyper answers those with a bare status line before any handler runs).
    says: Option<&'static str>,
}

fn bad(what: impl Into<String>, raw: Vec<u8>, status: u16, says: &'static str) -> Bad {
    Bad {
        what: what.into(),
        raw,
        status,
        says: Some(says),
    }
}

fn bare(what: impl Into<String>, raw: Vec<u8>, status: u16) -> Bad {
    Bad {
        what: what.into(),
        raw,
        status,
        says: None,
    }
}

/// Everything stored that a request could touch: the rows of the intake and follow-up
/// tables, and every file under the data folder except SQLite's own files (name, size and
/// SHA-256).
fn snapshot(data: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let db = rusqlite::Connection::open(data.join("berani.db")).unwrap();
    for table in [
        "reports",
        "uploads",
        "cases",
        "case_events",
        "followups",
        "followup_messages",
        "users",
        "audit",
    ] {
        let mut st = db
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .unwrap();
        let n = st.column_count();
        let rows: Vec<String> = st
            .query_map([], |r| {
                let cols: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                Ok(cols.join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.insert(format!("table {table}"), rows.join("\n"));
    }
    for (path, bytes) in common::desk::files_under(data) {
        let name = path.strip_prefix(data).unwrap().display().to_string();
        if name.starts_with("berani.db") {
            continue;
        }
        out.insert(
            format!("file {name}"),
            format!(
                "{} {}",
                bytes.len(),
                berani_core::crypto::hex(&berani_core::crypto::sha256(&bytes))
            ),
        );
    }
    out
}

fn integrity_ok(data: &Path) {
    let db = rusqlite::Connection::open(data.join("berani.db")).unwrap();
    let r: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok");
}

fn create_req<'a>(meta: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<u8> {
    let mut h = vec![TUS, ("Upload-Metadata", meta)];
    h.extend_from_slice(extra);
    req("POST", "/v1/uploads", &h, b"")
}

fn patch_with<'a>(path: &str, extra: &[(&'a str, &'a str)], body: &[u8]) -> Vec<u8> {
    let mut h = vec![TUS];
    h.extend_from_slice(extra);
    req("PATCH", path, &h, body)
}

fn follow(path: &str, json: &str) -> Vec<u8> {
    req(
        "POST",
        path,
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(
        &data,
        &[
            "--max-attachment-mb",
            "1",
            "--header-read-timeout",
            "2s",
            "--body-idle-timeout",
            "2s",
        ],
    );
    let p = profile(&s).await;

    // A good report, half uploaded.
    let mut plain = format!("{{\"description\":\"{MARKER}\"}}").into_bytes();
    plain.extend(bytes(60_000, 9));
    let part = seal(&p.recipients[0], plain);
    let good = Report::new();
    let url = create_ok(&s, &good.meta(0, 1, &part.sha256), part.sealed.len() as u64).await;
    let half = 20_000usize;
    let r = patch(&url, 0, &part.sealed[..half], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let u = url.trim_start_matches(&s.base).to_string();
    let id = u.rsplit('/').next().unwrap().to_string();
    let len = part.sealed.len();
    let rest = len - half;

    // Valid metadata for a report that is never created (so that only the bad header decides).
    let fresh = Report::new();
    let fresh_meta = fresh.meta(0, 1, &"cd".repeat(32));
    let len_s = len.to_string();
    let create_with = |extra: &[(&str, &str)]| create_req(&fresh_meta, extra);
    let at = |n: usize| n.to_string();
    let chunk = &part.sealed[half..half + 1000];
    let sum_of = |b: &[u8]| format!("sha256 {}", sha256_b64(b));

    // --- Malformed and oversized headers: refused by the HTTP layer. ---
    let mut m: Vec<Bad> = vec![bare(
        "request line of garbage",
        b"HELLO THERE\r\n\r\n".to_vec(),
        400,
    )];
    m.push(bare(
        "header line without a colon",
        b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nTus-Resumable 1.0.0\r\n\r\n".to_vec(),
        400,
    ));
    m.push(bare(
        "NUL byte in a header value",
        b"HEAD /v1/uploads/x HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0\x00.0\r\n\r\n".to_vec(),
        400,
    ));
    m.push(bare(
        "space inside a header name",
        b"HEAD /v1/uploads/x HTTP/1.1\r\nHost: x\r\nTus Resumable: 1.0.0\r\n\r\n".to_vec(),
        400,
    ));
    m.push(bare(
        "Content-Length not a number",
        req(
            "PATCH",
            &u,
            &[
                TUS,
                OCTETS,
                ("Upload-Offset", "20000"),
                ("Content-Length", "ten"),
            ],
            b"",
        ),
        400,
    ));
    m.push(bare(
        "negative Content-Length",
        req(
            "PATCH",
            &u,
            &[
                TUS,
                OCTETS,
                ("Upload-Offset", "20000"),
                ("Content-Length", "-5"),
            ],
            b"",
        ),
        400,
    ));
    m.push(bare(
        "two different Content-Lengths",
        req(
            "PATCH",
            &u,
            &[
                TUS,
                OCTETS,
                ("Upload-Offset", "20000"),
                ("Content-Length", "4"),
                ("Content-Length", "5"),
            ],
            b"abcde",
        ),
        400,
    ));
    let huge = "a".repeat(1024 * 1024);
    m.push(bare(
        "a 1 MiB header",
        req("HEAD", &u, &[TUS, ("X-Padding", &huge)], b""),
        431,
    ));
    let many: Vec<(String, String)> = (0..200)
        .map(|i| (format!("X-Many-{i}"), "1".to_string()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    m.push(bare(
        "200 headers",
        req("HEAD", &u, &[&[TUS][..], &many[..]].concat(), b""),
        431,
    ));

    // --- Tus-Resumable. ---
    m.push(bad(
        "no Tus-Resumable",
        req(
            "POST",
            "/v1/uploads",
            &[("Upload-Length", "10"), ("Upload-Metadata", &fresh_meta)],
            b"",
        ),
        412,
        "Tus-Resumable must be 1.0.0",
    ));
    m.push(bad(
        "old Tus-Resumable on PATCH",
        req(
            "PATCH",
            &u,
            &[
                ("Tus-Resumable", "0.2.2"),
                OCTETS,
                ("Upload-Offset", "20000"),
            ],
            chunk,
        ),
        412,
        "Tus-Resumable must be 1.0.0",
    ));

    // --- Upload-Length. ---
    m.push(bad(
        "no Upload-Length",
        create_with(&[]),
        400,
        "Upload-Length is required",
    ));
    for v in [
        "-1",
        "+10",
        "1e3",
        "0x10",
        "10.0",
        "",
        "١٠",
        "99999999999999999999",
        "18446744073709551616",
    ] {
        m.push(bad(
            format!("Upload-Length {v:?}"),
            create_with(&[("Upload-Length", v)]),
            400,
            "Upload-Length must be a decimal number",
        ));
    }
    m.push(bad(
        "Upload-Length 0",
        create_with(&[("Upload-Length", "0")]),
        400,
        "Upload-Length must be at least 1",
    ));
    for v in ["9223372036854775808", "9999999999999999999", "1048577000"] {
        m.push(bad(
            format!("Upload-Length {v} (past the limit)"),
            create_with(&[("Upload-Length", v)]),
            413,
            "Upload-Length is larger than this server accepts",
        ));
    }
    m.push(bad(
        "Upload-Defer-Length",
        create_with(&[("Upload-Defer-Length", "1")]),
        400,
        "Upload-Defer-Length is not supported",
    ));

    // --- Upload-Metadata. ---
    m.push(bad(
        "no Upload-Metadata",
        req("POST", "/v1/uploads", &[TUS, ("Upload-Length", "10")], b""),
        400,
        "Upload-Metadata is required",
    ));
    let long_meta = format!("{fresh_meta},padding {}", "QUFB".repeat(400));
    m.push(bad(
        "Upload-Metadata of 2.6 kB",
        req(
            "POST",
            "/v1/uploads",
            &[
                TUS,
                ("Upload-Length", "10"),
                ("Upload-Metadata", &long_meta),
            ],
            b"",
        ),
        400,
        "Upload-Metadata is longer than 1024 bytes",
    ));
    let very_long = format!("report {}", "QUFB".repeat(75_000));
    m.push(bad(
        "Upload-Metadata of 300 kB",
        req(
            "POST",
            "/v1/uploads",
            &[
                TUS,
                ("Upload-Length", "10"),
                ("Upload-Metadata", &very_long),
            ],
            b"",
        ),
        400,
        "Upload-Metadata is longer than 1024 bytes",
    ));
    for (what, meta, says) in [
        (
            "not base64",
            "report !!!",
            "Upload-Metadata: a value is not base64 of ASCII text",
        ),
        (
            "a key twice",
            "report QUFB,report QUFB",
            "Upload-Metadata: a key appears twice",
        ),
        (
            "an unknown key",
            "filename QUFB",
            "Upload-Metadata: unknown key",
        ),
        (
            "a report id with ../",
            "report Li4vLi4vZXRjL3Bhc3N3ZA==,part MA==,parts MQ==,kind cmVwb3J0",
            "metadata: report is not a report id",
        ),
    ] {
        m.push(bad(
            format!("Upload-Metadata with {what}"),
            req(
                "POST",
                "/v1/uploads",
                &[TUS, ("Upload-Length", "10"), ("Upload-Metadata", meta)],
                b"",
            ),
            400,
            says,
        ));
    }

    // --- Content-Type. ---
    m.push(bad(
        "POST with a body of the wrong type",
        req(
            "POST",
            "/v1/uploads",
            &[
                TUS,
                ("Upload-Length", &len_s),
                ("Upload-Metadata", &fresh_meta),
                ("Content-Type", "text/plain"),
            ],
            b"hello",
        ),
        415,
        "Content-Type must be application/offset+octet-stream",
    ));
    for ct in [
        None,
        Some("application/octet-stream"),
        Some("multipart/form-data"),
    ] {
        let mut h = vec![("Upload-Offset", "20000")];
        if let Some(ct) = ct {
            h.push(("Content-Type", ct));
        }
        m.push(bad(
            format!("PATCH with Content-Type {ct:?}"),
            patch_with(&u, &h, chunk),
            415,
            "Content-Type must be application/offset+octet-stream",
        ));
    }

    // --- Upload-Offset. ---
    m.push(bad(
        "PATCH without Upload-Offset",
        patch_with(&u, &[OCTETS], chunk),
        400,
        "Upload-Offset is required",
    ));
    for v in [
        "-1",
        "-20000",
        "abc",
        "20000.0",
        "99999999999999999999",
        "18446744073709551616",
    ] {
        m.push(bad(
            format!("Upload-Offset {v:?}"),
            patch_with(&u, &[OCTETS, ("Upload-Offset", v)], chunk),
            400,
            "Upload-Offset must be a decimal number",
        ));
    }
    let past = at(len + 10);
    for (what, v) in [
        ("behind", at(half - 1)),
        ("ahead", at(half + 1)),
        ("at 0", at(0)),
        ("past the end", past.clone()),
        ("at u64 max", "9223372036854775807".to_string()),
    ] {
        m.push(bad(
            format!("Upload-Offset {what} (409)"),
            patch_with(&u, &[OCTETS, ("Upload-Offset", &v)], chunk),
            409,
            "Upload-Offset does not match the upload's offset",
        ));
    }

    // --- Checksums. ---
    let wrong_sum = sum_of(b"something else");
    m.push(bad(
        "checksum mismatch (460)",
        patch_with(
            &u,
            &[
                OCTETS,
                ("Upload-Offset", "20000"),
                ("Upload-Checksum", &wrong_sum),
            ],
            chunk,
        ),
        460,
        "Upload-Checksum does not match the body; nothing of it was kept",
    ));
    for (v, says) in [
        ("sha256", "Upload-Checksum is malformed"),
        ("sha256 not*base64", "Upload-Checksum digest is malformed"),
        ("md5 AAAAAAAAAAAAAAAAAAAAAA==", "Upload-Checksum"),
    ] {
        m.push(bad(
            format!("Upload-Checksum {v:?}"),
            patch_with(
                &u,
                &[OCTETS, ("Upload-Offset", "20000"), ("Upload-Checksum", v)],
                chunk,
            ),
            400,
            says,
        ));
    }

    // --- Bodies longer than Upload-Length. ---
    let too_long = vec![7u8; rest + 100];
    m.push(bad(
        "PATCH body longer than what is left (Content-Length)",
        patch_with(&u, &[OCTETS, ("Upload-Offset", "20000")], &too_long),
        413,
        "the body would pass Upload-Length; nothing of it was kept",
    ));
    let mut chunked = format!("{:x}\r\n", too_long.len()).into_bytes();
    chunked.extend_from_slice(&too_long);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    m.push(bad(
        "PATCH body longer than what is left (chunked)",
        patch_with(
            &u,
            &[
                OCTETS,
                ("Upload-Offset", "20000"),
                ("Transfer-Encoding", "chunked"),
            ],
            &chunked,
        ),
        413,
        "the body would pass Upload-Length; nothing of it was kept",
    ));
    let small = Report::new();
    let small_meta = small.meta(0, 1, &"ef".repeat(32));
    m.push(bad(
        "creation-with-upload body longer than Upload-Length",
        req(
            "POST",
            "/v1/uploads",
            &[
                TUS,
                OCTETS,
                ("Upload-Length", "10"),
                ("Upload-Metadata", &small_meta),
            ],
            &[1u8; 50],
        ),
        413,
        "the body would pass Upload-Length",
    ));

    // --- Unknown routes and methods. ---
    for (method, path, status, says) in [
        ("GET", "/v2/uploads", 404, "not found"),
        ("GET", "/v1/uploads/", 404, "not found"),
        ("GET", "/.env", 404, "not found"),
        ("GET", "/v1/uploads", 405, "method not allowed"),
        ("PUT", "/v1/uploads", 405, "method not allowed"),
        ("PATCH", "/v1/uploads", 405, "method not allowed"),
        ("DELETE", "/v1/uploads", 405, "method not allowed"),
        ("PUT", u.as_str(), 405, "method not allowed"),
        ("POST", u.as_str(), 405, "method not allowed"),
        ("GET", u.as_str(), 405, "method not allowed"),
        ("BREW", u.as_str(), 405, "method not allowed"),
        ("TRACE", "/v1/profile", 405, "method not allowed"),
        ("POST", "/v1/profile", 405, "method not allowed"),
        ("PUT", "/v1/profile", 405, "method not allowed"),
        ("DELETE", "/v1/profile", 405, "method not allowed"),
        ("GET", "/v1/followup/status", 405, "method not allowed"),
        ("PUT", "/v1/followup/send", 405, "method not allowed"),
        ("POST", "/v1/reports/x/receipt", 405, "method not allowed"),
    ] {
        let mut h = vec![TUS];
        if method == "POST" || method == "PATCH" || method == "PUT" {
            h.push(OCTETS);
            h.push(("Upload-Offset", "20000"));
        }
        m.push(bad(
            format!("{method} {}", path.replace(&id, "{upload}")),
            req(method, path, &h, b""),
            status,
            says,
        ));
    }

    // --- Path-traversal-looking ids, on every upload method. ---
    let long_id = "a".repeat(10_000);
    let near = id.to_uppercase();
    let with_nul = format!("{id}%00");
    let climbing = format!("{id}%2F..%2F..%2Fberani.db");
    for bad_id in [
        "..",
        "..%2F..%2Fberani.db",
        "%2e%2e%2f%2e%2e%2fberani.db",
        "..%5C..%5Cberani.db",
        "%2E%2E",
        "..%00",
        "%00",
        with_nul.as_str(),
        climbing.as_str(),
        near.as_str(),
        good.id.as_str(),
        long_id.as_str(),
    ] {
        let path = format!("/v1/uploads/{bad_id}");
        let shown = if bad_id.len() > 40 {
            format!("{}… ({} chars)", &bad_id[..12], bad_id.len())
        } else {
            bad_id.replace(&id, "{upload}")
        };
        m.push(bad(
            format!("HEAD id {shown}"),
            req("HEAD", &path, &[TUS], b""),
            404,
            "",
        ));
        m.push(bad(
            format!("PATCH id {shown}"),
            patch_with(&path, &[OCTETS, ("Upload-Offset", "0")], b"overwrite"),
            404,
            "not found",
        ));
        m.push(bad(
            format!("DELETE id {shown}"),
            req("DELETE", &path, &[TUS], b""),
            404,
            "not found",
        ));
    }
    for raw_path in [
        "/v1/uploads/../berani.db",
        "/v1/uploads/../../etc/passwd",
        "/v1/uploads/./../uploads",
    ] {
        m.push(bad(
            format!("PATCH {raw_path}"),
            patch_with(raw_path, &[OCTETS, ("Upload-Offset", "0")], b"overwrite"),
            404,
            "not found",
        ));
    }
    let own_receipt = format!("/v1/reports/{}/receipt", good.id);
    for (what, path, auth) in [
        (
            "a ../ report id",
            "/v1/reports/..%2F..%2Fberani.db/receipt",
            good.token.as_str(),
        ),
        (
            "a NUL report id",
            "/v1/reports/%00/receipt",
            good.token.as_str(),
        ),
        ("a token of the wrong length", own_receipt.as_str(), "abc"),
        (
            "another report's token",
            own_receipt.as_str(),
            fresh.token.as_str(),
        ),
    ] {
        m.push(bad(
            format!("receipt with {what}"),
            req(
                "GET",
                path,
                &[("Authorization", &format!("Bearer {auth}"))],
                b"",
            ),
            404,
            "not found",
        ));
    }

    // --- Follow-up API (each costs one of this client's 30 tokens). ---
    let lookup = "0".repeat(32);
    let auth = "A".repeat(43);
    m.push(bad(
        "follow-up status: not JSON",
        follow("/v1/followup/status", "lookup=1&auth=2"),
        400,
        "the body must be JSON",
    ));
    m.push(bad(
        "follow-up status: empty object",
        follow("/v1/followup/status", "{}"),
        400,
        "the body is missing a field",
    ));
    m.push(bad(
        "follow-up status: numbers for strings",
        follow("/v1/followup/status", r#"{"lookup":1,"auth":2}"#),
        400,
        "the body is missing a field",
    ));
    m.push(bad(
        "follow-up messages: a ../ lookup",
        follow(
            "/v1/followup/messages",
            &format!(r#"{{"lookup":"../../berani.db","auth":"{auth}"}}"#),
        ),
        400,
        "lookup must be 32 lowercase hex characters",
    ));
    m.push(bad(
        "follow-up messages: a 10 kB auth",
        follow(
            "/v1/followup/messages",
            &format!(r#"{{"lookup":"{lookup}","auth":"{}"}}"#, "A".repeat(10_000)),
        ),
        400,
        "auth 43 base64url characters",
    ));
    m.push(bad(
        "follow-up status: an unknown receipt",
        follow(
            "/v1/followup/status",
            &format!(r#"{{"lookup":"{lookup}","auth":"{auth}"}}"#),
        ),
        403,
        "receipt not recognised",
    ));
    let age_b64 =
        base64::engine::general_purpose::STANDARD.encode(b"age-encryption.org/v1\n-> X25519 x\n");
    m.push(bad(
        "follow-up send: a message_id with ../",
        follow(
            "/v1/followup/send",
            &format!(
                r#"{{"lookup":"{lookup}","auth":"{auth}","message_id":"../x","sealed":"{age_b64}"}}"#
            ),
        ),
        400,
        "message_id must be 32 lowercase hex characters",
    ));
    m.push(bad(
        "follow-up send: sealed not base64",
        follow(
            "/v1/followup/send",
            &format!(
                r#"{{"lookup":"{lookup}","auth":"{auth}","message_id":"{lookup}","sealed":"%%%"}}"#
            ),
        ),
        400,
        "sealed must be base64 of an age file",
    ));
    let plain_b64 = base64::engine::general_purpose::STANDARD.encode(MARKER);
    m.push(bad(
        "follow-up send: sealed is plaintext, not age",
        follow(
            "/v1/followup/send",
            &format!(
                r#"{{"lookup":"{lookup}","auth":"{auth}","message_id":"{lookup}","sealed":"{plain_b64}"}}"#
            ),
        ),
        400,
        "sealed must be base64 of an age file",
    ));
    let big = base64::engine::general_purpose::STANDARD.encode(vec![b'a'; 70_000]);
    m.push(bad(
        "follow-up send: sealed over 64 KiB",
        follow(
            "/v1/followup/send",
            &format!(
                r#"{{"lookup":"{lookup}","auth":"{auth}","message_id":"{lookup}","sealed":"{big}"}}"#
            ),
        ),
        413,
        "sealed is larger than 64 KiB",
    ));
    m.push(bad(
        "follow-up send: a 1 MB body",
        follow("/v1/followup/send", &"x".repeat(1_000_000)),
        413,
        "length limit exceeded",
    ));

    // --- Run the table. ---
    integrity_ok(&data);
    let mut before = snapshot(&data);
    let mut tried = 0;
    let mut wrong = Vec::new();
    for b in &m {
        let a = send_raw(s.addr, &b.raw);
        if a.status != b.status || !a.body.contains(b.says.unwrap_or_default()) {
            wrong.push(format!("{}: {} {:?}", b.what, a.status, a.body));
            continue;
        }
        match b.says {
            Some(_) => {
                // HEAD answers have no body; everything else explains itself.
                if !b.raw.starts_with(b"HEAD") {
                    assert!(!a.body.trim().is_empty(), "{}: empty body", b.what);
                }
                let lower = a.head.to_ascii_lowercase();
                assert!(
                    lower.contains("x-content-type-options: nosniff"),
                    "{}: {}",
                    b.what,
                    a.head
                );
            }
            None => assert!(a.body.is_empty(), "{}: {:?}", b.what, a.body),
        }
        assert!(
            !a.body.contains(MARKER) && !a.head.contains(MARKER),
            "{}",
            b.what
        );
        let after = snapshot(&data);
        // The access log writes nothing to the database, so the only change any refusal may
        // make is none at all.
        for (k, v) in &before {
            assert_eq!(after.get(k), Some(v), "{}: {k} changed", b.what);
        }
        assert_eq!(after.len(), before.len(), "{}: files appeared", b.what);
        before = after;
        tried += 1;
    }
    assert!(
        wrong.is_empty(),
        "unexpected answers:\n{}",
        wrong.join("\n")
    );
    integrity_ok(&data);
    // Nothing escaped the data folder either (the ../ ids wrote nowhere).
    let beside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(beside, ["data"], "files beside the data folder");

    // --- Slow-loris: a body that trickles, then stops, is cut off; others are served. ---
    let slow = Report::new();
    let slow_part = seal(&p.recipients[0], bytes(3_000, 7));
    let slow_url = create_ok(
        &s,
        &slow.meta(0, 1, &slow_part.sha256),
        slow_part.sealed.len() as u64,
    )
    .await;
    let slow_path = slow_url.trim_start_matches(&s.base).to_string();
    let open_loris = || {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let h = format!(
            "PATCH {slow_path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\
             Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n\
             Content-Length: {}\r\n\r\n",
            slow_part.sealed.len()
        );
        c.write_all(h.as_bytes()).unwrap();
        c
    };
    let started = Instant::now();
    // The first connection takes the upload's slot and trickles 10 bytes, then stalls.
    let mut holder = open_loris();
    for b in &slow_part.sealed[..10] {
        holder.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    // Three more connections to the same upload, sending headers and nothing else.
    let first: Vec<TcpStream> = (0..3).map(|_| open_loris()).collect();
    // Meanwhile the good upload is served at once.
    let t = Instant::now();
    assert_eq!(offset_of(&url).await, half as u64);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let (got, closed) = read_until_closed(holder);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    let took = closed - started;
    assert!(took < Duration::from_secs(10), "slow-loris held {took:?}");
    // The other three (no bytes at all) are cut off too, each with an answer.
    for c in first {
        let (got, _) = read_until_closed(c);
        assert!(
            got.starts_with("HTTP/1.1 408") || got.starts_with("HTTP/1.1 423"),
            "{got}"
        );
    }
    tried += 4;
    // What arrived is kept, and the upload finishes from there.
    let kept = offset_of(&slow_url).await;
    assert_eq!(kept, 10);
    let r = patch(&slow_url, kept, &slow_part.sealed[10..], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // --- The good upload was never touched: it completes, and its receipt verifies. ---
    let r = patch(
        &url,
        half as u64,
        &part.sealed[half..],
        Some(sum_of(&part.sealed[half..])),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let stored = std::fs::read(data.join("uploads").join(&id)).unwrap();
    assert_eq!(stored, part.sealed, "the good upload's bytes");
    let r = receipt(&s, &good.id, &good.token).await;
    assert_eq!(r.status(), StatusCode::OK);
    integrity_ok(&data);

    // No refusal put report content, tokens or ids in the log.
    let log = s.stderr();
    for secret in [
        MARKER,
        good.token.as_str(),
        id.as_str(),
        "berani.db",
        "passwd",
    ] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
    println!("bad inputs tried: {tried} (intake, receipt, follow-up, profile, slow-loris)");
    assert!(tried >= 100, "{tried}");
}

/// Thousands of uploads started and abandoned (the app was deleted, the phone was lost):
/// expiry removes every row and blob; a complete report stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_abandoned_uploads_are_swept() {
    const ABANDONED: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &["--upload-ttl", "3s", "--sweep-interval", "1s"]);
    let p = profile(&s).await;
    let kept = Report::new();
    let part = seal(&p.recipients[0], bytes(4_000, 3));
    let kept_url = upload(&s, &kept, 0, 1, &part, 4_000).await;

    let started = Instant::now();
    let http = client();
    let mut made = 0usize;
    for batch in (0..ABANDONED).collect::<Vec<_>>().chunks(25) {
        let mut tasks = Vec::new();
        for &i in batch {
            let http = http.clone();
            let base = s.base.clone();
            tasks.push(tokio::spawn(async move {
                let r = Report::new();
                let parts = if i % 3 == 0 { 2 } else { 1 };
                let resp = http
                    .post(format!("{base}/v1/uploads"))
                    .header("Tus-Resumable", "1.0.0")
                    .header("Upload-Length", "5000")
                    .header("Upload-Metadata", r.meta(0, parts, &"ab".repeat(32)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::CREATED);
                if i % 4 == 0 {
                    // Some got a few bytes in before they were abandoned.
                    let at = format!("{base}{}", resp.headers()["location"].to_str().unwrap());
                    let r = http
                        .patch(at)
                        .header("Tus-Resumable", "1.0.0")
                        .header("Content-Type", "application/offset+octet-stream")
                        .header("Upload-Offset", "0")
                        .body(vec![1u8; 100])
                        .send()
                        .await
                        .unwrap();
                    // It may already have expired on a slow machine.
                    assert!(matches!(r.status().as_u16(), 204 | 404), "{}", r.status());
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
            made += 1;
        }
    }
    let took = started.elapsed();
    let db = rusqlite::Connection::open(data.join("berani.db")).unwrap();
    let count = |q: &str| -> i64 { db.query_row(q, [], |r| r.get(0)).unwrap() };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let uploads = count("SELECT count(*) FROM uploads");
        let reports = count("SELECT count(*) FROM reports");
        let blobs = std::fs::read_dir(data.join("uploads")).unwrap().count();
        if uploads == 1 && reports == 1 && blobs == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not swept: {uploads} uploads, {reports} reports, {blobs} blobs"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let r: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok");
    assert_eq!(offset_of(&kept_url).await, part.sealed.len() as u64);
    assert_eq!(
        receipt(&s, &kept.id, &kept.token).await.status(),
        StatusCode::OK
    );
    let stored = std::fs::read(
        data.join("uploads")
            .join(kept_url.rsplit('/').next().unwrap()),
    )
    .unwrap();
    assert_eq!(stored, part.sealed);
    println!("abandoned uploads swept: {made} (created in {took:?})");
}
