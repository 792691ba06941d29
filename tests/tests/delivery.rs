//! End to end over loopback: the real reporter CLI delivers sealed reports to a real
//! `berani-server`, through the fault proxy, while processes are killed and links break.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berani_tests::harness::{ReporterCli, Server};
use berani_tests::peers::free_port;
use berani_tests::proxy::{FaultProxy, Faults, Reset};

const MARKER: &str = "PENANDA-E2E-5b1f0c";

struct Setup {
    dir: tempfile::TempDir,
    server: Server,
    proxy: Option<FaultProxy>,
}

impl Setup {
    /// A server; with `faults`, the profile points the phone at a fault proxy in front of it.
    fn new(faults: Option<Faults>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let upstream = SocketAddr::from(([127, 0, 0, 1], port));
        let proxy = faults.map(|f| FaultProxy::start(upstream, f));
        let public = proxy
            .as_ref()
            .map(|p| format!("http://{}", p.addr()))
            .unwrap_or_else(|| format!("http://{upstream}"));
        let server = Server::start_on(
            &dir.path().join("server"),
            upstream,
            &["--public-url", &public],
        );
        Setup { dir, server, proxy }
    }

    fn reporter(&self, name: &str) -> ReporterCli {
        let r = ReporterCli::new(&self.dir.path().join(name));
        let url = match &self.proxy {
            Some(p) => format!("http://{}/v1/profile", p.addr()),
            None => format!("{}/v1/profile", self.server.url()),
        };
        r.ok(&[
            "profile",
            "import",
            &url,
            "--trust",
            &self.server.profile_key(),
        ]);
        r
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A file of `len` pseudo-random bytes that type detection reads as MP4 video.
fn video(path: &Path, len: usize) -> PathBuf {
    let mut data = vec![
        0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm',
    ];
    data.extend_from_slice(&[0, 0, 0, 0, b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1']);
    // One `mdat` box holding the rest: a well-formed file, which the metadata stripper
    // accepts (it refuses an MP4 it cannot walk rather than attach it unstripped).
    let body = len.saturating_sub(data.len() + 8);
    data.extend_from_slice(&u32::try_from(body + 8).unwrap().to_be_bytes());
    data.extend_from_slice(b"mdat");
    data.extend(berani_tests::peers::pseudo_random(body, 0x9e37));
    fs::write(path, &data).unwrap();
    path.to_path_buf()
}

/// Drafts and submits a report with `attach` files; returns its id.
fn submit(r: &ReporterCli, attach: &[&Path]) -> String {
    let mut args = vec![
        "draft".to_string(),
        "new".into(),
        "--category".into(),
        "physical".into(),
        "--district".into(),
        "33.16.09".into(),
        "--text".into(),
        format!("CONTOH SINTETIS {MARKER}"),
    ];
    for a in attach {
        args.push("--attach".into());
        args.push(a.to_str().unwrap().into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let id = r.ok(&args).trim().to_string();
    r.ok(&["submit", &id]);
    id
}

fn sync(r: &ReporterCli, secs: u32) -> String {
    r.ok(&["sync", "--for", &secs.to_string()])
}

fn spawn_sync(r: &ReporterCli, secs: u32) -> Child {
    r.command(&["sync", "--for", &secs.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// (part, offset, complete) of every upload of `report` on the server.
fn uploads(server: &Server, report: &str) -> Vec<(u32, u64, bool)> {
    let db = server.db();
    let mut st = db
        .prepare(
            "SELECT part, upload_offset, completed_at IS NOT NULL FROM uploads
             WHERE report = ?1 ORDER BY part",
        )
        .unwrap();
    st.query_map([report], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn received(server: &Server, report: &str) -> bool {
    server
        .db()
        .query_row(
            "SELECT received_at IS NOT NULL FROM reports WHERE id = ?1",
            [report],
            |r| r.get(0),
        )
        .unwrap_or(false)
}

/// Waits until `cond` holds, polling.
fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Checks that every part of `report` on the server is byte-identical to the sealed part on
/// the phone.
fn assert_server_has_sealed_parts(s: &Setup, r: &ReporterCli, report: &str) {
    let db = s.server.db();
    let mut st = db
        .prepare("SELECT part, id FROM uploads WHERE report = ?1 ORDER BY part")
        .unwrap();
    let rows: Vec<(u32, String)> = st
        .query_map([report], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty());
    for (part, upload) in rows {
        let on_server = fs::read(s.server.data.join("uploads").join(&upload)).unwrap();
        let sealed = fs::read(r.home.join(format!("outbox/{report}/{part}.age"))).unwrap();
        assert!(
            on_server == sealed,
            "part {part} differs from what was sealed"
        );
    }
}

#[test]
fn a_report_is_delivered_opened_with_the_exported_key_and_leaves_no_plaintext() {
    let s = Setup::new(None);
    let r = s.reporter("phone");
    let photo = s.path("photo.jpg");
    fs::copy(
        berani_tests::peers::repo_root().join("core/tests/fixtures/photo.jpg"),
        &photo,
    )
    .unwrap();
    let id = submit(&r, &[&photo]);
    let out = sync(&r, 60);
    assert_eq!(r.state(&id).as_deref(), Some("delivered"), "{out}");
    assert!(received(&s.server, &id));
    assert_server_has_sealed_parts(&s, &r, &id);
    let receipt = &r
        .outbox()
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .unwrap()["receipt"]
        .clone();
    assert!(receipt.is_string(), "receipt kept: {receipt}");

    // The agency opens every stored part with the stock age tool and the exported identity.
    let identity = s.path("identity.txt");
    fs::write(&identity, s.server.export_identity()).unwrap();
    let db = s.server.db();
    let ids: Vec<(u32, String)> = db
        .prepare("SELECT part, id FROM uploads WHERE report = ?1 ORDER BY part")
        .unwrap()
        .query_map([&id], |x| Ok((x.get(0)?, x.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (part, upload) in ids {
        let o = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&identity)
            .arg(s.server.data.join("uploads").join(upload))
            .output()
            .expect("the reference age tool: apt-get install age");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        if part == 0 {
            let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(doc["report_id"], id.as_str());
            assert!(doc["description"].as_str().unwrap().contains(MARKER));
        } else {
            assert_eq!(o.stdout, fs::read(&photo).unwrap());
        }
    }

    // The marker is nowhere in clear on the server: data folder and log.
    let mut files = vec![s.server.log.clone()];
    let mut stack = vec![s.server.data.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    for f in &files {
        let data = fs::read(f).unwrap();
        assert!(
            !data.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
            "marker in clear in {}",
            f.display()
        );
    }
    // The server's own address appears once, in "listening on …"; no client address does.
    let log = fs::read_to_string(&s.server.log).unwrap();
    for line in log.lines().filter(|l| !l.contains("listening on")) {
        assert!(
            !line.contains("127.0.0.1"),
            "the log holds an address: {line}"
        );
    }
    assert!(!log.contains(&id), "the log names the report");
}

#[test]
fn delivery_survives_repeated_connection_resets() {
    let faults = Faults {
        reset: Some(Reset::AfterMeanBytes(96 * 1024)),
        seed: 7,
        ..Faults::default()
    };
    let s = Setup::new(Some(faults));
    let r = s.reporter("phone");
    let v = video(&s.path("clip.mp4"), 1_500_000);
    let id = submit(&r, &[&v]);
    let mut rounds = 0;
    while r.state(&id).as_deref() != Some("delivered") {
        rounds += 1;
        assert!(rounds <= 5, "not delivered after {rounds} syncs");
        sync(&r, 120);
    }
    assert_server_has_sealed_parts(&s, &r, &id);
    let stats = s.proxy.as_ref().unwrap().stats();
    assert!(stats.resets > 3, "the link was cut {} times", stats.resets);
    println!(
        "delivered through {} resets in {rounds} sync run(s)",
        stats.resets
    );
}

/// A 3 MB video report being synced over a 4 Mbit/s link, once part of the video is on the
/// server: the set-up, the phone, the report id and the running `berani sync`.
fn mid_upload(sync_secs: u32) -> (Setup, ReporterCli, String, Child) {
    let faults = Faults {
        bandwidth_bps: Some(4_000_000),
        ..Faults::default()
    };
    let s = Setup::new(Some(faults));
    let r = s.reporter("phone");
    let v = video(&s.path("clip.mp4"), 3_000_000);
    let id = submit(&r, &[&v]);
    let child = spawn_sync(&r, sync_secs);
    wait_until(
        "part of the video on the server",
        Duration::from_secs(60),
        || {
            uploads(&s.server, &id)
                .iter()
                .any(|&(part, off, done)| part == 1 && off > 200_000 && !done)
        },
    );
    (s, r, id, child)
}

#[test]
fn the_reporter_is_killed_mid_upload_and_resumes() {
    let (s, r, id, mut child) = mid_upload(120);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = uploads(&s.server, &id);
    sync(&r, 120);
    assert_eq!(r.state(&id).as_deref(), Some("delivered"));
    assert_server_has_sealed_parts(&s, &r, &id);
    // It resumed: the whole transfer cost little more than one copy of the report.
    let sealed: u64 = fs::read_dir(r.home.join(format!("outbox/{id}")))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let sent = s.proxy.as_ref().unwrap().stats().bytes_up;
    assert!(
        (sent as f64) < sealed as f64 * 1.25,
        "sent {sent} bytes for {sealed} sealed (before the kill: {before:?})"
    );
}

#[test]
fn the_server_is_killed_mid_upload_restarts_and_the_upload_resumes() {
    let (s, r, id, mut child) = mid_upload(180);
    s.server.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    s.server.restart();
    let status = child.wait().unwrap();
    assert!(status.success());
    if r.state(&id).as_deref() != Some("delivered") {
        sync(&r, 120);
    }
    assert_eq!(r.state(&id).as_deref(), Some("delivered"));
    assert_server_has_sealed_parts(&s, &r, &id);
    let n: i64 = s
        .server
        .db()
        .query_row("PRAGMA integrity_check", [], |_| Ok(1))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_report_sent_twice_is_stored_once() {
    let s = Setup::new(None);
    let r = s.reporter("phone");
    let photo = berani_tests::peers::repo_root().join("core/tests/fixtures/photo.png");
    let id = submit(&r, &[&photo]);
    // The same queued report from a copy of the phone's folder (a restored backup, or a retry
    // that re-sent everything) must not make a second report.
    let copy = s.path("phone-copy");
    copy_dir(&r.home, &copy);
    let r2 = ReporterCli::new(&copy);
    let out1 = sync(&r, 60);
    let out2 = sync(&r2, 60);
    assert_eq!(
        r.state(&id).as_deref(),
        Some("delivered"),
        "{out1}\n{}",
        fs::read_to_string(&s.server.log).unwrap()
    );
    assert_eq!(r2.state(&id).as_deref(), Some("delivered"), "{out2}");
    let db = s.server.db();
    let reports: i64 = db
        .query_row("SELECT count(*) FROM reports", [], |x| x.get(0))
        .unwrap();
    let parts: i64 = db
        .query_row("SELECT count(*) FROM uploads", [], |x| x.get(0))
        .unwrap();
    assert_eq!((reports, parts), (1, 2));
    let blobs = fs::read_dir(s.server.data.join("uploads")).unwrap().count();
    assert_eq!(blobs, 2);
}

#[test]
fn a_reports_text_arrives_before_its_video() {
    let faults = Faults {
        bandwidth_bps: Some(16_000_000),
        ..Faults::default()
    };
    let s = Setup::new(Some(faults));
    let r = s.reporter("phone");
    let v = video(&s.path("clip.mp4"), 20_000_000);
    let id = submit(&r, &[&v]);
    let start = Instant::now();
    let mut child = spawn_sync(&r, 120);
    wait_until(
        "the report text on the server",
        Duration::from_secs(30),
        || {
            uploads(&s.server, &id)
                .iter()
                .any(|&(part, _, done)| part == 0 && done)
        },
    );
    let text_at = start.elapsed();
    let video = uploads(&s.server, &id);
    let video = video.iter().find(|u| u.0 == 1);
    assert!(
        video.is_none_or(|&(_, _, done)| !done),
        "the video was already complete when the text arrived"
    );
    println!("report text received after {text_at:?}, video still uploading");
    child.kill().unwrap();
    child.wait().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else if e.file_name() != ".lock" {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}
