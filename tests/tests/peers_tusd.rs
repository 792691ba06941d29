//! The tus peer scripts against tusd, the official tus server, and through the fault proxy.
//!
//! Before the peers are pointed at berani-server, they must be shown to be correct tus clients
//! against the reference server: a whole upload, an interrupted one resumed by URL or from the
//! client's URL storage, and one whose connections the proxy keeps resetting, each ending with
//! tusd holding exactly the source bytes. These tests need the peers installed by
//! `scripts/install-test-peers` (which `scripts/test` runs); without them they fail, saying what
//! to install.

use std::path::{Path, PathBuf};
use std::time::Duration;

use berani_tests::peers::{
    PeerOutput, Tusd, UploadOptions, hex, node_tus_upload, pseudo_random, python_tus_upload,
    start_tusd,
};
use berani_tests::proxy::{FaultProxy, Faults, Reset};

type Peer = fn(&str, &Path, &[(&str, &str)], &UploadOptions) -> std::io::Result<PeerOutput>;

/// Writes a source file and returns it with Berani's six metadata values for it.
fn part_file(dir: &Path, name: &str, len: usize, seed: u64) -> (PathBuf, Vec<(String, String)>) {
    let bytes = pseudo_random(len, seed);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    let sha = hex(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref());
    let metadata = vec![
        ("report".to_owned(), format!("{seed:032x}")),
        ("part".to_owned(), "1".to_owned()),
        ("parts".to_owned(), "2".to_owned()),
        ("kind".to_owned(), "attachment".to_owned()),
        ("sha256".to_owned(), sha),
        ("token".to_owned(), "A".repeat(43)),
    ];
    (path, metadata)
}

fn pairs(metadata: &[(String, String)]) -> Vec<(&str, &str)> {
    metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Asserts tusd holds exactly `source` for `upload_url`, with the metadata as sent.
fn assert_stored(tusd: &Tusd, upload_url: &str, source: &Path, metadata: &[(String, String)]) {
    let stored = std::fs::read(tusd.stored_file(upload_url)).unwrap();
    let expected = std::fs::read(source).unwrap();
    assert_eq!(stored.len(), expected.len(), "stored length");
    assert!(stored == expected, "tusd's copy differs from the source");
    let info: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tusd.stored_file(upload_url).with_extension("info")).unwrap(),
    )
    .unwrap();
    for (key, value) in metadata {
        assert_eq!(info["MetaData"][key], value.as_str(), "metadata {key}");
    }
}

fn stored_len(tusd: &Tusd, upload_url: &str) -> u64 {
    std::fs::metadata(tusd.stored_file(upload_url))
        .unwrap()
        .len()
}

fn whole_then_interrupted_and_resumed(peer: Peer, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let tusd = start_tusd(dir.path());
    let endpoint = tusd.endpoint();

    let (file, metadata) = part_file(dir.path(), "whole.bin", 3_000_000, 1);
    let out = peer(
        &endpoint,
        &file,
        &pairs(&metadata),
        &UploadOptions::default(),
    )
    .unwrap();
    assert!(
        out.succeeded(),
        "{name} whole upload:\n{}",
        out.transcript()
    );
    let url = out.upload_url().unwrap().to_owned();
    assert_stored(&tusd, &url, &file, &metadata);
    println!("{name}: whole 3,000,000-byte upload stored identical at {url}");

    let (file, metadata) = part_file(dir.path(), "cut.bin", 5_000_000, 2);
    let stop = UploadOptions {
        stop_after_bytes: Some(1_000_000),
        ..UploadOptions::default()
    };
    let first = peer(&endpoint, &file, &pairs(&metadata), &stop).unwrap();
    assert!(
        first.stopped(),
        "{name} interrupted run:\n{}",
        first.transcript()
    );
    let url = first.upload_url().unwrap().to_owned();
    let held = stored_len(&tusd, &url);
    assert!(
        held > 0 && held <= 1_000_000,
        "{name}: tusd holds {held} bytes after a stop at 1,000,000"
    );
    let resume = UploadOptions {
        upload_url: Some(url.clone()),
        ..UploadOptions::default()
    };
    let second = peer(&endpoint, &file, &pairs(&metadata), &resume).unwrap();
    assert!(
        second.succeeded(),
        "{name} resumed run:\n{}",
        second.transcript()
    );
    assert_eq!(
        second.upload_url(),
        Some(url.as_str()),
        "resumed another upload"
    );
    assert_eq!(second.events_named("resuming").count(), 1);
    assert_stored(&tusd, &url, &file, &metadata);
    println!("{name}: interrupted at {held} bytes of 5,000,000, resumed by URL, stored identical");
}

#[test]
fn node_peer_uploads_and_resumes_against_tusd() {
    whole_then_interrupted_and_resumed(node_tus_upload, "tus-js-client");
}

#[test]
fn python_peer_uploads_and_resumes_against_tusd() {
    whole_then_interrupted_and_resumed(python_tus_upload, "tuspy");
}

/// The second run finds the upload in the client's own URL storage, with no URL given.
fn resume_from_url_storage(peer: Peer, name: &str, chunk_size: u64) {
    let dir = tempfile::tempdir().unwrap();
    let tusd = start_tusd(dir.path());
    let (file, metadata) = part_file(dir.path(), "stored.bin", 3_000_000, 3);
    let storage = dir.path().join("urls.json");
    let first = UploadOptions {
        chunk_size: Some(chunk_size),
        stop_after_bytes: Some(700_000),
        url_storage: Some(storage.clone()),
        ..UploadOptions::default()
    };
    let out = peer(&tusd.endpoint(), &file, &pairs(&metadata), &first).unwrap();
    assert!(out.stopped(), "{name}:\n{}", out.transcript());
    let url = out.upload_url().unwrap().to_owned();
    let held = stored_len(&tusd, &url);
    let again = UploadOptions {
        chunk_size: Some(chunk_size),
        url_storage: Some(storage),
        ..UploadOptions::default()
    };
    let out = peer(&tusd.endpoint(), &file, &pairs(&metadata), &again).unwrap();
    assert!(out.succeeded(), "{name}:\n{}", out.transcript());
    let resuming: Vec<_> = out.events_named("resuming").collect();
    assert_eq!(
        resuming.len(),
        1,
        "{name} did not resume:\n{}",
        out.transcript()
    );
    assert_eq!(resuming[0]["from"], "url-storage");
    assert_eq!(out.upload_url(), Some(url.as_str()));
    assert_stored(&tusd, &url, &file, &metadata);
    println!("{name}: stopped at {held} bytes, resumed from its URL storage, stored identical");
}

#[test]
fn node_peer_resumes_from_url_storage() {
    resume_from_url_storage(node_tus_upload, "tus-js-client", 262_144);
}

#[test]
fn python_peer_resumes_from_url_storage() {
    resume_from_url_storage(python_tus_upload, "tuspy", 500_000);
}

/// tus-js-client at its defaults (retries after 0, 1, 3, 5 s, counter reset on progress)
/// finishes an upload whose connections the proxy resets every ~300 KB on average.
#[test]
fn node_peer_survives_resets_through_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let tusd = start_tusd(dir.path());
    let faults = Faults {
        bandwidth_bps: Some(40_000_000),
        latency: Duration::from_millis(5),
        reset: Some(Reset::AfterMeanBytes(300_000)),
        seed: 2026,
        ..Faults::none()
    };
    let proxy = FaultProxy::start(tusd.addr(), faults);
    let endpoint = format!("http://{}/v1/uploads/", proxy.addr());
    let (file, metadata) = part_file(dir.path(), "flaky.bin", 2_000_000, 4);
    let opts = UploadOptions {
        chunk_size: Some(262_144),
        timeout: Some(Duration::from_secs(90)),
        ..UploadOptions::default()
    };
    let out = node_tus_upload(&endpoint, &file, &pairs(&metadata), &opts).unwrap();
    let stats = proxy.stats();
    assert!(
        out.succeeded(),
        "through the proxy:\n{}\n{stats:?}",
        out.transcript()
    );
    assert!(
        stats.resets >= 2,
        "the proxy reset too little to test anything: {stats:?}"
    );
    let url = out.upload_url().unwrap();
    // The URL names the proxy; tusd's file is found by the upload id all the same.
    assert_stored(&tusd, url, &file, &metadata);
    println!("tus-js-client through resets: stored identical; proxy {stats:?}");
}
