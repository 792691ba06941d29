//! The pure parts of tus 1.0.0 as the intake speaks it: endpoints, `Upload-Metadata`,
//! `Location` resolution, `Retry-After`, and what a status code means for the uploader.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Url;
use time::OffsetDateTime;

use crate::outbox::PendingPart;
use crate::protocol::{MAX_METADATA_BYTES, meta};

/// The URL of `path` (e.g. `/v1/uploads`) under the intake URL, keeping any path prefix the
/// intake URL has (`https://host/berani` → `https://host/berani/v1/uploads`).
pub fn endpoint(intake: &Url, path: &str) -> Url {
    let mut u = intake.clone();
    let base = intake.path().trim_end_matches('/');
    u.set_path(&format!("{base}{path}"));
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// Parses an intake URL: `http` or `https` with a host; no credentials, query or fragment.
pub fn parse_intake(s: &str) -> Option<Url> {
    let u = Url::parse(s).ok()?;
    let ok = matches!(u.scheme(), "http" | "https")
        && u.host().is_some()
        && u.username().is_empty()
        && u.password().is_none()
        && u.query().is_none()
        && u.fragment().is_none();
    ok.then_some(u)
}

/// True when both URLs have the same scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Resolves a `Location` header against the URL the request went to. The upload must live
/// on the intake server itself (same scheme, host and port): a `Location` elsewhere is
/// refused, so sealed bytes only ever go where the signed profile says.
pub fn resolve_location(request_url: &Url, location: &str) -> Option<Url> {
    let u = request_url.join(location.trim()).ok()?;
    (same_origin(request_url, &u) && u.fragment().is_none()).then_some(u)
}

/// Encodes `Upload-Metadata`: comma-separated `key base64(value)` pairs.
pub fn encode_metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v.as_bytes())))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `Upload-Metadata` of one part: every key of the protocol, and nothing else. `None`
/// if it would pass [`MAX_METADATA_BYTES`] (it cannot with well-formed values).
///
/// `followup` (lookup id, auth value) registers the report's follow-up; it rides on part 0
/// only, and only for reports sealed with a receipt code.
pub fn part_metadata(
    p: &PendingPart,
    token: &str,
    followup: Option<(&str, &str)>,
) -> Option<String> {
    let part = p.part.idx.to_string();
    let parts = p.part_count.to_string();
    let mut pairs = vec![
        (meta::REPORT, p.report_id.as_str()),
        (meta::PART, &part),
        (meta::PARTS, &parts),
        (meta::KIND, p.part.kind.key()),
        (meta::SHA256, &p.part.sha256),
        (meta::TOKEN, token),
    ];
    if let Some((lookup, auth)) = followup.filter(|_| p.part.idx == 0) {
        pairs.push((meta::FOLLOWUP, lookup));
        pairs.push((meta::FOLLOWUP_AUTH, auth));
    }
    let m = encode_metadata(&pairs);
    (m.len() <= MAX_METADATA_BYTES).then_some(m)
}

/// `Upload-Checksum` for a chunk: `sha256 <base64 digest>`.
pub fn checksum(chunk: &[u8]) -> String {
    format!("sha256 {}", STANDARD.encode(crate::crypto::sha256(chunk)))
}

/// Parses `Retry-After`: delay seconds or an HTTP date, clamped to 1 s – 1 h.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let v = value.trim();
    let secs = if let Ok(s) = v.parse::<u64>() {
        s
    } else {
        let fmt = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let at = time::PrimitiveDateTime::parse(v, &fmt).ok()?.assume_utc();
        (at - now).whole_seconds().max(0) as u64
    };
    Some(Duration::from_secs(secs.clamp(1, 3600)))
}

/// Which request a status answers; a few codes mean different things for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `POST /v1/uploads` (creation, with or without a first chunk).
    Create,
    /// `HEAD` of an upload.
    Head,
    /// `PATCH` of an upload.
    Patch,
}

/// What an answer that is not the expected success means for the uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Try again after a backoff (or the server's `Retry-After`).
    Retry {
        /// The server's `Retry-After`, for 429 and 503.
        after: Option<Duration>,
        /// What happened, for the caller's diagnostics.
        why: String,
    },
    /// The upload expired or is unknown (404/410 on `HEAD` or `PATCH`): create it again.
    Gone,
    /// The offset was not the server's (409 on `PATCH`): `HEAD`, then continue.
    Conflict,
    /// The chunk's checksum did not match (460): send it again.
    ChecksumMismatch,
    /// Refused for good: the report fails with `rejected_by_server`.
    Refused,
}

/// Classifies an answer that is not the expected success.
///
/// `tus` says whether the answer carried `Tus-Resumable: 1.0.0`, which every answer of the
/// intake server does. A 4xx without it (a captive portal, a proxy's error page, a
/// misrouted request) is not taken as the server's word and is retried like a network
/// error, so that no report fails for good because of something between the phone and the
/// server.
pub fn classify(op: Op, status: u16, tus: bool, retry_after: Option<Duration>) -> Verdict {
    let retry = |why: String| Verdict::Retry { after: None, why };
    match status {
        429 | 503 => Verdict::Retry {
            after: retry_after,
            why: format!("the server is busy (HTTP {status})"),
        },
        408 => retry("the server timed out waiting (HTTP 408)".into()),
        423 => retry("the upload is busy with another request (HTTP 423)".into()),
        500..=599 => retry(format!("server error (HTTP {status})")),
        400..=499 if !tus => retry(format!(
            "an answer that is not from the intake server (HTTP {status})"
        )),
        404 | 410 if op != Op::Create => Verdict::Gone,
        409 if op == Op::Patch => Verdict::Conflict,
        460 if op != Op::Head => Verdict::ChecksumMismatch,
        400..=499 => Verdict::Refused,
        _ => retry(format!("unexpected answer (HTTP {status})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{PartKind, PartStatus};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn endpoints_keep_the_intake_prefix() {
        for (intake, want) in [
            (
                "https://lapor.example.go.id",
                "https://lapor.example.go.id/v1/uploads",
            ),
            (
                "https://lapor.example.go.id/",
                "https://lapor.example.go.id/v1/uploads",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/uploads"),
            (
                "https://example.org/berani/",
                "https://example.org/berani/v1/uploads",
            ),
            (
                "https://example.org/berani",
                "https://example.org/berani/v1/uploads",
            ),
        ] {
            let i = parse_intake(intake).unwrap();
            assert_eq!(endpoint(&i, "/v1/uploads").as_str(), want);
        }
        for bad in [
            "ftp://example.org",
            "https://user:pw@example.org",
            "https://example.org/?q=1",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(parse_intake(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn locations_resolve_against_the_request_url_on_the_same_origin_only() {
        let post = url("https://lapor.example.go.id/v1/uploads");
        assert_eq!(
            resolve_location(&post, "/v1/uploads/0123abcd")
                .unwrap()
                .as_str(),
            "https://lapor.example.go.id/v1/uploads/0123abcd"
        );
        assert_eq!(
            resolve_location(&post, "uploads/0123abcd")
                .unwrap()
                .as_str(),
            "https://lapor.example.go.id/v1/uploads/0123abcd"
        );
        assert_eq!(
            resolve_location(&post, "https://lapor.example.go.id:443/v1/uploads/x")
                .unwrap()
                .as_str(),
            "https://lapor.example.go.id/v1/uploads/x"
        );
        let local = url("http://127.0.0.1:8080/v1/uploads");
        assert_eq!(
            resolve_location(&local, "http://127.0.0.1:8080/v1/uploads/ab")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/v1/uploads/ab"
        );
        for elsewhere in [
            "http://lapor.example.go.id/v1/uploads/x", // downgrade to plain http
            "https://evil.example/v1/uploads/x",
            "https://lapor.example.go.id:8443/v1/uploads/x",
            "//evil.example/x",
        ] {
            assert!(resolve_location(&post, elsewhere).is_none(), "{elsewhere}");
        }
    }

    #[test]
    fn metadata_has_every_key_base64_encoded_and_fits() {
        let p = PendingPart {
            report_id: "0123456789abcdef0123456789abcdef".into(),
            part_count: 3,
            part: PartStatus {
                idx: 2,
                kind: PartKind::Attachment,
                size: 1234,
                sha256: "ab".repeat(32),
                sent: 0,
                done: false,
                upload_url: None,
            },
        };
        let token = "t".repeat(43);
        let m = part_metadata(&p, &token, None).unwrap();
        assert!(m.len() <= MAX_METADATA_BYTES);
        let pairs: Vec<(String, String)> = m
            .split(',')
            .map(|kv| {
                let (k, v) = kv.split_once(' ').unwrap();
                (
                    k.to_string(),
                    String::from_utf8(STANDARD.decode(v).unwrap()).unwrap(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = [
            ("report", p.report_id.as_str()),
            ("part", "2"),
            ("parts", "3"),
            ("kind", "attachment"),
            ("sha256", p.part.sha256.as_str()),
            ("token", token.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(pairs, want);
        // The follow-up pair rides on part 0 only.
        assert_eq!(part_metadata(&p, &token, Some(("l", "a"))).unwrap(), m);
        let mut p0 = p.clone();
        p0.part.idx = 0;
        let with = part_metadata(&p0, &token, Some(("l", "a"))).unwrap();
        assert!(
            with.ends_with(",followup bA==,followup_auth YQ=="),
            "{with}"
        );
        assert_eq!(encode_metadata(&[("a", ""), ("b", "hi")]), "a ,b aGk=");
        let mut long = p.clone();
        long.report_id = "x".repeat(2000);
        assert!(part_metadata(&long, &token, None).is_none());
    }

    #[test]
    fn checksums_are_sha256_base64() {
        assert_eq!(
            checksum(b"abc"),
            "sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_within_bounds() {
        let now = time::macros::datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("999999", now),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn statuses_are_classified_as_the_protocol_says() {
        use Verdict::*;
        let ra = Some(Duration::from_secs(7));
        let is_retry = |v: Verdict| matches!(v, Retry { .. });
        for s in [500, 502, 504, 408, 423] {
            for op in [Op::Create, Op::Head, Op::Patch] {
                assert!(is_retry(classify(op, s, true, None)), "{s}");
            }
        }
        for s in [429, 503] {
            assert_eq!(
                classify(Op::Patch, s, true, ra),
                Retry {
                    after: ra,
                    why: format!("the server is busy (HTTP {s})")
                }
            );
        }
        assert_eq!(classify(Op::Head, 404, true, None), Gone);
        assert_eq!(classify(Op::Patch, 404, true, None), Gone);
        assert_eq!(classify(Op::Patch, 410, true, None), Gone);
        assert_eq!(classify(Op::Patch, 409, true, None), Conflict);
        assert_eq!(classify(Op::Patch, 460, true, None), ChecksumMismatch);
        assert_eq!(classify(Op::Create, 460, true, None), ChecksumMismatch);
        for s in [400, 403, 404, 409, 412, 413, 415] {
            assert_eq!(classify(Op::Create, s, true, None), Refused, "{s}");
        }
        for s in [400, 403, 413, 415] {
            assert_eq!(classify(Op::Patch, s, true, None), Refused, "{s}");
        }
        // Not the intake server's answer: never a reason to fail a report.
        for s in [400, 403, 404, 409, 413] {
            assert!(is_retry(classify(Op::Create, s, false, None)), "{s}");
        }
        for s in [200, 302, 307] {
            assert!(is_retry(classify(Op::Create, s, true, None)), "{s}");
        }
    }
}
