//! The tus 1.0.0 intake against a real server process: every status of docs/PROTOCOL.md.

mod common;

use common::*;
use reqwest::StatusCode;

fn setup() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"), &["--max-attachment-mb", "1"]);
    (dir, s)
}

fn blob_files(s: &Server) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(s.data.join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn options_announces_the_protocol() {
    let (_d, s) = setup();
    let r = client()
        .request(request("OPTIONS"), s.url("/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&r, "tus-resumable"), "1.0.0");
    assert_eq!(header(&r, "tus-version"), "1.0.0");
    assert_eq!(
        header(&r, "tus-extension"),
        "creation,creation-with-upload,checksum,expiration,termination"
    );
    assert_eq!(header(&r, "tus-checksum-algorithm"), "sha1,sha256");
    // 1 MB plaintext, 16 age chunks of overhead, 1 KiB of header.
    assert_eq!(
        header(&r, "tus-max-size"),
        (1_000_000 + 16 * 16 + 1024).to_string()
    );
}

#[tokio::test]
async fn uploads_in_several_patches_with_both_checksums() {
    use sha1::Digest;
    let (_d, s) = setup();
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(200_000, 1));
    let report = Report::new();
    let url = create_ok(
        &s,
        &report.meta(0, 1, &part.sha256),
        part.sealed.len() as u64,
    )
    .await;
    assert!(url.starts_with(&s.url("/v1/uploads/")));
    let mut at = 0u64;
    for (i, piece) in part.sealed.chunks(65_552).enumerate() {
        let sum = if i % 2 == 0 {
            format!("sha256 {}", sha256_b64(piece))
        } else {
            use base64::Engine;
            let d = sha1::Sha1::digest(piece);
            format!(
                "sha1 {}",
                base64::engine::general_purpose::STANDARD.encode(d)
            )
        };
        let r = patch(&url, at, piece, Some(sum)).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        at += piece.len() as u64;
        assert_eq!(header(&r, "upload-offset"), at.to_string());
        assert_eq!(header(&r, "tus-resumable"), "1.0.0");
        let done = at == part.sealed.len() as u64;
        assert_eq!(r.headers().contains_key("upload-expires"), !done);
    }
    assert_eq!(offset_of(&url).await, part.sealed.len() as u64);
    let id = url.rsplit('/').next().unwrap();
    let stored = std::fs::read(s.data.join("uploads").join(id)).unwrap();
    assert_eq!(stored, part.sealed);
}

#[tokio::test]
async fn creation_with_upload_and_head() {
    let (_d, s) = setup();
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(100_000, 2));
    let report = Report::new();
    let first = &part.sealed[..40_000];
    let r = client()
        .post(s.url("/v1/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", part.sealed.len().to_string())
        .header("Upload-Metadata", report.meta(0, 1, &part.sha256))
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Checksum", format!("sha256 {}", sha256_b64(first)))
        .body(first.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "upload-offset"), "40000");
    let location = header(&r, "location");
    assert!(
        location.starts_with("/v1/uploads/"),
        "relative Location: {location}"
    );
    let id = location.trim_start_matches("/v1/uploads/");
    assert_eq!(id.len(), 32);
    assert_ne!(id, report.id);
    let expires = header(&r, "upload-expires");
    assert!(
        expires.ends_with(" GMT") && expires.len() == 29,
        "{expires}"
    );

    let url = s.url(&location);
    let h = head(&url).await;
    assert_eq!(h.status(), StatusCode::OK);
    assert_eq!(header(&h, "upload-offset"), "40000");
    assert_eq!(header(&h, "upload-length"), part.sealed.len().to_string());
    assert_eq!(header(&h, "cache-control"), "no-store");
    assert!(!h.headers().contains_key("upload-metadata"));
    let r = patch(&url, 40_000, &part.sealed[40_000..], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&url).await, part.sealed.len() as u64);
    assert_eq!(
        head(&s.url("/v1/uploads/00000000000000000000000000000000"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn refuses_with_412_415_409_and_460() {
    let (_d, s) = setup();
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(50_000, 3));
    let report = Report::new();

    // 412: no or another Tus-Resumable.
    for version in [None, Some("0.2.2")] {
        let mut req = client()
            .post(s.url("/v1/uploads"))
            .header("Upload-Length", "10")
            .header("Upload-Metadata", report.meta(0, 1, &part.sha256));
        if let Some(v) = version {
            req = req.header("Tus-Resumable", v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(header(&r, "tus-version"), "1.0.0");
        assert_eq!(r.text().await.unwrap(), "Tus-Resumable must be 1.0.0\n");
    }

    let url = create_ok(
        &s,
        &report.meta(0, 1, &part.sha256),
        part.sealed.len() as u64,
    )
    .await;
    // 415: wrong content type.
    let r = client()
        .patch(&url)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/octet-stream")
        .header("Upload-Offset", "0")
        .body(part.sealed[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(header(&r, "content-type").starts_with("text/plain"));

    // 409: offset mismatch, nothing written.
    let r = patch(&url, 5, &part.sealed[5..100], None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(offset_of(&url).await, 0);

    // 460: a chunk whose checksum does not match counts for nothing.
    let r = patch(
        &url,
        0,
        &part.sealed[..1000],
        Some(format!("sha256 {}", sha256_b64(b"other"))),
    )
    .await;
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(offset_of(&url).await, 0);
    // 400: an unknown checksum algorithm.
    let r = patch(
        &url,
        0,
        &part.sealed[..1000],
        Some("md5 AAAAAAAAAAAAAAAAAAAAAA==".into()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(offset_of(&url).await, 0);

    // The whole part does not match its sha256: reset to 0 and 460.
    let mut damaged = part.sealed.clone();
    damaged[30_000] ^= 1;
    let r = patch(&url, 0, &damaged[..20_000], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = patch(&url, 20_000, &damaged[20_000..], None).await;
    assert_eq!(r.status().as_u16(), 460);
    assert!(r.text().await.unwrap().contains("reset to offset 0"));
    assert_eq!(offset_of(&url).await, 0);
    let id = url.rsplit('/').next().unwrap();
    assert_eq!(
        std::fs::metadata(s.data.join("uploads").join(id))
            .unwrap()
            .len(),
        0
    );
    // And the right bytes then complete it.
    let r = patch(&url, 0, &part.sealed, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&url).await, part.sealed.len() as u64);
}

#[tokio::test]
async fn refuses_too_large_with_413() {
    let (_d, s) = setup();
    let report = Report::new();
    let sha = "ab".repeat(32);
    let max: u64 = 1_000_000 + 16 * 16 + 1024;
    let r = create(&s, &report.meta(0, 1, &sha), max + 1).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(header(&r, "content-type").starts_with("text/plain"));
    let r = create(&s, &report.meta(0, 1, &sha), max).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let url = create_ok(&s, &report.meta(0, 1, &sha), max).await;
    let small = create_ok(&s, &Report::new().meta(0, 1, &sha), 100).await;
    let r = patch(&small, 0, &[7u8; 101], None).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(offset_of(&small).await, 0);
    let r = patch(&small, 0, &[7u8; 60], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = patch(&small, 60, &[7u8; 41], None).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(offset_of(&small).await, 60);
    assert_eq!(offset_of(&url).await, 0);
}

#[tokio::test]
async fn refuses_malformed_metadata_with_400() {
    let (_d, s) = setup();
    let report = Report::new();
    let sha = "ab".repeat(32);
    let good = |k: &str, v: &str| {
        let mut pairs = vec![
            ("report", report.id.clone()),
            ("part", "1".into()),
            ("parts", "2".into()),
            ("kind", "attachment".into()),
            ("sha256", sha.clone()),
            ("token", report.token.clone()),
        ];
        pairs.retain(|(key, _)| *key != k);
        if !v.is_empty() {
            pairs.push((Box::leak(k.to_owned().into_boxed_str()), v.to_owned()));
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        berani_server::tus::metadata::encode(&refs)
    };
    let cases = vec![
        ("report", "../../../etc/passwd".to_owned()),
        ("report", "..%2f..%2f".to_owned()),
        ("report", "/etc/passwd".to_owned()),
        ("report", format!("{}/..", &report.id[..29])),
        ("report", report.id.to_uppercase()),
        ("report", String::new()),
        ("part", "2".into()),
        ("part", "x".into()),
        ("parts", "0".into()),
        ("parts", "22".into()),
        ("kind", "report".into()),
        ("sha256", sha.to_uppercase()),
        ("sha256", "abc".into()),
        ("token", "tooshort".into()),
        ("token", String::new()),
        ("filename", "secret.jpg".into()),
    ];
    for (k, v) in &cases {
        let r = create(&s, &good(k, v), 100).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{k}={v}");
        assert!(r.text().await.unwrap().contains("etadata"), "{k}={v}");
    }
    for raw in ["report", "report !!notbase64", &"x".repeat(1025)] {
        let r = create(&s, raw, 100).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{raw}");
    }
    let r = client()
        .post(s.url("/v1/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Metadata", good("", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.text().await.unwrap(), "Upload-Length is required\n");
    assert!(blob_files(&s).is_empty());
    let n: i64 = rusqlite::Connection::open(s.data.join("berani.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM uploads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn creation_is_idempotent_and_checks_the_token() {
    let (_d, s) = setup();
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(30_000, 4));
    let report = Report::new();
    let len = part.sealed.len() as u64;
    let meta = report.meta(0, 2, &part.sha256);
    let first = create_ok(&s, &meta, len).await;
    let again = create_ok(&s, &meta, len).await;
    assert_eq!(first, again);
    patch(&first, 0, &part.sealed[..1000], None).await;
    // A retry after progress: the same upload, whatever its offset.
    let r = create(&s, &meta, len).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(s.url(&header(&r, "location")), first);
    assert_eq!(header(&r, "upload-offset"), "1000");
    assert_eq!(blob_files(&s).len(), 1);

    // Another token for the same report: 403, for an existing or a new part.
    let mut thief = Report::new();
    thief.id = report.id.clone();
    assert_eq!(
        create(&s, &thief.meta(0, 2, &part.sha256), len)
            .await
            .status(),
        403
    );
    assert_eq!(
        create(&s, &thief.meta(1, 2, &part.sha256), len)
            .await
            .status(),
        403
    );
    // Different length, sha256 or parts for what exists: 409.
    assert_eq!(create(&s, &meta, len + 1).await.status(), 409);
    assert_eq!(
        create(&s, &report.meta(0, 2, &"cd".repeat(32)), len)
            .await
            .status(),
        409
    );
    assert_eq!(
        create(&s, &report.meta(1, 3, &part.sha256), len)
            .await
            .status(),
        409
    );
    let rows: i64 = rusqlite::Connection::open(s.data.join("berani.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM uploads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn delete_removes_incomplete_uploads_only() {
    let (_d, s) = setup();
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(20_000, 5));
    let report = Report::new();
    let url = create_ok(
        &s,
        &report.meta(0, 1, &part.sha256),
        part.sealed.len() as u64,
    )
    .await;
    patch(&url, 0, &part.sealed[..5000], None).await;
    assert_eq!(blob_files(&s).len(), 1);
    let del = |u: String| async move {
        client()
            .delete(u)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(del(url.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(head(&url).await.status(), StatusCode::NOT_FOUND);
    assert!(blob_files(&s).is_empty());
    assert_eq!(del(url.clone()).await, StatusCode::NOT_FOUND);

    // A new upload for the pair after termination; once received, its parts are kept.
    let url = upload(&s, &report, 0, 1, &part, 8192).await;
    assert_eq!(del(url.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(offset_of(&url).await, part.sealed.len() as u64);
}

#[tokio::test]
async fn concurrent_patches_get_423_and_429() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"), &["--max-patches-per-report", "1"]);
    let report = Report::new();
    let sha = "ab".repeat(32);
    let a = create_ok(&s, &report.meta(0, 2, &sha), 1000).await;
    let b = create_ok(&s, &report.meta(1, 2, &sha), 1000).await;
    // Hold a PATCH to `a` open with half its body sent.
    let mut c = raw(&s);
    let path = a.trim_start_matches(&s.base);
    write_all(
        &mut c,
        format!(
            "PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\
             Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n\
             Content-Length: 100\r\n\r\n"
        )
        .as_bytes(),
    );
    c.write_all(&[1u8; 50]).unwrap();
    eventually(10, async || offset_of(&a).await == 50).await;
    let r = patch(&a, 50, &[1u8; 10], None).await;
    assert_eq!(r.status(), StatusCode::LOCKED);
    let r = patch(&b, 0, &[1u8; 10], None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "retry-after"), "5");
    c.write_all(&[1u8; 50]).unwrap();
    let (resp, _) = read_until_closed_after_response(c);
    assert!(resp.starts_with("HTTP/1.1 204"), "{resp}");
    assert_eq!(
        patch(&b, 0, &[1u8; 10], None).await.status(),
        StatusCode::NO_CONTENT
    );
}

fn read_until_closed_after_response(c: std::net::TcpStream) -> (String, ()) {
    c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut c = c;
    let mut buf = [0u8; 4096];
    let n = std::io::Read::read(&mut c, &mut buf).unwrap();
    (String::from_utf8_lossy(&buf[..n]).into_owned(), ())
}
