//! What 2G and crashes do: broken bodies, stalled and slow clients, expiry, kill -9 and
//! restarts, and TLS on rustls.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use berani_core::protocol::Receipt;
use common::*;
use reqwest::StatusCode;

fn patch_head(path: &str, offset: u64, length: u64) -> String {
    format!(
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_broken_patch_keeps_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"), &[]);
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(300_000, 20));
    let report = Report::new();
    let url = create_ok(
        &s,
        &report.meta(0, 1, &part.sha256),
        part.sealed.len() as u64,
    )
    .await;
    let path = url.trim_start_matches(&s.base).to_owned();

    let mut c = raw(&s);
    write_all(
        &mut c,
        patch_head(&path, 0, part.sealed.len() as u64).as_bytes(),
    );
    write_all(&mut c, &part.sealed[..120_000]);
    std::thread::sleep(Duration::from_millis(200));
    c.shutdown(std::net::Shutdown::Both).unwrap();
    drop(c);
    eventually(10, async || offset_of(&url).await == 120_000).await;
    let id = url.rsplit('/').next().unwrap();
    let stored = std::fs::read(s.data.join("uploads").join(id)).unwrap();
    assert_eq!(stored, part.sealed[..120_000]);

    // The same with a checksum: a broken chunk counts for nothing.
    let mut c = raw(&s);
    let head = patch_head(&path, 120_000, 100_000).replace(
        "\r\n\r\n",
        &format!(
            "\r\nUpload-Checksum: sha256 {}\r\n\r\n",
            sha256_b64(&part.sealed[120_000..220_000])
        ),
    );
    write_all(&mut c, head.as_bytes());
    write_all(&mut c, &part.sealed[120_000..180_000]);
    std::thread::sleep(Duration::from_millis(1500));
    c.shutdown(std::net::Shutdown::Both).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(offset_of(&url).await, 120_000);

    // Resume from the server's offset.
    let r = patch(&url, 120_000, &part.sealed[120_000..], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        receipt(&s, &report.id, &report.token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn incomplete_uploads_expire_and_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--upload-ttl", "2s", "--sweep-interval", "1s"],
    );
    let p = profile(&s).await;
    let done = seal(&p.recipients[0], bytes(5_000, 21));
    let kept = Report::new();
    let done_url = upload(&s, &kept, 0, 1, &done, 5_000).await;
    let report = Report::new();
    let url = create_ok(&s, &report.meta(0, 1, &"ab".repeat(32)), 1000).await;
    let r = patch(&url, 0, &[1u8; 300], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(header(&r, "upload-expires").ends_with("GMT"));
    let uploads = s.data.join("uploads");
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 2);

    eventually(10, async || {
        head(&url).await.status() == StatusCode::NOT_FOUND
    })
    .await;
    eventually(10, async || {
        std::fs::read_dir(&uploads).unwrap().count() == 1
    })
    .await;
    let db = rusqlite::Connection::open(s.data.join("berani.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM reports WHERE id = ?1",
            [&report.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "the report row of an expired upload goes too");
    // Complete parts never expire.
    assert_eq!(offset_of(&done_url).await, done.sealed.len() as u64);
    // A new POST for the expired pair makes a fresh upload.
    let again = create_ok(&s, &report.meta(0, 1, &"ab".repeat(32)), 1000).await;
    assert_ne!(again, url);
    assert_eq!(offset_of(&again).await, 0);
}

#[tokio::test]
async fn slow_and_stalled_clients_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--header-read-timeout", "2s", "--body-idle-timeout", "2s"],
    );
    // Headers sent one byte at a time: closed by the header read timeout.
    let mut c = raw(&s);
    let started = Instant::now();
    let mut slow = c.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for b in
            b"GET /v1/profile HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
        {
            if slow.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (got, closed) = read_until_closed(c.try_clone().unwrap());
    let took = closed - started;
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert!(!got.contains("200 OK"), "{got}");
    writer.join().unwrap();
    let _ = c.flush();

    // A connection that says nothing is closed too.
    let started = Instant::now();
    let (_, closed) = read_until_closed(raw(&s));
    assert!(closed - started < Duration::from_secs(6));

    // A body that stalls: 408, connection closed, the bytes that came are kept.
    let report = Report::new();
    let url = create_ok(&s, &report.meta(0, 1, &"ab".repeat(32)), 1000).await;
    let mut c = raw(&s);
    let started = Instant::now();
    write_all(
        &mut c,
        patch_head(url.trim_start_matches(&s.base), 0, 1000).as_bytes(),
    );
    write_all(&mut c, &[5u8; 400]);
    let (got, closed) = read_until_closed(c);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(
        got.to_ascii_lowercase().contains("connection: close"),
        "{got}"
    );
    let took = closed - started;
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(offset_of(&url).await, 400);
}

#[tokio::test]
async fn state_survives_kill_9_and_uploads_resume_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &[]);
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(400_000, 22));
    let report = Report::new();
    let meta = report.meta(0, 1, &part.sha256);
    let url = create_ok(&s, &meta, part.sealed.len() as u64).await;
    let path = url.trim_start_matches(&s.base).to_owned();
    assert_eq!(
        patch(&url, 0, &part.sealed[..50_000], None).await.status(),
        204
    );

    // A body streaming slowly when the server is killed.
    let mut c = raw(&s);
    write_all(
        &mut c,
        patch_head(&path, 50_000, part.sealed.len() as u64 - 50_000).as_bytes(),
    );
    for piece in part.sealed[50_000..200_000].chunks(10_000) {
        c.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
    s.kill();
    drop(c);

    let s = Server::start(&data, &[]);
    let id = path.rsplit('/').next().unwrap();
    let on_disk = std::fs::metadata(data.join("uploads").join(id))
        .unwrap()
        .len();
    let url = s.url(&path);
    let at = offset_of(&url).await;
    assert!((50_000..=200_000).contains(&at), "offset {at}");
    assert!(
        on_disk >= at,
        "the offset ({at}) never claims bytes the file ({on_disk}) lacks"
    );
    // Creation after the restart finds the same upload.
    let r = create(&s, &meta, part.sealed.len() as u64).await;
    assert_eq!(header(&r, "location"), path);
    assert_eq!(header(&r, "upload-offset"), at.to_string());
    let r = patch(&url, at, &part.sealed[at as usize..], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let id_bytes = std::fs::read(data.join("uploads").join(id)).unwrap();
    assert_eq!(id_bytes, part.sealed);
    let signed = receipt(&s, &report.id, &report.token)
        .await
        .bytes()
        .await
        .unwrap();
    let key = profile(&s).await.receipt_key.unwrap();
    assert_eq!(
        Receipt::verify(&signed, &key).unwrap().parts[0].sha256,
        part.sha256
    );

    // SIGTERM stops cleanly, and the receipt is still there after another start.
    assert!(s.stop().success());
    let s = Server::start(&data, &[]);
    assert_eq!(
        receipt(&s, &report.id, &report.token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn serves_https_with_rustls() {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &[
            "--tls-cert",
            cert_pem.to_str().unwrap(),
            "--tls-key",
            key_pem.to_str().unwrap(),
        ],
    );
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(b"GET /v1/profile HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut resp = Vec::new();
    let _ = tls.read_to_end(&mut resp).await;
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let body = &resp[resp.find("\r\n\r\n").unwrap() + 4..];
    let key = String::from_utf8(run(&["profile", "pubkey"], &s.data, None).stdout).unwrap();
    let p = berani_core::profile::verify(
        body.as_bytes(),
        &key.trim().parse().unwrap(),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(p.intake_url, s.base);
}
