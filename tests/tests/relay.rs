//! Relay through a volunteer, end to end over loopback with the real `berani` CLI and a real
//! `berani-server`: a report leaves one home as a bundle file, a second home carries and
//! delivers it, the reporter's receipt code follows it up from a third, and the reporter's
//! own later sync stores nothing twice. Tampered bundles and another agency's are refused and
//! change nothing.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use berani_tests::harness::{ReporterCli, Server};

const MARKER: &str = "PENANDA-RELAY-7c41e9";

fn reporter(server: &Server, home: &Path) -> ReporterCli {
    let r = ReporterCli::new(home);
    let url = format!("{}/v1/profile", server.url());
    r.ok(&["profile", "import", &url, "--trust", &server.profile_key()]);
    r
}

/// Drafts and submits a report with a photo; returns (id, receipt code).
fn submit(r: &ReporterCli, dir: &Path) -> (String, String) {
    let photo = dir.join("photo.jpg");
    fs::copy(
        berani_tests::peers::repo_root().join("core/tests/fixtures/photo.jpg"),
        &photo,
    )
    .unwrap();
    let text = format!("CONTOH SINTETIS {MARKER}");
    let id = r
        .ok(&[
            "draft",
            "new",
            "--category",
            "physical",
            "--district",
            "33.16.09",
            "--text",
            &text,
            "--attach",
            photo.to_str().unwrap(),
        ])
        .trim()
        .to_string();
    let out = r.ok(&["submit", &id]);
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("receipt code: "))
        .expect("a receipt code is shown")
        .trim()
        .to_string();
    (id, code)
}

fn count(server: &Server, sql: &str, id: &str) -> i64 {
    server.db().query_row(sql, [id], |r| r.get(0)).unwrap()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn report_json(r: &ReporterCli, id: &str) -> serde_json::Value {
    r.outbox()
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn a_carried_report_is_delivered_once_and_the_reporters_receipt_follows_it_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"), &[]);
    let phone = reporter(&server, &dir.path().join("phone"));
    let volunteer = reporter(&server, &dir.path().join("volunteer"));
    let (id, code) = submit(&phone, dir.path());

    let bundle = dir.path().join("laporan.berani");
    let out = phone.ok(&["relay", "export", &id, bundle.to_str().unwrap()]);
    assert!(out.contains("tidak bisa membuka"), "{out}");
    let bytes = fs::read(&bundle).unwrap();
    // A ustar archive whose first entry is the manifest; nothing readable of the report.
    assert_eq!(&bytes[257..262], b"ustar");
    assert_eq!(&bytes[..13], b"manifest.json");
    let plain: String = code.chars().filter(|c| *c != '-').collect();
    for secret in [
        MARKER,
        "CONTOH SINTETIS",
        code.as_str(),
        plain.as_str(),
        "physical",
    ] {
        assert!(
            find(&bytes, secret.as_bytes()).is_none(),
            "the bundle holds {secret:?}"
        );
    }
    assert!(find(&bytes, b"AGE-SECRET-KEY").is_none());
    // The sealed parts travel byte for byte.
    for part in 0..2 {
        let sealed = fs::read(phone.home.join(format!("outbox/{id}/{part}.age"))).unwrap();
        assert!(
            find(&bytes, &sealed).is_some(),
            "part {part} is in the bundle"
        );
    }

    let out = volunteer.ok(&["relay", "import", bundle.to_str().unwrap()]);
    assert!(out.contains("titipan relawan"), "{out}");
    let carried = report_json(&volunteer, &id);
    assert_eq!(carried["state"], "queued");
    assert_eq!(carried["carried"], true);
    assert_eq!(carried["category"], serde_json::Value::Null);
    assert_eq!(report_json(&phone, &id)["carried"], false);
    let shown = volunteer.ok(&["outbox"]);
    assert!(shown.contains("Titipan relawan"), "{shown}");
    // The same bundle again: a no-op.
    let out = volunteer.ok(&["relay", "import", bundle.to_str().unwrap()]);
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(volunteer.outbox().as_array().unwrap().len(), 1);

    let out = volunteer.ok(&["sync", "--for", "60"]);
    assert_eq!(volunteer.state(&id).as_deref(), Some("delivered"), "{out}");
    assert_eq!(
        count(&server, "SELECT count(*) FROM reports WHERE id = ?1", &id),
        1
    );
    wait_until("the case to open", || {
        count(&server, "SELECT count(*) FROM cases WHERE report = ?1", &id) == 1
    });
    assert_eq!(
        count(&server, "SELECT count(*) FROM cases WHERE ?1 = ?1", &id),
        1
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM followups WHERE report = ?1",
            &id
        ),
        1
    );
    // What the server stored is byte for byte what the reporter sealed.
    let db = server.db();
    let stored: Vec<(u32, String)> = db
        .prepare("SELECT part, id FROM uploads WHERE report = ?1 ORDER BY part")
        .unwrap()
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored.len(), 2);
    for (part, upload) in &stored {
        let on_server = fs::read(server.data.join("uploads").join(upload)).unwrap();
        let sealed = fs::read(phone.home.join(format!("outbox/{id}/{part}.age"))).unwrap();
        assert!(on_server == sealed, "part {part} differs");
    }

    // The carrier cannot follow the report up; the reporter's code can, from any phone.
    let o = volunteer.command(&["followup", &id]).output().unwrap();
    assert!(!o.status.success());
    let fresh = reporter(&server, &dir.path().join("fresh"));
    let thread = fresh.ok(&["followup", "--receipt", &code, "--json"]);
    let thread: serde_json::Value = serde_json::from_str(&thread).unwrap();
    assert_eq!(thread["report_id"], id.as_str(), "{thread}");

    // The reporter's own phone gets signal later: the same uploads, nothing stored twice.
    let out = phone.ok(&["sync", "--for", "60"]);
    assert_eq!(phone.state(&id).as_deref(), Some("delivered"), "{out}");
    assert_eq!(
        count(&server, "SELECT count(*) FROM reports WHERE id = ?1", &id),
        1
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM reports WHERE ?1 = ?1", &id),
        1
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM uploads WHERE report = ?1",
            &id
        ),
        2
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM cases WHERE ?1 = ?1", &id),
        1
    );
    let log = fs::read_to_string(&server.log).unwrap_or_default();
    assert!(!log.contains(MARKER));
}

/// Runs an import that must fail; returns its stderr.
fn refused(r: &ReporterCli, bundle: &Path) -> String {
    let o = r
        .command(&["relay", "import", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "imported: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stderr).unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn tampered_bundles_and_another_agencys_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"), &[]);
    let phone = reporter(&server, &dir.path().join("phone"));
    let volunteer = reporter(&server, &dir.path().join("volunteer"));
    let (id, _) = submit(&phone, dir.path());
    let bundle = dir.path().join("laporan.berani");
    phone.ok(&["relay", "export", &id, bundle.to_str().unwrap()]);
    let good = fs::read(&bundle).unwrap();

    let before = volunteer.outbox();
    let check = |label: &str, bytes: &[u8], expect: &str| {
        let path = dir.path().join(format!("{label}.berani"));
        fs::write(&path, bytes).unwrap();
        let err = refused(&volunteer, &path);
        assert!(err.contains(expect), "{label}: {err}");
        assert_eq!(volunteer.outbox(), before, "{label} changed the outbox");
        assert!(
            entries(&volunteer.home.join("outbox")).is_empty(),
            "{label}"
        );
        assert!(entries(&volunteer.home.join("tmp")).is_empty(), "{label}");
    };

    // A byte flipped inside the sealed report document.
    let at = find(&good, b"age-encryption.org/v1").unwrap() + 100;
    let mut flipped = good.clone();
    flipped[at] ^= 0x01;
    check(
        "flipped",
        &flipped,
        "parts/0.age` its SHA-256 does not match",
    );

    // The manifest's hash of part 1 edited.
    let key = b"\"sha256\": \"";
    let first = find(&good, key).unwrap();
    let second = first + key.len() + find(&good[first + key.len()..], key).unwrap();
    let mut edited = good.clone();
    let c = &mut edited[second + key.len()];
    *c = if *c == b'0' { b'1' } else { b'0' };
    check("edited", &edited, "parts/1.age` its SHA-256 does not match");

    // Cut short, in the middle of the last part, and with the last part gone.
    check("cut", &good[..good.len() - 2000], "size is wrong");
    let last = find(&good, b"parts/1.age").unwrap();
    check("missing", &good[..last], "parts/1.age` is missing");

    // An unknown manifest version.
    let v = find(&good, b"\"version\": 1").unwrap();
    let mut newer = good.clone();
    newer[v + 11] = b'7';
    check("newer", &newer, "bundle version 7 is not known");

    // Not a bundle at all.
    check(
        "junk",
        b"not a tar file at all",
        "not a Berani relay bundle",
    );

    // Another agency: a second server with its own profile key.
    let other = Server::start(&dir.path().join("other"), &[]);
    let elsewhere = reporter(&other, &dir.path().join("elsewhere"));
    let err = refused(&elsewhere, &bundle);
    assert!(err.contains("another agency"), "{err}");
    assert!(err.contains("lembaga lain"), "{err}");
    assert_eq!(elsewhere.outbox().as_array().unwrap().len(), 0);

    // The untouched bundle still goes in.
    volunteer.ok(&["relay", "import", bundle.to_str().unwrap()]);
    assert_eq!(report_json(&volunteer, &id)["carried"], true);
}
