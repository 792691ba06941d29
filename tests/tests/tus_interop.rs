//! The official tus clients (tus-js-client and tuspy, at default settings) upload to
//! berani-server, including a resume after an interruption: our intake speaks tus as the
//! reference clients read it, not only as our own uploader does.

use std::path::Path;

use berani_tests::harness::Server;
use berani_tests::peers::{
    PeerOutput, UploadOptions, hex, node_tus_upload, pseudo_random, python_tus_upload,
};

type Peer = fn(&str, &Path, &[(&str, &str)], &UploadOptions) -> std::io::Result<PeerOutput>;

fn upload_with(peer: Peer, name: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"), &[]);
    let endpoint = format!("{}/v1/uploads", server.url());
    let data = pseudo_random(4_000_000, seed);
    let file = dir.path().join("part.age");
    std::fs::write(&file, &data).unwrap();
    let report = format!("{seed:032x}");
    let sha = hex(ring::digest::digest(&ring::digest::SHA256, &data).as_ref());
    let token = format!("{}A", "Q".repeat(42));
    let meta = [
        ("report", report.as_str()),
        ("part", "0"),
        ("parts", "1"),
        ("kind", "report"),
        ("sha256", sha.as_str()),
        ("token", token.as_str()),
    ];

    let stop = UploadOptions {
        stop_after_bytes: Some(1_500_000),
        ..UploadOptions::default()
    };
    let first = peer(&endpoint, &file, &meta, &stop).unwrap();
    assert!(first.stopped(), "{name}:\n{}", first.transcript());
    let url = first.upload_url().unwrap().to_string();
    // The server records the offset once it notices the body broke off, which may be a
    // moment after the client process has exited: ask until it is there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let held: u64 = loop {
        let held: u64 = server
            .db()
            .query_row(
                "SELECT upload_offset FROM uploads WHERE report = ?1",
                [&report],
                |r| r.get(0),
            )
            .unwrap();
        if held > 0 || std::time::Instant::now() > deadline {
            break held;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(held > 0 && held <= 1_500_000, "{name}: server holds {held}");

    let resume = UploadOptions {
        upload_url: Some(url.clone()),
        ..UploadOptions::default()
    };
    let second = peer(&endpoint, &file, &meta, &resume).unwrap();
    assert!(second.succeeded(), "{name}:\n{}", second.transcript());

    let (id, received): (String, bool) = server
        .db()
        .query_row(
            "SELECT u.id, r.received_at IS NOT NULL FROM uploads u JOIN reports r
             ON r.id = u.report WHERE u.report = ?1",
            [&report],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        received,
        "{name}: the one-part report is recorded as received"
    );
    assert!(url.ends_with(&id), "{name}: resumed the same upload");
    let stored = std::fs::read(server.data.join("uploads").join(&id)).unwrap();
    assert!(stored == data, "{name}: the stored part differs");
    println!("{name}: interrupted at {held} of 4,000,000 bytes, resumed, stored identical");
}

#[test]
fn tus_js_client_uploads_and_resumes() {
    upload_with(node_tus_upload, "tus-js-client", 0xa1);
}

#[test]
fn tuspy_uploads_and_resumes() {
    upload_with(python_tus_upload, "tuspy", 0xb2);
}
