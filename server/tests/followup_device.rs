//! Follow-up and the reporter's device-safety calls, end to end with the real
//! `berani-server` and the real `berani` CLI on loopback:
//!
//! - a panic wipe that keeps sending carries the follow-up registration (never the code nor
//!   the reporter's key), so a report delivered after the wipe is followed up with its
//!   receipt code from a fresh home, while the wiped phone itself can no longer read it;
//! - `berani forget` removes a delivered report's copy from the phone, the receipt code still
//!   follows the case up and the reporter can still answer; an undelivered report is refused;
//!   `--after-delivery on` forgets each report as the sync delivers it.

mod common;

use std::path::{Path, PathBuf};

use common::Server;
use common::phone::Phone;

const STORY: &str = "CONTOH SINTETIS: PENANDA-LUPA-SERVER-6620 tetangga memukul anak";

impl Phone {
    /// A report with text and a photo, submitted; returns (id, receipt code).
    fn submit(&self) -> (String, String) {
        let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/photo.jpg");
        let id = self
            .ok(&[
                "draft",
                "new",
                "--category",
                "physical",
                "--district",
                "33.16.09",
                "--text",
                STORY,
                "--attach",
                photo.to_str().unwrap(),
            ])
            .trim()
            .to_string();
        let out = self.ok(&["submit", &id]);
        let code = out
            .lines()
            .find_map(|l| l.strip_prefix("receipt code: "))
            .expect("the receipt code is shown")
            .to_string();
        (id, code)
    }

    fn outbox_dir(&self, id: &str) -> PathBuf {
        self.home.join("outbox").join(id)
    }
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
    out
}

fn found_in(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|(_, b)| b.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn a_report_delivered_after_a_keep_sending_wipe_is_followed_up_with_its_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let a = Phone::new(dir.path(), "phone-a", &server);
    let (id, code) = a.submit();

    // Wiped before anything was sent, keeping the queued report.
    let out = a.ok(&["wipe", "--keep-sending", "--yes"]);
    assert!(out.contains("1 queued report(s) kept"), "{out}");
    for needle in [code.as_str(), &code.replace('-', "")] {
        let found = found_in(&a.home, needle.as_bytes());
        assert!(found.is_empty(), "the code survived the wipe in {found:?}");
    }
    // The phone itself can no longer read the follow-up.
    let e = a.err(&["followup", &id]);
    assert!(e.contains("receipt not found"), "{e}");

    a.ok(&["sync", "--for", "60"]);
    assert!(a.ok(&["outbox"]).contains("delivered"));

    // From a fresh home, the code alone follows the case up, and the reporter can answer.
    let b = Phone::new(dir.path(), "phone-b", &server);
    let shown = b.ok(&[
        "followup",
        "--receipt",
        &code.to_lowercase().replace('-', " "),
    ]);
    assert!(shown.contains("status: Diterima / Received"), "{shown}");
    assert!(shown.contains(&id), "{shown}");
    b.ok(&["reply", &id, "Saya pelapornya, dari ponsel lain."]);
    let synced = b.ok(&["sync", "--for", "60"]);
    assert!(synced.contains("messages sent 1"), "{synced}");
    let seen = b.ok(&["followup", &id]);
    assert!(seen.contains("dari ponsel lain"), "{seen}");
}

#[test]
fn forget_removes_the_copy_but_the_receipt_still_follows_the_case_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let a = Phone::new(dir.path(), "phone-a", &server);
    let (id, code) = a.submit();
    assert_eq!(files(&a.outbox_dir(&id)).len(), 2, "a report and a photo");

    // Not delivered yet: refused, in English and Indonesian, and nothing changes.
    let e = a.err(&["forget", &id]);
    assert!(e.contains("would lose the report"), "{e}");
    assert!(e.contains("belum terkirim"), "{e}");
    assert_eq!(files(&a.outbox_dir(&id)).len(), 2);

    a.ok(&["sync", "--for", "60"]);
    let parts = files(&a.outbox_dir(&id));
    let samples: Vec<Vec<u8>> = parts
        .iter()
        .flat_map(|(_, b)| [b[..64].to_vec(), b[b.len() / 2..b.len() / 2 + 64].to_vec()])
        .collect();
    let out = a.ok(&["forget", &id]);
    assert!(out.contains("receipt stays"), "{out}");
    assert!(!a.outbox_dir(&id).exists());
    for s in &samples {
        let found = found_in(&a.home, s);
        assert!(found.is_empty(), "sealed part bytes still in {found:?}");
    }
    let found = found_in(&a.home, b"PENANDA-LUPA-SERVER-6620");
    assert!(found.is_empty(), "{found:?}");
    let listed = a.ok(&["outbox", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(v[0]["id"], id.as_str());
    assert_eq!(v[0]["state"], "delivered");
    assert!(v[0]["receipt"].is_string(), "the signed receipt stays");
    assert_eq!(v[0]["parts"].as_array().unwrap().len(), 0);

    // The follow-up still works here and from a fresh home; the reporter can still answer.
    let here = a.ok(&["followup", &id]);
    assert!(here.contains("Diterima"), "{here}");
    a.ok(&["reply", &id, "Masih ada yang ingin saya sampaikan."]);
    assert!(a.ok(&["sync", "--for", "60"]).contains("messages sent 1"));
    let b = Phone::new(dir.path(), "phone-b", &server);
    let there = b.ok(&["followup", "--receipt", &code]);
    assert!(there.contains("Diterima"), "{there}");

    // The setting: each report is forgotten the moment the sync delivers it.
    a.ok(&["forget", "--after-delivery", "on"]);
    let (second, _) = a.submit();
    assert!(a.outbox_dir(&second).exists());
    a.ok(&["sync", "--for", "60"]);
    assert!(!a.outbox_dir(&second).exists(), "forgotten once delivered");
    let listed: serde_json::Value = serde_json::from_str(&a.ok(&["outbox", "--json"])).unwrap();
    let second_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == second.as_str())
        .unwrap();
    assert_eq!(second_row["state"], "delivered");
    assert!(second_row["receipt"].is_string());
    // No argument at all is a usage error, not a silent success.
    a.err(&["forget"]);
}
