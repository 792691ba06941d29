//! Interop: the uploader against the official tus server, tusd v2.9.1, on loopback.
//!
//! tusd speaks tus 1.0.0 but has no receipt endpoint (any other path answers 200 with a
//! greeting), so the uploads run with `fetch_receipts: false` ("upload only"): every part is
//! uploaded and marked done, and the report stays `sending`. A last sync with receipts on
//! shows that a server without receipts never makes a report delivered or failed.
//!
//! tusd must be installed (`scripts/install-test-peers`); without it these tests fail and
//! say how to install it.

mod common;

use std::collections::HashMap;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berani_core::Reporter;
use berani_core::model::{Category, FieldValue};
use berani_core::outbox::{OutboxReport, ReportState};
use berani_core::upload::{
    CancelHandle, NoListener, StopReason, SyncListener, SyncOptions, SyncReport, sync,
};
use common::*;

const INSTALL: &str = "go install github.com/tus/tusd/v2/cmd/tusd@v2.9.1";

fn tusd_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TUSD") {
        return PathBuf::from(p);
    }
    let gopath = Command::new("go")
        .args(["env", "GOPATH"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/go")));
    let candidates = gopath
        .map(|g| PathBuf::from(g).join("bin/tusd"))
        .into_iter()
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tusd"))
                .collect::<Vec<_>>()
        }));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "tusd (the tus reference server) is not installed; install it with `{INSTALL}` \
         (or ./scripts/install-test-peers), or set TUSD to its path"
    );
}

/// A tusd process on a free loopback port, killed on drop.
struct Tusd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Tusd {
    fn start() -> Tusd {
        let bin = tusd_binary();
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = fs::File::create(dir.path().join("tusd.log")).unwrap();
        let uploads = dir.path().join("uploads");
        fs::create_dir(&uploads).unwrap();
        let child = Command::new(&bin)
            .args(["-host", "127.0.0.1", "-port", &port.to_string()])
            .args(["-base-path", "/v1/uploads/"])
            .arg("-upload-dir")
            .arg(&uploads)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; install with `{INSTALL}`",
                    bin.display()
                )
            });
        let t = Tusd { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "tusd did not start listening: {}",
                fs::read_to_string(t.dir.path().join("tusd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        t
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn uploads(&self) -> PathBuf {
        self.dir.path().join("uploads")
    }

    /// Every upload tusd holds: its id and its `.info` JSON.
    fn infos(&self) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        for e in fs::read_dir(self.uploads()).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "info") {
                let v: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
                out.push((v["ID"].as_str().unwrap().to_string(), v));
            }
        }
        out
    }

    /// The upload of one part, by its metadata.
    fn upload_of(&self, report: &str, part: u32) -> Option<(String, serde_json::Value)> {
        self.infos().into_iter().find(|(_, v)| {
            v["MetaData"]["report"] == report
                && v["MetaData"]["part"].as_str().and_then(|p| p.parse().ok()) == Some(part)
        })
    }
}

impl Drop for Tusd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A reporter home whose profile points at `intake`, with one report queued: the text, a
/// voice note of about 640 KB (ten age chunks) and a small photo.
fn queued_report(intake: &str) -> (Home, Reporter, String) {
    let (h, r) = home();
    let mut p = h.agency.profile(2);
    p.intake_url = intake.to_string();
    r.import_profile(&h.agency.signed(&p), None).unwrap();
    let d = r.create_draft().unwrap();
    r.update_draft(&d.id, FieldValue::Category(Some(Category::Physical)))
        .unwrap();
    r.update_draft(&d.id, FieldValue::District(Some("33.16.09".into())))
        .unwrap();
    r.update_draft(
        &d.id,
        FieldValue::Description(Some("laporan uji tusd".into())),
    )
    .unwrap();
    r.attach_file(&d.id, &wav(h.path(), 40, "tusd"), true, false)
        .unwrap();
    r.attach_file(&d.id, &fixture("photo.jpg"), false, false)
        .unwrap();
    let report = r.submit(&d.id).unwrap();
    (h, r, report.id)
}

fn report(r: &Reporter, id: &str) -> OutboxReport {
    r.outbox().get(id).unwrap().unwrap()
}

/// Cancels the sync once the server confirmed part of `part`, and records what it heard.
struct CancelMidway {
    part: u32,
    cancel: CancelHandle,
    heard: Mutex<Vec<(u32, u64, u64)>>,
    states: Mutex<Vec<ReportState>>,
}

impl SyncListener for CancelMidway {
    fn part_progress(&self, _report: &str, part: u32, sent: u64, total: u64) {
        self.heard.lock().unwrap().push((part, sent, total));
        if part == self.part && sent > 0 && sent < total {
            self.cancel.cancel();
        }
    }
    fn report_state(&self, _report: &str, state: ReportState) {
        self.states.lock().unwrap().push(state);
    }
}

fn upload_only(budget: Duration) -> SyncOptions {
    SyncOptions {
        fetch_receipts: false,
        ..SyncOptions::new(budget)
    }
}

/// The voice note: the largest part.
fn largest_part(rep: &OutboxReport) -> u32 {
    rep.parts.iter().max_by_key(|p| p.size).unwrap().idx
}

/// Checks that tusd holds every part of the report, complete and byte-identical to the sealed
/// part, with the protocol's metadata.
fn assert_all_on_tusd(tusd: &Tusd, h: &Home, r: &Reporter, id: &str) {
    let rep = report(r, id);
    let token = r.outbox().client_token(id).unwrap();
    for p in &rep.parts {
        let (upload, info) = tusd
            .upload_of(id, p.idx)
            .unwrap_or_else(|| panic!("part {} is not on tusd", p.idx));
        assert_eq!(info["Size"], p.size, "part {}", p.idx);
        let m = &info["MetaData"];
        let want: HashMap<&str, String> = [
            ("report", id.to_string()),
            ("part", p.idx.to_string()),
            ("parts", rep.parts.len().to_string()),
            ("kind", p.kind.key().to_string()),
            ("sha256", p.sha256.clone()),
            ("token", token.clone()),
        ]
        .into_iter()
        .collect();
        // Part 0 also carries the follow-up pair derived from the receipt code.
        let (lookup, auth) = (
            m["followup"].as_str().unwrap_or_default(),
            m["followup_auth"].as_str().unwrap_or_default(),
        );
        if p.idx == 0 {
            assert!(lookup.len() == 32 && auth.len() == 43, "{m}");
            assert_eq!(m.as_object().unwrap().len(), want.len() + 2, "{m}");
        } else {
            assert_eq!(m.as_object().unwrap().len(), want.len(), "{m}");
        }
        for (k, v) in &want {
            assert_eq!(m[*k], *v.as_str(), "metadata {k}");
        }
        let stored = fs::read(tusd.uploads().join(&upload)).unwrap();
        let sealed = fs::read(h.data().join(format!("outbox/{id}/{}.age", p.idx))).unwrap();
        // tusd's file store keeps the offset as the data file's length.
        assert_eq!(stored.len() as u64, p.size, "part {} complete", p.idx);
        assert!(
            stored == sealed,
            "part {} differs from the sealed file",
            p.idx
        );
    }
}

#[test]
fn a_report_uploads_whole_to_tusd_and_resumes_after_a_restart() {
    let tusd = Tusd::start();
    let (h, r, id) = queued_report(&tusd.url());
    let rt = runtime();
    let big = largest_part(&report(&r, &id));
    assert!(report(&r, &id).parts[big as usize].size > 8 * 65_552);

    // First run: cancelled as soon as the server holds part of the voice note.
    let opts = upload_only(Duration::from_secs(60));
    let listener = CancelMidway {
        part: big,
        cancel: opts.cancel.clone(),
        heard: Mutex::new(Vec::new()),
        states: Mutex::new(Vec::new()),
    };
    let first = rt.block_on(sync(&r, &listener, opts)).unwrap();
    assert_eq!(first.stopped, StopReason::Cancelled, "{first:?}");
    assert!(first.delivered.is_empty() && first.failed.is_empty());
    assert_eq!(first.pending, 1);
    assert_eq!(*listener.states.lock().unwrap(), vec![ReportState::Sending]);
    let heard = listener.heard.lock().unwrap().clone();
    // The text went first, then the photo (smaller), then the voice note.
    let order: Vec<u32> = heard.iter().map(|(p, _, _)| *p).collect();
    assert_eq!(order.first(), Some(&0), "{heard:?}");
    assert_eq!(order.last(), Some(&big), "{heard:?}");
    let rep = report(&r, &id);
    assert_eq!(rep.state, ReportState::Sending);
    let voice = &rep.parts[big as usize];
    assert!(
        !voice.done && voice.sent > 0 && voice.sent < voice.size,
        "{voice:?}"
    );
    let saved_url = voice.upload_url.clone().expect("the upload URL is saved");
    assert!(saved_url.starts_with(&format!("{}/v1/uploads/", tusd.url())));
    assert!(rep.parts.iter().filter(|p| p.idx != big).all(|p| p.done));
    drop(r);

    // A restarted app: the next run asks tusd for the offset and finishes the same upload.
    let r = h.open();
    let second = rt
        .block_on(sync(&r, &NoListener, upload_only(Duration::from_secs(60))))
        .unwrap();
    assert_eq!(second.stopped, StopReason::Done, "{second:?}");
    assert_eq!(second.pending, 1, "no receipt in upload-only mode");
    // HEAD plus a handful of growing chunks; nothing like a loop.
    assert!(second.attempts <= 12, "{second:?}");
    let rep = report(&r, &id);
    assert_eq!(rep.state, ReportState::Sending);
    assert!(rep.parts.iter().all(|p| p.done && p.sent == p.size));
    assert!(r.outbox().pending_parts().unwrap().is_empty());
    assert_eq!(rep.percent(), 100);
    assert_eq!(
        tusd.infos().len(),
        rep.parts.len(),
        "one upload per part: the voice note was resumed, not sent again"
    );
    let (voice_upload, _) = tusd.upload_of(&id, big).unwrap();
    assert!(saved_url.ends_with(&voice_upload));
    assert_all_on_tusd(&tusd, &h, &r, &id);

    // With receipts on, tusd has none to give (it greets instead): the report stays sending.
    let third = rt
        .block_on(sync(
            &r,
            &NoListener,
            SyncOptions::new(Duration::from_secs(4)),
        ))
        .unwrap();
    assert!(
        matches!(
            third.stopped,
            StopReason::Budget | StopReason::AwaitingReceipt
        ),
        "{third:?}"
    );
    assert!(
        third.delivered.is_empty() && third.failed.is_empty(),
        "{third:?}"
    );
    assert!(third.last_error.unwrap_or_default().contains("receipt"));
    assert!(third.attempts <= RECEIPT_TRIES_MAX);
    assert_eq!(report(&r, &id).state, ReportState::Sending);
}

/// Receipt requests in 4 s: tries at 0, 1, 3 s.
const RECEIPT_TRIES_MAX: u32 = 4;

#[test]
fn an_upload_that_expired_on_the_server_is_created_again() {
    let tusd = Tusd::start();
    let (h, r, id) = queued_report(&tusd.url());
    let rt = runtime();
    let big = largest_part(&report(&r, &id));
    let opts = upload_only(Duration::from_secs(60));
    let listener = CancelMidway {
        part: big,
        cancel: opts.cancel.clone(),
        heard: Mutex::new(Vec::new()),
        states: Mutex::new(Vec::new()),
    };
    let first = rt.block_on(sync(&r, &listener, opts)).unwrap();
    assert_eq!(first.stopped, StopReason::Cancelled);
    let (expired, _) = tusd.upload_of(&id, big).unwrap();
    // What tusd's expiry (or a server's sweeper) does: the upload is gone.
    fs::remove_file(tusd.uploads().join(&expired)).unwrap();
    fs::remove_file(tusd.uploads().join(format!("{expired}.info"))).unwrap();

    let second: SyncReport = rt
        .block_on(sync(&r, &NoListener, upload_only(Duration::from_secs(60))))
        .unwrap();
    assert_eq!(second.stopped, StopReason::Done, "{second:?}");
    let (again, _) = tusd.upload_of(&id, big).unwrap();
    assert_ne!(again, expired, "a new upload");
    let url = report(&r, &id).parts[big as usize]
        .upload_url
        .clone()
        .unwrap();
    assert!(url.ends_with(&again));
    assert_all_on_tusd(&tusd, &h, &r, &id);
}
